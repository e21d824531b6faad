//! Points where a test holds a store call between its steps, to run another call in the gap
//! deterministically (the interleavings a scheduler only sometimes produces).

use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::Notify;

/// The pauses of one store (shared by its clones).
#[derive(Debug, Default, Clone)]
pub(crate) struct Pauses {
    /// In `save`, after the SQLite writer has answered.
    pub(crate) after_write: Pause,
    /// In `load`, after the backend was read and before the cache is told.
    pub(crate) after_read: Pause,
}

/// Holds the first call that reaches it once armed; inert otherwise.
#[derive(Debug, Default, Clone)]
pub(crate) struct Pause(Arc<Mutex<Option<Arc<Held>>>>);

/// A held call: `reached` when it arrives, `resume` to let it go on.
#[derive(Debug, Default)]
pub(crate) struct Held {
    pub(crate) reached: Notify,
    pub(crate) resume: Notify,
}

impl Pause {
    /// Holds the next call that reaches this point.
    pub(crate) fn arm(&self) -> Arc<Held> {
        let held = Arc::new(Held::default());
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(held.clone());
        held
    }

    pub(crate) async fn wait(&self) {
        let armed = self.0.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(held) = armed {
            held.reached.notify_one();
            held.resume.notified().await;
        }
    }
}
