//! One refresh at a time per session. In one process a `tokio` mutex per session does it;
//! with sessions in Redis, several instances may serve one session at the same moment, so
//! the lock is a Redis key (`SET NX PX`, released only by its holder, and renewed while held so
//! that a slow refresh cannot outlive it).
//!
//! Rotated refresh tokens die on first use: two refreshes racing with the same token would
//! end the session. The holder refreshes and writes the session; whoever waited reloads the
//! session afterwards and finds fresh tokens.

#[cfg(feature = "redis")]
use super::RedisPool;
#[cfg(feature = "redis")]
use fred::prelude::{KeysInterface, LuaInterface};
#[cfg(feature = "redis")]
use fred::types::{Expiration, SetOptions};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
#[cfg(feature = "redis")]
use std::time::{Duration, Instant};

/// A holder that died cannot block the session for longer than this. A live one renews its
/// lock every third of it, however long the provider takes (a rediscovery and a token request
/// may each take 10 s).
#[cfg(feature = "redis")]
const LOCK_TTL: Duration = Duration::from_secs(15);
#[cfg(feature = "redis")]
const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// Deletes the key only if it still holds this holder's token.
#[cfg(feature = "redis")]
const RELEASE_SCRIPT: &str =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/// Extends the key's life only if it still holds this holder's token.
#[cfg(feature = "redis")]
const RENEW_SCRIPT: &str =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

#[derive(Debug, thiserror::Error)]
#[error("refresh lock: {0}")]
pub struct LockError(String);

pub enum RefreshLocks {
    Local(LocalLocks),
    #[cfg(feature = "redis")]
    Redis {
        pool: RedisPool,
        ttl: Duration,
    },
}

/// Held while refreshing; give it back with [`RefreshGuard::release`] (a Redis lock that is
/// not released expires after `LOCK_TTL`).
pub enum RefreshGuard {
    /// Held, not read: dropping it unlocks.
    Local(#[allow(dead_code)] tokio::sync::OwnedMutexGuard<()>),
    #[cfg(feature = "redis")]
    Redis {
        pool: RedisPool,
        key: String,
        token: String,
        /// Renews the key until released (or dropped).
        _renewal: AbortOnDrop,
    },
}

/// A task that stops when this is dropped.
#[cfg(feature = "redis")]
pub struct AbortOnDrop(tokio::task::JoinHandle<()>);

#[cfg(feature = "redis")]
impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl RefreshLocks {
    /// In Redis when the sessions are (several instances share them), else in this process.
    pub fn new(sessions: &super::Sessions) -> Self {
        #[cfg(feature = "redis")]
        if let Some(pool) = sessions.redis() {
            return RefreshLocks::Redis {
                pool,
                ttl: LOCK_TTL,
            };
        }
        let _ = sessions;
        RefreshLocks::Local(LocalLocks::default())
    }

    /// Waits until this request may refresh `session_id`'s tokens.
    pub async fn lock(&self, session_id: &str) -> Result<RefreshGuard, LockError> {
        match self {
            RefreshLocks::Local(locks) => Ok(RefreshGuard::Local(
                locks.for_session(session_id).lock_owned().await,
            )),
            #[cfg(feature = "redis")]
            RefreshLocks::Redis { pool, ttl } => {
                let ttl = *ttl;
                let key = format!("refresh-lock:{session_id}");
                let token = openidconnect::CsrfToken::new_random().into_secret();
                let started = Instant::now();
                loop {
                    let acquired: Option<String> = pool
                        .set(
                            &key,
                            token.as_str(),
                            Some(Expiration::PX(ttl.as_millis() as i64)),
                            Some(SetOptions::NX),
                            false,
                        )
                        .await
                        .map_err(|error| LockError(error.to_string()))?;
                    if acquired.is_some() {
                        let renewal = renew(pool.clone(), key.clone(), token.clone(), ttl);
                        return Ok(RefreshGuard::Redis {
                            pool: pool.clone(),
                            key,
                            token,
                            _renewal: AbortOnDrop(tokio::spawn(renewal)),
                        });
                    }
                    if started.elapsed() > ttl {
                        return Err(LockError("timed out waiting for another refresh".into()));
                    }
                    tokio::time::sleep(POLL_INTERVAL).await;
                }
            }
        }
    }
}

#[cfg(feature = "redis")]
/// Every third of `ttl`, extends the lock `key` while it holds `token`; stops when it does not
/// (or when the task is aborted at release).
async fn renew(pool: RedisPool, key: String, token: String, ttl: Duration) {
    let ttl_ms = ttl.as_millis().to_string();
    loop {
        tokio::time::sleep(ttl / 3).await;
        let renewed: Result<i64, _> = pool
            .eval(
                RENEW_SCRIPT,
                vec![key.clone()],
                vec![token.clone(), ttl_ms.clone()],
            )
            .await;
        match renewed {
            Ok(1) => {}
            Ok(_) => return,
            Err(error) => tracing::warn!(%error, "could not renew the refresh lock"),
        }
    }
}

impl RefreshGuard {
    pub async fn release(self) {
        #[cfg(feature = "redis")]
        if let RefreshGuard::Redis {
            pool,
            key,
            token,
            _renewal,
        } = self
        {
            drop(_renewal);
            let released: Result<i64, _> = pool.eval(RELEASE_SCRIPT, vec![key], vec![token]).await;
            if let Err(error) = released {
                tracing::warn!(%error, "could not release the refresh lock; it will expire");
            }
        }
    }
}

/// Per-session mutexes. Entries are weak: a lock lives as long as some request holds or
/// waits for it.
#[derive(Default)]
pub struct LocalLocks(Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>);

impl LocalLocks {
    fn for_session(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        locks.retain(|_, lock| lock.strong_count() > 0);
        if let Some(lock) = locks.get(id).and_then(Weak::upgrade) {
            return lock;
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        locks.insert(id.to_owned(), Arc::downgrade(&lock));
        lock
    }
}

#[cfg(all(test, feature = "redis"))]
mod tests {
    use super::*;
    use crate::server::stores::test_redis::ScratchRedis;

    #[tokio::test]
    async fn a_held_redis_lock_outlives_its_ttl_and_is_free_once_released() {
        let redis = ScratchRedis::start().await;
        let pool = redis.pool().await;
        let ttl = Duration::from_millis(300);
        let locks = RefreshLocks::Redis { pool, ttl };
        let held = locks.lock("s1").await.expect("the lock");
        // Three times its TTL later, still held: another holder waits (for a TTL) in vain.
        tokio::time::sleep(ttl * 3).await;
        let waited = locks.lock("s1").await;
        assert!(waited.is_err(), "the lock expired while held");
        held.release().await;
        let again = locks.lock("s1").await.expect("free after release");
        again.release().await;
    }
}
