//! The bot's direct messages: a connect that completes is confirmed naming the account; a
//! connection the app ends with no call to answer is told once; a user who sees the error
//! in a call's answer gets no message; a message that cannot be sent fails nothing.

use std::time::Duration;

use crate::support::app::{new_secret, TestApp};
use crate::support::mattermost::{command, PostRecord, User};
use crate::support::provider::{Endpoint, Fault, Identity};
use crate::support::util::within;
use crate::support::world::{expect_error, expect_ok, World, COMMAND};

/// Waits until `user` has received `count` direct messages, and returns them.
async fn direct_messages(w: &World, user: &User, count: usize) -> Vec<PostRecord> {
    within("the bot's direct messages", async {
        loop {
            let messages = w.mm.direct_messages_to(user);
            if messages.len() >= count {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
}

/// Configures the provider, connects alice with a token inside the refresh margin, and
/// waits for the confirmation.
async fn connected_with_an_expiring_token(w: &World) {
    w.configure_custom_provider().await;
    w.provider.set_expires_in(Some(30));
    w.connect(&w.alice).await;
    w.provider.set_expires_in(Some(3600));
    direct_messages(w, &w.alice, 1).await;
}

#[tokio::test]
async fn a_completed_connect_is_confirmed_by_the_bot_naming_the_account() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    w.connect(&w.alice).await;
    let messages = direct_messages(&w, &w.alice, 1).await;
    let [dm] = messages.as_slice() else {
        panic!("one message: {messages:?}")
    };
    assert_eq!(dm.user_id, w.mm.bot().id, "sent by the app's bot");
    let alice = Identity::of("alice");
    assert!(dm.message.contains("You are now connected to"), "{dm:?}");
    assert!(dm.message.contains(&alice.name), "{dm:?}");
    assert!(dm.message.contains("alice@provider"), "{dm:?}");
    assert!(w.mm.direct_messages_to(&w.bob).is_empty());
}

#[tokio::test]
async fn the_account_named_in_the_confirmation_is_escaped() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    w.provider.set_userinfo(serde_json::json!({
        "sub": "1", "name": "[Sign in again](https://phish.example/)",
    }));
    w.connect(&w.alice).await;
    let dm = &direct_messages(&w, &w.alice, 1).await[0];
    assert!(!dm.message.contains("]("), "{dm:?}");
}

/// Runs `info` as alice while the provider holds the refresh's answer past the call's
/// deadline, then lets it answer `invalid_grant`.
async fn info_outlived_by_a_refused_refresh(w: &World) {
    let mut held = w.provider.hold_next(Endpoint::Token);
    w.provider.fail_next(Endpoint::Token, Fault::InvalidGrant);
    let text = expect_error(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    assert!(text.contains("The provider is slow"), "{text}");
    held.seen().await;
    held.release();
}

#[tokio::test]
async fn a_refresh_refused_after_its_call_gave_up_is_told_once() {
    // The call's deadline drops it while the provider holds the refresh's answer.
    let app = TestApp::spawn_with(&new_secret(), |s| {
        s.call_deadline = Duration::from_millis(700)
    })
    .await;
    let w = World::with_app(app).await;
    connected_with_an_expiring_token(&w).await;
    // A client that keeps the bindings of before (another tab) can still send `info`.
    let stale = w.mm.bindings(&w.alice).await;
    // First Mattermost refuses to clear the dead token: it stays, and nothing is said yet.
    w.mm.set_rest_down(Some("POST"), "/oauth2/user", true);
    info_outlived_by_a_refused_refresh(&w).await;
    within("the clear to be refused", async {
        let refused = || {
            w.mm.rest_calls_to("POST", "/oauth2/user")
                .iter()
                .any(|r| r.status == 500)
        };
        while !refused() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    w.mm.set_rest_down(Some("POST"), "/oauth2/user", false);
    assert!(w.stored_token(&w.alice).is_some(), "not cleared");
    // The next refresh is refused too, and clears it: now the bot tells alice.
    info_outlived_by_a_refused_refresh(&w).await;
    let messages = direct_messages(&w, &w.alice, 2).await;
    let ended = &messages[1];
    assert_eq!(ended.user_id, w.mm.bot().id);
    assert!(ended.message.contains("no longer accepted"), "{ended:?}");
    assert!(
        ended.message.contains(&format!("`{COMMAND} connect`")),
        "{ended:?}"
    );
    assert!(
        w.stored_token(&w.alice).is_none(),
        "the dead token is cleared"
    );
    // The next calls find no connection: they say so, and the bot says nothing more.
    let line = format!("{COMMAND} info");
    for _ in 0..2 {
        let sent = command::parse(&stale, &line)
            .expect("the client parses it")
            .submission
            .expect("the client sends it");
        let text = expect_error(&w.mm.call(&w.alice, sent.call, sent.values).await);
        assert!(text.contains("not connected"), "{text}");
    }
    assert_eq!(
        w.provider.counts().token,
        3,
        "the code exchange and the two refused refreshes; none after the clear"
    );
    assert_eq!(w.mm.direct_messages_to(&w.alice).len(), 2, "told once");
}

#[tokio::test]
async fn a_renewed_token_that_can_never_be_stored_after_its_call_gave_up_is_told() {
    let app = TestApp::spawn_with(&new_secret(), |s| {
        s.call_deadline = Duration::from_millis(700)
    })
    .await;
    let w = World::with_app(app).await;
    w.provider.set_rotation(true);
    connected_with_an_expiring_token(&w).await;
    // Over the plugin's 8 KiB cap once sealed: Mattermost will never store it.
    w.provider.set_access_token_padding(9000);
    let mut held = w.provider.hold_next(Endpoint::Token);
    let text = expect_error(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    assert!(text.contains("The provider is slow"), "{text}");
    held.seen().await;
    held.release();
    let messages = direct_messages(&w, &w.alice, 2).await;
    let lost = &messages[1];
    assert!(
        lost.message
            .contains("Mattermost could not save the new token"),
        "{lost:?}"
    );
    assert!(
        lost.message.contains(&format!("`{COMMAND} connect`")),
        "{lost:?}"
    );
}

#[tokio::test]
async fn a_user_who_sees_the_error_gets_no_message() {
    let w = World::new().await;
    connected_with_an_expiring_token(&w).await;
    w.provider.fail_next(Endpoint::Token, Fault::InvalidGrant);
    let text = expect_error(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    assert!(text.contains("no longer accepted"), "{text}");
    // A message about it would be sent as the call answers, long before alice connects
    // again and is confirmed.
    w.connect(&w.alice).await;
    let messages = direct_messages(&w, &w.alice, 2).await;
    assert!(
        messages.iter().all(|m| m.message.contains("now connected")),
        "{messages:?}"
    );
}

#[tokio::test]
async fn a_message_that_cannot_be_sent_fails_nothing() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    w.mm.set_posting_down(true);
    w.connect(&w.alice).await;
    within("the confirmation to be tried", async {
        while w.mm.posting_refused() == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    expect_ok(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    w.mm.set_posting_down(false);
    assert!(w.mm.direct_messages_to(&w.alice).is_empty());
}
