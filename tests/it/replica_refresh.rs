//! Two replicas behind a round-robin balancer refresh the same users' tokens at once, at a
//! provider that rotates refresh tokens and revokes the whole grant when a spent one comes
//! back. With the shared lock (Redis) no grant is lost; with Redis down, calls fail clearly
//! and no grant is lost either.

use futures::future::join_all;
use serde_json::{json, Value};

use crate::support::app::{new_secret, TestApp};
use crate::support::mattermost::User;
use crate::support::proxy::RoundRobin;
use crate::support::redis::Redis;
use crate::support::util::within;
use crate::support::world::{World, COMMAND};
use mattermost_apps::secret::SecretString;

const USERS: usize = 6;
const CALLS_PER_USER: usize = 3;

/// Two instances of the app, installed as one, behind a balancer; `USERS` users connected.
struct Replicas {
    w: World,
    _b: TestApp,
    _balancer: RoundRobin,
    users: Vec<User>,
}

async fn replicas(redis_url: Option<&str>) -> Replicas {
    let secret = new_secret();
    let adjust = |s: &mut hello_oauth2_rs::settings::Settings| {
        s.redis_url = redis_url.map(SecretString::from);
    };
    let a = TestApp::spawn_with(&secret, adjust).await;
    let b = TestApp::spawn_with(&secret, adjust).await;
    let w = World::with_app(a).await;
    let balancer = RoundRobin::start();
    balancer.set_backends(vec![w.app.root_url.clone(), b.root_url.clone()]);
    w.mm.route_app_to(&balancer.url);
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
        _b: b,
        _balancer: balancer,
        users,
    }
}

impl Replicas {
    /// Every stored token expires now (time passes).
    fn expire_all(&self) {
        for user in &self.users {
            let Some(mut token) = self.w.mm.stored_token(user) else {
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
                self.w.mm.stored_token(u).is_none_or(|t| {
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

#[tokio::test]
async fn two_replicas_with_the_shared_lock_lose_no_grant() {
    let redis = Redis::start().await;
    let r = replicas(Some(&redis.url)).await;
    let (_, failed, refreshes, reuses, lost) = measure(&r, 3).await;
    assert_eq!((failed, reuses, lost), (0, 0, 0));
    assert_eq!(refreshes, 3 * USERS, "one refresh per user per expiry");
}

#[tokio::test]
async fn with_the_lock_service_down_calls_fail_clearly_and_no_grant_is_lost() {
    let mut redis = Redis::start().await;
    let r = replicas(Some(&redis.url)).await;
    let (_, failed, _, _, _) = measure(&r, 1).await;
    assert_eq!(failed, 0);
    let before: Vec<Value> = r
        .users
        .iter()
        .map(|u| r.w.mm.stored_token(u).expect("stored"))
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
        .map(|u| r.w.mm.stored_token(u).expect("stored"))
        .collect();
    let unchanged = before
        .iter()
        .zip(&after)
        .all(|(b, a)| b["refresh_token"] == a["refresh_token"]);
    assert!(unchanged, "the stored grants are untouched");
}
