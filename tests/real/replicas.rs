//! Two instances of the app behind a round-robin balancer, installed as one app, refreshing
//! the same users at once across several expiries, against oidc-provider rotating refresh
//! tokens with reuse detection: a spent refresh token presented again revokes the whole
//! grant, with no grace period (panva/node-oidc-provider: lib/actions/grants/refresh_token.js,
//! `if (refreshToken.consumed)`; Auth0 and Okta do the same without a reuse interval).

use crate::client::{Client, Outcome};
use crate::connect::{field, stored_token, walk_now, ACCESS_TOKEN_TTL, COMPLETED_TEXT};
use crate::story::{kind, Story, COMMAND};
use crate::support::e2e::OidcServer;
use crate::support::redis::Redis;
use futures::future::join_all;
use mattermost_apps::secret::SecretString;

/// Connected users.
const USERS: usize = 8;
/// Concurrent `info` calls per user at each expiry.
const CALLS: usize = 3;
/// Expiries the users go through.
const EXPIRIES: usize = 4;
/// What a call says when the lock service is down (nothing was refreshed).
const LOCK_DOWN_TEXT: &str = "renew your connection right now";
/// Chromium walks at once while connecting (each is a browser on a 2-core machine).
const WALKS_AT_ONCE: usize = 4;

/// What one measurement saw.
#[derive(Debug, Default)]
struct Figures {
    /// `info` calls answered `ok`, and answered `error`.
    ok: usize,
    errors: usize,
    /// Refresh grants the provider answered with new tokens.
    refreshes: usize,
    /// Spent refresh tokens presented again (each revoked a grant).
    replays: usize,
    /// Users whose stored refresh token the provider no longer accepts, or with none stored.
    lost: usize,
    /// The distinct texts of the errors.
    texts: Vec<String>,
}

/// `USERS` fresh users, each connected in Chromium (a few walks at a time).
async fn connect_users(story: &Story) -> Vec<Client> {
    let mut users = Vec::new();
    for i in 0..USERS {
        users.push(story.user(&format!("rep{i}")).await);
    }
    for batch in users.chunks(WALKS_AT_ONCE) {
        let mut links = Vec::new();
        for client in batch {
            links.push(story.connect_link(client).await);
        }
        let shots: Vec<String> = batch
            .iter()
            .map(|c| format!("real-replicas-{}.png", c.user.username))
            .collect();
        let walks = batch
            .iter()
            .zip(&links)
            .zip(&shots)
            .map(|((c, link), shot)| walk_now(story, c, link, shot));
        for done in join_all(walks).await {
            assert_eq!(done["status"], 200, "{done:#}");
            let text = done["text"].as_str().unwrap_or("");
            assert!(text.contains(COMPLETED_TEXT), "{done:#}");
        }
    }
    users
}

/// Waits (bounded) until the provider no longer accepts any of the users' stored access
/// tokens: every call of the next round meets an expired token.
async fn all_expired(story: &Story, oidc: &OidcServer, users: &[Client]) {
    for client in users {
        if let Some(token) = stored_token(story, client).await {
            let access = field(&token, "access_token");
            crate::support::util::within("the access token to expire", async {
                while oidc.introspect(&access).await["active"] == true {
                    tokio::time::sleep(ACCESS_TOKEN_TTL / 4).await;
                }
            })
            .await;
        }
    }
}

