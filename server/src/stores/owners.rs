//! Who is signed in to which session: `sub:<subject>` and `sid:<provider session>` → session
//! ids, so that a back-channel logout can find every session it names. Kept in the same store
//! as the sessions, so that it survives restarts and is shared by instances.
//!
//! A session's owner never changes under the same id (login cycles the id, logout deletes the
//! record), so the index only grows on saves of signed-in records and shrinks when records
//! are deleted or expire. An entry left behind for a deleted session (Redis keeps them until
//! the set expires) is harmless: deleting a session that is gone does nothing.

use app::session::record_identity;
use fred::prelude::{KeysInterface, Pool as RedisPool, SetsInterface};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result};

#[derive(Debug, Clone)]
pub(super) enum Owners {
    Memory(Arc<Mutex<MemoryIndex>>),
    Sqlite(sqlx::SqlitePool),
    /// One Redis set per key, expiring `ttl` after its last addition (no session lives longer).
    Redis {
        pool: RedisPool,
        ttl: Duration,
    },
}

fn backend(error: impl std::fmt::Display) -> Error {
    Error::Backend(error.to_string())
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
    pub(super) fn memory() -> Self {
        Owners::Memory(Arc::default())
    }

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

    pub(super) fn redis(pool: RedisPool, ttl: Duration) -> Self {
        Owners::Redis { pool, ttl }
    }

    pub(super) fn redis_pool(&self) -> Option<RedisPool> {
        match self {
            Owners::Redis { pool, .. } => Some(pool.clone()),
            _ => None,
        }
    }

    /// Indexes a record that was just written.
    pub(super) async fn record(&self, record: &Record) -> Result<()> {
        let keys = keys(record);
        match self {
            Owners::Memory(index) => {
                lock(index).set(record.id, keys, record.expiry_date.unix_timestamp())
            }
            _ if keys.is_empty() => {}
            Owners::Sqlite(pool) => {
                for key in keys {
                    sqlx::query(
                        "insert into session_owners (key, session_id, expiry_date) values (?, ?, ?)
                         on conflict (key, session_id) do update set expiry_date = excluded.expiry_date",
                    )
                    .bind(key)
                    .bind(record.id.to_string())
                    .bind(record.expiry_date.unix_timestamp())
                    .execute(pool)
                    .await
                    .map_err(backend)?;
                }
            }
            Owners::Redis { pool, ttl } => {
                for key in keys {
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

    /// Drops a deleted record from the index.
    pub(super) async fn forget(&self, id: &Id) -> Result<()> {
        match self {
            Owners::Memory(index) => lock(index).remove(id),
            Owners::Sqlite(pool) => {
                sqlx::query("delete from session_owners where session_id = ?")
                    .bind(id.to_string())
                    .execute(pool)
                    .await
                    .map_err(backend)?;
            }
            Owners::Redis { .. } => {}
        }
        Ok(())
    }

    /// The sessions of provider session `sid` (and of `sub`, when both are given), else all
    /// sessions of `sub`.
    pub(super) async fn matching(&self, sub: Option<&str>, sid: Option<&str>) -> Result<Vec<Id>> {
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
            Owners::Memory(index) => return Ok(lock(index).matching(key)),
            Owners::Sqlite(pool) => sqlx::query_scalar(
                "select session_id from session_owners where key = ? and expiry_date > ?",
            )
            .bind(key)
            .bind(OffsetDateTime::now_utc().unix_timestamp())
            .fetch_all(pool)
            .await
            .map_err(backend)?,
            Owners::Redis { pool, .. } => pool
                .smembers(format!("session-owners:{key}"))
                .await
                .map_err(backend)?,
        };
        Ok(ids.iter().filter_map(|id| Id::from_str(id).ok()).collect())
    }

    /// Drops entries of expired sessions (Redis sets expire by themselves).
    pub(super) async fn delete_expired(&self) -> Result<()> {
        if let Owners::Memory(index) = self {
            lock(index).delete_expired(OffsetDateTime::now_utc().unix_timestamp());
        }
        if let Owners::Sqlite(pool) = self {
            sqlx::query("delete from session_owners where expiry_date <= ?")
                .bind(OffsetDateTime::now_utc().unix_timestamp())
                .execute(pool)
                .await
                .map_err(backend)?;
        }
        Ok(())
    }
}

fn lock(index: &Mutex<MemoryIndex>) -> MutexGuard<'_, MemoryIndex> {
    index
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The in-process index of the memory store, kept small: as maps of sets of owned strings it
/// took an estimated 600 bytes a session (bench/README.md), now about 450.
#[derive(Debug, Default)]
pub(super) struct MemoryIndex {
    /// Index key → its sessions (one or a few: a vector is smaller than a set).
    sessions: HashMap<Arc<str>, Vec<Id>>,
    /// Session → its keys and when its record expires.
    keys_of: HashMap<Id, IndexedSession>,
}

#[derive(Debug)]
struct IndexedSession {
    /// The same strings as the keys of `MemoryIndex::sessions`.
    keys: Box<[Arc<str>]>,
    /// Unix time.
    expires_at: i64,
}

impl MemoryIndex {
    fn set(&mut self, id: Id, keys: Vec<String>, expires_at: i64) {
        self.remove(&id);
        if keys.is_empty() {
            return;
        }
        let keys = keys
            .into_iter()
            .map(|key| {
                let key = match self.sessions.get_key_value(key.as_str()) {
                    Some((shared, _)) => shared.clone(),
                    None => Arc::from(key),
                };
                let ids = self
                    .sessions
                    .entry(key.clone())
                    .or_insert_with(|| Vec::with_capacity(1));
                if !ids.contains(&id) {
                    ids.push(id);
                }
                key
            })
            .collect();
        self.keys_of.insert(id, IndexedSession { keys, expires_at });
    }

    fn remove(&mut self, id: &Id) {
        let Some(IndexedSession { keys, .. }) = self.keys_of.remove(id) else {
            return;
        };
        for key in keys.iter() {
            if let Some(ids) = self.sessions.get_mut(&**key) {
                ids.retain(|other| other != id);
                if ids.is_empty() {
                    self.sessions.remove(&**key);
                }
            }
        }
    }

    fn matching(&self, key: &str) -> HashSet<Id> {
        self.sessions
            .get(key)
            .map(|ids| ids.iter().copied().collect())
            .unwrap_or_default()
    }

    fn delete_expired(&mut self, now: i64) {
        let expired: Vec<Id> = self
            .keys_of
            .iter()
            .filter(|(_, session)| session.expires_at <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in &expired {
            self.remove(id);
        }
    }
}
