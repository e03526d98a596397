//! Two replicas behind a round-robin balancer refresh the same users' tokens at once, at a
//! provider that rotates refresh tokens and revokes the whole grant when a spent one comes
//! back. With the shared lock (Redis) no grant is lost; with Redis down, calls fail clearly
//! and no grant is lost either.

use futures::future::join_all;
use serde_json::{json, Value};

use crate::support::app::{new_secret, TestApp};
use crate::support::mattermost::User;
use crate::support::process::AppProcess;
use crate::support::proxy::RoundRobin;
use crate::support::redis::Redis;
use crate::support::util::within;
use crate::support::world::{World, COMMAND};

const USERS: usize = 6;
const CALLS_PER_USER: usize = 3;

/// Two processes of the app (the real binary), installed as one behind a balancer;
/// `USERS` users connected.
struct Replicas {
    w: World,
    processes: Vec<AppProcess>,
    balancer: RoundRobin,
    users: Vec<User>,
}

async fn replicas(redis_url: Option<&str>) -> Replicas {
    let balancer = RoundRobin::start();
    let secret = new_secret();
    let env: Vec<(&str, &str)> = redis_url
        .map(|url| ("APP_REDIS_URL", url))
        .into_iter()
        .collect();
    let mut processes = Vec::new();
    for _ in 0..2 {
        processes
            .push(AppProcess::spawn_with_env(Some(&balancer.url), &secret, "info", &env).await);
    }
    balancer.set_backends(processes.iter().map(|p| p.listen_url.clone()).collect());
    let w = World::with_app(TestApp::external(&balancer.url, &secret)).await;
    w.configure_custom_provider().await;
    w.provider.set_rotation(true);
    w.provider.set_reuse_detection(true);
    let users: Vec<User> = (0..USERS)
        .map(|i| w.mm.create_user(&format!("user{i}"), "system_user"))
        .collect();
    for user in &users {
        w.connect(user).await;
    }
    Replicas {
        w,
        processes,
        balancer,
        users,
    }
}

impl Replicas {
    /// Every stored token expires now (time passes).
    fn expire_all(&self) {
        for user in &self.users {
            let Some(mut token) = self.w.stored_token(user) else {
                continue;
            };
            token["expiry"] = json!("2020-01-01T00:00:00Z");
            self.w.mm.set_stored_token(user, &token);
        }
    }

    /// `CALLS_PER_USER` concurrent `info` calls of every user; the answers.
    async fn round(&self) -> Vec<Value> {
        let line = format!("{COMMAND} info");
        let calls = self
            .users
            .iter()
            .flat_map(|u| (0..CALLS_PER_USER).map(move |_| u))
            .map(|u| self.w.mm.command(u, &line));
        within("a round of info calls", join_all(calls))
            .await
            .into_iter()
            // A user whose grant was lost has no `info` any more: a failed call.
            .map(|r| r.unwrap_or_else(|e| json!({"type": "error", "text": format!("{e:?}")})))
            .collect()
    }

    /// Users whose stored grant is gone (nothing stored, or its refresh token is dead).
    fn grants_lost(&self) -> usize {
        self.users
            .iter()
            .filter(|u| {
                self.w.stored_token(u).is_none_or(|t| {
                    !self
                        .w
                        .provider
                        .refresh_token_active(t["refresh_token"].as_str().unwrap_or_default())
                })
            })
            .count()
    }
}

