//! A user's grant under faults and races, on the real server: the app reaches Mattermost's
//! REST API through a [`Relay`] (`MATTERMOST_SITE_URL`), and oidc-provider's token endpoint
//! through another, so a story can fail a store or slow a refresh at a chosen request.

use std::time::Duration;

use serde_json::{json, Value};
use url::Url;

use crate::client::{Client, APPS_API};
use crate::connect::{
    assert_active, display_name, field, run, stored_token, walk, ACCESS_TOKEN_TTL,
};
use crate::relay::{Fault, Relay};
use crate::stack::stack;
use crate::story::{expect_ok, Story, APP_ID};
use crate::support::e2e::{Consent, OidcServer};
use crate::support::util::within;

/// Where the app stores and removes a user's token (mattermost-plugin-apps:
/// server/httpin/oauth2.go).
fn oauth2_user() -> String {
    format!("{APPS_API}/oauth2/user")
}

/// A story whose app reaches Mattermost through `mm`, with an outbound timeout long enough
/// that only the story's own faults end a request.
async fn through(mm: &Relay) -> Story {
    let site = Url::parse(&mm.url).expect("the relay's URL parses");
    Story::installed_with(1, |s| {
        s.mattermost_site_url = Some(site.clone());
        s.http_timeout = Duration::from_secs(30);
    })
    .await
}

/// Connects `client` in Chromium; the token the plugin stored.
async fn connected(story: &Story, client: &Client, shot: &str) -> Value {
    let link = story.connect_link(client).await;
    let done = walk(story, client, &link, Consent::Grant, shot).await;
    assert_eq!(done.status, 200, "{done:#?}");
    stored_token(story, client).await.expect("connected")
}

/// The provider's log lines about refused grants (reuse of a spent refresh token included).
fn refused_grants(oidc: &OidcServer) -> Vec<String> {
    oidc.log()
        .into_iter()
        .filter(|l| l.contains("grant.error"))
        .collect()
}

#[tokio::test]
async fn a_refresh_whose_store_back_fails_once_keeps_the_user_connected() {
    let mm = Relay::start(&stack().site_url);
    let story = through(&mm).await;
    let oidc = story.oidc(ACCESS_TOKEN_TTL).await;
    story.configure(&oidc).await;
    let gina = story.user("gina").await;
    let t0 = connected(&story, &gina, "real-store-fails.png").await;

    // The refresh rotates the refresh token at the provider; storing it back fails once.
    // (The next token stored is the refreshed one, sealed: an envelope with a nonce.)
    mm.fault_next("POST", &oauth2_user(), "nonce", Fault::Fail(500));
    let info = expect_ok(&run(&gina, "info").await);
    assert!(info.contains(&display_name(&gina.user.username)), "{info}");
    // Stored again after the failure (within the call or right after it).
    within(
        "the refreshed token to be stored after the failure",
        async {
            loop {
                let statuses: Vec<u16> = mm
                    .to("POST", &oauth2_user())
                    .iter()
                    .map(|s| s.status)
                    .collect();
                if statuses
                    .iter()
                    .skip_while(|s| **s != 500)
                    .any(|s| *s == 200)
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        },
    )
    .await;

    // Stored afterwards: the rotated token, alive at the provider.
    let t1 = stored_token(&story, &gina).await.expect("still connected");
    assert_ne!(field(&t1, "refresh_token"), field(&t0, "refresh_token"));
    assert_active(&oidc, &field(&t1, "refresh_token"), &gina.user.username).await;

    // And it keeps working: the next refresh presents the stored, unspent token.
    let info = expect_ok(&run(&gina, "info").await);
    assert!(info.contains(&display_name(&gina.user.username)), "{info}");
    assert!(
        stored_token(&story, &gina).await.is_some(),
        "still connected"
    );
    assert_eq!(
        refused_grants(&oidc),
        Vec::<String>::new(),
        "no invalid_grant"
    );
    assert_eq!(
        gina.command_labels(APP_ID).await,
        ["info", "disconnect", "help"]
    );
}

#[tokio::test]
async fn disconnect_racing_a_slow_refresh_ends_disconnected_and_revokes_the_refreshed_token() {
    let mm = Relay::start(&stack().site_url);
    let story = through(&mm).await;
    let oidc = story.oidc(ACCESS_TOKEN_TTL).await;
    let slow = Relay::start(&oidc.endpoints.issuer);
    let token_url = oidc
        .endpoints
        .token_endpoint
        .replacen(&oidc.endpoints.issuer, &slow.url, 1);
    story
        .configure_with(&oidc, |v| v["token_url"] = json!(token_url))
        .await;
    let hank = story.user("hank").await;
    let t0 = connected(&story, &hank, "real-disconnect-race.png").await;

    // The provider has rotated the token (the old one is spent), but its answer is held
    // until `disconnect` has reached the app.
    slow.fault_next(
        "POST",
        "/token",
        "grant_type=refresh_token",
        Fault::HoldAnswer,
    );
    let info = run(&hank, "info");
    let race = async {
        slow.wait_held(1).await;
        let (bye, ()) = tokio::join!(run(&hank, "disconnect"), async {
            story.tap.wait_arrived("/disconnect", 1).await;
            slow.release();
        });
        bye
    };
    let (info, bye) = tokio::join!(info, race);
    eprintln!("disconnect race: info answered {info}");
    let bye = expect_ok(&bye);
    assert!(bye.contains("Disconnected"), "{bye}");
    let refreshed = slow
        .to("POST", "/token")
        .into_iter()
        .find(|p| p.request.contains("grant_type=refresh_token"))
        .expect("the refresh reached the provider");
    assert_eq!(refreshed.status, 200, "{:?}", refreshed.status);

    // Nothing stored after disconnect's removal (the first store without a token).
    let stores: Vec<bool> = mm
        .to("POST", &oauth2_user())
        .iter()
        .map(|s| s.request.contains("access_token"))
        .collect();
    let removal = stores
        .iter()
        .position(|token| !token)
        .expect("disconnect removed the token");
    assert!(
        !stores[removal..].contains(&true),
        "a token was stored after disconnect (stores with a token: {stores:?})"
    );
    assert!(stored_token(&story, &hank).await.is_none(), "forgotten");
    assert_eq!(hank.command_labels(APP_ID).await, ["connect", "help"]);

    // What the refresh obtained, and what it replaced, are dead at the provider.
    for token in [
        field(&refreshed.response, "access_token"),
        field(&refreshed.response, "refresh_token"),
        field(&t0, "refresh_token"),
    ] {
        let doc = oidc.introspect(&token).await;
        assert_eq!(doc["active"], false, "{doc}");
    }
}
