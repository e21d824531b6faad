//! `POST /backchannel-logout`: OpenID Connect Back-Channel Logout 1.0. The provider posts a
//! logout token; every session it names is deleted, so that browser's next request is a guest.
//! Authgear sends no back-channel logouts (it has webhooks instead, see `authgear::webhook`),
//! other providers do.

use super::NO_STORE;
use crate::server::logout_token::{LogoutClaims, LogoutTokenError, MAX_AGE_SECS};
use crate::server::oidc::{OidcClient, Provider};
use crate::server::session::unix_now;
#[cfg(feature = "redis")]
use crate::server::stores::RedisPool;
use crate::server::stores::Sessions;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
#[cfg(feature = "redis")]
use fred::prelude::{Expiration, KeysInterface, SetOptions};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Deserialize)]
pub struct LogoutRequest {
    logout_token: String,
}

/// `jti`s of logout tokens whose sessions were ended, kept as long as such a token is accepted
/// (twice its maximum age): a replay is refused. With Redis, shared by every instance.
pub enum SeenTokenIds {
    /// This process's.
    Memory(Mutex<HashMap<String, i64>>),
    /// Keys `backchannel-jti:<jti>`, expiring by themselves.
    #[cfg(feature = "redis")]
    Redis(RedisPool),
}

/// How long a `jti` is remembered.
const REMEMBERED_SECS: i64 = MAX_AGE_SECS * 2;

impl SeenTokenIds {
    /// Kept in Redis when the sessions are, else in this process.
    pub fn new(sessions: &crate::server::stores::Sessions) -> Self {
        #[cfg(feature = "redis")]
        if let Some(pool) = sessions.redis() {
            return SeenTokenIds::Redis(pool);
        }
        let _ = sessions;
        SeenTokenIds::Memory(Mutex::default())
    }

    /// Whether the sessions of a token with this `jti` were ended already.
    async fn seen(&self, jti: &str, now: i64) -> Result<bool, String> {
        match self {
            SeenTokenIds::Memory(seen) => {
                let mut seen = seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                seen.retain(|_, at| now.saturating_sub(*at) <= REMEMBERED_SECS);
                Ok(seen.contains_key(jti))
            }
            #[cfg(feature = "redis")]
            SeenTokenIds::Redis(pool) => {
                let found: i64 = pool
                    .exists(redis_key(jti))
                    .await
                    .map_err(|error| error.to_string())?;
                Ok(found > 0)
            }
        }
    }

    /// Remembers `jti`: called once its sessions are ended, so that a failure before that lets
    /// the provider's retry through.
    async fn remember(&self, jti: &str, now: i64) -> Result<(), String> {
        match self {
            SeenTokenIds::Memory(seen) => {
                seen.lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .insert(jti.to_owned(), now);
                Ok(())
            }
            #[cfg(feature = "redis")]
            SeenTokenIds::Redis(pool) => pool
                .set::<(), _, _>(
                    redis_key(jti),
                    now,
                    Some(Expiration::EX(REMEMBERED_SECS)),
                    Some(SetOptions::NX),
                    false,
                )
                .await
                .map_err(|error| error.to_string()),
        }
    }
}

#[cfg(feature = "redis")]
fn redis_key(jti: &str) -> String {
    format!("backchannel-jti:{jti}")
}

/// What the route needs, and no more: the provider's keys, the sessions it ends, and the
/// tokens seen before.
#[derive(Clone)]
pub(crate) struct Backchannel {
    pub(crate) provider: Arc<Provider>,
    pub(crate) sessions: Sessions,
    pub(crate) seen: Arc<SeenTokenIds>,
}

pub async fn logout(
    State(state): State<Backchannel>,
    form: Result<Form<LogoutRequest>, FormRejection>,
) -> Response {
    let Ok(Form(request)) = form else {
        return refuse("no logout_token");
    };
    let now = unix_now();
    let claims = match verified_claims(&state, &request.logout_token, now).await {
        Ok(claims) => claims,
        Err(Refusal::Unavailable(error)) => return unavailable(&error),
        Err(Refusal::Invalid(error)) => return refuse(&error.to_string()),
        Err(Refusal::TryAgain) => {
            tracing::warn!(
                "back-channel logout: a key that is not in the provider's JWKS, which was \
                 fetched again too recently; answered 503 for the provider to retry"
            );
            let retry = (
                axum::http::header::RETRY_AFTER,
                crate::server::oidc::UNKNOWN_KEY_REDISCOVERY_SECS,
            );
            return (StatusCode::SERVICE_UNAVAILABLE, [NO_STORE, retry]).into_response();
        }
    };
    let seen = &state.seen;
    match seen.seen(&claims.jti, now).await {
        Ok(false) => {}
        Ok(true) => return refuse("replayed logout token (jti seen before)"),
        Err(error) => return unavailable(&error),
    }
    let deleted = match state
        .sessions
        .delete_matching(claims.sub.as_deref(), claims.sid.as_deref(), None)
        .await
    {
        Ok(deleted) => deleted,
        Err(error) => return unavailable(&error.to_string()),
    };
    if let Err(error) = seen.remember(&claims.jti, now).await {
        return unavailable(&error);
    }
    tracing::info!(sub = ?claims.sub, sid = ?claims.sid, deleted, "back-channel logout");
    (StatusCode::OK, [NO_STORE]).into_response()
}

enum Refusal {
    /// The provider or the store cannot be reached: the provider should try again.
    Unavailable(String),
    /// A key we do not know, and keys were fetched again too recently to do it now.
    TryAgain,
    Invalid(LogoutTokenError),
}

/// The token's claims, verified with the provider's keys; a key we do not know makes us
/// discover again (rate-limited: anyone can post a token) and try once more.
async fn verified_claims(
    state: &Backchannel,
    token: &str,
    now: i64,
) -> Result<LogoutClaims, Refusal> {
    let provider = &state.provider;
    let client: Arc<OidcClient> = provider
        .client()
        .await
        .map_err(|error| Refusal::Unavailable(error.to_string()))?;
    match client.verify_logout_token(token, now) {
        Err(LogoutTokenError::UnknownKey) => {
            match provider.rediscover_for_unknown_key(&client).await {
                Some(Ok(client)) => client
                    .verify_logout_token(token, now)
                    .map_err(Refusal::Invalid),
                Some(Err(error)) => Err(Refusal::Unavailable(error.to_string())),
                // Anyone can post a token naming an unknown key, and so use up the
                // rediscovery allowed: a genuine token signed with a key rotated in since
                // then is told to come again (503), never refused for good.
                None => Err(Refusal::TryAgain),
            }
        }
        result => result.map_err(Refusal::Invalid),
    }
}

fn refuse(reason: &str) -> Response {
    tracing::warn!(reason, "back-channel logout refused");
    let body = serde_json::json!({ "error": "invalid_request", "error_description": reason });
    (StatusCode::BAD_REQUEST, [NO_STORE], axum::Json(body)).into_response()
}

fn unavailable(error: &str) -> Response {
    tracing::error!(%error, "back-channel logout: provider or session store unavailable");
    (StatusCode::SERVICE_UNAVAILABLE, [NO_STORE]).into_response()
}
