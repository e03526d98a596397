//! [`AppState`]: what every handler shares, built once from the settings.

use actix_web::web;
use anyhow::Context as _;
use mattermost_apps::manifest::{HttpDeploy, Manifest};

use crate::oauth::lock::Locks;
use crate::oauth::{PkceKey, Refresher};
use crate::settings::Settings;
use mattermost_apps::secret::ExposeSecret;

/// The manifest template, from the top-level `manifest.json`.
const MANIFEST: &str = include_str!("../manifest.json");

/// State shared by every handler; built once at startup.
pub struct AppState {
    /// The one HTTP client for Mattermost and the provider (pooled, timeouts, no redirects).
    pub http: reqwest::Client,
    /// Derives PKCE verifiers from the OAuth2 state.
    pub pkce: PkceKey,
    /// Refreshes: one per user at a time, across replicas with Redis.
    pub refresher: Refresher,
    /// The most a call may take before it answers "the provider is slow".
    pub call_deadline: std::time::Duration,
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
        let locks = match &settings.redis_url {
            // A crashed holder blocks its user's refresh this long: longer than a holder
            // can take (a refresh, two reads and stores retried until the call's deadline).
            Some(url) => Locks::redis(
                url.expose_secret(),
                settings.call_deadline + 5 * settings.http_timeout,
            )
            .context("--redis-url / APP_REDIS_URL is not a Redis URL")?,
            None => Locks::local(),
        };
        Ok(Self {
            http,
            pkce: PkceKey::derive(&settings.secret),
            refresher: Refresher::new(locks),
            call_deadline: settings.call_deadline,
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
