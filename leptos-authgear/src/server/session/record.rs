//! What a session record holds — a signed-in user's claims and token set (`SignedInUser`,
//! `TokenSet`), a login attempt (`LoginTransaction`) — and how it is written to and read from
//! the store without a typed session at hand (the stores' indexes and cache).

use super::*;

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
    pub(super) fn touch_interval(&self) -> i64 {
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
    pub(super) version: u64,
    /// Shared, so that reading it from a decoded session copies no tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) user: Option<Arc<SignedInUser>>,
    /// Set when the session ended without the user asking (refresh token revoked or expired,
    /// back-channel logout), so that the next page can say so once.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(super) ended_elsewhere: bool,
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
pub struct DecodedSession(pub(super) Arc<SessionData>);

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
