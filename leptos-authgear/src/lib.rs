// The crate's documentation is its README: the quick start there is compiled as a doc test.
#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod authgear;
mod context;
mod expiry_warning;
mod guards;
#[cfg(feature = "islands")]
mod islands;
mod links;
mod paths;
mod provider;
mod recent_login;
#[cfg(feature = "ssr")]
pub mod server;
mod session_list;
#[cfg(any(feature = "hydrate", all(test, feature = "ssr")))]
mod status;
mod tabs;
mod texts;
mod time_text;
mod user;

pub use context::{use_auth, use_user, AuthContext};
pub use expiry_warning::SessionExpiryWarning;
pub use guards::RequireUser;
pub use links::{login_here, login_url, login_url_in, LoginLink, LogoutButton, SignupLink};
#[cfg(feature = "ssr")]
pub use paths::AuthPaths;
pub use provider::AuthProvider;
pub use recent_login::{login_for, RequireRecentLogin};
pub use session_list::SessionList;
pub use texts::AuthTexts;
pub use time_text::format_utc;
pub use user::{AuthError, AuthState, ClaimsJson, SessionInfo, User};

use leptos::prelude::*;

/// Who is signed in to this browser: the user (or none), and whether a session ended
/// elsewhere. A server function at `POST /api/current_user`, like Duende.BFF's `/bff/user`;
/// reading it counts as activity.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<AuthState, AuthError> {
    server::current_auth_state().await
}

/// The signed-in user's live sessions, this browser's first ("your devices", see
/// [`SessionList`]): `POST /api/list_sessions`. Counts as activity; 401
/// [`AuthError::NotSignedIn`] for a guest. Never another user's, never a session's id.
#[server(endpoint = "list_sessions")]
pub async fn list_sessions() -> Result<Vec<SessionInfo>, AuthError> {
    server::list_sessions().await
}

/// Ends the user's session that `handle` names (from [`list_sessions`]): its pages turn to the
/// guest view within seconds and its refresh token is revoked at the provider.
/// `POST /api/end_session`. A handle of none of the user's live sessions ends nothing.
// The generated struct's field is the argument, documented above.
#[allow(missing_docs)]
#[server(endpoint = "end_session")]
pub async fn end_session(handle: String) -> Result<(), AuthError> {
    server::end_session(&handle).await
}

/// Ends every session of the user but this browser's, as [`end_session`] ends one; returns how
/// many. `POST /api/end_other_sessions`.
#[server(endpoint = "end_other_sessions")]
pub async fn end_other_sessions() -> Result<usize, AuthError> {
    server::end_other_sessions().await
}
