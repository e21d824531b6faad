//! The session store that `SESSION_STORE` names: SQLite (the embedded default), Redis
//! (several instances) or memory (tests). One type, [`Sessions`], so that the rest of the
//! app does not care which.
//!
//! SQLite is for one server process: it takes a lock on the file at start-up, and so can keep
//! the records it reads and writes in a cache in this process too (reading SQLite through
//! sqlx's worker thread was most of a signed-in page view's cost, bench/README.md). Several
//! instances share Redis, which has no such cache.
//!
//! Besides the records, each store keeps an index of who is signed in to which session
//! (`owners`), for back-channel logout, and Redis also the refresh locks (`refresh_lock`), so
//! that both work across restarts and across instances.

mod cache;
mod memory;
mod owners;
pub(crate) mod refresh_lock;
mod session_ends;
mod sqlite_expiry;
mod sqlite_writer;
mod sqlite_writes;
#[cfg(test)]
mod test_redis;

use crate::server::configuration::{SessionSettings, StoreUrl};
use crate::server::session::{record_signed_in_at, record_version, DecodedSessions};
use cache::SessionCache;
use fred::prelude::{ClientLike, Config as RedisConfig, Pool as RedisPool, ReconnectPolicy};
use memory::MemoryStore;
use owners::Owners;
pub use session_ends::SessionEnds;
use sqlite_writer::SqliteWriter;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::fs::{File, TryLockError};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_redis_store::RedisStore;
use tower_sessions_sqlx_store::SqliteStore;

/// A store that does not answer within this time counts as failed (a 503, not a hung page).
const STORE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
enum Backend {
    Memory(MemoryStore),
    /// The store (it reads), its pool (the expiry sweep, `sqlite_expiry`), and the one writer
    /// that creates, saves and deletes, in batches (`sqlite_writer`).
    Sqlite(SqliteStore, SqlitePool, SqliteWriter),
    /// The store (it reads, creates and deletes), and its pool for this module's writes.
    Redis(RedisStore<RedisPool>, RedisPool),
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
    cache: Option<Arc<SessionCache>>,
    /// Held while the store is open: the exclusive lock that makes `cache` safe.
    _lock: Option<Arc<File>>,
}

#[derive(Clone, Copy)]
enum Access {
    /// The server's: SQLite is locked to this process and cached.
    Exclusive,
    /// A check that the store opens, beside a server that may be running.
    Check,
}

/// Records the SQLite cache keeps: beyond this, reads of the others go to SQLite.
const CACHE_CAPACITY: usize = 20_000;

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
        match &settings.store {
            StoreUrl::Memory => {
                let store = MemoryStore::new();
                Ok(Self {
                    owners: Owners::memory(store.clone()),
                    ends: SessionEnds::local(),
                    backend: Backend::Memory(store),
                    cache: None,
                    _lock: None,
                })
            }
            StoreUrl::Sqlite(path) => {
                create_private_file(path)?;
                let lock = match access {
                    Access::Exclusive => Some(Arc::new(lock_sqlite(path)?)),
                    Access::Check => None,
                };
                let pool = open_sqlite(path).await?;
                let store = SqliteStore::new(pool.clone());
                store
                    .migrate()
                    .await
                    .map_err(|error| format!("cannot create the sessions table: {error}"))?;
                sqlite_expiry::create_index(&pool)
                    .await
                    .map_err(|error| format!("cannot index the sessions table: {error}"))?;
                sqlite_writes::create_tombstones(&pool)
                    .await
                    .map_err(|error| format!("cannot create the tombstones table: {error}"))?;
                let owners = Owners::sqlite(pool.clone()).await?;
                let writer = SqliteWriter::start(&pool)
                    .await
                    .map_err(|error| format!("cannot open {}: {error}", path.display()))?;
                Ok(Self {
                    backend: Backend::Sqlite(store, pool.clone(), writer),
                    owners,
                    ends: SessionEnds::local(),
                    cache: lock
                        .is_some()
                        .then(|| Arc::new(SessionCache::new(CACHE_CAPACITY))),
                    _lock: lock,
                })
            }
            StoreUrl::Redis(url) => {
                let pool = connect_redis(url).await?;
                let ends = match access {
                    Access::Exclusive => {
                        let config =
                            RedisConfig::from_url(url).map_err(|error| error.to_string())?;
                        SessionEnds::redis(config, pool.clone()).await?
                    }
                    Access::Check => SessionEnds::local(),
                };
                Ok(Self {
                    ends,
                    backend: Backend::Redis(RedisStore::new(pool.clone()), pool.clone()),
                    owners: Owners::redis(pool, settings.max_lifetime),
                    cache: None,
                    _lock: None,
                })
            }
        }
    }

    /// The Redis connection, when sessions are in Redis: refresh locks are kept there too.
    pub fn redis(&self) -> Option<RedisPool> {
        match &self.backend {
            Backend::Redis(_, pool) => Some(pool.clone()),
            _ => None,
        }
    }

    /// Whether the store answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), String> {
        self.load(&Id::default())
            .await
            .map(|_| ())
            .map_err(|error| error.to_string())
    }

    /// Deletes expired records every `period` (SQLite and memory; Redis expires keys by
    /// itself). A failed round is logged and the next one tried.
    pub fn spawn_expired_deletion(&self, period: Duration) {
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
        self.cache
            .clone()
            .map(|cache| cache as Arc<dyn DecodedSessions>)
    }

    /// Deletions from now on, in this process and (with Redis) in every instance: for a page
    /// that shows when its session ends.
    pub fn ends(&self) -> &SessionEnds {
        &self.ends
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

/// `record` as SQLite stores it.
fn encode(record: &Record) -> session_store::Result<sqlite_writes::Encoded> {
    sqlite_writes::Encoded::new(record.clone()).map_err(session_store::Error::Encode)
}

/// Creates the database file and any missing directories readable by this user only (`0600`,
/// `0700`): the file holds everyone's tokens. SQLite gives its `-wal` and `-shm` files the
/// database file's permissions. An existing file or directory is left as it is.
fn create_private_file(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|error| format!("cannot create {}: {error}", dir.display()))?;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map(|_| ())
        .map_err(|error| format!("cannot create {}: {error}", path.display()))
}

