//! `/login`, `/callback` and `/logout`: the browser's side of the OpenID Connect flow.

use super::end_session;
use crate::server::configuration::EndSessionMethod;
use crate::server::error::RouteError;
use crate::server::oidc::AuthorizeOptions;
use crate::server::return_to::ReturnTo;
use crate::server::session::{AuthSession, LoginTransaction};
use crate::server::ui_locales::UiLocales;
use crate::server::Auth;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderName};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use axum::Extension;
use serde::Deserialize;
use std::net::SocketAddr;

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
    screen: Option<Screen>,
    prompt: Option<Prompt>,
    /// A step-up: seconds within which the user must have authenticated.
    max_age: Option<u64>,
    /// The language of the provider's pages, e.g. `fr` or `fr-CA en`.
    ui_locales: Option<String>,
}

/// `screen=signup`: start on the provider's sign-up page. Anything else is a 400.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Screen {
    Signup,
}

/// `prompt=login`: log in again even while the provider's session lasts. `prompt=none`: a
/// silent sign-in, which shows no page of the provider's and comes back a guest when the
/// provider has no session (`login_required`, `interaction_required`).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Prompt {
    Login,
    None,
}

/// `GET /login[?return_to=/path][&screen=signup][&prompt=login|none][&max_age=seconds]
/// [&ui_locales=fr]`: a new login attempt (`max_age`: a step-up, see `require_recent_login`;
/// `ui_locales`: the provider's language, else the settings' choice), kept in
/// a cookie of its own (not in the session store: see `login_attempt`), then off to the
/// provider. A client beyond `LOGIN_RATE_LIMIT` gets a 429.
pub async fn login(
    State(state): State<Auth>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Result<(AppendHeaders<[(HeaderName, String); 1]>, Redirect), RouteError> {
    let client = state.client(peer.map(|Extension(ConnectInfo(peer))| peer), &headers);
    if let (Some(rate), Some(client)) = (state.login_rate(), client) {
        rate.check(client).map_err(|wait| {
            tracing::info!(%client, "login refused: over the login rate limit");
            RouteError::TooManyLogins {
                retry_after_secs: wait.as_secs().max(1),
            }
        })?;
    }
    let Query(query) = query.map_err(|error| RouteError::MalformedQuery(error.body_text()))?;
    let return_to = match query.return_to.as_deref() {
        Some(raw) => ReturnTo::parse(raw)?,
        None => ReturnTo::home(),
    };
    let ui_locales = match query.ui_locales.as_deref() {
        Some(text) => Some(
            UiLocales::parse(text)
                .map_err(|why| RouteError::MalformedQuery(format!("ui_locales {why}")))?,
        ),
        None => state.ui_locales_for(&headers),
    };
    let client = state.provider().client().await?;
    let options = AuthorizeOptions {
        signup: matches!(query.screen, Some(Screen::Signup)),
        fresh_login: matches!(query.prompt, Some(Prompt::Login)),
        silent: matches!(query.prompt, Some(Prompt::None)),
        max_age: query.max_age,
        ui_locales,
    };
    let (authorize_url, transaction) = client.authorize(return_to.into_string(), options);
    let cookie = state
        .0
        .login_attempts
        .set_cookie(&transaction)
        .ok_or(RouteError::UnknownLoginAttempt)?;
    Ok((
        AppendHeaders([(SET_COOKIE, cookie)]),
        Redirect::to(authorize_url.as_str()),
    ))
}

/// The authorization response (RFC 6749 §4.1.2, RFC 9207).
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /callback`: finish the login attempt named by `state`, sign in under a new session id.
/// The attempt's cookie is removed whatever the outcome.
pub async fn callback(
    State(state): State<Auth>,
    session: AuthSession,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    query: Result<Query<CallbackQuery>, QueryRejection>,
) -> (
    AppendHeaders<Option<(HeaderName, String)>>,
    Result<Redirect, RouteError>,
) {
    let Ok(Query(query)) = query else {
        let error = query
            .err()
            .map(|error| error.body_text())
            .unwrap_or_default();
        return (AppendHeaders(None), Err(RouteError::MalformedQuery(error)));
    };
    // Taken (and so used up) before anything else: a replayed state finds nothing.
    let (transaction, removal) = match query.state.as_deref() {
        Some(login_state) => state.login_attempts().take(&headers, login_state),
        None => (None, None),
    };
    // For the log line only: the client as the login rate limit counts it.
    let client = peer.map(|Extension(ConnectInfo(peer))| {
        state.settings().trusted_proxies.client(peer.ip(), &headers)
    });
    let device = crate::server::devices::device_label(
        headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|agent| agent.to_str().ok())
            .unwrap_or_default(),
    );
    let result = finish_login(&state, &session, query, transaction, client, device).await;
    (
        AppendHeaders(removal.map(|cookie| (SET_COOKIE, cookie))),
        result,
    )
}

/// The errors of a `prompt=none` request that only say the provider would have to show a page
/// (OpenID Connect Core §3.1.2.6).
const SILENT_REFUSALS: [&str; 4] = [
    "login_required",
    "interaction_required",
    "consent_required",
    "account_selection_required",
];

async fn finish_login(
    state: &Auth,
    session: &AuthSession,
    query: CallbackQuery,
    transaction: Option<LoginTransaction>,
    from: Option<std::net::IpAddr>,
    device: String,
) -> Result<Redirect, RouteError> {
    let Some(transaction) = transaction else {
        // Provider text is only shown for an attempt this browser started: anyone can send a
        // link to `/callback?error=…&error_description=…`.
        return Err(if query.error.is_some() {
            RouteError::ProviderRejectedUnknownAttempt
        } else {
            RouteError::UnknownLoginAttempt
        });
    };
    if let Some(code) = query.error {
        // A silent sign-in the provider could not give: back as a guest, to where it started.
        if transaction.silent && SILENT_REFUSALS.contains(&code.as_str()) {
            tracing::debug!(%code, "silent sign-in: no session at the provider");
            return Ok(Redirect::to(&transaction.return_to));
        }
        return Err(RouteError::ProviderRejected {
            code,
            description: query.error_description,
        });
    }
    let client = state.provider().client().await?;
    if query.iss.is_some_and(|iss| !client.is_issuer(&iss)) {
        return Err(RouteError::IssuerMismatch);
    }
    let code = query.code.ok_or(RouteError::MissingCode)?;
    let mut user = state.provider().finish_login(&transaction, code).await?;
    user.device = Some(device);
    match from {
        Some(client) => tracing::info!(subject = %user.subject, %client, "signed in"),
        None => tracing::info!(subject = %user.subject, "signed in"),
    }
    session.sign_in(user).await?;
    Ok(Redirect::to(&transaction.return_to))
}

/// `POST /logout` (same-origin only, see `same_origin`): delete the session, revoke the refresh
/// token (RFC 7009, best effort), then log out at the provider — by a form the page posts to its
/// end-session endpoint (`AUTHGEAR_END_SESSION_METHOD=get`: a redirect) — which sends the
/// browser back to `<APP_URL>/`.
pub async fn logout(
    State(state): State<Auth>,
    session: AuthSession,
) -> Result<Response, RouteError> {
    let Some(user) = session.sign_out().await? else {
        return Ok(Redirect::to("/").into_response());
    };
    tracing::info!(subject = %user.subject, "signed out");
    // The local session is gone either way; without the provider we can only go home.
    let end_session = match state.provider().client().await {
        Ok(client) => {
            if let Some(refresh_token) = &user.tokens.refresh_token {
                client.revoke(refresh_token).await;
            }
            client.end_session(&user.tokens.id_token)
        }
        Err(error) => {
            tracing::warn!(%error, "cannot reach the provider to end its session");
            None
        }
    };
    let mut response = match (end_session, state.settings().end_session_method) {
        (Some(end_session), EndSessionMethod::Post) => end_session::form_page(&end_session),
        (Some(end_session), EndSessionMethod::Get) => {
            Redirect::to(end_session.into_url().as_str()).into_response()
        }
        (None, _) => Redirect::to("/").into_response(),
    };
    // After a logout, no silent sign-in in this browser session: it could undo the logout.
    if state.settings().silent_login_once {
        response
            .headers_mut()
            .append(SET_COOKIE, crate::server::silent_login::tried(&state));
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Uri;
    use proptest::prelude::*;

    proptest! {
        /// The callback's query string is the provider's (or an attacker's) input: parsing it
        /// never panics, whatever bytes it holds; it parses or is a clean rejection (a 400).
        #[test]
        fn callback_query_parsing_never_panics(
            query in prop_oneof![
                "[ -~]{0,300}",
                "((code|state|iss|error|error_description)=[^&]{0,30}&?){0,8}",
                proptest::collection::vec(proptest::num::u8::ANY, 0..200).prop_map(|bytes| {
                    bytes.iter().map(|b| format!("%{b:02X}")).collect::<String>()
                }),
            ]
        ) {
            let Ok(uri) = format!("/callback?{query}").parse::<Uri>() else {
                return Ok(());
            };
            let _ = Query::<CallbackQuery>::try_from_uri(&uri);
        }
    }
}
