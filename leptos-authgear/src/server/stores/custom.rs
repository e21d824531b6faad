//! An app's own `tower_sessions::SessionStore` (Postgres through `tower-sessions-sqlx-store`,
//! DynamoDB, …), for teams that already run one.

use std::sync::Arc;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// Any `tower_sessions::SessionStore`, for [`Auth::with_store`](crate::server::Auth::with_store).
///
/// What such a store does not give that the built-in ones do, and what follows:
/// - **A deletion that wins over writes already in flight.** SQLite, Redis and memory drop a
///   write of a session deleted (a logout, a back-channel logout) or rewritten (a refresh's new
///   tokens) after the write read it. Here a save first asks whether the record still exists,
///   which narrows that window but cannot close it: a request that read the session before a
///   logout and writes after it can, rarely, bring the session back until its idle timeout.
/// - **The decoded cache** (SQLite's): every request decodes its record.
/// - **Across instances**: the owner index (which sessions a back-channel logout or webhook
///   names), the refresh lock and the announcements that end open pages are kept in this
///   process. With several instances, a back-channel logout ends only the sessions signed in
///   through the instance it reaches, two instances may refresh the same session at once (fine
///   for a provider that does not rotate refresh tokens), and an open page learns of a logout
///   on another instance at its next check (30 s) rather than at once. Run one instance, or
///   use the Redis store.
/// - **Expiry**: the store must delete expired records itself (tower-sessions' stores do, with
///   `ExpiredDeletion` or the database's own expiry).
#[derive(Clone, Debug)]
pub struct CustomStore(Arc<dyn SessionStore>);

impl CustomStore {
    /// Wraps `store`.
    pub fn new(store: impl SessionStore) -> Self {
        Self(Arc::new(store))
    }

    pub(super) async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.0.create(record).await
    }

    /// Writes `record` if it still exists; `false` when it does not (it was deleted).
    pub(super) async fn save_unless_superseded(
        &self,
        record: &Record,
    ) -> session_store::Result<bool> {
        if self.0.load(&record.id).await?.is_none() {
            return Ok(false);
        }
        self.0.save(record).await.map(|()| true)
    }

    pub(super) async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.0.load(id).await
    }

    pub(super) async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.0.delete(id).await
    }
}