/// Takes `<path>.lock` for this process (released when it exits, however it exits): a second
/// server on the same file would not see this one's cache.
fn lock_sqlite(path: &Path) -> Result<File, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock");
    let lock_path = Path::new(&lock_path);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(lock_path)
        .map_err(|error| format!("cannot create {}: {error}", lock_path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(format!(
            "{} is in use by another server process; SQLite sessions are for one process \
             (use Redis for several)",
            path.display()
        )),
        Err(TryLockError::Error(error)) => {
            Err(format!("cannot lock {}: {error}", lock_path.display()))
        }
    }
}

async fn open_sqlite(path: &Path) -> Result<SqlitePool, String> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        // Readers do not wait for the writer; with WAL, NORMAL sync is safe from corruption and
        // only a power cut can lose the last writes (sessions, not ledgers). bench/session-store:
        // 659 -> 1,551 writes/s.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(STORE_TIMEOUT);
    SqlitePoolOptions::new()
        .acquire_timeout(STORE_TIMEOUT)
        // A local file does not go stale the way a network connection does: the default ping
        // before every query would only cost time (bench/README.md).
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(|error| format!("cannot open {}: {error}", path.display()))
}

async fn connect_redis(url: &str) -> Result<RedisPool, String> {
    let config = RedisConfig::from_url(url).map_err(|error| error.to_string())?;
    let pool = fred::types::Builder::from_config(config)
        .with_connection_config(|connection| {
            connection.connection_timeout = STORE_TIMEOUT;
            connection.internal_command_timeout = STORE_TIMEOUT;
        })
        // While Redis is away, commands fail after the timeout (a 503) instead of waiting.
        .with_performance_config(|performance| {
            performance.default_command_timeout = STORE_TIMEOUT;
        })
        // ... and the pool keeps reconnecting in the background, forever, every half second.
        .set_policy(ReconnectPolicy::new_constant(0, 500))
        .build_pool(4)
        .map_err(|error| error.to_string())?;
    // The first connection must work: a wrong address is a start-up error, not a hung app.
    match tokio::time::timeout(STORE_TIMEOUT * 2, pool.init()).await {
        Ok(Ok(_connection_task)) => Ok(pool),
        Ok(Err(error)) => Err(format!("cannot connect: {error}")),
        Err(_) => Err("cannot connect: no answer".to_owned()),
    }
}

