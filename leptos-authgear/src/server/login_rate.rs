//! How often one client may start a login (`LOGIN_RATE_LIMIT`): beyond it `/login` answers 429
//! with `Retry-After`. A login attempt costs the server no storage (see `login_attempt`), but
//! each one costs an authorization URL, a cookie and the provider's time; a client that starts
//! hundreds a minute is not a person.
//!
//! A client is its IP address (an IPv6 client its /64), as [`TrustedProxies`] names it: the
//! connection's peer, or behind a trusted proxy the address it forwards. The app's server must
//! give the login route its peer (axum's `ConnectInfo`: [`serve`](super::serve) does); without
//! it there is no per-client limit, which the server says once, loudly.
//!
//! The limiter is GCRA (one instant per client), in a table of bounded size whose cost per call
//! does not grow with the clients it tracks: two generations of a hash map, the older dropped
//! whole when the newer fills (a client seen in neither starts afresh). A flood of new
//! addresses therefore makes the limiter forget the clients it has not seen longest; it never
//! refuses a newcomer for lack of room.
//!
//! [`TrustedProxies`]: super::client_address::TrustedProxies

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

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

/// Clients per generation of the table: at most twice this many are tracked (about 40 bytes
/// each).
const GENERATION: usize = 100_000;

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
pub struct LoginRate {
    /// Nanoseconds between two logins at the steady rate.
    interval: u64,
    /// How far ahead of now a client's next free slot may be and a login still pass.
    tolerance: u64,
    start: Instant,
    table: Mutex<Table>,
}

/// Each client's theoretical arrival time (GCRA), in nanoseconds since `start`.
#[derive(Default)]
struct Table {
    newer: HashMap<IpAddr, u64>,
    older: HashMap<IpAddr, u64>,
    capacity: usize,
}

impl LoginRate {
    /// A limiter of `limit`, tracking at most twice 100,000 clients.
    pub fn new(limit: LoginRateLimit) -> Self {
        Self::with_capacity(limit, GENERATION)
    }

    fn with_capacity(limit: LoginRateLimit, capacity: usize) -> Self {
        let period = u64::try_from(limit.period.as_nanos()).unwrap_or(u64::MAX);
        let interval = (period / u64::from(limit.burst.get())).max(1);
        Self {
            interval,
            tolerance: interval * (u64::from(limit.burst.get()) - 1),
            start: Instant::now(),
            table: Mutex::new(Table {
                capacity,
                ..Table::default()
            }),
        }
    }

    /// `Ok` when `client` may start a login now, else how long until it may.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        let now = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let key = client_key(client);
        // One entry changes per call: a poisoned lock still holds a good table.
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        let arrival = table.get(&key).map_or(now, |tat| tat.max(now));
        if arrival - now > self.tolerance {
            return Err(Duration::from_nanos(arrival - now - self.tolerance));
        }
        table.insert(key, arrival + self.interval);
        Ok(())
    }

    /// How many clients the table holds now.
    #[cfg(test)]
    fn tracked(&self) -> usize {
        let table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        table.newer.len() + table.older.len()
    }
}

impl Table {
    fn get(&self, key: &IpAddr) -> Option<u64> {
        self.newer.get(key).or_else(|| self.older.get(key)).copied()
    }

    fn insert(&mut self, key: IpAddr, tat: u64) {
        if self.newer.len() >= self.capacity && !self.newer.contains_key(&key) {
            // The older generation goes whole: one deallocation, whatever its size (its
            // entries need no drop), so no call pays for a scan.
            self.older = std::mem::take(&mut self.newer);
            self.newer.reserve(self.capacity);
        }
        self.older.remove(&key);
        self.newer.insert(key, tat);
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

    #[test]
    fn a_full_table_forgets_the_clients_seen_longest_ago_and_refuses_no_newcomer() {
        let limit = LoginRateLimit::parse("1/1h").expect("valid").expect("on");
        let rate = LoginRate::with_capacity(limit, 100);
        let client = |n: u32| IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + n));
        assert_eq!(rate.check(client(0)), Ok(()));
        assert!(rate.check(client(0)).is_err(), "limited while remembered");
        for n in 1..=1_000 {
            assert_eq!(rate.check(client(n)), Ok(()), "newcomer {n}");
            assert!(rate.tracked() <= 200, "bounded: {}", rate.tracked());
        }
        // Seen recently: still limited. Seen a thousand clients ago: forgotten.
        assert!(rate.check(client(1_000)).is_err());
        assert_eq!(rate.check(client(0)), Ok(()));
    }
}
