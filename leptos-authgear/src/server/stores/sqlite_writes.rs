//! SQLite writes where a deletion wins (issue 21): a request that read a session before another
//! request deleted it (logout, back-channel logout) must not write it back at its end.
//!
//! Deleting leaves a tombstone (the id, until the record would have expired) in the same
//! transaction, and a save only writes where there is none, in one statement. SQLite runs one
//! write at a time, so either the save comes first and the deletion removes what it wrote, or
//! the deletion comes first and the save finds the tombstone. Records are encoded as
//! tower-sessions-sqlx-store encodes them (MessagePack), which still reads them.

use sqlx::SqlitePool;
use tower_sessions::session::{Id, Record};

pub(super) async fn create_tombstones(pool: &SqlitePool) -> Result<(), sqlx::Error> {
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

/// Writes `record` unless its session was deleted; `false` when it was (nothing written).
pub(super) async fn save(pool: &SqlitePool, record: &Record) -> Result<bool, String> {
    let data = rmp_serde::to_vec(record).map_err(|error| error.to_string())?;
    let written = sqlx::query(
        "insert into tower_sessions (id, data, expiry_date)
            select ?1, ?2, ?3
            where not exists (select 1 from session_tombstones where id = ?1)
         on conflict(id) do update set
            data = excluded.data,
            expiry_date = excluded.expiry_date",
    )
    .bind(record.id.to_string())
    .bind(data)
    .bind(record.expiry_date)
    .execute(pool)
    .await
    .map_err(|error| error.to_string())?
    .rows_affected();
    Ok(written > 0)
}

/// Deletes the session `id` and leaves its tombstone, until the record would have expired.
pub(super) async fn delete(pool: &SqlitePool, id: &Id) -> Result<(), sqlx::Error> {
    let id = id.to_string();
    let mut transaction = pool.begin().await?;
    sqlx::query(
        "insert or replace into session_tombstones (id, expiry_date)
            select id, expiry_date from tower_sessions where id = ?",
    )
    .bind(&id)
    .execute(&mut *transaction)
    .await?;
    sqlx::query("delete from tower_sessions where id = ?")
        .bind(&id)
        .execute(&mut *transaction)
        .await?;
    transaction.commit().await
}