/// Writes the record only if its key exists (a deleted session stays deleted, as with
/// tower-sessions-redis-store's `SET … XX`) and its version is not older than the one kept
/// beside it (`session-version:<id>`), in one script. `false` when nothing was written.
async fn redis_save_existing(pool: &RedisPool, record: &Record) -> session_store::Result<bool> {
    use fred::prelude::LuaInterface;
    use fred::types::Value;
    let bytes = rmp_serde::to_vec(record)
        .map_err(|error| session_store::Error::Encode(error.to_string()))?;
    let id = record.id.to_string();
    let version = i64::try_from(record_version(&record.data)).unwrap_or(i64::MAX);
    let written: i64 = pool
        .eval(
            REDIS_SAVE_SCRIPT,
            vec![id.clone(), format!("session-version:{id}")],
            vec![
                Value::Bytes(bytes.into()),
                Value::Integer(record.expiry_date.unix_timestamp()),
                Value::Integer(version),
            ],
        )
        .await
        .map_err(|error| session_store::Error::Backend(error.to_string()))?;
    Ok(written == 1)
}

const REDIS_SAVE_SCRIPT: &str = "
if redis.call('exists', KEYS[1]) == 0 then return 0 end
local kept = tonumber(redis.call('get', KEYS[2]) or '0')
local version = tonumber(ARGV[3])
if version ~= 0 and version < kept then return 0 end
redis.call('set', KEYS[1], ARGV[1], 'EXAT', ARGV[2])
redis.call('set', KEYS[2], ARGV[3], 'EXAT', ARGV[2])
return 1";

#[async_trait::async_trait]
impl SessionStore for Sessions {
    /// Under a new random id, always: after a logout tower-sessions would create the next
    /// record under the id it just deleted, and a late write of the old record (which a
    /// deletion must win over) could then land on the new one.
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        record.id = Id::default();
        let mut written = None;
        match &self.backend {
            Backend::Memory(store) => store.create(record).await?,
            Backend::Sqlite(_, _, writer) => {
                let encoded = encode(record)?;
                let digest = encoded.digest();
                let id = writer
                    .create(encoded)
                    .await
                    .map_err(session_store::Error::Backend)?;
                // Under another id (its own was taken), it was encoded again.
                written = (id == record.id).then_some(digest);
                record.id = id;
            }
            Backend::Redis(store, _) => store.create(record).await?,
        }
        if let Some(cache) = &self.cache {
            cache.save_with(record, written);
        }
        self.owners.record(record).await
    }

    /// Writes `record`, unless its session was deleted meanwhile (by a logout in another
    /// request, say) or written anew (a refresh's new tokens): a deletion and a newer version
    /// win over any write that read the record before them. (The same version again is
    /// written: an app's own keys beside this crate's.)
    ///
    /// With SQLite (no other process writes it), a write of exactly what this process last
    /// wrote under the id is skipped: the end of a request saves again what `AuthSession`
    /// saved during it, which made two transactions of every session write.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let mut digest = None;
        let written = match &self.backend {
            Backend::Memory(store) => store.save_unless_superseded(record)?,
            Backend::Sqlite(_, _, writer) => {
                let encoded = encode(record)?;
                let unchanged = encoded.digest();
                if self
                    .cache
                    .as_ref()
                    .is_some_and(|cache| cache.holds_written(&record.id, unchanged))
                {
                    return Ok(());
                }
                digest = Some(unchanged);
                writer
                    .save(encoded)
                    .await
                    .map_err(session_store::Error::Backend)?
            }
            // Only a key that still exists, at a version not older (one script).
            Backend::Redis(_, pool) => redis_save_existing(pool, record).await?,
        };
        if !written {
            tracing::debug!("a write of a deleted or rewritten session was dropped");
            return Ok(());
        }
        if let Some(cache) = &self.cache {
            cache.save_with(record, digest);
        }
        self.owners.record(record).await
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        if let Some(record) = self.cache.as_ref().and_then(|cache| cache.load(id)) {
            return Ok(Some(record));
        }
        let record = match &self.backend {
            Backend::Memory(store) => store.load(id).await?,
            Backend::Sqlite(store, ..) => store.load(id).await?,
            Backend::Redis(store, _) => store.load(id).await?,
        };
        if let (Some(cache), Some(record)) = (&self.cache, &record) {
            cache.save(record);
        }
        Ok(record)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match &self.backend {
            Backend::Memory(store) => store.delete(id).await?,
            Backend::Sqlite(_, _, writer) => writer
                .delete(*id)
                .await
                .map_err(session_store::Error::Backend)?,
            Backend::Redis(store, _) => store.delete(id).await?,
        }
        if let Some(cache) = &self.cache {
            cache.delete(id);
        }
        // The owner index: SQLite's entries go in the writer's transaction (`forget_sqlite`),
        // the memory store's with its entry, Redis' sets expire by themselves.
        self.ends.announce(*id).await;
        Ok(())
    }
}

