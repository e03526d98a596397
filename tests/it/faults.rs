//! Provider and Mattermost failures: a clear error, nothing stored, and an earlier token is
//! never overwritten.

use serde_json::Value;

use crate::support::mattermost::Walk;
use crate::support::provider::{Endpoint, Fault};
use crate::support::world::{expect_error, expect_ok, World, COMMAND};

/// Connects alice once, then walks the flow again with `fault` injected at the token
/// endpoint. Returns the second walk and alice's first token.
async fn reconnect_with(fault: Option<Fault>) -> (World, Walk, Value) {
    let w = World::new().await;
    w.configure_custom_provider().await;
    let first = w.connect(&w.alice).await;
    w.mm.clear_records();
    if let Some(fault) = fault {
        w.provider.fail_next(Endpoint::Token, fault);
    }
    let walk = w.walk(&w.alice).await;
    (w, walk, first)
}

fn assert_failed_cleanly(w: &World, walk: &Walk, first: &Value, mention: &str) {
    let complete = walk
        .complete
        .as_ref()
        .expect("the provider redirected back");
    assert_eq!(complete.status, 500, "{complete:?}");
    assert!(
        complete.content_type.starts_with("text/plain"),
        "{complete:?}"
    );
    assert!(
        complete.body.contains("Could not connect your account"),
        "{}",
        complete.body
    );
    assert!(complete.body.contains(mention), "{}", complete.body);
    assert!(
        w.mm.rest_calls_to("POST", "/oauth2/user").is_empty(),
        "nothing stored"
    );
    assert_eq!(
        w.stored_token(&w.alice).as_ref(),
        Some(first),
        "the earlier token stays"
    );
    let client_secret = w.provider.client_secret();
    for secret in [
        client_secret.as_str(),
        first["access_token"].as_str().expect("at"),
    ] {
        assert!(!complete.body.contains(secret));
    }
}

#[tokio::test]
async fn a_provider_500_at_the_code_exchange() {
    let (w, walk, first) = reconnect_with(Some(Fault::ServerError)).await;
    assert_failed_cleanly(&w, &walk, &first, "unexpected answer");
}

#[tokio::test]
async fn a_provider_that_does_not_answer_in_time() {
    let (w, walk, first) =
        reconnect_with(Some(Fault::Hang(std::time::Duration::from_secs(6)))).await;
    assert_failed_cleanly(&w, &walk, &first, "did not answer in time");
}

#[tokio::test]
async fn a_provider_that_answers_html() {
    let (w, walk, first) = reconnect_with(Some(Fault::NonJson)).await;
    assert_failed_cleanly(&w, &walk, &first, "non-JSON");
}

#[tokio::test]
async fn a_provider_that_refuses_the_code() {
    let (w, walk, first) = reconnect_with(Some(Fault::InvalidGrant)).await;
    assert_failed_cleanly(&w, &walk, &first, "invalid_grant");
}

#[tokio::test]
async fn mattermost_failing_to_store_the_token() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    let first = w.connect(&w.alice).await;
    w.mm.fail_rest_once(
        Some("POST"),
        "/oauth2/user",
        500,
        "store failure: internal error",
    );
    let walk = w.walk(&w.alice).await;
    let complete = walk.complete.as_ref().expect("redirected back");
    assert_eq!(complete.status, 500);
    assert!(
        complete.body.contains("Could not save your token"),
        "{}",
        complete.body
    );
    assert_eq!(
        w.stored_token(&w.alice),
        Some(first),
        "the earlier token stays"
    );
}

#[tokio::test]
async fn mattermost_refusing_the_configuration() {
    let w = World::new().await;
    w.mm.fail_rest_once(
        Some("POST"),
        "/oauth2/app",
        500,
        "store failure: internal error",
    );
    let text = expect_error(&w.run(&w.sam, &w.configure_command()).await);
    assert!(text.contains("The configuration was not saved"), "{text}");
    assert!(!text.contains(&w.provider.client_secret()), "{text}");
    assert!(w.stored_oauth2_app().is_none());
}

