//! The cache in front of SQLite (see [`super::Sessions`]): the records this process last wrote
//! or read, kept decoded ([`DecodedSession`]), so that a request reads its session without
//! decoding anything. Records that are not this app's shape are not kept; they are read from
//! SQLite each time.
//!
//! The cache follows the order of the commits, so that it never brings back a deleted session
//! nor an older record: only the SQLite writer changes it for a write, after its transaction
//! commits and before the write is answered, in the order of its transaction (`apply_write`,
//! `apply_delete`); each change takes the next number of a sequence, and a deletion leaves a
//! marker with its number. A read that missed takes a [`Ticket`] (the sequence's number) before
//! it reads SQLite and installs what it read only if nothing happened to that id since
//! (`install_read`): a deletion or a write committed while it read wins. Markers and evicted
//! entries are forgotten in bounded numbers; a read older than anything forgotten installs
//! nothing (its next read goes to SQLite again, which is the truth).

use crate::server::session::{DecodedSession, DecodedSessions};
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};

/// Deletion markers kept: a read that started before the oldest forgotten one installs nothing.
const MARKERS: usize = 65_536;

#[derive(Debug)]
pub struct SessionCache {
    inner: Mutex<Inner>,
    /// Storing one beyond this drops another.
    capacity: usize,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<Id, Entry>,
    /// Ids deleted (or written in a shape the cache does not keep), with the change's number.
    markers: HashMap<Id, u64>,
    marker_order: VecDeque<(Id, u64)>,
    /// The number of the last change.
    sequence: u64,
    /// The highest number of a change the cache no longer remembers (an evicted entry, a
    /// dropped marker): a read that started before it cannot tell whether it is stale.
    forgotten: u64,
}

/// Where the sequence stood when a read of SQLite began.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

struct Entry {
    session: DecodedSession,
    expiry_date: OffsetDateTime,
    /// When this process wrote the record (rather than read it): the digest of what it wrote.
    written: Option<u64>,
    /// The number of the change that stored it.
    sequence: u64,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("expiry_date", &self.expiry_date)
            .finish_non_exhaustive()
    }
}

impl SessionCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::default(),
            capacity,
        }
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        // Every change is made whole under the lock before anything can panic, so a poisoned
        // lock still holds a consistent cache.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Before reading SQLite for a record the cache does not hold.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.inner().sequence)
    }

    /// Keeps `record`, read from SQLite after `ticket` was taken, unless its id was written or
    /// deleted since (or the cache cannot tell). One this app did not write is not kept.
    pub fn install_read(&self, record: &Record, ticket: Ticket) {
        let Some(session) = DecodedSession::decode(&record.data) else {
            return;
        };
        let mut inner = self.inner();
        let changed_since = inner.forgotten > ticket.0
            || inner
                .markers
                .get(&record.id)
                .is_some_and(|&at| at > ticket.0)
            || inner
                .entries
                .get(&record.id)
                .is_some_and(|entry| entry.sequence > ticket.0);
        if changed_since {
            return;
        }
        let entry = Entry {
            session,
            expiry_date: record.expiry_date,
            written: None,
            sequence: ticket.0,
        };
        inner.insert(record.id, entry, self.capacity);
    }

    /// Whether the last write of session `id` was this process's, of a record with `digest`,
    /// and nothing has replaced or deleted it since: writing it again would change nothing.
    pub fn holds_written(&self, id: &Id, digest: u64) -> bool {
        self.inner()
            .entries
            .get(id)
            .is_some_and(|entry| entry.written == Some(digest))
    }

    /// The SQLite writer's: `record` was committed (its encoding had `digest`); `session` is
    /// the record decoded (`None`: not this app's shape).
    pub fn apply_write(&self, record: &Record, session: Option<DecodedSession>, digest: u64) {
        let mut inner = self.inner();
        inner.sequence += 1;
        let sequence = inner.sequence;
        match session {
            Some(session) => {
                let entry = Entry {
                    session,
                    expiry_date: record.expiry_date,
                    written: Some(digest),
                    sequence,
                };
                inner.insert(record.id, entry, self.capacity);
            }
            // Not kept; older reads must not install an older shape either.
            None => inner.mark(record.id, sequence),
        }
    }

    /// The SQLite writer's: the deletion of session `id` was committed.
    pub fn apply_delete(&self, id: &Id) {
        let mut inner = self.inner();
        inner.sequence += 1;
        let sequence = inner.sequence;
        inner.mark(*id, sequence);
    }

    /// The record stored under `id`, encoded again for tower-sessions (which reads a record
    /// before it changes it): `None` if this does not hold it live, and the store answers.
    pub fn load(&self, id: &Id) -> Option<Record> {
        let (session, expiry_date) = self.live(id)?;
        match session.encode() {
            Ok(data) => Some(Record {
                id: *id,
                data,
                expiry_date,
            }),
            Err(error) => {
                tracing::warn!(%error, "a cached session did not encode; reading the store");
                None
            }
        }
    }

    pub fn delete_expired(&self) {
        let now = OffsetDateTime::now_utc();
        let mut inner = self.inner();
        let mut forgotten = inner.forgotten;
        inner.entries.retain(|_, entry| {
            let live = entry.expiry_date > now;
            if !live {
                forgotten = forgotten.max(entry.sequence);
            }
            live
        });
        inner.forgotten = forgotten;
    }

    fn live(&self, id: &Id) -> Option<(DecodedSession, OffsetDateTime)> {
        let inner = self.inner();
        let entry = inner.entries.get(id)?;
        (entry.expiry_date > OffsetDateTime::now_utc())
            .then(|| (entry.session.clone(), entry.expiry_date))
    }

    /// Forgets everything (a test's way to make the next read miss).
    #[cfg(test)]
    pub fn clear(&self) {
        let mut inner = self.inner();
        inner.forgotten = inner.sequence;
        inner.entries.clear();
    }
}

