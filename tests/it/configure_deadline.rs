//! `configure` within its deadline: discovery has its own share of it, and a store that may
//! have happened is never reported as a plain failure.

use std::time::Duration;

use crate::support::app::{new_secret, TestApp};
use crate::support::provider::{Endpoint, Fault};
use crate::support::world::{expect_error, World, COMMAND};

/// Calls answer "slow" after 8 s (so the store's margin, a tenth of it, holds on a busy
/// machine); outbound requests may take 15 s.
async fn world() -> World {
    let app = TestApp::spawn_with(&new_secret(), |s| {
        s.call_deadline = Duration::from_secs(8);
        s.http_timeout = Duration::from_secs(15);
    })
    .await;
    World::with_app(app).await
}

fn by_issuer(w: &World) -> String {
    format!(
        "{COMMAND} configure --issuer {} --client-id {} --client-secret {}",
        w.provider.issuer(),
        w.provider.client_id(),
        w.provider.client_secret()
    )
}

#[tokio::test]
async fn a_slow_discovery_is_an_issuer_error_within_its_share_and_stores_nothing() {
    let w = world().await;
    w.provider
        .fail_next(Endpoint::Discovery, Fault::Delay(Duration::from_secs(12)));
    let response = w.run(&w.sam, &by_issuer(&w)).await;
    let text = expect_error(&response);
    assert!(text.contains("The configuration was not saved"), "{text}");
    let issuer = response["data"]["errors"]["issuer"]
        .as_str()
        .unwrap_or_default();
    assert!(issuer.contains("did not arrive within 4 s"), "{response}");
    assert!(w.mm.stored_oauth2_app().is_none());
}

#[tokio::test]
async fn a_store_answered_too_late_says_what_to_check_not_try_again() {
    let w = world().await;
    w.mm.answer_rest_late_once("POST", "/oauth2/app", Duration::from_secs(12));
    let text = expect_error(&w.run(&w.sam, &by_issuer(&w)).await);
    assert!(text.contains("may have been saved"), "{text}");
    assert!(text.contains(&format!("{COMMAND} status")), "{text}");
    assert!(!text.contains("Try again"), "{text}");
    let stored = w.mm.stored_oauth2_app().expect("the store happened");
    assert_eq!(stored["client_id"], w.provider.client_id());
}
