//! The Redis store: shared by several instances, with the owner index, the refresh locks and
//! the announcements of ended sessions in the same Redis.

use super::owners::Owners;
use super::{Access, Backend, SessionEnds, Sessions, STORE_TIMEOUT};
use crate::server::session::record_version;
use fred::prelude::{ClientLike, Config as RedisConfig, ReconnectPolicy};
use std::time::Duration;
use tower_sessions::session::Record;
use tower_sessions::session_store;
use tower_sessions_redis_store::RedisStore;

/// The connection pool the store, the owner index and the refresh locks share.
pub(crate) type RedisPool = fred::prelude::Pool;

/// Connects to `url`; with [`Access::Exclusive`] (a server), also hears the other instances'
/// ended sessions.
pub(super) async fn open(
    url: &str,
    max_lifetime: Duration,
    access: Access,
) -> Result<Sessions, String> {
    let pool = connect_redis(url).await?;
    let ends = match access {
        Access::Exclusive => {
            let config = RedisConfig::from_url(url).map_err(|error| error.to_string())?;
            SessionEnds::redis(config, pool.clone()).await?
        }
        Access::Check => SessionEnds::local(),
    };
    Ok(Sessions::without_cache(
        Backend::Redis(RedisStore::new(pool.clone()), pool.clone()),
        Owners::redis(pool, max_lifetime),
        ends,
    ))
}

pub(super) async fn connect_redis(url: &str) -> Result<RedisPool, String> {
    let config = RedisConfig::from_url(url).map_err(|error| error.to_string())?;
    let pool = fred::types::Builder::from_config(config)
        .with_connection_config(|connection| {
            connection.connection_timeout = STORE_TIMEOUT;
            connection.internal_command_timeout = STORE_TIMEOUT;
        })
        // While Redis is away, commands fail after the timeout (a 503) instead of waiting.
        .with_performance_config(|performance| {
            performance.default_command_timeout = STORE_TIMEOUT;
        })
        // ... and the pool keeps reconnecting in the background, forever, every half second.
        .set_policy(ReconnectPolicy::new_constant(0, 500))
        .build_pool(4)
        .map_err(|error| error.to_string())?;
    // The first connection must work: a wrong address is a start-up error, not a hung app.
    match tokio::time::timeout(STORE_TIMEOUT * 2, pool.init()).await {
        Ok(Ok(_connection_task)) => Ok(pool),
        Ok(Err(error)) => Err(format!("cannot connect: {error}")),
        Err(_) => Err("cannot connect: no answer".to_owned()),
    }
}

/// Writes the record only if its key exists (a deleted session stays deleted, as with
/// tower-sessions-redis-store's `SET … XX`) and its version is not older than the one kept
/// beside it (`session-version:<id>`), in one script. `false` when nothing was written.
pub(super) async fn save_existing(
    pool: &RedisPool,
    record: &Record,
) -> session_store::Result<bool> {
    use fred::prelude::LuaInterface;
    use fred::types::Value;
    let bytes = rmp_serde::to_vec(record)
        .map_err(|error| session_store::Error::Encode(error.to_string()))?;
    let id = record.id.to_string();
    let version = i64::try_from(record_version(&record.data)).unwrap_or(i64::MAX);
    let written: i64 = pool
        .eval(
            REDIS_SAVE_SCRIPT,
            vec![id.clone(), format!("session-version:{id}")],
            vec![
                Value::Bytes(bytes.into()),
                Value::Integer(record.expiry_date.unix_timestamp()),
                Value::Integer(version),
            ],
        )
        .await
        .map_err(|error| session_store::Error::Backend(error.to_string()))?;
    Ok(written == 1)
}

const REDIS_SAVE_SCRIPT: &str = "
if redis.call('exists', KEYS[1]) == 0 then return 0 end
local kept = tonumber(redis.call('get', KEYS[2]) or '0')
local version = tonumber(ARGV[3])
if version ~= 0 and version < kept then return 0 end
redis.call('set', KEYS[1], ARGV[1], 'EXAT', ARGV[2])
redis.call('set', KEYS[2], ARGV[3], 'EXAT', ARGV[2])
return 1";
