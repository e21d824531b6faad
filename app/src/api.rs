//! The server functions the page calls: the only API between the WASM frontend and the BFF.

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// What the page may know about the signed-in user: claims, times and counts, never tokens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserProfile {
    /// `name`, else `email`, else `sub` (email + passwordless users often have no name).
    pub display_name: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub subject: String,
    /// The user's claims, pretty-printed JSON.
    pub claims_json: ClaimsJson,
    /// Unix time at which the session ends unless the user is active again before.
    pub session_ends_at: i64,
    /// Unix time at which the current access token expires, if the provider said.
    pub access_token_expires_at: Option<i64>,
    /// Access-token refreshes in this session, and when the last one happened (Unix time).
    pub refreshes: u32,
    pub last_refreshed_at: Option<i64>,
}

/// The user's claims as pretty-printed JSON text. It travels as that JSON itself, not as a
/// string holding it, which would escape its quotes and line breaks on every call
/// (bench/README.md). Every `<` in it is written `\u003c`
/// (the same JSON), so that it goes into the page's data block as it is.
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
    pub fn from_text(text: String) -> Result<Self, serde_json::Error> {
        let text = if text.contains('<') {
            text.replace('<', "\\u003c")
        } else {
            text
        };
        RawValue::from_string(text).map(Self)
    }
}

/// The answer of `/api/current_user`: who is signed in, and against which provider.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    pub user: Option<UserProfile>,
    /// True when the app talks to the bundled local demo provider, not to Authgear.
    pub local_demo_provider: bool,
    /// Authgear's account settings page (`<issuer>/settings`), for a signed-in user.
    pub account_settings_url: Option<String>,
    /// The previous session ended without the user asking (revoked, expired, logged out at the
    /// provider): say so once.
    pub session_ended: bool,
}

/// Facts about this deployment that the server provides to server functions as context (as an
/// `Arc<SiteInfo>`).
#[derive(Clone, Debug, Default)]
pub struct SiteInfo {
    pub local_demo_provider: bool,
    /// `<issuer>/settings`, where Authgear lets users manage their account.
    pub account_settings_url: String,
}

/// What a server function call can fail with, as the page needs to tell them apart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum ApiError {
    #[error("You are not signed in.")]
    NotSignedIn,
    #[error("Your session has ended, please log in again.")]
    SessionEnded,
    #[error("{0}")]
    Temporary(String),
    #[error("The request failed: {0}")]
    Call(String),
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        ApiError::Call(value.to_string())
    }
}

/// Who is signed in, read from the server-side session. Fixed path: `POST /api/current_user`.
/// (The page itself gets the same answer inside the HTML: see [`crate::PageState`].)
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<SessionView, ApiError> {
    let session = server::auth_session()?;
    let site = use_context::<std::sync::Arc<SiteInfo>>().unwrap_or_default();
    server::session_view(&session, &site).await
}

/// The user's profile fresh from the provider's userinfo endpoint, with the access token
/// refreshed first when it is about to expire. Fixed path: `POST /api/profile`.
#[server(endpoint = "profile")]
pub async fn profile() -> Result<UserProfile, ApiError> {
    let session = server::auth_session()?;
    session.active_user().await.map_err(server::store_error)?;
    let accounts = use_context::<std::sync::Arc<dyn server::Accounts>>()
        .ok_or_else(|| ApiError::Temporary("The server is not set up for this call.".into()))?;
    accounts.fresh_profile(session).await
}

/// The server side of the server functions: what the BFF provides to them.
#[cfg(feature = "ssr")]
pub mod server {
    use super::{ApiError, SessionView, SiteInfo, UserProfile};
    use crate::session::{AuthSession, SignedInUser};
    use std::future::Future;
    use std::pin::Pin;

    /// Calls that need the provider, implemented by the server crate (OIDC client, token
    /// refresh) and provided to server functions as `Arc<dyn Accounts>` context.
    pub trait Accounts: Send + Sync {
        fn fresh_profile(
            &self,
            session: AuthSession,
        ) -> Pin<Box<dyn Future<Output = Result<UserProfile, ApiError>> + Send + '_>>;
    }

