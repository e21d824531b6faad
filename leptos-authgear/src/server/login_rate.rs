//! How often one client may start a login (`LOGIN_RATE_LIMIT`): beyond it `/login` answers 429
//! with `Retry-After`. A login attempt costs the server no storage (see `login_attempt`), but
//! each one costs an authorization URL, a cookie and the provider's time; a client that starts
//! hundreds a minute is not a person.
//!
//! A client is its IP address (an IPv6 client its /64), from axum's `ConnectInfo` (serve the app with
//! `into_make_service_with_connect_info::<SocketAddr>()`); without it there is no per-client
//! limit. Behind a reverse proxy every client has the proxy's address: limit there instead, and
//! set `LOGIN_RATE_LIMIT=off`.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::fmt;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

/// At most `burst` logins per `period` for one client, replenished evenly over the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginRateLimit {
    /// How many logins a client may start at once.
    pub burst: NonZeroU32,
    /// The time in which `burst` logins are replenished.
    pub period: Duration,
}

/// The default: 20 a minute, far more than a person clicks "Login".
pub(crate) const DEFAULT_LOGIN_RATE_LIMIT: &str = "20/1m";

/// The limiter forgets clients it has not seen for a while once it tracks this many; if they
/// are all recent (many addresses at once), a new one waits.
const MAX_TRACKED_CLIENTS: usize = 100_000;

impl LoginRateLimit {
    /// `<count>/<duration>` (e.g. `20/1m`, `5/30s`), or `off` (`None`).
    pub fn parse(value: &str) -> Result<Option<Self>, String> {
        if value.trim().eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let usage = "expected <count>/<duration>, e.g. 20/1m, or off";
        let (count, period) = value.split_once('/').ok_or_else(|| usage.to_owned())?;
        let burst = count
            .trim()
            .parse::<NonZeroU32>()
            .map_err(|_| format!("`{count}` is not a positive count: {usage}"))?;
        let period = humantime::parse_duration(period.trim())
            .map_err(|error| format!("`{period}`: {error}: {usage}"))?;
        if period.is_zero() || period > Duration::from_secs(86_400) {
            return Err(format!("the period must be between 1s and 1d: {usage}"));
        }
        Ok(Some(Self { burst, period }))
    }
}

impl fmt::Display for LoginRateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}",
            self.burst,
            humantime::format_duration(self.period)
        )
    }
}

/// The limiter [`LoginRateLimit`] configures.
pub(crate) struct LoginRate {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

impl LoginRate {
    pub(crate) fn new(limit: LoginRateLimit) -> Self {
        let replenish = limit.period / limit.burst.get();
        let quota = Quota::with_period(replenish.max(Duration::from_nanos(1)))
            .expect("a non-zero period")
            .allow_burst(limit.burst);
        Self {
            limiter: DefaultKeyedRateLimiter::keyed(quota),
        }
    }

    /// `Ok` when `client` may start a login now, else how long until it may.
    pub(crate) fn check(&self, client: IpAddr) -> Result<(), Duration> {
        if self.limiter.len() >= MAX_TRACKED_CLIENTS {
            self.limiter.retain_recent();
            if self.limiter.len() >= MAX_TRACKED_CLIENTS {
                return Err(Duration::from_secs(1));
            }
        }
        self.limiter
            .check_key(&client_key(client))
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// The client a limit counts: an IPv4 address (an IPv4-mapped IPv6 one too), or an IPv6 /64,
/// the prefix one subscriber is given (RFC 6177): per /128 one host could take 2^64 budgets.
fn client_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_and_bad_ones_say_how() {
        assert_eq!(LoginRateLimit::parse("off"), Ok(None));
        let limit = LoginRateLimit::parse("20/1m").expect("valid").expect("on");
        assert_eq!(
            (limit.burst.get(), limit.period),
            (20, Duration::from_secs(60))
        );
        assert_eq!(limit.to_string(), "20/1m");
        for bad in [
            "20", "0/1m", "-1/1m", "x/1m", "20/", "20/0s", "20/2d", "20/soon",
        ] {
            let error = LoginRateLimit::parse(bad).expect_err(bad);
            assert!(error.contains("e.g. 20/1m"), "{bad}: {error}");
        }
    }

    #[test]
    fn an_ipv6_client_is_its_64_and_a_mapped_ipv4_one_its_address() {
        let rate = LoginRate::new(LoginRateLimit::parse("2/1m").expect("valid").expect("on"));
        let address = |text: &str| text.parse::<IpAddr>().expect("an address");
        assert_eq!(rate.check(address("2001:db8:1:2::1")), Ok(()));
        assert_eq!(rate.check(address("2001:db8:1:2:ffff::9")), Ok(()));
        assert!(
            rate.check(address("2001:db8:1:2:abcd::")).is_err(),
            "the same /64: one client"
        );
        assert_eq!(
            rate.check(address("2001:db8:1:3::1")),
            Ok(()),
            "another /64"
        );
        assert_eq!(rate.check(address("192.0.2.7")), Ok(()));
        assert_eq!(rate.check(address("::ffff:192.0.2.7")), Ok(()));
        assert!(
            rate.check(address("192.0.2.7")).is_err(),
            "IPv4-mapped: the same client"
        );
    }

    #[test]
    fn a_client_beyond_its_burst_waits_and_others_do_not() {
        let rate = LoginRate::new(LoginRateLimit::parse("3/1m").expect("valid").expect("on"));
        let (one, two): (IpAddr, IpAddr) =
            ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        for _ in 0..3 {
            assert_eq!(rate.check(one), Ok(()));
        }
        let wait = rate.check(one).expect_err("the fourth is refused");
        assert!(
            wait > Duration::from_secs(15) && wait <= Duration::from_secs(20),
            "one login every 20 s: {wait:?}"
        );
        assert_eq!(rate.check(two), Ok(()));
    }
}
