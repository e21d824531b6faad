//! The routes [`Auth::routes`](super::Auth::routes) returns.

pub(crate) mod auth;
pub(crate) mod backchannel;
mod end_session;
mod events;
mod status;

use super::Auth;
use crate::authgear::webhook;
use crate::{EVENTS_PATH, LOGIN_PATH, LOGOUT_PATH, STATUS_PATH};
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName};
use axum::routing::{get, post};
use axum::Router;

/// Where the provider posts logout tokens (OpenID Connect Back-Channel Logout 1.0). The
/// same-origin check lets it through.
pub(crate) const BACKCHANNEL_LOGOUT_PATH: &str = "/backchannel-logout";

/// The header of every answer here that no cache may keep (a browser's, a proxy's).
pub(crate) const NO_STORE: (HeaderName, &str) = (header::CACHE_CONTROL, "no-store");

/// The redirect URI's path: `<APP_URL>/callback`.
pub(crate) const CALLBACK_PATH: &str = "/callback";

pub(crate) fn router<S: Clone + Send + Sync + 'static>(auth: Auth) -> Router<S> {
    let router = Router::new()
        .route(LOGIN_PATH, get(auth::login))
        .route(CALLBACK_PATH, get(auth::callback))
        .route(LOGOUT_PATH, post(auth::logout))
        .route(STATUS_PATH, get(status::status))
        .route(EVENTS_PATH, get(events::events))
        .route(BACKCHANNEL_LOGOUT_PATH, post(backchannel::logout));
    let router = match &auth.settings().webhooks {
        Some(webhooks) => router.route(
            &webhooks.path,
            post(webhook::receive).layer(DefaultBodyLimit::max(webhook::MAX_BODY_BYTES)),
        ),
        None => router,
    };
    router.with_state(auth)
}
