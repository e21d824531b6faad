//! A session store wrapper that knows which sessions belong to which user (`sub`) and provider
//! session (`sid`), so that a back-channel logout can delete every matching session.

use app::session::record_identity;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Result, SessionStore};

#[derive(Debug, Clone)]
pub struct IndexedStore<S> {
    inner: S,
    index: Arc<Mutex<Index>>,
}

#[derive(Debug, Default)]
struct Index {
    sessions: HashMap<String, HashSet<Id>>,
    keys_of: HashMap<Id, Vec<String>>,
}

impl Index {
    fn set(&mut self, id: Id, keys: Vec<String>) {
        self.remove(&id);
        for key in &keys {
            self.sessions.entry(key.clone()).or_default().insert(id);
        }
        if !keys.is_empty() {
            self.keys_of.insert(id, keys);
        }
    }

    fn remove(&mut self, id: &Id) {
        for key in self.keys_of.remove(id).unwrap_or_default() {
            if let Some(ids) = self.sessions.get_mut(&key) {
                ids.remove(id);
                if ids.is_empty() {
                    self.sessions.remove(&key);
                }
            }
        }
    }

    fn matching(&self, key: &str) -> HashSet<Id> {
        self.sessions.get(key).cloned().unwrap_or_default()
    }
}

fn keys(record: &Record) -> Vec<String> {
    match record_identity(&record.data) {
        Some((sub, sid)) => std::iter::once(format!("sub:{sub}"))
            .chain(sid.map(|sid| format!("sid:{sid}")))
            .collect(),
        None => Vec::new(),
    }
}

impl<S: SessionStore> IndexedStore<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            index: Arc::default(),
        }
    }

    fn index(&self) -> MutexGuard<'_, Index> {
        self.index
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Deletes the sessions a logout token names (OIDC Back-Channel Logout §2.7): those of
    /// provider session `sid` when given (and of `sub`, when both are), else all of `sub`.
    /// Returns how many were deleted.
    pub async fn delete_matching(&self, sub: Option<&str>, sid: Option<&str>) -> Result<usize> {
        let ids: Vec<Id> = {
            let index = self.index();
            let by_sid = sid.map(|sid| index.matching(&format!("sid:{sid}")));
            let by_sub = sub.map(|sub| index.matching(&format!("sub:{sub}")));
            match (by_sid, by_sub) {
                (Some(by_sid), Some(by_sub)) => by_sid.intersection(&by_sub).copied().collect(),
                (Some(ids), None) | (None, Some(ids)) => ids.into_iter().collect(),
                (None, None) => Vec::new(),
            }
        };
        for id in &ids {
            self.delete(id).await?;
        }
        Ok(ids.len())
    }
}

#[async_trait::async_trait]
impl<S: SessionStore> SessionStore for IndexedStore<S> {
    async fn create(&self, record: &mut Record) -> Result<()> {
        self.inner.create(record).await?;
        self.index().set(record.id, keys(record));
        Ok(())
    }

    async fn save(&self, record: &Record) -> Result<()> {
        self.inner.save(record).await?;
        self.index().set(record.id, keys(record));
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        self.inner.load(id).await
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.inner.delete(id).await?;
        self.index().remove(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_sessions::cookie::time::{Duration, OffsetDateTime};
    use tower_sessions::MemoryStore;

    async fn session_of(store: &IndexedStore<MemoryStore>, sub: &str, sid: Option<&str>) -> Id {
        let user = serde_json::json!({ "user": { "subject": sub, "sid": sid } });
        let mut record = Record {
            id: Id::default(),
            data: HashMap::from([("auth".to_owned(), user)]),
            expiry_date: OffsetDateTime::now_utc() + Duration::hours(1),
        };
        store.create(&mut record).await.expect("create");
        record.id
    }

    async fn exists(store: &IndexedStore<MemoryStore>, id: Id) -> bool {
        store.load(&id).await.expect("load").is_some()
    }

    #[tokio::test]
    async fn sid_deletes_that_provider_session_only() {
        let store = IndexedStore::new(MemoryStore::default());
        let phone = session_of(&store, "ada", Some("s1")).await;
        let laptop = session_of(&store, "ada", Some("s2")).await;
        assert_eq!(
            store
                .delete_matching(Some("ada"), Some("s1"))
                .await
                .expect("delete"),
            1
        );
        assert!(!exists(&store, phone).await);
        assert!(exists(&store, laptop).await);
    }

    #[tokio::test]
    async fn sub_alone_deletes_every_session_of_that_user() {
        let store = IndexedStore::new(MemoryStore::default());
        let first = session_of(&store, "ada", Some("s1")).await;
        let second = session_of(&store, "ada", None).await;
        let other = session_of(&store, "grace", Some("s3")).await;
        assert_eq!(
            store
                .delete_matching(Some("ada"), None)
                .await
                .expect("delete"),
            2
        );
        assert!(!exists(&store, first).await && !exists(&store, second).await);
        assert!(exists(&store, other).await);
        // A sid that belongs to someone else than the named sub deletes nothing.
        assert_eq!(
            store
                .delete_matching(Some("ada"), Some("s3"))
                .await
                .expect("delete"),
            0
        );
        assert!(exists(&store, other).await);
    }

    #[tokio::test]
    async fn deleted_and_signed_out_sessions_leave_the_index() {
        let store = IndexedStore::new(MemoryStore::default());
        let id = session_of(&store, "ada", Some("s1")).await;
        store.delete(&id).await.expect("delete");
        let guest = Record {
            id,
            data: HashMap::new(),
            expiry_date: OffsetDateTime::now_utc() + Duration::hours(1),
        };
        store.save(&guest).await.expect("save");
        assert_eq!(
            store
                .delete_matching(Some("ada"), None)
                .await
                .expect("delete"),
            0
        );
        assert!(store.index().sessions.is_empty());
    }
}
