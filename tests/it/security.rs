//! The app's transport rules: every bad JWT is a 401 with no side effect, bad bodies are
//! 400/413, and missing context pieces are clear errors, never a 5xx.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::support::app::new_secret;
use crate::support::util::within;
use crate::support::world::{expect_error, World};

/// A configure submission by sam with everything needed to store the client: if the app
/// accepted it, the emulator would see a POST /oauth2/app.
fn configure_request(w: &World) -> Value {
    let call = json!({"path": "/configure", "expand": {
        "acting_user": "+summary", "acting_user_access_token": "+all", "oauth2_app": "all"
    }});
    let values = json!({"provider": {"label": "Google", "value": "google"}, "client_id": "x", "client_secret": "y"});
    w.mm.build_request(Some(&w.sam), &call, values)
}

fn jwt(alg: Algorithm, secret: &str, exp_offset: i64, user: Option<&str>) -> String {
    let mut claims = json!({"exp": chrono::Utc::now().timestamp() + exp_offset});
    if let Some(user) = user {
        claims["acting_user_id"] = json!(user);
    }
    jsonwebtoken::encode(
        &Header::new(alg),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("signs")
}

fn unsigned_jwt(user: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(
        json!({"exp": chrono::Utc::now().timestamp() + 900, "acting_user_id": user}).to_string(),
    );
    format!("{header}.{claims}.")
}

async fn post(url: &str, auth: Option<String>, body: Vec<u8>) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("Content-Type", "application/json")
        .body(body);
    if let Some(auth) = auth {
        request = request.header("Mattermost-App-Authorization", auth);
    }
    within("the app", async {
        let response = request.send().await.expect("the app answers");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    })
    .await
}

#[tokio::test]
async fn every_bad_jwt_is_refused_with_401_and_no_side_effect() {
    let w = World::new().await;
    w.mm.clear_records();
    let request = configure_request(&w);
    let body = request.to_string().into_bytes();
    let url = w.app.url("/configure");
    let secret = &w.app.secret;
    let sam = Some(w.sam.id.as_str());
    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing header", None),
        (
            "not Bearer",
            Some(format!("Basic {}", jwt(Algorithm::HS256, secret, 900, sam))),
        ),
        ("garbled", Some("Bearer not-a-jwt".into())),
        (
            "truncated",
            Some(format!(
                "Bearer {}",
                &jwt(Algorithm::HS256, secret, 900, sam)[..40]
            )),
        ),
        (
            "expired",
            Some(format!(
                "Bearer {}",
                jwt(Algorithm::HS256, secret, -300, sam)
            )),
        ),
        (
            "wrong secret",
            Some(format!(
                "Bearer {}",
                jwt(Algorithm::HS256, &new_secret(), 900, sam)
            )),
        ),
        (
            "HS512",
            Some(format!(
                "Bearer {}",
                jwt(Algorithm::HS512, secret, 900, sam)
            )),
        ),
        (
            "alg none",
            Some(format!("Bearer {}", unsigned_jwt(&w.sam.id))),
        ),
        (
            "another user",
            Some(format!(
                "Bearer {}",
                jwt(Algorithm::HS256, secret, 900, Some(&w.alice.id))
            )),
        ),
        (
            "no user claim",
            Some(format!(
                "Bearer {}",
                jwt(Algorithm::HS256, secret, 900, None)
            )),
        ),
    ];
    for (case, auth) in cases {
        let (status, text) = post(&url, auth, body.clone()).await;
        assert_eq!(status, 401, "{case}: {text}");
        assert!(!text.contains(secret.as_str()), "{case}");
    }
    assert!(w.mm.rest_calls().is_empty(), "{:?}", w.mm.rest_calls());
    assert!(w.stored_oauth2_app().is_none());
    // The same request, signed properly, does store: the refusals above were the JWT's.
    let good = Some(format!("Bearer {}", w.mm.jwt_for(&request)));
    let (status, text) = post(&url, good, body).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(w.mm.rest_calls_to("POST", "/oauth2/app").len(), 1);
}

