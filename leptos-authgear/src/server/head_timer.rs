//! The timer [`serve`](super::serve) gives hyper for its header-read timeout: coarse, and cheap
//! per request. hyper starts a deadline each time it begins to read a request's head (for a
//! kept-alive connection, while it waits for the next request) and drops it once the head is
//! read. With `hyper_util`'s `TokioTimer` each of those is a tokio timer entered into and removed
//! from the runtime's timer wheel: about 1,800 instructions of every request, 5 % of a guest
//! page (docs/decisions/0011-serve-with-hyper.md). Here a deadline is two atomic stores in a
//! slot of its connection, and one task looks over every connection's slot a few times a
//! second, waking those past their deadline: the connection is closed up to
//! [`SWEEP`] after the deadline rather than at it.

use futures::task::AtomicWaker;
use hyper::rt::{Sleep, Timer};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// How often the deadlines are looked at.
const SWEEP: Duration = Duration::from_millis(100);
/// A slot's deadline when there is none.
const NONE: u64 = u64::MAX;

/// Every connection's slot, and the task that wakes those past their deadline.
pub(crate) struct HeadTimers {
    start: Instant,
    slots: Arc<Mutex<Vec<Weak<Slot>>>>,
}

/// One connection's deadline: nanoseconds since `start`, and the task to wake.
struct Slot {
    deadline: AtomicU64,
    waker: AtomicWaker,
}

/// The timer of one connection.
#[derive(Clone)]
pub(crate) struct ConnectionTimer {
    start: Instant,
    slot: Arc<Slot>,
}

/// A deadline hyper polls while it waits for a head.
struct HeadDeadline {
    slot: Arc<Slot>,
    deadline: Instant,
}

impl HeadTimers {
    /// Starts the sweeping task, which ends with the last `HeadTimers` and its connections.
    pub(crate) fn start() -> Self {
        let start = Instant::now();
        let slots: Arc<Mutex<Vec<Weak<Slot>>>> = Arc::default();
        let watched = Arc::downgrade(&slots);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(SWEEP);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let Some(slots) = watched.upgrade() else {
                    return;
                };
                sweep(&slots, nanos_since(start, Instant::now()));
            }
        });
        Self { start, slots }
    }

    /// The timer for a new connection.
    pub(crate) fn for_connection(&self) -> ConnectionTimer {
        let slot = Arc::new(Slot {
            deadline: AtomicU64::new(NONE),
            waker: AtomicWaker::new(),
        });
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::downgrade(&slot));
        ConnectionTimer {
            start: self.start,
            slot,
        }
    }
}

/// Wakes every connection past its deadline; forgets the closed ones.
fn sweep(slots: &Mutex<Vec<Weak<Slot>>>, now: u64) {
    let mut slots = slots.lock().unwrap_or_else(PoisonError::into_inner);
    slots.retain(|slot| {
        let Some(slot) = slot.upgrade() else {
            return false;
        };
        if slot.deadline.load(Ordering::Acquire) <= now {
            slot.waker.wake();
        }
        true
    });
}

fn nanos_since(start: Instant, at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(start).as_nanos()).unwrap_or(NONE - 1)
}

impl Timer for ConnectionTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        self.sleep_until(Instant::now() + duration)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        self.slot
            .deadline
            .store(nanos_since(self.start, deadline), Ordering::Release);
        Box::pin(HeadDeadline {
            slot: self.slot.clone(),
            deadline,
        })
    }
}

impl Future for HeadDeadline {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        self.slot.waker.register(cx.waker());
        Poll::Pending
    }
}

impl Sleep for HeadDeadline {}

impl Drop for HeadDeadline {
    fn drop(&mut self) {
        self.slot.deadline.store(NONE, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_deadline_wakes_its_connection_soon_after_it_and_not_before() {
        let timers = HeadTimers::start();
        let timer = timers.for_connection();
        let started = Instant::now();
        timer.sleep(Duration::from_millis(150)).await;
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(150), "{waited:?}");
        assert!(
            waited < Duration::from_millis(150) + SWEEP * 5,
            "{waited:?}"
        );
    }

    #[tokio::test]
    async fn a_dropped_deadline_wakes_nothing_and_closed_connections_are_forgotten() {
        let timers = HeadTimers::start();
        let timer = timers.for_connection();
        drop(timer.sleep(Duration::from_millis(1)));
        assert_eq!(timer.slot.deadline.load(Ordering::Acquire), NONE);
        drop(timer);
        sweep(&timers.slots, u64::MAX - 1);
        assert!(timers.slots.lock().expect("lock").is_empty());
    }
}
