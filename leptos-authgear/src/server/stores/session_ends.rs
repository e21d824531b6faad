//! Word that a session was deleted, for the pages that show it (`GET /session/events`): every
//! deletion here (logout, webhook, back-channel logout, a refused refresh, a new login's id) is
//! announced to this process's listeners and, with Redis, to every instance's.
//!
//! An announcement is a hint, not the truth: a listener reads the store again before it tells
//! a browser anything, so a lost or repeated announcement costs a little delay or a read,
//! never a wrong answer.

#[cfg(feature = "redis")]
use super::RedisPool;
#[cfg(feature = "redis")]
use fred::clients::SubscriberClient;
#[cfg(feature = "redis")]
use fred::prelude::ReconnectPolicy;
#[cfg(feature = "redis")]
use fred::prelude::{ClientLike, Config as RedisConfig, EventInterface, PubsubInterface};
#[cfg(feature = "redis")]
use std::str::FromStr;
use tokio::sync::broadcast;
use tower_sessions::session::Id;

/// The Redis channel every instance publishes deleted session ids on.
#[cfg(feature = "redis")]
const REDIS_CHANNEL: &str = "leptos-authgear:session-ended";

/// Announcements the listener (one task per process, `dispatch_session_ends`) may fall behind
/// by before it is told it lagged (and every open stream reads the store again): a burst of
/// deletions (a `user.disabled` webhook for many users) fits.
const BACKLOG: usize = 16_384;

/// This process's announcements of deleted sessions.
#[derive(Debug, Clone)]
pub struct SessionEnds {
    local: broadcast::Sender<Id>,
    /// With Redis: the pool to publish on, for the other instances.
    #[cfg(feature = "redis")]
    redis: Option<RedisPool>,
    /// With Redis: the connection that hears the other instances (its tasks run while it is
    /// held).
    #[cfg(feature = "redis")]
    _subscriber: Option<SubscriberClient>,
}

impl SessionEnds {
    /// Announcements within this process only.
    pub(super) fn local() -> Self {
        Self {
            local: broadcast::channel(BACKLOG).0,
            #[cfg(feature = "redis")]
            redis: None,
            #[cfg(feature = "redis")]
            _subscriber: None,
        }
    }

    /// Announcements shared with every instance on this Redis: published with `pool`, heard on
    /// a subscriber connection of their own (which reconnects and subscribes again by itself).
    #[cfg(feature = "redis")]
    pub(super) async fn redis(config: RedisConfig, pool: RedisPool) -> Result<Self, String> {
        let local = broadcast::channel(BACKLOG).0;
        let subscriber = fred::types::Builder::from_config(config)
            .set_policy(ReconnectPolicy::new_constant(0, 500))
            .build_subscriber_client()
            .map_err(|error| error.to_string())?;
        subscriber
            .init()
            .await
            .map_err(|error| format!("cannot subscribe: {error}"))?;
        let _resubscribes = subscriber.manage_subscriptions();
        let _listener = subscriber.on_message({
            let local = local.clone();
            move |message| {
                let local = local.clone();
                async move {
                    if let Some(id) = message.value.as_str().and_then(|id| Id::from_str(&id).ok()) {
                        let _ = local.send(id);
                    }
                    Ok(())
                }
            }
        });
        subscriber
            .subscribe(REDIS_CHANNEL)
            .await
            .map_err(|error| format!("cannot subscribe: {error}"))?;
        Ok(Self {
            local,
            redis: Some(pool),
            _subscriber: Some(subscriber),
        })
    }

    /// Announces that session `id` was deleted. Best effort: a listener that misses it reads the
    /// store on its next check.
    pub(super) async fn announce(&self, id: Id) {
        let _ = self.local.send(id);
        #[cfg(feature = "redis")]
        if let Some(pool) = &self.redis {
            let published: Result<i64, _> =
                pool.next().publish(REDIS_CHANNEL, id.to_string()).await;
            if let Err(error) = published {
                tracing::debug!(%error, "announcing a deleted session to other instances failed");
            }
        }
    }

    /// Every deletion announced from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Id> {
        self.local.subscribe()
    }
}
