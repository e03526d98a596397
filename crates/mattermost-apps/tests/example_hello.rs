//! The `hello` example app, served in-process to self-signed calls as the Apps plugin sends
//! them, with a fake of the plugin's KV API on 127.0.0.1: the install ping, every bound
//! command's route, the form, and remember/recall per user.

#[path = "../examples/hello/app.rs"]
mod app;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{test, web, App, HttpRequest, HttpResponse, HttpServer};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use mattermost_apps::jwt::HEADER;
use mattermost_apps::{reqwest, Claims, JwtVerifier, Manifest};
use serde_json::{json, Value};

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

fn bearer(user: Option<&str>) -> String {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs()
        + 900;
    let claims = Claims {
        exp,
        acting_user_id: user.map(str::to_owned),
    };
    let key = EncodingKey::from_secret(SECRET);
    let token = encode(&Header::new(Algorithm::HS256), &claims, &key).expect("sign");
    format!("Bearer {token}")
}

/// Stored values by (token, path): the token stands for its user.
type Store = Arc<Mutex<HashMap<(String, String), Vec<u8>>>>;

/// The plugin's KV API, per user as the plugin keeps it.
async fn fake_kv() -> String {
    let store = Store::default();
    let server = HttpServer::new(move || {
        let store = store.clone();
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let store = store.clone();
            async move {
                let token = req
                    .headers()
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let id = (token, req.uri().path().to_owned());
                let mut store = store.lock().expect("lock");
                let answer = match req.method().as_str() {
                    "GET" => store.get(&id).cloned().unwrap_or_else(|| b"{}".to_vec()),
                    // Like the plugin: `changed` is true for every write.
                    _ => {
                        store.insert(id, body.to_vec());
                        json!({ "changed": true }).to_string().into_bytes()
                    }
                };
                HttpResponse::Ok()
                    .content_type("application/json")
                    .body(answer)
            }
        }))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .expect("bind");
    let url = format!("http://{}", server.addrs()[0]);
    actix_web::rt::spawn(server.run());
    url
}

/// A context as the plugin builds it for `user` (with their session token), or for the
/// install ping (`None`: no user, no site URL).
fn context(site: &str, user: Option<&str>) -> Value {
    match user {
        Some(user) => json!({
            "mattermost_site_url": site,
            "acting_user": {"id": user, "username": user},
            "acting_user_access_token": format!("token-of-{user}"),
            "oauth2": {}
        }),
        None => json!({"oauth2": {}}),
    }
}

macro_rules! service {
    () => {
        test::init_service(
            App::new()
                .app_data(web::Data::new(JwtVerifier::new(SECRET)))
                .app_data(web::Data::new(app::Hello {
                    http: reqwest::Client::new(),
                    root_url: "http://localhost:4100".into(),
                }))
                .configure(app::routes),
        )
        .await
    };
}

/// POSTs a call to `path` as `user` with `values`; the JSON answer.
macro_rules! call {
    ($service:expr, $site:expr, $path:expr, $user:expr, $values:expr) => {{
        let user: Option<&str> = $user;
        let request = test::TestRequest::post()
            .uri($path)
            .insert_header((HEADER, bearer(user)))
            .set_json(json!({"path": $path, "values": $values, "context": context($site, user)}))
            .to_request();
        let response = test::call_service(&$service, request).await;
        assert_eq!(response.status(), 200, "{}", $path);
        let answer: Value = test::read_body_json(response).await;
        answer
    }};
}

#[actix_web::test]
async fn the_manifest_installs_and_the_install_ping_needs_no_user() {
    let service = service!();
    let request = test::TestRequest::get().uri("/manifest.json").to_request();
    let manifest: Manifest = test::call_and_read_body_json(&service, request).await;
    assert_eq!(manifest.validate(), Ok(()));
    assert_eq!(manifest.app_id, app::APP_ID);
    let pong = call!(service, "", "/ping", None, json!({}));
    assert_eq!(pong, json!({"type": "ok", "text": "pong"}));
}

#[actix_web::test]
async fn every_bound_command_is_served_at_its_path() {
    let service = service!();
    let site = fake_kv().await;
    let bindings = call!(service, &site, "/bindings", Some("u1"), json!({}));
    let commands = bindings["data"][0]["bindings"][0]["bindings"]
        .as_array()
        .expect("sub-commands")
        .clone();
    let words: Vec<&str> = commands
        .iter()
        .filter_map(|c| c["label"].as_str())
        .collect();
    assert_eq!(words, ["ping", "form", "greet", "remember", "recall"]);
    for binding in &commands {
        let submit = if binding["submit"].is_null() {
            &binding["form"]["submit"]
        } else {
            &binding["submit"]
        };
        let path = submit["path"].as_str().expect("a submit path");
        let answer = call!(
            service,
            &site,
            path,
            Some("u1"),
            json!({"name": "x", "text": "y"})
        );
        assert_ne!(answer["type"], json!(null), "{path}: {answer}");
    }
}

#[actix_web::test]
async fn the_form_opens_and_its_values_come_back_typed() {
    let service = service!();
    let form = call!(service, "", "/commands/form", Some("u1"), json!({}));
    assert_eq!(form["type"], "form");
    assert_eq!(form["form"]["submit"]["path"], "/commands/greet");
    let values =
        json!({"name": "Ada", "mood": {"label": "Cheerful", "value": "cheerful"}, "loud": true});
    let greeting = call!(service, "", "/commands/greet", Some("u1"), values);
    assert_eq!(greeting["text"], "HELLO, ADA! (CHEERFUL)");
    let missing = call!(service, "", "/commands/greet", Some("u1"), json!({}));
    assert_eq!(missing["data"]["errors"]["name"], "required");
}

#[actix_web::test]
async fn remember_and_recall_keep_a_note_per_user() {
    let service = service!();
    let site = fake_kv().await;
    let text = json!({"text": "water the plants"});
    let first = call!(
        service,
        &site,
        "/commands/remember",
        Some("u1"),
        text.clone()
    );
    assert_eq!(first["text"], "Remembered.");
    let again = call!(
        service,
        &site,
        "/commands/remember",
        Some("u1"),
        json!({"text": "call mum"})
    );
    assert_eq!(again["text"], "Remembered.");
    let recalled = call!(service, &site, "/commands/recall", Some("u1"), json!({}));
    assert_eq!(recalled["text"], "You asked me to remember: call mum");
    let other = call!(service, &site, "/commands/recall", Some("u2"), json!({}));
    assert!(
        other["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("Nothing remembered")),
        "{other}"
    );
    // Without the user's token in the context, the error says what to expand.
    let no_token = call!(service, &site, "/commands/recall", None, json!({}));
    assert_eq!(no_token["type"], "error");
    assert!(
        no_token["text"]
            .as_str()
            .is_some_and(|t| t.contains("acting_user_access_token")),
        "{no_token}"
    );
}
