//! `GET /`: the page. The session is read here, before rendering, and handed to the Leptos app
//! in the request's extensions ([`app::PageState`]); the app renders it synchronously and
//! sends it along in the HTML for hydration.
//!
//! The whole page is rendered before it is sent (nothing on it waits for anything), so it goes
//! out as one body with a `Content-Length` rather than as Leptos' chunked stream.

use app::api::server::session_view;
use app::api::SiteInfo;
use app::session::AuthSession;
use app::PageState;
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::future::Future;

pub async fn home<Render, Rendered>(
    session: AuthSession,
    site: &SiteInfo,
    mut request: Request,
    render: Render,
) -> Response
where
    Render: FnOnce(Request) -> Rendered,
    Rendered: Future<Output = Response>,
{
    let state = session_view(&session, site).await;
    // The page says "Temporarily unavailable" (the session store is down); the status says it
    // to anything that is not a person.
    let unavailable = state.is_err();
    request.extensions_mut().insert(PageState(state));
    let (mut parts, body) = render(request).await.into_parts();
    if unavailable {
        parts.status = StatusCode::SERVICE_UNAVAILABLE;
    }
    match axum::body::to_bytes(body, PAGE_SIZE_LIMIT).await {
        Ok(page) => Response::from_parts(parts, Body::from(page)),
        Err(error) => {
            tracing::error!(%error, "rendering the page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be rendered.",
            )
                .into_response()
        }
    }
}

/// Far above the page's few kilobytes; a render that grows past it is a bug, not a page.
const PAGE_SIZE_LIMIT: usize = 1 << 20;
