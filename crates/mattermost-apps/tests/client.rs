//! `AppsClient` against a fake Mattermost on 127.0.0.1: the requests it sends (method, path,
//! token, body) and how it reads the answers.

use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use mattermost_apps::client::{read_capped, ClientError, NewPost, ReadError, API_PATH, MAX_ANSWER};
use mattermost_apps::secret::SecretString;
use mattermost_apps::{reqwest, AppsClient, CallError, CallResponse, Context};
use serde_json::{json, Value};

/// One request as the fake received it.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    method: String,
    /// The path as sent, percent-encoding kept.
    path: String,
    authorization: String,
    body: Value,
}

/// A fake Mattermost: answers `answer(path)` and records every request.
struct Fake {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Fake {
    async fn start(answer: fn(&str) -> (u16, String)) -> Fake {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let server = HttpServer::new(move || {
            let record = record.clone();
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let record = record.clone();
                async move {
                    let path = req.uri().path().to_owned();
                    let authorization = req
                        .headers()
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    record.lock().expect("lock").push(Seen {
                        method: req.method().to_string(),
                        path: path.clone(),
                        authorization,
                        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                    });
                    let (status, text) = answer(&path);
                    HttpResponse::build(
                        actix_web::http::StatusCode::from_u16(status).expect("status"),
                    )
                    .content_type("application/json")
                    .body(text)
                }
            }))
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .expect("bind");
        let url = format!("http://{}", server.addrs()[0]);
        actix_web::rt::spawn(server.run());
        Fake { url, seen }
    }

