//! Fresh access tokens for server-side calls: refresh before expiry, once per session at a time.
//!
//! N concurrent requests of one session that find the access token expiring queue on that
//! session's lock. The first refreshes and writes the new tokens to the session store; the
//! others, once they hold the lock, reload the session from the store, find fresh tokens and
//! use them. So the provider sees one refresh grant, which matters when refresh tokens rotate
//! (a rotated token dies on first use).

use crate::oidc::{OidcError, Provider, RefreshError};
use app::api::server::Accounts;
use app::api::{ApiError, UserProfile};
use app::session::{unix_now, AuthSession, SessionError, SignedInUser};
use openidconnect::{AccessToken, SubjectIdentifier};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};

/// Per-session locks, held only while a refresh may be under way. Entries are weak: a lock
/// lives as long as some request holds or waits for it.
#[derive(Default)]
struct SessionLocks(Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>);

impl SessionLocks {
    fn for_session(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        locks.retain(|_, lock| lock.strong_count() > 0);
        if let Some(lock) = locks.get(id).and_then(Weak::upgrade) {
            return lock;
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        locks.insert(id.to_owned(), Arc::downgrade(&lock));
        lock
    }
}

pub struct TokenManager {
    provider: Arc<Provider>,
    locks: SessionLocks,
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
}

impl TokenManager {
    pub fn new(provider: Arc<Provider>) -> Self {
        Self {
            provider,
            locks: SessionLocks::default(),
        }
    }

    /// The signed-in user with an access token good for use now, refreshing it if needed.
    /// Ends the session when the provider no longer honours it.
    pub async fn fresh_user(&self, session: &AuthSession) -> Result<SignedInUser, FreshTokenError> {
        let user = session.user().await?.ok_or(FreshTokenError::NotSignedIn)?;
        if !user.tokens.needs_refresh(unix_now()) {
            return Ok(user);
        }
        let Some(id) = session.id() else {
            return Err(FreshTokenError::NotSignedIn);
        };
        let lock = self.locks.for_session(&id);
        let _guard = lock.lock().await;
        // Another request may have refreshed (or ended the session) while this one waited.
        session.reload().await?;
        let mut user = session.user().await?.ok_or(FreshTokenError::NotSignedIn)?;
        if !user.tokens.needs_refresh(unix_now()) {
            return Ok(user);
        }
        let client = self
            .provider
            .client()
            .await
            .map_err(|error| FreshTokenError::Temporary(error.to_string()))?;
        match client.refresh(&user).await {
            Ok(tokens) => {
                user.tokens = tokens;
                user.refreshes += 1;
                user.last_refreshed_at = Some(unix_now());
                session.update_user(user.clone()).await?;
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

    async fn fresh_profile(&self, session: AuthSession) -> Result<UserProfile, ApiError> {
        let mut user = self.fresh_user(&session).await.map_err(ApiError::from)?;
        let client = self.provider.client().await.map_err(temporary)?;
        let subject = SubjectIdentifier::new(user.subject.clone());
        let access_token = AccessToken::new(user.tokens.access_token.clone());
        if let Some(claims) = client
            .userinfo(&access_token, &subject)
            .await
            .map_err(temporary)?
        {
            user.claims = claims;
            session
                .update_user(user.clone())
                .await
                .map_err(app::api::server::store_error)?;
        }
        Ok(UserProfile::from_user(&user))
    }
}

impl Accounts for TokenManager {
    fn fresh_profile(
        &self,
        session: AuthSession,
    ) -> Pin<Box<dyn Future<Output = Result<UserProfile, ApiError>> + Send + '_>> {
        Box::pin(TokenManager::fresh_profile(self, session))
    }
}

const PROVIDER_UNREACHABLE: &str =
    "The sign-in service could not be reached. You are still signed in; please try again.";

fn temporary(error: OidcError) -> ApiError {
    tracing::warn!(%error, "provider call failed");
    ApiError::Temporary(PROVIDER_UNREACHABLE.into())
}

impl From<FreshTokenError> for ApiError {
    fn from(error: FreshTokenError) -> Self {
        match error {
            FreshTokenError::NotSignedIn => ApiError::NotSignedIn,
            FreshTokenError::SessionEnded(_) => ApiError::SessionEnded,
            // Logged where it happened.
            FreshTokenError::Temporary(_) => ApiError::Temporary(PROVIDER_UNREACHABLE.into()),
            FreshTokenError::Store(error) => app::api::server::store_error(error),
        }
    }
}
