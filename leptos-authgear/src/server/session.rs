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

/// How long a login attempt may take, from the redirect to the provider to the callback.
pub const LOGIN_TRANSACTION_TTL_SECS: i64 = 10 * 60;

/// One login attempt: what the callback needs to finish it. Keyed by `state`, single use.
#[derive(Clone, Serialize, Deserialize)]
pub struct LoginTransaction {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// A local path, already validated when the login started.
    pub return_to: String,
    pub created_at: i64,
    /// `max_age` sent to the provider (a step-up login): the ID token's `auth_time` must be
    /// at most this many seconds old.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
    /// A silent sign-in (`prompt=none`): the provider's "it would need a page" comes back a
    /// guest, not an error page.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub silent: bool,
}

/// The tokens from the provider. Never sent to the browser, never logged.
#[derive(Clone, Serialize, Deserialize)]
pub struct TokenSet {
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// The raw ID token, kept as `id_token_hint` for logout (stored decoded:
    /// `stored_id_token`).
    #[serde(with = "crate::server::stored_id_token")]
    pub id_token: String,
    /// Unix time at which the access token expires, when the provider said.
    pub access_token_expires_at: Option<i64>,
    /// Unix time at which these tokens were obtained.
    pub obtained_at: i64,
}

impl TokenSet {
    /// Whether the access token should be refreshed before use at `now`: when less than a tenth
    /// of its lifetime, and at most 30 seconds, remains. No stated expiry: never.
    pub fn needs_refresh(&self, now: i64) -> bool {
        let Some(expires_at) = self.access_token_expires_at else {
            return false;
        };
        // Saturating: the numbers come from the provider (and a stored record).
        let lifetime = expires_at.saturating_sub(self.obtained_at).max(0);
        let skew = (lifetime / 10).min(30);
        expires_at.saturating_sub(now) <= skew
    }
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("id_token", &"[redacted]")
            .field("access_token_expires_at", &self.access_token_expires_at)
            .field("obtained_at", &self.obtained_at)
            .finish()
    }
}

/// A signed-in user: the verified subject, the claims to show, and the tokens.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignedInUser {
    /// The provider's identifier for the user (`sub`).
    pub subject: String,
    /// The provider's session id (`sid` of the ID token), when it gives one: back-channel
    /// logout may name it.
    #[serde(default)]
    pub sid: Option<String>,
    /// The userinfo (else ID-token) claims, as the page shows them.
    pub claims: UserClaims,
    /// The tokens: never sent to the browser, never logged.
    pub tokens: TokenSet,
    /// How many times the access token was refreshed in this session.
    pub refreshes: u32,
    /// When the access token was last refreshed (Unix time).
    pub last_refreshed_at: Option<i64>,
    /// Unix times: login, the last request that counted as activity, and when the session
    /// ends unless there is more activity (idle timeout, capped by the absolute lifetime).
    #[serde(default)]
    pub signed_in_at: i64,
    /// The last request that counted as activity (Unix time).
    #[serde(default)]
    pub last_seen_at: i64,
    /// When the session ends unless there is more activity (Unix time).
    #[serde(default)]
    pub ends_at: i64,
    /// When the user last proved who they are at the provider: the ID token's `auth_time`
    /// (Unix time), if it had one. A single sign-on at the provider does not move it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// A coarse label of the browser that signed in ("Firefox on Windows"), from its
    /// User-Agent, for the user's list of their sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

impl SignedInUser {
    /// A signed-in user for tests, this crate's and the server's (feature `test-fixtures`):
    /// `subject`, provider session `sid`, the given claims, and a token set obtained at the
    /// Unix epoch whose access token lasts a minute. Every token string contains "secret", so
    /// that a test can look for it where no token may go.
    #[cfg(any(test, feature = "test-fixtures"))]
    pub fn test_user(subject: &str, sid: Option<&str>, claims: serde_json::Value) -> Self {
        let claims = match claims {
            serde_json::Value::Object(claims) => claims,
            _ => serde_json::Map::new(),
        };
        SignedInUser {
            subject: subject.into(),
            sid: sid.map(Into::into),
            claims: UserClaims::new(subject, &claims),
            tokens: TokenSet {
                access_token: "at-secret".into(),
                refresh_token: Some("rt-secret".into()),
                id_token: "id-secret".into(),
                access_token_expires_at: Some(60),
                obtained_at: 0,
            },
            refreshes: 0,
            last_refreshed_at: None,
            signed_in_at: 0,
            last_seen_at: 0,
            ends_at: 0,
            auth_time: None,
            device: None,
        }
    }
}

/// The user's claims (user attributes only, no token strings) as the page shows them, worked
/// out when they arrive (login, "Refresh profile") instead of on every page view.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserClaims {
    /// `name`, else `email`, else `sub` (email + passwordless users often have no name).
    pub display_name: String,
    pub email: Option<String>,
    pub email_verified: bool,
    /// All of them, pretty-printed JSON. Kept in the record as a string, as it always was: as
    /// JSON values, it would lose its line breaks.
    #[serde(with = "claims_as_text")]
    pub pretty_json: ClaimsJson,
}

