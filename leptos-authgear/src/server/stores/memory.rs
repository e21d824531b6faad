//! `SESSION_STORE=memory`: records in this process, kept encoded (MessagePack, as the SQLite
//! store keeps them) and compressed (raw DEFLATE): one small allocation per signed-in session
//! (sizes in bench/README.md). tower-sessions' own `MemoryStore` keeps each record as a tree of
//! JSON maps, several times the size, and never drops expired records; this one drops them
//! when read and in [`ExpiredDeletion::delete_expired`].
//!
//! Each entry also carries hashes of who is signed in to it, so that back-channel logout finds
//! a user's sessions by one pass over the entries, with no index beside them (an index of
//! strings cost more memory per session than the rest of the entry's overhead).

use crate::server::session::{record_identity, record_version};
use miniz_oxide::deflate::core::{
    compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush, TDEFLStatus,
};
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tower_sessions::cookie::time::{Duration, OffsetDateTime};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, Error, ExpiredDeletion, SessionStore};

/// A record larger than this after inflating is not one this store wrote.
const MAX_RECORD_BYTES: usize = 1 << 20;

#[derive(Debug, Clone)]
pub struct MemoryStore {
    records: Arc<Mutex<HashMap<Id, Entry>>>,
    deflater: Arc<Deflater>,
    /// Hashes owners for [`Entry::owner`], with keys random to this process.
    hasher: RandomState,
}

/// A deleted session's id stays as a tombstone (an entry with no record) at least this long, so
/// that a request that read the session before the deletion cannot write it back.
const TOMBSTONE_MIN_SECS: i64 = 3600;

#[derive(Debug)]
struct Entry {
    /// The record, MessagePack, compressed; empty for a tombstone.
    record: Box<[u8]>,
    expiry_date: OffsetDateTime,
    /// Hashes of the signed-in user's `sub` and `sid`; `None` for a guest.
    owner: Option<(u64, Option<u64>)>,
    /// The record's version (`record_version`): an older one does not replace it.
    version: u64,
}

/// Raw DEFLATE with one compressor for the whole store: its tables are allocated once, not on
/// every write (which left megabytes behind in the allocator after a few hundred logins).
struct Deflater(Mutex<Box<CompressorOxide>>);

impl Deflater {
    fn new() -> Self {
        let flags = create_comp_flags_from_zip_params(6, 0, 0);
        Self(Mutex::new(Box::new(CompressorOxide::new(flags))))
    }

    fn deflate(&self, mut input: &[u8]) -> session_store::Result<Vec<u8>> {
        let mut compressor = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        compressor.reset();
        let mut output = vec![0; input.len() / 2 + 64];
        let mut written = 0;
        loop {
            let (status, read, wrote) = compress(
                &mut compressor,
                input,
                &mut output[written..],
                TDEFLFlush::Finish,
            );
            written += wrote;
            match status {
                TDEFLStatus::Done => {
                    output.truncate(written);
                    return Ok(output);
                }
                TDEFLStatus::Okay => {
                    input = input.get(read..).unwrap_or_default();
                    if output.len() - written < 64 {
                        output.resize(output.len() * 2, 0);
                    }
                }
                status => return Err(Error::Encode(format!("compression failed: {status:?}"))),
            }
        }
    }
}

impl fmt::Debug for Deflater {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Deflater")
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self {
            records: Arc::default(),
            deflater: Arc::new(Deflater::new()),
            hasher: RandomState::new(),
        }
    }

    fn records(&self) -> MutexGuard<'_, HashMap<Id, Entry>> {
        // A panic while holding the lock cannot leave the map half-written (every change is
        // one insert or remove), so a poisoned lock is still good.
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn encode(&self, record: &Record) -> session_store::Result<Entry> {
        let bytes = rmp_serde::to_vec(record).map_err(|error| Error::Encode(error.to_string()))?;
        let bytes = self.deflater.deflate(&bytes)?;
        let hash = |value: String| self.hasher.hash_one(value);
        let owner = record_identity(&record.data).map(|(sub, sid)| (hash(sub), sid.map(hash)));
        Ok(Entry {
            // A copy of exactly this size: `into_boxed_slice` would shrink the buffer in place,
            // and the allocator keeps a block that shrinks by less than half at its old size
            // (for a record, 2,048 bytes instead of 1,280).
            record: Box::from(&bytes[..]),
            expiry_date: record.expiry_date,
            owner,
            version: record_version(&record.data),
        })
    }

    fn decode(&self, record: &[u8]) -> session_store::Result<Record> {
        let bytes = miniz_oxide::inflate::decompress_to_vec_with_limit(record, MAX_RECORD_BYTES)
            .map_err(|error| Error::Decode(error.to_string()))?;
        rmp_serde::from_slice(&bytes).map_err(|error| Error::Decode(error.to_string()))
    }

    /// Writes `record` unless its session was deleted (a tombstone stands in its place) or the
    /// store holds a newer version: `false` then, and nothing written.
    pub fn save_unless_superseded(&self, record: &Record) -> session_store::Result<bool> {
        let entry = self.encode(record)?;
        let mut records = self.records();
        let stale = records.get(&record.id).is_some_and(|old| {
            old.record.is_empty() || (entry.version != 0 && entry.version < old.version)
        });
        if stale {
            return Ok(false);
        }
        records.insert(record.id, entry);
        Ok(true)
    }

    /// The live sessions a back-channel logout for `sub` and/or `sid` ends (see
    /// [`names`]): entries whose hashes match, confirmed on their decoded records.
    pub fn owned_by(&self, sub: Option<&str>, sid: Option<&str>) -> Vec<Id> {
        let hash = |value: Option<&str>| value.map(|value| self.hasher.hash_one(value));
        let (sub_hash, sid_hash) = (hash(sub), hash(sid));
        let now = OffsetDateTime::now_utc();
        self.records()
            .iter()
            .filter(|(_, entry)| entry.expiry_date > now)
            .filter(|(_, entry)| {
                entry.owner.is_some_and(|(owner_sub, owner_sid)| {
                    names(sub_hash, sid_hash, owner_sub, owner_sid)
                })
            })
            .filter(|(_, entry)| {
                let record = self.decode(&entry.record).ok();
                let identity = record
                    .as_ref()
                    .and_then(|record| record_identity(&record.data));
                identity.is_some_and(|(owner_sub, owner_sid)| {
                    names(sub, sid, owner_sub.as_str(), owner_sid.as_deref())
                })
            })
            .map(|(id, _)| *id)
            .collect()
    }
}

