//! The OAuth2 leg through the real plugin: `connect` → the plugin's connect URL in Chromium
//! with the user's own Mattermost session → oidc-provider's login and consent → the plugin's
//! complete endpoint → the app; then `info`, refreshes, `disconnect`.
//!
//! What the plugin stored for a user shows in the bindings call it makes for that user (the
//! manifest expands `oauth2_user: all` there): [`stored_token`] reads it through the tap.

use std::time::Duration;

use serde_json::{json, Value};

use crate::client::Client;
use crate::story::{complete_url, expect_error, expect_ok, Story, APP_ID, COMMAND};
use crate::support::e2e::{
    artifacts_dir, browser_walk, run_tool, Consent, OidcServer, WalkResult, WALK_DEADLINE_MS,
    WALK_TIMEOUT,
};
use crate::support::util::within;
use crate::support::world::open_token;

/// The provider's access-token lifetime: short, so a story can wait past it. The app
/// refreshes a token expiring within 60 s, so every `info` here refreshes first.
pub const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(3);

/// The plugin's page when the app completed the connection.
pub const COMPLETED_TEXT: &str = "Completed connecting your account. Please close this window.";

/// What the plugin holds for `client`'s user, as it expands it into their bindings call.
pub async fn stored_token(story: &Story, client: &Client) -> Option<Value> {
    client.bindings().await;
    let call = story
        .tap
        .to("/bindings")
        .into_iter()
        .rev()
        .find(|e| e.request["context"]["acting_user"]["id"] == json!(client.user.id))
        .unwrap_or_else(|| panic!("no bindings call for {}", client.user.username));
    let user = &call.request["context"]["oauth2"]["user"];
    // Sealed with the app's keys: opened as the app opens it.
    open_token(user, &story.app.token_keys, &client.user.id)
}

/// The `name` claim oidc-server.mjs issues for a login: `alice` → `Alice Example`.
pub fn display_name(login: &str) -> String {
    let mut chars = login.chars();
    let first = chars
        .next()
        .map(|c| c.to_uppercase().to_string())
        .unwrap_or_default();
    format!("{first}{} Example", chars.as_str())
}

pub fn field(token: &Value, key: &str) -> String {
    token[key]
        .as_str()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| panic!("the stored token has no {key}"))
        .to_owned()
}

/// Chromium: log in to Mattermost as `client`'s user, open `link`, sign in at the provider
/// under the same name, grant or deny.
pub async fn walk(
    story: &Story,
    client: &Client,
    link: &str,
    consent: Consent,
    shot: &str,
) -> WalkResult {
    let walk = browser_walk(
        &story.login.url_for(client),
        link,
        &client.user.username,
        consent,
        &complete_url(),
        shot,
    )
    .await;
    assert!(walk.final_url.starts_with(&complete_url()), "{walk:#?}");
    walk
}

/// Asserts that the provider calls `token` an active token of `login`'s.
pub async fn assert_active(oidc: &OidcServer, token: &str, login: &str) {
    let doc = oidc.introspect(token).await;
    assert_eq!(doc["active"], true, "{doc}");
    assert_eq!(doc["sub"], login, "{doc}");
}

