//! How many `GET /session/events` streams are open, in all and per session
//! ([`ServerLimits`](super::ServerLimits)): each holds a connection and some memory for as
//! long as a page is open, so neither one cookie nor a crowd can open them without bound.
//! Beyond the total a new stream is refused (503); beyond a session's share the session's
//! oldest stream is closed — a browser opens one, so an older one is most likely a connection
//! its browser has already given up.

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

/// An open stream's number, and what closes it.
type Closer = (u64, Arc<Notify>);

/// One open stream: counted until dropped. [`OpenStream::closed`] completes when a newer
/// stream of the same session took its place.
pub(crate) struct OpenStream {
    streams: Arc<EventStreams>,
    id: Id,
    number: u64,
    close: Arc<Notify>,
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
        let close = Arc::new(Notify::new());
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let streams = open.entry(id).or_default();
        while streams.len() >= self.per_session {
            if let Some((_, oldest)) = streams.pop_front() {
                // A permit the stream takes when it next waits, even if it is not waiting now.
                oldest.notify_one();
            }
        }
        streams.push_back((number, close.clone()));
        Some(OpenStream {
            streams: self.clone(),
            id,
            number,
            close,
            _permit: permit,
        })
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
        self.close.notified().await;
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
