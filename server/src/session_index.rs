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
