//! `GET /account-settings` (`AUTHGEAR_SETTINGS_SIGNED_IN`): "Manage account" opens Authgear's
//! settings page already signed in, the way Authgear's own SDKs do it (authgear-sdk-js'
//! `openURL`, the Next.js SDK's `/api/auth/open`):
//!
//! 1. The server exchanges the session's refresh token at `<origin>/oauth2/app_session_token`
//!    for an app session token (one use, minutes long; Authgear gives one only to a grant with
//!    its full-access scope).
//! 2. It sends the browser, in one top-level redirect, to the authorization endpoint with
//!    `response_type=none`, `prompt=none`, `redirect_uri=<origin>/settings` and the token inside
//!    `login_hint`; Authgear signs the browser in from it and redirects to its settings page.
//!
//! Only the one-time token reaches the browser, inside that redirect; the refresh token never
//! does. Whenever it cannot be done — not the browser's own navigation from this site, a
//! guest, no refresh token, the exchange refused or failed — the browser goes to the plain
//! settings page, where Authgear asks it to sign in if it has no session there.

use crate::server::oidc::{OidcClient, Provider};
use crate::server::session::AuthSession;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;
use url::Url;

/// Authgear's tokens are tens of characters; anything this long is not one.
const MAX_TOKEN_BYTES: usize = 512;

/// Why the settings open without a sign-in this time.
#[derive(Debug, thiserror::Error)]
enum Plain {
    #[error("not the browser's own navigation from this site")]
    NotOwnNavigation,
    #[error("no signed-in session")]
    Guest,
    #[error("the session has no refresh token")]
    NoRefreshToken,
    #[error("the session store failed: {0}")]
    Store(String),
    #[error("the provider is unavailable: {0}")]
    Provider(String),
    #[error("the provider refused the exchange ({0})")]
    Refused(StatusCode),
    #[error("the provider's answer holds no app session token")]
    Malformed,
}

/// What the route needs, and no more: the provider's client, its origin (Authgear's own API is
/// there) and its plain settings page.
#[derive(Clone)]
pub(crate) struct SettingsLink {
    pub(crate) provider: Arc<Provider>,
    pub(crate) provider_origin: String,
    pub(crate) plain_url: String,
}

pub(crate) async fn open(
    State(link): State<SettingsLink>,
    headers: HeaderMap,
    session: AuthSession,
) -> Response {
    let plain = link.plain_url.clone();
    let target = match signed_in_url(&link, &headers, &session, &plain).await {
        Ok(url) => url.into(),
        Err(reason @ (Plain::NotOwnNavigation | Plain::Guest | Plain::NoRefreshToken)) => {
            tracing::debug!(%reason, "account settings opened without a sign-in");
            plain
        }
        Err(reason) => {
            tracing::warn!(%reason, "account settings opened without a sign-in");
            plain
        }
    };
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, target)
        .header(header::CACHE_CONTROL, "no-store")
        // The provider's request needs no address of this app's pages.
        .header(header::REFERRER_POLICY, "no-referrer")
        .body(Body::empty())
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn signed_in_url(
    link: &SettingsLink,
    headers: &HeaderMap,
    session: &AuthSession,
    settings_url: &str,
) -> Result<Url, Plain> {
    if !is_own_navigation(headers) {
        return Err(Plain::NotOwnNavigation);
    }
    let user = session
        .active_user()
        .await
        .map_err(|error| Plain::Store(error.to_string()))?
        .ok_or(Plain::Guest)?;
    let refresh_token = user
        .tokens
        .refresh_token
        .as_deref()
        .ok_or(Plain::NoRefreshToken)?;
    let client = link
        .provider
        .client()
        .await
        .map_err(|error| Plain::Provider(error.to_string()))?;
    let token = app_session_token(&client, &link.provider_origin, refresh_token).await?;
    Ok(settings_sign_in(&client, settings_url, &token))
}

/// A top-level navigation the user made on this site (or typed): not a page elsewhere sending
/// the browser here, which would spend a token for nothing, nor a script's request.
fn is_own_navigation(headers: &HeaderMap) -> bool {
    let site = headers.get("sec-fetch-site");
    let mode = headers.get("sec-fetch-mode");
    site.is_some_and(|site| site == "same-origin" || site == "none")
        && mode.is_some_and(|mode| mode == "navigate")
}

