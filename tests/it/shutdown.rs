//! A rolling update: Kubernetes sends SIGTERM while a call is in flight. The app stops
//! accepting connections (one made after the signal is never served), the call finishes
//! with its answer, and the process exits 0 promptly after.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hello_oauth2_rs::secret::AppSecret;
use hello_oauth2_rs::settings::Settings;
use hello_oauth2_rs::startup::Application;

use crate::support::app::{new_secret, TestApp};
use crate::support::process::AppProcess;
use crate::support::provider::{Endpoint, Fault};
use crate::support::util::within;
use crate::support::world::{expect_ok, World, COMMAND};

/// How long the provider takes to answer the call in flight.
const SLOW: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_call_in_flight_finish_then_exits_0() {
    let secret = new_secret();
    // The outbound timeout above the provider's delay: the call is slow, not failed.
    let app =
        AppProcess::spawn_with_env(None, &secret, "info", &[("APP_HTTP_TIMEOUT", "10")]).await;
    let w = World::with_app(TestApp::external(&app.listen_url, &secret)).await;
    w.configure_custom_provider().await;
    w.connect(&w.alice).await;

    let before = w.provider.counts().userinfo;
    w.provider.fail_next(Endpoint::Userinfo, Fault::Delay(SLOW));
    let answered = AtomicBool::new(false);
    let late = OnceLock::new();
    let call = async {
        let answer = w.run(&w.alice, &format!("{COMMAND} info")).await;
        answered.store(true, Ordering::SeqCst);
        answer
    };
    let stop = async {
        within("the call to reach the provider", async {
            while w.provider.counts().userinfo == before {
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
    let settings = Settings::new(
        "http://localhost:4000".parse().expect("a URL"),
        AppSecret::parse(&new_secret()).expect("a secret"),
    );
    let stop = Application::shutdown_timeout(&settings).as_secs();
    assert!(
        grace > pre_stop + stop,
        "terminationGracePeriodSeconds {grace} must exceed the preStop pause {pre_stop} s + the shutdown timeout {stop} s"
    );
}
