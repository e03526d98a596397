//! As operators deploy it: several copies of the real binary behind a load balancer that
//! spreads requests round-robin, with no session affinity.

use crate::support::app::{new_secret, TestApp};
use crate::support::process::AppProcess;
use crate::support::proxy::RoundRobin;
use crate::support::world::{expect_ok, World, COMMAND};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_app_processes_behind_a_round_robin_balancer_serve_the_whole_flow() {
    let balancer = RoundRobin::start();
    let secret = new_secret();
    // Both replicas publish the balancer's URL as their root URL and share the secret.
    let a = AppProcess::spawn(Some(&balancer.url), &secret, "info").await;
    let b = AppProcess::spawn(Some(&balancer.url), &secret, "info").await;
    balancer.set_backends(vec![a.listen_url.clone(), b.listen_url.clone()]);

    let w = World::with_app(TestApp::external(&balancer.url, &secret)).await;
    w.configure_custom_provider().await;
    w.connect(&w.alice).await;
    let info = expect_ok(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    assert!(info.contains("alice"), "{info}");
    expect_ok(&w.run(&w.alice, &format!("{COMMAND} disconnect")).await);

    let served = balancer.served();
    for backend in 0..2 {
        assert!(
            served.iter().filter(|(_, b)| *b == backend).count() >= 3,
            "replica {backend} served too little: {served:?}"
        );
    }
    // The flow's two halves landed on different processes: the verifier was derived, not
    // remembered, so the replica that completed it could still prove PKCE.
    let connect = balancer
        .backend_of("/oauth2/connect")
        .expect("connect served");
    let complete = balancer
        .backend_of("/oauth2/complete")
        .expect("complete served");
    assert_ne!(connect, complete, "{served:?}");
    assert_eq!(w.provider.counts().code_exchanges, 1);

    let logs = [a.stop().await, b.stop().await];
    assert!(
        logs.iter()
            .any(|log| log.contains("connected a custom account")),
        "{logs:?}"
    );
}
