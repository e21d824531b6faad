//! `SESSION_STORE=memory`: records in this process, kept encoded (MessagePack, as the SQLite
//! store keeps them): one allocation per session. tower-sessions' own `MemoryStore` keeps each
//! record as a tree of JSON maps, ≈ 4 times the size (bench/README.md), and never drops
//! expired records; this one drops them when read and in [`ExpiredDeletion::delete_expired`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

#[derive(Debug, Clone, Default)]
pub struct MemoryStore(Arc<Mutex<HashMap<Id, Entry>>>);

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
    fn records(&self) -> MutexGuard<'_, HashMap<Id, Entry>> {
        // A panic while holding the lock cannot leave the map half-written (every change is
        // one insert or remove), so a poisoned lock is still good.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl SessionStore for MemoryStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let mut records = self.records();
        while records.contains_key(&record.id) {
            record.id = Id::default();
        }
        records.insert(record.id, Entry::encode(record)?);
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.records().insert(record.id, Entry::encode(record)?);
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
}
