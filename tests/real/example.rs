//! The crate's example app (`crates/mattermost-apps/examples/hello`) on the real server, as
//! its README says: served with its JWT secret, installed with `/apps install http`, and
//! its commands run by users.

#[path = "../../crates/mattermost-apps/examples/hello/app.rs"]
mod hello;

use mattermost_apps::actix_web::{web, App, HttpServer};
use mattermost_apps::{reqwest, JwtVerifier};
use serde_json::json;

use crate::client::new_user;
use crate::stack::{exclusive, stack};
use crate::story::{expect_error, expect_ok, install_app, uninstall};
use crate::support::app::new_secret;

#[tokio::test]
async fn the_example_app_installs_and_keeps_a_note_per_user() {
    let _one_at_a_time = exclusive().await;
    let admin = crate::client::Client::new(stack().admin.clone());
    uninstall(&admin, hello::APP_ID).await;

    let secret = new_secret();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the example");
    let root_url = format!("http://{}", listener.local_addr().expect("its address"));
    let state = web::Data::new(hello::Hello {
        http: reqwest::Client::new(),
        root_url: root_url.clone(),
    });
    let verifier = web::Data::new(JwtVerifier::new(secret.as_bytes()));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(verifier.clone())
            .app_data(state.clone())
            .configure(hello::routes)
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .expect("the example listens")
    .run();
    let handle = server.handle();
    tokio::spawn(server);

    let text = expect_ok(&install_app(&admin, &format!("{root_url}/manifest.json"), &secret).await);
    assert!(text.contains("Installed"), "{text}");

    let alice = new_user("hello-a").await;
    let line = "/hello-rs ping";
    assert_eq!(expect_ok(&alice.command(line).await.response(line)), "pong");
    // Selects and bools are not ported by the shared parser: the submit goes out with the
    // values as the webapp's parser leaves them (an option object, a JSON bool).
    let values = json!({"name": "Ada", "mood": {"label": "Calm", "value": "calm"}, "loud": true});
    let greeting = alice.submit_binding(&["hello-rs", "greet"], values).await;
    assert_eq!(expect_ok(&greeting), "HELLO, ADA! (CALM)");
    // `remember <text>` is positional, which the shared parser does not port: the
    // binding's submit goes out with the value, as the webapp sends it.
    let note = json!({"text": "water the plants"});
    let remembered = alice
        .submit_binding(&["hello-rs", "remember"], note.clone())
        .await;
    assert_eq!(expect_ok(&remembered), "Remembered.");
    // The plugin's `changed` is true for every write, the same value again included.
    let again = alice.submit_binding(&["hello-rs", "remember"], note).await;
    assert_eq!(expect_ok(&again), "Remembered.");
    // `recall` has a bool flag, which the shared parser does not port either.
    let recall = ["hello-rs", "recall"];
    assert_eq!(
        expect_ok(&alice.submit_binding(&recall, json!({})).await),
        "You asked me to remember: water the plants"
    );
    // The bot sends it as a direct message: the DM channel, then the post.
    let sent = alice.submit_binding(&recall, json!({"dm": true})).await;
    assert_eq!(expect_ok(&sent), "Sent you a direct message.");
    let (status, bot) = alice
        .request(
            "GET",
            &format!("/api/v4/users/username/{}", hello::APP_ID),
            None,
        )
        .await;
    assert_eq!(status, 200, "the app's bot: {bot}");
    let pair = json!([alice.user.id, bot["id"]]);
    let (status, dm) = alice
        .request("POST", "/api/v4/channels/direct", Some(&pair))
        .await;
    assert!(status == 200 || status == 201, "{status}: {dm}");
    let (status, posts) = alice
        .request(
            "GET",
            &format!("/api/v4/channels/{}/posts", dm["id"].as_str().unwrap_or("")),
            None,
        )
        .await;
    assert_eq!(status, 200, "{posts}");
    let messages: Vec<&str> = posts["posts"]
        .as_object()
        .map(|p| {
            p.values()
                .filter_map(|post| post["message"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(messages, ["You asked me to remember: water the plants"]);
    // The KV store is per user: Bob sees nothing of Alice's note.
    let bob = new_user("hello-b").await;
    let recalled = expect_ok(&bob.submit_binding(&recall, json!({})).await);
    assert!(recalled.starts_with("Nothing remembered"), "{recalled}");
    // The plugin refuses user calls to /ping, which is why command paths are elsewhere.
    let (status, body) = alice
        .request(
            "POST",
            &format!("{}/call", crate::client::APPS_API),
            Some(&json!({"path": "/ping", "context": {"app_id": hello::APP_ID}})),
        )
        .await;
    let refused = if status == 200 {
        expect_error(&body)
    } else {
        body.to_string()
    };
    assert!(refused.contains("/ping"), "{status}: {refused}");

    uninstall(&admin, hello::APP_ID).await;
    handle.stop(false).await;
}
