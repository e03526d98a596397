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
    let new = w.mm.stored_token(&w.alice).expect("still connected");
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
    let new = w.mm.stored_token(&w.alice).expect("still connected");
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
        w.mm.stored_token(&w.alice).is_none(),
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
    let stored = w.mm.stored_token(&w.alice).expect("still connected");
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
    let winner = w.mm.stored_token(&w.alice).expect("refreshed by A");
    let (status, body) = within("info on replica B", w.mm.post_to(&b.root_url, &stale)).await;
    assert_eq!(status, 200);
    let response: Value = serde_json::from_str(&body).expect("a CallResponse");
    expect_ok(&response);
    assert_eq!(
        w.mm.stored_token(&w.alice),
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
    w.provider.fail_next(Endpoint::Token, Fault::Hold);
    let line = format!("{COMMAND} info");
    let text = expect_error(&w.run(&w.alice, &line).await);
    assert!(text.contains("The provider is slow"), "{text}");
    w.provider.release();
    // Nobody waits for the refresh any more, yet the rotated token lands in Mattermost.
    let stored = within("the refreshed token to be stored", async {
        loop {
            match w.mm.stored_token(&w.alice) {
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
