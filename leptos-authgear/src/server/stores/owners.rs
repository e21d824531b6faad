//! Who is signed in to which session: `sub:<subject>` and `sid:<provider session>` → session
//! ids, so that a back-channel logout can find every session it names. Kept in the same store
//! as the sessions, so that it survives restarts and is shared by instances. (The memory store
//! needs no index: its entries carry their owners, see `memory`.)
//!
//! A session's owner never changes under the same id (login cycles the id, logout deletes the
//! record), so the index only grows on saves of signed-in records and shrinks when records
//! are deleted or expire. An entry left behind for a deleted session (Redis keeps them until
//! the set expires) is harmless: deleting a session that is gone does nothing.

#[cfg(feature = "memory")]
use super::memory::MemoryStore;
#[cfg(feature = "redis")]
use super::RedisPool;
use crate::server::session::record_identity;
#[cfg(feature = "redis")]
use fred::prelude::{KeysInterface, SetsInterface};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
#[cfg(feature = "redis")]
use std::time::Duration;
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::Result;

#[derive(Debug, Clone)]
pub(super) enum Owners {
    /// The memory store finds owners in its own entries.
    #[cfg(feature = "memory")]
    Memory(MemoryStore),
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    /// One Redis set per key, expiring `ttl` after its last addition (no session lives longer).
    #[cfg(feature = "redis")]
    Redis { pool: RedisPool, ttl: Duration },
    /// In this process, for an app's own store: key → session id → Unix time the entry
    /// expires (with the record it was made for).
    Local(Arc<Mutex<HashMap<String, HashMap<Id, i64>>>>),
}

#[cfg(any(feature = "sqlite", feature = "redis"))]
fn backend(error: impl std::fmt::Display) -> tower_sessions::session_store::Error {
    tower_sessions::session_store::Error::Backend(error.to_string())
}

/// The index keys of a record: none for a guest.
fn keys(record: &Record) -> Vec<String> {
    match record_identity(&record.data) {
        Some((sub, sid)) => std::iter::once(format!("sub:{sub}"))
            .chain(sid.map(|sid| format!("sid:{sid}")))
            .collect(),
        None => Vec::new(),
    }
}

impl Owners {
    pub(super) fn local() -> Self {
        Owners::Local(Arc::default())
    }

    #[cfg(feature = "memory")]
    pub(super) fn memory(store: MemoryStore) -> Self {
        Owners::Memory(store)
    }

