//! A test kit for apps built on this crate (feature `testing`: never in a production build).
//! People testing an app with a login ask every library for a signed-in session without
//! driving the provider's pages (nextjs-auth0's `generateSessionCookie`, better-auth's test
//! utilities); this is it, for this crate's stores and cookies:
//!
//! - [`mint_session`]: a signed-in session for a given user and claims, written directly into
//!   the app's session store, and the `Cookie` value a browser would hold for it (for `reqwest`
//!   tests that build the app in-process);
//! - [`Auth::testing_routes`]: the same over HTTP, `POST /__test/session`, for Playwright tests of
//!   the app's binary built with the feature (`context.addCookies`);
//! - [`signed_webhook`]: an Authgear event signed as Authgear signs it, to post to the app;
//! - [`TestProvider`]: an OpenID provider on a random local port that logs no one in but signs
//!   back-channel logout tokens the app accepts (point the app's issuer at it).
//!
//! A minted session has no usable provider tokens: pages, `require_user`, `current_user` and
//! the devices list work; `access_token()` returns a placeholder, nothing is refreshed, and a
//! logout skips nothing of its own but the provider may refuse the placeholder ID token. Tests
//! that run the local provider instead (`end2end/provider`) have it sign logout tokens with its
//! own key at `POST /__test/sign` (docs/testing.md).

mod provider;

#[cfg(test)]
pub(crate) use provider::discovery_document;
pub use provider::TestProvider;

use super::session::{session_cookie, unix_now, SessionData, SignedInUser, TokenSet, UserClaims};
use super::Auth;
use axum::http::header::SET_COOKIE;
use axum::http::HeaderValue;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use std::sync::Arc;
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::SessionStore;

/// The path of [`Auth::testing_routes`]' route (not under the base path: tests find it).
pub const MINT_PATH: &str = "/__test/session";

/// Signs `subject` in with `claims` (an object: `email`, `name`, …; `sub` is added) in `auth`'s
/// session store, as a login would, for the settings' idle timeout; returns the `Cookie` header
/// value (`session=…`) a browser would send for it.
///
/// ```no_run
/// # async fn example(auth: leptos_authgear::server::Auth) -> Result<(), String> {
/// let cookie = leptos_authgear::server::testing::mint_session(
///     &auth,
///     "user-1",
///     serde_json::json!({ "email": "ada@example.com" }),
/// )
/// .await?;
/// // reqwest::Client::new().get(url).header("cookie", cookie) …
/// # let _ = cookie; Ok(()) }
/// ```
pub async fn mint_session(
    auth: &Auth,
    subject: &str,
    claims: serde_json::Value,
) -> Result<String, String> {
    let mut claims = match claims {
        serde_json::Value::Object(claims) => claims,
        serde_json::Value::Null => serde_json::Map::new(),
        _ => return Err("the claims must be a JSON object".to_owned()),
    };
    if subject.is_empty() {
        return Err("the subject must not be empty".to_owned());
    }
    claims.insert("sub".to_owned(), subject.into());
    let now = unix_now();
    let ends_at = auth.lifetimes().ends_at(now, now);
    let user = SignedInUser {
        claims: UserClaims::new(subject, &claims),
        subject: subject.to_owned(),
        sid: None,
        tokens: TokenSet {
            access_token: "test-kit-access-token".to_owned(),
            refresh_token: None,
            id_token: "test-kit-id-token".to_owned(),
            access_token_expires_at: None,
            obtained_at: now,
        },
        refreshes: 0,
        last_refreshed_at: None,
        signed_in_at: now,
        last_seen_at: now,
        ends_at,
        auth_time: Some(now),
        device: Some("Test kit".to_owned()),
    };
    let mut record = Record {
        id: Id::default(),
        data: SessionData::signed_in(Arc::new(user)).into_record_data(),
        expiry_date: OffsetDateTime::from_unix_timestamp(ends_at)
            .unwrap_or_else(|_| OffsetDateTime::now_utc()),
    };
    auth.0
        .sessions
        .create(&mut record)
        .await
        .map_err(|error| error.to_string())?;
    Ok(session_cookie(
        auth.cookie_key(),
        auth.settings().app_url.is_https(),
        &record.id,
    ))
}

/// An Authgear event (`type`, e.g. `"user.disabled"`, and its `payload`) as Authgear sends it,
/// and the `x-authgear-body-signature` header value for it under `secret`
/// (`AUTHGEAR_WEBHOOK_SECRET`): post the body to the app's webhook route with that header.
///
/// ```
/// let (body, signature) = leptos_authgear::server::testing::signed_webhook(
///     "a-webhook-secret-of-the-tests",
///     "user.disabled",
///     serde_json::json!({ "user": { "id": "user-1" } }),
/// );
/// assert_eq!(signature.len(), 64);
/// assert!(body.contains("user.disabled"));
/// ```
pub fn signed_webhook(
    secret: &str,
    event_type: &str,
    payload: serde_json::Value,
) -> (String, String) {
    let body = serde_json::json!({
        "id": format!("test-kit-{}", Id::default()),
        "seq": 1,
        "type": event_type,
        "payload": payload,
        "context": { "timestamp": unix_now(), "triggered_by": "admin_api" },
    })
    .to_string();
    let signature = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map(|mac| hex::encode(mac.chain_update(body.as_bytes()).finalize().into_bytes()))
        .unwrap_or_default();
    (body, signature)
}

/// `POST /__test/session`'s body: `{"sub": "…", "claims": {…}}`.
#[derive(Deserialize)]
struct MintRequest {
    sub: String,
    #[serde(default)]
    claims: serde_json::Value,
}

impl Auth {
    /// `POST /__test/session` with `{"sub": "user-1", "claims": {"email": "ada@example.com"}}`:
    /// [`mint_session`] over HTTP, answered `{"cookie": "session=…"}` and the `Set-Cookie` that
    /// signs the caller in. Merge it into the router of a test build only (the feature
    /// `testing` is the guard: it never compiles into a build without it). Logs a warning at
    /// start-up.
    pub fn testing_routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        tracing::warn!(
            path = MINT_PATH,
            "the test kit's session minting route is on: for tests only"
        );
        Router::new()
            .route(MINT_PATH, post(mint))
            .with_state(self.clone())
    }
}

async fn mint(
    axum::extract::State(auth): axum::extract::State<Auth>,
    request: Result<Json<MintRequest>, axum::extract::rejection::JsonRejection>,
) -> axum::response::Response {
    let Ok(Json(request)) = request else {
        return (
            axum::http::StatusCode::BAD_REQUEST,
            "expected {\"sub\": \"…\", \"claims\": {…}}",
        )
            .into_response();
    };
    match mint_session(&auth, &request.sub, request.claims).await {
        Ok(cookie) => {
            let secure = if auth.settings().app_url.is_https() {
                "; Secure"
            } else {
                ""
            };
            let set_cookie = format!("{cookie}; Path=/; HttpOnly; SameSite=Lax{secure}");
            let mut response = Json(serde_json::json!({ "cookie": cookie })).into_response();
            if let Ok(value) = HeaderValue::from_str(&set_cookie) {
                response.headers_mut().insert(SET_COOKIE, value);
            }
            response
        }
        Err(error) => (axum::http::StatusCode::BAD_REQUEST, error).into_response(),
    }
}
