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
//! - A page that waits for data (this crate's `SessionList`, or any `Suspense` whose component
//!   calls [`page_waits`]) is rendered again asynchronously, in order, as `leptos_axum`'s
//!   `SsrMode::Async` renders it, and never kept; so is one that calls [`page_not_reusable`]
//!   (`RequireRecentLogin`, which depends on the time).
//! - A server function runs as `handle_server_fns_with_context` runs it, less a copy of the
//!   request's parts. It gets this crate's [`RequestAuth`] context instead;
//!   `leptos_axum::extract` finds no parts. A plain form post to one (no JavaScript) is
//!   answered with a redirect, as `leptos_axum` does: back to the page, or to the login and
//!   back when the call needs one ([`PlainFormPost`]).

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
use leptos::prelude::{provide_context, take_context, IntoView, Owner};
use leptos::reactive::computed::ScopedFuture;
use leptos::tachys::view::Position;
use leptos_axum::{AxumRouteListing, ResponseOptions};
use leptos_router::location::RequestUrl;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tower_sessions::Session;

/// What a server function dispatched by [`Auth::leptos_routes`] finds in its context: the
/// login and the browser's session (read by [`require_user`](super::require_user) and the other
/// helpers).
#[derive(Clone)]
pub(crate) struct RequestAuth {
    pub(crate) auth: Auth,
    pub(crate) session: Session,
}

/// A server function call by a plain form post (the browser accepts HTML): what it asked for,
/// set by [`not_signed_in`](super::functions::not_signed_in): a login, with `max_age` for a
/// step-up.
#[derive(Clone, Default)]
pub(crate) struct PlainFormPost(Arc<Mutex<Option<Option<u64>>>>);

impl PlainFormPost {
    pub(crate) fn needs_login(&self, max_age: Option<u64>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(max_age);
    }

    /// Where the browser goes after the call: the login and back, when the call needs one;
    /// else `back`, with the error `server_fn` put in its own redirect's query (`__path`,
    /// `__err`, for the page to show), if any. `None` leaves the answer as it is.
    fn redirect(
        &self,
        response: &Response,
        back: &str,
        paths: &crate::AuthPaths,
    ) -> Option<String> {
        let login = *self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(max_age) = login {
            let mut url = crate::paths::login_url_at(paths.base(), Some(back));
            if let Some(max_age) = max_age {
                url.push_str(&format!("&max_age={max_age}"));
            }
            return Some(url);
        }
        // `server_fn` answers a form post with a redirect to its `Referer`, which this app's
        // pages do not send (`Referrer-Policy: no-referrer`): to `/`.
        let location = response.headers().get(header::LOCATION)?.to_str().ok()?;
        Some(match location.split_once('?') {
            Some((_, error)) => {
                let joiner = if back.contains('?') { '&' } else { '?' };
                format!("{back}{joiner}{error}")
            }
            None => back.to_owned(),
        })
    }
}

/// What the page being rendered asked of its render (see [`page_waits`]).
#[derive(Clone, Default)]
struct PageRender {
    /// This is the first, synchronous pass (not the asynchronous one).
    synchronous: bool,
    /// A component waits for data: render again asynchronously.
    waits: Arc<AtomicBool>,
    /// The page depends on more than its path and state: never send it again.
    not_reusable: Arc<AtomicBool>,
}

/// For a component that waits for data (a `Suspense`): true in the first, synchronous pass of
/// [`Auth::leptos_routes`]' renderer, which then renders the page again asynchronously (and does
/// not keep it); the component should render nothing in that pass. False anywhere else
/// (`leptos_axum`'s renderers wait for a `Suspense` themselves).
pub(crate) fn page_waits() -> bool {
    let Some(render) = leptos::prelude::use_context::<PageRender>() else {
        return false;
    };
    render.not_reusable.store(true, Ordering::Relaxed);
    if render.synchronous {
        render.waits.store(true, Ordering::Relaxed);
    }
    render.synchronous
}

