//! A small Mattermost App on `mattermost-apps`: `/hello-rs ping`, a form, and
//! `remember <text>` / `recall` on the Apps KV store.
//!
//! ```sh
//! APP_SECRET=$(openssl rand -hex 32) cargo run --example hello -p mattermost-apps
//! ```
//!
//! Then, as a system admin in Mattermost: `/apps install http http://localhost:4100/manifest.json`
//! and paste `APP_SECRET` as the Outgoing JWT Secret. `APP_LISTEN` (default
//! `127.0.0.1:4100`) and `APP_ROOT_URL` (default `http://localhost:4100`, the URL
//! Mattermost reaches the app at) change where it runs.

mod app;

use mattermost_apps::actix_web::{rt, web, App, HttpServer};
use mattermost_apps::{reqwest, JwtVerifier};

fn main() -> std::io::Result<()> {
    let secret = std::env::var("APP_SECRET").unwrap_or_default();
    if secret.len() < 32 {
        return Err(std::io::Error::other(
            "set APP_SECRET to the app's JWT secret, at least 32 bytes",
        ));
    }
    let listen = std::env::var("APP_LISTEN").unwrap_or_else(|_| "127.0.0.1:4100".into());
    let root_url = std::env::var("APP_ROOT_URL").unwrap_or_else(|_| "http://localhost:4100".into());
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(std::io::Error::other)?;
    let hello = web::Data::new(app::Hello { http, root_url });
    let verifier = web::Data::new(JwtVerifier::new(secret.as_bytes()));
    println!(
        "listening on {listen}; install with /apps install http {}/manifest.json",
        hello.root_url
    );
    rt::System::new().block_on(
        HttpServer::new(move || {
            App::new()
                .app_data(verifier.clone())
                .app_data(hello.clone())
                .configure(app::routes)
        })
        .bind(listen)?
        .run(),
    )
}