/// `CALLS` concurrent `info` calls per user, all users at once, at each of `expiries`
/// expiries; then counts at the provider (since the start) and per user.
async fn measure(
    story: &Story,
    oidc: &OidcServer,
    users: &[Client],
    expiries: usize,
    label: &str,
) -> Figures {
    let mut figures = Figures::default();
    let token_200_before = oidc.logged("POST /token -> 200");
    for expiry in 0..expiries {
        all_expired(story, oidc, users).await;
        let line = format!("{COMMAND} info");
        let calls = users
            .iter()
            .flat_map(|c| std::iter::repeat_n(c, CALLS))
            .map(|c| c.command(&line));
        let mut errors = Vec::new();
        for outcome in join_all(calls).await {
            match outcome {
                Outcome::Response(answer) if kind(&answer) == "ok" => figures.ok += 1,
                Outcome::Response(answer) => {
                    figures.errors += 1;
                    errors.push(answer["text"].as_str().unwrap_or("").to_owned());
                }
                // A user whose grant is gone is offered `connect` only: no `info` to run.
                Outcome::Refused(e) => {
                    figures.errors += 1;
                    errors.push(format!("the client refused: {e}"));
                }
            }
        }
        errors.sort();
        errors.dedup();
        eprintln!("{label}: expiry {expiry}: errors {errors:?}");
        figures.texts.extend(errors);
    }
    figures.texts.sort();
    figures.texts.dedup();
    figures.refreshes = oidc.logged("POST /token -> 200") - token_200_before;
    figures.replays = oidc.logged("refresh token already used");
    for client in users {
        let alive = match stored_token(story, client).await {
            Some(token) => oidc.introspect(&field(&token, "refresh_token")).await["active"] == true,
            None => false,
        };
        if !alive {
            figures.lost += 1;
        }
    }
    eprintln!(
        "{label}: {USERS} users x {CALLS} concurrent info calls x {expiries} expiries: \
         {} ok, {} errors; {} refresh grants, {} replays of a spent refresh token; \
         {} of {USERS} grants lost",
        figures.ok, figures.errors, figures.refreshes, figures.replays, figures.lost
    );
    figures
}

#[tokio::test]
async fn one_instance_refreshing_the_same_users_loses_no_grant() {
    let story = Story::installed().await;
    let oidc = story.oidc(ACCESS_TOKEN_TTL).await;
    story.configure(&oidc).await;
    let users = connect_users(&story).await;
    let figures = measure(&story, &oidc, &users, EXPIRIES, "one instance").await;
    assert_eq!(figures.lost, 0, "{figures:?}");
    assert_eq!(figures.replays, 0, "{figures:?}");
}

/// Two instances sharing the refresh lock in `redis`.
async fn two_replicas_with(redis: &Redis) -> Story {
    let url = redis.url.clone();
    let story = Story::installed_with(2, |s| {
        s.redis_url = Some(SecretString::from(url.clone()));
        // Calls queue for the lock: a loaded machine's requests get room; the story
        // counts lost grants, not timeouts.
        s.http_timeout = std::time::Duration::from_secs(10);
    })
    .await;
    assert_eq!(story.replicas.len(), 1, "a second instance");
    story
}

/// Both instances served calls.
fn assert_both_served(story: &Story) {
    let served = story
        .balancer
        .as_ref()
        .map(|b| b.served())
        .unwrap_or_default();
    for backend in [0, 1] {
        assert!(
            served.iter().any(|(_, b)| *b == backend),
            "instance {backend} served nothing"
        );
    }
}

#[tokio::test]
async fn two_replicas_with_the_lock_in_redis_lose_no_grant() {
    let redis = Redis::start().await;
    let story = two_replicas_with(&redis).await;
    let oidc = story.oidc(ACCESS_TOKEN_TTL).await;
    story.configure(&oidc).await;
    let users = connect_users(&story).await;
    let figures = measure(&story, &oidc, &users, EXPIRIES, "two replicas, Redis lock").await;
    assert_both_served(&story);
    assert_eq!(figures.lost, 0, "{figures:?}");
    assert_eq!(figures.replays, 0, "{figures:?}");
    assert_eq!(figures.errors, 0, "{figures:?}");
}

#[tokio::test]
async fn with_the_lock_service_stopped_calls_fail_clearly_and_no_grant_is_lost() {
    let mut redis = Redis::start().await;
    let story = two_replicas_with(&redis).await;
    let oidc = story.oidc(ACCESS_TOKEN_TTL).await;
    story.configure(&oidc).await;
    let users = connect_users(&story).await;
    let up = measure(&story, &oidc, &users, 1, "Redis up").await;
    assert_eq!((up.lost, up.errors), (0, 0), "{up:?}");

    redis.stop().await;
    let down = measure(&story, &oidc, &users, 1, "Redis stopped").await;
    assert_both_served(&story);
    assert_eq!(down.ok, 0, "every call needed a refresh: {down:?}");
    assert_eq!(down.refreshes, 0, "no refresh without the lock: {down:?}");
    for text in &down.texts {
        assert!(text.contains(LOCK_DOWN_TEXT), "{text}");
    }
    assert_eq!(down.lost, 0, "{down:?}");
    assert_eq!(down.replays, 0, "{down:?}");
}