impl Inner {
    fn insert(&mut self, id: Id, entry: Entry, capacity: usize) {
        if self.entries.len() >= capacity && !self.entries.contains_key(&id) {
            // An arbitrary one, at no cost: its next read goes to SQLite. (Expired entries go
            // every minute, in `delete_expired`.)
            if let Some(victim) = self.entries.keys().next().copied() {
                if let Some(evicted) = self.entries.remove(&victim) {
                    self.forgotten = self.forgotten.max(evicted.sequence);
                }
            }
        }
        self.markers.remove(&id);
        self.entries.insert(id, entry);
    }

    fn mark(&mut self, id: Id, sequence: u64) {
        self.entries.remove(&id);
        self.markers.insert(id, sequence);
        self.marker_order.push_back((id, sequence));
        while self.marker_order.len() > MARKERS {
            let Some((old, at)) = self.marker_order.pop_front() else {
                break;
            };
            // Only if it is still that marker (the id may have been marked again since).
            if self.markers.get(&old) == Some(&at) {
                self.markers.remove(&old);
            }
            self.forgotten = self.forgotten.max(at);
        }
    }
}

impl DecodedSessions for SessionCache {
    fn get(&self, id: &Id) -> Option<DecodedSession> {
        self.live(id).map(|(session, _)| session)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use tower_sessions::cookie::time::Duration;

    fn record(auth: serde_json::Value, expires_in: Duration) -> Record {
        Record {
            id: Id::default(),
            data: HashMap::from([("auth".to_owned(), auth)]),
            expiry_date: OffsetDateTime::now_utc() + expires_in,
        }
    }

    /// Session data as this app writes it, for `sub` signed in with provider session `sid`.
    pub(in crate::server::stores) fn signed_in_as(
        sub: &str,
        sid: Option<&str>,
    ) -> serde_json::Value {
        let user = crate::server::session::SignedInUser::test_user(sub, sid, serde_json::json!({}));
        serde_json::json!({ "user": user })
    }

    fn signed_in() -> serde_json::Value {
        signed_in_as("s1", None)
    }

    #[test]
    fn records_come_back_as_they_were_stored_until_they_expire() {
        let cache = SessionCache::new(10);
        let live = record(signed_in(), Duration::hours(1));
        let expired = record(signed_in(), Duration::seconds(-1));
        cache.apply_write(&live, DecodedSession::decode(&live.data), 1);
        cache.install_read(&expired, cache.ticket());
        let loaded = cache.load(&live.id).expect("held");
        assert_eq!(loaded.data["auth"]["user"]["subject"], "s1");
        assert_eq!(loaded.expiry_date, live.expiry_date);
        assert!(cache.get(&live.id).is_some());
        assert!(cache.load(&expired.id).is_none());
        assert!(cache.get(&expired.id).is_none());
        cache.delete_expired();
        assert_eq!(cache.inner().entries.len(), 1);
        cache.apply_delete(&live.id);
        assert!(cache.get(&live.id).is_none());
    }

    #[test]
    fn a_record_of_another_shape_is_left_to_the_store() {
        let cache = SessionCache::new(10);
        let mut record = record(signed_in(), Duration::hours(1));
        cache.apply_write(&record, DecodedSession::decode(&record.data), 1);
        // The same id written again with data this app cannot read: the old entry goes too.
        record.data.insert("other".to_owned(), serde_json::json!(1));
        cache.apply_write(&record, DecodedSession::decode(&record.data), 2);
        assert!(cache.get(&record.id).is_none());
        let unreadable = self::record(serde_json::json!({"user": 3}), Duration::hours(1));
        cache.install_read(&unreadable, cache.ticket());
        assert!(cache.get(&unreadable.id).is_none());
    }

    #[test]
    fn it_keeps_at_most_its_capacity() {
        let cache = SessionCache::new(2);
        let records = [(); 3].map(|_| record(signed_in(), Duration::hours(1)));
        for record in &records {
            cache.apply_write(record, DecodedSession::decode(&record.data), 1);
        }
        assert_eq!(cache.inner().entries.len(), 2);
        assert!(cache.get(&records[2].id).is_some(), "the latest is kept");
        // Storing one it holds again drops nothing.
        cache.apply_write(&records[2], DecodedSession::decode(&records[2].data), 2);
        assert_eq!(cache.inner().entries.len(), 2);
    }

    #[test]
    fn a_read_that_began_before_a_deletion_or_a_write_installs_nothing() {
        let cache = SessionCache::new(10);
        let record = record(signed_in(), Duration::hours(1));
        // Deleted while the read was in SQLite: the session must not come back.
        let ticket = cache.ticket();
        cache.apply_delete(&record.id);
        cache.install_read(&record, ticket);
        assert!(cache.get(&record.id).is_none());
        // Written anew while an older copy was read: the newer stays.
        let other = self::record(signed_in(), Duration::hours(1));
        let ticket = cache.ticket();
        let mut newer = other.clone();
        newer.expiry_date += Duration::hours(1);
        cache.apply_write(&newer, DecodedSession::decode(&newer.data), 7);
        cache.install_read(&other, ticket);
        assert_eq!(
            cache.load(&other.id).expect("held").expiry_date,
            newer.expiry_date
        );
        // A read that began after both is installed.
        let third = self::record(signed_in(), Duration::hours(1));
        cache.install_read(&third, cache.ticket());
        assert!(cache.get(&third.id).is_some());
    }

    #[test]
    fn a_read_older_than_what_was_forgotten_installs_nothing() {
        let cache = SessionCache::new(1);
        let (first, second) = (
            record(signed_in(), Duration::hours(1)),
            record(signed_in(), Duration::hours(1)),
        );
        let ticket = cache.ticket();
        cache.apply_write(&first, DecodedSession::decode(&first.data), 1);
        // Evicts `first`: the cache no longer knows what happened to it after `ticket`.
        cache.apply_write(&second, DecodedSession::decode(&second.data), 2);
        cache.install_read(&first, ticket);
        assert!(cache.get(&first.id).is_none());
        // Markers too, beyond their number.
        let cache = SessionCache::new(10);
        let ticket = cache.ticket();
        for _ in 0..=MARKERS {
            cache.apply_delete(&Id::default());
        }
        assert!(cache.inner().markers.len() <= MARKERS);
        cache.install_read(&first, ticket);
        assert!(cache.get(&first.id).is_none());
    }
}