mod claims_as_text {
    use crate::ClaimsJson;
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(claims: &ClaimsJson, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(claims.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<ClaimsJson, D::Error> {
        ClaimsJson::from_text(String::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

impl UserClaims {
    pub fn new(subject: &str, claims: &serde_json::Map<String, serde_json::Value>) -> Self {
        let text = |key: &str| {
            claims
                .get(key)
                .and_then(|value| value.as_str())
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        let email = text("email");
        Self {
            display_name: text("name")
                .or_else(|| email.clone())
                .unwrap_or_else(|| subject.to_owned()),
            email,
            email_verified: claims.get("email_verified") == Some(&serde_json::Value::Bool(true)),
            pretty_json: ClaimsJson::new(claims),
        }
    }
}

/// How long a signed-in session lives (from the settings; [`Auth`] holds it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionLifetimes {
    /// Seconds without a request after which the session ends.
    pub idle_timeout: i64,
    /// Seconds after login after which the session ends, however active.
    pub max_lifetime: i64,
}

impl SessionLifetimes {
    /// When a session of someone signed in at `signed_in_at` and last seen at `now` ends.
    pub fn ends_at(&self, signed_in_at: i64, now: i64) -> i64 {
        (now + self.idle_timeout).min(signed_in_at + self.max_lifetime)
    }

    /// Activity is written to the store at most this often (not on every request): the idle
    /// timeout is then exact to within this interval.
    fn touch_interval(&self) -> i64 {
        (self.idle_timeout / 10).clamp(1, 60)
    }
}

/// Everything this app keeps in one session record. Empty parts are left out of it: every
/// byte of a record is kept once per session.
#[derive(Clone, Default, Serialize, Deserialize)]
pub(crate) struct SessionData {
    /// One more on every write: the store drops a write older than what it holds (a request's
    /// end-of-request save of what it read before a refresh wrote new tokens).
    #[serde(default)]
    version: u64,
    /// Shared, so that reading it from a decoded session copies no tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user: Option<Arc<SignedInUser>>,
    /// Set when the session ended without the user asking (refresh token revoked or expired,
    /// back-channel logout), so that the next page can say so once.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    ended_elsewhere: bool,
}

impl SessionData {
    /// A session with `user` signed in, as a store's record data (for the benchmarks' tools).
    pub(crate) fn signed_in(user: Arc<SignedInUser>) -> Self {
        Self {
            version: 1,
            user: Some(user),
            ended_elsewhere: false,
        }
    }

    /// This data as a store's record data (the one key this app uses).
    pub(crate) fn into_record_data(self) -> HashMap<String, serde_json::Value> {
        HashMap::from([(
            SESSION_KEY.to_owned(),
            serde_json::to_value(&self).unwrap_or_default(),
        )])
    }
}

/// A session record as this app wrote it, decoded once, when it was stored, by a store that keeps
/// its records in this process (the SQLite store's cache). Reading it costs no decoding, which
/// was the largest part of a signed-in request: the record into JSON values and those into
/// [`SessionData`] (bench/README.md).
#[derive(Clone)]
pub struct DecodedSession(Arc<SessionData>);

impl DecodedSession {
    /// The record's data, if it is this app's one key and reads as this version's shape; else
    /// `None`, and the record is left to tower-sessions.
    pub fn decode(data: &HashMap<String, serde_json::Value>) -> Option<Self> {
        let value = data.get(SESSION_KEY).filter(|_| data.len() == 1)?;
        SessionData::deserialize(value)
            .ok()
            .map(|data| Self(Arc::new(data)))
    }

    /// The record's data again, for tower-sessions (which reads records before it writes them).
    pub fn encode(&self) -> Result<HashMap<String, serde_json::Value>, serde_json::Error> {
        let value = serde_json::to_value(&*self.0)?;
        Ok(HashMap::from([(SESSION_KEY.to_owned(), value)]))
    }
}

/// Where [`AuthSession`] finds a session already decoded, when the store keeps them so ([`Auth`]
/// holds it, from `Sessions::decoded`). It must
/// answer as the store would: a session it has is the one stored, live, under that id.
pub trait DecodedSessions: Send + Sync {
    /// The live session stored under `id`, if this holds it; `None` sends the read to the store.
    fn get(&self, id: &Id) -> Option<DecodedSession>;
}

/// A stored record's [`SessionData`] version (0 for a record without one), for a store that
/// keeps only newer writes.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub fn record_version(data: &std::collections::HashMap<String, serde_json::Value>) -> u64 {
    data.get(SESSION_KEY)
        .and_then(|value| value.get("version"))
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0)
}

/// Who is signed in to a stored session record (`sub`, `sid`), read without the typed wrapper:
/// for a store that indexes sessions so that back-channel logout can find them.
pub fn record_identity(
    data: &std::collections::HashMap<String, serde_json::Value>,
) -> Option<(String, Option<String>)> {
    let user = data.get(SESSION_KEY)?.get("user")?;
    let subject = user.get("subject")?.as_str()?.to_owned();
    let sid = user
        .get("sid")
        .and_then(|sid| sid.as_str())
        .map(str::to_owned);
    Some((subject, sid))
}

/// The signed-in user of a stored session record, if it is this app's and reads as this
/// version's shape.
pub fn record_user(data: &HashMap<String, serde_json::Value>) -> Option<Arc<SignedInUser>> {
    DecodedSession::decode(data).and_then(|DecodedSession(data)| data.user.clone())
}

/// When the user of a stored session record signed in (Unix time), read without the typed
/// wrapper: for a deletion that must spare sessions signed in after an event.
pub fn record_signed_in_at(
    data: &std::collections::HashMap<String, serde_json::Value>,
) -> Option<i64> {
    data.get(SESSION_KEY)?
        .get("user")?
        .get("signed_in_at")?
        .as_i64()
}

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
            lifetimes: auth.0.lifetimes,
            decoded: auth.0.decoded.clone(),
            locks: Some(auth.0.tokens.locks()),
        }
    }

    /// The typed view of the session stored under `id`, outside a request: read afresh from
    /// the store, and holding nothing once dropped (an event stream's checks, which must not
    /// keep a record in memory for as long as the stream is open).
    pub fn stored(id: Id, auth: &Auth) -> Self {
        let store = Arc::new(auth.0.sessions.clone());
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