    /// Who is signed in, for the page and for `current_user` alike. Reading it counts as
    /// activity (see [`AuthSession::active_user`]); a session that ended elsewhere is reported
    /// once.
    pub async fn session_view(
        session: &AuthSession,
        site: &SiteInfo,
    ) -> Result<SessionView, ApiError> {
        // No session cookie: a guest, with nothing to read (the common case for the page).
        let (user, session_ended) = if !session.has_cookie() {
            (None, false)
        } else {
            let user = session.active_user().await.map_err(store_error)?;
            let ended =
                user.is_none() && session.take_ended_elsewhere().await.map_err(store_error)?;
            (user, ended)
        };
        Ok(SessionView {
            account_settings_url: user.as_ref().map(|_| site.account_settings_url.clone()),
            user: user.as_deref().map(UserProfile::from_user),
            local_demo_provider: site.local_demo_provider,
            session_ended,
        })
    }

    /// The browser's session, which the server extracted for this call and provides as
    /// context (see `startup::app` in the server crate).
    pub fn auth_session() -> Result<AuthSession, ApiError> {
        leptos::prelude::use_context::<AuthSession>().ok_or_else(|| {
            tracing::error!("no session in the server function's context");
            ApiError::Temporary("The server could not read your session.".into())
        })
    }

    /// Logs the cause on the server and answers 503 (for the page and for the server function
    /// call alike); the browser only learns that it was temporary. The session is left as it
    /// is: it works again once the store is back.
    pub fn store_error(error: impl std::fmt::Display) -> ApiError {
        tracing::error!(%error, "session store failed");
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(axum::http::StatusCode::SERVICE_UNAVAILABLE);
        }
        ApiError::Temporary(STORE_UNAVAILABLE.into())
    }

    pub const STORE_UNAVAILABLE: &str =
        "The server cannot reach its session store right now. Nothing was lost; \
         please try again in a moment.";

    impl UserProfile {
        pub fn from_user(user: &SignedInUser) -> Self {
            let claims = &user.claims;
            Self {
                display_name: claims.display_name.clone(),
                email: claims.email.clone(),
                email_verified: claims.email_verified,
                subject: user.subject.clone(),
                claims_json: claims.pretty_json.clone(),
                session_ends_at: user.ends_at,
                access_token_expires_at: user.tokens.access_token_expires_at,
                refreshes: user.refreshes,
                last_refreshed_at: user.last_refreshed_at,
            }
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::session::SignedInUser;
    use serde_json::json;

    fn user(claims: serde_json::Value) -> SignedInUser {
        SignedInUser {
            refreshes: 2,
            last_refreshed_at: Some(50),
            ..SignedInUser::test_user("s1", None, claims)
        }
    }

    #[test]
    fn display_name_prefers_name_then_email_then_subject() {
        let both = user(json!({"name": "Ada", "email": "ada@example.com"}));
        assert_eq!(UserProfile::from_user(&both).display_name, "Ada");
        let email_only = user(json!({"name": "  ", "email": "ada@example.com"}));
        assert_eq!(
            UserProfile::from_user(&email_only).display_name,
            "ada@example.com"
        );
        let neither = user(json!({"email_verified": true}));
        assert_eq!(UserProfile::from_user(&neither).display_name, "s1");
    }

    #[test]
    fn profile_carries_claims_times_and_counts_but_no_tokens() {
        let profile = UserProfile::from_user(&user(json!({"sub": "s1"})));
        assert_eq!(profile.claims_json.as_str(), "{\n  \"sub\": \"s1\"\n}");
        assert_eq!(profile.access_token_expires_at, Some(60));
        assert_eq!(
            (profile.refreshes, profile.last_refreshed_at),
            (2, Some(50))
        );
        let serialized = serde_json::to_string(&profile).unwrap_or_default();
        assert!(!serialized.contains("secret"), "{serialized}");
    }
}
