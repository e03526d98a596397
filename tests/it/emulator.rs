//! The emulator itself plays the plugin as the spec says: the REST API's checks and texts,
//! expand errors, forbidden paths and the browser leg's checks. (If these drifted, the app's
//! stories would prove less.)

use serde_json::{json, Value};

use crate::support::mattermost::{UserCall, API_PATH};
use crate::support::util::within;
use crate::support::world::{expect_error, expect_ok, World, COMMAND};

/// (method, path, token, body, expected status, expected text or "").
type RestCase<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<Vec<u8>>,
    u16,
    &'a str,
);

async fn rest(
    w: &World,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Vec<u8>>,
) -> (u16, String) {
    let url = format!("{}{API_PATH}{path}", w.mm.site_url());
    let client = reqwest::Client::new();
    let mut request = client.request(method.parse().expect("method"), url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    within("the emulator's REST API", async {
        let response = request.send().await.expect("answers");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    })
    .await
}

#[tokio::test]
async fn the_rest_api_checks_tokens_roles_and_sizes_with_the_plugins_texts() {
    let w = World::new().await;
    let sam = w.mm.app_session_token(&w.sam);
    let alice = w.mm.app_session_token(&w.alice);
    let bot = w.mm.app_session_token(&w.mm.bot());
    let pat = w.mm.personal_access_token(&w.sam);
    let app = br#"{"client_id":"id","client_secret":"s","extra":1}"#.to_vec();
    let cases: Vec<RestCase> = vec![
        ("POST", "/oauth2/app", None, Some(app.clone()), 401, "user ID is required: unauthorized\n"),
        ("POST", "/oauth2/app", Some(&pat), Some(app.clone()), 401, "not an app session: unauthorized\n"),
        ("POST", "/oauth2/app", Some(&alice), Some(app.clone()), 401,
         "access to this operation is limited to users with permission: manage_system: unauthorized\n"),
        ("PUT", "/oauth2/app", Some(&bot), Some(app.clone()), 401,
         "access to this operation is limited to users with permission: manage_system: unauthorized\n"),
        ("POST", "/oauth2/app", Some(&sam), Some(vec![b' '; 8193]), 500, "size limit of 8Kb exceeded\n"),
        ("GET", "/oauth2/user", Some(&bot), None, 401, ""),
        ("POST", "/oauth2/user", Some(&alice), Some(b"{nope".to_vec()), 400, "payload is not valid JSON: invalid input\n"),
        ("GET", "/oauth2/user", Some(&pat), None, 401, "not an app session: unauthorized\n"),
        ("PUT", "/kv/abc/key", Some(&alice), Some(b"1".to_vec()), 500,
         "prefix \"abc\" is longer than the limit of 2 ASCII characters\n"),
        ("PUT", "/kv/key", Some(&alice), Some(b"nope".to_vec()), 400, "payload is not valid json: invalid input\n"),
    ];
    for (method, path, token, body, status, text) in cases {
        let (got_status, got_text) = rest(&w, method, path, token, body).await;
        assert_eq!(got_status, status, "{method} {path}: {got_text}");
        if !text.is_empty() {
            assert_eq!(got_text, text, "{method} {path}");
        }
    }
    let (status, text) = rest(&w, "GET", "/oauth2/user", Some(&bot), None).await;
    assert_eq!(status, 401);
    assert!(
        text.starts_with("@hello-oauth2-rs (") && text.ends_with("): is a bot: unauthorized\n"),
        "{text}"
    );
    let (status, text) = rest(&w, "POST", "/oauth2/app", Some(&sam), Some(b"[1]".to_vec())).await;
    assert_eq!(status, 400);
    assert!(text.starts_with("OAuth2App is not valid JSON: "), "{text}");

    // /oauth2/app: only the four keys, a whole replacement.
    assert_eq!(
        rest(&w, "POST", "/oauth2/app", Some(&sam), Some(app))
            .await
            .0,
        200
    );
    assert_eq!(
        w.stored_oauth2_app(),
        Some(json!({"client_id": "id", "client_secret": "s"}))
    );
    // /oauth2/user: exact bytes back, per user; empty when nothing was stored.
    assert_eq!(
        rest(&w, "GET", "/oauth2/user", Some(&sam), None).await,
        (200, String::new())
    );
    let token = br#"{ "access_token" : "a" }"#.to_vec();
    assert_eq!(
        rest(&w, "POST", "/oauth2/user", Some(&alice), Some(token))
            .await
            .0,
        200
    );
    assert_eq!(
        rest(&w, "GET", "/oauth2/user", Some(&alice), None).await,
        (200, r#"{ "access_token" : "a" }"#.to_owned())
    );
    // KV: per (app, user); `changed` is true for every write, the same value again
    // included (the plugin passes on pluginapi's "written"); {} when missing.
    for _ in 0..2 {
        assert_eq!(
            rest(&w, "PUT", "/kv/p/k", Some(&alice), Some(b"[1]".to_vec()))
                .await
                .1,
            r#"{"changed":true}"#
        );
    }
    // Routed on the decoded path: `%2F` splits prefix and key; more or empty parts match
    // no route.
    assert_eq!(
        rest(&w, "GET", "/kv/p%2Fk", Some(&alice), None).await,
        (200, "[1]".to_owned())
    );
    for path in ["/kv/a%2Fb%2Fc", "/kv/p%2F", "/kv/"] {
        assert_eq!(
            rest(&w, "PUT", path, None, Some(b"1".to_vec())).await,
            (404, "404 page not found\n".to_owned()),
            "{path}"
        );
    }
    assert_eq!(
        rest(&w, "GET", "/kv/p/k", Some(&alice), None).await.1,
        "[1]"
    );
    assert_eq!(rest(&w, "GET", "/kv/p/k", Some(&bot), None).await.1, "{}");
    assert_eq!(
        rest(&w, "DELETE", "/kv/p/k", Some(&alice), None).await.0,
        200
    );
    assert_eq!(rest(&w, "GET", "/kv/p/k", Some(&alice), None).await.1, "{}");
}

#[tokio::test]
async fn bad_expand_levels_fail_the_call_before_the_app_is_contacted() {
    let w = World::new().await;
    w.mm.clear_records();
    for expand in [
        json!({"acting_user": "none"}),
        json!({"acting_user": "-all"}),
        json!({"acting_user": "Summary"}),
        json!({"channel": "+summary"}),
        json!({"user": "+id"}),
    ] {
        let response =
            w.mm.call(
                &w.alice,
                json!({"path": "/help", "expand": expand}),
                Value::Null,
            )
            .await;
        let text = expect_error(&response);
        assert!(text.starts_with("failed to expand context: "), "{text}");
    }
    assert!(w.mm.calls().is_empty(), "the app was contacted");
    // Unsupported levels are ignored, even required; a missing +all oauth2_user is no error.
    let response = w
        .mm
        .call(&w.alice, json!({"path": "/help", "expand": {"app": "+id", "oauth2_app": "+summary", "oauth2_user": "+all"}}), Value::Null)
        .await;
    expect_ok(&response);
    let ctx = &w.mm.calls()[0].request["context"];
    assert!(ctx.get("app").is_none());
    assert_eq!(ctx["oauth2"], json!({}));
    assert!(ctx.get("acting_user").is_none());
    assert!(w.mm.calls()[0]
        .claims
        .as_ref()
        .expect("JWT")
        .get("acting_user_id")
        .is_none());
}

#[tokio::test]
async fn contexts_carry_exactly_what_was_expanded() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    w.mm.clear_records();
    let call = json!({"path": "/help", "expand": {
        "acting_user": "id", "acting_user_access_token": "all", "oauth2_app": "all", "locale": "summary"
    }});
    expect_ok(&w.mm.call(&w.alice, call, Value::Null).await);
    let ctx = w.mm.calls()[0].request["context"].clone();
    assert_eq!(ctx["app_id"], "");
    assert_eq!(ctx["mattermost_site_url"], json!(w.mm.site_url()));
    assert_eq!(
        ctx["app_path"],
        "/plugins/com.mattermost.apps/apps/hello-oauth2-rs"
    );
    assert_eq!(ctx["bot_user_id"], json!(w.mm.bot().id));
    assert_eq!(ctx["developer_mode"], true);
    assert_eq!(ctx["locale"], "en");
    // The app has act_as_bot: its bot's app session comes with every call.
    assert_eq!(
        ctx["bot_access_token"],
        json!(w.mm.app_session_token(&w.mm.bot()))
    );
    assert_eq!(ctx["acting_user"]["id"], json!(w.alice.id));
    assert_eq!(
        ctx["acting_user"]["username"], "",
        "level id carries only the ID"
    );
    assert_eq!(ctx["acting_user"]["timezone"], Value::Null);
    assert_eq!(
        ctx["acting_user_access_token"],
        json!(w.mm.app_session_token(&w.alice))
    );
    // As stored: the app's sealed secret.
    assert_eq!(
        ctx["oauth2"]["client_secret"],
        w.mm.stored_oauth2_app().expect("stored")["client_secret"]
    );
    assert_eq!(ctx["oauth2"]["connect_url"], json!(w.mm.connect_url()));
    assert_eq!(ctx["oauth2"]["complete_url"], json!(w.mm.complete_url()));

    // What the client puts in its context is not passed on (plugin v1.2.2): app_id is
    // blanked, and even user_agent and track_as_submit are dropped.
    w.mm.clear_records();
    let mut call = UserCall::new(json!({"path": "/help"}), Value::Null);
    call.client_context = json!({
        "app_id": "hello-oauth2-rs", "channel_id": "c1", "team_id": "t1", "post_id": "p1",
        "user_id": "u1", "location": "/command/hello-oauth2-rs/help",
        "user_agent": "mobile", "track_as_submit": true
    });
    expect_ok(&w.mm.call_with(&w.alice, call).await);
    let ctx = w.mm.calls()[0].request["context"].clone();
    for stripped in [
        "channel_id",
        "team_id",
        "post_id",
        "user_id",
        "location",
        "user_agent",
        "track_as_submit",
    ] {
        assert!(ctx.get(stripped).is_none(), "{stripped} survived: {ctx}");
    }
    assert_eq!(ctx["app_id"], "");
}

#[tokio::test]
async fn clients_cannot_call_the_plugins_own_paths() {
    let w = World::new().await;
    w.mm.clear_records();
    for path in [
        "/ping",
        "/install",
        "/oauth2/connect",
        "/oauth2/complete",
        "/webhook",
        "/x/../ping",
        "help",
    ] {
        let text = expect_error(&w.mm.call(&w.sam, json!({"path": path}), Value::Null).await);
        assert!(!text.is_empty(), "{path}");
    }
    assert!(w.mm.calls().is_empty(), "the app was contacted");
    // The bindings path is allowed.
    let response =
        w.mm.call(&w.sam, json!({"path": "/bindings"}), Value::Null)
            .await;
    expect_ok(&response);
}

#[tokio::test]
async fn the_browser_leg_checks_session_and_state_like_the_plugin() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    // No session: the state names nobody; the call is expanded as the bot (act_as_bot)
    // without an acting user, and the app refuses it.
    let anonymous = crate::support::mattermost::Browser::anonymous(w.mm.site_url());
    let connect = within("connect", anonymous.get(&w.mm.connect_url())).await;
    assert_eq!(connect.status, 500);
    assert!(
        connect
            .body
            .contains("did not send what this command needs"),
        "{}",
        connect.body
    );

    let alice = w.mm.browser(&w.alice).await;
    let bob = w.mm.browser(&w.bob).await;
    let complete = w.mm.complete_url();
    let no_state = within("complete", alice.get(&format!("{complete}?code=x"))).await;
    assert_eq!(
        (no_state.status, no_state.body.as_str()),
        (401, "no state arg in the URL: unauthorized\n")
    );

    // A state for alice, used by bob: forbidden, and not consumed.
    let started = within("connect", alice.get(&w.mm.connect_url())).await;
    let provider_url = started.location.clone().expect("307");
    let back = within("authorize", alice.get(&provider_url)).await;
    let back_url = back.location.clone().expect("302 back");
    let stolen = within("complete as bob", bob.get(&back_url)).await;
    assert_eq!((stolen.status, stolen.body.as_str()), (403, "forbidden\n"));
    // Alice finishes; a replay is a state mismatch.
    let done = within("complete", alice.get(&back_url)).await;
    assert_eq!(done.status, 200, "{done:?}");
    let replay = within("replay", alice.get(&back_url)).await;
    assert_eq!(
        (replay.status, replay.body.as_str()),
        (403, "state mismatch: forbidden\n")
    );

    // An expired state (15 minutes) is a mismatch too.
    let started = within("connect", alice.get(&w.mm.connect_url())).await;
    let back = within(
        "authorize",
        alice.get(started.location.as_deref().expect("307")),
    )
    .await;
    w.mm.expire_oauth2_states();
    let late = within(
        "complete",
        alice.get(back.location.as_deref().expect("302")),
    )
    .await;
    assert_eq!(late.status, 403);
    assert_eq!(w.provider.counts().code_exchanges, 1);

    // A disabled app.
    w.mm.set_app_enabled(false);
    let disabled = within("connect", alice.get(&w.mm.connect_url())).await;
    assert_eq!(
        (disabled.status, disabled.body.as_str()),
        (
            403,
            "app is disabled by the administrator: hello-oauth2-rs: forbidden\n"
        )
    );
    assert!(
        w.mm.command(&w.alice, &format!("{COMMAND} help"))
            .await
            .is_err(),
        "no bindings"
    );
}

#[tokio::test]
async fn the_emulator_counts_the_connections_it_accepts() {
    let w = World::new().await;
    let before = w.mm.connections();
    w.configure_custom_provider().await;
    w.connect(&w.alice).await;
    assert!(
        w.mm.connections() > before,
        "the app and the browser connected"
    );
}
