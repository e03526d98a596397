//! The refresh lock: at most one refresh of a user's token at a time, and a generation that
//! `disconnect` and `complete` bump so that a refresh under way stores nothing after them.
//!
//! The plugin offers no compare-and-set on `/oauth2/user` (mattermost/mattermost-plugin-apps:
//! `server/appservices/oauth2.go`), so read → refresh → store must not interleave for one
//! user. Two engines, one behaviour:
//!
//! - in-process (the default, one instance): an async mutex per (site, user);
//! - Redis (`--redis-url`, required with more than one replica): `SET key <random> NX PX
//!   <ttl>`, released by a script that deletes the key only if it still holds this holder's
//!   value. A holder that crashes loses the lock when the TTL ends; nothing is left to
//!   clean up. The generation is a Redis counter (`INCR`).
//!
//! Everything is keyed by the Mattermost site URL and the user ID.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ring::rand::{SecureRandom, SystemRandom};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};
use tokio::time::Instant;

/// Whose token: the Mattermost site and the user on it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserKey {
    /// The Mattermost site URL, without a trailing `/`.
    pub site: String,
    /// The Mattermost user ID.
    pub user_id: String,
}

impl UserKey {
    fn redis(&self, what: &str) -> String {
        format!("hello-oauth2-rs:{what}:{}:{}", self.site, self.user_id)
    }
}

/// Why the lock could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockError {
    /// The lock service did not answer (its error, without secrets).
    #[error("the lock service is unavailable: {0}")]
    Unavailable(String),
    /// Another holder kept it past the time this call could wait.
    #[error("another renewal of this connection is still under way")]
    Busy,
}

impl From<redis::RedisError> for LockError {
    fn from(err: redis::RedisError) -> Self {
        LockError::Unavailable(err.to_string())
    }
}

/// Deletes the lock only when it still holds the caller's value.
const RELEASE: &str = r#"if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("DEL", KEYS[1])
end
return 0"#;

/// The lock and the generations, on one of the two engines.
pub enum Locks {
    /// One instance: in this process.
    Local(Mutex<HashMap<UserKey, LocalEntry>>),
    /// Several replicas: in Redis.
    Redis(Box<RedisLocks>),
}

/// One user's in-process lock and generation.
#[derive(Default)]
pub struct LocalEntry {
    lock: Arc<AsyncMutex<()>>,
    generation: u64,
}

/// The Redis engine.
pub struct RedisLocks {
    client: redis::Client,
    connection: tokio::sync::OnceCell<ConnectionManager>,
    /// How long a lock lives when its holder does not release it (it crashed).
    ttl: Duration,
    release: redis::Script,
}

/// A held lock; give it back with [`Locks::release`]. Dropped without it, an in-process
/// lock is released at once and a Redis lock when its TTL ends.
pub enum Guard {
    /// In-process.
    Local(OwnedMutexGuard<()>),
    /// Redis: the key and this holder's random value.
    Redis {
        /// The lock's key.
        key: String,
        /// This holder's value.
        value: String,
    },
}

impl Locks {
    /// The in-process engine.
    pub fn local() -> Self {
        Locks::Local(Mutex::new(HashMap::new()))
    }

    /// The Redis engine at `url`; `ttl` bounds how long a crashed holder blocks a user.
    /// Connects on first use.
    pub fn redis(url: &str, ttl: Duration) -> Result<Self, redis::RedisError> {
        Ok(Locks::Redis(Box::new(RedisLocks {
            client: redis::Client::open(url)?,
            connection: tokio::sync::OnceCell::new(),
            ttl,
            release: redis::Script::new(RELEASE),
        })))
    }

    /// Takes `key`'s lock, waiting with a short backoff until `until`.
    pub async fn acquire(&self, key: &UserKey, until: Instant) -> Result<Guard, LockError> {
        match self {
            Locks::Local(table) => {
                let lock = entry(table).entry(key.clone()).or_default().lock.clone();
                tokio::time::timeout_at(until, lock.lock_owned())
                    .await
                    .map(Guard::Local)
                    .map_err(|_| LockError::Busy)
            }
            Locks::Redis(redis) => redis.acquire(key, until).await,
        }
    }

