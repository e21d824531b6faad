//! The server function the page calls, beside `leptos-authgear`'s own (`/api/current_user`).

use leptos::prelude::*;
use leptos_authgear::{AuthError, User};

/// The user's profile fresh from the provider's userinfo endpoint, with the access token
/// refreshed first when it is about to expire. Fixed path: `POST /api/profile`.
#[server(endpoint = "profile")]
pub async fn profile() -> Result<User, AuthError> {
    leptos_authgear::server::refresh_profile().await
}
