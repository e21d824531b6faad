//! The open `GET /session/events` streams, by session: which to wake when a session's deletion
//! is announced, and how many are open, in all and per session
//! ([`ServerLimits`](super::ServerLimits)).
//!
//! An announcement wakes exactly the streams of its session ([`EventStreams::announce`], fed
//! by one task per process from the store's announcements: `Auth::start`), so a logout costs
//! the same whatever the number of open pages; before, every stream heard every deletion and
//! each looked at the id itself.
//!
//! Each stream holds a connection and some memory for as long as a page is open, so neither
//! one cookie nor a crowd can open them without bound. Beyond the total a new stream is refused
//! (503); beyond a session's share the session's oldest stream is closed — a browser opens one,
//! so an older one is most likely a connection its browser has already given up.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tower_sessions::session::Id;

/// The open streams.
#[derive(Debug)]
pub(crate) struct EventStreams {
    total: Arc<Semaphore>,
    per_session: usize,
    /// Each session's open streams, oldest first.
    open: Mutex<HashMap<Id, VecDeque<Closer>>>,
    next: std::sync::atomic::AtomicU64,
}

/// An open stream's number, and its signals.
type Closer = (u64, Arc<Signals>);

/// What a stream waits for besides its own timers.
#[derive(Debug, Default)]
struct Signals {
    /// A newer stream of the session took this one's place.
    close: Notify,
    /// The session's deletion was announced: read the store.
    check: Notify,
}

/// One open stream: counted until dropped. [`OpenStream::closed`] completes when a newer
/// stream of the same session took its place.
pub(crate) struct OpenStream {
    streams: Arc<EventStreams>,
    id: Id,
    number: u64,
    signals: Arc<Signals>,
    _permit: OwnedSemaphorePermit,
}

impl EventStreams {
    pub(crate) fn new(total: usize, per_session: usize) -> Arc<Self> {
        Arc::new(Self {
            total: Arc::new(Semaphore::new(total)),
            per_session,
            open: Mutex::default(),
            next: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Counts a new stream of session `id`, closing the session's oldest beyond its share;
    /// `None` when the total is reached.
    pub(crate) fn open(self: &Arc<Self>, id: Id) -> Option<OpenStream> {
        let permit = self.total.clone().try_acquire_owned().ok()?;
        let number = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let signals = Arc::new(Signals::default());
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let streams = open.entry(id).or_default();
        while streams.len() >= self.per_session {
            if let Some((_, oldest)) = streams.pop_front() {
                // A permit the stream takes when it next waits, even if it is not waiting now.
                oldest.close.notify_one();
            }
        }
        streams.push_back((number, signals.clone()));
        Some(OpenStream {
            streams: self.clone(),
            id,
            number,
            signals,
            _permit: permit,
        })
    }

    /// Session `id` was deleted (here or, with Redis, on another instance): its streams read
    /// the store; no other stream wakes.
    pub(crate) fn announce(&self, id: &Id) {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        for (_, signals) in open.get(id).into_iter().flatten() {
            signals.check.notify_one();
        }
    }

    /// Announcements were lost (the store's channel overflowed): every stream reads the store.
    pub(crate) fn announce_to_all(&self) {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        for (_, signals) in open.values().flatten() {
            signals.check.notify_one();
        }
    }

    #[cfg(test)]
    fn count(&self) -> usize {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.values().map(VecDeque::len).sum()
    }
}

impl OpenStream {
    /// Completes when a newer stream of the session has replaced this one.
    pub(crate) async fn closed(&self) {
        self.signals.close.notified().await;
    }

    /// Completes when the session's deletion has been announced (since the stream opened, or
    /// since this last completed).
    pub(crate) async fn announced(&self) {
        self.signals.check.notified().await;
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        let mut open = self
            .streams
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(streams) = open.get_mut(&self.id) {
            streams.retain(|(number, _)| *number != self.number);
            if streams.is_empty() {
                open.remove(&self.id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    async fn is_closed(stream: &OpenStream) -> bool {
        tokio::time::timeout(Duration::from_millis(20), stream.closed())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn a_session_beyond_its_share_loses_its_oldest_stream() {
        let streams = EventStreams::new(10, 2);
        let (one, other) = (Id::default(), Id::default());
        let first = streams.open(one).expect("room");
        let second = streams.open(one).expect("room");
        let elsewhere = streams.open(other).expect("room");
        assert!(!is_closed(&first).await);
        let third = streams.open(one).expect("room");
        assert!(is_closed(&first).await, "the oldest is closed");
        assert!(!is_closed(&second).await && !is_closed(&third).await);
        assert!(!is_closed(&elsewhere).await, "another session's stays");
        drop(first);
        assert_eq!(streams.count(), 3);
        drop((second, third, elsewhere));
        assert_eq!(streams.count(), 0);
        assert!(streams.open.lock().expect("lock").is_empty());
    }

    async fn heard(stream: &OpenStream) -> bool {
        tokio::time::timeout(Duration::from_millis(20), stream.announced())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn an_announcement_wakes_its_sessions_streams_only() {
        let streams = EventStreams::new(10, 5);
        let (ended, other) = (Id::default(), Id::default());
        let first = streams.open(ended).expect("room");
        let second = streams.open(ended).expect("room");
        let bystander = streams.open(other).expect("room");
        // Announced before the streams wait: they still hear it.
        streams.announce(&ended);
        assert!(heard(&first).await && heard(&second).await);
        assert!(!heard(&bystander).await, "another session's stream woke");
        assert!(!heard(&first).await, "once per announcement");
        streams.announce_to_all();
        assert!(heard(&bystander).await);
    }

    #[tokio::test]
    async fn beyond_the_total_a_new_stream_is_refused_until_one_closes() {
        let streams = EventStreams::new(2, 5);
        let a = streams.open(Id::default()).expect("room");
        let _b = streams.open(Id::default()).expect("room");
        assert!(streams.open(Id::default()).is_none());
        drop(a);
        assert!(streams.open(Id::default()).is_some());
    }
}
