//! Every SQLite session write through one connection, in batches: a write waits while the one
//! before it commits, then commits with every write that queued meanwhile, in one transaction
//! ("group commit"). SQLite runs one write transaction at a time anyway; a pool of connections
//! each starting its own only made them wait on each other's locks, a transaction per write
//! (bench/README.md, "SQLite writes in batches").
//!
//! A write keeps its rules (`sqlite_writes`): a deletion leaves a tombstone, a save writes only
//! where there is none and no newer version. The owner index is written in the same
//! transaction as its record. If the transaction fails, every write in it fails (the store's
//! error: a 503), and none of them is half done.
//!
//! What the cache in front of SQLite learns of a write, it learns here, after the commit and
//! before the answer, in the transaction's order (`cache`): the cache follows the commits.
//!
//! A write whose caller stopped waiting (the store's timeout) is dropped before it is
//! committed; a new record committed for a caller that has gone meanwhile is deleted again (no
//! signed-in record that no cookie names). The writer is supervised: if its connection fails
//! or its task panics, the writes in hand fail, it starts again on a new connection, and while
//! it is down new writes fail at once and [`SqliteWriter::is_up`] says so (`/readyz`).

use super::cache::SessionCache;
use super::owners;
use super::sqlite_writes::{self, Encoded};
use futures::FutureExt;
use sqlx::{Connection, SqliteConnection, SqlitePool};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::Id;

/// The most writes one transaction takes; more wait for the next.
const MAX_BATCH: usize = 256;
/// Writes that may wait for the writer before the next one waits for room.
const QUEUE: usize = 4096;
/// After the writer failed, the wait before it starts again.
const RESTART_AFTER: Duration = Duration::from_millis(200);

/// The writer: a task that owns the connection; cheap to clone.
#[derive(Debug, Clone)]
pub(super) struct SqliteWriter {
    jobs: mpsc::Sender<Job>,
    up: Arc<AtomicBool>,
}

enum Write {
    /// A new record: under a fresh id if its own is taken. Answers the id it got.
    Create(Encoded),
    /// Answers whether it was written.
    Save(Encoded),
    Delete(Id),
    /// Makes the writer's task panic, as a bug would.
    #[cfg(test)]
    Panic,
}

enum Written {
    Created(Id),
    Saved(bool),
    Deleted,
}

struct Job {
    write: Write,
    done: oneshot::Sender<Result<Written, String>>,
}

/// What the writer's task keeps across restarts.
struct Writer {
    pool: SqlitePool,
    cache: Option<Arc<SessionCache>>,
    /// How long a tombstone outlives its deletion: the sessions' absolute lifetime.
    tombstone_lifetime: Duration,
    up: Arc<AtomicBool>,
}

/// Why the writer's loop ended.
enum Ended {
    /// Every sender is gone: the store was dropped.
    Closed,
    /// The connection failed: start again on a new one.
    Failed,
}

impl SqliteWriter {
    /// Takes one connection out of `pool` for the writer's own, and starts the writer, which
    /// tells `cache` of every write it commits.
    pub(super) async fn start(
        pool: &SqlitePool,
        cache: Option<Arc<SessionCache>>,
        tombstone_lifetime: Duration,
    ) -> Result<Self, sqlx::Error> {
        let connection = pool.acquire().await?.detach();
        let (jobs, queue) = mpsc::channel(QUEUE);
        let up = Arc::new(AtomicBool::new(true));
        let writer = Writer {
            pool: pool.clone(),
            cache,
            tombstone_lifetime,
            up: up.clone(),
        };
        tokio::spawn(writer.supervise(connection, queue));
        Ok(Self { jobs, up })
    }

    /// Whether the writer is running (not starting again after a failure).
    pub(super) fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    /// Writes a new record, under a fresh id if its own is taken; returns the id.
    pub(super) async fn create(&self, record: Encoded) -> Result<Id, String> {
        match self.submit(Write::Create(record)).await? {
            Written::Created(id) => Ok(id),
            _ => Err("unexpected answer from the writer".into()),
        }
    }

    /// Writes `record` unless its session was deleted or is stored in a newer version;
    /// `false` when nothing was written.
    pub(super) async fn save(&self, record: Encoded) -> Result<bool, String> {
        match self.submit(Write::Save(record)).await? {
            Written::Saved(written) => Ok(written),
            _ => Err("unexpected answer from the writer".into()),
        }
    }

    /// Deletes session `id` and leaves its tombstone.
    pub(super) async fn delete(&self, id: Id) -> Result<(), String> {
        self.submit(Write::Delete(id)).await.map(|_| ())
    }

    #[cfg(test)]
    pub(super) async fn panic(&self) -> Result<(), String> {
        self.submit(Write::Panic).await.map(|_| ())
    }

    /// Queues `write` and waits for its answer, at most the store's timeout (a disk that hangs
    /// is a 503, not a hung request). A write not yet committed when the caller gives up is
    /// dropped; while the writer is down, every write fails at once.
    async fn submit(&self, write: Write) -> Result<Written, String> {
        if !self.is_up() {
            return Err("the SQLite writer is starting again after a failure".to_owned());
        }
        let stopped = || "the SQLite writer has stopped".to_owned();
        let (done, answer) = oneshot::channel();
        let queued_and_answered = async {
            self.jobs
                .send(Job { write, done })
                .await
                .map_err(|_| stopped())?;
            answer.await.map_err(|_| stopped())?
        };
        tokio::time::timeout(super::STORE_TIMEOUT, queued_and_answered)
            .await
            .map_err(|_| "the SQLite writer did not answer in time".to_owned())?
    }
}

