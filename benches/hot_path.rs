//! Micro-benchmarks of the `POST /bindings` hot path, one stage at a time: the JWT check,
//! parsing the CallRequest, and building the response; then the whole request through the
//! app's routes in process (no sockets), next to `GET /healthz` as the floor. `scripts/bench`
//! measures the same over HTTP; these say where the time inside goes, and are steadier.
//!
//! Run with `cargo bench --bench hot_path`; the body is `benches/fixtures/
//! call-request-bindings.json` (~3 KB: the acting user at `summary`, a Microsoft-sized
//! OAuth2 token), the same one `scripts/bench` sends.

use std::hint::black_box;

use actix_web::{test, web, App};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hello_oauth2_rs::commands::{self, bindings_for, BindingsContext};
use jsonwebtoken::{encode, EncodingKey, Header};
use mattermost_apps::jwt::{Claims, JwtVerifier};
use mattermost_apps::{CallRequest, CallResponse, Context};

const BODY: &str = include_str!("fixtures/call-request-bindings.json");
const SECRET: &[u8] = b"bench-secret-0123456789abcdef-0123456789";
const USER: &str = "zc57bxygzewsx75bdghmbntd41";

fn bearer() -> String {
    let claims = Claims {
        // Far in the future, so a long run never sees it expire.
        exp: 4_102_444_800,
        acting_user_id: Some(USER.to_owned()),
    };
    let token = encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(SECRET),
    )
    .expect("sign");
    format!("Bearer {token}")
}

fn jwt(c: &mut Criterion) {
    let verifier = JwtVerifier::new(SECRET);
    let header = bearer();
    c.bench_function("jwt/verify_header", |b| {
        b.iter(|| verifier.verify_header(black_box(Some(header.as_str()))))
    });
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(BODY.len() as u64));
    group.bench_function("full_context", |b| {
        b.iter(|| serde_json::from_slice::<CallRequest<Context>>(black_box(BODY.as_bytes())))
    });
    // What the bindings handler reads: the acting user's roles and the stored token.
    group.bench_function("bindings_context", |b| {
        b.iter(|| {
            serde_json::from_slice::<CallRequest<BindingsContext>>(black_box(BODY.as_bytes()))
        })
    });
    group.finish();
}

/// What the handler does after parsing: build the bindings for the facts, serialise them.
fn respond(c: &mut Criterion) {
    let request: CallRequest<BindingsContext> = serde_json::from_str(BODY).expect("fixture parses");
    c.bench_function("respond/build_and_serialise", |b| {
        b.iter(|| {
            let bindings = bindings_for(black_box(request.context.user_facts()));
            let data = serde_json::to_value(bindings).expect("to value");
            serde_json::to_vec(&CallResponse::data(data)).expect("to vec")
        })
    });
}

/// One request through the app's routes and extractors, as actix-web runs it, minus HTTP
/// parsing and the socket.
fn handler(c: &mut Criterion) {
    let system = actix_web::rt::System::new();
    let app = system.block_on(test::init_service(
        App::new()
            .app_data(web::Data::new(JwtVerifier::new(SECRET)))
            .configure(commands::routes),
    ));
    let header = bearer();
    let body = web::Bytes::from_static(BODY.as_bytes());
    let mut group = c.benchmark_group("handler");
    group.bench_function("bindings", |b| {
        b.iter(|| {
            let request = test::TestRequest::post()
                .uri("/bindings")
                .insert_header(("Content-Type", "application/json"))
                .insert_header(("Mattermost-App-Authorization", header.as_str()))
                .set_payload(body.clone())
                .to_request();
            let response = system.block_on(test::call_service(&app, request));
            assert!(response.status().is_success());
            response
        })
    });
    group.bench_function("healthz", |b| {
        b.iter(|| {
            let request = test::TestRequest::get().uri("/healthz").to_request();
            let response = system.block_on(test::call_service(&app, request));
            assert!(response.status().is_success());
            response
        })
    });
    group.finish();
}

criterion_group!(benches, jwt, parse, respond, handler);
criterion_main!(benches);
