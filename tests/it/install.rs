//! Installing the app: the manifest it serves, the plugin's checks, the ping, the icon and
//! on_install.

use serde_json::{json, Value};

use crate::support::app::{new_secret, TestApp};
use crate::support::mattermost::manifest::validate_manifest;
use crate::support::mattermost::{EventTarget, Mattermost};
use crate::support::util::within;
use crate::support::world::World;

fn example(name: &str) -> Value {
    let path = format!(
        "{}/crates/mattermost-apps/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path} is needed by this test and cannot be read: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

#[tokio::test]
async fn the_manifest_names_the_root_url_uses_jwt_and_passes_the_plugin_rules() {
    let app = TestApp::spawn(&new_secret()).await;
    let manifest: Value = within("GET /manifest.json", async {
        reqwest::get(app.manifest_url())
            .await
            .expect("the app answers")
            .json()
            .await
            .expect("the manifest is JSON")
    })
    .await;
    assert_eq!(
        manifest["http"],
        json!({"root_url": app.root_url, "use_jwt": true})
    );
    assert_eq!(validate_manifest(&manifest), Vec::<String>::new());
    assert_eq!(manifest["app_id"], "hello-oauth2-rs");
    // The permissions the flow needs: the bot (its direct messages), the user's session
    // (the Apps REST API as them), remote OAuth2.
    assert_eq!(
        manifest["requested_permissions"],
        json!(["act_as_bot", "act_as_user", "remote_oauth2"])
    );
    assert!(manifest["requested_locations"]
        .as_array()
        .expect("locations")
        .contains(&json!("/command")));
}

#[tokio::test]
async fn install_pings_with_the_example_context_fetches_the_icon_unsigned_and_calls_on_install() {
    let w = World::new().await;
    let calls = w.mm.calls();
    assert_eq!(calls[0].path, "/ping", "the ping comes first");
    let ping = &calls[0];
    let expected = example("call-request-ping.json");
    assert_eq!(
        ping.request, expected,
        "the ping body is exactly the example"
    );
    assert_eq!(ping.status, Some(200));
    assert_eq!(ping.jwt_header, Some(example("jwt-header.json")));
    let claims = ping.claims.as_ref().expect("signed");
    assert!(
        claims.get("acting_user_id").is_none(),
        "no acting user in a ping: {claims}"
    );

    let statics = w.mm.static_fetches();
    assert_eq!(statics.len(), 1);
    assert!(
        statics[0].url.ends_with("/static/icon.png"),
        "{}",
        statics[0].url
    );
    assert_eq!(statics[0].status, Some(200));
    assert!(!statics[0].sent_auth);

    let install = &calls[1];
    assert_eq!(install.path, "/install");
    assert_eq!(
        install.request["context"]["acting_user"]["id"],
        json!(w.sam.id)
    );
    assert_eq!(
        install.claims.as_ref().expect("signed")["acting_user_id"],
        json!(w.sam.id)
    );
    let text = install.response.as_ref().expect("JSON")["text"]
        .as_str()
        .expect("on_install text")
        .to_owned();
    assert!(
        text.contains(&w.mm.complete_url()),
        "tells the redirect URI: {text}"
    );
    assert!(w
        .mm
        .events()
        .iter()
        .any(|e| e.target == EventTarget::User(w.sam.id.clone())));
}

#[tokio::test]
async fn install_with_the_wrong_secret_fails_at_the_ping_with_401() {
    let app = TestApp::spawn(&new_secret()).await;
    let mm = Mattermost::start().await;
    let sam = mm.create_user("sam.admin", "system_admin system_user");
    let err = within(
        "install",
        mm.install(&app.manifest_url(), &new_secret(), &sam),
    )
    .await
    .expect_err("a wrong secret must fail the install");
    assert!(
        err.starts_with("failed to install, /ping path is not accessible: "),
        "{err}"
    );
    let ping = &mm.calls_to("/ping")[0];
    assert_eq!(ping.status, Some(401));
    assert!(mm.installed_app().is_none(), "nothing is installed");
    assert!(
        mm.calls_to("/install").is_empty(),
        "on_install is not called"
    );
    assert!(mm.static_fetches().is_empty(), "the icon is not fetched");
}

#[tokio::test]
async fn install_without_a_secret_fails_too() {
    // An admin who leaves "Outgoing JWT Secret" blank makes the plugin sign with "".
    let app = TestApp::spawn(&new_secret()).await;
    let mm = Mattermost::start().await;
    let sam = mm.create_user("sam.admin", "system_admin system_user");
    let err = within("install", mm.install(&app.manifest_url(), "", &sam))
        .await
        .expect_err("an empty secret must fail the install");
    assert!(err.contains("/ping path is not accessible"), "{err}");
}

#[tokio::test]
async fn the_icon_is_served_without_a_jwt_and_unknown_assets_are_404() {
    let app = TestApp::spawn(&new_secret()).await;
    let client = reqwest::Client::new();
    let icon = within("icon", client.get(app.url("/static/icon.png")).send())
        .await
        .expect("answers");
    assert_eq!(icon.status().as_u16(), 200);
    let bytes = icon.bytes().await.expect("body");
    assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
    let other = within("asset", client.get(app.url("/static/other.png")).send())
        .await
        .expect("answers");
    assert_eq!(other.status().as_u16(), 404);
}