/// Step 1: the refresh token for an app session token (`{"refresh_token"}` →
/// `{"result": {"app_session_token", "expire_at"}}`).
async fn app_session_token(
    client: &OidcClient,
    provider_origin: &str,
    refresh_token: &str,
) -> Result<String, Plain> {
    let endpoint = Url::parse(&format!("{provider_origin}/oauth2/app_session_token"))
        .map_err(|error| Plain::Provider(error.to_string()))?;
    let body = serde_json::json!({ "refresh_token": refresh_token }).to_string();
    let (status, answer) = client
        .http()
        .post_json(endpoint, body.into_bytes())
        .await
        .map_err(|error| Plain::Provider(error.to_string()))?;
    if !status.is_success() {
        return Err(Plain::Refused(status));
    }
    parse_token(&answer)
}

fn parse_token(answer: &[u8]) -> Result<String, Plain> {
    #[derive(Deserialize)]
    struct Answer {
        result: Issued,
    }
    #[derive(Deserialize)]
    struct Issued {
        app_session_token: String,
    }
    let token = serde_json::from_slice::<Answer>(answer)
        .map_err(|_| Plain::Malformed)?
        .result
        .app_session_token;
    let plausible = !token.is_empty()
        && token.len() <= MAX_TOKEN_BYTES
        && token.bytes().all(|byte| byte.is_ascii_graphic());
    if plausible {
        Ok(token)
    } else {
        Err(Plain::Malformed)
    }
}

/// Step 2: the authorization request that signs the browser in with `token` and lands on the
/// settings page.
fn settings_sign_in(client: &OidcClient, settings_url: &str, token: &str) -> Url {
    let hint = Url::parse_with_params(
        "https://authgear.com/login_hint",
        [("type", "app_session_token"), ("app_session_token", token)],
    )
    .map(String::from)
    .unwrap_or_default();
    client.authorization_url(&[
        ("response_type", "none"),
        ("prompt", "none"),
        ("redirect_uri", settings_url),
        ("login_hint", &hint),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(site: Option<&'static str>, mode: Option<&'static str>) -> HeaderMap {
        let mut map = HeaderMap::new();
        if let Some(site) = site {
            map.insert("sec-fetch-site", HeaderValue::from_static(site));
        }
        if let Some(mode) = mode {
            map.insert("sec-fetch-mode", HeaderValue::from_static(mode));
        }
        map
    }

    #[test]
    fn only_the_browsers_own_navigation_from_this_site_is_signed_in() {
        assert!(is_own_navigation(&headers(
            Some("same-origin"),
            Some("navigate")
        )));
        assert!(is_own_navigation(&headers(Some("none"), Some("navigate"))));
        for (site, mode) in [
            (Some("cross-site"), Some("navigate")),
            (Some("same-site"), Some("navigate")),
            (Some("same-origin"), Some("cors")),
            (Some("same-origin"), Some("no-cors")),
            (None, Some("navigate")),
            (Some("same-origin"), None),
            (None, None),
        ] {
            assert!(
                !is_own_navigation(&headers(site, mode)),
                "{site:?} {mode:?}"
            );
        }
    }

    #[test]
    fn the_token_is_read_from_authgears_answer_only() {
        let answer =
            br#"{"result":{"app_session_token":"ast_abc-123","expire_at":"2026-12-06T22:00:00Z"}}"#;
        assert_eq!(parse_token(answer).expect("token"), "ast_abc-123");
        let long = format!(
            r#"{{"result":{{"app_session_token":"{}"}}}}"#,
            "a".repeat(513)
        );
        for bad in [
            br#"{"error":{"name":"Forbidden","reason":"access_denied"}}"#.as_slice(),
            br#"{"result":{}}"#,
            br#"{"result":{"app_session_token":""}}"#,
            br#"{"result":{"app_session_token":"a b"}}"#,
            br#"{"result":{"app_session_token":42}}"#,
            b"<html>",
            b"",
            long.as_bytes(),
        ] {
            assert!(
                matches!(parse_token(bad), Err(Plain::Malformed)),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