impl Writer {
    /// Runs the loop, and runs it again on a new connection whenever it fails or panics.
    async fn supervise(self, first: SqliteConnection, mut queue: mpsc::Receiver<Job>) {
        let mut connection = Some(first);
        loop {
            let current = match connection.take() {
                Some(current) => current,
                None => match self.pool.acquire().await {
                    Ok(pooled) => pooled.detach(),
                    Err(error) => {
                        tracing::error!(%error, "the SQLite writer cannot reconnect; trying again");
                        tokio::time::sleep(RESTART_AFTER).await;
                        continue;
                    }
                },
            };
            self.up.store(true, Ordering::Release);
            let ran = AssertUnwindSafe(self.run(current, &mut queue))
                .catch_unwind()
                .await;
            match ran {
                Ok(Ended::Closed) => return,
                Ok(Ended::Failed) => {
                    tracing::error!("the SQLite writer's connection failed; starting again");
                }
                Err(_) => tracing::error!("the SQLite writer panicked; starting again"),
            }
            self.up.store(false, Ordering::Release);
            tokio::time::sleep(RESTART_AFTER).await;
        }
    }

    /// The writer's loop: a batch of what has queued, one transaction, the cache told, the
    /// answers.
    async fn run(
        &self,
        mut connection: SqliteConnection,
        queue: &mut mpsc::Receiver<Job>,
    ) -> Ended {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
            // Callers that stopped waiting were told the write failed: it must not land.
            batch.retain(|job| !job.done.is_closed());
            if batch.is_empty() {
                continue;
            }
            #[cfg(test)]
            if batch.iter().any(|job| matches!(job.write, Write::Panic)) {
                panic!("a test asked the SQLite writer to panic");
            }
            let keep_until = OffsetDateTime::now_utc() + self.tombstone_lifetime;
            let mut writes: Vec<&mut Write> = batch.iter_mut().map(|job| &mut job.write).collect();
            let answers = match commit(&mut connection, &mut writes, keep_until).await {
                Ok(answers) => answers,
                Err(error) => {
                    let error = error.to_string();
                    tracing::warn!(%error, writes = batch.len(), "SQLite session writes failed");
                    for job in batch.drain(..) {
                        let _ = job.done.send(Err(error.clone()));
                    }
                    return Ended::Failed;
                }
            };
            let mut orphans = Vec::new();
            for (job, answer) in batch.drain(..).zip(answers) {
                self.tell_cache(&job.write, &answer);
                if let (Err(Ok(Written::Created(id))), Write::Create(_)) =
                    (job.done.send(Ok(answer)), &job.write)
                {
                    orphans.push(Write::Delete(id));
                }
            }
            if !orphans.is_empty() {
                // Created for a caller that gave up while it committed: no cookie names it.
                let mut writes: Vec<&mut Write> = orphans.iter_mut().collect();
                if commit(&mut connection, &mut writes, keep_until)
                    .await
                    .is_err()
                {
                    return Ended::Failed;
                }
                for orphan in &orphans {
                    self.tell_cache(orphan, &Written::Deleted);
                }
            }
        }
        Ended::Closed
    }

    fn tell_cache(&self, write: &Write, answer: &Written) {
        let Some(cache) = &self.cache else {
            return;
        };
        match (write, answer) {
            (Write::Create(encoded), Written::Created(_))
            | (Write::Save(encoded), Written::Saved(true)) => {
                cache.apply_write(&encoded.record, encoded.decoded.clone(), encoded.digest());
            }
            (Write::Delete(id), Written::Deleted) => cache.apply_delete(id),
            _ => {}
        }
    }
}

/// `writes` in one transaction, and what each did.
async fn commit(
    connection: &mut SqliteConnection,
    writes: &mut [&mut Write],
    keep_until: OffsetDateTime,
) -> Result<Vec<Written>, sqlx::Error> {
    let mut transaction = connection.begin().await?;
    let mut answers = Vec::with_capacity(writes.len());
    for write in writes.iter_mut() {
        answers.push(match write {
            Write::Create(encoded) => {
                while !sqlite_writes::insert_new(&mut transaction, encoded).await? {
                    // Taken (128 random bits: never, in practice): another id.
                    let mut record = encoded.record.clone();
                    record.id = Id::default();
                    *encoded =
                        Encoded::new(record).map_err(|error| sqlx::Error::Encode(error.into()))?;
                }
                owners::record_sqlite(&mut transaction, &encoded.record).await?;
                Written::Created(encoded.record.id)
            }
            Write::Save(encoded) => {
                let written = sqlite_writes::save(&mut transaction, encoded).await?;
                if written {
                    owners::record_sqlite(&mut transaction, &encoded.record).await?;
                }
                Written::Saved(written)
            }
            Write::Delete(id) => {
                sqlite_writes::delete(&mut transaction, id, keep_until).await?;
                owners::forget_sqlite(&mut transaction, id).await?;
                Written::Deleted
            }
            #[cfg(test)]
            Write::Panic => Written::Deleted,
        });
    }
    transaction.commit().await?;
    Ok(answers)
}
