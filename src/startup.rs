//! Building the running app: routes and the HTTP server around the shared state. Used by
//! `main` and by the tests, which spawn the real app on a random port.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use anyhow::Context as _;
use mattermost_apps::jwt::JwtVerifier;

use crate::commands;
use crate::settings::Settings;
use crate::state::AppState;

/// How long, after the server stopped, refreshed tokens not yet stored in Mattermost are
/// still tried before the process exits.
const DRAIN: Duration = Duration::from_secs(5);

/// The app, bound and ready to run.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
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
        let shared = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .app_data(verifier.clone())
                .configure(commands::routes)
        })
        .listen(listener)?
        .run();
        Ok(Self {
            port,
            server,
            state,
        })
    }

    /// The port the app listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the process is stopped, then stores the refreshed tokens still unstored.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.state.refresher.drain(DRAIN).await;
        served
    }
}
