//! The two liveness checks: `/healthz` for the orchestrator (no JWT), `/ping` for the
//! plugin (signed, so the install proves the JWT secret).

use actix_web::http::header::HeaderValue;
use actix_web::{web, HttpResponse};

use mattermost_apps::CallResponse;
use mattermost_apps::Verified;

/// `GET /healthz`.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(HeaderValue::from_static("text/plain"))
        .body("ok")
}

/// `POST /ping`: only with a valid JWT, so a wrong secret fails the install, not later.
pub async fn ping(_call: Verified) -> web::Json<CallResponse> {
    web::Json(CallResponse::default())
}
