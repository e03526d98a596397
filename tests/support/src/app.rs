//! The real app, spawned in-process on a random port.

use std::time::Duration;

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

/// A running instance of the app. Dropping it stops the server.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub root_url: String,
    /// The port.
    pub port: u16,
    /// The app secret (the JWT secret typed at install).
    pub secret: String,
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
        );
        settings.http_timeout = APP_HTTP_TIMEOUT;
        adjust(&mut settings);
        let app = Application::build_with_listener(settings, listener).expect("the app builds");
        // The listener is bound: connections wait in its backlog until the workers run.
        let task = tokio::spawn(app.run_until_stopped());
        Self {
            root_url,
            port,
            secret: secret.to_owned(),
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