#[async_trait::async_trait]
impl SessionStore for MemoryStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let mut records = self.records();
        while records.contains_key(&record.id) {
            record.id = Id::default();
        }
        let entry = self.encode(record)?;
        records.insert(record.id, entry);
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.save_unless_superseded(record).map(|_| ())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        // Copied out and decoded outside the lock: decoding under it made every other worker
        // thread's read wait (bench/README.md). An `Arc`
        // would save the copy but add 16 bytes to every record kept.
        let record = {
            let mut records = self.records();
            match records.get(id) {
                Some(entry) if entry.record.is_empty() => return Ok(None),
                Some(entry) if entry.expiry_date > OffsetDateTime::now_utc() => {
                    entry.record.clone()
                }
                Some(_) => {
                    records.remove(id);
                    return Ok(None);
                }
                None => return Ok(None),
            }
        };
        self.decode(&record).map(Some)
    }

    /// Leaves a tombstone: see [`MemoryStore::save_unless_superseded`].
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let mut records = self.records();
        let at_least = OffsetDateTime::now_utc() + Duration::seconds(TOMBSTONE_MIN_SECS);
        let expiry_date = records
            .get(id)
            .map_or(at_least, |entry| entry.expiry_date.max(at_least));
        records.insert(
            *id,
            Entry {
                record: Box::default(),
                expiry_date,
                owner: None,
                version: u64::MAX,
            },
        );
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

/// Whether a back-channel logout naming `sub` and/or `sid` ends a session of `owner_sub`,
/// signed in under provider session `owner_sid` (OIDC Back-Channel Logout §2.7): that provider
/// session when `sid` is given (and only if `sub`, when also given, matches), else every session
/// of `sub`. Generic, so that the memory store can compare hashes before strings.
fn names<T: PartialEq>(sub: Option<T>, sid: Option<T>, owner_sub: T, owner_sid: Option<T>) -> bool {
    match (sub, sid) {
        (sub, Some(sid)) => owner_sid == Some(sid) && sub.is_none_or(|sub| sub == owner_sub),
        (Some(sub), None) => sub == owner_sub,
        (None, None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(expires_in: Duration) -> Record {
        let mut data = HashMap::new();
        data.insert(
            "auth".to_owned(),
            serde_json::json!({"user": {"subject": "s1"}}),
        );
        Record {
            id: Id::default(),
            data,
            expiry_date: OffsetDateTime::now_utc() + expires_in,
        }
    }

    #[tokio::test]
    async fn records_round_trip_and_expire() {
        let store = MemoryStore::new();
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
        // Its tombstone: a write of the record read before the deletion is dropped.
        store.save(&live).await.unwrap();
        assert_eq!(store.load(&live.id).await.unwrap(), None);
    }

    #[tokio::test]
    async fn the_store_keeps_records_compressed_with_their_owners() {
        let mut record = record(Duration::hours(1));
        let claims = serde_json::json!({"claims": "a long repeated claim ".repeat(40)});
        record.data.insert("more".to_owned(), claims);
        let plain = rmp_serde::to_vec(&record).unwrap().len();
        let store = MemoryStore::new();
        store.save(&record).await.unwrap();
        assert_eq!(store.load(&record.id).await.unwrap(), Some(record.clone()));
        let kept = store.records()[&record.id].record.len();
        assert!(kept < plain / 2, "{kept} of {plain}");
        assert!(store.records()[&record.id].owner.is_some());
        assert_eq!(store.owned_by(Some("s1"), None), vec![record.id]);
        assert_eq!(store.owned_by(Some("s2"), None), Vec::<Id>::new());

        // What does not compress (tokens are random) grows the output buffer and still comes back.
        let noise: String = (0..5000u32)
            .map(|i| char::from(b'!' + (i.wrapping_mul(2_654_435_761) >> 13) as u8 % 90))
            .collect();
        record
            .data
            .insert("more".to_owned(), serde_json::json!(noise));
        store.save(&record).await.unwrap();
        assert_eq!(store.load(&record.id).await.unwrap(), Some(record.clone()));
    }
}
