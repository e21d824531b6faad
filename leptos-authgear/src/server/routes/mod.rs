//! The routes [`Auth::routes`](super::Auth::routes) returns.

pub(crate) mod auth;
pub(crate) mod backchannel;
mod end_session;
mod events;
mod status;

use super::Auth;
use crate::authgear::settings_link::{self, SettingsLink};
use crate::authgear::webhook::{self, Webhooks};
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::routing::{get, post};
use axum::Router;

pub(crate) use crate::server::security_headers::NO_STORE;

/// `GET /session/expiry-warning.js`: the script of
/// [`SessionExpiryWarning`](crate::SessionExpiryWarning), loaded only by pages that show one to
/// a signed-in user (its URL names the crate's version, so it may be kept a day).
async fn expiry_warning_script() -> impl axum::response::IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../../expiry_warning.js"),
    )
}

pub(crate) fn router<S: Clone + Send + Sync + 'static>(auth: Auth) -> Router<S> {
    let paths = auth.paths();
    // The provider posts logout tokens to `backchannel_logout` (OpenID Connect Back-Channel
    // Logout 1.0); the same-origin check lets it through.
    let router = Router::new()
        .route(paths.login(), get(auth::login))
        .route(paths.callback(), get(auth::callback))
        .route(paths.logout(), post(auth::logout))
        .route(
            paths.status(),
            get(status::status).with_state(status::StatusState {
                tokens: auth.tokens().clone(),
                max_lifetime: auth.lifetimes().max_lifetime,
            }),
        )
        .route(paths.events(), get(events::events))
        .route(
            &crate::paths::join(paths.base(), crate::paths::EXPIRY_WARNING_SCRIPT),
            get(expiry_warning_script),
        )
        .route(
            paths.backchannel_logout(),
            post(backchannel::logout).with_state(backchannel::Backchannel {
                provider: auth.provider().clone(),
                sessions: auth.sessions().clone(),
                seen: auth.seen_logout_tokens().clone(),
            }),
        );
    let router = if auth.settings().settings_signed_in {
        let link = SettingsLink {
            provider: auth.provider().clone(),
            provider_origin: auth.provider_origin().to_owned(),
            plain_url: crate::authgear::settings_url(auth.settings().provider.issuer.as_str()),
        };
        router.route(
            paths.account_settings(),
            get(settings_link::open).with_state(link),
        )
    } else {
        router
    };
    let router = match &auth.settings().webhooks {
        Some(settings) => {
            let webhooks = Webhooks {
                settings: settings.clone(),
                clock_skew: auth.settings().clock_skew,
                sessions: auth.sessions().clone(),
            };
            router.route(
                &settings.path,
                post(webhook::receive)
                    .with_state(webhooks)
                    .layer(DefaultBodyLimit::max(webhook::MAX_BODY_BYTES)),
            )
        }
        None => router,
    };
    router.with_state(auth)
}