fn errors(answers: &[Value]) -> Vec<String> {
    answers
        .iter()
        .filter(|a| a["type"] == "error")
        .map(|a| a["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Runs `rounds` expiries; prints and returns (calls, failed calls, refreshes, reuses,
/// grants lost).
async fn measure(r: &Replicas, rounds: usize) -> (usize, usize, usize, usize, usize) {
    let mut failed = 0;
    for _ in 0..rounds {
        r.expire_all();
        failed += errors(&r.round().await).len();
    }
    let counts = r.w.provider.counts();
    let figures = (
        rounds * USERS * CALLS_PER_USER,
        failed,
        counts.refreshes,
        counts.reuses,
        r.grants_lost(),
    );
    eprintln!(
        "{USERS} users, {rounds} expiries: (calls, failed, refresh grants, spent tokens replayed, grants lost) = {figures:?}"
    );
    figures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_with_the_shared_lock_lose_no_grant() {
    let redis = Redis::start().await;
    let r = replicas(Some(&redis.url)).await;
    let (_, failed, refreshes, reuses, lost) = measure(&r, 3).await;
    assert_eq!((failed, reuses, lost), (0, 0, 0));
    assert_eq!(refreshes, 3 * USERS, "one refresh per user per expiry");
    let served = r.balancer.served();
    for backend in 0..2 {
        let info = served.iter().filter(|(p, b)| p == "/info" && *b == backend);
        assert!(info.count() > 10, "replica {backend} served few info calls");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_lock_service_down_calls_fail_clearly_and_no_grant_is_lost() {
    let mut redis = Redis::start().await;
    let r = replicas(Some(&redis.url)).await;
    let (_, failed, _, _, _) = measure(&r, 1).await;
    assert_eq!(failed, 0);
    let before: Vec<Value> = r
        .users
        .iter()
        .map(|u| r.w.stored_token(u).expect("stored"))
        .collect();
    let refreshes = r.w.provider.counts().refreshes;
    redis.stop().await;
    r.expire_all();
    let answers = r.round().await;
    let errors = errors(&answers);
    assert_eq!(errors.len(), answers.len(), "every call needed a refresh");
    for text in &errors {
        assert!(
            text.contains("can't renew your connection right now"),
            "{text}"
        );
        assert!(!text.contains("redis://"), "{text}");
    }
    assert_eq!(
        r.w.provider.counts().refreshes,
        refreshes,
        "nothing refreshed"
    );
    assert_eq!(r.grants_lost(), 0);
    let after: Vec<Value> = r
        .users
        .iter()
        .map(|u| r.w.stored_token(u).expect("stored"))
        .collect();
    let mut logs = String::new();
    for process in r.processes {
        logs.push_str(&process.stop().await);
    }
    assert!(logs.contains("not refreshing the token of user"), "{logs}");
    assert!(!logs.contains("redis://"), "{logs}");
    let unchanged = before
        .iter()
        .zip(&after)
        .all(|(b, a)| b["refresh_token"] == a["refresh_token"]);
    assert!(unchanged, "the stored grants are untouched");
}

#[tokio::test]
async fn the_redis_lock_has_one_holder_is_released_only_by_it_and_ends_with_its_ttl() {
    use std::time::Duration;

    use hello_oauth2_rs::oauth::lock::{Guard, LockError, Locks, UserKey};
    use tokio::time::Instant;

    let redis = Redis::start().await;
    // Each Busy below must be seen within the holder's TTL: 3 s leaves a loaded machine
    // room for a new connection and a round trip (500 ms is tight beside other load).
    let ttl = Duration::from_secs(3);
    let a = Locks::redis(&redis.url, ttl).expect("a Redis URL");
    let b = Locks::redis(&redis.url, ttl).expect("a Redis URL");
    let key = UserKey {
        site: "http://mm.example".into(),
        user_id: "alice".into(),
    };
    let soon = || Instant::now() + Duration::from_millis(100);
    let crashed = a.acquire(&key, soon()).await.expect("free");
    assert_eq!(b.acquire(&key, soon()).await.err(), Some(LockError::Busy));
    // Its holder crashed (never released): the lock ends with its TTL.
    let Guard::Redis { key: name, .. } = crashed else {
        panic!("a Redis lock")
    };
    let held = within(
        "the TTL to end the crashed holder's lock",
        b.acquire(&key, Instant::now() + 5 * ttl),
    )
    .await
    .expect("taken after the TTL");
    // The crashed holder's late release does not free the new holder's lock.
    let stale = Guard::Redis {
        key: name,
        value: "the crashed holder's value".into(),
    };
    a.release(stale).await;
    assert_eq!(a.acquire(&key, soon()).await.err(), Some(LockError::Busy));
    b.release(held).await;
    let again = a
        .acquire(&key, soon())
        .await
        .expect("released by its holder");
    a.release(again).await;
    // Generations are shared.
    assert_eq!(b.generation(&key).await, Ok(0));
    a.bump(&key).await.expect("bump");
    assert_eq!(b.generation(&key).await, Ok(1));
}