    /// Gives the lock back (a Redis lock only if it is still this holder's).
    pub async fn release(&self, guard: Guard) {
        if let (Locks::Redis(redis), Guard::Redis { key, value }) = (self, guard) {
            if let Err(err) = redis.release(&key, &value).await {
                // The TTL ends it anyway; the next holder waits until then.
                log::warn!("could not release a refresh lock: {err}");
            }
        }
    }

    /// `key`'s generation: it changes when the user disconnects or connects again.
    pub async fn generation(&self, key: &UserKey) -> Result<u64, LockError> {
        match self {
            Locks::Local(table) => Ok(entry(table).get(key).map_or(0, |e| e.generation)),
            Locks::Redis(redis) => {
                let mut connection = redis.connection().await?;
                let value: Option<u64> = redis::cmd("GET")
                    .arg(key.redis("generation"))
                    .query_async(&mut connection)
                    .await?;
                Ok(value.unwrap_or(0))
            }
        }
    }

    /// Starts a new generation for `key`: a refresh that began before stores nothing.
    pub async fn bump(&self, key: &UserKey) -> Result<(), LockError> {
        match self {
            Locks::Local(table) => {
                entry(table).entry(key.clone()).or_default().generation += 1;
                Ok(())
            }
            Locks::Redis(redis) => {
                let mut connection = redis.connection().await?;
                let _: u64 = redis::cmd("INCR")
                    .arg(key.redis("generation"))
                    .query_async(&mut connection)
                    .await?;
                Ok(())
            }
        }
    }
}

fn entry(
    table: &Mutex<HashMap<UserKey, LocalEntry>>,
) -> MutexGuard<'_, HashMap<UserKey, LocalEntry>> {
    match table.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl RedisLocks {
    async fn connection(&self) -> Result<ConnectionManager, LockError> {
        let connection = self
            .connection
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(Duration::from_secs(2)))
                    .set_response_timeout(Some(Duration::from_secs(2)))
                    .set_number_of_retries(1);
                ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            })
            .await?;
        Ok(connection.clone())
    }

    async fn acquire(&self, key: &UserKey, until: Instant) -> Result<Guard, LockError> {
        let key = key.redis("lock");
        let value = random_value()?;
        let ttl_ms = u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX);
        let mut backoff = Duration::from_millis(25);
        loop {
            let mut connection = self.connection().await?;
            let set: Option<String> = redis::cmd("SET")
                .arg(&key)
                .arg(&value)
                .arg("NX")
                .arg("PX")
                .arg(ttl_ms)
                .query_async(&mut connection)
                .await?;
            if set.is_some() {
                return Ok(Guard::Redis { key, value });
            }
            if Instant::now() + backoff >= until {
                return Err(LockError::Busy);
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_millis(250));
        }
    }

    async fn release(&self, key: &str, value: &str) -> Result<(), LockError> {
        let mut connection = self.connection().await?;
        let _: i64 = self
            .release
            .key(key)
            .arg(value)
            .invoke_async(&mut connection)
            .await?;
        Ok(())
    }
}

fn random_value() -> Result<String, LockError> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| LockError::Unavailable("the system random generator failed".into()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(user: &str) -> UserKey {
        UserKey {
            site: "http://mm.example".into(),
            user_id: user.into(),
        }
    }

    #[tokio::test]
    async fn one_holder_per_user_and_generations_count_up() {
        let locks = Locks::local();
        let soon = || Instant::now() + Duration::from_millis(50);
        let held = locks.acquire(&key("u1"), soon()).await.expect("free");
        assert_eq!(
            locks.acquire(&key("u1"), soon()).await.err(),
            Some(LockError::Busy)
        );
        let other = locks
            .acquire(&key("u2"), soon())
            .await
            .expect("another user");
        locks.release(held).await;
        locks.release(other).await;
        let again = locks.acquire(&key("u1"), soon()).await.expect("released");
        locks.release(again).await;
        assert_eq!(locks.generation(&key("u1")).await, Ok(0));
        locks.bump(&key("u1")).await.expect("bump");
        assert_eq!(locks.generation(&key("u1")).await, Ok(1));
        assert_eq!(locks.generation(&key("u2")).await, Ok(0));
    }
}
