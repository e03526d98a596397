//! Real providers where they differ from the RFCs: GitHub's token errors with HTTP 200,
//! Google's revocation that ends the whole grant, a 403 that is not a dead token, a 401 a
//! refresh can cure, and provider text that must show literally.

use serde_json::{json, Value};

use crate::support::provider::{Endpoint, Fault};
use crate::support::world::{expect_error, expect_ok, World, COMMAND};

fn field(token: &Value, key: &str) -> String {
    token[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {token}"))
        .to_owned()
}

/// Connects alice with a token already inside the app's refresh margin (30 s left).
async fn connected_with_an_expiring_token(w: &World) -> Value {
    w.configure_custom_provider().await;
    w.provider.set_expires_in(Some(30));
    let token = w.connect(&w.alice).await;
    w.provider.set_expires_in(Some(3600));
    token
}

#[tokio::test]
async fn a_wrong_client_secret_at_github_reads_as_its_oauth2_error() {
    let w = World::new().await;
    w.provider.set_github_errors(true);
    let command = w.configure_command().replace(
        &format!("--client-secret {}", w.provider.client_secret()),
        "--client-secret not-the-secret",
    );
    expect_ok(&w.run(&w.sam, &command).await);
    let walk = w.walk(&w.alice).await;
    let complete = walk.complete.as_ref().expect("redirected back");
    assert_eq!(complete.status, 500, "{complete:?}");
    assert!(
        complete.body.contains("incorrect_client_credentials"),
        "{}",
        complete.body
    );
    assert!(
        !complete.body.contains("not-the-secret"),
        "{}",
        complete.body
    );
    assert!(w.stored_token(&w.alice).is_none());
}

#[tokio::test]
async fn githubs_bad_refresh_token_clears_the_token_like_invalid_grant() {
    let w = World::new().await;
    connected_with_an_expiring_token(&w).await;
    w.provider.set_github_errors(true);
    w.provider.revoke_all();
    let text = expect_error(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    assert!(text.contains(&format!("{COMMAND} connect")), "{text}");
    assert!(
        w.stored_token(&w.alice).is_none(),
        "the dead token is cleared"
    );
    assert_eq!(
        w.mm.command_labels(&w.alice, "hello-oauth2-rs").await,
        ["connect", "help"]
    );
}

/// The configure command for the fake provider as the `google` preset (its endpoints
/// given, so Google's revocation rules apply to the fake).
fn configure_as_google(w: &World) -> String {
    w.configure_command()
        .replace("--provider custom", "--provider google")
}

#[tokio::test]
async fn disconnect_from_google_revokes_the_grant_once_and_says_so() {
    let w = World::new().await;
    w.provider.set_revocation_ends_grant(true);
    expect_ok(&w.run(&w.sam, &configure_as_google(&w)).await);
    let token = w.connect(&w.alice).await;
    let text = expect_ok(&w.run(&w.alice, &format!("{COMMAND} disconnect")).await);
    assert!(
        text.starts_with("Disconnected. Your token was revoked at Google"),
        "{text}"
    );
    assert_eq!(
        w.provider.revocations(),
        [field(&token, "refresh_token")],
        "one request, for the refresh token"
    );
    assert!(!w
        .provider
        .access_token_active(&field(&token, "access_token")));
    assert!(!w
        .provider
        .refresh_token_active(&field(&token, "refresh_token")));
}

#[tokio::test]
async fn an_already_revoked_token_counts_as_revoked() {
    // A custom provider revokes token by token; this one (like Google) ends the grant at
    // the first request and refuses the second with `invalid_token`.
    let w = World::new().await;
    w.provider.set_revocation_ends_grant(true);
    w.configure_custom_provider().await;
    let token = w.connect(&w.alice).await;
    let text = expect_ok(&w.run(&w.alice, &format!("{COMMAND} disconnect")).await);
    assert!(text.contains("was revoked"), "{text}");
    assert_eq!(w.provider.revocations().len(), 2, "refresh, then access");
    assert!(!w
        .provider
        .access_token_active(&field(&token, "access_token")));
}

#[tokio::test]
async fn a_403_from_userinfo_is_reported_and_the_token_stays() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    let token = w.connect(&w.alice).await;
    w.provider.fail_next(Endpoint::Userinfo, Fault::Forbidden);
    let text = expect_error(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    assert!(text.contains("HTTP 403"), "{text}");
    assert!(text.contains("API rate limit exceeded"), "{text}");
    assert_eq!(w.stored_token(&w.alice), Some(token), "the token stays");
    assert_eq!(w.provider.counts().refreshes, 0);
    expect_ok(&w.run(&w.alice, &format!("{COMMAND} info")).await);
}

#[tokio::test]
async fn a_401_before_expiry_refreshes_once_and_retries() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    let old = w.connect(&w.alice).await;
    // The provider drops the access token early (its stored expiry is an hour away).
    w.provider.expire_access_tokens();
    let info = expect_ok(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    assert!(info.contains("refreshed just now"), "{info}");
    assert_eq!(w.provider.counts().refreshes, 1);
    assert_eq!(
        w.provider.counts().userinfo,
        3,
        "the bot's confirmation, then info's: rejected, then retried"
    );
    let new = w.stored_token(&w.alice).expect("still connected");
    assert_ne!(field(&new, "access_token"), field(&old, "access_token"));
    assert!(w.provider.access_token_active(&field(&new, "access_token")));
}

#[tokio::test]
async fn provider_text_shows_literally_and_capped() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    w.connect(&w.alice).await;
    w.provider.set_userinfo(json!({
        "sub": "1",
        "name": "[Verify your account](https://evil.example/login)",
        "preferred_username": "@all",
        "email": "<img src=x onerror=alert(1)>",
    }));
    let info = expect_ok(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    assert!(
        info.contains("\\[\u{200B}Verify your account\\]\\(https:"),
        "the link shows as text: {info}"
    );
    assert!(!info.contains("]("), "{info}");
    assert!(!info.contains("://"), "no autolink: {info}");
    assert!(info.contains("@\u{200B}all"), "no @all mention: {info}");
    assert!(!info.contains("<img"), "{info}");
    assert!(info.contains("&lt;\u{200B}img"), "{info}");

    w.provider
        .set_userinfo(json!({"sub": "1", "name": "A".repeat(5000)}));
    let info = expect_ok(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    assert!(
        info.chars().count() < 300,
        "capped: {} chars",
        info.chars().count()
    );
    assert!(info.contains('…'), "{info}");
}
