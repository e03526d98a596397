//! The real binary at RUST_LOG=debug, through a whole flow and some failures: nothing
//! secret ever reaches its stdout or stderr, in the text format or the JSON one, whose
//! every line is one JSON object.

use serde_json::{json, Value};

use crate::support::app::{new_secret, TestApp};
use crate::support::process::AppProcess;
use crate::support::provider::{Endpoint, Fault};
use crate::support::util::within;
use crate::support::world::{expect_error, expect_ok, World, COMMAND};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_log() {
    let (log, _) = log_of_a_flow_without_secrets("text").await;
    assert!(
        log.contains("connected a custom account"),
        "the flow was logged:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line_with_the_call_fields_and_no_secret() {
    let (log, w) = log_of_a_flow_without_secrets("json").await;
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    for line in &lines {
        for key in ["time", "level", "target", "message"] {
            assert!(line[key].is_string(), "no {key}: {line}");
        }
    }
    assert!(
        lines.iter().any(|l| l["message"]
            .as_str()
            .unwrap_or("")
            .contains("connected a custom account")),
        "the flow was logged:\n{log}"
    );
    let call = |path: &str, outcome: &str| {
        lines.iter().find(|l| {
            l["target"] == "hello_oauth2_rs::call" && l["path"] == path && l["outcome"] == outcome
        })
    };
    let info = call("/info", "ok").unwrap_or_else(|| panic!("no /info call line:\n{log}"));
    assert_eq!(info["level"], "INFO", "{info}");
    assert_eq!(info["user_id"], w.alice.id.as_str(), "{info}");
    assert!(info["duration_ms"].is_u64(), "{info}");
    let forged = call("/info", "bad_jwt").unwrap_or_else(|| panic!("no refused call:\n{log}"));
    assert_eq!(forged["level"], "WARN", "{forged}");
    assert_eq!(
        forged["user_id"], "",
        "no user for a forged token: {forged}"
    );
    assert!(
        call("/info", "error").is_some(),
        "the provider failure:\n{log}"
    );
    assert!(
        call("/bindings", "ok").is_some(),
        "bindings at debug:\n{log}"
    );
}

/// Runs configure, failures and the whole flow against the real binary with
/// `APP_LOG_FORMAT=format` at debug level, checks that no secret appears in its output,
/// and returns the output and the world.
async fn log_of_a_flow_without_secrets(format: &str) -> (String, World) {
    let secret = new_secret();
    let app =
        AppProcess::spawn_with_env(None, &secret, "debug", &[("APP_LOG_FORMAT", format)]).await;
    let root_url = app.listen_url.clone();

    let w = World::with_app(TestApp::external(&root_url, &secret)).await;
    // Failures first: a bad configuration, a regular user, a forged call.
    w.run(
        &w.sam,
        &format!("{COMMAND} configure --provider custom --client-id x --client-secret leaked-if-seen --auth-url http://evil.example/a --token-url https://evil.example/t"),
    )
    .await;
    let call = json!({"path": "/configure", "expand": {"acting_user": "+summary", "acting_user_access_token": "+all"}});
    expect_error(
        &w.mm
            .call(
                &w.alice,
                call,
                json!({"client_id": "x", "client_secret": "alice-secret-attempt"}),
            )
            .await,
    );
    let forged = reqwest::Client::new()
        .post(format!("{root_url}/info"))
        .header("Mattermost-App-Authorization", "Bearer forged.token.value")
        .body("{}")
        .send();
    assert_eq!(
        within("forged call", forged)
            .await
            .expect("answers")
            .status()
            .as_u16(),
        401
    );

    // The flow: configure, connect (one failed exchange, one denial, then success), info
    // with a refresh, disconnect.
    w.configure_custom_provider().await;
    w.provider.fail_next(Endpoint::Token, Fault::InvalidGrant);
    assert!(!w.walk(&w.alice).await.completed());
    w.provider.deny_authorization("no thanks");
    assert!(!w.walk(&w.alice).await.completed());
    w.provider.allow_authorization();
    w.provider.set_expires_in(Some(30));
    w.connect(&w.alice).await;
    w.provider.set_expires_in(Some(3600));
    let info = expect_ok(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    assert!(info.contains("refreshed just now"), "{info}");
    w.provider.fail_next(Endpoint::Userinfo, Fault::ServerError);
    expect_error(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    expect_ok(&w.run(&w.alice, &format!("{COMMAND} disconnect")).await);
    // Bob's confirmation cannot be posted: logged, with the bot's token nowhere.
    w.mm.set_posting_down(true);
    w.connect(&w.bob).await;
    w.mm.set_posting_down(false);
    w.provider.fail_next(Endpoint::Revoke, Fault::ServerError);
    expect_ok(&w.run(&w.bob, &format!("{COMMAND} disconnect")).await);

    let log = app.stop().await;
    assert!(
        log.contains("DEBUG"),
        "the log was captured at debug level:\n{log}"
    );
    assert!(
        log.contains(&format!(
            "could not send a direct message to user {}",
            w.bob.id
        )),
        "the failed confirmation was logged:\n{log}"
    );

    let mut secrets = vec![
        ("APP_SECRET", secret.clone()),
        (
            "APP_TOKEN_KEY",
            crate::support::app::token_key_for(&secret)[5..].to_owned(),
        ),
        ("client secret", w.provider.client_secret()),
        ("a rejected client secret", "leaked-if-seen".to_owned()),
        (
            "a client secret typed by a regular user",
            "alice-secret-attempt".to_owned(),
        ),
    ];
    secrets.extend(
        w.provider
            .issued_secrets()
            .into_iter()
            .map(|s| ("a provider code or token", s)),
    );
    secrets.extend(
        w.mm.all_session_tokens()
            .into_iter()
            .map(|s| ("a Mattermost session token", s)),
    );
    assert!(secrets.len() > 10, "the flow issued tokens and codes");
    for (what, value) in secrets {
        if let Some(line) = log.lines().find(|l| l.contains(&value)) {
            panic!(
                "{what} appears in the log: {}",
                line.replace(&value, "<SECRET>")
            );
        }
    }
    (log, w)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_secret_is_printed_once_and_never_again() {
    let dir = std::env::temp_dir().join(format!("secret-once-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let path = dir.join("app-secret");
    let _ = std::fs::remove_file(&path);

    let first = AppProcess::spawn_with_secret_file(&path).await.stop().await;
    let secret = std::fs::read_to_string(&path).expect("the secret file was written");
    let secret = secret.trim();
    assert_eq!(secret.len(), 64, "a generated secret");
    assert!(
        first.contains(secret),
        "the first start prints it for the admin:\n{first}"
    );

    let second = AppProcess::spawn_with_secret_file(&path).await.stop().await;
    assert!(
        !second.contains(secret),
        "a later start must not print the secret again:\n{}",
        second.replace(secret, "<SECRET>")
    );
    assert!(
        second.contains(&path.display().to_string()),
        "it says where the secret is:\n{second}"
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
