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

use super::owners;
use super::sqlite_writes::{self, Encoded};
use sqlx::{Connection, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};
use tower_sessions::session::Id;

/// The most writes one transaction takes; more wait for the next.
const MAX_BATCH: usize = 256;
/// Writes that may wait for the writer before the next one waits for room.
const QUEUE: usize = 4096;

/// The writer: a task that owns the connection; cheap to clone.
#[derive(Debug, Clone)]
pub(super) struct SqliteWriter {
    jobs: mpsc::Sender<Job>,
}

enum Write {
    /// A new record: under a fresh id if its own is taken. Answers the id it got.
    Create(Encoded),
    /// Answers whether it was written.
    Save(Encoded),
    Delete(Id),
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

impl SqliteWriter {
    /// Takes one connection out of `pool` for the writer's own, and starts the writer.
    pub(super) async fn start(pool: &SqlitePool) -> Result<Self, sqlx::Error> {
        let connection = pool.acquire().await?.detach();
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(run(connection, queue));
        Ok(Self { jobs })
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

    /// Queues `write` and waits for its answer, at most the store's timeout (a disk that hangs
    /// is a 503, not a hung request; the write may still land after).
    async fn submit(&self, write: Write) -> Result<Written, String> {
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

/// The writer's loop: a batch of what has queued, one transaction, the answers.
async fn run(mut connection: SqliteConnection, mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let mut writes: Vec<&mut Write> = batch.iter_mut().map(|job| &mut job.write).collect();
        match commit(&mut connection, &mut writes).await {
            Ok(answers) => {
                for (job, answer) in batch.drain(..).zip(answers) {
                    let _ = job.done.send(Ok(answer));
                }
            }
            Err(error) => {
                let error = error.to_string();
                tracing::warn!(%error, writes = batch.len(), "SQLite session writes failed");
                for job in batch.drain(..) {
                    let _ = job.done.send(Err(error.clone()));
                }
            }
        }
    }
}

/// `writes` in one transaction, and what each did.
async fn commit(
    connection: &mut SqliteConnection,
    writes: &mut [&mut Write],
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
                sqlite_writes::delete(&mut transaction, id).await?;
                owners::forget_sqlite(&mut transaction, id).await?;
                Written::Deleted
            }
        });
    }
    transaction.commit().await?;
    Ok(answers)
}
