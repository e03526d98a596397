//! The real binary in a child process, with its output captured.

use std::process::Stdio;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::support::util::within;

/// What `main` logs once it serves.
const READY: &str = "listening on port";

pub use mattermost_apps_testkit::util::free_port;

/// `hello-oauth2-rs` running in a child process (killed on drop).
pub struct AppProcess {
    /// The child.
    pub child: Child,
    /// `http://127.0.0.1:<port>`, where it listens.
    pub listen_url: String,
    output: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

impl AppProcess {
    /// Starts the binary on a free port with `APP_ROOT_URL = root_url` (which may be a proxy
    /// in front of it), the given secret and `RUST_LOG`, and waits until it listens.
    pub async fn spawn(root_url: Option<&str>, secret: &str, rust_log: &str) -> Self {
        Self::spawn_with_env(root_url, secret, rust_log, &[]).await
    }

    /// [`AppProcess::spawn`] with more environment variables (set last, so they win).
    pub async fn spawn_with_env(
        root_url: Option<&str>,
        secret: &str,
        rust_log: &str,
        env: &[(&str, &str)],
    ) -> Self {
        let port = free_port();
        let listen_url = format!("http://127.0.0.1:{port}");
        let mut command = Command::new(env!("CARGO_BIN_EXE_hello-oauth2-rs"));
        command
            .env_clear()
            .env("APP_ROOT_URL", root_url.unwrap_or(&listen_url))
            .env("APP_SECRET", secret)
            .env("APP_TOKEN_KEY", crate::support::app::token_key_for(secret))
            .env(
                "APP_SECRET_FILE",
                "/nonexistent/not-used-when-APP_SECRET-is-set",
            )
            .env("RUST_LOG", rust_log);
        Self::start(command, port, env).await
    }

    /// Starts the binary without `APP_SECRET` or `APP_TOKEN_KEY`, keeping its secret in
    /// `secret_file` and its token key in `token-key` beside it.
    pub async fn spawn_with_secret_file(secret_file: &std::path::Path) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_hello-oauth2-rs"));
        command
            .env_clear()
            .env("APP_SECRET_FILE", secret_file)
            .env(
                "APP_TOKEN_KEY_FILE",
                secret_file.with_file_name("token-key"),
            )
            .env("RUST_LOG", "info");
        Self::start(command, free_port(), &[]).await
    }

    /// Starts `command` listening on `port` and waits until it listens.
    async fn start(mut command: Command, port: u16, env: &[(&str, &str)]) -> Self {
        let listen_url = format!("http://127.0.0.1:{port}");
        command
            .env("APP_LISTEN", format!("127.0.0.1:{port}"))
            .env("APP_HTTP_TIMEOUT", "2");
        command.envs(env.iter().copied());
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the binary starts");
        let output = Arc::new(Mutex::new(String::new()));
        let (ready_tx, ready_rx) = oneshot::channel();
        let readers = vec![
            capture(child.stdout.take().expect("stdout"), output.clone(), None),
            capture(
                child.stderr.take().expect("stderr"),
                output.clone(),
                Some(ready_tx),
            ),
        ];
        if within("the app to listen", ready_rx).await.is_err() {
            panic!(
                "the app exited before listening:\n{}",
                output.lock().expect("log")
            );
        }
        Self {
            child,
            listen_url,
            output,
            readers,
        }
    }

    /// Everything it printed so far.
    pub fn output(&self) -> String {
        self.output.lock().expect("log").clone()
    }

    /// Sends SIGTERM (what Kubernetes sends to stop a pod), as `kill -TERM` would.
    pub fn terminate(&self) {
        let pid = self.child.id().expect("the app is still running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM {pid} failed");
    }

    /// Waits for the process to exit by itself; returns its status and everything it
    /// printed.
    pub async fn exited(mut self) -> (std::process::ExitStatus, String) {
        let status = within("the app to exit", self.child.wait())
            .await
            .expect("exit status");
        for reader in self.readers.drain(..) {
            within("the log readers", reader)
                .await
                .expect("reader task");
        }
        let log = self.output.lock().expect("log").clone();
        (status, log)
    }

    /// Stops the process and returns everything it printed.
    pub async fn stop(mut self) -> String {
        self.child.start_kill().expect("stop the app");
        within("the app to exit", self.child.wait())
            .await
            .expect("exit status");
        for reader in self.readers.drain(..) {
            within("the log readers", reader)
                .await
                .expect("reader task");
        }
        let log = self.output.lock().expect("log").clone();
        log
    }
}

/// Copies a child's output into `sink`; fires `ready` on the first line containing [`READY`].
fn capture(
    stream: impl tokio::io::AsyncRead + Unpin + Send + 'static,
    sink: Arc<Mutex<String>>,
    mut ready: Option<oneshot::Sender<()>>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains(READY) {
                if let Some(ready) = ready.take() {
                    let _ = ready.send(());
                }
            }
            let mut sink = sink.lock().expect("log buffer");
            sink.push_str(&line);
            sink.push('\n');
        }
    })
}