#[async_trait::async_trait]
impl ExpiredDeletion for Sessions {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match &self.backend {
            Backend::Memory(store) => store.delete_expired().await?,
            Backend::Sqlite(_, pool, _) => {
                sqlite_expiry::delete_expired(pool)
                    .await
                    .map_err(|error| session_store::Error::Backend(error.to_string()))?;
            }
            Backend::Redis(..) => {}
        }
        if let Some(cache) = &self.cache {
            cache.delete_expired();
        }
        self.owners.delete_expired().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::session::{AuthSession, SessionLifetimes, SignedInUser};
    use std::collections::HashMap;
    use std::path::PathBuf;
    use tower_sessions::cookie::time::{self, OffsetDateTime};

    fn settings(store: StoreUrl) -> SessionSettings {
        SessionSettings {
            store,
            idle_timeout: Duration::from_secs(3600),
            max_lifetime: Duration::from_secs(7200),
        }
    }

    /// A fresh SQLite file under the system's temporary directory.
    fn sqlite_path(name: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!(
            "authgear-leptos-test-{}-{name}/sessions.db",
            std::process::id()
        ));
        if let Some(dir) = path.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
        path
    }

    #[tokio::test]
    async fn the_sqlite_file_and_its_directory_are_the_owners_alone() {
        use std::os::unix::fs::PermissionsExt;
        let path = sqlite_path("private");
        let store = Sessions::connect(&settings(StoreUrl::Sqlite(path.clone())))
            .await
            .expect("open");
        let mut record = record(Some("ada"), None, time::Duration::hours(1));
        store.create(&mut record).await.expect("a write (the WAL)");
        let mode = |path: &Path| {
            std::fs::metadata(path)
                .map(|meta| meta.permissions().mode() & 0o777)
                .expect("exists")
        };
        assert_eq!(mode(path.parent().expect("dir")), 0o700);
        for suffix in ["", "-wal", "-shm", ".lock"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            assert_eq!(mode(Path::new(&file)), 0o600, "sessions.db{suffix}");
        }
    }

    async fn stores(name: &str) -> Vec<Sessions> {
        let memory = Sessions::connect(&settings(StoreUrl::Memory)).await;
        let sqlite = Sessions::connect(&settings(StoreUrl::Sqlite(sqlite_path(name)))).await;
        vec![memory.expect("memory"), sqlite.expect("sqlite")]
    }

    fn record(sub: Option<&str>, sid: Option<&str>, lifetime: time::Duration) -> Record {
        let stored = match sub {
            Some(sub) => cache::tests::signed_in_as(sub, sid),
            None => serde_json::json!({ "ended_elsewhere": true }),
        };
        let data = HashMap::from([("auth".to_owned(), stored)]);
        Record {
            id: Id::default(),
            data,
            expiry_date: OffsetDateTime::now_utc() + lifetime,
        }
    }

    async fn session_of(store: &Sessions, sub: &str, sid: Option<&str>) -> Id {
        let mut record = record(Some(sub), sid, time::Duration::hours(1));
        store.create(&mut record).await.expect("create");
        record.id
    }

    async fn exists(store: &Sessions, id: Id) -> bool {
        store.load(&id).await.expect("load").is_some()
    }

    /// Request A reads a session, request B deletes it (logout, back-channel logout), then A
    /// writes what it read at its end (tower-sessions' save, an activity touch, a refresh that
    /// finished late): the session stays deleted, on every store.
    #[tokio::test]
    async fn a_deletion_wins_over_a_write_that_read_before_it() {
        let redis = super::test_redis::ScratchRedis::start().await;
        let mut all = stores("deletion-wins").await;
        all.push(
            Sessions::connect(&settings(StoreUrl::Redis(redis.url.clone())))
                .await
                .expect("redis"),
        );
        for store in all {
            let id = session_of(&store, "ada", Some("s1")).await;
            let read = store.load(&id).await.expect("load").expect("live");
            store.delete(&id).await.expect("delete");
            let mut late = read.clone();
            late.data
                .insert("touched".to_owned(), serde_json::json!(true));
            store
                .save(&late)
                .await
                .expect("a dropped write is no error");
            assert!(!exists(&store, id).await, "written back: {store:?}");
            // Sessions that were not deleted are written as before.
            let other = session_of(&store, "grace", None).await;
            let mut record = store.load(&other).await.expect("load").expect("live");
            record
                .data
                .insert("touched".to_owned(), serde_json::json!(true));
            store.save(&record).await.expect("save");
            let read = store.load(&other).await.expect("load").expect("live");
            assert_eq!(
                read.data.get("touched"),
                Some(&serde_json::json!(true)),
                "{store:?}"
            );
        }
    }

    /// SQLite's writer commits what queued together: many concurrent creates, saves and
    /// deletes all land, each with its index entry, and each answers for itself.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_sqlite_writes_all_land_in_their_batches() {
        let store = Arc::new(
            Sessions::connect(&settings(StoreUrl::Sqlite(sqlite_path("batches"))))
                .await
                .expect("open"),
        );
        let creates = (0..300).map(|n| {
            let store = store.clone();
            tokio::spawn(async move { session_of(&store, &format!("user-{n}"), None).await })
        });
        let ids: Vec<Id> = futures::future::join_all(creates)
            .await
            .into_iter()
            .map(|created| created.expect("task"))
            .collect();
        let (kept, deleted) = ids.split_at(150);
        let writes = kept.iter().map(|id| {
            let (store, id) = (store.clone(), *id);
            tokio::spawn(async move {
                let mut record = store.load(&id).await.expect("load").expect("live");
                record
                    .data
                    .insert("touched".into(), serde_json::json!(true));
                store.save(&record).await.expect("save");
            })
        });
        let deletes = deleted.iter().map(|id| {
            let (store, id) = (store.clone(), *id);
            tokio::spawn(async move { store.delete(&id).await.expect("delete") })
        });
        futures::future::join_all(writes.chain(deletes)).await;
        for (n, id) in ids.iter().enumerate() {
            let matching = store
                .owners
                .matching(Some(&format!("user-{n}")), None)
                .await;
            let indexed = matching.expect("index") == vec![*id];
            let record = store.load(id).await.expect("load");
            if n < 150 {
                let touched = record.expect("kept").data.get("touched").cloned();
                assert_eq!(touched, Some(serde_json::json!(true)), "save {n}");
                assert!(indexed, "index {n}");
            } else {
                assert!(record.is_none() && !indexed, "delete {n}");
            }
        }
    }

    #[tokio::test]
    async fn sid_deletes_that_provider_session_only() {
        for store in stores("sid").await {
            let phone = session_of(&store, "ada", Some("s1")).await;
            let laptop = session_of(&store, "ada", Some("s2")).await;
            let deleted = store.delete_matching(Some("ada"), Some("s1"), None).await;
            assert_eq!(deleted.expect("delete"), 1, "{store:?}");
            assert!(!exists(&store, phone).await);
            assert!(exists(&store, laptop).await);
        }
    }

    #[tokio::test]
    async fn sub_alone_deletes_every_session_of_that_user() {
        for store in stores("sub").await {
            let first = session_of(&store, "ada", Some("s1")).await;
            let second = session_of(&store, "ada", None).await;
            let other = session_of(&store, "grace", Some("s3")).await;
            let deleted = store.delete_matching(Some("ada"), None, None).await;
            assert_eq!(deleted.expect("delete"), 2, "{store:?}");
            assert!(!exists(&store, first).await && !exists(&store, second).await);
            assert!(exists(&store, other).await);
            // A sid that belongs to someone else than the named sub deletes nothing.
            let deleted = store.delete_matching(Some("ada"), Some("s3"), None).await;
            assert_eq!(deleted.expect("delete"), 0);
            assert!(exists(&store, other).await);
        }
    }

    /// A webhook delivered late (or again) names a time: sessions signed in after it stay.
    #[tokio::test]
    async fn a_deletion_up_to_a_time_spares_sessions_signed_in_after_it() {
        for store in stores("signed-in-by").await {
            let mut ids = Vec::new();
            for signed_in_at in [100, 200] {
                let mut record = record(Some("ada"), Some("s1"), time::Duration::hours(1));
                record.data.get_mut("auth").expect("auth")["user"]["signed_in_at"] =
                    serde_json::json!(signed_in_at);
                store.create(&mut record).await.expect("create");
                ids.push(record.id);
            }
            let deleted = store
                .delete_matching(Some("ada"), Some("s1"), Some(150))
                .await;
            assert_eq!(deleted.expect("delete"), 1, "{store:?}");
            assert!(!exists(&store, ids[0]).await, "{store:?}");
            assert!(exists(&store, ids[1]).await, "{store:?}");
            // The event's own second counts as before it.
            let deleted = store.delete_matching(Some("ada"), None, Some(200)).await;
            assert_eq!(deleted.expect("delete"), 1, "{store:?}");
        }
    }

    /// Every deletion is announced: in this process, and through Redis to another instance.
    #[tokio::test]
    async fn deletions_are_announced_to_every_instance() {
        for store in stores("announced").await {
            let mut heard = store.ends().subscribe();
            let id = session_of(&store, "ada", None).await;
            store.delete(&id).await.expect("delete");
            assert_eq!(heard.recv().await.expect("announced"), id, "{store:?}");
        }
        let redis = super::test_redis::ScratchRedis::start().await;
        let settings = settings(StoreUrl::Redis(redis.url.clone()));
        let (one, other) = (
            Sessions::connect(&settings).await.expect("redis"),
            Sessions::connect(&settings).await.expect("redis"),
        );
        let mut heard = other.ends().subscribe();
        let id = session_of(&one, "ada", None).await;
        one.delete(&id).await.expect("delete");
        let announced = tokio::time::timeout(Duration::from_secs(5), heard.recv()).await;
        assert_eq!(announced.expect("in time").expect("announced"), id);
    }

    #[tokio::test]
    async fn deleted_sessions_leave_the_index_and_guests_never_enter_it() {
        for store in stores("deleted").await {
            let id = session_of(&store, "ada", Some("s1")).await;
            store.delete(&id).await.expect("delete");
            let mut guest = record(None, None, time::Duration::hours(1));
            store.create(&mut guest).await.expect("create");
            let matching = store.owners.matching(Some("ada"), None).await;
            assert!(matching.expect("matching").is_empty(), "{store:?}");
            assert!(exists(&store, guest.id).await);
        }
    }

    #[tokio::test]
    async fn sqlite_sessions_and_their_owners_survive_a_restart() {
        let path = sqlite_path("restart");
        let id = {
            let store = Sessions::connect(&settings(StoreUrl::Sqlite(path.clone())))
                .await
                .expect("open");
            session_of(&store, "ada", Some("s1")).await
        };
        let reopened = Sessions::connect(&settings(StoreUrl::Sqlite(path)))
            .await
            .expect("reopen");
        assert!(exists(&reopened, id).await);
        let deleted = reopened.delete_matching(None, Some("s1"), None).await;
        assert_eq!(deleted.expect("delete"), 1);
    }

    #[tokio::test]
    async fn expired_sqlite_sessions_are_deleted_with_their_owners() {
        let path = sqlite_path("expiry");
        let store = Sessions::connect(&settings(StoreUrl::Sqlite(path)))
            .await
            .expect("open");
        let mut expired = record(Some("ada"), Some("s1"), time::Duration::seconds(-1));
        store.create(&mut expired).await.expect("create");
        let live = session_of(&store, "grace", None).await;
        store.delete_expired().await.expect("delete expired");
        store.owners.delete_expired().await.expect("delete owners");
        let Owners::Sqlite(pool) = &store.owners else {
            panic!("sqlite owners");
        };
        let rows: i64 = sqlx::query_scalar("select count(*) from tower_sessions")
            .fetch_one(pool)
            .await
            .expect("count");
        let owners: i64 = sqlx::query_scalar("select count(*) from session_owners")
            .fetch_one(pool)
            .await
            .expect("count");
        assert_eq!((rows, owners), (1, 1));
        assert!(exists(&store, live).await);
    }

    #[tokio::test]
    async fn expired_memory_sessions_leave_the_index() {
        let store = Sessions::connect(&settings(StoreUrl::Memory))
            .await
            .expect("memory");
        let mut expired = record(Some("ada"), Some("s1"), time::Duration::seconds(-1));
        store.create(&mut expired).await.expect("create");
        let live = session_of(&store, "ada", Some("s2")).await;
        store.delete_expired().await.expect("delete expired");
        let matching = store.owners.matching(Some("ada"), None).await;
        assert_eq!(matching.expect("matching"), vec![live]);
        let by_sid = store.owners.matching(None, Some("s1")).await;
        assert!(by_sid.expect("matching").is_empty());
    }

    #[tokio::test]
    async fn a_second_server_on_the_same_sqlite_file_is_refused() {
        let path = sqlite_path("lock");
        let first = Sessions::connect(&settings(StoreUrl::Sqlite(path.clone())))
            .await
            .expect("open");
        let error = Sessions::connect(&settings(StoreUrl::Sqlite(path.clone())))
            .await
            .expect_err("locked");
        assert!(
            error.contains("in use by another server process"),
            "{error}"
        );
        // `--check-config` beside the running server still works.
        Sessions::check(&settings(StoreUrl::Sqlite(path.clone())))
            .await
            .expect("check");
        drop(first);
        Sessions::connect(&settings(StoreUrl::Sqlite(path)))
            .await
            .expect("open again once the first has closed");
    }

    #[tokio::test]
    async fn sqlite_reads_what_its_cache_no_longer_holds_and_caches_it() {
        let store = Sessions::connect(&settings(StoreUrl::Sqlite(sqlite_path("cache"))))
            .await
            .expect("open");
        let id = session_of(&store, "ada", None).await;
        let cache = store.cache.clone().expect("sqlite has a cache");
        assert!(cache.load(&id).is_some());
        cache.delete(&id);
        assert!(exists(&store, id).await);
        assert!(cache.load(&id).is_some());
        // A delete reaches both.
        store.delete(&id).await.expect("delete");
        assert!(cache.load(&id).is_none());
        assert!(!exists(&store, id).await);
    }

    /// The end of a request saves again what `AuthSession` saved during it: SQLite writes it
    /// once. A changed record, or one this process only read, is written.
    #[tokio::test]
    async fn sqlite_does_not_write_again_what_it_last_wrote() {
        let store = Sessions::connect(&settings(StoreUrl::Sqlite(sqlite_path("unchanged"))))
            .await
            .expect("open");
        let Backend::Sqlite(_, pool, _) = &store.backend else {
            panic!("a SQLite store");
        };
        let mut record = record(Some("ada"), None, time::Duration::hours(1));
        store.create(&mut record).await.expect("create");
        let id = record.id.to_string();
        // Marks the row behind the store's back: a write puts its version back.
        let mark = || async {
            sqlx::query("update tower_sessions set version = -1 where id = ?")
                .bind(&id)
                .execute(pool)
                .await
                .expect("mark");
        };
        let written = || async {
            sqlx::query_scalar::<_, i64>("select version from tower_sessions where id = ?")
                .bind(&id)
                .fetch_one(pool)
                .await
                .expect("row")
                != -1
        };
        mark().await;
        store.save(&record).await.expect("save");
        assert!(!written().await, "the record as created, written again");

        let mut changed = record.clone();
        changed.expiry_date += time::Duration::minutes(1);
        store.save(&changed).await.expect("save");
        assert!(written().await, "a changed record was not written");
        mark().await;
        store.save(&changed).await.expect("save");
        assert!(!written().await, "the same change, written twice");

        // Read from the file rather than written here: the next save is written.
        let cache = store.cache.clone().expect("sqlite has a cache");
        cache.delete(&record.id);
        store.load(&record.id).await.expect("load").expect("live");
        store.save(&changed).await.expect("save");
        assert!(written().await, "a save after a read was skipped");

        // With an app's own key beside this crate's, the cache does not hold the record:
        // every save is written.
        let mut with_app_key = changed.clone();
        with_app_key
            .data
            .insert("app".to_owned(), serde_json::json!("its own key"));
        for _ in 0..2 {
            mark().await;
            store.save(&with_app_key).await.expect("save");
            assert!(
                written().await,
                "a record with an app's key was not written"
            );
        }
    }

    /// One request's typed session over `store`, as the extractor builds it.
    fn request(store: &Arc<Sessions>, id: Option<Id>) -> AuthSession {
        let lifetimes = SessionLifetimes {
            idle_timeout: 3600,
            max_lifetime: 7200,
        };
        let session = tower_sessions::Session::new(id, store.clone(), None);
        AuthSession::with_parts(session, lifetimes, store.decoded(), None)
    }

    /// Request A reads a signed-in session; request B refreshes it (new tokens); then A's
    /// activity touch and A's end-of-request save (tower-sessions writes back the copy it
    /// read) must keep B's tokens — on every store.
    #[tokio::test]
    async fn writes_of_what_was_read_before_a_refresh_cannot_undo_it() {
        let redis = super::test_redis::ScratchRedis::start().await;
        let mut all = stores("newer-wins").await;
        all.push(
            Sessions::connect(&settings(StoreUrl::Redis(redis.url.clone())))
                .await
                .expect("redis"),
        );
        let locks = Arc::new(refresh_lock::RefreshLocks::new(None));
        let lifetimes = SessionLifetimes {
            idle_timeout: 3600,
            max_lifetime: 7200,
        };
        for store in all {
            let store = Arc::new(store);
            let login = request(&store, None);
            let user = SignedInUser::test_user("ada", Some("s1"), serde_json::json!({}));
            login.sign_in(user).await.expect("sign in");
            let id: Id = login.id().and_then(|id| id.parse().ok()).expect("an id");
            // Last seen long ago: A's next page view writes a touch.
            let idle = request(&store, Some(id));
            let mut user = SignedInUser::clone(&idle.user().await.expect("read").expect("user"));
            user.last_seen_at = 0;
            idle.update_user(user).await.expect("write");

            // 1. A reads (its tower-sessions copy too); B refreshes; A's end of request saves
            //    the copy it read.
            let a_session = tower_sessions::Session::new(Some(id), store.clone(), None);
            let _: Option<serde_json::Value> = a_session.get("auth").await.expect("read");
            refresh(&store, id, "first").await;
            a_session.save().await.expect("a dropped write is no error");
            let now = request(&store, Some(id))
                .user()
                .await
                .expect("read")
                .expect("user");
            assert_eq!(now.tokens.access_token, "first", "{store:?}");

            // 2. A reads; B refreshes; A's page view writes its activity touch.
            let a = AuthSession::with_parts(
                tower_sessions::Session::new(Some(id), store.clone(), None),
                lifetimes,
                store.decoded(),
                Some(locks.clone()),
            );
            a.user().await.expect("read").expect("user");
            refresh(&store, id, "second").await;
            let touched = a.active_user().await.expect("touch").expect("user");
            assert_eq!(touched.tokens.access_token, "second", "{store:?}");
            let now = request(&store, Some(id))
                .user()
                .await
                .expect("read")
                .expect("user");
            assert_eq!(now.tokens.access_token, "second", "{store:?}");
            assert_eq!(now.refreshes, 2, "{store:?}");
            assert!(now.last_seen_at > 0, "the touch landed too: {store:?}");
        }
    }

    /// What a refresh writes: new tokens, one more refresh.
    async fn refresh(store: &Arc<Sessions>, id: Id, access_token: &str) {
        let b = request(store, Some(id));
        let mut user = SignedInUser::clone(&b.user().await.expect("read").expect("user"));
        user.tokens.access_token = access_token.to_owned();
        user.refreshes += 1;
        b.update_user(user).await.expect("refresh written");
    }

    #[tokio::test]
    async fn requests_read_the_decoded_session_and_see_every_write() {
        let path = sqlite_path("decoded");
        let store = Arc::new(
            Sessions::connect(&settings(StoreUrl::Sqlite(path)))
                .await
                .expect("open"),
        );
        let login = request(&store, None);
        let user = SignedInUser::test_user("ada", Some("s1"), serde_json::json!({}));
        login.sign_in(user).await.expect("sign in");
        let id = login.id().and_then(|id| id.parse().ok()).expect("an id");

        // The next request reads it from the cache: SQLite's row is gone behind its back.
        let Backend::Sqlite(sqlite, ..) = &store.backend else {
            panic!("sqlite backend");
        };
        sqlite.delete(&id).await.expect("delete the row");
        let page = request(&store, Some(id));
        let read = page.active_user().await.expect("read").expect("signed in");
        assert_eq!(read.subject, "ada");

        // A write in one request is what the next one reads.
        let mut refreshed = SignedInUser::clone(&read);
        refreshed.refreshes = 1;
        page.update_user(refreshed).await.expect("update");
        let next = request(&store, Some(id)).user().await.expect("read");
        assert_eq!(next.map(|user| user.refreshes), Some(1));

        // Ended elsewhere (refresh token revoked): the old id reads as signed out, and the
        // browser's new one says so once.
        let ending = request(&store, Some(id));
        ending.end_elsewhere().await.expect("end");
        assert!(request(&store, Some(id))
            .user()
            .await
            .expect("read")
            .is_none());
        let new_id = ending
            .id()
            .and_then(|id| id.parse().ok())
            .expect("a new id");
        // Not the id just deleted: a late write of the old record must not land on this one.
        assert_ne!(new_id, id);
        let told = request(&store, Some(new_id));
        assert!(told.take_ended_elsewhere().await.expect("read"));
        assert!(!request(&store, Some(new_id))
            .take_ended_elsewhere()
            .await
            .expect("read"));
    }

    #[tokio::test]
    async fn an_unusable_sqlite_path_is_a_clear_start_up_error() {
        let error = Sessions::connect(&settings(StoreUrl::Sqlite("/proc/no/sessions.db".into())))
            .await
            .expect_err("cannot create");
        assert!(error.contains("/proc/no"), "{error}");
    }

    #[tokio::test]
    async fn an_unreachable_redis_is_a_clear_start_up_error() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|addr| addr.port())
            .expect("port");
        let url = StoreUrl::Redis(format!("redis://127.0.0.1:{port}"));
        let error = Sessions::connect(&settings(url))
            .await
            .expect_err("refused");
        assert!(error.starts_with("cannot connect"), "{error}");
    }
}
