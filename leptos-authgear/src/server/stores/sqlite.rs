//! The SQLite store: one file, one server process (it is locked), a cache of decoded records
//! in front of it, and one writer task that batches every create, save and delete.

use super::cache::SessionCache;
use super::owners::Owners;
use super::sqlite_writer::SqliteWriter;
use super::{sqlite_expiry, sqlite_writes, Access, Backend, SessionEnds, Sessions, STORE_TIMEOUT};
use crate::server::SessionSettings;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::fs::{File, TryLockError};
use std::path::Path;
use std::sync::Arc;
use tower_sessions::session::Record;
use tower_sessions::session_store;
use tower_sessions_sqlx_store::SqliteStore;

/// Opens (creates, migrates and, for the server, locks) the store at `path`, with a cache of
/// `settings.cache_size` records; a deletion's tombstone is kept for the sessions' maximum
/// lifetime (see `sqlite_writes::delete`).
pub(super) async fn open(
    path: &Path,
    settings: &SessionSettings,
    access: Access,
) -> Result<Sessions, String> {
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
    let cache = lock
        .is_some()
        .then(|| Arc::new(SessionCache::new(settings.cache_size)));
    let writer = SqliteWriter::start(&pool, cache.clone(), settings.max_lifetime)
        .await
        .map_err(|error| format!("cannot open {}: {error}", path.display()))?;
    Ok(Sessions {
        backend: Backend::Sqlite(store, pool.clone(), writer),
        owners,
        ends: SessionEnds::local(),
        cache,
        _lock: lock,
        #[cfg(test)]
        pauses: Default::default(),
    })
}

/// `record` as SQLite stores it.
pub(super) fn encode(record: &Record) -> session_store::Result<sqlite_writes::Encoded> {
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
