//! Session settings: where sessions are stored (`SESSION_STORE`) and how long they live
//! (`SESSION_IDLE_TIMEOUT`, `SESSION_MAX_LIFETIME`).

use super::Problems;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Authgear's refresh tokens last 364 days, and die after 30 days unused (its defaults, see
/// `shared/reference/authgear.md`). A session must not outlive the refresh token behind it.
const REFRESH_TOKEN_LIFETIME: Duration = Duration::from_secs(364 * 24 * 3600);
const REFRESH_TOKEN_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 24 * 3600);

/// `SESSION_STORE` when unset.
pub const DEFAULT_STORE: &str = "sqlite://data/sessions.db";
const DEFAULT_IDLE_TIMEOUT: &str = "24h";
const DEFAULT_MAX_LIFETIME: &str = "7d";

/// Where sessions are stored and how long they live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSettings {
    /// `SESSION_STORE`.
    pub store: StoreUrl,
    /// A session ends after this long without a request.
    pub idle_timeout: Duration,
    /// A session ends this long after login, however active.
    pub max_lifetime: Duration,
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

/// [`parse_duration`], refused when longer than `limit` (`what` names it in the message).
pub fn parse_duration_at_most(
    value: &str,
    limit: Duration,
    what: &str,
) -> Result<Duration, String> {
    parse_duration(value).and_then(|duration| {
        if duration > limit {
            Err(format!("must not be longer than {what}"))
        } else {
            Ok(duration)
        }
    })
}

/// Reads the three variables; every problem goes to `problems`.
pub(super) fn parse(
    get: impl Fn(&str) -> Option<String>,
    problems: &mut Problems,
) -> Option<SessionSettings> {
    let value = |name: &str, default: &str| get(name).unwrap_or_else(|| default.to_owned());
    let store = problems.check(
        "SESSION_STORE",
        StoreUrl::parse(&value("SESSION_STORE", DEFAULT_STORE)),
    );
    let idle_timeout = problems.check(
        "SESSION_IDLE_TIMEOUT",
        parse_duration_at_most(
            &value("SESSION_IDLE_TIMEOUT", DEFAULT_IDLE_TIMEOUT),
            REFRESH_TOKEN_IDLE_TIMEOUT,
            "the refresh token's idle timeout (30d)",
        ),
    );
    let max_lifetime = problems.check(
        "SESSION_MAX_LIFETIME",
        parse_duration_at_most(
            &value("SESSION_MAX_LIFETIME", DEFAULT_MAX_LIFETIME),
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
    Some(SessionSettings {
        store: store?,
        idle_timeout: idle_timeout?,
        max_lifetime: max_lifetime?,
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

    fn parse_with(pairs: &[(&str, &str)]) -> (Option<SessionSettings>, Vec<&'static str>) {
        let mut problems = Problems::default();
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        };
        let settings = parse(get, &mut problems);
        (settings, problems.0.iter().map(|p| p.variable).collect())
    }

    #[test]
    fn defaults_are_sqlite_one_day_idle_one_week_in_all() {
        let (settings, problems) = parse_with(&[]);
        assert!(problems.is_empty());
        let settings = settings.expect("defaults");
        assert_eq!(settings.store, StoreUrl::Sqlite("data/sessions.db".into()));
        assert_eq!(settings.idle_timeout, Duration::from_secs(86_400));
        assert_eq!(settings.max_lifetime, Duration::from_secs(7 * 86_400));
    }

    #[test]
    fn lifetimes_are_checked_against_each_other_and_the_refresh_token() {
        let (_, problems) = parse_with(&[
            ("SESSION_IDLE_TIMEOUT", "2h"),
            ("SESSION_MAX_LIFETIME", "1h"),
        ]);
        assert_eq!(problems, ["SESSION_MAX_LIFETIME"]);
        let (_, problems) = parse_with(&[
            ("SESSION_IDLE_TIMEOUT", "31d"),
            ("SESSION_MAX_LIFETIME", "400d"),
        ]);
        assert_eq!(problems, ["SESSION_IDLE_TIMEOUT", "SESSION_MAX_LIFETIME"]);
        let (_, problems) = parse_with(&[("SESSION_STORE", "mysql://x")]);
        assert_eq!(problems, ["SESSION_STORE"]);
    }
}