/// Waits (bounded) until the provider no longer accepts `access_token`.
pub async fn wait_expired(oidc: &OidcServer, access_token: &str) {
    // A margin for a busy machine; far below the provider's default lifetime of an hour.
    let deadline = ACCESS_TOKEN_TTL + Duration::from_secs(20);
    let expired = tokio::time::timeout(deadline, async {
        while oidc.introspect(access_token).await["active"] == true {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    assert!(expired.is_ok(), "the access token outlived {deadline:?}");
}

pub(crate) async fn configured() -> (Story, OidcServer) {
    let story = Story::installed().await;
    let oidc = story.oidc(ACCESS_TOKEN_TTL).await;
    story.configure(&oidc).await;
    (story, oidc)
}

pub async fn run(client: &Client, sub: &str) -> Value {
    let line = format!("{COMMAND} {sub}");
    client.command(&line).await.response(&line)
}

#[tokio::test]
async fn a_user_connects_in_chromium_and_info_refreshes_and_disconnect_revokes() {
    let (story, oidc) = configured().await;
    let alice = story.user("alice").await;
    let other = story.user("dave").await;
    assert_eq!(alice.command_labels(APP_ID).await, ["connect", "help"]);

    let link = story.connect_link(&alice).await;
    let done = walk(&story, &alice, &link, Consent::Grant, "real-connect.png").await;
    assert_eq!(done.status, 200, "{done:#?}");
    assert!(done.text.contains(COMPLETED_TEXT), "{done:#?}");
    let complete = story.tap.last("/oauth2/complete");
    assert!(complete.has_jwt);
    assert_eq!(
        complete.request["context"]["acting_user"]["id"],
        json!(alice.user.id)
    );
    assert!(
        complete.request["values"]["code"].is_string(),
        "{:#}",
        complete.request["values"]
    );

    // Stored by the plugin for alice, and for no one else.
    let t0 = stored_token(&story, &alice)
        .await
        .expect("a token is stored for alice");
    let username = alice.user.username.as_str();
    assert_active(&oidc, &field(&t0, "refresh_token"), username).await;
    assert!(
        stored_token(&story, &other).await.is_none(),
        "stored for another user"
    );
    assert!(
        stored_token(&story, &story.admin).await.is_none(),
        "stored for the admin"
    );
    assert_eq!(
        alice.command_labels(APP_ID).await,
        ["info", "disconnect", "help"]
    );
    assert_eq!(other.command_labels(APP_ID).await, ["connect", "help"]);

    // info: who alice is at the provider; the token is refreshed and stored back.
    let info = expect_ok(&run(&alice, "info").await);
    let name = display_name(username);
    assert!(info.contains(&name), "{info}");
    assert!(info.contains("refreshed just now"), "{info}");
    let t1 = stored_token(&story, &alice).await.expect("still connected");
    assert_ne!(field(&t1, "access_token"), field(&t0, "access_token"));
    assert_ne!(field(&t1, "refresh_token"), field(&t0, "refresh_token"));

    // Past the access token's lifetime: refreshed again, stored back through the plugin.
    wait_expired(&oidc, &field(&t1, "access_token")).await;
    let info = expect_ok(&run(&alice, "info").await);
    assert!(
        info.contains(&name) && info.contains("refreshed just now"),
        "{info}"
    );
    let sent = story.tap.last("/info");
    assert_eq!(
        open_token(
            &sent.request["context"]["oauth2"]["user"],
            &story.app.token_keys,
            &alice.user.id
        )
        .expect("a token")["access_token"],
        json!(field(&t1, "access_token")),
        "the call carried the expired token"
    );
    let t2 = stored_token(&story, &alice).await.expect("still connected");
    assert_ne!(field(&t2, "access_token"), field(&t1, "access_token"));
    assert_active(&oidc, &field(&t2, "access_token"), username).await;

    // disconnect: revoked at the provider, forgotten by the plugin.
    let bye = expect_ok(&run(&alice, "disconnect").await);
    assert!(bye.contains("revoked"), "{bye}");
    for key in ["access_token", "refresh_token"] {
        let doc = oidc.introspect(&field(&t2, key)).await;
        assert_eq!(doc["active"], false, "{key} after disconnect: {doc}");
    }
    assert!(stored_token(&story, &alice).await.is_none(), "forgotten");
    assert_eq!(alice.command_labels(APP_ID).await, ["connect", "help"]);
}

#[tokio::test]
async fn a_refresh_refused_with_invalid_grant_offers_connect_again() {
    let (story, oidc) = configured().await;
    let erin = story.user("erin").await;
    let link = story.connect_link(&erin).await;
    let done = walk(
        &story,
        &erin,
        &link,
        Consent::Grant,
        "real-invalid-grant.png",
    )
    .await;
    assert_eq!(done.status, 200, "{done:#?}");
    let token = stored_token(&story, &erin).await.expect("connected");

    // The provider forgets the grant (as when the user revokes the app there).
    revoke_grant(&oidc, &token).await;

    let text = expect_error(&run(&erin, "info").await);
    assert!(
        text.contains("refresh token is no longer accepted by the provider"),
        "{text}"
    );
    assert!(text.contains(&format!("{COMMAND} connect")), "{text}");
    assert!(!text.contains(&field(&token, "refresh_token")), "{text}");
    assert!(
        stored_token(&story, &erin).await.is_none(),
        "the dead token is forgotten"
    );
    assert_eq!(erin.command_labels(APP_ID).await, ["connect", "help"]);
}

#[tokio::test]
async fn denying_consent_shows_the_providers_error_and_stores_nothing() {
    let (story, oidc) = configured().await;
    let bob = story.user("bob").await;
    let link = story.connect_link(&bob).await;
    let done = walk(&story, &bob, &link, Consent::Deny, "real-deny.png").await;
    // The plugin serves the app's error as a plain-text 500, quoting the provider.
    assert_eq!(done.status, 500, "{done:#?}");
    assert!(
        done.text
            .contains("Your account was not connected: the provider refused: access_denied"),
        "{done:#?}"
    );
    assert!(!done.window_close_called, "{done:#?}");
    let complete = story.tap.last("/oauth2/complete");
    assert_eq!(complete.request["values"]["error"], "access_denied");
    assert_eq!(
        complete.response["type"], "error",
        "{:#}",
        complete.response
    );
    assert!(stored_token(&story, &bob).await.is_none());
    assert_eq!(oidc.logged("POST /token ->"), 0, "no code was exchanged");
    assert_eq!(bob.command_labels(APP_ID).await, ["connect", "help"]);
}

/// The walk of `browser_walk`, without its one-at-a-time slot, so two run at once.
pub async fn walk_now(story: &Story, client: &Client, link: &str, shot: &str) -> Value {
    let login_url = story.login.url_for(client);
    let shot = artifacts_dir().join(shot).to_string_lossy().into_owned();
    let complete = complete_url();
    let args = [
        "--login-url",
        login_url.as_str(),
        "--connect-url",
        link,
        "--login",
        client.user.username.as_str(),
        "--action",
        "consent",
        "--complete-url-prefix",
        complete.as_str(),
        "--screenshot",
        shot.as_str(),
        "--timeout-ms",
        WALK_DEADLINE_MS,
    ];
    let output = run_tool(
        "browser-walk.mjs",
        &args,
        WALK_TIMEOUT + Duration::from_secs(10),
    )
    .await;
    assert!(
        output.status.success(),
        "the walk of {} failed: {}",
        client.user.username,
        output.stderr.trim()
    );
    output.json("browser-walk.mjs")
}

#[tokio::test]
async fn an_admin_and_a_user_connecting_at_once_each_get_their_own_token() {
    let (story, oidc) = configured().await;
    let admin = story.admin.clone();
    let frank = story.user("frank").await;
    assert_eq!(
        admin.command_labels(APP_ID).await,
        ["connect", "configure", "status", "help"]
    );
    // Both connect links are out (two states pending) before either walk starts.
    let admin_link = story.connect_link(&admin).await;
    let frank_link = story.connect_link(&frank).await;
    let (a, f) = tokio::join!(
        walk_now(&story, &admin, &admin_link, "real-at-once-admin.png"),
        walk_now(&story, &frank, &frank_link, "real-at-once-user.png"),
    );
    for done in [&a, &f] {
        assert_eq!(done["status"], 200, "{done:#}");
        assert!(
            done["text"].as_str().unwrap_or("").contains(COMPLETED_TEXT),
            "{done:#}"
        );
    }
    let ta = stored_token(&story, &admin)
        .await
        .expect("the admin's token");
    let tf = stored_token(&story, &frank).await.expect("frank's token");
    assert_ne!(field(&ta, "access_token"), field(&tf, "access_token"));
    assert_active(&oidc, &field(&ta, "refresh_token"), &admin.user.username).await;
    assert_active(&oidc, &field(&tf, "refresh_token"), &frank.user.username).await;
    assert_eq!(
        admin.command_labels(APP_ID).await,
        ["info", "disconnect", "configure", "status", "help"]
    );
    assert_eq!(
        frank.command_labels(APP_ID).await,
        ["info", "disconnect", "help"]
    );
    for client in [&admin, &frank] {
        let info = expect_ok(&run(client, "info").await);
        assert!(
            info.contains(&display_name(&client.user.username)),
            "{info}"
        );
    }
}

/// Revokes `token`'s refresh token at oidc-provider, which ends the whole grant (as when
/// the user removes the app's access there).
pub async fn revoke_grant(oidc: &OidcServer, token: &Value) {
    let response = within(
        "revocation at oidc-provider",
        reqwest::Client::new()
            .post(&oidc.endpoints.revocation_endpoint)
            .basic_auth(&oidc.client_id, Some(&oidc.client_secret))
            .form(&[
                ("token", field(token, "refresh_token").as_str()),
                ("token_type_hint", "refresh_token"),
            ])
            .send(),
    )
    .await
    .expect("oidc-provider answers");
    assert_eq!(response.status().as_u16(), 200);
}
