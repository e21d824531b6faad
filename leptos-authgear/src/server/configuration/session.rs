//! Session settings: where sessions are stored (`SESSION_STORE`) and how long they live
//! (`SESSION_IDLE_TIMEOUT`, `SESSION_MAX_LIFETIME`).

use super::Problems;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Authgear's refresh tokens last 364 days, and die after 30 days unused (its defaults for a
/// client's refresh tokens). A session must not outlive the refresh token behind it.
const REFRESH_TOKEN_LIFETIME: Duration = Duration::from_secs(364 * 24 * 3600);
const REFRESH_TOKEN_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 24 * 3600);

/// `SESSION_STORE` when unset.
pub(crate) const DEFAULT_STORE: &str = "sqlite://data/sessions.db";
const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
const DEFAULT_MAX_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
/// Sessions the SQLite store keeps decoded in memory (the memory each takes: bench/README.md).
pub(crate) const DEFAULT_CACHE_SIZE: usize = 20_000;

/// Where sessions are stored and how long they live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSettings {
    /// `SESSION_STORE`.
    pub store: StoreUrl,
    /// A session ends after this long without a request.
    pub idle_timeout: Duration,
    /// A session ends this long after login, however active.
    pub max_lifetime: Duration,
    /// `SESSION_CACHE_SIZE`: how many sessions the SQLite store keeps decoded in memory, the
    /// most recently used (default 20,000); reads of the others go to the file. Other stores
    /// keep none.
    pub cache_size: usize,
    /// `RECENT_LOGIN_TO_END_SESSIONS`: ending sessions from the user's list of them
    /// ([`end_session`](crate::end_session), [`end_other_sessions`](crate::end_other_sessions))
    /// needs a login within this long (a step-up, see
    /// [`require_recent_login`](crate::server::require_recent_login)); `None` (the default):
    /// any signed-in session may.
    pub recent_login_to_end_sessions: Option<Duration>,
}

/// Which session store to use.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// In this process only: lost on restart. For tests.
    Memory,
    /// An SQLite database file, created on first start. One instance at a time.
    Sqlite(PathBuf),
    /// A Redis server (`redis://[user:password@]host[:port][/db]`), shared by several instances.
    Redis(String),
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Printable in logs and reports: a Redis password is hidden.
impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Memory => f.write_str("memory"),
            StoreUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            StoreUrl::Redis(url) => match url::Url::parse(url) {
                Ok(mut url) if url.password().is_some() => {
                    let _ = url.set_password(Some("[redacted]"));
                    f.write_str(url.as_str())
                }
                _ => f.write_str(url),
            },
        }
    }
}

impl StoreUrl {
    /// `memory`, `SQLite` or `Redis`, for messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            StoreUrl::Memory => "memory",
            StoreUrl::Sqlite(_) => "SQLite",
            StoreUrl::Redis(_) => "Redis",
        }
    }

    /// The stores this build has, for messages.
    pub(crate) fn compiled_in() -> String {
        let stores: Vec<&str> = [
            (cfg!(feature = "sqlite"), "sqlite://<path>"),
            (cfg!(feature = "redis"), "redis://host:port[/db]"),
            (cfg!(feature = "memory"), "memory"),
        ]
        .into_iter()
        .filter_map(|(on, store)| on.then_some(store))
        .collect();
        if stores.is_empty() {
            "it was built without any of the crate's features `sqlite`, `redis` and `memory`: \
             add one, or give `Auth::with_store` a store"
                .to_owned()
        } else {
            format!(
                "this build has {} (the crate's features `sqlite`, `redis`, `memory`)",
                stores.join(", ")
            )
        }
    }

    /// `memory`, `sqlite://<path>` or `redis://…`; an error says what was expected.
    pub fn parse(value: &str) -> Result<Self, String> {
        const EXPECTED: &str = "expected `sqlite://<path>`, `redis://host:port[/db]` or `memory`";
        if value == "memory" {
            return Ok(StoreUrl::Memory);
        }
        if let Some(path) = value.strip_prefix("sqlite://") {
            // `sqlite://data/sessions.db` is relative to the working directory,
            // `sqlite:///var/lib/app/sessions.db` absolute.
            if path.is_empty() || path.ends_with('/') || path.contains('?') {
                return Err(format!(
                    "`{value}` does not name a database file; {EXPECTED}"
                ));
            }
            return Ok(StoreUrl::Sqlite(PathBuf::from(path)));
        }
        if value.starts_with("redis://") || value.starts_with("rediss://") {
            let url = url::Url::parse(value)
                .map_err(|error| format!("`{value}` is not a valid URL ({error}); {EXPECTED}"))?;
            if url.host_str().is_none_or(str::is_empty) {
                return Err(format!("`{value}` has no host; {EXPECTED}"));
            }
            let db = url.path().trim_start_matches('/');
            if !db.is_empty() && db.parse::<u8>().is_err() {
                return Err(format!("`{db}` is not a Redis database number; {EXPECTED}"));
            }
            return Ok(StoreUrl::Redis(value.to_owned()));
        }
        Err(format!("`{value}` is not a session store; {EXPECTED}"))
    }
}

