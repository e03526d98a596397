//! A system admin configures the provider: with flags, or with the form; and everything
//! the app must refuse.

use serde_json::{json, Map, Value};

use crate::support::app::{new_secret, TestApp};
use crate::support::mattermost::EventTarget;
use crate::support::process::AppProcess;
use crate::support::world::{expect_error, expect_ok, kind, World, COMMAND};

/// The configure submit call, as the admin's bindings offer it.
async fn configure_call(w: &World) -> Value {
    let bindings = w.mm.bindings(&w.sam).await;
    let command = crate::support::mattermost::command::find_command(&bindings, "hello-oauth2-rs")
        .expect("command");
    command["bindings"]
        .as_array()
        .expect("sub-commands")
        .iter()
        .find(|b| b["label"] == "configure")
        .expect("configure for the admin")["form"]["submit"]
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
        w.stored_oauth2_app().expect("stored"),
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
    let stored = w.stored_oauth2_app().expect("stored");
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
    let stored = w.stored_oauth2_app().expect("stored");
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
    assert!(w.stored_oauth2_app().is_none());
}

/// A context part missing is the installation's problem: the user is told to ask an
/// admin, and the log says which part.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configure_call_without_the_acting_user_expanded_is_refused() {
    let secret = new_secret();
    let app = AppProcess::spawn(None, &secret, "info").await;
    let w = World::with_app(TestApp::external(&app.listen_url, &secret)).await;
    let call = json!({"path": "/configure", "expand": {"acting_user_access_token": "all", "oauth2_app": "all"}});
    let values = json!({"provider": "google", "client_id": "x", "client_secret": "y"});
    let text = expect_error(&w.mm.call(&w.sam, call, values).await);
    assert_eq!(
        text,
        "Mattermost did not send what this command needs. Ask a system admin to check the app's installation."
    );
    assert!(w.mm.rest_calls().is_empty());
    assert!(w.stored_oauth2_app().is_none());
    let log = app.stop().await;
    assert!(
        log.lines()
            .any(|l| l.contains("WARN") && l.contains("no `acting_user`")),
        "{log}"
    );
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
    assert!(w.stored_oauth2_app().is_none());
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
    assert!(w.stored_oauth2_app().is_none());
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
    assert!(w.stored_oauth2_app().is_none());
}

/// The admin's `configure` binding, as the client has it.
async fn configure_binding(w: &World) -> Value {
    let bindings = w.mm.bindings(&w.sam).await;
    let command = crate::support::mattermost::command::find_command(&bindings, "hello-oauth2-rs")
        .expect("command");
    command["bindings"]
        .as_array()
        .expect("sub-commands")
        .iter()
        .find(|b| b["label"] == "configure")
        .expect("configure for the admin")
        .clone()
}

/// The real command line uses only what the binding embeds: every setting as a flag, none
/// required (a required field missing makes the client send nothing), no values (they
/// would be sent as defaults), and a submit. Nothing stored reaches the bindings.
#[tokio::test]
async fn the_configure_binding_embeds_its_fields_and_submit_and_nothing_stored() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    let binding = configure_binding(&w).await;
    let form = &binding["form"];
    assert_eq!(form["submit"]["path"], "/configure", "{binding:#}");
    assert!(binding.get("submit").is_none(), "{binding:#}");
    let fields = form["fields"].as_array().expect("fields");
    let flags: Vec<&str> = fields.iter().filter_map(|f| f["label"].as_str()).collect();
    assert_eq!(
        flags,
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
    for field in fields {
        assert!(field.get("is_required").is_none(), "{field:#}");
        assert!(field.get("value").is_none(), "{field:#}");
    }
    let text = serde_json::to_string(&w.mm.bindings(&w.sam).await).expect("JSON");
    for stored in [w.provider.client_secret(), w.provider.client_id()] {
        assert!(!text.contains(&stored), "the bindings carry {stored}");
    }
    assert!(w.mm.dropped().is_empty(), "{:#?}", w.mm.dropped());
}

/// A bare `configure` sends the submit with no values (no source is fetched) and the
/// answer is the pre-filled form, which the client opens as a modal.
#[tokio::test]
async fn the_bare_command_sends_the_submit_without_values_and_gets_the_form() {
    let w = World::new().await;
    w.mm.clear_records();
    let response = w.run(&w.sam, &format!("{COMMAND} configure")).await;
    assert_eq!(kind(&response), "form", "{response:#}");
    // The bindings the client parsed against, then the submit (no form source).
    let calls = w.mm.calls();
    let paths: Vec<&str> = calls.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, ["/bindings", "/configure"]);
    let calls = w.mm.calls_to("/configure");
    assert!(
        calls[0].request.get("values").is_none(),
        "{:#}",
        calls[0].request
    );
    assert_eq!(
        calls[0].request["raw_command"],
        format!("{COMMAND} configure")
    );
    // Nothing stored yet: Google is pre-selected, no client ID.
    let fields = response["form"]["fields"].as_array().expect("fields");
    assert_eq!(fields[0]["value"]["value"], "google");
    assert!(fields[1].get("value").is_none());
    assert!(w.mm.rest_calls().is_empty());
}

