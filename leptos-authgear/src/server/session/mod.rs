//! The browser's server-side session, behind one typed wrapper.
//!
//! The browser only holds tower-sessions' opaque, signed and encrypted session id. Everything
//! below lives in the session store on the server: once signed in, the user's claims and token
//! set. (A login attempt waits in a cookie of its own until then: `login_attempt`.) Handlers
//! never touch string keys; they call [`AuthSession`].

use crate::server::stores::refresh_lock::{LockError, RefreshLocks};
use crate::server::Auth;
use crate::ClaimsJson;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tower_sessions::cookie::time::{Duration, OffsetDateTime};
use tower_sessions::session::Id;
use tower_sessions::{Expiry, Session};

/// The one key this app uses in the session record.
const SESSION_KEY: &str = "auth";

mod record;

pub use record::DecodedSessions;
pub(crate) use record::SessionData;
pub use record::{
    record_identity, record_signed_in_at, record_user, record_version, DecodedSession,
    LoginTransaction, SessionLifetimes, SignedInUser, TokenSet, UserClaims,
    LOGIN_TRANSACTION_TTL_SECS,
};

/// The session store failed (unreachable, full, …). Not the user's fault: a 503.
#[derive(Debug, thiserror::Error)]
#[error("session store error: {0}")]
pub struct SessionError(#[from] tower_sessions::session::Error);

impl SessionError {
    fn lock(error: LockError) -> Self {
        Self(tower_sessions::session::Error::Store(
            tower_sessions::session_store::Error::Backend(error.to_string()),
        ))
    }
}

/// The typed view of one browser's session.
#[derive(Clone)]
pub struct AuthSession {
    session: Session,
    lifetimes: SessionLifetimes,
    decoded: Option<Arc<dyn DecodedSessions>>,
    /// The sessions' refresh locks: a write of a signed-in session holds its lock.
    locks: Option<Arc<RefreshLocks>>,
}

/// Handlers take an `AuthSession` as an extractor; it needs the auth layer (the session and the
/// [`Auth`] in the request's extensions).
impl<S: Send + Sync> axum::extract::FromRequestParts<S> for AuthSession {
    type Rejection = (axum::http::StatusCode, &'static str);

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state).await?;
        let auth = parts.extensions.get::<Auth>().ok_or((
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "the auth layer is not installed",
        ))?;
        Ok(Self::new(session, auth))
    }
}

impl AuthSession {
    /// The typed view of `session`, with `auth`'s lifetimes and decoded sessions.
    pub fn new(session: Session, auth: &Auth) -> Self {
        Self {
            session,
            lifetimes: auth.lifetimes(),
            decoded: auth.decoded().clone(),
            locks: Some(auth.tokens().locks()),
        }
    }

    /// The typed view of the session stored under `id`, outside a request: read afresh from
    /// the store, and holding nothing once dropped (an event stream's checks, which must not
    /// keep a record in memory for as long as the stream is open).
    pub fn stored(id: Id, auth: &Auth) -> Self {
        let store = Arc::new(auth.sessions().clone());
        Self::new(Session::new(Some(id), store, None), auth)
    }

    /// The typed view of `session`, from its parts (for tests without an [`Auth`]).
    #[cfg(test)]
    pub fn with_parts(
        session: Session,
        lifetimes: SessionLifetimes,
        decoded: Option<Arc<dyn DecodedSessions>>,
        locks: Option<Arc<RefreshLocks>>,
    ) -> Self {
        Self {
            session,
            lifetimes,
            decoded,
            locks,
        }
    }

    /// The signed-in user, if any. A session past its absolute lifetime ends here, and the
    /// next page says so. Does not count as activity (the page's status polling uses it).
    pub async fn user(&self) -> Result<Option<Arc<SignedInUser>>, SessionError> {
        let Some(user) = self.load().await?.user.clone() else {
            return Ok(None);
        };
        if unix_now() >= user.signed_in_at + self.lifetimes.max_lifetime {
            tracing::info!(subject = %user.subject, "session reached its maximum lifetime");
            self.end_elsewhere().await?;
            return Ok(None);
        }
        Ok(Some(user))
    }

    /// The signed-in user, counting this request as activity: the idle timeout starts again
    /// (written to the store at most once per touch interval, not on every request).
    pub async fn active_user(&self) -> Result<Option<Arc<SignedInUser>>, SessionError> {
        let Some(user) = self.user().await? else {
            return Ok(None);
        };
        let now = unix_now();
        if now - user.last_seen_at < self.lifetimes.touch_interval() {
            return Ok(Some(user));
        }
        // Under the session's refresh lock, on the record as it is now: a refresh may have
        // written new tokens since this request read it, and they must not be written over.
        let guard = match (&self.locks, self.id()) {
            (Some(locks), Some(id)) => Some(locks.lock(&id).await.map_err(SessionError::lock)?),
            _ => None,
        };
        let touched = async {
            if guard.is_some() {
                self.reload().await?;
            }
            let Some(user) = self.user().await? else {
                return Ok(None);
            };
            let mut user = Arc::unwrap_or_clone(user);
            user.last_seen_at = now;
            user.ends_at = self.lifetimes.ends_at(user.signed_in_at, now);
            self.update_user(user).await.map(Some)
        }
        .await;
        if let Some(guard) = guard {
            guard.release().await;
        }
        touched
    }

