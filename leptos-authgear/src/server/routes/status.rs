//! `GET /session/status`: whether this browser is still signed in, for the page to notice a
//! session that ended elsewhere (revoked or expired refresh token, logout at the provider)
//! without a reload. Refreshes the access token when it is due, which is how a revoked grant
//! is found out.

use crate::server::session::AuthSession;
use crate::server::tokens::FreshTokenError;
use crate::server::Auth;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct SessionStatus {
    signed_in: bool,
}

pub async fn status(
    State(state): State<Auth>,
    session: AuthSession,
) -> Result<Json<SessionStatus>, StatusCode> {
    let signed_in = match state.0.tokens.fresh_user(&session).await {
        Ok(_) => true,
        Err(FreshTokenError::NotSignedIn | FreshTokenError::SessionEnded(_)) => false,
        // The provider is unreachable for now: the session stands until it says otherwise.
        Err(FreshTokenError::Temporary(_)) => true,
        Err(error @ (FreshTokenError::Store(_) | FreshTokenError::Lock(_))) => {
            tracing::error!(%error, "session store failed");
            return Err(StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    Ok(Json(SessionStatus { signed_in }))
}
