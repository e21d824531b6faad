//! The cache in front of SQLite (see [`super::Sessions`]): the records this process last wrote
//! or read, kept decoded ([`DecodedSession`]), so that a request reads its session without
//! decoding anything. Records that are not this app's shape are not kept; they are read from
//! SQLite each time.

use crate::server::session::{DecodedSession, DecodedSessions};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};

#[derive(Debug)]
pub struct SessionCache {
    entries: Mutex<HashMap<Id, Entry>>,
    /// Storing one beyond this drops another.
    capacity: usize,
}

struct Entry {
    session: DecodedSession,
    expiry_date: OffsetDateTime,
    /// When this process wrote the record (rather than read it): the digest of what it wrote.
    written: Option<u64>,
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
            entries: Mutex::default(),
            capacity,
        }
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<Id, Entry>> {
        // Every change is one insert or remove, so a panic while holding the lock cannot leave
        // the map half-written: a poisoned lock is still good.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps `record`, as read from the store, as the one stored under its id; one this app did
    /// not write is dropped, so that the store answers for it.
    pub fn save(&self, record: &Record) {
        self.save_with(record, None);
    }

    /// Whether the last write of session `id` was this process's, of a record with `digest`,
    /// and nothing has replaced or deleted it since: writing it again would change nothing.
    pub fn holds_written(&self, id: &Id, digest: u64) -> bool {
        self.entries()
            .get(id)
            .is_some_and(|entry| entry.written == Some(digest))
    }

    /// Keeps `record` as the one stored under its id; `written`: when this process wrote it,
    /// the [`digest`](super::sqlite_writes::Encoded::digest) of what it wrote.
    pub fn save_with(&self, record: &Record, written: Option<u64>) {
        let Some(session) = DecodedSession::decode(&record.data) else {
            self.delete(&record.id);
            return;
        };
        let entry = Entry {
            session,
            expiry_date: record.expiry_date,
            written,
        };
        let mut entries = self.entries();
        if entries.len() >= self.capacity && !entries.contains_key(&record.id) {
            // An arbitrary one, at no cost: its next read goes to SQLite. (Expired entries go
            // every minute, in `delete_expired`.)
            if let Some(victim) = entries.keys().next().copied() {
                entries.remove(&victim);
            }
        }
        entries.insert(record.id, entry);
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
                self.delete(id);
                None
            }
        }
    }

    pub fn delete(&self, id: &Id) {
        self.entries().remove(id);
    }

    pub fn delete_expired(&self) {
        let now = OffsetDateTime::now_utc();
        self.entries().retain(|_, entry| entry.expiry_date > now);
    }

    fn live(&self, id: &Id) -> Option<(DecodedSession, OffsetDateTime)> {
        let entries = self.entries();
        let entry = entries.get(id)?;
        (entry.expiry_date > OffsetDateTime::now_utc())
            .then(|| (entry.session.clone(), entry.expiry_date))
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
        cache.save(&live);
        cache.save(&expired);
        let loaded = cache.load(&live.id).expect("held");
        assert_eq!(loaded.data["auth"]["user"]["subject"], "s1");
        assert_eq!(loaded.expiry_date, live.expiry_date);
        assert!(cache.get(&live.id).is_some());
        assert!(cache.load(&expired.id).is_none());
        assert!(cache.get(&expired.id).is_none());
        cache.delete_expired();
        assert_eq!(cache.entries().len(), 1);
        cache.delete(&live.id);
        assert!(cache.get(&live.id).is_none());
    }

    #[test]
    fn a_record_of_another_shape_is_left_to_the_store() {
        let cache = SessionCache::new(10);
        let mut record = record(signed_in(), Duration::hours(1));
        cache.save(&record);
        // The same id written again with data this app cannot read: the old entry goes too.
        record.data.insert("other".to_owned(), serde_json::json!(1));
        cache.save(&record);
        assert!(cache.get(&record.id).is_none());
        let unreadable = self::record(serde_json::json!({"user": 3}), Duration::hours(1));
        cache.save(&unreadable);
        assert!(cache.get(&unreadable.id).is_none());
    }

    #[test]
    fn it_keeps_at_most_its_capacity() {
        let cache = SessionCache::new(2);
        let records = [(); 3].map(|_| record(signed_in(), Duration::hours(1)));
        for record in &records {
            cache.save(record);
        }
        assert_eq!(cache.entries().len(), 2);
        assert!(cache.get(&records[2].id).is_some(), "the latest is kept");
        // Saving one it holds again drops nothing.
        cache.save(&records[2]);
        assert_eq!(cache.entries().len(), 2);
    }
}
