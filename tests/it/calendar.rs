//! For Google, `info` lists the user's calendars as the Go example does: with the token
//! refreshed first when due, escaped, and with userinfo's error handling.

use crate::support::provider::{Endpoint, Fault};
use crate::support::world::{expect_error, expect_ok, World, COMMAND};

/// The Google preset, its endpoints pointed at the fake provider.
async fn configure_google(w: &World) {
    let p = &w.provider;
    let line = format!(
        "{COMMAND} configure --provider google --client-id {} --client-secret {} \
         --auth-url {} --token-url {} --userinfo-url {} --revoke-url {} --calendar-url {}",
        p.client_id(),
        p.client_secret(),
        p.authorize_url(),
        p.token_url(),
        p.userinfo_url(),
        p.revoke_url(),
        p.calendar_url()
    );
    expect_ok(&w.run(&w.sam, &line).await);
}

async fn info(w: &World) -> serde_json::Value {
    w.run(&w.alice, &format!("{COMMAND} info")).await
}

#[tokio::test]
async fn info_lists_the_google_calendars_with_a_refreshed_token() {
    let w = World::new().await;
    configure_google(&w).await;
    // Expiring within the app's refresh margin; then the provider drops it for good.
    w.provider.set_expires_in(Some(30));
    w.connect(&w.alice).await;
    let connect = w.mm.calls_to("/oauth2/connect").pop().expect("connect URL");
    let url = connect.response.expect("answer")["data"].to_string();
    assert!(url.contains("calendar.readonly"), "{url}");
    w.provider.expire_access_tokens();
    w.provider.set_expires_in(Some(3600));

    let text = expect_ok(&info(&w).await);
    assert!(text.contains("refreshed just now"), "{text}");
    // Escaped: the shared calendar's Markdown name is neither a link nor a mention.
    assert!(
        text.ends_with(
            "\n\nYour calendars:\n- alice@provider\\.example (primary)\n- \\[\u{200B}Team\\]\\(https:\u{200B}//evil\\.example\\) @\u{200B}all"
        ),
        "{text}"
    );
    let counts = w.provider.counts();
    assert_eq!((counts.refreshes, counts.calendar), (1, 1));
}

#[tokio::test]
async fn a_failing_calendar_list_is_reported_and_the_account_still_shown() {
    let w = World::new().await;
    configure_google(&w).await;
    w.connect(&w.alice).await;
    w.provider.fail_next(Endpoint::Calendar, Fault::ServerError);
    let text = expect_ok(&info(&w).await);
    assert!(text.contains("Provider User alice"), "{text}");
    assert!(
        text.contains("Your calendars could not be read: the provider gave an unexpected answer: HTTP 500 from the calendar list."),
        "{text}"
    );
    assert!(w.stored_token(&w.alice).is_some(), "the token stays");
}

#[tokio::test]
async fn a_token_the_calendar_api_rejects_is_refreshed_then_forgotten_as_at_userinfo() {
    let w = World::new().await;
    configure_google(&w).await;
    w.connect(&w.alice).await;
    // One 401: refreshed once, and the list read with the new token.
    w.provider
        .fail_next(Endpoint::Calendar, Fault::InvalidGrant);
    let text = expect_ok(&info(&w).await);
    assert!(text.contains("Your calendars:"), "{text}");
    assert_eq!(w.provider.counts().refreshes, 1);
    // Still rejected after the refresh: the token is forgotten, connect is offered.
    w.provider
        .fail_next(Endpoint::Calendar, Fault::InvalidGrant);
    w.provider
        .fail_next(Endpoint::Calendar, Fault::InvalidGrant);
    let text = expect_error(&info(&w).await);
    assert!(text.contains("connect"), "{text}");
    assert!(w.stored_token(&w.alice).is_none());
    assert_eq!(
        w.mm.command_labels(&w.alice, "hello-oauth2-rs").await,
        ["connect", "help"]
    );
}

#[tokio::test]
async fn other_providers_show_only_their_userinfo() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    w.connect(&w.alice).await;
    let text = expect_ok(&info(&w).await);
    assert!(!text.contains("calendars"), "{text}");
    assert_eq!(w.provider.counts().calendar, 0);
}

#[tokio::test]
async fn google_without_a_calendar_scope_lists_no_calendars() {
    let w = World::new().await;
    let p = &w.provider;
    let line = format!(
        "{COMMAND} configure --provider google --client-id {} --client-secret {} \
         --auth-url {} --token-url {} --userinfo-url {} --scopes \"openid email\"",
        p.client_id(),
        p.client_secret(),
        p.authorize_url(),
        p.token_url(),
        p.userinfo_url(),
    );
    expect_ok(&w.run(&w.sam, &line).await);
    w.connect(&w.alice).await;
    let text = expect_ok(&info(&w).await);
    assert!(!text.contains("calendars"), "{text}");
    assert_eq!(p.counts().calendar, 0);
}
