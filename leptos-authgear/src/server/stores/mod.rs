//! The session store the settings name: SQLite (the embedded default), Redis (several
//! instances), memory (tests), each behind its feature, or any `tower_sessions::SessionStore`
//! an app brings ([`Auth::with_store`](crate::server::Auth::with_store)). One type,
//! [`Sessions`], so that the rest of the crate does not care which.
//!
//! SQLite is for one server process: it takes a lock on the file at start-up, and so can keep
//! the records it reads and writes in a cache in this process too (reading SQLite through
//! sqlx's worker thread was most of a signed-in page view's cost, bench/README.md). Several
//! instances share Redis, which has no such cache.
//!
//! Besides the records, each store keeps an index of who is signed in to which session
//! (`owners`), for back-channel logout, and Redis also the refresh locks (`refresh_lock`), so
//! that both work across restarts and across instances.

#[cfg(feature = "sqlite")]
mod cache;
mod custom;
#[cfg(feature = "memory")]
mod memory;
mod owners;
#[cfg(all(test, feature = "sqlite", feature = "redis", feature = "memory"))]
mod race_tests;
#[cfg(feature = "redis")]
mod redis;
pub(crate) mod refresh_lock;
mod session_ends;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "sqlite")]
mod sqlite_expiry;
#[cfg(feature = "sqlite")]
mod sqlite_writer;
#[cfg(feature = "sqlite")]
mod sqlite_writes;
#[cfg(all(test, feature = "redis"))]
mod test_redis;
#[cfg(all(test, feature = "sqlite", feature = "redis", feature = "memory"))]
mod tests;
#[cfg(all(test, feature = "sqlite", feature = "redis", feature = "memory"))]
mod tests_lifecycle;
#[cfg(test)]
mod tests_support;

use crate::server::configuration::{SessionSettings, StoreUrl};
use crate::server::session::{record_identity, record_signed_in_at, DecodedSessions};
#[cfg(feature = "sqlite")]
use cache::SessionCache;
pub use custom::CustomStore;
#[cfg(feature = "memory")]
use memory::MemoryStore;
use owners::Owners;
#[cfg(feature = "redis")]
pub(crate) use redis::RedisPool;
pub(crate) use session_ends::SessionEnds;
#[cfg(feature = "sqlite")]
use sqlite_writer::SqliteWriter;
use std::sync::Arc;
use std::time::Duration;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

#[cfg(any(feature = "sqlite", feature = "redis"))]
/// A store that does not answer within this time counts as failed (a 503, not a hung page).
const STORE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
enum Backend {
    #[cfg(feature = "memory")]
    Memory(MemoryStore),
    /// The store (it reads), its pool (the expiry sweep, `sqlite_expiry`), and the one writer
    /// that creates, saves and deletes, in batches (`sqlite_writer`).
    #[cfg(feature = "sqlite")]
    Sqlite(
        tower_sessions_sqlx_store::SqliteStore,
        sqlx::SqlitePool,
        SqliteWriter,
    ),
    /// The store (it reads, creates and deletes), and its pool for this module's writes.
    #[cfg(feature = "redis")]
    Redis(tower_sessions_redis_store::RedisStore<RedisPool>, RedisPool),
    /// An app's own store.
    Custom(CustomStore),
}

/// The app's session store: records plus the index of their owners.
#[derive(Debug, Clone)]
pub struct Sessions {
    backend: Backend,
    owners: Owners,
    /// Deletions announced to the pages that show them (and, with Redis, to other instances).
    ends: SessionEnds,
    /// Records as last read or written here, decoded, in front of a backend no other process
    /// writes.
    #[cfg(feature = "sqlite")]
    cache: Option<Arc<SessionCache>>,
    /// Held while the store is open: the exclusive lock that makes `cache` safe.
    #[cfg(feature = "sqlite")]
    _lock: Option<Arc<std::fs::File>>,
    /// Where a test holds a request between its steps.
    #[cfg(test)]
    pauses: tests_support::Pauses,
}

#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
enum Access {
    /// The server's: SQLite is locked to this process and cached.
    Exclusive,
    /// A check that the store opens, beside a server that may be running.
    Check,
}

impl Sessions {
    /// Opens (and for SQLite creates and locks) the store; an error says what failed, for
    /// start-up.
    pub async fn connect(settings: &SessionSettings) -> Result<Self, String> {
        Self::open(settings, Access::Exclusive).await
    }

    /// Whether the store opens, for `--check-config`: as [`Sessions::connect`], but without
    /// taking SQLite's lock, since the server may be running on the same file.
    pub async fn check(settings: &SessionSettings) -> Result<(), String> {
        Self::open(settings, Access::Check).await.map(|_| ())
    }

