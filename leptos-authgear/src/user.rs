//! What the page may know about the signed-in user, and the errors a call can end in: the types
//! both sides share (the server writes them, the browser reads them).

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The signed-in user as the page sees them: claims, times and counts, never a token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// `name`, else `email`, else `sub` (email + passwordless users often have no name).
    pub display_name: String,
    /// The `email` claim, if the provider gave one.
    pub email: Option<String>,
    /// The `email_verified` claim (false when absent).
    pub email_verified: bool,
    /// The provider's identifier for the user (`sub`).
    pub subject: String,
    /// All the user's claims, pretty-printed JSON.
    pub claims_json: ClaimsJson,
    /// Unix time at which the session ends unless the user is active again before.
    pub session_ends_at: i64,
    /// Unix time at which the access token the server holds expires, if the provider said
    /// (it is refreshed before then, when a call needs it): for a page that says how long its
    /// access lasts.
    pub access_token_expires_at: Option<i64>,
}

/// The user's claims as pretty-printed JSON text. It travels as that JSON itself, not as a
/// string holding it, which would escape its quotes and line breaks on every call
/// (bench/README.md). Every `<` in it is written `\u003c` (the same JSON), so that it can go
/// into a page's data block as it is.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClaimsJson(Box<RawValue>);

impl ClaimsJson {
    /// The text as shown on the page.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }
}

impl PartialEq for ClaimsJson {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

#[cfg(feature = "ssr")]
impl ClaimsJson {
    /// `claims`, pretty-printed.
    pub fn new(claims: &serde_json::Map<String, serde_json::Value>) -> Self {
        let text = serde_json::to_string_pretty(claims).unwrap_or_else(|_| "{}".to_owned());
        Self::from_text(text).unwrap_or_else(|_| Self(RawValue::NULL.to_owned()))
    }

    /// JSON text as kept in a session record; an error if it is not JSON.
    pub(crate) fn from_text(text: String) -> Result<Self, serde_json::Error> {
        let text = if text.contains('<') {
            text.replace('<', "\\u003c")
        } else {
            text
        };
        RawValue::from_string(text).map(Self)
    }
}

/// Who is signed in to this browser, as the server rendered the page with it and as
/// `/api/current_user` answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthState {
    /// The signed-in user, or `None` for a guest.
    pub user: Option<User>,
    /// The previous session ended without the user asking (revoked, expired, logged out at the
    /// provider): say so once.
    pub session_ended: bool,
    /// Where the user manages their account at the provider (Authgear's settings page, or the
    /// route that opens it signed in), when signed in.
    pub account_settings_url: Option<String>,
}

/// What a call that needs the user can fail with, as a page needs to tell the cases apart.
/// The error type of this crate's server functions and of `server::require_user` and
/// `server::access_token` (feature `ssr`); [`AuthError::NotSignedIn`] is answered with status
/// 401.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AuthError {
    /// Nobody is signed in to this browser (status 401): log in, then try again.
    #[error("You are not signed in.")]
    NotSignedIn,
    /// The session ended at the provider (refresh refused): log in again.
    #[error("Your session has ended, please log in again.")]
    SessionEnded,
    /// The provider or the session store cannot be reached now; nothing was lost.
    #[error("{0}")]
    Temporary(String),
    /// The call itself failed (network, encoding).
    #[error("The request failed: {0}")]
    Call(String),
    /// The action needs a login within the last `max_age` seconds (the number it holds), and
    /// this session's is older (status 401, `server::require_recent_login`): log in again with
    /// that `max_age` ([`login_for`](crate::login_for)), then repeat the action. JSON
    /// `{"RecentLoginRequired": 300}`. (A tuple, not `{ max_age }`: a struct variant's reader
    /// costs every page 378 bytes of WASM, bench/README.md.)
    #[error("Please sign in again to confirm it is you.")]
    RecentLoginRequired(u64),
}

impl AuthError {
    /// True when logging in (again) is the way forward: [`AuthError::NotSignedIn`],
    /// [`AuthError::SessionEnded`]. ([`AuthError::RecentLoginRequired`] asks for a login with
    /// `max_age`: see [`login_for`](crate::login_for).)
    pub fn needs_login(&self) -> bool {
        matches!(self, AuthError::NotSignedIn | AuthError::SessionEnded)
    }
}

/// One of the signed-in user's sessions, as [`list_sessions`](crate::list_sessions) shows it:
/// a browser on a device, times, and an opaque handle for
/// [`end_session`](crate::end_session). Never the session's id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Names the session to [`end_session`](crate::end_session): a keyed hash of its id, which
    /// reveals nothing of it and means nothing to another app.
    pub handle: String,
    /// A coarse label from the User-Agent it signed in with, e.g. "Chrome on Linux".
    pub device: String,
    /// When it signed in (Unix time).
    pub signed_in_at: i64,
    /// Its last request that counted as activity (Unix time; written at most once per tenth of
    /// the idle timeout).
    pub last_active_at: i64,
    /// True for the session of the browser that asked.
    pub this_browser: bool,
}

impl FromServerFnError for AuthError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AuthError::Call(value.to_string())
    }
}
