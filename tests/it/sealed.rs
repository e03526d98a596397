//! Sealed at rest: what the app stores in Mattermost (users' tokens, the client secret)
//! holds no secret in any encoding; a rotated key still opens and the next store seals with
//! the new one; a wrong key asks users to connect again and tells the admin; plain-text
//! records of earlier versions work and are sealed when stored again.

use hello_oauth2_rs::seal::KeyRing;
use serde_json::Value;

use crate::support::app::{token_key_for, TestApp};
use crate::support::leaks::find_leak;
use crate::support::mattermost::User;
use crate::support::world::{expect_error, expect_ok, World, COMMAND};

/// Connects `user` with a token inside the app's refresh margin, so the next `info`
/// refreshes it (and stores it again).
async fn connect_expiring(w: &World, user: &User) {
    w.provider.set_expires_in(Some(30));
    w.connect(user).await;
    w.provider.set_expires_in(Some(3600));
}

/// Restarts the app (same JWT secret) with the key ring `keys`.
async fn restart(w: &mut World, keys: &str) {
    let ring = KeyRing::parse(keys).expect("the key ring parses");
    let app = TestApp::spawn_with(&w.app.secret, |s| s.token_keys = ring).await;
    w.mm.route_app_to(&app.root_url);
    w.app = app;
}

fn new_key(id: &str) -> String {
    KeyRing::generate_text(id).expect("rng").to_string()
}

/// `user`'s stored token as Mattermost holds it.
fn raw_token(w: &World, user: &User) -> Value {
    w.mm.stored_token(user).expect("a token is stored")
}

/// The stored client secret as Mattermost holds it.
fn raw_secret(w: &World) -> String {
    w.mm.stored_oauth2_app().expect("a client is stored")["client_secret"]
        .as_str()
        .expect("a secret")
        .to_owned()
}

fn secret_kid(w: &World) -> Value {
    serde_json::from_str::<Value>(&raw_secret(w)).expect("an envelope")["kid"].clone()
}

/// The configure command that keeps the stored secret (same client, secret left out).
fn configure_keeping_the_secret(w: &World) -> String {
    w.configure_command().replace(
        &format!("--client-secret {} ", w.provider.client_secret()),
        "",
    )
}

fn info() -> String {
    format!("{COMMAND} info")
}

#[tokio::test]
async fn what_is_stored_holds_no_token_or_client_secret_in_any_encoding() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    connect_expiring(&w, &w.alice).await;
    let no_leak = |after: &str| {
        let mut secrets: Vec<(String, String)> = w
            .provider
            .issued_secrets()
            .into_iter()
            .map(|s| ("a provider token or code".to_owned(), s))
            .collect();
        secrets.push(("the client secret".to_owned(), w.provider.client_secret()));
        let token = String::from_utf8(w.mm.stored_oauth2_user_bytes(&w.alice).expect("stored"))
            .expect("UTF-8");
        let app = w.mm.stored_oauth2_app().expect("stored").to_string();
        assert_eq!(find_leak(&token, &secrets), None, "after {after}: {token}");
        assert_eq!(find_leak(&app, &secrets), None, "after {after}: {app}");
        // The check finds the tokens in what the app opens: it can fail.
        let opened = w.stored_token(&w.alice).expect("opens").to_string();
        assert!(find_leak(&opened, &secrets).is_some());
        secrets.len()
    };
    assert!(
        no_leak("connect") >= 2,
        "a code and a pair of tokens were issued"
    );
    let text = expect_ok(&w.run(&w.alice, &info()).await);
    assert!(text.contains("refreshed just now"), "{text}");
    assert!(no_leak("the refresh") >= 4, "and a second pair");
    let envelope = raw_token(&w, &w.alice);
    assert_eq!(envelope["v"], 1, "{envelope}");
    assert_eq!(envelope["kid"], "test", "{envelope}");
    assert_eq!(secret_kid(&w), "test");
    // A sealed token copied into another user's record does not open there.
    w.mm.set_stored_token(&w.bob, &envelope);
    let text = expect_error(&w.run(&w.bob, &info()).await);
    assert!(text.contains("must be made again"), "{text}");
}