    async fn open(settings: &SessionSettings, access: Access) -> Result<Self, String> {
        // Only SQLite and Redis open differently for a check.
        let _ = access;
        match &settings.store {
            #[cfg(feature = "memory")]
            StoreUrl::Memory => {
                let store = MemoryStore::new();
                Ok(Self::without_cache(
                    Backend::Memory(store.clone()),
                    Owners::memory(store),
                    SessionEnds::local(),
                ))
            }
            #[cfg(feature = "sqlite")]
            StoreUrl::Sqlite(path) => sqlite::open(path, settings, access).await,
            #[cfg(feature = "redis")]
            StoreUrl::Redis(url) => redis::open(url, settings.max_lifetime, access).await,
            #[allow(unreachable_patterns)]
            store => Err(format!(
                "this build has no {} store; {}",
                store.kind(),
                StoreUrl::compiled_in()
            )),
        }
    }

    /// An app's own store (see [`CustomStore`]).
    pub fn custom(store: CustomStore) -> Self {
        Self::without_cache(
            Backend::Custom(store),
            Owners::local(),
            SessionEnds::local(),
        )
    }

    fn without_cache(backend: Backend, owners: Owners, ends: SessionEnds) -> Self {
        Self {
            backend,
            owners,
            ends,
            #[cfg(feature = "sqlite")]
            cache: None,
            #[cfg(feature = "sqlite")]
            _lock: None,
            #[cfg(test)]
            pauses: Default::default(),
        }
    }

    /// The Redis connection, when sessions are in Redis: refresh locks are kept there too.
    #[cfg(feature = "redis")]
    pub fn redis(&self) -> Option<RedisPool> {
        match &self.backend {
            Backend::Redis(_, pool) => Some(pool.clone()),
            _ => None,
        }
    }

    /// Whether the store answers (for `/readyz`); with SQLite, whether its writer runs.
    pub async fn ping(&self) -> Result<(), String> {
        #[cfg(feature = "sqlite")]
        if let Backend::Sqlite(_, _, writer) = &self.backend {
            if !writer.is_up() {
                return Err("the SQLite writer is starting again after a failure".to_owned());
            }
        }
        self.load(&Id::default())
            .await
            .map(|_| ())
            .map_err(|error| error.to_string())
    }

    /// Deletes expired records every `period` (SQLite and memory; Redis expires keys by
    /// itself). A failed round is logged and the next one tried.
    pub fn spawn_expired_deletion(&self, period: Duration) {
        #[cfg(feature = "redis")]
        if matches!(self.backend, Backend::Redis(..)) {
            return;
        }
        let sessions = self.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(period);
            loop {
                interval.tick().await;
                if let Err(error) = sessions.delete_expired().await {
                    tracing::warn!(%error, "deleting expired sessions failed");
                }
            }
        });
    }

    /// Sessions held decoded, for `AuthSession` to read without decoding a
    /// record: the SQLite store's cache. (Redis has none: other instances write it too.)
    pub fn decoded(&self) -> Option<Arc<dyn DecodedSessions>> {
        #[cfg(feature = "sqlite")]
        return self
            .cache
            .clone()
            .map(|cache| cache as Arc<dyn DecodedSessions>);
        #[cfg(not(feature = "sqlite"))]
        None
    }

    /// Deletions from now on, in this process and (with Redis) in every instance: for a page
    /// that shows when its session ends.
    pub fn ends(&self) -> &SessionEnds {
        &self.ends
    }

    /// The live sessions `sub` is signed in to, with their records (the user's list of their
    /// sessions). Each record is checked to be `sub`'s own, not only the index's word for it.
    pub async fn of_subject(&self, sub: &str) -> session_store::Result<Vec<Record>> {
        let mut records = Vec::new();
        for id in self.owners.matching(Some(sub), None).await? {
            let Some(record) = self.load(&id).await? else {
                continue;
            };
            if record_identity(&record.data).is_some_and(|(owner, _)| owner == sub) {
                records.push(record);
            }
        }
        Ok(records)
    }

    /// Deletes the sessions a logout names (OIDC Back-Channel Logout §2.7, Authgear's
    /// webhooks): those of provider session `sid` when given (and of `sub`, when both are),
    /// else all of `sub`; with `signed_in_by`, only those signed in at or before that Unix
    /// time (a late or repeated event must not end a newer session). Returns how many were
    /// deleted. On an error some may be deleted already; the same call again finishes the work.
    pub async fn delete_matching(
        &self,
        sub: Option<&str>,
        sid: Option<&str>,
        signed_in_by: Option<i64>,
    ) -> session_store::Result<usize> {
        let mut deleted = 0;
        for id in self.owners.matching(sub, sid).await? {
            if let Some(cutoff) = signed_in_by {
                // A session's login time never changes under its id (a login takes a new id).
                let Some(record) = self.load(&id).await? else {
                    continue;
                };
                if record_signed_in_at(&record.data).is_none_or(|at| at > cutoff) {
                    continue;
                }
            }
            self.delete(&id).await?;
            deleted += 1;
        }
        Ok(deleted)
    }
}