    /// Signs the user in under a new session id (no session fixation).
    pub async fn sign_in(&self, mut user: SignedInUser) -> Result<(), SessionError> {
        let mut data = Arc::unwrap_or_clone(self.load().await?);
        let now = unix_now();
        user.signed_in_at = now;
        user.last_seen_at = now;
        user.ends_at = self.lifetimes.ends_at(now, now);
        data.user = Some(Arc::new(user));
        // A new id against session fixation: for a session read from the store. One that is
        // not there (no cookie, or an unknown id) is created under a fresh id anyway, and
        // `cycle_id` would only delete a record that does not exist (a store transaction).
        if self.session.id().is_some() {
            self.session.cycle_id().await?;
        }
        self.store(&data).await
    }

    /// Deletes the whole session record and returns who was signed in.
    pub async fn sign_out(&self) -> Result<Option<Arc<SignedInUser>>, SessionError> {
        let user = self.load().await?.user.clone();
        self.session.flush().await?;
        Ok(user)
    }

    /// Ends the session because the provider no longer vouches for it. The browser keeps a
    /// fresh, empty session that only remembers to tell the user once.
    pub async fn end_elsewhere(&self) -> Result<(), SessionError> {
        self.session.flush().await?;
        let data = SessionData {
            ended_elsewhere: true,
            ..SessionData::default()
        };
        self.store(&data).await
    }

    /// Whether the session ended elsewhere since the last call; clears the flag.
    pub async fn take_ended_elsewhere(&self) -> Result<bool, SessionError> {
        let data = self.load().await?;
        if !data.ended_elsewhere {
            return Ok(false);
        }
        let mut data = Arc::unwrap_or_clone(data);
        data.ended_elsewhere = false;
        self.store(&data).await?;
        Ok(true)
    }

    /// Replaces the signed-in user (after a refresh) and writes the record to the store at
    /// once, so that concurrent requests that [`reload`](Self::reload) see it. Returns it as
    /// now kept.
    pub async fn update_user(&self, user: SignedInUser) -> Result<Arc<SignedInUser>, SessionError> {
        let mut data = Arc::unwrap_or_clone(self.load().await?);
        let user = Arc::new(user);
        data.user = Some(user.clone());
        self.store(&data).await?;
        Ok(user)
    }

    /// Reads the record from the store again, dropping what this request had loaded. (A decoded
    /// session is read afresh every time.)
    pub async fn reload(&self) -> Result<(), SessionError> {
        Ok(self.session.load().await?)
    }

    /// Whether the request came with a session cookie (a readable one). False for a visitor
    /// who never started a login, whose page needs no read from the store.
    pub fn has_cookie(&self) -> bool {
        self.session.id().is_some()
    }

    /// The session's id, when the browser has a session.
    pub fn session_id(&self) -> Option<tower_sessions::session::Id> {
        self.session.id()
    }

    /// The session id, when the browser has a session: a key for per-session locks.
    pub fn id(&self) -> Option<String> {
        self.session.id().map(|id| id.to_string())
    }

