//! The kit with an app that is not `hello-oauth2-rs`: the smallest app of the
//! `mattermost-apps` README (one `/hello-rs hello` command), installed on the emulator and
//! run as a user types it. Nothing in the emulator knows this app.

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpServer};
use mattermost_apps::binding::location;
use mattermost_apps::manifest::{HttpDeploy, Permission};
use mattermost_apps::{
    Binding, Call, CallResponse, Expand, ExpandLevel, JwtVerifier, Manifest, Verified,
};
use mattermost_apps_testkit::mattermost::Mattermost;
use mattermost_apps_testkit::response::expect_ok;
use mattermost_apps_testkit::util::within;

const SECRET: &str = "the-secret-typed-at-install-32-chars";

fn manifest(root_url: &str) -> Manifest {
    Manifest {
        app_id: "hello-rs".into(),
        display_name: "Hello".into(),
        homepage_url: "https://example.com/hello-rs".into(),
        requested_permissions: vec![Permission::ActAsUser],
        requested_locations: vec![location::COMMAND.into()],
        http: Some(HttpDeploy {
            root_url: root_url.into(),
            use_jwt: true,
        }),
        ..Manifest::default()
    }
}

async fn published(manifest: web::Data<Manifest>) -> web::Json<Manifest> {
    web::Json(manifest.as_ref().clone())
}

async fn ping(_call: Verified) -> web::Json<CallResponse> {
    web::Json(CallResponse::ok(""))
}

async fn bindings(_call: Verified) -> actix_web::Result<web::Json<CallResponse>> {
    let expand = Expand {
        acting_user: Some(ExpandLevel::Summary),
        ..Expand::NONE
    };
    let hello = Binding {
        label: "hello".into(),
        description: "Say hello".into(),
        submit: Some(Call::new("/hello", expand)),
        ..Binding::default()
    };
    let command = Binding {
        label: "hello-rs".into(),
        bindings: vec![hello],
        ..Binding::default()
    };
    let commands = Binding {
        location: location::COMMAND.into(),
        bindings: vec![command],
        ..Binding::default()
    };
    let data = serde_json::to_value(vec![commands])?;
    Ok(web::Json(CallResponse::data(data)))
}

async fn hello(call: Verified) -> web::Json<CallResponse> {
    let name = match &call.context.acting_user {
        Some(user) => user.username.as_str(),
        None => "there",
    };
    web::Json(CallResponse::ok(format!("Hello, {name}!")))
}

/// The app on a free port of 127.0.0.1: its root URL and the handle that stops it.
fn spawn_app() -> (String, ServerHandle) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("the app's address").port();
    let root_url = format!("http://127.0.0.1:{port}");
    let manifest = web::Data::new(manifest(&root_url));
    let verifier = web::Data::new(JwtVerifier::new(SECRET.as_bytes()));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(verifier.clone())
            .app_data(manifest.clone())
            .route("/manifest.json", web::get().to(published))
            .route("/ping", web::post().to(ping))
            .route("/bindings", web::post().to(bindings))
            .route("/hello", web::post().to(hello))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .expect("the app listens")
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    (root_url, handle)
}

#[tokio::test]
async fn another_app_installs_and_answers_its_command() {
    let (root_url, _app) = spawn_app();
    let mm = Mattermost::start().await;
    let admin = mm.create_user("sam.admin", "system_admin system_user");
    let alice = mm.create_user("alice", "system_user");
    let installed = within(
        "install",
        mm.install(&format!("{root_url}/manifest.json"), SECRET, &admin),
    )
    .await
    .expect("the plugin's checks accept the app");
    assert!(installed.contains("hello-rs"), "{installed}");

    let answer = within("the command", mm.command(&alice, "/hello-rs hello"))
        .await
        .expect("the command parses over the app's bindings");
    assert_eq!(expect_ok(&answer), "Hello, alice!");
    assert!(mm.dropped().is_empty(), "{:?}", mm.dropped());
}

#[tokio::test]
async fn an_install_with_another_secret_fails_at_the_ping() {
    let (root_url, _app) = spawn_app();
    let mm = Mattermost::start().await;
    let admin = mm.create_user("sam.admin", "system_admin system_user");
    let refused = within(
        "install",
        mm.install(
            &format!("{root_url}/manifest.json"),
            "not-the-apps-secret-not-the-apps",
            &admin,
        ),
    )
    .await;
    let message = refused.expect_err("the app refuses the plugin's JWT");
    assert!(message.contains("/ping"), "{message}");
}
