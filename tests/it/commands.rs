//! Every command, for an admin and a regular user, connected and not: what the bindings
//! offer, and what each command answers.

use serde_json::json;

use crate::support::mattermost::{command, User};
use crate::support::provider::Identity;
use crate::support::world::{expect_ok, kind, text, World, COMMAND};
use hello_oauth2_rs::markdown::escape;

const APP: &str = "hello-oauth2-rs";

/// What the client would send for `line` with these (possibly stale) bindings.
fn submission(bindings: &[serde_json::Value], line: &str) -> command::Submission {
    let parsed = command::parse(bindings, line).expect("the client parses it");
    assert_eq!(parsed.fetch_first, None);
    parsed.submission.expect("the client sends it")
}

async fn labels(w: &World, user: &User) -> Vec<String> {
    w.mm.command_labels(user, APP).await
}

#[tokio::test]
async fn bindings_follow_the_role_and_the_connection_and_nothing_is_dropped() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    assert_eq!(
        labels(&w, &w.sam).await,
        ["connect", "configure", "status", "help"]
    );
    assert_eq!(labels(&w, &w.alice).await, ["connect", "help"]);
    w.connect(&w.alice).await;
    w.connect(&w.sam).await;
    assert_eq!(labels(&w, &w.alice).await, ["info", "disconnect", "help"]);
    assert_eq!(
        labels(&w, &w.sam).await,
        ["info", "disconnect", "configure", "status", "help"]
    );
    assert_eq!(
        labels(&w, &w.bob).await,
        ["connect", "help"],
        "bob is not connected"
    );
    assert!(w.mm.dropped().is_empty(), "{:#?}", w.mm.dropped());

    // The bindings call is the manifest's: the user's summary and stored token only.
    let call = w.mm.calls_to("/bindings").pop().expect("a bindings call");
    assert_eq!(
        call.request["expand"],
        json!({"acting_user": "summary", "oauth2_user": "all"})
    );
    let ctx = &call.request["context"];
    assert!(ctx.get("acting_user_access_token").is_none());
    assert!(ctx["oauth2"].get("client_secret").is_none());
    assert!(ctx.get("user_agent").is_none(), "v1.2.2 drops it: {ctx}");

    // The command binding itself: one word, an icon the plugin rewrote, a hint.
    let bindings = w.mm.bindings(&w.sam).await;
    let command = command::find_command(&bindings, APP).expect("the command binding");
    assert_eq!(
        command["icon"],
        json!(format!(
            "{}/plugins/com.mattermost.apps/apps/{APP}/static/icon.png",
            w.mm.site_url()
        ))
    );
    assert!(command["hint"]
        .as_str()
        .is_some_and(|h| h.contains("configure")));
}

#[tokio::test]
async fn every_command_answers_for_each_kind_of_user() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    for user in [&w.sam, &w.alice] {
        let admin = user.is_system_admin();
        // Not connected: help, connect (and configure for the admin).
        let help = expect_ok(&w.run(user, &format!("{COMMAND} help")).await);
        assert_eq!(
            help.contains(&format!("`{COMMAND} configure")),
            admin,
            "{help}"
        );
        let connect = expect_ok(&w.run(user, &format!("{COMMAND} connect")).await);
        assert!(connect.contains(&w.mm.connect_url()), "{connect}");
        for absent in ["info", "disconnect"] {
            let refused = w.mm.command(user, &format!("{COMMAND} {absent}")).await;
            assert!(
                refused.is_err(),
                "{absent} is not offered before connecting"
            );
        }
        let configure = w.mm.command(user, &format!("{COMMAND} configure")).await;
        if admin {
            let form = configure.expect("the admin has configure");
            assert_eq!(kind(&form), "form", "{form:#}");
        } else {
            assert!(configure.is_err(), "no configure for a regular user");
        }

        // Connected: help, info, disconnect (and configure for the admin).
        w.connect(user).await;
        expect_ok(&w.run(user, &format!("{COMMAND} help")).await);
        let info = expect_ok(&w.run(user, &format!("{COMMAND} info")).await);
        let email = Identity::of(&user.username).email;
        assert!(info.contains(&escape(&email, 254)), "{info}");
        assert!(w
            .mm
            .command(user, &format!("{COMMAND} connect"))
            .await
            .is_err());
        if admin {
            let form = w.run(user, &format!("{COMMAND} configure")).await;
            assert_eq!(kind(&form), "form");
        }
        let bye = w.run(user, &format!("{COMMAND} disconnect")).await;
        assert!(text(&bye).starts_with("Disconnected."), "{bye:#}");
        assert!(w.stored_token(user).is_none());
        assert_eq!(bye["refresh_bindings"], true);
    }
    assert!(w.mm.dropped().is_empty(), "{:#?}", w.mm.dropped());
    // No call answered with a transport error or a non-200.
    for call in w.mm.calls() {
        assert_eq!(
            call.status,
            Some(200),
            "{} answered {:?}",
            call.path,
            call.status
        );
    }
}

#[tokio::test]
async fn disconnect_when_the_token_is_already_gone_says_so() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    w.connect(&w.alice).await;
    // Another session of alice disconnected already: the stored token is `null`, but this
    // client still shows the old bindings.
    let bindings = w.mm.bindings(&w.alice).await;
    w.mm.set_stored_token(&w.alice, &serde_json::Value::Null);
    let sent = submission(&bindings, &format!("{COMMAND} disconnect"));
    let response = w.mm.call(&w.alice, sent.call, sent.values).await;
    assert_eq!(expect_ok(&response), "You were not connected.");
    assert_eq!(w.provider.counts().revoke, 0);
}

#[tokio::test]
async fn info_without_a_connection_asks_to_connect() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    w.connect(&w.alice).await;
    let bindings = w.mm.bindings(&w.alice).await;
    w.mm.set_stored_token(&w.alice, &json!({}));
    let sent = submission(&bindings, &format!("{COMMAND} info"));
    let response = w.mm.call(&w.alice, sent.call, sent.values).await;
    let text = crate::support::world::expect_error(&response);
    assert!(text.contains("not connected"), "{text}");
    assert!(text.contains(&format!("{COMMAND} connect")), "{text}");
}
