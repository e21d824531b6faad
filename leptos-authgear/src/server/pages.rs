//! [`Auth::leptos_routes`](super::Auth::leptos_routes): the app's pages and server functions,
//! rendered and dispatched by this crate instead of `leptos_axum`'s `leptos_routes`, because it
//! measured several times cheaper (docs/decisions/0002-pages-and-server-functions.md).
//!
//! - A page is rendered synchronously with `to_html` under its own reactive owner and shared
//!   context, with the contexts `leptos_axum` provides (the request URL for the router, the
//!   request's parts, `ResponseOptions`, a nonce, the server redirect); no stream, no meta
//!   context. The hydration data is appended as `leptos_axum` appends it.
//! - A page without a query string is rendered once per path and state (who is signed in, as
//!   the auth layer found it: `PageKey`); each response gets it with a new nonce
//!   (`PageCache`; docs/decisions/0007-pages-rendered-once-per-state.md).
//! - A server function runs as `handle_server_fns_with_context` runs it, less a copy of the
//!   request's parts and the redirect after a plain form post. It gets this crate's
//!   [`RequestAuth`] context instead; `leptos_axum::extract` finds no parts.

use super::layer::PageState;
use super::page_cache::{PageCache, PageKey, Rendered, PAGE_CACHE_BYTES};
use super::Auth;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, on, MethodFilter};
use axum::Router;
use futures::{FutureExt, StreamExt};
use hydration_context::{SharedContext, SsrSharedContext};
use leptos::nonce::Nonce;
use leptos::prelude::{provide_context, IntoView, Owner};
use leptos::reactive::computed::ScopedFuture;
use leptos::tachys::view::Position;
use leptos_axum::{AxumRouteListing, ResponseOptions};
use leptos_router::location::RequestUrl;
use std::sync::{Arc, PoisonError};
use tower_sessions::Session;

/// What a server function dispatched by [`Auth::leptos_routes`] finds in its context: the
/// login and the browser's session (read by [`require_user`](super::require_user) and the other
/// helpers).
#[derive(Clone)]
pub(crate) struct RequestAuth {
    pub(crate) auth: Auth,
    pub(crate) session: Session,
}

/// The pages' renderer, shared by every route's handler.
struct Pages<C, A> {
    context: C,
    app: A,
    rendered: PageCache,
}

pub(crate) fn router<S, C, A, IV>(paths: Vec<AxumRouteListing>, context: C, app: A) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    C: Fn() + Clone + Send + Sync + 'static,
    A: Fn() -> IV + Clone + Send + Sync + 'static,
    IV: IntoView + 'static,
{
    // Leptos runs its tasks on tokio (`leptos_routes` does this too). An error only means that
    // it was set already.
    let _ = any_spawner::Executor::init_tokio();
    let mut router = Router::new();
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        let Ok(method) = MethodFilter::try_from(method) else {
            tracing::error!(
                path,
                "server function with an unsupported method: not routed"
            );
            continue;
        };
        let context = context.clone();
        router = router.route(
            path,
            on(method, move |request| server_fn(context.clone(), request)),
        );
    }
    let pages = Arc::new(Pages {
        context,
        app,
        rendered: PageCache::new(PAGE_CACHE_BYTES),
    });
    for listing in paths {
        let pages = pages.clone();
        router = router.route(
            listing.path(),
            get(move |request| async move { pages.respond(request) }),
        );
    }
    router
}

