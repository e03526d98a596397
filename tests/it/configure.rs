//! A system admin configures the provider: with flags, or with the form; and everything
//! the app must refuse.

use serde_json::{json, Map, Value};

use crate::support::mattermost::EventTarget;
use crate::support::world::{expect_error, expect_ok, kind, World, COMMAND};

/// The configure submit call, as the admin's bindings offer it.
/// The configure call, as the binding names it: its form's source, which is also the
/// submit of the form it returns.
async fn configure_call(w: &World) -> Value {
    let bindings = w.mm.bindings(&w.sam).await;
    let command = crate::support::mattermost::command::find_command(&bindings, "hello-oauth2-rs")
        .expect("command");
    command["bindings"]
        .as_array()
        .expect("sub-commands")
        .iter()
        .find(|b| b["label"] == "configure")
        .expect("configure for the admin")["form"]["source"]
        .clone()
}

#[tokio::test]
async fn configure_with_flags_stores_the_client_and_shows_the_redirect_uri() {
    let w = World::new().await;
    let response = w.run(&w.sam, &w.configure_command()).await;
    let text = expect_ok(&response);
    assert!(text.contains(&w.mm.complete_url()), "{text}");
    assert!(!text.contains(&w.provider.client_secret()), "{text}");
    let p = &w.provider;
    assert_eq!(
        w.mm.stored_oauth2_app().expect("stored"),
        json!({
            "remote_root_url": p.base_url(),
            "client_id": p.client_id(),
            "client_secret": p.client_secret(),
            "data": {
                "provider": "custom",
                "auth_url": p.authorize_url(),
                "token_url": p.token_url(),
                "userinfo_url": p.userinfo_url(),
                "revoke_url": p.revoke_url(),
                "scopes": "openid profile"
            }
        })
    );
    // One store, with the admin's app session; then every user's bindings refresh.
    let stores = w.mm.rest_calls_to("POST", "/oauth2/app");
    assert_eq!(stores.len(), 1);
    assert_eq!(stores[0].user_id.as_deref(), Some(w.sam.id.as_str()));
    assert_eq!(stores[0].status, 200);
    assert!(w
        .mm
        .events()
        .iter()
        .any(|e| e.target == EventTarget::AllUsers));
    // The call as the client sent it: the raw command and the select as an option object.
    let call =
        w.mm.calls_to("/configure")
            .pop()
            .expect("configure was called");
    assert_eq!(call.request["raw_command"], json!(w.configure_command()));
    assert_eq!(
        call.request["values"]["provider"],
        json!({"label": "Custom OAuth2 server", "value": "custom"})
    );
    assert_eq!(
        call.claims.as_ref().expect("JWT")["acting_user_id"],
        json!(w.sam.id)
    );
}

#[tokio::test]
async fn a_named_provider_needs_only_its_credentials() {
    let w = World::new().await;
    let response = w
        .run(
            &w.sam,
            &format!(
                "{COMMAND} configure --provider gitlab --client-id gl-id --client-secret gl-secret"
            ),
        )
        .await;
    assert!(expect_ok(&response).contains("GitLab"));
    let stored = w.mm.stored_oauth2_app().expect("stored");
    assert_eq!(stored["remote_root_url"], "https://gitlab.com");
    assert_eq!(stored["data"], json!({"provider": "gitlab"}));
}

#[tokio::test]
async fn the_bare_command_opens_a_prefilled_form_that_keeps_the_secret_when_left_blank() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    let secret = w.provider.client_secret();
    let response = w.run(&w.sam, &format!("{COMMAND} configure")).await;
    assert_eq!(kind(&response), "form", "{response:#}");
    assert!(
        !response.to_string().contains(&secret),
        "the form must never carry the stored client secret"
    );
    assert!(w.mm.dropped().is_empty(), "{:#?}", w.mm.dropped());
    let form = &response["form"];
    assert!(form["header"]
        .as_str()
        .is_some_and(|h| h.contains(&w.mm.complete_url())));
    let fields = form["fields"].as_array().expect("fields");
    let field = |name: &str| {
        fields
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("no field {name} in {form:#}"))
    };
    let labels: Vec<&str> = fields.iter().filter_map(|f| f["label"].as_str()).collect();
    assert_eq!(
        labels,
        [
            "provider",
            "issuer",
            "client-id",
            "client-secret",
            "auth-url",
            "token-url",
            "userinfo-url",
            "revoke-url",
            "scopes",
            "calendar-url"
        ]
    );
    assert_eq!(
        field("provider")["value"],
        json!({"label": "Custom OAuth2 server", "value": "custom"})
    );
    assert_eq!(field("client_id")["value"], json!(w.provider.client_id()));
    assert_eq!(field("token_url")["value"], json!(w.provider.token_url()));
    assert_eq!(field("scopes")["value"], json!("openid profile"));
    assert!(field("client_secret").get("value").is_none());
    assert_eq!(field("client_secret")["subtype"], "password");

    // Submit the modal as a user would: every pre-filled value, the secret left blank,
    // and new scopes.
    let mut values = Map::new();
    for f in fields {
        let name = f["name"].as_str().expect("name").to_owned();
        values.insert(name, f.get("value").cloned().unwrap_or(json!("")));
    }
    values.insert("scopes".into(), json!("openid profile email"));
    let response = w.mm.submit_form(&w.sam, form, Value::Object(values)).await;
    expect_ok(&response);
    let stored = w.mm.stored_oauth2_app().expect("stored");
    assert_eq!(
        stored["client_secret"],
        json!(secret),
        "a blank secret keeps the stored one"
    );
    assert_eq!(stored["data"]["scopes"], "openid profile email");
}

