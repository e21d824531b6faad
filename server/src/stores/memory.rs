//! `SESSION_STORE=memory`: records in this process, kept encoded (MessagePack, as the SQLite
//! store keeps them): one allocation per session. tower-sessions' own `MemoryStore` keeps each
//! record as a tree of JSON maps, ≈ 4 times the size (bench/README.md), and never drops
//! expired records; this one drops them when read and in [`ExpiredDeletion::delete_expired`].
//!
//! Bounded, it is also the cache in front of SQLite (see [`super::Sessions`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    records: Arc<Mutex<HashMap<Id, Entry>>>,
    /// At most this many records: beyond it, storing one drops another (as a cache in front
    /// of a store that keeps them all). `None` for the store itself.
    capacity: Option<usize>,
}

#[derive(Debug)]
struct Entry {
    record: Box<[u8]>,
    expiry_date: OffsetDateTime,
}

impl Entry {
    fn encode(record: &Record) -> session_store::Result<Self> {
        let bytes = rmp_serde::to_vec(record)
            .map_err(|error| session_store::Error::Encode(error.to_string()))?;
        Ok(Self {
            record: bytes.into_boxed_slice(),
            expiry_date: record.expiry_date,
        })
    }

    fn decode(&self) -> session_store::Result<Record> {
        rmp_serde::from_slice(&self.record)
            .map_err(|error| session_store::Error::Decode(error.to_string()))
    }
}

impl MemoryStore {
    /// A cache of at most `capacity` records, which drops an arbitrary one when full.
    pub fn bounded(capacity: usize) -> Self {
        Self {
            records: Arc::default(),
            capacity: Some(capacity),
        }
    }

    fn records(&self) -> MutexGuard<'_, HashMap<Id, Entry>> {
        // A panic while holding the lock cannot leave the map half-written (every change is
        // one insert or remove), so a poisoned lock is still good.
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn insert(&self, records: &mut HashMap<Id, Entry>, id: Id, entry: Entry) {
        if let Some(capacity) = self.capacity {
            if records.len() >= capacity && !records.contains_key(&id) {
                if let Some(victim) = records.keys().next().copied() {
                    records.remove(&victim);
                }
            }
        }
        records.insert(id, entry);
    }
}

#[async_trait::async_trait]
impl SessionStore for MemoryStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let mut records = self.records();
        while records.contains_key(&record.id) {
            record.id = Id::default();
        }
        let entry = Entry::encode(record)?;
        self.insert(&mut records, record.id, entry);
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let entry = Entry::encode(record)?;
        self.insert(&mut self.records(), record.id, entry);
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let mut records = self.records();
        match records.get(id) {
            Some(entry) if entry.expiry_date > OffsetDateTime::now_utc() => {
                entry.decode().map(Some)
            }
            Some(_) => {
                records.remove(id);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.records().remove(id);
        Ok(())
    }
}

#[async_trait::async_trait]
impl ExpiredDeletion for MemoryStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        let now = OffsetDateTime::now_utc();
        self.records().retain(|_, entry| entry.expiry_date > now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_sessions::cookie::time::Duration;

    fn record(expires_in: Duration) -> Record {
        let mut data = HashMap::new();
        data.insert(
            "auth".to_owned(),
            serde_json::json!({"user": {"sub": "s1"}}),
        );
        Record {
            id: Id::default(),
            data,
            expiry_date: OffsetDateTime::now_utc() + expires_in,
        }
    }

    #[tokio::test]
    async fn records_round_trip_and_expire() {
        let store = MemoryStore::default();
        let mut live = record(Duration::hours(1));
        let mut expired = record(Duration::seconds(-1));
        store.create(&mut live).await.unwrap();
        store.create(&mut expired).await.unwrap();
        assert_eq!(store.load(&live.id).await.unwrap(), Some(live.clone()));
        assert_eq!(store.load(&expired.id).await.unwrap(), None);

        let mut other = record(Duration::seconds(-1));
        store.create(&mut other).await.unwrap();
        store.delete_expired().await.unwrap();
        assert_eq!(store.records().len(), 1);
        store.delete(&live.id).await.unwrap();
        assert_eq!(store.load(&live.id).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_bounded_store_keeps_at_most_its_capacity() {
        let cache = MemoryStore::bounded(2);
        let mut records = [(); 3].map(|_| record(Duration::hours(1)));
        for record in &mut records {
            cache.create(record).await.unwrap();
        }
        assert_eq!(cache.records().len(), 2);
        // Saving one it holds again drops nothing.
        let kept = cache.records().keys().next().copied().unwrap();
        let again = records.iter().find(|r| r.id == kept).unwrap();
        cache.save(again).await.unwrap();
        assert_eq!(cache.records().len(), 2);
        assert!(cache.load(&kept).await.unwrap().is_some());
    }
}
