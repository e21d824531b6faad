//! The server functions the page calls: the only API between the WASM frontend and the BFF.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the page may know about the signed-in user: claims, never tokens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserProfile {
    /// `name`, else `email`, else `sub` (email + passwordless users often have no name).
    pub display_name: String,
    pub email: Option<String>,
    pub subject: String,
    /// The user's claims, pretty-printed JSON.
    pub claims_json: String,
}

/// The answer of `/api/current_user`: who is signed in, and against which provider.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    pub user: Option<UserProfile>,
    /// True when the app talks to the bundled local demo provider, not to Authgear.
    pub local_demo_provider: bool,
}

/// Facts about this deployment that the server provides to server functions as context.
#[derive(Clone, Copy, Debug, Default)]
pub struct SiteInfo {
    pub local_demo_provider: bool,
}

/// Who is signed in, read from the server-side session. Fixed path: `POST /api/current_user`.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<SessionView, ServerFnError> {
    use crate::session::AuthSession;

    let session: tower_sessions::Session = leptos_axum::extract()
        .await
        .map_err(|error| internal_error("session layer missing", error))?;
    let user = AuthSession::new(session)
        .user()
        .await
        .map_err(|error| internal_error("session store failed", error))?;
    let site = use_context::<SiteInfo>().unwrap_or_default();
    Ok(SessionView {
        user: user.map(|user| UserProfile::from_claims(&user.subject, &user.claims)),
        local_demo_provider: site.local_demo_provider,
    })
}

/// Logs the cause on the server; the browser only learns that it was temporary.
#[cfg(feature = "ssr")]
fn internal_error(what: &str, error: impl std::fmt::Display) -> ServerFnError {
    tracing::error!(%error, "{what}");
    ServerFnError::new("The server could not read your session. Please try again shortly.")
}

#[cfg(feature = "ssr")]
impl UserProfile {
    pub fn from_claims(subject: &str, claims: &serde_json::Map<String, serde_json::Value>) -> Self {
        let text = |key: &str| {
            claims
                .get(key)
                .and_then(|value| value.as_str())
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        let email = text("email");
        let display_name = text("name")
            .or_else(|| email.clone())
            .unwrap_or_else(|| subject.to_owned());
        Self {
            display_name,
            email,
            subject: subject.to_owned(),
            claims_json: serde_json::to_string_pretty(claims).unwrap_or_default(),
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn display_name_prefers_name_then_email_then_subject() {
        let both = claims(json!({"name": "Ada", "email": "ada@example.com"}));
        assert_eq!(UserProfile::from_claims("s1", &both).display_name, "Ada");
        let email_only = claims(json!({"name": "  ", "email": "ada@example.com"}));
        assert_eq!(
            UserProfile::from_claims("s1", &email_only).display_name,
            "ada@example.com"
        );
        let neither = claims(json!({"email_verified": true}));
        assert_eq!(UserProfile::from_claims("s1", &neither).display_name, "s1");
    }

    #[test]
    fn claims_are_pretty_json() {
        let profile = UserProfile::from_claims("s1", &claims(json!({"sub": "s1"})));
        assert_eq!(profile.claims_json, "{\n  \"sub\": \"s1\"\n}");
    }
}