    fn client(&self) -> AppsClient {
        AppsClient::new(
            reqwest::Client::new(),
            &format!("{}/", self.url),
            SecretString::from("t0k3n"),
        )
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

fn plugin(path: &str) -> String {
    format!("{API_PATH}{path}")
}

fn mattermost(path: &str) -> (u16, String) {
    let kv = |p: &str| plugin(&format!("/kv{p}"));
    match path {
        p if p == kv("/rm/a%20b") => (200, r#"{"changed":true}"#.into()),
        p if p == kv("/same") => (200, r#"{"changed":false}"#.into()),
        p if p == kv("/missing") => (200, "{}".into()),
        p if p == kv("/note") => (200, r#"["water the plants"]"#.into()),
        p if p == kv("/huge") => (200, format!("\"{}\"", "a".repeat(MAX_ANSWER))),
        "/api/v4/channels/direct" => (201, json!({"id": "dm1", "type": "D", "name": "b__u"}).to_string()),
        "/api/v4/posts" => (201, json!({"id": "p1", "channel_id": "dm1", "message": "hi", "hashtags": ""}).to_string()),
        "/api/v4/posts/ephemeral" => (403, json!({"id": "api.context.permissions.app_error", "message": "You do not have the appropriate permissions.", "status_code": 403}).to_string()),
        _ => (404, "404 page not found\n".into()),
    }
}

#[actix_web::test]
async fn kv_uses_the_plugins_prefix_and_key_routes_and_returns_changed() {
    let fake = Fake::start(mattermost).await;
    let client = fake.client();
    assert!(client
        .kv_set("rm", "a b", &json!({"n": 1}))
        .await
        .expect("set"));
    assert!(!client.kv_set("", "same", "x").await.expect("set"));
    assert_eq!(
        client.kv_get::<Vec<String>>("", "note").await.expect("get"),
        Some(vec!["water the plants".to_owned()])
    );
    assert_eq!(
        client.kv_get::<Value>("", "missing").await.expect("get"),
        None
    );
    client.kv_delete("", "note").await.expect("delete");
    let seen = fake.seen();
    let shape: Vec<(&str, &str)> = seen
        .iter()
        .map(|s| (s.method.as_str(), s.path.as_str()))
        .collect();
    let expected = [
        ("POST", plugin("/kv/rm/a%20b")),
        ("POST", plugin("/kv/same")),
        ("GET", plugin("/kv/note")),
        ("GET", plugin("/kv/missing")),
        ("DELETE", plugin("/kv/note")),
    ];
    let expected: Vec<(&str, &str)> = expected.iter().map(|(m, p)| (*m, p.as_str())).collect();
    assert_eq!(shape, expected);
    assert_eq!(seen[0].body, json!({"n": 1}));
    assert!(seen.iter().all(|s| s.authorization == "Bearer t0k3n"));
}

#[actix_web::test]
async fn keys_the_plugin_cannot_address_and_oversized_values_are_refused_unsent() {
    let fake = Fake::start(mattermost).await;
    let client = fake.client();
    let err = client.kv_set("", "a/b", "x").await.expect_err("slash");
    assert!(matches!(err, ClientError::BadKey(_)), "{err}");
    let err = client
        .kv_get::<Value>("abc", "k")
        .await
        .expect_err("long prefix");
    assert!(matches!(err, ClientError::BadKey(_)), "{err}");
    let err = client
        .kv_set("", "k", &"a".repeat(9000))
        .await
        .expect_err("too large");
    assert!(matches!(err, ClientError::TooLarge(_)), "{err}");
    assert!(fake.seen().is_empty());
    let err = client
        .kv_get::<Value>("", "huge")
        .await
        .expect_err("answer cap");
    assert!(matches!(err, ClientError::AnswerTooLarge), "{err}");
}

/// `read_capped` refuses an answer over the limit by its `Content-Length`, and a chunked one
/// (no length) once its chunks pass the limit; an answer of exactly the limit is read whole.
#[actix_web::test]
async fn read_capped_stops_at_the_limit_with_or_without_a_length() {
    let server = HttpServer::new(|| {
        App::new()
            .route("/sized", web::get().to(|| async { "a".repeat(100) }))
            .route(
                "/chunked",
                web::get().to(|| async {
                    let chunks = (0..10)
                        .map(|_| Ok::<_, actix_web::Error>(web::Bytes::from(vec![b'a'; 10])));
                    HttpResponse::Ok().streaming(futures::stream::iter(chunks))
                }),
            )
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .expect("bind");
    let url = format!("http://{}", server.addrs()[0]);
    actix_web::rt::spawn(server.run());
    let http = reqwest::Client::new();
    for path in ["/sized", "/chunked"] {
        let get = || http.get(format!("{url}{path}")).send();
        let response = get().await.expect("answers");
        assert_eq!(response.content_length().is_none(), path == "/chunked");
        let body = read_capped(response, 100).await.expect("at the limit");
        assert_eq!(body.len(), 100, "{path}");
        let over = read_capped(get().await.expect("answers"), 99).await;
        assert!(matches!(over, Err(ReadError::TooLarge)), "{path}: {over:?}");
    }
}

#[actix_web::test]
async fn a_direct_message_opens_the_channel_then_posts_in_it() {
    let fake = Fake::start(mattermost).await;
    let post = fake
        .client()
        .send_direct_message("bot1", "u1", "hi")
        .await
        .expect("dm");
    assert_eq!((post.id.as_str(), post.channel_id.as_str()), ("p1", "dm1"));
    let seen = fake.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        (seen[0].path.as_str(), &seen[0].body),
        ("/api/v4/channels/direct", &json!(["bot1", "u1"]))
    );
    assert_eq!(
        (seen[1].path.as_str(), &seen[1].body),
        (
            "/api/v4/posts",
            &json!({"channel_id": "dm1", "message": "hi"})
        )
    );
}

#[actix_web::test]
async fn mattermosts_refusal_is_its_message_and_answers_the_call() {
    let fake = Fake::start(mattermost).await;
    let mut post = NewPost::new("c1", "psst");
    post.root_id = "p0".into();
    let err = fake
        .client()
        .create_ephemeral_post("u1", &post)
        .await
        .expect_err("403");
    assert!(
        matches!(&err, ClientError::Status { status: 403, message } if message == "You do not have the appropriate permissions."),
        "{err:?}"
    );
    assert_eq!(
        fake.seen()[0].body,
        json!({"user_id": "u1", "post": {"channel_id": "c1", "message": "psst", "root_id": "p0"}})
    );
    let answer = CallResponse::from(CallError::from(err));
    assert_eq!(
        answer,
        CallResponse::error(
            "Mattermost answered 403: You do not have the appropriate permissions."
        )
    );
}

#[actix_web::test]
async fn clients_come_from_the_calls_context() {
    let ctx: Context = serde_json::from_value(json!({
        "mattermost_site_url": "https://chat.example.com",
        "bot_access_token": "b0t"
    }))
    .expect("context");
    let bot = AppsClient::as_bot(reqwest::Client::new(), &ctx).expect("bot");
    assert!(!format!("{bot:?}").contains("b0t"));
    let err = AppsClient::as_acting_user(reqwest::Client::new(), &ctx).expect_err("no user token");
    assert!(matches!(
        err,
        ClientError::NoToken("acting_user_access_token")
    ));
}