/// For a component whose output depends on more than the path and who is signed in (the time,
/// say): the page is not sent again from [`Auth::leptos_routes`]' cache.
pub(crate) fn page_not_reusable() {
    if let Some(render) = leptos::prelude::use_context::<PageRender>() {
        render.not_reusable.store(true, Ordering::Relaxed);
    }
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
            get(move |request| async move {
                match pages.respond(request) {
                    Ok(response) => response,
                    Err((parts, nonce)) => pages.respond_async(parts, nonce).await,
                }
            }),
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
    /// The page, from the cache or rendered now; or, for a page that waits for data, what
    /// [`Pages::respond_async`] needs to render it.
    #[allow(clippy::result_large_err)] // the `Err` is the request, moved on once
    fn respond(&self, request: Request) -> Result<Response, (axum::http::request::Parts, Nonce)> {
        let (mut parts, _body) = request.into_parts();
        let key = match parts.extensions.remove::<PageState>() {
            Some(PageState(Ok(state), auth_time)) if parts.uri.query().is_none() => {
                let key = PageKey {
                    path: parts.uri.path().to_owned(),
                    state,
                };
                if let Some(rendered) = self.rendered.get(&key) {
                    // The nonce as the `str` it holds: no formatting, no copy.
                    return Ok(rendered.respond(&Nonce::new()));
                }
                parts
                    .extensions
                    .insert(PageState(Ok(key.state.clone()), auth_time));
                Some(key)
            }
            Some(state) => {
                parts.extensions.insert(state);
                None
            }
            None => None,
        };
        let nonce = Nonce::new();
        let render = PageRender {
            synchronous: true,
            ..PageRender::default()
        };
        let rendered = match self.render(parts, nonce.clone(), render.clone()) {
            Ok(Rendering::Done(rendered)) => rendered,
            Ok(Rendering::Waits(parts)) => return Err((parts, nonce)),
            Err(error) => return Ok(render_failed(error)),
        };
        let nonce: &str = &nonce;
        let Some(key) = key.filter(|_| !render.not_reusable.load(Ordering::Relaxed)) else {
            return Ok(respond(rendered.0, &rendered.1));
        };
        let rendered = Rendered::new(rendered, nonce);
        let response = rendered.respond(nonce);
        if rendered.may_be_sent_again() {
            self.rendered.insert(key, rendered);
        }
        Ok(response)
    }

    /// A page that waits for data, rendered again waiting for it; never kept.
    async fn respond_async(&self, parts: axum::http::request::Parts, nonce: Nonce) -> Response {
        match self.render_async(parts, nonce).await {
            Ok((html, options)) => respond(html, &options),
            Err(error) => render_failed(error),
        }
    }

    /// The app for this request, as `leptos_axum` would render it, in one piece; or the
    /// request's parts back, when the page waits for data (see [`page_waits`]).
    fn render(
        &self,
        parts: axum::http::request::Parts,
        nonce: Nonce,
        render: PageRender,
    ) -> Result<Rendering, RenderError> {
        let shared = Arc::new(SsrSharedContext::new());
        let owner = Owner::new_root(Some(shared.clone()));
        let options = ResponseOptions::default();
        let mut html = String::with_capacity(BODY_CAPACITY);
        let waits = render.waits.clone();
        owner.with(|| {
            self.provide(parts, &options, &nonce, render);
            (self.app)().to_html_with_buf(
                &mut html,
                &mut Position::FirstChild,
                true,
                false,
                Vec::new(),
            );
        });
        if waits.load(Ordering::Relaxed) {
            let parts = owner.with(take_context::<axum::http::request::Parts>);
            owner.unset_with_forced_cleanup();
            return parts
                .map(Rendering::Waits)
                .ok_or(RenderError("the request's parts were taken"));
        }
        owner.unset_with_forced_cleanup();
        // What Leptos' hydration expects to find after the document, as `leptos_axum` sends it
        // (nothing to wait for in a synchronous render).
        let scripts = shared
            .pending_data()
            .ok_or(RenderError("no hydration data"))?
            .collect::<Vec<String>>()
            .now_or_never()
            .ok_or(RenderError("the page waited for something"))?;
        append_scripts(&mut html, scripts, &nonce);
        Ok(Rendering::Done((html, options)))
    }

    /// The page again, waiting for what it waits for: in order, in one piece.
    async fn render_async(
        &self,
        parts: axum::http::request::Parts,
        nonce: Nonce,
    ) -> Result<(String, ResponseOptions), RenderError> {
        let shared = Arc::new(SsrSharedContext::new());
        let owner = Owner::new_root(Some(shared.clone()));
        let options = ResponseOptions::default();
        let page = owner.with(|| {
            self.provide(parts, &options, &nonce, PageRender::default());
            let stream = (self.app)().to_html_stream_in_order();
            ScopedFuture::new(stream.collect::<String>())
        });
        let mut html = page.await;
        let scripts = match shared.pending_data() {
            Some(scripts) => scripts.collect::<Vec<String>>().await,
            None => Vec::new(),
        };
        owner.unset_with_forced_cleanup();
        append_scripts(&mut html, scripts, &nonce);
        Ok((html, options))
    }

    /// The contexts `leptos_axum` provides a page, and the app's own.
    fn provide(
        &self,
        parts: axum::http::request::Parts,
        options: &ResponseOptions,
        nonce: &Nonce,
        render: PageRender,
    ) {
        let url = format!(
            "http://leptos.dev{}",
            parts.uri.path_and_query().map_or("/", |p| p.as_str())
        );
        provide_context(RequestUrl::new(&url));
        provide_context(parts);
        provide_context(options.clone());
        provide_context(nonce.clone());
        provide_context(render);
        leptos_router::components::provide_server_redirect(leptos_axum::redirect);
        (self.context)();
    }
}

