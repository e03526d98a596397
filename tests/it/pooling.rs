//! Outbound efficiency: the app reuses connections from its one pooled HTTP client, to
//! Mattermost and to the provider alike, instead of opening one per call.

use serde_json::json;

use crate::support::util::within;
use crate::support::world::{expect_ok, World, COMMAND};

const CALLS: usize = 50;

#[tokio::test]
async fn fifty_sequential_calls_reuse_pooled_connections() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    w.connect(&w.alice).await;

    // Each `info` reads userinfo at the provider.
    let provider_before = w.provider.connections();
    let userinfo_before = w.provider.counts().userinfo;
    for _ in 0..CALLS {
        expect_ok(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    }
    assert_eq!(w.provider.counts().userinfo - userinfo_before, CALLS);
    let provider_opened = w.provider.connections() - provider_before;

    // Each `disconnect` call (bob is not connected) stores `null` through the REST API.
    let disconnect = || {
        let call = json!({"path": "/disconnect", "expand": {
            "acting_user": "id", "acting_user_access_token": "all", "oauth2_app": "all", "oauth2_user": "all"
        }});
        within("disconnect", w.mm.call(&w.bob, call, json!({})))
    };
    expect_ok(&disconnect().await);
    let rest_before = w.mm.rest_calls().len();
    let mattermost_before = w.mm.connections();
    for _ in 0..CALLS {
        expect_ok(&disconnect().await);
    }
    assert_eq!(w.mm.rest_calls().len() - rest_before, CALLS);
    let mattermost_opened = w.mm.connections() - mattermost_before;

    // The app has several worker threads, each may hold a connection; never one per call.
    assert!(
        provider_opened <= 2,
        "{provider_opened} connections to the provider for {CALLS} calls"
    );
    assert!(
        mattermost_opened <= 2,
        "{mattermost_opened} connections to Mattermost for {CALLS} calls"
    );
}
