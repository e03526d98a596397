//! The real stack (`scripts/real-mattermost`): Mattermost server 7.7 with the Apps plugin
//! 1.2.2 on a private PostgreSQL, shared by every story in this binary.
//!
//! With `REAL_MM_STACK` set (by `scripts/real-mattermost run -- …`) the stories use that
//! stack. Otherwise the first story starts `scripts/real-mattermost serve` (which builds the
//! server and the plugin when they are not cached) and keeps its stdin open: the script stops
//! everything it started when this test binary exits and that pipe closes. Nothing skips: a
//! stack that cannot be had fails the story with the script's reason.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::{Mutex as AsyncMutex, MutexGuard as AsyncMutexGuard};

/// The longest `serve` may take: a cold build of the server and the plugin included.
const SERVE_TIMEOUT: Duration = Duration::from_secs(45 * 60);

/// A Mattermost user created by the script or a story, logged in.
#[derive(Clone, Deserialize)]
pub struct MmUser {
    /// The user ID.
    pub id: String,
    /// The username.
    pub username: String,
    /// The session token (`Authorization: Bearer …`, or the `MMAUTHTOKEN` cookie).
    pub token: String,
}

impl std::fmt::Debug for MmUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The session token stays out of assertion messages.
        f.debug_struct("MmUser")
            .field("id", &self.id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// The JSON line `scripts/real-mattermost serve` prints.
#[derive(Debug, Deserialize)]
pub struct Stack {
    /// `http://127.0.0.1:<port>`.
    pub site_url: String,
    /// What the server reports, e.g. `7.7.0`.
    pub server_version: String,
    /// `1.2.2`.
    pub plugin_version: String,
    /// The system admin (the first user).
    pub admin: MmUser,
    /// A regular user.
    pub user: MmUser,
    /// The team every story works in.
    pub team_id: String,
    /// A channel of that team, with the admin and the user in it.
    pub channel_id: String,
    /// The server's database.
    pub postgres: Postgres,
}

/// How to reach the server's PostgreSQL database (a private throwaway cluster).
#[derive(Deserialize)]
pub struct Postgres {
    /// The `psql` of the cluster's PostgreSQL.
    pub psql: String,
    /// `127.0.0.1`.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// The database user.
    pub user: String,
    /// Its password.
    pub password: String,
    /// The database.
    pub database: String,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

/// The script's child process, kept for the life of the test binary.
struct Serving {
    _child: Child,
    _stdin: ChildStdin,
}

static SERVING: Mutex<Option<Serving>> = Mutex::new(None);

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/real-mattermost")
}

/// The stack, started on first use.
pub fn stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| match std::env::var("REAL_MM_STACK") {
        Ok(line) => serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("REAL_MM_STACK is not the script's JSON line: {e}")),
        Err(_) => serve(),
    })
}

fn serve() -> Stack {
    let mut child = Command::new(script())
        .arg("serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        // Its progress and errors go straight to the terminal.
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start scripts/real-mattermost serve: {e}"));
    let stdin = child.stdin.take().expect("the script's stdin is piped");
    let stdout = child.stdout.take().expect("the script's stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line).map(|_| line);
        let _ = tx.send(read);
    });
    let line = match rx.recv_timeout(SERVE_TIMEOUT) {
        Ok(Ok(line)) if !line.trim().is_empty() => line,
        other => {
            let _ = child.kill();
            let status = child.wait();
            panic!(
                "scripts/real-mattermost serve gave no stack ({}; exit {status:?}): its \
                 messages above say why (Go, the module proxy and PostgreSQL are required)",
                match other {
                    Err(_) => format!("nothing within {SERVE_TIMEOUT:?}"),
                    Ok(Err(e)) => format!("reading its stdout failed: {e}"),
                    Ok(Ok(_)) => "it closed its stdout".to_owned(),
                }
            )
        }
    };
    let stack: Stack = serde_json::from_str(line.trim())
        .unwrap_or_else(|e| panic!("the script's line is not the stack's JSON: {e}"));
    let mut serving = SERVING.lock().unwrap_or_else(|p| p.into_inner());
    *serving = Some(Serving {
        _child: child,
        _stdin: stdin,
    });
    stack
}

/// One story at a time: the server hosts one install of the app, which each story makes
/// anew. Hold the guard for the whole story.
pub async fn exclusive() -> AsyncMutexGuard<'static, ()> {
    static ONE: AsyncMutex<()> = AsyncMutex::const_new(());
    ONE.lock().await
}
