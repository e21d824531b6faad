//! The server functions the pages call, beside `leptos-authgear`'s own (`/api/current_user`).

use leptos::prelude::*;
use leptos_authgear::{AuthError, User};

/// The user's profile fresh from the provider's userinfo endpoint, with the access token
/// refreshed first when it is about to expire. Fixed path: `POST /api/profile`.
#[server(endpoint = "profile")]
pub async fn profile() -> Result<User, AuthError> {
    leptos_authgear::server::refresh_profile().await
}

/// When the access token the server would use for an API call now expires: one call to
/// `access_token()` (refreshed first when due, once per session however many calls ask), the
/// way a server function gets a token for your API. Fixed path: `POST /api/token_status`.
#[server(endpoint = "token_status")]
pub async fn token_status() -> Result<AccessTokenStatus, AuthError> {
    let _token = leptos_authgear::server::access_token().await?;
    // `_token.secret()` would go into `Authorization: Bearer …` here; the page only gets times.
    token_activity().await
}

/// When the access token expires and how often it was refreshed, without refreshing it (for
/// the end-to-end tests, which wait for an expiry and count refreshes). Fixed path:
/// `POST /api/token_activity`.
#[server(endpoint = "token_activity")]
pub async fn token_activity() -> Result<AccessTokenStatus, AuthError> {
    let activity = leptos_authgear::server::token_activity().await?;
    Ok(AccessTokenStatus {
        expires_at: activity.access_token_expires_at,
        refreshes: activity.refreshes,
        last_refreshed_at: activity.last_refreshed_at,
    })
}

/// What [`token_status`] tells the page: times and counts, never the token.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AccessTokenStatus {
    /// Unix time at which the access token expires, if the provider said.
    pub expires_at: Option<i64>,
    /// Refreshes in this session so far.
    pub refreshes: u32,
    /// When the last one happened (Unix time).
    pub last_refreshed_at: Option<i64>,
}