    /// The session's data: decoded already when the store keeps it so, else read through
    /// tower-sessions. Every write goes to the store at once (see [`Self::store`]), so both say
    /// the same.
    async fn load(&self) -> Result<Arc<SessionData>, SessionError> {
        if let (Some(decoded), Some(id)) = (&self.decoded, self.session.id()) {
            if let Some(DecodedSession(data)) = decoded.get(&id) {
                return Ok(data);
            }
        }
        match self.session.get::<SessionData>(SESSION_KEY).await {
            Ok(data) => Ok(Arc::new(data.unwrap_or_default())),
            // A record this version cannot read (written by an older release, say) is
            // treated as no session rather than as an error the user cannot get past.
            Err(tower_sessions::session::Error::SerdeJson(error)) => {
                tracing::warn!(%error, "unreadable session data, starting afresh");
                Ok(Arc::default())
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Writes `data` to the store now, so that a store failure is this request's error (a 503
    /// page) and concurrent requests that [`reload`](Self::reload) see it. A signed-in record
    /// expires with the session; any other keeps the layer's default (idle timeout).
    async fn store(&self, data: &SessionData) -> Result<(), SessionError> {
        let expiry = match &data.user {
            Some(user) => Expiry::AtDateTime(
                OffsetDateTime::from_unix_timestamp(user.ends_at)
                    .unwrap_or_else(|_| OffsetDateTime::now_utc()),
            ),
            None => Expiry::OnInactivity(Duration::seconds(self.lifetimes.idle_timeout)),
        };
        self.session.set_expiry(Some(expiry));
        let data = SessionData {
            version: data.version + 1,
            ..data.clone()
        };
        self.session.insert(SESSION_KEY, &data).await?;
        Ok(self.session.save().await?)
    }
}

/// The `Cookie` header value (`name=value`) a browser holds for session `id` of an app whose
/// cookies `key` encrypts, served over https or not: as the session layer writes it (for the
/// benchmarks' tools and the test kit).
pub(crate) fn session_cookie(key: &tower_sessions::cookie::Key, https: bool, id: &Id) -> String {
    use tower_sessions::cookie::{Cookie, CookieJar};
    let name = if https { "__Host-session" } else { "session" };
    let mut jar = CookieJar::new();
    jar.private_mut(key).add(Cookie::new(name, id.to_string()));
    jar.get(name)
        .map(|cookie| format!("{name}={}", cookie.value()))
        .unwrap_or_default()
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(obtained_at: i64, lifetime: Option<i64>) -> TokenSet {
        TokenSet {
            access_token: String::new(),
            refresh_token: None,
            id_token: String::new(),
            access_token_expires_at: lifetime.map(|l| obtained_at + l),
            obtained_at,
        }
    }

    #[test]
    fn refresh_when_a_tenth_of_the_lifetime_or_thirty_seconds_remain() {
        let long = tokens(0, Some(1800));
        assert!(!long.needs_refresh(1769));
        assert!(long.needs_refresh(1770));
        let short = tokens(0, Some(5));
        assert!(!short.needs_refresh(4));
        assert!(short.needs_refresh(5));
        assert!(!tokens(0, None).needs_refresh(1_000_000));
    }

    #[test]
    fn extreme_stored_times_do_not_overflow() {
        let mut far = tokens(i64::MIN, None);
        far.access_token_expires_at = Some(i64::MAX);
        assert!(!far.needs_refresh(0));
        far.access_token_expires_at = Some(i64::MIN);
        assert!(far.needs_refresh(i64::MAX));
    }

    fn lifetimes() -> SessionLifetimes {
        SessionLifetimes {
            idle_timeout: 3600,
            max_lifetime: 7200,
        }
    }

    fn fresh_session() -> Session {
        let store = std::sync::Arc::new(tower_sessions::MemoryStore::default());
        Session::new(None, store, None)
    }

    fn signed_in_user() -> SignedInUser {
        SignedInUser::test_user("s1", Some("sid1"), serde_json::json!({}))
    }

    #[tokio::test]
    async fn a_signed_in_record_reads_back_and_names_its_owner() {
        let session = fresh_session();
        let auth = AuthSession::with_parts(session.clone(), lifetimes(), None, None);
        auth.sign_in(signed_in_user()).await.unwrap();
        let stored = session
            .get_value(SESSION_KEY)
            .await
            .unwrap()
            .expect("stored");
        // Empty parts are left out of the record; each write counts up its version.
        let keys: Vec<_> = stored.as_object().expect("an object").keys().collect();
        assert_eq!(keys, ["user", "version"]);
        let record = std::collections::HashMap::from([(SESSION_KEY.to_owned(), stored)]);
        assert_eq!(record_version(&record), 1);
        assert_eq!(
            record_identity(&record),
            Some(("s1".to_owned(), Some("sid1".to_owned())))
        );
        let user = auth.user().await.unwrap().expect("signed in");
        assert_eq!(user.subject, "s1");
    }

    #[tokio::test]
    async fn a_record_of_another_shape_is_no_session_not_an_error() {
        for stored in [
            serde_json::json!({"user": {"subject": "s1"}}),
            serde_json::json!("{not json"),
        ] {
            let session = fresh_session();
            session.insert(SESSION_KEY, stored).await.unwrap();
            let auth = AuthSession::with_parts(session, lifetimes(), None, None);
            assert!(auth.user().await.unwrap().is_none());
            // And the next login works in it.
            auth.sign_in(signed_in_user()).await.unwrap();
            assert!(auth.user().await.unwrap().is_some());
        }
    }

    #[test]
    fn token_strings_are_not_debug_printed() {
        let mut set = tokens(0, Some(60));
        set.access_token = "secret-access".into();
        set.refresh_token = Some("secret-refresh".into());
        let debug = format!("{set:?}");
        assert!(!debug.contains("secret-"), "{debug}");
    }
}
