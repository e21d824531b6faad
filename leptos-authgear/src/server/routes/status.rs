//! `GET /session/status`: whether this browser is still signed in, for the page to notice a
//! session that ended elsewhere (revoked or expired refresh token, logout at the provider)
//! without a reload. Refreshes the access token when it is due, which is how a revoked grant
//! is found out.

use crate::server::session::AuthSession;
use crate::server::tokens::{FreshTokenError, TokenManager};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;

/// `{"signed_in": true, "ends_at": …, "limit_at": …}`: the session's end unless there is
/// more activity, and its absolute end, which activity cannot move (Unix times; for
/// `SessionExpiryWarning`'s script). A guest's is `{"signed_in": false}`.
#[derive(Debug, Serialize)]
pub struct SessionStatus {
    signed_in: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    ends_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit_at: Option<i64>,
}

/// What the route needs, and no more: the tokens (to refresh them when due) and the session's
/// absolute limit.
#[derive(Clone)]
pub(crate) struct StatusState {
    pub(crate) tokens: TokenManager,
    pub(crate) max_lifetime: i64,
}

pub async fn status(
    State(state): State<StatusState>,
    session: AuthSession,
) -> Result<Json<SessionStatus>, StatusCode> {
    let (signed_in, user) = match state.tokens.fresh_user(&session).await {
        Ok(user) => (true, Some(user)),
        Err(FreshTokenError::NotSignedIn | FreshTokenError::SessionEnded(_)) => (false, None),
        // The provider is unreachable for now: the session stands until it says otherwise.
        Err(FreshTokenError::Temporary(_)) => (true, session.user().await.ok().flatten()),
        Err(error @ (FreshTokenError::Store(_) | FreshTokenError::Lock(_))) => {
            tracing::error!(%error, "session store failed");
            return Err(StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    Ok(Json(SessionStatus {
        signed_in,
        ends_at: user.as_ref().map(|user| user.ends_at),
        limit_at: user
            .as_ref()
            .map(|user| user.signed_in_at + state.max_lifetime),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The browser reads the answer by its beginning (`crate::status`): it must stay so.
    #[test]
    fn the_answer_begins_as_the_browser_reads_it() {
        let signed_in = SessionStatus {
            signed_in: true,
            ends_at: Some(2),
            limit_at: Some(3),
        };
        let json = serde_json::to_vec(&signed_in).expect("json");
        assert!(json.starts_with(crate::status::SIGNED_IN), "{json:?}");
        assert_eq!(json, br#"{"signed_in":true,"ends_at":2,"limit_at":3}"#);
        let guest = SessionStatus {
            signed_in: false,
            ends_at: None,
            limit_at: None,
        };
        let json = serde_json::to_vec(&guest).expect("json");
        assert!(json.starts_with(crate::status::GUEST), "{json:?}");
    }
}
