//! `Verified`, the one way in for calls: a call reaches the handler only with a valid JWT,
//! a body under the cap that parses, and the token's user equal to the context's.

use actix_web::{test, web, App, HttpResponse};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use mattermost_apps::actix::MAX_CALL_BODY;
use mattermost_apps::jwt::HEADER;
use mattermost_apps::{CallError, CallResponse, Claims, JwtVerifier, Verified};

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
    let token = encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET),
    )
    .expect("sign");
    format!("Bearer {token}")
}

async fn echo(call: Verified) -> HttpResponse {
    HttpResponse::Ok().body(call.path.clone())
}

/// POSTs `body` to the test app and returns the status and body.
async fn post(authorization: Option<String>, body: impl Into<web::Bytes>) -> (u16, String) {
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(JwtVerifier::new(SECRET)))
            .route("/call", web::post().to(echo)),
    )
    .await;
    let mut request = test::TestRequest::post().uri("/call");
    if let Some(value) = authorization {
        request = request.insert_header((HEADER, value));
    }
    let response = test::call_service(&app, request.set_payload(body.into()).to_request()).await;
    let status = response.status().as_u16();
    let body = test::read_body(response).await;
    (status, String::from_utf8_lossy(&body).into_owned())
}

const CALL: &str = r#"{"path": "/hello", "context": {"acting_user": {"id": "u1"}}}"#;

#[actix_web::test]
async fn a_verified_call_reaches_the_handler() {
    assert_eq!(
        post(Some(bearer(Some("u1"))), CALL).await,
        (200, "/hello".into())
    );
}

#[actix_web::test]
async fn a_call_without_a_valid_token_is_401() {
    let (status, text) = post(None, CALL).await;
    assert_eq!(status, 401, "{text}");
    let (status, _) = post(Some("Bearer not.a.jwt".into()), CALL).await;
    assert_eq!(status, 401);
}

#[actix_web::test]
async fn a_token_for_another_user_is_401() {
    let (status, text) = post(Some(bearer(Some("u2"))), CALL).await;
    assert_eq!(status, 401);
    assert!(text.contains("acting_user_id"), "{text}");
    // A context with a user and a token without one is a forgery too.
    assert_eq!(post(Some(bearer(None)), CALL).await.0, 401);
}

#[actix_web::test]
async fn a_malformed_body_is_400_with_an_error_call_response() {
    let (status, text) = post(Some(bearer(None)), r#"{"path": 12"#).await;
    assert_eq!(status, 400);
    let response: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(response["type"], "error", "{text}");
}

#[actix_web::test]
async fn a_body_over_the_cap_is_413() {
    let body = format!(
        r#"{{"path": "/x", "query": "{}"}}"#,
        "a".repeat(MAX_CALL_BODY)
    );
    assert_eq!(post(Some(bearer(None)), body).await.0, 413);
}

/// Answers with `?` on a bad number, an early error response, or text.
async fn remind(call: Verified) -> Result<CallResponse, CallError> {
    let minutes = call
        .value_parse::<u32>("minutes")?
        .ok_or_else(|| CallResponse::error("How many minutes?"))?;
    Ok(CallResponse::ok(format!("In {minutes} minutes.")))
}

/// POSTs `values` to `remind` and returns the status and the JSON answer.
async fn call_remind(values: serde_json::Value) -> (u16, serde_json::Value) {
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(JwtVerifier::new(SECRET)))
            .route("/remind", web::post().to(remind)),
    )
    .await;
    let request = test::TestRequest::post()
        .uri("/remind")
        .insert_header((HEADER, bearer(None)))
        .set_json(serde_json::json!({"path": "/remind", "values": values}))
        .to_request();
    let response = test::call_service(&app, request).await;
    let status = response.status().as_u16();
    (status, test::read_body_json(response).await)
}

#[actix_web::test]
async fn handlers_answer_call_responses_and_errors_with_200_json() {
    assert_eq!(
        call_remind(serde_json::json!({"minutes": "5"})).await,
        (
            200,
            serde_json::json!({"type": "ok", "text": "In 5 minutes."})
        )
    );
    assert_eq!(
        call_remind(serde_json::json!({})).await,
        (
            200,
            serde_json::json!({"type": "error", "text": "How many minutes?"})
        )
    );
    assert_eq!(
        call_remind(serde_json::json!({"minutes": "soon"})).await,
        (
            200,
            serde_json::json!({
                "type": "error",
                "text": "minutes: `soon` is not a valid value",
                "data": {"errors": {"minutes": "`soon` is not a valid value"}}
            })
        )
    );
}