#[async_trait::async_trait]
impl SessionStore for Sessions {
    /// Under a new random id, always: after a logout tower-sessions would create the next
    /// record under the id it just deleted, and a late write of the old record (which a
    /// deletion must win over) could then land on the new one.
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        record.id = Id::default();
        match &self.backend {
            #[cfg(feature = "memory")]
            Backend::Memory(store) => store.create(record).await?,
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(_, _, writer) => {
                // The writer tells the cache, in commit order.
                record.id = writer
                    .create(sqlite::encode(record)?)
                    .await
                    .map_err(session_store::Error::Backend)?;
            }
            #[cfg(feature = "redis")]
            Backend::Redis(store, _) => store.create(record).await?,
            Backend::Custom(store) => store.create(record).await?,
        }
        self.owners.record(record).await
    }

    /// Writes `record`, unless its session was deleted meanwhile (by a logout in another
    /// request, say) or written anew (a refresh's new tokens): a deletion and a newer version
    /// win over any write that read the record before them. (The same version again is
    /// written: an app's own keys beside this crate's.) An app's own store is asked first
    /// whether the record is still there, which narrows the window but cannot close it (see
    /// [`CustomStore`]).
    ///
    /// With SQLite (no other process writes it), a write of exactly what this process last
    /// wrote under the id is skipped: the end of a request saves again what `AuthSession`
    /// saved during it, which made two transactions of every session write.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let written = match &self.backend {
            #[cfg(feature = "memory")]
            Backend::Memory(store) => store.save_unless_superseded(record)?,
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(_, _, writer) => {
                let encoded = sqlite::encode(record)?;
                let unchanged = encoded.digest();
                if self
                    .cache
                    .as_ref()
                    .is_some_and(|cache| cache.holds_written(&record.id, unchanged))
                {
                    return Ok(());
                }
                // The writer tells the cache, in commit order.
                let written = writer
                    .save(encoded)
                    .await
                    .map_err(session_store::Error::Backend)?;
                #[cfg(test)]
                self.pauses.after_write.wait().await;
                written
            }
            // Only a key that still exists, at a version not older (one script).
            #[cfg(feature = "redis")]
            Backend::Redis(_, pool) => redis::save_existing(pool, record).await?,
            Backend::Custom(store) => store.save_unless_superseded(record).await?,
        };
        if !written {
            tracing::debug!("a write of a deleted or rewritten session was dropped");
            return Ok(());
        }
        self.owners.record(record).await
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        #[cfg(feature = "sqlite")]
        if let Some(record) = self.cache.as_ref().and_then(|cache| cache.load(id)) {
            return Ok(Some(record));
        }
        // Before the read: what is committed while it reads wins over what it read.
        #[cfg(feature = "sqlite")]
        let ticket = self.cache.as_ref().map(|cache| cache.ticket());
        let record = match &self.backend {
            #[cfg(feature = "memory")]
            Backend::Memory(store) => store.load(id).await?,
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(store, ..) => store.load(id).await?,
            #[cfg(feature = "redis")]
            Backend::Redis(store, _) => store.load(id).await?,
            Backend::Custom(store) => store.load(id).await?,
        };
        #[cfg(test)]
        self.pauses.after_read.wait().await;
        #[cfg(feature = "sqlite")]
        if let (Some(cache), Some(record), Some(ticket)) = (&self.cache, &record, ticket) {
            cache.install_read(record, ticket);
        }
        Ok(record)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match &self.backend {
            #[cfg(feature = "memory")]
            Backend::Memory(store) => store.delete(id).await?,
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(_, _, writer) => writer
                .delete(*id)
                .await
                .map_err(session_store::Error::Backend)?,
            #[cfg(feature = "redis")]
            Backend::Redis(store, _) => store.delete(id).await?,
            Backend::Custom(store) => store.delete(id).await?,
        }
        // The owner index: SQLite's entries go in the writer's transaction (`forget_sqlite`),
        // the memory store's with its entry, Redis' sets and the local index's entries expire
        // by themselves.
        self.ends.announce(*id).await;
        Ok(())
    }
}

#[async_trait::async_trait]
impl ExpiredDeletion for Sessions {
    async fn delete_expired(&self) -> session_store::Result<()> {
        let started = std::time::Instant::now();
        // How many records went, where the store says.
        let deleted: u64 = match &self.backend {
            #[cfg(feature = "memory")]
            Backend::Memory(store) => {
                store.delete_expired().await?;
                0
            }
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(_, pool, _) => sqlite_expiry::delete_expired(pool)
                .await
                .map_err(|error| session_store::Error::Backend(error.to_string()))?,
            #[cfg(feature = "redis")]
            Backend::Redis(..) => 0,
            // The app's store expires its records itself (tower-sessions' stores do).
            Backend::Custom(_) => 0,
        };
        #[cfg(feature = "sqlite")]
        if let Some(cache) = &self.cache {
            cache.delete_expired();
        }
        self.owners.delete_expired().await?;
        if deleted > 0 {
            let elapsed_ms = started.elapsed().as_millis() as u64;
            tracing::info!(deleted, elapsed_ms, "expired sessions deleted");
        }
        Ok(())
    }
}
