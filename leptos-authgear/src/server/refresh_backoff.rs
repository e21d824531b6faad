//! After a refresh fails for a temporary reason (the provider down, a 5xx, a 429), the
//! session's next refresh waits a while instead of running again on its very next request:
//! 2 s, then twice as long after each further failure, at most a minute. A success forgets it.
//! Kept in this process (with Redis, each instance backs off on its own).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const FIRST_WAIT: Duration = Duration::from_secs(2);
const LONGEST_WAIT: Duration = Duration::from_secs(60);
/// Sessions tracked at most; beyond that, expired entries are dropped, and if none has expired
/// a further failure is not tracked (that session retries at once, as before).
const MAX_TRACKED: usize = 100_000;

#[derive(Default)]
pub(crate) struct RefreshBackoff {
    sessions: Mutex<HashMap<String, Waiting>>,
}

struct Waiting {
    until: Instant,
    failures: u32,
}

impl RefreshBackoff {
    /// How long the session `id` must still wait before its next refresh, if at all.
    pub(crate) fn remaining(&self, id: &str, now: Instant) -> Option<Duration> {
        let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions
            .get(id)
            .and_then(|waiting| waiting.until.checked_duration_since(now))
            .filter(|left| !left.is_zero())
    }

    /// A refresh of session `id` failed for a temporary reason at `now`.
    pub(crate) fn failed(&self, id: &str, now: Instant) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        if sessions.len() >= MAX_TRACKED && !sessions.contains_key(id) {
            sessions.retain(|_, waiting| waiting.until > now);
            if sessions.len() >= MAX_TRACKED {
                return;
            }
        }
        let failures = sessions.get(id).map_or(0, |waiting| waiting.failures) + 1;
        let wait = FIRST_WAIT
            .saturating_mul(1 << (failures - 1).min(10))
            .min(LONGEST_WAIT);
        sessions.insert(
            id.to_owned(),
            Waiting {
                until: now + wait,
                failures,
            },
        );
    }

    /// Session `id` refreshed (or ended): no more waiting.
    pub(crate) fn forget(&self, id: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_doubles_the_wait_up_to_a_minute_and_success_forgets() {
        let backoff = RefreshBackoff::default();
        let start = Instant::now();
        assert_eq!(backoff.remaining("s", start), None);
        let mut expected = [2, 4, 8, 16, 32, 60, 60].into_iter();
        for _ in 0..7 {
            backoff.failed("s", start);
            let wait = backoff.remaining("s", start).expect("waiting");
            assert_eq!(wait, Duration::from_secs(expected.next().expect("a wait")));
        }
        assert_eq!(backoff.remaining("other", start), None);
        assert_eq!(
            backoff.remaining("s", start + Duration::from_secs(61)),
            None
        );
        backoff.forget("s");
        backoff.failed("s", start);
        assert_eq!(backoff.remaining("s", start), Some(FIRST_WAIT));
    }
}