/// The first pass's outcome.
enum Rendering {
    Done((String, ResponseOptions)),
    /// A component waits for data: the request's parts, for the asynchronous pass.
    Waits(axum::http::request::Parts),
}

/// The hydration data, after the document, each in a script with the page's nonce.
fn append_scripts(html: &mut String, scripts: Vec<String>, nonce: &str) {
    for script in scripts {
        html.push_str("<script nonce=\"");
        html.push_str(nonce);
        html.push_str("\">");
        html.push_str(&script);
        html.push_str("</script>");
    }
}

fn render_failed(error: RenderError) -> Response {
    tracing::error!(%error, "rendering the page failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "The page could not be rendered.",
    )
        .into_response()
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
    // A plain form post: answered with a redirect (the page it came from, else home).
    let plain_form = auth
        .as_ref()
        .filter(|_| accepts_html(&request))
        .map(|auth| {
            (
                PlainFormPost::default(),
                page_of(&request, auth),
                auth.paths(),
            )
        });
    let owner = Owner::new();
    owner
        .with(|| {
            ScopedFuture::new(async move {
                let options = ResponseOptions::default();
                provide_context(options.clone());
                if let Some((form, ..)) = &plain_form {
                    provide_context(form.clone());
                }
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
                let redirect = plain_form
                    .and_then(|(form, back, paths)| form.redirect(&response, &back, paths));
                match redirect.and_then(|to| HeaderValue::from_str(&to).ok()) {
                    Some(location) => {
                        (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
                    }
                    None => response,
                }
            })
        })
        .await
}

/// A browser's own form post (it accepts HTML), not a script's call.
fn accepts_html(request: &Request) -> bool {
    request
        .headers()
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// The local page a form was posted from: its action's `?return_to=` (as `SessionList` writes
/// it: the page's own `Referrer-Policy: no-referrer` leaves no `Referer`), else the `Referer`
/// when it is this app's, else `/`. Only a local path (`ReturnTo`) is taken.
fn page_of(request: &Request, auth: &Auth) -> String {
    let named = request.uri().query().and_then(|query| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == "return_to")
            .map(|(_, value)| value.into_owned())
    });
    let origin = auth.settings().app_url.origin();
    let referer = || {
        request
            .headers()
            .get(header::REFERER)
            .and_then(|referer| referer.to_str().ok())
            .and_then(|referer| referer.strip_prefix(origin))
            .filter(|path| path.starts_with('/'))
            .map(str::to_owned)
    };
    named
        .or_else(referer)
        .and_then(|path| super::return_to::ReturnTo::parse(&path).ok())
        .map_or_else(|| "/".to_owned(), |path| path.into_string())
}
