//! `configure`, as a system admin runs it in the webapp: by flags, and by the form a bare
//! `configure` opens; what was stored, read back through the plugin; a regular user refused.
//!
//! The plugin expands the stored OAuth2 client (`oauth2_app: all`) into the app's form call:
//! the tap shows exactly what it stored.

use serde_json::{json, Value};

use crate::client::{Client, Outcome};
use crate::stack::stack;
use crate::story::{
    complete_url, configure_values, expect_error, expect_ok, kind, Story, APP_ID, COMMAND, SCOPES,
};
use crate::support::e2e::OidcServer;
use crate::support::world::opened_oauth2_app;

/// What the plugin holds for the app, as it expands it into the configure form's call.
async fn stored_client(story: &Story) -> Value {
    story.configure_form(&story.admin).await;
    let form_call = story
        .tap
        .log()
        .into_iter()
        .rev()
        .find(|e| e.request["context"]["oauth2"].is_object() && e.path.starts_with("/configure"))
        .unwrap_or_else(|| panic!("no configure call reached the app: {:?}", story.tap.paths()));
    // The secret is sealed with the app's keys: opened as the app opens it.
    opened_oauth2_app(
        form_call.request["context"]["oauth2"].clone(),
        &story.app.token_keys,
    )
}

fn expected_client(oidc: &OidcServer) -> Value {
    let e = &oidc.endpoints;
    json!({
        "client_id": oidc.client_id,
        "client_secret": oidc.client_secret,
        "data": {
            "provider": "custom",
            "auth_url": e.authorization_endpoint,
            "token_url": e.token_endpoint,
            "userinfo_url": e.userinfo_endpoint,
            "revoke_url": e.revocation_endpoint,
            "scopes": SCOPES
        }
    })
}

/// The stored client (`context.oauth2` of the form call) holds what `oidc` describes.
fn assert_stored(stored: &Value, oidc: &OidcServer) {
    let want = expected_client(oidc);
    for key in ["client_id", "client_secret", "data"] {
        assert_eq!(stored[key], want[key], "stored {key}: {stored:#}");
    }
}

/// The form the bare `configure` opens is pre-filled with what `oidc` describes, but never
/// with the secret.
fn assert_prefilled(form: &Value, oidc: &OidcServer) {
    let want = expected_client(oidc);
    let fields = form["fields"].as_array().expect("fields");
    let value = |name: &str| {
        fields
            .iter()
            .find(|f| f["name"] == name)
            .map(|f| f["value"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(value("provider")["value"], "custom", "{form:#}");
    assert_eq!(value("client_id"), want["client_id"], "{form:#}");
    for name in [
        "auth_url",
        "token_url",
        "userinfo_url",
        "revoke_url",
        "scopes",
    ] {
        assert_eq!(value(name), want["data"][name], "{name}: {form:#}");
    }
    assert!(
        !form.to_string().contains(&oidc.client_secret),
        "the form sent the secret back: {form:#}"
    );
}

#[tokio::test]
async fn an_admin_configures_by_flags_and_the_plugin_stores_it() {
    let story = Story::installed().await;
    let oidc = story.oidc(std::time::Duration::from_secs(300)).await;
    let e = &oidc.endpoints;
    let line = format!(
        "{COMMAND} configure --provider custom --client-id {} --client-secret {} --auth-url {} \
         --token-url {} --userinfo-url {} --revoke-url {} --scopes \"{SCOPES}\"",
        oidc.client_id,
        oidc.client_secret,
        e.authorization_endpoint,
        e.token_endpoint,
        e.userinfo_endpoint,
        e.revocation_endpoint
    );
    let response = story.admin.command(&line).await.response(&line);
    let text = expect_ok(&response);
    assert!(text.contains(&complete_url()), "{text}");
    assert!(!text.contains(&oidc.client_secret), "{text}");
    assert_stored(&stored_client(&story).await, &oidc);
    let form = story.configure_form(&story.admin).await;
    assert_prefilled(&form, &oidc);
}

#[tokio::test]
async fn a_bare_configure_opens_the_prefilled_form_whose_submit_stores() {
    let story = Story::installed().await;
    let oidc = story.oidc(std::time::Duration::from_secs(300)).await;
    let line = format!("{COMMAND} configure");
    // A submit without values answers with the form, which the webapp opens as a modal.
    let opened = match story.admin.command(&line).await {
        Outcome::Response(r) => r,
        Outcome::Refused(e) => panic!("the webapp cannot run a bare {line:?}: {e}"),
    };
    assert_eq!(kind(&opened), "form", "{opened:#}");
    let form = &opened["form"];
    assert!(!form["submit"].is_null(), "{form:#}");
    let text = expect_ok(
        &story
            .admin
            .submit(APP_ID, form, configure_values(form, &oidc))
            .await,
    );
    assert!(text.contains(&complete_url()), "{text}");
    assert_stored(&stored_client(&story).await, &oidc);

    // Opened again: pre-filled with what is stored.
    let again = story.admin.command(&line).await.response(&line);
    assert_eq!(kind(&again), "form", "{again:#}");
    assert_prefilled(&again["form"], &oidc);
}

#[tokio::test]
async fn a_regular_users_configure_is_refused_and_nothing_is_stored() {
    let story = Story::installed().await;
    let oidc = story.oidc(std::time::Duration::from_secs(300)).await;
    // The regular user the script created.
    let user = Client::new(stack().user.clone());
    assert_eq!(user.command_labels(APP_ID).await, ["connect", "help"]);

    // The webapp has no such sub-command for them: `configure` matches nothing under the
    // command, so the parser stops at the command itself.
    let line = format!("{COMMAND} configure --provider custom --client-id x");
    match user.command(&line).await {
        Outcome::Refused(e) => assert_eq!(e.0, "You must select a subcommand."),
        Outcome::Response(r) => panic!("a regular user's client sent configure: {r:#}"),
    }
    // A hand-made client posting the admin's submit call is refused by the app.
    let form = story.configure_form(&story.admin).await;
    let response = user
        .submit(APP_ID, &form, configure_values(&form, &oidc))
        .await;
    let text = expect_error(&response);
    assert!(text.contains("Only system admins"), "{text}");

    let stored = stored_client(&story).await;
    for key in ["client_id", "client_secret"] {
        assert!(
            stored[key].as_str().unwrap_or("").is_empty(),
            "{key} was stored: {stored:#}"
        );
    }
}