/// `90s`, `15m`, `24h`, `7d`, `1h 30m` (humantime's syntax), or plain seconds; at least a
/// second.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let expected = || format!("`{value}` is not a duration like 90s, 15m, 24h or 7d");
    let duration = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        Duration::from_secs(
            value
                .parse()
                .map_err(|_| format!("`{value}` is too long"))?,
        )
    } else {
        humantime::parse_duration(value).map_err(|error| match error {
            humantime::DurationError::NumberOverflow => format!("`{value}` is too long"),
            _ => expected(),
        })?
    };
    // Lifetimes are kept in whole seconds.
    if duration < Duration::from_secs(1) {
        return Err(format!("`{value}` must be at least one second"));
    }
    Ok(duration)
}

/// `duration`, unless shorter than a second or longer than `limit` (`what` names it).
pub(super) fn check_duration(
    duration: Duration,
    limit: Duration,
    what: &str,
) -> Result<Duration, String> {
    if duration < Duration::from_secs(1) {
        Err("must be at least one second".to_owned())
    } else if duration > limit {
        Err(format!("must not be longer than {what}"))
    } else {
        Ok(duration)
    }
}

/// The session settings, defaults for what is `None`; every problem goes to `problems`.
pub(super) fn check(
    store: Option<StoreUrl>,
    idle_timeout: Option<Duration>,
    max_lifetime: Option<Duration>,
    cache_size: Option<usize>,
    recent_login_to_end_sessions: Option<Duration>,
    problems: &mut Problems,
) -> Option<SessionSettings> {
    // Without SQLite compiled in, the default is a store that is (an app that uses
    // `Auth::with_store` never opens it; a store that is not compiled in is refused when it
    // is opened).
    let store = match store {
        Some(store) => store,
        None if cfg!(feature = "sqlite") || !cfg!(any(feature = "redis", feature = "memory")) => {
            StoreUrl::parse(DEFAULT_STORE).ok()?
        }
        None if cfg!(feature = "memory") => StoreUrl::Memory,
        None => StoreUrl::parse("redis://127.0.0.1:6379").ok()?,
    };
    let idle_timeout = problems.check(
        "SESSION_IDLE_TIMEOUT",
        check_duration(
            idle_timeout.unwrap_or(DEFAULT_IDLE_TIMEOUT),
            REFRESH_TOKEN_IDLE_TIMEOUT,
            "the refresh token's idle timeout (30d)",
        ),
    );
    let max_lifetime = problems.check(
        "SESSION_MAX_LIFETIME",
        check_duration(
            max_lifetime.unwrap_or(DEFAULT_MAX_LIFETIME),
            REFRESH_TOKEN_LIFETIME,
            "the refresh token's lifetime (364d)",
        )
        .and_then(|max| {
            if idle_timeout.is_some_and(|idle| idle > max) {
                Err("must not be shorter than SESSION_IDLE_TIMEOUT".to_owned())
            } else {
                Ok(max)
            }
        }),
    );
    let cache_size = problems.check(
        "SESSION_CACHE_SIZE",
        match cache_size.unwrap_or(DEFAULT_CACHE_SIZE) {
            0 => Err("must be at least 1".to_owned()),
            size => Ok(size),
        },
    );
    Some(SessionSettings {
        store,
        idle_timeout: idle_timeout?,
        max_lifetime: max_lifetime?,
        cache_size: cache_size?,
        recent_login_to_end_sessions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls() {
        assert_eq!(StoreUrl::parse("memory"), Ok(StoreUrl::Memory));
        assert_eq!(
            StoreUrl::parse(DEFAULT_STORE),
            Ok(StoreUrl::Sqlite("data/sessions.db".into()))
        );
        assert_eq!(
            StoreUrl::parse("sqlite:///var/lib/app/s.db"),
            Ok(StoreUrl::Sqlite("/var/lib/app/s.db".into()))
        );
        assert!(matches!(
            StoreUrl::parse("redis://127.0.0.1:6379/2"),
            Ok(StoreUrl::Redis(_))
        ));
        for bad in [
            "",
            "postgres://db/x",
            "sqlite://",
            "sqlite://data/",
            "redis://",
            "redis://host/abc",
            "redis://host:notaport",
            "mem",
        ] {
            assert!(StoreUrl::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn redis_passwords_are_not_printed() {
        let url = StoreUrl::parse("redis://app:hunter2@cache:6379/0").expect("valid");
        assert!(!url.to_string().contains("hunter2"), "{url}");
        assert!(!format!("{url:?}").contains("hunter2"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse_duration("1w"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5_400)));
        for bad in [
            "",
            "0",
            "0s",
            "1 fortnight",
            "-5s",
            "h",
            "500ms",
            "99999999999999999999d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad} should be rejected");
        }
    }

    fn check_with(idle: &str, max: &str) -> (Option<SessionSettings>, Vec<&'static str>) {
        let mut problems = Problems::default();
        let duration = |value: &str| parse_duration(value).ok();
        let settings = check(
            None,
            duration(idle),
            duration(max),
            None,
            None,
            &mut problems,
        );
        (settings, problems.0.iter().map(|p| p.variable).collect())
    }

    #[test]
    fn defaults_are_sqlite_one_day_idle_one_week_in_all() {
        let mut problems = Problems::default();
        let settings = check(None, None, None, None, None, &mut problems).expect("defaults");
        assert!(problems.0.is_empty());
        assert_eq!(settings.cache_size, 20_000);
        assert_eq!(settings.store, StoreUrl::Sqlite("data/sessions.db".into()));
        assert_eq!(settings.idle_timeout, Duration::from_secs(86_400));
        assert_eq!(settings.max_lifetime, Duration::from_secs(7 * 86_400));
    }

    #[test]
    fn an_empty_cache_is_refused() {
        let mut problems = Problems::default();
        assert!(check(None, None, None, Some(0), None, &mut problems).is_none());
        assert_eq!(problems.0[0].variable, "SESSION_CACHE_SIZE");
        let settings = check(None, None, None, Some(5), None, &mut Problems::default());
        assert_eq!(settings.map(|s| s.cache_size), Some(5));
    }

    #[test]
    fn lifetimes_are_checked_against_each_other_and_the_refresh_token() {
        let (_, problems) = check_with("2h", "1h");
        assert_eq!(problems, ["SESSION_MAX_LIFETIME"]);
        let (_, problems) = check_with("31d", "400d");
        assert_eq!(problems, ["SESSION_IDLE_TIMEOUT", "SESSION_MAX_LIFETIME"]);
    }
}
