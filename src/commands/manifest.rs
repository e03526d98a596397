//! What the plugin downloads when it installs the app: the manifest and the static icon.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpResponse};

use crate::names::ICON;
use crate::state::AppState;

/// The app's icon (a 128×128 PNG).
const ICON_PNG: &[u8] = include_bytes!("../../static/icon.png");

/// `GET /manifest.json`.
pub async fn manifest(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(HeaderValue::from_static("application/json"))
        .body(state.manifest.clone())
}

/// `GET /static/{name}`: fetched by the plugin without a JWT.
pub async fn static_asset(name: web::Path<String>) -> HttpResponse {
    match name.as_str() {
        ICON => HttpResponse::Ok()
            .content_type(HeaderValue::from_static("image/png"))
            .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
            .body(ICON_PNG),
        _ => HttpResponse::NotFound().finish(),
    }
}
