//! `POST /api/<endpoint>`: the server functions, each at its own path, with the context they
//! read: the browser's session, the site's facts, and the calls that need the provider.
//!
//! They run as `leptos_axum::handle_server_fns_with_context` runs them, less two costly things
//! this app does not use (bench/README.md): a copy of the request's parts in the context (no
//! server function here calls `leptos_axum::extract`), and the redirect back to the page after a
//! plain HTML form post (the page calls them with `fetch`). Each path is its own route: a
//! wildcard route's URL parameters would be parsed for every call and read by nothing.

use crate::error;
use app::api::server::Accounts;
use app::api::SiteInfo;
use app::session::AuthSession;
use axum::extract::Request;
use axum::response::Response;
use axum::routing::{on, MethodFilter};
use axum::Router;
use leptos::prelude::provide_context;
use leptos::reactive::computed::ScopedFuture;
use leptos::reactive::owner::Owner;
use leptos::server_fn::axum::{get_server_fn_service, server_fn_paths};
use leptos_axum::ResponseOptions;
use std::sync::{Arc, PoisonError};

/// One route for each server function the app registers.
pub fn routes<S: Clone + Send + Sync + 'static>(
    site: SiteInfo,
    accounts: Arc<dyn Accounts>,
) -> Result<Router<S>, String> {
    // Captured by every route's handler, which axum clones for each request: one `Arc`.
    let context = Arc::new(Context {
        site: Arc::new(site),
        accounts,
    });
    let mut router = Router::new();
    for (path, method) in server_fn_paths() {
        let method = MethodFilter::try_from(method)
            .map_err(|error| format!("server function {path}: {error}"))?;
        let context = context.clone();
        let handler =
            move |session: AuthSession, request: Request| call(context.clone(), session, request);
        router = router.route(path, on(method, handler));
    }
    Ok(router)
}

struct Context {
    site: Arc<SiteInfo>,
    accounts: Arc<dyn Accounts>,
}

async fn call(context: Arc<Context>, session: AuthSession, request: Request) -> Response {
    let Some(mut service) = get_server_fn_service(request.uri().path(), request.method().clone())
    else {
        return error::not_found().await;
    };
    let owner = Owner::new();
    owner
        .with(|| {
            ScopedFuture::new(async move {
                let options = ResponseOptions::default();
                provide_context(options.clone());
                provide_context(context.site.clone());
                provide_context(context.accounts.clone());
                provide_context(session);
                let mut response = service.run(request).await;
                // What the server function set (a 503 when the session store is down).
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
