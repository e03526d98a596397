//! The user's story: connect, see who they are connected as, disconnect.

use serde_json::json;

use crate::support::mattermost::EventTarget;
use crate::support::provider::{Endpoint, Fault, Identity};
use crate::support::util::within;
use crate::support::world::{expect_error, expect_ok, World, COMMAND};
use hello_oauth2_rs::markdown::escape;

#[tokio::test]
async fn connect_without_a_configured_provider_says_to_ask_a_system_admin() {
    let w = World::new().await;
    let text = expect_error(&w.run(&w.alice, &format!("{COMMAND} connect")).await);
    assert!(text.contains("Ask a system admin"), "{text}");
    assert!(text.contains(&format!("{COMMAND} configure")), "{text}");
    // The browser leg fails the same way, with the app's text as a plain-text 500.
    let walk = w.walk(&w.alice).await;
    assert_eq!(walk.connect.status, 500);
    assert!(walk.connect.content_type.starts_with("text/plain"));
    assert!(
        walk.connect
            .body
            .contains("No OAuth2 provider is configured"),
        "{}",
        walk.connect.body
    );
    assert!(w.stored_token(&w.alice).is_none());
}

#[tokio::test]
async fn stored_settings_that_no_longer_check_are_named_not_hidden() {
    let w = World::new().await;
    // Stored straight through the REST API (say, by an older version of the app): a custom
    // provider without its endpoints.
    let stored = reqwest::Client::new()
        .post(format!(
            "{}/plugins/com.mattermost.apps/api/v1/oauth2/app",
            w.mm.site_url()
        ))
        .bearer_auth(w.mm.app_session_token(&w.sam))
        .json(&json!({"client_id": "id", "client_secret": "s", "data": {"provider": "custom"}}))
        .send();
    assert_eq!(within("store", stored).await.expect("stored").status(), 200);
    let text = expect_error(&w.run(&w.alice, &format!("{COMMAND} connect")).await);
    assert!(text.contains("no longer valid"), "{text}");
    assert!(text.contains("Auth URL: required"), "{text}");
    assert!(!text.contains("not configured"), "{text}");
}

#[tokio::test]
async fn connect_complete_info_disconnect() {
    let w = World::new().await;
    w.configure_custom_provider().await;

    // connect: a link to the plugin's connect URL.
    let text = expect_ok(&w.run(&w.alice, &format!("{COMMAND} connect")).await);
    assert!(
        text.contains(&format!("]({})", w.mm.connect_url())),
        "{text}"
    );

    // The browser leg.
    let walk = w.walk(&w.alice).await;
    assert!(walk.completed(), "{:#?}", walk.last());
    let complete = walk.complete.as_ref().expect("reached complete");
    assert!(complete.content_type.starts_with("text/html"));
    let authorize = walk.connect.location.clone().expect("307 to the provider");
    let query: std::collections::HashMap<String, String> = url::Url::parse(&authorize)
        .expect("URL")
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(query["redirect_uri"], w.mm.complete_url());
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["client_id"], w.provider.client_id());

    // The connect-URL call carried the plugin's state and was signed for alice.
    let connect_call = &w.mm.calls_to("/oauth2/connect")[0];
    let state = connect_call.request["values"]["state"]
        .as_str()
        .expect("state");
    assert_eq!(
        query["state"], state,
        "the state goes to the provider unchanged"
    );
    let (random, user) = state.split_once('.').expect("two parts");
    assert_eq!(random.len(), 20);
    assert_eq!(user, w.alice.id);
    assert_eq!(
        connect_call.claims.as_ref().expect("JWT")["acting_user_id"],
        json!(w.alice.id)
    );

    // The token is stored for alice, in the Go shape, and is alice's at the provider.
    let token = w.stored_token(&w.alice).expect("stored");
    for key in ["access_token", "token_type", "refresh_token", "expiry"] {
        assert!(
            token.get(key).is_some(),
            "stored token lacks {key}: {token}"
        );
    }
    let access = token["access_token"].as_str().expect("access").to_owned();
    let refresh = token["refresh_token"].as_str().expect("refresh").to_owned();
    assert_eq!(w.provider.owner_of(&access).as_deref(), Some("alice"));
    assert!(w.stored_token(&w.bob).is_none());
    assert!(w
        .mm
        .events()
        .contains(&crate::support::mattermost::RefreshEvent {
            target: EventTarget::User(w.alice.id.clone()),
            reason: "oauth2/user stored".into()
        }));

    // Bindings follow the connection.
    assert_eq!(
        w.mm.command_labels(&w.alice, "hello-oauth2-rs").await,
        ["info", "disconnect", "help"]
    );

    // info: the provider's name and e-mail, never the token.
    let info = expect_ok(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    let identity = Identity::of("alice");
    // As shown in Markdown: the e-mail's dots escaped.
    assert!(info.contains(&escape(&identity.name, 100)), "{info}");
    assert!(info.contains(&escape(&identity.email, 254)), "{info}");
    assert!(
        !info.contains(&access) && !info.contains(&refresh),
        "{info}"
    );
    // The bot's confirmation read it once, info once.
    assert_eq!(w.provider.counts().userinfo, 2);

    // disconnect: cleared here, revoked there.
    let text = expect_ok(&w.run(&w.alice, &format!("{COMMAND} disconnect")).await);
    assert!(text.contains("revoked"), "{text}");
    assert!(w.stored_token(&w.alice).is_none(), "the token is cleared");
    assert!(!w.provider.access_token_active(&access));
    assert!(!w.provider.refresh_token_active(&refresh));
    let revoked = w.provider.revocations();
    assert!(
        revoked.contains(&access) && revoked.contains(&refresh),
        "{revoked:?}"
    );
    // The provider now refuses the old token.
    let status = within("userinfo", async {
        reqwest::Client::new()
            .get(w.provider.userinfo_url())
            .bearer_auth(&access)
            .send()
            .await
            .expect("provider answers")
            .status()
    })
    .await;
    assert_eq!(status.as_u16(), 401);
    assert_eq!(
        w.mm.command_labels(&w.alice, "hello-oauth2-rs").await,
        ["connect", "help"]
    );
    assert!(w.mm.dropped().is_empty(), "{:#?}", w.mm.dropped());
}

#[tokio::test]
async fn a_failed_revocation_is_reported_but_the_local_disconnect_is_done() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    let token = w.connect(&w.alice).await;
    w.provider.fail_next(Endpoint::Revoke, Fault::ServerError);
    let text = expect_ok(&w.run(&w.alice, &format!("{COMMAND} disconnect")).await);
    assert!(text.contains("failed"), "{text}");
    assert!(text.starts_with("Disconnected here"), "{text}");
    assert!(
        w.stored_token(&w.alice).is_none(),
        "cleared locally all the same"
    );
    let access = token["access_token"].as_str().expect("access");
    assert!(!text.contains(access));
}
