//! The routes [`Auth::routes`](super::Auth::routes) returns.

pub(crate) mod auth;
pub(crate) mod backchannel;
mod status;

use super::Auth;
use crate::{LOGIN_PATH, LOGOUT_PATH, STATUS_PATH};
use axum::routing::{get, post};
use axum::Router;

/// Where the provider posts logout tokens (OpenID Connect Back-Channel Logout 1.0). The
/// same-origin check lets it through.
pub(crate) const BACKCHANNEL_LOGOUT_PATH: &str = "/backchannel-logout";

/// The redirect URI's path: `<APP_URL>/callback`.
pub(crate) const CALLBACK_PATH: &str = "/callback";

pub(crate) fn router<S: Clone + Send + Sync + 'static>(auth: Auth) -> Router<S> {
    Router::new()
        .route(LOGIN_PATH, get(auth::login))
        .route(CALLBACK_PATH, get(auth::callback))
        .route(LOGOUT_PATH, post(auth::logout))
        .route(STATUS_PATH, get(status::status))
        .route(BACKCHANNEL_LOGOUT_PATH, post(backchannel::logout))
        .with_state(auth)
}