#[tokio::test]
async fn a_rotated_key_still_opens_and_what_is_stored_next_is_sealed_with_the_new_key() {
    let mut w = World::new().await;
    w.configure_custom_provider().await;
    connect_expiring(&w, &w.alice).await;
    let old = token_key_for(&w.app.secret);
    let new = new_key("new");
    restart(&mut w, &format!("{new},{old}")).await;

    // Opened with the old key; the refresh stores it sealed with the new one.
    assert_eq!(raw_token(&w, &w.alice)["kid"], "test");
    let text = expect_ok(&w.run(&w.alice, &info()).await);
    assert!(text.contains("refreshed just now"), "{text}");
    assert_eq!(raw_token(&w, &w.alice)["kid"], "new");
    // The client secret opens too; configure keeps it and seals it with the new key.
    let status = expect_ok(&w.run(&w.sam, &format!("{COMMAND} status")).await);
    assert!(status.contains("credentials are accepted"), "{status}");
    assert_eq!(secret_kid(&w), "test");
    expect_ok(&w.run(&w.sam, &configure_keeping_the_secret(&w)).await);
    assert_eq!(secret_kid(&w), "new");
    assert_eq!(
        w.stored_oauth2_app().expect("stored")["client_secret"],
        w.provider.client_secret()
    );

    // Everything re-sealed: the old key can go.
    restart(&mut w, &new).await;
    expect_ok(&w.run(&w.alice, &info()).await);
    let status = expect_ok(&w.run(&w.sam, &format!("{COMMAND} status")).await);
    assert!(status.contains("credentials are accepted"), "{status}");
}

#[tokio::test]
async fn with_a_wrong_key_users_connect_again_and_status_tells_the_admin_and_nothing_is_cleared() {
    let mut w = World::new().await;
    w.configure_custom_provider().await;
    w.connect(&w.alice).await;
    w.connect(&w.bob).await;
    let stored_app = w.mm.stored_oauth2_app();
    let alice_token = w.mm.stored_oauth2_user_bytes(&w.alice);
    // Another key under the same ID, as when the key file was lost and regenerated.
    restart(&mut w, &new_key("test")).await;

    let status = expect_ok(&w.run(&w.sam, &format!("{COMMAND} status")).await);
    assert!(status.contains(":x: Client secret"), "{status}");
    assert!(status.contains("cannot be opened"), "{status}");
    assert!(
        status.contains("Start the app with the key that sealed it"),
        "{status}"
    );
    let text = expect_error(&w.run(&w.alice, &info()).await);
    assert!(text.contains("system admin"), "{text}");
    assert_eq!(w.mm.stored_oauth2_app(), stored_app, "nothing cleared");
    assert_eq!(w.mm.stored_oauth2_user_bytes(&w.alice), alice_token);

    // The admin enters the secret again; alice is asked to connect again, with the link.
    expect_ok(&w.run(&w.sam, &w.configure_command()).await);
    let text = expect_error(&w.run(&w.alice, &info()).await);
    assert!(text.contains("must be made again"), "{text}");
    assert!(text.contains(&w.mm.connect_url()), "{text}");
    assert_eq!(w.mm.stored_oauth2_user_bytes(&w.alice), alice_token);
    w.connect(&w.alice).await;
    expect_ok(&w.run(&w.alice, &info()).await);

    // bob leaves: his unreadable token is cleared, and he reads it was not revoked.
    let text = expect_ok(&w.run(&w.bob, &format!("{COMMAND} disconnect")).await);
    assert!(text.contains("not revoked"), "{text}");
    assert!(w.mm.stored_token(&w.bob).is_none());
}

#[tokio::test]
async fn plain_text_records_of_earlier_versions_work_and_are_sealed_when_stored_again() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    connect_expiring(&w, &w.alice).await;
    // What an earlier version stored: the client secret and the token in plain text.
    w.mm.set_stored_oauth2_app(&w.stored_oauth2_app().expect("stored"));
    w.mm.set_stored_token(&w.alice, &w.stored_token(&w.alice).expect("stored"));
    assert_eq!(raw_secret(&w), w.provider.client_secret());
    assert!(raw_token(&w, &w.alice)["access_token"].is_string());

    let status = expect_ok(&w.run(&w.sam, &format!("{COMMAND} status")).await);
    assert!(status.contains("stored in plain text"), "{status}");
    assert!(status.contains("credentials are accepted"), "{status}");
    let text = expect_ok(&w.run(&w.alice, &info()).await);
    assert!(text.contains("refreshed just now"), "{text}");
    let token = raw_token(&w, &w.alice);
    assert_eq!(token["kid"], "test", "sealed when stored again: {token}");
    assert!(token.get("access_token").is_none());

    expect_ok(&w.run(&w.sam, &configure_keeping_the_secret(&w)).await);
    assert_eq!(secret_kid(&w), "test");
    let status = expect_ok(&w.run(&w.sam, &format!("{COMMAND} status")).await);
    assert!(
        status.contains("stored, sealed with the key `test`"),
        "{status}"
    );
}