#[tokio::test]
async fn malformed_json_is_a_400_whose_body_is_an_error_call_response() {
    let w = World::new().await;
    let auth = Some(format!(
        "Bearer {}",
        jwt(Algorithm::HS256, &w.app.secret, 900, None)
    ));
    for body in [&b"{not json"[..], b"", b"[1,2,3]", b"{\"context\": 5}"] {
        let (status, text) = post(&w.app.url("/help"), auth.clone(), body.to_vec()).await;
        assert_eq!(status, 400, "{text}");
        let response: Value = serde_json::from_str(&text).expect("the body is JSON");
        expect_error(&response);
    }
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_a_413() {
    let w = World::new().await;
    w.mm.clear_records();
    let mut request = configure_request(&w);
    request["values"]["padding"] = json!("x".repeat(1 << 20));
    let auth = Some(format!("Bearer {}", w.mm.jwt_for(&request)));
    let (status, _) = post(
        &w.app.url("/configure"),
        auth,
        request.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, 413);
    assert!(w.mm.rest_calls().is_empty());
}

/// Sends `body` with `Transfer-Encoding: chunked` in pieces of `piece` bytes, each written
/// and flushed on its own, and returns the status and the body of the answer.
async fn post_chunked(
    port: u16,
    path: &str,
    auth: &str,
    body: &[u8],
    piece: usize,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    within("the app", async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connects");
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Mattermost-App-Authorization: {auth}\r\nTransfer-Encoding: chunked\r\n\
             Connection: close\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.expect("writes");
        for chunk in body.chunks(piece) {
            let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
            framed.extend_from_slice(chunk);
            framed.extend_from_slice(b"\r\n");
            // The app may answer 413 and close before the rest is sent.
            if stream.write_all(&framed).await.is_err() || stream.flush().await.is_err() {
                break;
            }
        }
        // Ignored for the same reason: the answer may already be on its way.
        let _ = stream.write_all(b"0\r\n\r\n").await;
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let status = answer
            .get(9..12)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
        let body = answer
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_owned();
        (status, body)
    })
    .await
}

#[tokio::test]
async fn a_body_in_many_chunks_is_read_whole_and_one_over_the_cap_is_a_413() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    w.mm.clear_records();
    let call = json!({"path": "/help", "expand": {"acting_user": "summary"}});
    let request = w.mm.build_request(Some(&w.alice), &call, json!({}));
    let auth = format!("Bearer {}", w.mm.jwt_for(&request));
    let body = request.to_string().into_bytes();
    let (status, text) = post_chunked(w.app.port, "/help", &auth, &body, 100).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("\"type\":\"ok\""), "{text}");

    // No Content-Length to refuse early: the cap holds as the chunks come in.
    let mut request = configure_request(&w);
    request["values"]["padding"] = json!("x".repeat(1 << 20));
    let auth = format!("Bearer {}", w.mm.jwt_for(&request));
    let body = request.to_string().into_bytes();
    let (status, _) = post_chunked(w.app.port, "/configure", &auth, &body, 64 << 10).await;
    assert_eq!(status, 413);
    assert!(w.mm.rest_calls().is_empty());
}

#[tokio::test]
async fn missing_context_pieces_are_clear_errors_never_5xx() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    w.connect(&w.alice).await;
    w.mm.clear_records();
    let cases = [
        // (call, what the error must mention); a missing context part is the
        // installation's problem, which the user cannot fix.
        (
            json!({"path": "/disconnect", "expand": {"acting_user": "id", "oauth2_app": "all", "oauth2_user": "all"}}),
            "Ask a system admin to check the app's installation",
        ),
        (json!({"path": "/connect", "expand": {}}), "configure"),
        (
            json!({"path": "/info", "expand": {"acting_user": "id", "acting_user_access_token": "all", "oauth2_app": "all"}}),
            "not connected",
        ),
        (
            json!({"path": "/info", "expand": {"acting_user": "id", "oauth2_user": "all"}}),
            "configure",
        ),
        (
            json!({"path": "/configure"}),
            "Ask a system admin to check the app's installation",
        ),
    ];
    for (call, mention) in cases {
        let response = w.mm.call(&w.alice, call.clone(), json!({})).await;
        let text = expect_error(&response);
        assert!(text.contains(mention), "{call}: {text}");
    }
    // on_oauth2_complete without the token to store with: nothing is exchanged.
    let complete =
        json!({"path": "/oauth2/complete", "expand": {"acting_user": "id", "oauth2_app": "all"}});
    let state = format!("abc.{}", w.alice.id);
    let request = w.mm.build_request(
        Some(&w.alice),
        &complete,
        json!({"code": "c", "state": state}),
    );
    let (status, body) = within("complete", w.mm.post_to(&w.app.root_url, &request)).await;
    assert_eq!(status, 200);
    let text = expect_error(&serde_json::from_str(&body).expect("JSON"));
    assert!(text.contains("Ask a system admin"), "{text}");
    assert_eq!(
        w.provider.counts().token,
        1,
        "only the first connection's exchange"
    );
    for call in w.mm.calls() {
        assert_eq!(call.status, Some(200), "{}", call.path);
    }
    assert!(w.mm.rest_calls().is_empty(), "{:?}", w.mm.rest_calls());
}

#[tokio::test]
async fn a_complete_call_naming_another_user_is_refused() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    let complete = json!({"path": "/oauth2/complete", "expand": {
        "acting_user": "id", "acting_user_access_token": "all", "oauth2_app": "all"
    }});
    let state = format!("abc.{}", w.bob.id);
    let request = w.mm.build_request(
        Some(&w.alice),
        &complete,
        json!({"code": "c", "state": state}),
    );
    let (status, body) = within("complete", w.mm.post_to(&w.app.root_url, &request)).await;
    assert_eq!(status, 200);
    let text = expect_error(&serde_json::from_str(&body).expect("JSON"));
    assert!(text.contains("another user"), "{text}");
    assert_eq!(w.provider.counts().token, 0);
    assert!(w.stored_token(&w.alice).is_none());
}
