//! Fresh access tokens for server-side calls: refresh before expiry, once per session at a time.
//!
//! N concurrent requests of one session that find the access token expiring queue on that
//! session's lock. The first refreshes and writes the new tokens to the session store; the
//! others, once they hold the lock, reload the session from the store, find fresh tokens and
//! use them. So the provider sees one refresh grant, which matters when refresh tokens rotate
//! (a rotated token dies on first use).

use crate::server::error::OidcError;
use crate::server::oidc::{Provider, RefreshError};
use crate::server::refresh_backoff::RefreshBackoff;
use crate::server::session::{unix_now, AuthSession, SessionError, SignedInUser, UserClaims};
use crate::server::stores::refresh_lock::{LockError, RefreshLocks};
use crate::{AuthError, User};
use openidconnect::{AccessToken, SubjectIdentifier};
use std::sync::Arc;
use std::time::Instant;

/// Cheap to clone: a refresh runs in a task of its own with a clone (see
/// [`TokenManager::fresh_user`]).
#[derive(Clone)]
pub struct TokenManager(Arc<Shared>);

struct Shared {
    provider: Arc<Provider>,
    locks: Arc<RefreshLocks>,
    backoff: RefreshBackoff,
}

/// Why no fresh user could be had.
#[derive(Debug, thiserror::Error)]
pub enum FreshTokenError {
    #[error("not signed in")]
    NotSignedIn,
    #[error("session ended: {0}")]
    SessionEnded(RefreshError),
    #[error("{0}")]
    Temporary(String),
    #[error(transparent)]
    Store(#[from] SessionError),
    #[error(transparent)]
    Lock(#[from] LockError),
}

impl TokenManager {
    pub fn new(provider: Arc<Provider>, locks: RefreshLocks) -> Self {
        Self(Arc::new(Shared {
            provider,
            locks: Arc::new(locks),
            backoff: RefreshBackoff::default(),
        }))
    }

    /// The sessions' refresh locks, which every write of a signed-in session holds.
    pub fn locks(&self) -> Arc<RefreshLocks> {
        self.0.locks.clone()
    }

    /// The signed-in user with an access token good for use now, refreshing it if needed.
    /// Ends the session when the provider no longer honours it.
    pub async fn fresh_user(
        &self,
        session: &AuthSession,
    ) -> Result<Arc<SignedInUser>, FreshTokenError> {
        let user = session.user().await?.ok_or(FreshTokenError::NotSignedIn)?;
        if !user.tokens.needs_refresh(unix_now()) {
            return Ok(user);
        }
        let Some(id) = session.id() else {
            return Err(FreshTokenError::NotSignedIn);
        };
        if let Some(wait) = self.0.backoff.remaining(&id, Instant::now()) {
            return Err(FreshTokenError::Temporary(format!(
                "a refresh failed moments ago; the next one in {} s",
                wait.as_secs().max(1)
            )));
        }
        // In a task of its own: once started, the refresh runs to completion and stores its
        // result even if this request is dropped (the browser went away). With rotation, the
        // provider has already retired the old refresh token; losing the new one would end the
        // session.
        let (manager, session) = (self.clone(), session.clone());
        tokio::spawn(async move { manager.refresh_with_lock(&id, &session).await })
            .await
            .map_err(|error| {
                FreshTokenError::Temporary(format!("the refresh task failed: {error}"))
            })?
    }

    /// Takes the session's refresh lock, refreshes if still needed, and backs off after a
    /// temporary failure.
    async fn refresh_with_lock(
        &self,
        id: &str,
        session: &AuthSession,
    ) -> Result<Arc<SignedInUser>, FreshTokenError> {
        // Discovery (when due) before the lock, not while other requests wait on it: the
        // refresh then finds the provider's client ready.
        self.0
            .provider
            .client()
            .await
            .map_err(|error| FreshTokenError::Temporary(error.to_string()))?;
        let guard = self.0.locks.lock(id).await?;
        let result = self.refresh_locked(session).await;
        guard.release().await;
        match &result {
            Err(FreshTokenError::Temporary(_)) => self.0.backoff.failed(id, Instant::now()),
            _ => self.0.backoff.forget(id),
        }
        result
    }

    /// `fresh_user`, holding the session's refresh lock.
    async fn refresh_locked(
        &self,
        session: &AuthSession,
    ) -> Result<Arc<SignedInUser>, FreshTokenError> {
        // Another request may have refreshed (or ended the session) while this one waited.
        session.reload().await?;
        let user = session.user().await?.ok_or(FreshTokenError::NotSignedIn)?;
        if !user.tokens.needs_refresh(unix_now()) {
            return Ok(user);
        }
        match self.0.provider.refresh(&user).await {
            Ok(tokens) => {
                let mut user = Arc::unwrap_or_clone(user);
                user.tokens = tokens;
                user.refreshes += 1;
                user.last_refreshed_at = Some(unix_now());
                let user = session.update_user(user).await?;
                tracing::info!(subject = %user.subject, refreshes = user.refreshes, "access token refreshed");
                Ok(user)
            }
            Err(error @ (RefreshError::GrantEnded(_) | RefreshError::IdToken(_))) => {
                tracing::warn!(subject = %user.subject, %error, "session ended by the provider");
                session.end_elsewhere().await?;
                Err(FreshTokenError::SessionEnded(error))
            }
            Err(RefreshError::Temporary(error)) => {
                tracing::warn!(subject = %user.subject, %error, "refresh failed; session kept");
                Err(FreshTokenError::Temporary(error))
            }
        }
    }

    pub async fn fresh_profile(&self, session: &AuthSession) -> Result<User, AuthError> {
        let user = self.fresh_user(session).await.map_err(AuthError::from)?;
        let client = self.0.provider.client().await.map_err(temporary)?;
        let subject = SubjectIdentifier::new(user.subject.clone());
        let access_token = AccessToken::new(user.tokens.access_token.clone());
        let Some(claims) = client
            .userinfo(&access_token, &subject)
            .await
            .map_err(temporary)?
        else {
            return Ok(User::from_signed_in(&user));
        };
        let user = self
            .update_claims(session, claims)
            .await
            .map_err(AuthError::from)?;
        Ok(User::from_signed_in(&user))
    }

    /// Stores fresh claims into the session as it is now in the store, under the session's
    /// lock: a refresh finished meanwhile (by another request) keeps its new tokens.
    async fn update_claims(
        &self,
        session: &AuthSession,
        claims: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Arc<SignedInUser>, FreshTokenError> {
        let id = session.id().ok_or(FreshTokenError::NotSignedIn)?;
        let guard = self.0.locks.lock(&id).await?;
        let result = async {
            session.reload().await?;
            let user = session.user().await?.ok_or(FreshTokenError::NotSignedIn)?;
            let mut user = Arc::unwrap_or_clone(user);
            user.claims = UserClaims::new(&user.subject, &claims);
            Ok(session.update_user(user).await?)
        }
        .await;
        guard.release().await;
        result
    }
}

const PROVIDER_UNREACHABLE: &str =
    "The sign-in service could not be reached. You are still signed in; please try again.";

fn temporary(error: OidcError) -> AuthError {
    tracing::warn!(%error, "provider call failed");
    AuthError::Temporary(PROVIDER_UNREACHABLE.into())
}

impl From<FreshTokenError> for AuthError {
    fn from(error: FreshTokenError) -> Self {
        match error {
            FreshTokenError::NotSignedIn => AuthError::NotSignedIn,
            FreshTokenError::SessionEnded(_) => AuthError::SessionEnded,
            // Logged where it happened.
            FreshTokenError::Temporary(_) => AuthError::Temporary(PROVIDER_UNREACHABLE.into()),
            FreshTokenError::Store(error) => super::error::store_error(error),
            FreshTokenError::Lock(error) => super::error::store_error(error),
        }
    }
}
