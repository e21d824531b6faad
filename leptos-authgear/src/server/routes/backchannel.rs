//! `POST /backchannel-logout`: OpenID Connect Back-Channel Logout 1.0. The provider posts a
//! logout token; every session it names is deleted, so that browser's next request is a guest.
//! Authgear sends no back-channel logouts (it has webhooks instead), other providers do.

use crate::server::session::unix_now;
use crate::server::Auth;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Deserialize)]
pub struct LogoutRequest {
    logout_token: String,
}

/// `jti`s seen within the accepted age of a logout token: a replay is refused.
#[derive(Default)]
pub struct SeenTokenIds(Mutex<HashMap<String, i64>>);

impl SeenTokenIds {
    /// True the first time a `jti` is seen.
    fn first_use(&self, jti: &str, now: i64) -> bool {
        let mut seen = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        seen.retain(|_, at| now - *at <= crate::server::logout_token::MAX_AGE_SECS * 2);
        seen.insert(jti.to_owned(), now).is_none()
    }
}

pub async fn logout(
    State(state): State<Auth>,
    form: Result<Form<LogoutRequest>, FormRejection>,
) -> Response {
    let Ok(Form(request)) = form else {
        return refuse("no logout_token");
    };
    let client = match state.0.provider.client().await {
        Ok(client) => client,
        Err(error) => {
            tracing::warn!(%error, "back-channel logout: provider unavailable");
            return (StatusCode::SERVICE_UNAVAILABLE, no_store()).into_response();
        }
    };
    let now = unix_now();
    let claims = match client.verify_logout_token(&request.logout_token, now) {
        Ok(claims) => claims,
        Err(error) => return refuse(&error.to_string()),
    };
    if !state.0.seen_logout_tokens.first_use(&claims.jti, now) {
        return refuse("replayed logout token (jti seen before)");
    }
    match state
        .0
        .sessions
        .delete_matching(claims.sub.as_deref(), claims.sid.as_deref())
        .await
    {
        Ok(deleted) => {
            tracing::info!(sub = ?claims.sub, sid = ?claims.sid, deleted, "back-channel logout");
            (StatusCode::OK, no_store()).into_response()
        }
        Err(error) => {
            tracing::error!(%error, "back-channel logout: session store failed");
            (StatusCode::SERVICE_UNAVAILABLE, no_store()).into_response()
        }
    }
}

fn refuse(reason: &str) -> Response {
    tracing::warn!(reason, "back-channel logout refused");
    let body = serde_json::json!({ "error": "invalid_request", "error_description": reason });
    (StatusCode::BAD_REQUEST, no_store(), axum::Json(body)).into_response()
}

fn no_store() -> [(header::HeaderName, &'static str); 1] {
    [(header::CACHE_CONTROL, "no-store")]
}
