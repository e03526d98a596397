//! More than one app instance, and many users at once.

use futures::future::join_all;

use crate::support::app::TestApp;
use crate::support::mattermost::User;
use crate::support::util::within;
use crate::support::world::World;

#[tokio::test]
async fn a_flow_started_on_one_instance_completes_on_another_with_the_same_secret() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    let b = TestApp::spawn(&w.app.secret).await;
    let browser = w.mm.browser(&w.alice).await;

    let connect = within("connect", browser.get(&w.mm.connect_url())).await;
    assert_eq!(connect.status, 307, "{connect:?}");
    // The load balancer now sends the plugin's calls to B.
    w.mm.route_app_to(&b.root_url);
    let authorize = within(
        "authorize",
        browser.get(connect.location.as_deref().expect("Location")),
    )
    .await;
    assert_eq!(authorize.status, 302);
    let complete = within(
        "complete",
        browser.get(authorize.location.as_deref().expect("Location")),
    )
    .await;
    assert_eq!(complete.status, 200, "{complete:?}");

    let connect_call = &w.mm.calls_to("/oauth2/connect")[0];
    let complete_call = &w.mm.calls_to("/oauth2/complete")[0];
    assert!(
        connect_call.url.starts_with(&w.app.root_url),
        "{}",
        connect_call.url
    );
    assert!(
        complete_call.url.starts_with(&b.root_url),
        "{}",
        complete_call.url
    );
    // B derived the PKCE verifier A's challenge was made from: the provider accepted it.
    assert_eq!(w.provider.counts().code_exchanges, 1);
    let token = w.stored_token(&w.alice).expect("stored by B");
    let access = token["access_token"].as_str().expect("access token");
    assert_eq!(w.provider.owner_of(access).as_deref(), Some("alice"));
}

#[tokio::test]
async fn twenty_five_users_connect_at_once_and_each_gets_their_own_token() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    let users: Vec<User> = (0..25)
        .map(|i| w.mm.create_user(&format!("user{i:02}"), "system_user"))
        .collect();
    let walks = within("25 flows", join_all(users.iter().map(|u| w.walk(u)))).await;
    for (user, walk) in users.iter().zip(&walks) {
        assert!(walk.completed(), "{}: {:#?}", user.username, walk.last());
    }
    let mut seen = std::collections::HashSet::new();
    for user in &users {
        let token = w.stored_token(user).expect("stored");
        let access = token["access_token"]
            .as_str()
            .expect("access token")
            .to_owned();
        assert_eq!(
            w.provider.owner_of(&access).as_deref(),
            Some(user.username.as_str()),
            "{}'s stored token belongs to someone else",
            user.username
        );
        assert!(seen.insert(access), "two users share a token");
    }
    assert_eq!(w.provider.counts().code_exchanges, 25);
}
