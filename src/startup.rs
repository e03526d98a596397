//! Building the running app: shared state, routes, the HTTP server. Used by `main` and by
//! the tests, which spawn the real app on a random port.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use anyhow::Context as _;

use crate::commands;
use crate::oauth::{PkceKey, Refresher};
use crate::settings::Settings;
use mattermost_apps::jwt::JwtVerifier;
use mattermost_apps::manifest::{HttpDeploy, Manifest};

/// The manifest template, from the top-level `manifest.json`.
const MANIFEST: &str = include_str!("../manifest.json");

/// State shared by every handler; built once at startup.
pub struct AppState {
    /// The one HTTP client for Mattermost and the provider (pooled, timeouts, no redirects).
    pub http: reqwest::Client,
    /// Derives PKCE verifiers from the OAuth2 state.
    pub pkce: PkceKey,
    /// One refresh per user at a time.
    pub refresher: Refresher,
    /// `MATTERMOST_SITE_URL`, trailing `/` trimmed.
    pub site_url_override: Option<String>,
    /// The manifest served at `/manifest.json`, serialised once.
    pub manifest: web::Bytes,
}

impl AppState {
    /// Builds the state from the settings.
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(settings.http_timeout.min(std::time::Duration::from_secs(5)))
            .timeout(settings.http_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("hello-oauth2-rs/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Self {
            http,
            pkce: PkceKey::derive(&settings.secret),
            refresher: Refresher::default(),
            site_url_override: settings
                .mattermost_site_url
                .as_ref()
                .map(|u| u.as_str().trim_end_matches('/').to_owned()),
            manifest: manifest_json(settings)?.into(),
        })
    }
}

/// The manifest with `http.root_url` and `use_jwt` filled in from the settings, checked
/// with the plugin's rules.
pub fn manifest_json(settings: &Settings) -> anyhow::Result<Vec<u8>> {
    let mut manifest: Manifest =
        serde_json::from_str(MANIFEST).context("manifest.json is not a manifest")?;
    manifest.http = Some(HttpDeploy {
        root_url: settings.root_url_str().to_owned(),
        use_jwt: true,
    });
    manifest
        .validate()
        .map_err(|problems| anyhow::anyhow!("the manifest is invalid: {}", problems.join("; ")))?;
    Ok(serde_json::to_vec(&manifest)?)
}

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