impl<C, A, IV> Pages<C, A>
where
    C: Fn() + Clone + Send + Sync + 'static,
    A: Fn() -> IV + Clone + Send + Sync + 'static,
    IV: IntoView + 'static,
{
    fn respond(&self, request: Request) -> Response {
        let (mut parts, _body) = request.into_parts();
        let key = match parts.extensions.remove::<PageState>() {
            Some(PageState(Ok(state))) if parts.uri.query().is_none() => {
                let key = PageKey {
                    path: parts.uri.path().to_owned(),
                    state,
                };
                if let Some(rendered) = self.rendered.get(&key) {
                    // The nonce as the `str` it holds: no formatting, no copy.
                    return rendered.respond(&Nonce::new());
                }
                parts.extensions.insert(PageState(Ok(key.state.clone())));
                Some(key)
            }
            Some(state) => {
                parts.extensions.insert(state);
                None
            }
            None => None,
        };
        let nonce = Nonce::new();
        let rendered = match self.render(parts, nonce.clone()) {
            Ok(rendered) => rendered,
            Err(error) => {
                tracing::error!(%error, "rendering the page failed");
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The page could not be rendered.",
                )
                    .into_response();
            }
        };
        let nonce: &str = &nonce;
        let Some(key) = key else {
            return respond(rendered.0, &rendered.1);
        };
        let rendered = Rendered::new(rendered, nonce);
        let response = rendered.respond(nonce);
        if rendered.may_be_sent_again() {
            self.rendered.insert(key, rendered);
        }
        response
    }

    /// The app for this request, as `leptos_axum` would render it, in one piece.
    fn render(
        &self,
        parts: axum::http::request::Parts,
        nonce: Nonce,
    ) -> Result<(String, ResponseOptions), RenderError> {
        let shared = Arc::new(SsrSharedContext::new());
        let owner = Owner::new_root(Some(shared.clone()));
        let options = ResponseOptions::default();
        let mut html = String::with_capacity(BODY_CAPACITY);
        let url = format!(
            "http://leptos.dev{}",
            parts.uri.path_and_query().map_or("/", |p| p.as_str())
        );
        owner.with(|| {
            provide_context(RequestUrl::new(&url));
            provide_context(parts);
            provide_context(options.clone());
            provide_context(nonce.clone());
            leptos_router::components::provide_server_redirect(leptos_axum::redirect);
            (self.context)();
            (self.app)().to_html_with_buf(
                &mut html,
                &mut Position::FirstChild,
                true,
                false,
                Vec::new(),
            );
        });
        owner.unset_with_forced_cleanup();
        // What Leptos' hydration expects to find after the document, as `leptos_axum` sends it
        // (the pages hold no resources: nothing to wait for).
        let scripts = shared
            .pending_data()
            .ok_or(RenderError("no hydration data"))?
            .collect::<Vec<String>>()
            .now_or_never()
            .ok_or(RenderError("the page waited for something"))?;
        for script in scripts {
            html.push_str("<script nonce=\"");
            html.push_str(&nonce);
            html.push_str("\">");
            html.push_str(&script);
            html.push_str("</script>");
        }
        Ok((html, options))
    }
}

/// More than a signed-in page of the demo app needs.
const BODY_CAPACITY: usize = 8 * 1024;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct RenderError(&'static str);

/// The page as rendered, with what the render set (status, headers).
fn respond(html: String, options: &ResponseOptions) -> Response {
    let mut response = Response::new(Body::from(html));
    let mut set = options.0.write().unwrap_or_else(PoisonError::into_inner);
    *response.status_mut() = set.status.unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    headers.reserve(set.headers.len() + 8);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.extend(std::mem::take(&mut set.headers));
    response
}

/// One server function call (see the module's documentation).
async fn server_fn<C: Fn() + Send + 'static>(context: C, request: Request) -> Response {
    let Some(mut service) = leptos::server_fn::axum::get_server_fn_service(
        request.uri().path(),
        request.method().clone(),
    ) else {
        return super::error::not_found().await;
    };
    let auth = request.extensions().get::<Auth>().cloned();
    let session = request.extensions().get::<Session>().cloned();
    let owner = Owner::new();
    owner
        .with(|| {
            ScopedFuture::new(async move {
                let options = ResponseOptions::default();
                provide_context(options.clone());
                if let (Some(auth), Some(session)) = (auth, session) {
                    provide_context(RequestAuth { auth, session });
                }
                context();
                let mut response = service.run(request).await;
                // What the server function set (401, 503, headers).
                let mut set = options.0.write().unwrap_or_else(PoisonError::into_inner);
                if let Some(status) = set.status {
                    *response.status_mut() = status;
                }
                response
                    .headers_mut()
                    .extend(std::mem::take(&mut set.headers));
                response
            })
        })
        .await
}

#[cfg(test)]
#[path = "pages_tests.rs"]
mod tests;
