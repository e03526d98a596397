//! Building the running app: routes and the HTTP server around the shared state. Used by
//! `main` and by the tests, which spawn the real app on a random port.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use anyhow::Context as _;
use mattermost_apps::jwt::JwtVerifier;

use crate::commands;
use crate::settings::Settings;
use crate::state::AppState;

/// The app, bound and ready to run.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds `settings.listen` and builds the server.
    pub fn build(settings: Settings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.listen)
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        Self::build_with_listener(settings, listener)
    }

    /// Builds the server on an already bound listener (tests bind port 0 first).
    pub fn build_with_listener(settings: Settings, listener: TcpListener) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let state = web::Data::new(AppState::new(&settings)?);
        let verifier = web::Data::new(JwtVerifier::new(settings.secret.expose_secret().as_bytes()));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(verifier.clone())
                .configure(commands::routes)
        })
        .listen(listener)?
        .run();
        Ok(Self { port, server })
    }

    /// The port the app listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the process is stopped.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