#[tokio::test]
async fn a_denied_authorization_shows_the_providers_error_and_stores_nothing() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    w.provider
        .deny_authorization("The user refused to share their profile");
    let walk = w.walk(&w.alice).await;
    let complete = walk.complete.as_ref().expect("redirected back");
    assert_eq!(complete.status, 500);
    assert!(complete.content_type.starts_with("text/plain"));
    assert!(complete.body.contains("access_denied"), "{}", complete.body);
    assert!(
        complete
            .body
            .contains("The user refused to share their profile"),
        "{}",
        complete.body
    );
    assert_eq!(w.provider.counts().token, 0, "no exchange");
    assert!(w.mm.rest_calls_to("POST", "/oauth2/user").is_empty());
    assert!(w.stored_token(&w.alice).is_none());
    // The complete call carried every query parameter as a string.
    let call = &w.mm.calls_to("/oauth2/complete")[0];
    let values = call.request["values"].as_object().expect("values");
    assert_eq!(values["error"], "access_denied");
    assert!(values.values().all(Value::is_string), "{values:?}");
}

#[tokio::test]
async fn userinfo_failures_are_clear_and_keep_the_connection() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    let token = w.connect(&w.alice).await;
    for (fault, mention) in [
        (Fault::ServerError, "HTTP 500"),
        (Fault::NonJson, "not JSON"),
        (Fault::Hang(std::time::Duration::from_secs(6)), "in time"),
    ] {
        w.provider.fail_next(Endpoint::Userinfo, fault);
        let text = expect_error(&w.run(&w.alice, &format!("{COMMAND} info")).await);
        assert!(text.contains("Could not read your account"), "{text}");
        assert!(text.contains(mention), "{text}");
        assert_eq!(w.stored_token(&w.alice).as_ref(), Some(&token));
    }
    expect_ok(&w.run(&w.alice, &format!("{COMMAND} info")).await);
}

#[tokio::test]
async fn a_token_the_provider_no_longer_accepts_leads_back_to_connect() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    let token = w.connect(&w.alice).await;
    // The user revoked the app's access at the provider: a 401, then a refused refresh.
    w.provider.revoke_all();
    let text = expect_error(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    assert!(text.contains("no longer accepted"), "{text}");
    assert!(text.contains(&format!("{COMMAND} connect")), "{text}");
    assert!(!text.contains(token["access_token"].as_str().expect("at")));
    assert!(
        w.stored_token(&w.alice).is_none(),
        "the dead token is forgotten"
    );
    // The message says to run connect: the client must offer it.
    let connect = w.mm.command(&w.alice, &format!("{COMMAND} connect")).await;
    expect_ok(&connect.expect("connect is offered again"));
}

#[tokio::test]
async fn huge_answers_are_refused_without_reading_them() {
    use crate::support::app::{new_secret, TestApp};

    // Only the size cap may end these reads: on a busy machine 4 MiB from the fake can
    // take longer than the 2 s test timeout, which would answer "not in time" instead.
    let app = TestApp::spawn_with(&new_secret(), |s| {
        s.http_timeout = std::time::Duration::from_secs(30)
    })
    .await;
    let w = World::with_app(app).await;
    w.configure_custom_provider().await;
    let token = w.connect(&w.alice).await;
    w.provider.fail_next(Endpoint::Userinfo, Fault::Huge);
    let text = expect_error(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    assert!(text.contains("larger than 64 KiB"), "{text}");
    assert_eq!(w.stored_token(&w.alice).as_ref(), Some(&token));

    w.provider.fail_next(Endpoint::Token, Fault::Huge);
    let walk = w.walk(&w.alice).await;
    let complete = walk.complete.as_ref().expect("redirected back");
    assert_eq!(complete.status, 500);
    assert!(
        complete.body.contains("larger than 64 KiB"),
        "{}",
        complete.body
    );
    assert_eq!(
        w.stored_token(&w.alice),
        Some(token),
        "the earlier token stays"
    );
}

#[tokio::test]
async fn an_absurd_expires_in_is_an_error_not_a_crash() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    // About 32 million years: a Duration, but past any date the app can write.
    w.provider.set_expires_in(Some(1_000_000_000_000_000));
    let walk = w.walk(&w.alice).await;
    let complete = walk.complete.as_ref().expect("redirected back");
    assert_eq!(complete.status, 500, "{complete:?}");
    assert!(complete.body.contains("expires_in"), "{}", complete.body);
    assert!(w.stored_token(&w.alice).is_none());
    // The app is still there.
    w.provider.set_expires_in(Some(3600));
    w.connect(&w.alice).await;
}