/// A select takes an option's value only (as the webapp's parser does), and every error
/// text names the settings the way the form and the flags do.
#[tokio::test]
async fn errors_name_each_setting_as_the_form_and_the_flags_do() {
    let w = World::new().await;
    let refused =
        w.mm.command(&w.sam, &format!("{COMMAND} configure --provider GitHub"))
            .await
            .expect_err("a label is not an option value");
    assert_eq!(
        refused.0,
        "Unknown option for field `provider`: `GitHub`.\n"
    );

    let response = w
        .run(&w.sam, &format!("{COMMAND} configure --provider custom"))
        .await;
    let text = expect_error(&response);
    assert_eq!(
        text,
        "The configuration was not saved. Auth URL: required for the custom provider; \
         Token URL: required for the custom provider; Client ID: required; \
         Client secret: required."
    );
    // The modal shows the same settings by the same names.
    let form = w.run(&w.sam, &format!("{COMMAND} configure")).await;
    let fields = form["form"]["fields"].as_array().expect("fields");
    for field in fields {
        let shown = field["modal_label"].as_str().expect("a modal label");
        let flag = field["label"].as_str().expect("a flag");
        assert_eq!(flag, shown.to_lowercase().replace(' ', "-"), "{field:#}");
    }
    for name in ["auth_url", "token_url", "client_id", "client_secret"] {
        let shown = fields
            .iter()
            .find(|f| f["name"] == name)
            .and_then(|f| f["modal_label"].as_str())
            .expect("a field");
        assert!(text.contains(&format!("{shown}: ")), "{shown} in {text}");
        assert!(response["data"]["errors"][name].is_string(), "{response:#}");
    }
}

/// Keeping the stored secret is for the same client only: another provider, token
/// endpoint or client ID must come with its own secret.
#[tokio::test]
async fn switching_provider_or_client_with_a_blank_secret_asks_for_the_new_secret() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    let before = w.stored_oauth2_app().expect("stored");
    let p = &w.provider;
    let custom = format!(
        "--provider custom --auth-url {} --token-url {}",
        p.authorize_url(),
        p.token_url()
    );
    for args in [
        format!("--provider github --client-id {}", p.client_id()),
        format!("{custom} --client-id another-client"),
        format!(
            "--provider custom --auth-url {} --token-url https://other.example.com/token --client-id {}",
            p.authorize_url(),
            p.client_id()
        ),
        // The revocation endpoint gets the client secret too.
        format!(
            "{custom} --client-id {} --revoke-url https://other.example.com/revoke",
            p.client_id()
        ),
    ] {
        let response = w.run(&w.sam, &format!("{COMMAND} configure {args}")).await;
        let text = expect_error(&response);
        assert!(text.contains("Client secret: required"), "{args}: {text}");
        assert!(
            response["data"]["errors"]["client_secret"].is_string(),
            "{response:#}"
        );
        assert_eq!(w.stored_oauth2_app().as_ref(), Some(&before), "{args}");
    }
    // The same provider, endpoint and client: the blank secret keeps the stored one.
    let response = w
        .run(
            &w.sam,
            &format!("{COMMAND} configure {custom} --client-id {}", p.client_id()),
        )
        .await;
    expect_ok(&response);
    let after = w.stored_oauth2_app().expect("stored");
    assert_eq!(after["client_secret"], json!(p.client_secret()));
}

/// Stored provider settings this app cannot read are reported, never read as Google's.
#[tokio::test]
async fn unreadable_stored_settings_are_an_error_not_google() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    w.connect(&w.alice).await;
    let mut stored = w.stored_oauth2_app().expect("stored");
    for data in [json!({"provider": "dropbox"}), json!({}), Value::Null] {
        stored["data"] = data.clone();
        w.mm.set_stored_oauth2_app(&stored);
        let userinfo = w.provider.counts().userinfo;
        let text = expect_error(&w.run(&w.alice, &format!("{COMMAND} info")).await);
        assert!(text.contains("no longer valid"), "{data}: {text}");
        assert!(text.contains("Ask a system admin"), "{data}: {text}");
        assert_eq!(w.provider.counts().userinfo, userinfo, "{data}");
        // The admin's form does not pretend it is Google, and asks for the provider.
        let form = w.run(&w.sam, &format!("{COMMAND} configure")).await;
        assert_eq!(kind(&form), "form", "{form:#}");
        assert!(form["form"]["fields"][0].get("value").is_none(), "{form:#}");
        let response = w
            .run(
                &w.sam,
                &format!("{COMMAND} configure --client-id x --client-secret y"),
            )
            .await;
        assert!(
            response["data"]["errors"]["provider"].is_string(),
            "{data}: {response:#}"
        );
    }
}