    #[cfg(feature = "sqlite")]
    pub(super) async fn sqlite(pool: sqlx::SqlitePool) -> std::result::Result<Self, String> {
        sqlx::raw_sql(
            "create table if not exists session_owners (
                key text not null,
                session_id text not null,
                expiry_date integer not null,
                primary key (key, session_id)
            );
            create index if not exists session_owners_by_session on session_owners (session_id);",
        )
        .execute(&pool)
        .await
        .map_err(|error| format!("cannot create the session_owners table: {error}"))?;
        Ok(Owners::Sqlite(pool))
    }

    #[cfg(feature = "redis")]
    pub(super) fn redis(pool: RedisPool, ttl: Duration) -> Self {
        Owners::Redis { pool, ttl }
    }

    /// Indexes a record that was just written. (SQLite's index is written with the record, in
    /// its transaction: [`record_sqlite`].)
    pub(super) async fn record(&self, record: &Record) -> Result<()> {
        match self {
            #[cfg(feature = "memory")]
            Owners::Memory(_) => {}
            #[cfg(feature = "sqlite")]
            Owners::Sqlite(_) => {}
            Owners::Local(index) => {
                let expiry = record.expiry_date.unix_timestamp();
                let mut index = index
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                for key in keys(record) {
                    index.entry(key).or_default().insert(record.id, expiry);
                }
            }
            #[cfg(feature = "redis")]
            Owners::Redis { pool, ttl } => {
                for key in keys(record) {
                    let key = format!("session-owners:{key}");
                    let () = pool
                        .sadd(&key, record.id.to_string())
                        .await
                        .map_err(backend)?;
                    let () = pool
                        .expire(&key, ttl.as_secs() as i64, None)
                        .await
                        .map_err(backend)?;
                }
            }
        }
        Ok(())
    }

    /// The sessions of provider session `sid` (and of `sub`, when both are given), else all
    /// sessions of `sub`.
    pub(super) async fn matching(&self, sub: Option<&str>, sid: Option<&str>) -> Result<Vec<Id>> {
        #[cfg(feature = "memory")]
        if let Owners::Memory(store) = self {
            return Ok(store.owned_by(sub, sid));
        }
        let by_sid = match sid {
            Some(sid) => Some(self.sessions_of(&format!("sid:{sid}")).await?),
            None => None,
        };
        let by_sub = match sub {
            Some(sub) => Some(self.sessions_of(&format!("sub:{sub}")).await?),
            None => None,
        };
        Ok(match (by_sid, by_sub) {
            (Some(by_sid), Some(by_sub)) => by_sid.intersection(&by_sub).copied().collect(),
            (Some(ids), None) | (None, Some(ids)) => ids.into_iter().collect(),
            (None, None) => Vec::new(),
        })
    }

    async fn sessions_of(&self, key: &str) -> Result<HashSet<Id>> {
        let ids: Vec<String> = match self {
            // Answered by `matching`, from the entries themselves.
            #[cfg(feature = "memory")]
            Owners::Memory(_) => Vec::new(),
            Owners::Local(index) => {
                let now = OffsetDateTime::now_utc().unix_timestamp();
                let index = index
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                index
                    .get(key)
                    .into_iter()
                    .flatten()
                    .filter(|(_, expiry)| **expiry > now)
                    .map(|(id, _)| id.to_string())
                    .collect()
            }
            #[cfg(feature = "sqlite")]
            Owners::Sqlite(pool) => sqlx::query_scalar(
                "select session_id from session_owners where key = ? and expiry_date > ?",
            )
            .bind(key)
            .bind(OffsetDateTime::now_utc().unix_timestamp())
            .fetch_all(pool)
            .await
            .map_err(backend)?,
            #[cfg(feature = "redis")]
            Owners::Redis { pool, .. } => pool
                .smembers(format!("session-owners:{key}"))
                .await
                .map_err(backend)?,
        };
        Ok(ids.iter().filter_map(|id| Id::from_str(id).ok()).collect())
    }

    /// Drops entries of expired sessions from the local index. SQLite's go with their records,
    /// in the same transactions (`sqlite_expiry`: one statement over the whole index held
    /// SQLite's write lock for as long as it took to scan it); the memory store's entries carry
    /// their owners; Redis' sets expire by themselves.
    pub(super) async fn delete_expired(&self) -> Result<()> {
        if let Owners::Local(index) = self {
            let now = OffsetDateTime::now_utc().unix_timestamp();
            let mut index = index
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            index.retain(|_, ids| {
                ids.retain(|_, expiry| *expiry > now);
                !ids.is_empty()
            });
        }
        Ok(())
    }
}

#[cfg(feature = "sqlite")]
/// Indexes `record` in SQLite, in the writer's transaction (one statement for its keys).
pub(super) async fn record_sqlite(
    connection: &mut sqlx::SqliteConnection,
    record: &Record,
) -> std::result::Result<(), sqlx::Error> {
    let keys = keys(record);
    if keys.is_empty() {
        return Ok(());
    }
    let rows = vec!["(?, ?, ?)"; keys.len()].join(", ");
    let statement = format!(
        "insert into session_owners (key, session_id, expiry_date) values {rows}
         on conflict (key, session_id) do update set expiry_date = excluded.expiry_date"
    );
    let id = record.id.to_string();
    let mut query = sqlx::query(&statement);
    for key in keys {
        query = query
            .bind(key)
            .bind(id.clone())
            .bind(record.expiry_date.unix_timestamp());
    }
    query.execute(&mut *connection).await.map(|_| ())
}

#[cfg(feature = "sqlite")]
/// Drops session `id` from SQLite's index, in the writer's transaction.
pub(super) async fn forget_sqlite(
    connection: &mut sqlx::SqliteConnection,
    id: &Id,
) -> std::result::Result<(), sqlx::Error> {
    sqlx::query("delete from session_owners where session_id = ?")
        .bind(id.to_string())
        .execute(&mut *connection)
        .await
        .map(|_| ())
}
