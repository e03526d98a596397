//! A rolling update: Kubernetes sends SIGTERM while a call is in flight (waiting for the
//! provider's userinfo, or for a refresh). The app stops accepting connections (one made
//! after the signal is never served), the call finishes with its answer (a refreshed
//! token is stored), and the process exits 0 promptly after.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hello_oauth2_rs::seal::KeyRing;
use hello_oauth2_rs::secret::AppSecret;
use hello_oauth2_rs::settings::Settings;
use hello_oauth2_rs::startup::Application;
use serde_json::Value;

use crate::support::app::{new_secret, token_key_for, TestApp};
use crate::support::process::AppProcess;
use crate::support::provider::{Endpoint, Fault};
use crate::support::util::within;
use crate::support::world::{expect_ok, World, COMMAND};

/// How long the provider takes to answer the call in flight.
const SLOW: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_call_in_flight_finish_then_exits_0() {
    let (w, _) = sigterm_while_the_provider_holds(Endpoint::Userinfo, false).await;
    assert_eq!(w.provider.counts().refreshes, 0, "no refresh was due");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_refresh_lets_it_finish_and_store_the_new_token() {
    let (w, connected) = sigterm_while_the_provider_holds(Endpoint::Token, true).await;
    assert_eq!(w.provider.counts().refreshes, 1);
    let stored = w.stored_token(&w.alice).expect("a token is stored");
    assert_ne!(
        stored["access_token"], connected["access_token"],
        "the refreshed token was stored"
    );
    let access = stored["access_token"].as_str().expect("an access token");
    assert!(w.provider.access_token_active(access), "{stored}");
}

/// Connects alice (with a token due for refresh when `due`), makes the provider hold its
/// next request at `endpoint` for [`SLOW`], sends SIGTERM once the app's request is there,
/// and checks the call's answer, that the app took no new connection, and its clean exit.
/// Returns the world and the token alice connected with.
async fn sigterm_while_the_provider_holds(endpoint: Endpoint, due: bool) -> (World, Value) {
    let secret = new_secret();
    // The outbound timeout above the provider's delay: the call is slow, not failed.
    let app =
        AppProcess::spawn_with_env(None, &secret, "info", &[("APP_HTTP_TIMEOUT", "10")]).await;
    let w = World::with_app(TestApp::external(&app.listen_url, &secret)).await;
    w.configure_custom_provider().await;
    if due {
        w.provider.set_expires_in(Some(30));
    }
    let connected = w.connect(&w.alice).await;
    w.provider.set_expires_in(Some(3600));

    let requests = |w: &World| {
        let counts = w.provider.counts();
        counts.userinfo + counts.token
    };
    let before = requests(&w);
    w.provider.fail_next(endpoint, Fault::Delay(SLOW));
    let answered = AtomicBool::new(false);
    let late = OnceLock::new();
    let call = async {
        let answer = w.run(&w.alice, &format!("{COMMAND} info")).await;
        answered.store(true, Ordering::SeqCst);
        answer
    };
    let stop = async {
        within("the call to reach the provider", async {
            while requests(&w) == before {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        app.terminate();
        within("the app to take the signal", async {
            while !app.output().contains("SIGTERM received") {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        assert!(
            !answered.load(Ordering::SeqCst),
            "the call in flight was answered before the app took the signal"
        );
        // A new connection now is not served.
        let fresh = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .expect("a client");
        let request = fresh.get(format!("{}/healthz", app.listen_url)).send();
        assert!(late.set(tokio::spawn(request)).is_ok(), "sent once");
    };
    let (answer, ()) = tokio::join!(call, stop);
    let answered_at = Instant::now();
    let text = expect_ok(&answer);
    assert!(text.contains("alice"), "the call's own answer: {text}");

    let (status, log) = app.exited().await;
    let exit_took = answered_at.elapsed();
    assert!(status.success(), "exit status {status}:\n{log}");
    // Well below the shutdown timeout (30 s): nothing was left to wait for.
    assert!(
        exit_took < Duration::from_secs(5),
        "exited {exit_took:?} after the answer:\n{log}"
    );
    assert!(log.contains("stopped"), "{log}");
    let late = late.into_inner().expect("the late request was sent");
    let late = within("the late request to end", late)
        .await
        .expect("the task");
    // Refused or cut off, never answered: the server had stopped accepting.
    assert!(
        late.is_err(),
        "a connection made after SIGTERM was served: {late:?}"
    );
    (w, connected)
}

#[test]
fn kubernetes_waits_longer_than_the_app_takes_to_stop() {
    let manifest = include_str!("../../deploy/kubernetes/deployment.yaml");
    let number_after = |key: &str| -> u64 {
        let line = manifest
            .lines()
            .find_map(|line| line.trim().strip_prefix(key))
            .unwrap_or_else(|| panic!("deployment.yaml has no {key}"));
        line.trim_matches(|c: char| !c.is_ascii_digit())
            .parse()
            .unwrap_or_else(|_| panic!("{key} {line}"))
    };
    let grace = number_after("terminationGracePeriodSeconds:");
    let pre_stop = number_after(r#"command: ["sleep","#);
    let secret = new_secret();
    let settings = Settings::new(
        "http://localhost:4000".parse().expect("a URL"),
        AppSecret::parse(&secret).expect("a secret"),
        KeyRing::parse(&token_key_for(&secret)).expect("a key ring"),
    );
    let stop = Application::shutdown_timeout(&settings).as_secs();
    assert!(
        grace > pre_stop + stop,
        "terminationGracePeriodSeconds {grace} must exceed the preStop pause {pre_stop} s + the shutdown timeout {stop} s"
    );
}
