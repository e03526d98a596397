//! Expired tokens: refreshed once, stored back; dead refresh tokens disconnect the user.

use futures::future::join_all;
use serde_json::{json, Value};

use crate::support::app::TestApp;
use crate::support::provider::{Endpoint, Fault, Identity};
use crate::support::util::within;
use crate::support::world::{expect_error, expect_ok, World, COMMAND};

/// Connects alice with a token that is already inside the app's refresh margin (30 s left),
/// then makes the provider issue long-lived tokens again. Returns the stored token.
async fn connected_with_an_expiring_token(w: &World) -> Value {
    w.configure_custom_provider().await;
    w.provider.set_expires_in(Some(30));
    let token = w.connect(&w.alice).await;
    w.provider.set_expires_in(Some(3600));
    token
}

fn field(token: &Value, key: &str) -> String {
    token[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {token}"))
        .to_owned()
}

#[tokio::test]
async fn an_expired_token_is_refreshed_and_stored_back() {
    let w = World::new().await;
    let old = connected_with_an_expiring_token(&w).await;
    let info = expect_ok(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    assert!(info.contains("refreshed just now"), "{info}");
    assert!(info.contains(&Identity::of("alice").name), "{info}");
    assert_eq!(w.provider.counts().refreshes, 1);
    let new = w.stored_token(&w.alice).expect("still connected");
    assert_ne!(field(&new, "access_token"), field(&old, "access_token"));
    assert!(w.provider.access_token_active(&field(&new, "access_token")));
    assert_eq!(
        w.provider.owner_of(&field(&new, "access_token")).as_deref(),
        Some("alice")
    );
    // The next info uses the stored token without refreshing again.
    expect_ok(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    assert_eq!(w.provider.counts().refreshes, 1);
    let refresh_request = w
        .provider
        .token_requests()
        .into_iter()
        .find(|r| r.grant_type == "refresh_token")
        .expect("a refresh request");
    assert_eq!(refresh_request.client_auth, "basic");
}

#[tokio::test]
async fn the_old_refresh_token_is_kept_when_the_provider_sends_none() {
    let w = World::new().await;
    let old = connected_with_an_expiring_token(&w).await;
    w.provider.set_refresh_returns_refresh_token(false);
    expect_ok(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    let new = w.stored_token(&w.alice).expect("still connected");
    assert_ne!(field(&new, "access_token"), field(&old, "access_token"));
    assert_eq!(field(&new, "refresh_token"), field(&old, "refresh_token"));
}

#[tokio::test]
async fn invalid_grant_clears_the_token_and_says_to_reconnect() {
    let w = World::new().await;
    let old = connected_with_an_expiring_token(&w).await;
    w.provider.fail_next(Endpoint::Token, Fault::InvalidGrant);
    let text = expect_error(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    assert!(text.contains(&format!("{COMMAND} connect")), "{text}");
    assert!(!text.contains(&field(&old, "refresh_token")));
    assert!(
        w.stored_token(&w.alice).is_none(),
        "the dead token is cleared"
    );
    assert_eq!(
        w.mm.command_labels(&w.alice, "hello-oauth2-rs").await,
        ["connect", "help"]
    );
}

#[tokio::test]
async fn an_expired_token_without_a_refresh_token_asks_to_reconnect() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    w.connect(&w.alice).await;
    w.mm.set_stored_token(
        &w.alice,
        &json!({"access_token": "at_old", "token_type": "Bearer", "expiry": "2020-01-01T00:00:00Z"}),
    );
    let text = expect_error(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    assert!(text.contains("no refresh token"), "{text}");
    assert_eq!(w.provider.counts().token, 1, "only the code exchange");
}

#[tokio::test]
async fn concurrent_info_calls_of_one_user_refresh_once() {
    let w = World::new().await;
    w.provider.set_rotation(true);
    connected_with_an_expiring_token(&w).await;
    let line = format!("{COMMAND} info");
    let calls = (0..8).map(|_| w.mm.command(&w.alice, &line));
    let responses = within("8 concurrent info calls", join_all(calls)).await;
    for response in responses {
        expect_ok(&response.expect("parses"));
    }
    assert_eq!(
        w.provider.counts().refreshes,
        1,
        "exactly one refresh at the provider"
    );
    let stored = w.stored_token(&w.alice).expect("still connected");
    assert!(w
        .provider
        .access_token_active(&field(&stored, "access_token")));
    assert!(w
        .provider
        .refresh_token_active(&field(&stored, "refresh_token")));
}

#[tokio::test]
async fn a_replica_that_loses_the_refresh_race_uses_the_token_the_winner_stored() {
    // Replica B holds a call whose context has the old token while replica A has already
    // refreshed it (and the provider rotated the refresh token).
    let w = World::new().await;
    w.provider.set_rotation(true);
    connected_with_an_expiring_token(&w).await;
    let b = TestApp::spawn(&w.app.secret).await;
    let info_call = json!({"path": "/info", "expand": {
        "acting_user": "id", "acting_user_access_token": "all", "oauth2_app": "all", "oauth2_user": "all"
    }});
    let stale = w.mm.build_request(Some(&w.alice), &info_call, json!({}));
    expect_ok(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    let winner = w.stored_token(&w.alice).expect("refreshed by A");
    let (status, body) = within("info on replica B", w.mm.post_to(&b.root_url, &stale)).await;
    assert_eq!(status, 200);
    let response: Value = serde_json::from_str(&body).expect("a CallResponse");
    expect_ok(&response);
    assert_eq!(
        w.stored_token(&w.alice),
        Some(winner),
        "B did not clear A's token"
    );
    assert_eq!(w.provider.counts().refreshes, 1, "B's refresh was refused");
}

#[tokio::test]
async fn a_refresh_finishes_and_is_stored_when_its_call_is_dropped() {
    use std::time::Duration;

    use crate::support::app::{new_secret, TestApp};

    // The call's deadline drops it while the provider holds the refresh (actix does not
    // drop a handler when the client goes away; the deadline does). The outbound timeout
    // is far longer: only the test's release ends the hold, however busy the machine.
    let app = TestApp::spawn_with(&new_secret(), |s| {
        // Long enough for the setup's calls on a busy machine; the hold outlasts it anyway.
        s.call_deadline = Duration::from_secs(5);
        s.http_timeout = Duration::from_secs(60);
    })
    .await;
    let w = World::with_app(app).await;
    w.provider.set_rotation(true);
    let old = connected_with_an_expiring_token(&w).await;
    let held = w.provider.hold_next(Endpoint::Token);
    let line = format!("{COMMAND} info");
    let text = expect_error(&w.run(&w.alice, &line).await);
    assert!(text.contains("The provider is slow"), "{text}");
    held.release();
    // Nobody waits for the refresh any more, yet the rotated token lands in Mattermost.
    let stored = within("the refreshed token to be stored", async {
        loop {
            match w.stored_token(&w.alice) {
                Some(t) if t["access_token"] != old["access_token"] => return t,
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    })
    .await;
    assert!(w
        .provider
        .refresh_token_active(&field(&stored, "refresh_token")));
    assert_eq!(w.provider.counts().refreshes, 1);
    // The next call uses it: no second refresh.
    let info = expect_ok(&w.run(&w.alice, &line).await);
    assert!(!info.contains("refreshed just now"), "{info}");
    assert_eq!(w.provider.counts().refreshes, 1);
}

/// An app whose calls answer "slow" after `seconds`, and whose outbound requests wait for
/// `timeout` seconds (`None`: the tests' short timeout).
async fn world_with_deadline(seconds: u64, timeout: Option<u64>) -> World {
    use std::time::Duration;

    use crate::support::app::{new_secret, TestApp};

    let app = TestApp::spawn_with(&new_secret(), |s| {
        s.call_deadline = Duration::from_secs(seconds);
        if let Some(timeout) = timeout {
            s.http_timeout = Duration::from_secs(timeout);
        }
    })
    .await;
    World::with_app(app).await
}

#[tokio::test]
async fn disconnect_wins_over_a_slow_refresh_and_the_refreshed_token_is_revoked() {
    // The held refresh outlives the call (its request waits up to 30 s).
    let w = world_with_deadline(6, Some(30)).await;
    w.provider.set_rotation(true);
    let old = connected_with_an_expiring_token(&w).await;
    let mut held = w.provider.hold_next(Endpoint::Token);
    let info = expect_error(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    assert!(info.contains("The provider is slow"), "{info}");
    held.seen().await;
    let text = expect_ok(&w.run(&w.alice, &format!("{COMMAND} disconnect")).await);
    assert!(text.starts_with("Disconnected"), "{text}");
    assert!(w.stored_token(&w.alice).is_none());
    // The provider now answers the refresh: its token is revoked, never stored.
    held.release();
    let known = [field(&old, "access_token"), field(&old, "refresh_token")];
    let revoked = within("the refreshed token to be revoked", async {
        loop {
            if let Some(token) = w
                .provider
                .revocations()
                .into_iter()
                .find(|t| !known.contains(t))
            {
                return token;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        revoked.starts_with("rt_"),
        "the refresh token first: {revoked}"
    );
    assert!(!w.provider.refresh_token_active(&revoked));
    assert_eq!(w.provider.counts().refreshes, 1);
    assert!(
        w.stored_token(&w.alice).is_none(),
        "nothing stored after disconnect"
    );
    assert_eq!(
        w.mm.command_labels(&w.alice, "hello-oauth2-rs").await,
        ["connect", "help"]
    );
}

#[tokio::test]
async fn a_refresh_stores_only_over_the_token_it_replaced() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    // A long-lived token of alice's, stored by someone else while the refresh runs.
    let other = w.connect(&w.alice).await;
    w.provider.set_expires_in(Some(30));
    w.connect(&w.alice).await;
    w.provider.set_expires_in(Some(3600));
    let mut held = w.provider.hold_next(Endpoint::Token);
    let line = format!("{COMMAND} info");
    let (info, ()) = tokio::join!(w.run(&w.alice, &line), async {
        held.seen().await;
        w.mm.set_stored_token(&w.alice, &other);
        held.release();
    });
    expect_ok(&info);
    assert_eq!(w.provider.counts().refreshes, 1);
    assert_eq!(
        w.stored_token(&w.alice),
        Some(other),
        "the newer token stays"
    );
}

#[tokio::test]
async fn a_store_that_fails_once_is_retried_and_the_grant_kept() {
    let w = World::new().await;
    w.provider.set_rotation(true);
    w.provider.set_reuse_detection(true);
    let old = connected_with_an_expiring_token(&w).await;
    w.mm.fail_rest_once(Some("POST"), "/oauth2/user", 500, "store failed");
    let info = expect_ok(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    assert!(info.contains("refreshed just now"), "{info}");
    let stored = w.stored_token(&w.alice).expect("still connected");
    assert_ne!(stored["access_token"], old["access_token"]);
    assert!(w
        .provider
        .refresh_token_active(&field(&stored, "refresh_token")));
    let again = expect_ok(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    assert!(!again.contains("refreshed just now"), "{again}");
    assert_eq!(w.provider.counts().refreshes, 1);
    assert_eq!(w.provider.counts().reuses, 0);
}

#[tokio::test]
async fn a_token_mattermost_cannot_store_for_a_while_is_kept_and_stored_later() {
    let w = world_with_deadline(6, None).await;
    w.provider.set_rotation(true);
    w.provider.set_reuse_detection(true);
    let old = connected_with_an_expiring_token(&w).await;
    w.mm.set_rest_down(Some("POST"), "/oauth2/user", true);
    let line = format!("{COMMAND} info");
    let first = expect_ok(&w.run(&w.alice, &line).await);
    assert!(first.contains("refreshed just now"), "{first}");
    assert_eq!(
        w.stored_token(&w.alice),
        Some(old.clone()),
        "not stored yet"
    );
    // Mattermost still sends the old token: the call gets the kept one, no refresh.
    let second = expect_ok(&w.run(&w.alice, &line).await);
    assert!(second.contains("refreshed just now"), "{second}");
    assert_eq!(w.provider.counts().refreshes, 1);
    w.mm.set_rest_down(Some("POST"), "/oauth2/user", false);
    let stored = within("the kept token to be stored", async {
        loop {
            match w.stored_token(&w.alice) {
                Some(t) if t["access_token"] != old["access_token"] => return t,
                _ => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
    })
    .await;
    assert!(w
        .provider
        .refresh_token_active(&field(&stored, "refresh_token")));
    let third = expect_ok(&w.run(&w.alice, &line).await);
    assert!(!third.contains("refreshed just now"), "{third}");
    assert_eq!(w.provider.counts().refreshes, 1);
    assert_eq!(w.provider.counts().reuses, 0);
}

#[tokio::test]
async fn a_token_over_the_plugins_size_cap_is_reported_and_not_refreshed_again() {
    let w = World::new().await;
    w.provider.set_rotation(true);
    connected_with_an_expiring_token(&w).await;
    w.provider.set_access_token_padding(9000);
    let line = format!("{COMMAND} info");
    for _ in 0..2 {
        let text = expect_error(&w.run(&w.alice, &line).await);
        assert!(
            text.contains("Mattermost could not save the new token"),
            "{text}"
        );
        assert!(text.contains("8192"), "{text}");
        assert!(text.contains(&format!("{COMMAND} connect")), "{text}");
    }
    assert_eq!(
        w.provider.counts().refreshes,
        1,
        "the spent token is not replayed"
    );
}

#[tokio::test]
async fn connecting_again_wins_over_a_slow_refresh_of_the_old_token() {
    let w = world_with_deadline(6, Some(30)).await;
    w.provider.set_rotation(true);
    let old = connected_with_an_expiring_token(&w).await;
    let mut held = w.provider.hold_next(Endpoint::Token);
    let info = expect_error(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    assert!(info.contains("The provider is slow"), "{info}");
    held.seen().await;
    let newer = w.connect(&w.alice).await;
    held.release();
    // The refresh's token is revoked, and the newer connection stays stored.
    let known = [field(&old, "access_token"), field(&old, "refresh_token")];
    within("the refreshed token to be revoked", async {
        while !w.provider.revocations().iter().any(|t| !known.contains(t)) {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(w.stored_token(&w.alice), Some(newer.clone()));
    assert!(w
        .provider
        .refresh_token_active(&field(&newer, "refresh_token")));
}
