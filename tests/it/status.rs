//! `status`: a system admin sees the settings (never the secret) and a live check of the
//! provider; anyone else is refused; a down or slow provider still gets an answer in time.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::app::{new_secret, TestApp};
use crate::support::provider::Endpoint;
use crate::support::world::{expect_error, expect_ok, World, COMMAND};

/// Configures the fake provider by its issuer, with `secret` as the client secret.
async fn configure_by_issuer(w: &World, secret: &str) {
    let line = format!(
        "{COMMAND} configure --provider custom --issuer {} --client-id {} --client-secret {secret}",
        w.provider.issuer(),
        w.provider.client_id(),
    );
    expect_ok(&w.run(&w.sam, &line).await);
}

async fn status(w: &World) -> String {
    expect_ok(&w.run(&w.sam, &format!("{COMMAND} status")).await)
}

#[tokio::test]
async fn an_admin_sees_the_settings_and_a_passing_live_check() {
    let w = World::new().await;
    let p = &w.provider;
    assert!(status(&w).await.contains("No client is stored yet"));

    configure_by_issuer(&w, &p.client_secret()).await;
    let text = status(&w).await;
    for expected in [
        "- Provider: Custom OAuth2 server (`custom`)".to_owned(),
        format!("- Issuer: `{}`", p.issuer()),
        format!("- Client ID: `{}`", p.client_id()),
        "- Client secret: stored".to_owned(),
        format!(
            "- Redirect URI to register at the provider: `{}`",
            w.mm.complete_url()
        ),
        format!("- Authorization URL: `{}`", p.authorize_url()),
        format!("- Token URL: `{}`", p.token_url()),
        format!("- Userinfo URL: `{}`", p.userinfo_url()),
        format!("- Revocation URL: `{}`", p.revoke_url()),
        "- Scopes: `openid profile email`".to_owned(),
        format!(
            "- :white_check_mark: Discovery: `{}/.well-known/openid-configuration` names this issuer and the stored endpoints",
            p.issuer()
        ),
        "- :white_check_mark: Token endpoint: the client credentials are accepted".to_owned(),
    ] {
        assert!(text.contains(&expected), "{expected:?} in\n{text}");
    }
    assert!(!text.contains(&p.client_secret()), "{text}");
    // The probe authenticated as a real exchange does, and exchanged nothing.
    let probe = p
        .token_requests()
        .pop()
        .expect("the token endpoint was probed");
    assert_eq!(
        (probe.grant_type.as_str(), probe.client_auth.as_str()),
        ("authorization_code", "basic")
    );
    assert_eq!(p.counts().code_exchanges, 0);

    // The issuer moved its token endpoint since configure.
    let mut doc = p.discovery_document();
    doc["token_endpoint"] = json!(format!("{}/v2/token", p.base_url()));
    p.set_discovery(Some(doc));
    let text = status(&w).await;
    assert!(
        text.contains("now gives another token_endpoint: run `/hello-oauth2-rs configure` again"),
        "{text}"
    );
}

#[tokio::test]
async fn a_wrong_client_secret_is_reported_by_the_live_check() {
    let w = World::new().await;
    configure_by_issuer(&w, "not-the-secret").await;
    let text = status(&w).await;
    assert!(
        text.contains(
            "- :x: Token endpoint: the client ID or secret is wrong (the provider refused: invalid\\_client"
        ),
        "{text}"
    );
    assert!(!text.contains("not-the-secret"), "{text}");
}

#[tokio::test]
async fn status_is_for_system_admins_only() {
    let w = World::new().await;
    configure_by_issuer(&w, &w.provider.client_secret()).await;
    assert_eq!(
        w.mm.command_labels(&w.sam, "hello-oauth2-rs").await,
        ["connect", "configure", "status", "help"]
    );
    assert_eq!(
        w.mm.command_labels(&w.alice, "hello-oauth2-rs").await,
        ["connect", "help"]
    );
    // Sent anyway, as a user, with the expand the admin's binding has, or with none.
    let token_requests = w.provider.counts().token;
    for (expand, expected) in [
        (
            json!({"acting_user": "summary", "oauth2_app": "all"}),
            "Only system admins",
        ),
        // Without the acting user's roles there is no admin: refused too.
        (
            json!({"oauth2_app": "all"}),
            "Mattermost did not send what this command needs",
        ),
    ] {
        let call = json!({"path": "/status", "expand": expand});
        let text = expect_error(&w.mm.call(&w.alice, call, json!({})).await);
        assert!(text.contains(expected), "{text}");
        assert!(!text.contains(&w.provider.client_id()), "{text}");
    }
    assert_eq!(w.provider.counts().token, token_requests, "no live check");
}

#[tokio::test]
async fn a_slow_provider_still_gets_an_answer_within_the_deadline() {
    // Both checks are held past the app's outbound timeout; they run together, so the
    // answer comes after one timeout, not two: the bound keeps 3 s for a busy machine.
    let timeout = Duration::from_secs(4);
    let app = TestApp::spawn_with(&new_secret(), |s| s.http_timeout = timeout).await;
    let w = World::with_app(app).await;
    configure_by_issuer(&w, &w.provider.client_secret()).await;
    let _discovery = w.provider.hold_next(Endpoint::Discovery);
    let _token = w.provider.hold_next(Endpoint::Token);
    let started = Instant::now();
    let text = status(&w).await;
    let took = started.elapsed();
    assert!(text.contains("- :x: Discovery: "), "{text}");
    assert!(text.contains("did not answer in time"), "{text}");
    assert!(
        text.contains("- :x: Token endpoint: the provider did not answer in time"),
        "{text}"
    );
    assert!(took < timeout * 7 / 4, "took {took:?}");

    // A provider that is down: one line per check, each saying so.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let port = listener.local_addr().expect("address").port();
        drop(listener);
        format!("http://127.0.0.1:{port}")
    };
    let line = format!(
        "{COMMAND} configure --provider custom --client-id id --client-secret s \
         --auth-url {closed}/authorize --token-url {closed}/token"
    );
    expect_ok(&w.run(&w.sam, &line).await);
    let text = status(&w).await;
    assert!(
        !text.contains("Discovery"),
        "no issuer, no discovery check: {text}"
    );
    assert!(
        text.contains("- :x: Token endpoint: the provider could not be reached"),
        "{text}"
    );
    assert!(text.contains("- Userinfo URL: none"), "{text}");
}

#[tokio::test]
async fn the_checks_give_up_before_the_call_deadline_whatever_the_outbound_timeout() {
    // An outbound timeout longer than the whole call may take: the checks are capped by
    // the call's deadline instead, and still answer line by line.
    let deadline = Duration::from_secs(6);
    let app = TestApp::spawn_with(&new_secret(), |settings| {
        settings.http_timeout = Duration::from_secs(60);
        settings.call_deadline = deadline;
    })
    .await;
    let w = World::with_app(app).await;
    configure_by_issuer(&w, &w.provider.client_secret()).await;
    // Neither check ever answers: only the budget taken from the deadline ends them.
    let _discovery = w.provider.hold_next(Endpoint::Discovery);
    let _token = w.provider.hold_next(Endpoint::Token);
    let started = Instant::now();
    let text = status(&w).await;
    let took = started.elapsed();
    assert!(
        text.contains("- :x: Discovery: no answer in time"),
        "{text}"
    );
    assert!(
        text.contains("- :x: Token endpoint: the provider did not answer in time"),
        "{text}"
    );
    // Before the deadline (the checks' budget is 1 s of it): a loaded machine's margin.
    assert!(took < deadline, "took {took:?}");
}