#[tokio::test]
async fn a_regular_user_cannot_configure_and_nothing_is_stored() {
    let w = World::new().await;
    // The client does not even offer the command to alice ...
    let refused = w.mm.command(&w.alice, &w.configure_command()).await;
    assert!(refused.is_err());
    // ... and a crafted call to the same path is refused by the app without any REST call.
    let call = configure_call(&w).await;
    let values = json!({"provider": {"label": "Google", "value": "google"}, "client_id": "x", "client_secret": "y"});
    let text = expect_error(&w.mm.call(&w.alice, call, values).await);
    assert_eq!(
        text,
        "Only system admins can configure or check the OAuth2 provider."
    );
    assert!(w.mm.rest_calls().is_empty(), "{:?}", w.mm.rest_calls());
    assert!(w.mm.stored_oauth2_app().is_none());
}

#[tokio::test]
async fn a_configure_call_without_the_acting_user_expanded_is_refused() {
    let w = World::new().await;
    let call = json!({"path": "/configure", "expand": {"acting_user_access_token": "all", "oauth2_app": "all"}});
    let values = json!({"provider": "google", "client_id": "x", "client_secret": "y"});
    let text = expect_error(&w.mm.call(&w.sam, call, values).await);
    assert!(text.contains("acting_user"), "{text}");
    assert!(w.mm.rest_calls().is_empty());
    assert!(w.mm.stored_oauth2_app().is_none());
}

#[tokio::test]
async fn custom_needs_the_authorization_and_token_urls() {
    let w = World::new().await;
    let response = w
        .run(
            &w.sam,
            &format!("{COMMAND} configure --provider custom --client-id x --client-secret y"),
        )
        .await;
    expect_error(&response);
    let errors = response["data"]["errors"]
        .as_object()
        .expect("field errors");
    assert!(
        errors.contains_key("auth_url") && errors.contains_key("token_url"),
        "{errors:?}"
    );
    assert!(w.mm.rest_calls().is_empty());
    assert!(w.mm.stored_oauth2_app().is_none());
}

#[tokio::test]
async fn http_endpoints_are_refused_unless_on_loopback() {
    let w = World::new().await;
    let response = w
        .run(
            &w.sam,
            &format!(
                "{COMMAND} configure --provider custom --client-id x --client-secret y \
                 --auth-url http://auth.example.com/authorize --token-url https://auth.example.com/token"
            ),
        )
        .await;
    expect_error(&response);
    let message = response["data"]["errors"]["auth_url"]
        .as_str()
        .expect("auth_url error");
    assert!(message.contains("https"), "{message}");
    assert!(w.mm.stored_oauth2_app().is_none());
}

#[tokio::test]
async fn an_unknown_provider_is_refused_by_the_client_and_by_the_app() {
    let w = World::new().await;
    let err =
        w.mm.command(
            &w.sam,
            &format!("{COMMAND} configure --provider dropbox --client-id x --client-secret y"),
        )
        .await
        .expect_err("not an option of the select");
    assert!(err.0.contains("dropbox"), "{err}");
    let call = configure_call(&w).await;
    let values = json!({"provider": {"label": "Dropbox", "value": "dropbox"}, "client_id": "x", "client_secret": "y"});
    let response = w.mm.call(&w.sam, call, values).await;
    let text = expect_error(&response);
    assert!(text.contains("dropbox"), "{text}");
    assert!(
        response["data"]["errors"]["provider"].is_string(),
        "{response:#}"
    );
    assert!(w.mm.rest_calls().is_empty());
}

#[tokio::test]
async fn the_first_configuration_needs_a_client_secret() {
    let w = World::new().await;
    let response = w
        .run(
            &w.sam,
            &format!("{COMMAND} configure --provider google --client-id x"),
        )
        .await;
    expect_error(&response);
    assert!(
        response["data"]["errors"]["client_secret"].is_string(),
        "{response:#}"
    );
    assert!(w.mm.stored_oauth2_app().is_none());
}
