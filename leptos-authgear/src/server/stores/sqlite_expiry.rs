//! Deleting expired SQLite sessions without holding the write lock over the whole table.
//!
//! tower-sessions-sqlx-store's own `delete_expired` runs `... where datetime(expiry_date) <
//! datetime('now')`: a function of the column, so no index can serve it, and SQLite scans every
//! row while it holds the database's one write lock (a flood of records made every write of real
//! users wait behind it: issue 21). Here an index on `expiry_date` finds the expired rows, and
//! they go in batches, each its own short transaction. The column holds the time as the store
//! binds it (sqlx's text form of an `OffsetDateTime` in UTC, which sorts as time does), so it is
//! compared with a time bound the same way, as the store's own `load` does.

use sqlx::SqlitePool;
use tower_sessions::cookie::time::OffsetDateTime;

/// Rows deleted per transaction: the write lock is held for one batch at a time, so that a
/// session's write waits for one batch at most (bench/README.md, "Scale": how long one takes).
const BATCH: i64 = 100;
/// After each batch the sweep rests this many times as long as the batch took, so that it
/// takes at most about a quarter of a core from the requests: at full speed, sweeping 100,000
/// expired sessions doubled the signed-in page's p99 on a busy 2-core machine (bench/README.md,
/// "Scale"). Expired records cost nothing meanwhile: reads never return them.
const REST_PER_WORK: u32 = 3;

/// Creates the index the deletion uses (once; cheap when it exists).
pub(super) async fn create_index(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    sqlx::query(
        "create index if not exists tower_sessions_by_expiry on tower_sessions (expiry_date)",
    )
    .execute(pool)
    .await
    .map(|_| ())
}

/// Deletes every record that expired before now, with its entries in the owner index (`owners`,
/// in the same transaction: an entry lives exactly as long as its record), and every expired
/// tombstone (see `sqlite_writes`); returns how many records.
pub(super) async fn delete_expired(pool: &SqlitePool) -> Result<u64, sqlx::Error> {
    let now = OffsetDateTime::now_utc();
    let deleted = delete_in_batches(pool, &[DELETE_OWNERS, DELETE_BATCH], now).await?;
    delete_in_batches(pool, &[DELETE_TOMBSTONES], now).await?;
    Ok(deleted)
}

/// Runs `statements` (each bound to `now` and [`BATCH`]) in one transaction per batch until the
/// last of them deletes fewer than a batch; returns how many rows the last deleted.
async fn delete_in_batches(
    pool: &SqlitePool,
    statements: &[&str],
    now: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    let mut deleted = 0;
    loop {
        let started = std::time::Instant::now();
        let mut transaction = pool.begin().await?;
        let mut batch = 0;
        for statement in statements {
            batch = sqlx::query(statement)
                .bind(now)
                .bind(BATCH)
                .execute(&mut *transaction)
                .await?
                .rows_affected();
        }
        transaction.commit().await?;
        deleted += batch;
        if batch < BATCH as u64 {
            return Ok(deleted);
        }
        tokio::time::sleep(started.elapsed() * REST_PER_WORK).await;
    }
}

const DELETE_BATCH: &str = "delete from tower_sessions where id in \
     (select id from tower_sessions where expiry_date < ? limit ?)";

/// The owner index's entries of the records `DELETE_BATCH` deletes next: in the same
/// transaction, the same rows come first through the same index.
const DELETE_OWNERS: &str = "delete from session_owners where session_id in \
     (select id from tower_sessions where expiry_date < ? limit ?)";

const DELETE_TOMBSTONES: &str = "delete from session_tombstones where id in \
     (select id from session_tombstones where expiry_date < ? limit ?)";

#[cfg(test)]
mod tests {
    use super::*;

    async fn table() -> SqlitePool {
        let pool = SqlitePool::connect("sqlite::memory:").await.expect("pool");
        tower_sessions_sqlx_store::SqliteStore::new(pool.clone())
            .migrate()
            .await
            .expect("table");
        create_index(&pool).await.expect("index");
        super::super::sqlite_writes::create_tombstones(&pool)
            .await
            .expect("tombstones");
        super::super::owners::Owners::sqlite(pool.clone())
            .await
            .expect("owners");
        pool
    }

    #[tokio::test]
    async fn owner_entries_go_with_their_records_and_live_ones_stay() {
        let pool = table().await;
        let now = OffsetDateTime::now_utc();
        let seconds = tower_sessions::cookie::time::Duration::seconds;
        let ids: Vec<String> = (0..BATCH + 3).map(|i| format!("old{i}")).collect();
        for (id, expiry) in ids
            .iter()
            .map(|id| (id.as_str(), now - seconds(10)))
            .chain([("live", now + seconds(3600))])
        {
            sqlx::query("insert into tower_sessions (id, data, expiry_date) values (?, x'00', ?)")
                .bind(id)
                .bind(expiry)
                .execute(&pool)
                .await
                .expect("insert");
            sqlx::query(
                "insert into session_owners (key, session_id, expiry_date) values ('sub', ?, 0)",
            )
            .bind(id)
            .execute(&pool)
            .await
            .expect("insert");
        }
        assert_eq!(
            delete_expired(&pool).await.expect("delete"),
            (BATCH + 3) as u64
        );
        let left: Vec<String> = sqlx::query_scalar("select session_id from session_owners")
            .fetch_all(&pool)
            .await
            .expect("rows");
        assert_eq!(left, ["live"]);
    }

    #[tokio::test]
    async fn the_expired_rows_are_found_through_the_index_not_a_scan() {
        let pool = table().await;
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("explain query plan {DELETE_BATCH}"))
                .bind(OffsetDateTime::now_utc())
                .bind(BATCH)
                .fetch_all(&pool)
                .await
                .expect("plan");
        let plan: Vec<&str> = plan.iter().map(|row| row.3.as_str()).collect();
        assert!(
            plan.iter().any(
                |step| step.contains("USING COVERING INDEX tower_sessions_by_expiry")
                    || step.contains("USING INDEX tower_sessions_by_expiry")
            ),
            "{plan:?}"
        );
        assert!(
            !plan
                .iter()
                .any(|step| step.starts_with("SCAN tower_sessions")),
            "{plan:?}"
        );
    }

    #[tokio::test]
    async fn every_expired_row_goes_in_batches_and_live_ones_stay() {
        let pool = table().await;
        let now = OffsetDateTime::now_utc();
        let seconds = tower_sessions::cookie::time::Duration::seconds;
        for i in 0..(BATCH * 2 + 7) {
            sqlx::query("insert into tower_sessions (id, data, expiry_date) values (?, x'00', ?)")
                .bind(format!("old{i}"))
                .bind(now - seconds(10))
                .execute(&pool)
                .await
                .expect("insert");
        }
        sqlx::query("insert into tower_sessions (id, data, expiry_date) values ('live', x'00', ?)")
            .bind(now + seconds(3600))
            .execute(&pool)
            .await
            .expect("insert");
        assert_eq!(
            delete_expired(&pool).await.expect("delete"),
            (BATCH * 2 + 7) as u64
        );
        let left: Vec<String> = sqlx::query_scalar("select id from tower_sessions")
            .fetch_all(&pool)
            .await
            .expect("rows");
        assert_eq!(left, ["live"]);
    }
}