#[tokio::test]
async fn a_slow_provider_answers_within_the_call_deadline() {
    use std::time::Duration;

    use crate::support::app::{new_secret, TestApp};
    use crate::support::util::within;

    // The refresh takes part of the deadline, then userinfo never answers: only the
    // deadline can end the call (the outbound timeout is far longer), and no clock is
    // raced on a busy machine.
    // Long enough for the setup's calls on a busy machine.
    let deadline = Duration::from_secs(6);
    let app = TestApp::spawn_with(&new_secret(), |s| {
        s.call_deadline = deadline;
        s.http_timeout = Duration::from_secs(60);
    })
    .await;
    let w = World::with_app(app).await;
    w.configure_custom_provider().await;
    w.provider.set_expires_in(Some(30));
    let old = w.connect(&w.alice).await;
    w.provider.set_expires_in(Some(3600));
    w.provider
        .fail_next(Endpoint::Token, Fault::Delay(Duration::from_millis(1000)));
    let _held = w.provider.hold_next(Endpoint::Userinfo);
    let text = expect_error(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    assert!(text.contains("The provider is slow"), "{text}");
    // The refresh finishes in its own task and is stored (however late, on a busy machine).
    within("the refreshed token to be stored", async {
        while w.stored_token(&w.alice).map(|t| t["access_token"].clone())
            == Some(old["access_token"].clone())
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(w.stored_token(&w.alice).is_some(), "still connected");
}

#[tokio::test]
async fn a_huge_error_from_mattermost_is_not_read() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    w.connect(&w.alice).await;
    let filler = "m".repeat(1024 * 1024);
    w.mm.fail_rest_once(Some("POST"), "/oauth2/user", 500, &filler);
    let text = expect_error(&w.run(&w.alice, &format!("{COMMAND} disconnect")).await);
    assert!(text.contains("Could not remove your token"), "{text}");
    assert!(!text.contains("mmmmmmmm"), "the body was read: {text}");
    assert!(text.contains("larger than 64 KiB"), "{text}");
}

#[tokio::test]
async fn a_hanging_revocation_still_gets_a_disconnect_answer_with_what_to_do() {
    use std::time::{Duration, Instant};

    use crate::support::app::{new_secret, TestApp};

    // The outbound timeout is longer than the whole call may take: the revocation is
    // capped by the call's deadline instead, so the user still reads what to do.
    let deadline = Duration::from_secs(6);
    let app = TestApp::spawn_with(&new_secret(), |s| {
        s.http_timeout = Duration::from_secs(60);
        s.call_deadline = deadline;
    })
    .await;
    let w = World::with_app(app).await;
    w.configure_custom_provider().await;
    w.connect(&w.alice).await;
    // The revocation never answers: only a cap from the deadline ends it (the outbound
    // timeout would take 60 s). The bound leaves a loaded machine a whole deadline's margin
    // and is still far below the outbound timeout.
    let _held = w.provider.hold_next(Endpoint::Revoke);
    let started = Instant::now();
    let response = w.run(&w.alice, &format!("{COMMAND} disconnect")).await;
    let took = started.elapsed();
    let text = expect_ok(&response);
    assert!(text.contains("revoking the token"), "{text}");
    assert!(text.contains("did not answer in time"), "{text}");
    assert!(text.contains("remove this app's access"), "{text}");
    assert!(took < 2 * deadline, "took {took:?}");
    assert!(w.stored_token(&w.alice).is_none());
}
