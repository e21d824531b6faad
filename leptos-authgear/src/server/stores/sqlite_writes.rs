//! SQLite writes where a deletion and a newer write win (issue 21): a request that read a
//! session before another request deleted it (logout, back-channel logout) or wrote it anew (a
//! refresh's new tokens) must not write its old copy back at its end.
//!
//! Deleting leaves a tombstone (the id, for as long as a write of it can matter) in the same
//! transaction; each record carries its version (`record_version`) in a column of its own; a
//! save writes only where there is no tombstone and no newer version, in one statement (the same
//! version again is written: the app's own keys in the record, saved at the end of a request).
//! SQLite runs one write at a time, so no write slips between the check and the write. Records
//! are encoded as tower-sessions-sqlx-store encodes them (MessagePack), which still reads them.
//! `sqlite_writer` runs these, in its batches' transactions.

use crate::server::session::{record_version, DecodedSession};
use sqlx::{SqliteConnection, SqlitePool};
use std::hash::{Hash, Hasher};
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};

pub(super) async fn create_tombstones(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    let columns: Vec<String> =
        sqlx::query_scalar("select name from pragma_table_info('tower_sessions')")
            .fetch_all(pool)
            .await?;
    if !columns.iter().any(|column| column == "version") {
        sqlx::query("alter table tower_sessions add column version integer not null default 0")
            .execute(pool)
            .await?;
    }
    sqlx::query(
        "create table if not exists session_tombstones (
            id text primary key not null,
            expiry_date integer not null
        );
        create index if not exists session_tombstones_by_expiry
            on session_tombstones (expiry_date);",
    )
    .execute(pool)
    .await
    .map(|_| ())
}

/// A record as stored: tower-sessions-sqlx-store's encoding (MessagePack) and its version,
/// worked out before the record reaches the writer (which runs one write at a time).
pub(super) struct Encoded {
    pub(super) record: Record,
    data: Vec<u8>,
    version: i64,
    /// The record decoded for the cache, in the caller's task: the writer, which runs one
    /// write at a time, only files it.
    pub(super) decoded: Option<DecodedSession>,
    digest: u64,
}

impl Encoded {
    pub(super) fn new(record: Record) -> Result<Self, String> {
        let data = rmp_serde::to_vec(&record).map_err(|error| error.to_string())?;
        let version = i64::try_from(record_version(&record.data)).unwrap_or(i64::MAX);
        let decoded = DecodedSession::decode(&record.data);
        let mut hasher = std::hash::DefaultHasher::new();
        data.hash(&mut hasher);
        version.hash(&mut hasher);
        Ok(Self {
            record,
            digest: hasher.finish(),
            data,
            version,
            decoded,
        })
    }

    /// What the row would hold, hashed: equal for the same id, data and expiry, so that the
    /// cache can tell a write that would change nothing.
    pub(super) fn digest(&self) -> u64 {
        self.digest
    }
}

/// Writes a new record under its id; `false` if the id is taken (the caller picks another).
pub(super) async fn insert_new(
    connection: &mut SqliteConnection,
    encoded: &Encoded,
) -> Result<bool, sqlx::Error> {
    write(
        connection,
        "insert into tower_sessions (id, data, expiry_date, version) values (?1, ?2, ?3, ?4)
         on conflict(id) do nothing",
        encoded,
    )
    .await
}

/// Writes `record` unless its session was deleted or the stored version is newer; `false`
/// when nothing was written.
pub(super) async fn save(
    connection: &mut SqliteConnection,
    encoded: &Encoded,
) -> Result<bool, sqlx::Error> {
    write(
        connection,
        "insert into tower_sessions (id, data, expiry_date, version)
            select ?1, ?2, ?3, ?4
            where not exists (select 1 from session_tombstones where id = ?1)
         on conflict(id) do update set
            data = excluded.data,
            expiry_date = excluded.expiry_date,
            version = excluded.version
         where excluded.version >= tower_sessions.version or excluded.version = 0",
        encoded,
    )
    .await
}

/// Runs `statement` with the record's id, data, expiry and version as `?1` to `?4`; whether it
/// wrote a row.
async fn write(
    connection: &mut SqliteConnection,
    statement: &'static str,
    encoded: &Encoded,
) -> Result<bool, sqlx::Error> {
    let written = sqlx::query(statement)
        .bind(encoded.record.id.to_string())
        .bind(encoded.data.as_slice())
        .bind(encoded.record.expiry_date)
        .bind(encoded.version)
        .execute(&mut *connection)
        .await?
        .rows_affected();
    Ok(written > 0)
}

/// Deletes the session `id` and leaves its tombstone until `keep_until` (in the caller's
/// transaction). The caller passes the deletion's time plus the sessions' absolute lifetime:
/// any write that can still arrive carries a record that expires by then (a signed-in record
/// never outlives its login by more), so after it a late write is of an expired record, which
/// no read returns. (Keeping it only until the deleted record would have expired let a late
/// write of a record touched since bring the session back once the tombstone was swept.)
pub(super) async fn delete(
    connection: &mut SqliteConnection,
    id: &Id,
    keep_until: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let id = id.to_string();
    sqlx::query(
        "insert or replace into session_tombstones (id, expiry_date)
            select ?1, max(?2, coalesce((select expiry_date from tower_sessions where id = ?1), ?2))",
    )
    .bind(&id)
    .bind(keep_until)
    .execute(&mut *connection)
    .await?;
    sqlx::query("delete from tower_sessions where id = ?")
        .bind(&id)
        .execute(&mut *connection)
        .await?;
    Ok(())
}
