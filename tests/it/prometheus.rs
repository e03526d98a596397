//! A real Prometheus scrapes the real binary's metrics listener while stories run through
//! the emulator: connects, a refresh, a provider failure, a refresh whose store Mattermost
//! fails once (retried), a forged call, a disconnect.
//! Each wait is for a scrape that started after the stories, never a sleep.

use serde_json::json;

use crate::support::app::{new_secret, TestApp};
use crate::support::process::{free_port, AppProcess};
use crate::support::prometheus::Prometheus;
use crate::support::provider::{Endpoint, Fault};
use crate::support::util::within;
use crate::support::world::{expect_error, expect_ok, World, COMMAND};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_sees_the_series_move_as_the_stories_run() {
    let secret = new_secret();
    let metrics = format!("127.0.0.1:{}", free_port());
    let app =
        AppProcess::spawn_with_env(None, &secret, "info", &[("APP_METRICS_LISTEN", &metrics)])
            .await;
    let prometheus = Prometheus::start(&metrics).await;
    let w = World::with_app(TestApp::external(&app.listen_url, &secret)).await;

    prometheus.scraped().await;
    let value = |query: &'static str| prometheus.value(query);
    assert_eq!(value("sum(hello_oauth2_rs_build_info)").await, 1.0);
    assert_eq!(
        value("sum(hello_oauth2_rs_connections_made_total)").await,
        0.0
    );
    assert_eq!(
        value("count(hello_oauth2_rs_refreshes_total == 0)").await,
        8.0,
        "every refresh result starts at 0"
    );

    // Connect with a token that is due at once, so `info` refreshes it.
    w.configure_custom_provider().await;
    w.provider.set_expires_in(Some(30));
    w.connect(&w.alice).await;
    w.provider.set_expires_in(Some(3600));
    let info = expect_ok(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    assert!(info.contains("refreshed just now"), "{info}");
    // The provider fails once.
    w.provider.fail_next(Endpoint::Userinfo, Fault::ServerError);
    expect_error(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    // Mattermost fails to store bob's refreshed token once: the store is retried.
    w.provider.set_expires_in(Some(30));
    w.connect(&w.bob).await;
    w.provider.set_expires_in(Some(3600));
    w.mm.fail_rest_once(Some("POST"), "/oauth2/user", 500, "store failure");
    expect_ok(&w.run(&w.bob, &format!("{COMMAND} info")).await);
    // A forged call.
    let forged = reqwest::Client::new()
        .post(format!("{}/info", app.listen_url))
        .header("Mattermost-App-Authorization", "Bearer forged.token.value")
        .json(&json!({}))
        .send();
    assert_eq!(
        within("a forged call", forged)
            .await
            .expect("answers")
            .status(),
        401
    );
    expect_ok(&w.run(&w.alice, &format!("{COMMAND} disconnect")).await);

    prometheus.scraped().await;
    for (query, expected) in [
        ("sum(hello_oauth2_rs_connections_made_total)", 2.0),
        (
            r#"sum(hello_oauth2_rs_connections_removed_total{reason="disconnect"})"#,
            1.0,
        ),
        (
            r#"sum(hello_oauth2_rs_provider_request_duration_seconds_count{kind="token_exchange",outcome="ok"})"#,
            2.0,
        ),
        (
            r#"sum(hello_oauth2_rs_refreshes_total{result="refreshed"})"#,
            2.0,
        ),
        (
            r#"sum(hello_oauth2_rs_provider_request_duration_seconds_count{kind="refresh",outcome="ok"})"#,
            2.0,
        ),
        (
            // Two by info, two by the bot's confirmations of the two connects.
            r#"sum(hello_oauth2_rs_provider_request_duration_seconds_count{kind="userinfo",outcome="ok"})"#,
            4.0,
        ),
        (
            r#"sum(hello_oauth2_rs_provider_request_duration_seconds_count{kind="userinfo",outcome="bad_answer"})"#,
            1.0,
        ),
        (
            r#"sum(hello_oauth2_rs_provider_request_duration_seconds_count{kind="revocation",outcome="ok"})"#,
            1.0,
        ),
        (
            r#"sum(hello_oauth2_rs_call_duration_seconds_count{path="/info",outcome="ok"})"#,
            2.0,
        ),
        (
            r#"sum(hello_oauth2_rs_call_duration_seconds_count{path="/info",outcome="error"})"#,
            1.0,
        ),
        (
            r#"sum(hello_oauth2_rs_call_duration_seconds_count{path="/info",outcome="bad_jwt"})"#,
            1.0,
        ),
        (
            r#"sum(hello_oauth2_rs_call_duration_seconds_count{path="/configure",outcome="ok"})"#,
            1.0,
        ),
        (
            r#"sum(hello_oauth2_rs_mattermost_request_duration_seconds_count{kind="store_app",outcome="ok"})"#,
            1.0,
        ),
        (
            // The two connects', alice's refresh's and bob's retried one.
            r#"sum(hello_oauth2_rs_mattermost_request_duration_seconds_count{kind="store_token",outcome="ok"})"#,
            4.0,
        ),
        (
            r#"sum(hello_oauth2_rs_mattermost_request_duration_seconds_count{kind="store_token",outcome="server_error"})"#,
            1.0,
        ),
        (
            r#"sum(hello_oauth2_rs_refreshes_total{result="retried_store"})"#,
            1.0,
        ),
        (
            r#"sum(hello_oauth2_rs_refreshes_total{result="store_failed"})"#,
            0.0,
        ),
        (
            r#"sum(hello_oauth2_rs_call_duration_seconds_count{outcome="server_error"})"#,
            0.0,
        ),
        ("sum(hello_oauth2_rs_panics_total)", 0.0),
    ] {
        assert_eq!(prometheus.value(query).await, expected, "{query}");
    }

    // No label holds a user ID, a token or a URL.
    let series = prometheus
        .api(
            "series",
            &[("match[]", r#"{__name__=~"hello_oauth2_rs_.+"}"#)],
        )
        .await;
    let text = series.to_string();
    assert!(text.len() > 1000, "{text}");
    for secret in w.provider.issued_secrets() {
        assert!(!text.contains(&secret), "a token in a label: {text}");
    }
    for needle in [w.alice.id.as_str(), "http", "?"] {
        assert!(!text.contains(needle), "{needle:?} in a label: {text}");
    }

    // Every metric the alert rules and the dashboard name is one the app exports.
    let names = prometheus.api("label/__name__/values", &[]).await;
    for file in [
        "deploy/prometheus/alerts.yml",
        "deploy/grafana/hello-oauth2-rs.json",
    ] {
        let path = format!("{}/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("the file is there");
        let used = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|word| word.starts_with("hello_oauth2_rs_"));
        for name in used {
            // A series, or a family (`…_seconds` for its `_bucket`, `_count`, `_sum`).
            let exported = |n: &serde_json::Value| {
                n.as_str()
                    .is_some_and(|n| n == name || n.starts_with(&format!("{name}_")))
            };
            assert!(
                names.as_array().is_some_and(|n| n.iter().any(exported)),
                "{file} uses {name}, which the app does not export: {names}"
            );
        }
    }

    // The alert rules loaded and evaluate without error.
    let rules = prometheus.api("rules", &[]).await;
    let rules: Vec<_> = rules["groups"][0]["rules"]
        .as_array()
        .expect("the rule group")
        .iter()
        .map(|rule| (rule["name"].clone(), rule["health"].clone()))
        .collect();
    assert_eq!(rules.len(), 8, "{rules:?}");
    assert!(rules.iter().all(|(_, health)| health == "ok"), "{rules:?}");

    app.stop().await;
}
