//! The real app, spawned in-process on a random port.

use std::time::Duration;

use base64::Engine as _;
use hello_oauth2_rs::seal::KeyRing;
use hello_oauth2_rs::secret::AppSecret;
use hello_oauth2_rs::settings::Settings;
use hello_oauth2_rs::startup::Application;
use tokio::task::JoinHandle;
use url::Url;

use mattermost_apps_testkit::util::random_bytes;

/// The app's outbound timeout in tests: short, so timeout faults are quick.
pub const APP_HTTP_TIMEOUT: Duration = Duration::from_secs(2);

/// A fresh app secret: 48 hex characters.
pub fn new_secret() -> String {
    random_bytes(24)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The token-sealing key ring of the apps started with `secret` (`APP_TOKEN_KEY`'s
/// format): derived from it, so replicas with one secret share their key too, as in a
/// deployment; stories about the key itself set their own.
pub fn token_key_for(secret: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, secret.as_bytes());
    format!(
        "test:{}",
        base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
    )
}

/// A running instance of the app. Dropping it stops the server.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub root_url: String,
    /// The port.
    pub port: u16,
    /// The app secret (the JWT secret typed at install).
    pub secret: String,
    /// The keys it seals tokens and the client secret with.
    pub token_keys: KeyRing,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Dropping the server future stops its workers and closes the listener.
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

impl TestApp {
    /// Spawns the app with `secret` and the test timeout.
    pub async fn spawn(secret: &str) -> Self {
        Self::spawn_with(secret, |_| {}).await
    }

    /// Spawns the app after letting `adjust` change the settings.
    pub async fn spawn_with(secret: &str, adjust: impl FnOnce(&mut Settings)) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the app's port");
        let port = listener.local_addr().expect("local address").port();
        let root_url = format!("http://127.0.0.1:{port}");
        let mut settings = Settings::new(
            Url::parse(&root_url).expect("root URL parses"),
            AppSecret::parse(secret).expect("the test secret is long enough"),
            KeyRing::parse(&token_key_for(secret)).expect("the test key ring parses"),
        );
        settings.http_timeout = APP_HTTP_TIMEOUT;
        adjust(&mut settings);
        let token_keys = settings.token_keys.clone();
        let app = Application::build_with_listener(settings, listener).expect("the app builds");
        // The listener is bound: connections wait in its backlog until the workers run.
        let task = tokio::spawn(app.run_until_stopped());
        Self {
            root_url,
            port,
            secret: secret.to_owned(),
            token_keys,
            task: Some(task),
        }
    }

    /// An instance running elsewhere (e.g. the real binary in a child process).
    pub fn external(root_url: &str, secret: &str) -> Self {
        let port = Url::parse(root_url)
            .ok()
            .and_then(|u| u.port())
            .expect("the root URL has a port");
        Self {
            root_url: root_url.trim_end_matches('/').to_owned(),
            port,
            secret: secret.to_owned(),
            token_keys: KeyRing::parse(&token_key_for(secret)).expect("the test key ring parses"),
            task: None,
        }
    }

    /// `{root_url}/manifest.json`.
    pub fn manifest_url(&self) -> String {
        format!("{}/manifest.json", self.root_url)
    }

    /// `{root_url}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.root_url)
    }
}
