//! The real third-party parts in `tests/e2e/` (see its README for each tool's contract),
//! run as child processes: oidc-provider ([`OidcServer`]), headless Chromium
//! ([`browser_walk`]) and the webapp's validators and types ([`run_tool`] with
//! `validate.mjs` / `typecheck.mjs`).
//!
//! Nothing here skips: a missing `node`, `node_modules` or Chromium fails the test with a
//! message saying to run `tests/e2e/setup.sh`. Every wait is bounded, and the CPU-heavy
//! tools (Chromium, tsc) run one at a time across the whole test binary ([`tool_slot`]).

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{Mutex as AsyncMutex, MutexGuard as AsyncMutexGuard};
use tokio::task::JoinHandle;

use mattermost_apps_testkit::util::{random_token, within};

/// What to tell whoever runs the tests when the tooling is missing.
pub const SETUP_HINT: &str = "run `bash tests/e2e/setup.sh` (Node >= 20.18, npm, Chromium)";

/// The walk's own deadline, Chromium start-up included: a walk takes 2 to 5 s idle and
/// took over 20 s beside 8 CPU hogs.
pub const WALK_DEADLINE_MS: &str = "45000";

/// The longest a browser walk may take (the script stops itself 10 s after its deadline).
pub const WALK_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest `validate.mjs` or `typecheck.mjs` may take.
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest oidc-server.mjs may take to announce its endpoints: loading oidc-provider
/// and making a key took over 30 s on a loaded 2-core machine (a hang still fails).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// `tests/e2e/` in this checkout (this crate is `tests/support/`).
pub fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/support has a parent")
        .join("e2e")
}

/// `tests/e2e/artifacts/` (git-ignored): screenshots and other test artifacts.
pub fn artifacts_dir() -> PathBuf {
    e2e_dir().join("artifacts")
}

/// Panics with [`SETUP_HINT`] unless `tests/e2e/node_modules` is installed and matches
/// `package-lock.json` (setup.sh's stamp: the lockfile's SHA-256).
pub fn require_node_modules() {
    let modules = e2e_dir().join("node_modules");
    assert!(
        modules.is_dir(),
        "tests/e2e/node_modules is missing ({}): {SETUP_HINT}",
        modules.display()
    );
    let stamp = std::fs::read_to_string(modules.join(".e2e-lock.sha256")).unwrap_or_default();
    let lockfile = std::fs::read(e2e_dir().join("package-lock.json"))
        .expect("tests/e2e/package-lock.json is readable");
    let want: String = ring::digest::digest(&ring::digest::SHA256, &lockfile)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        stamp.trim(),
        want,
        "tests/e2e/node_modules was not installed from the current package-lock.json: {SETUP_HINT}"
    );
}

/// One CPU-heavy Node tool (Chromium, the TypeScript compiler) at a time in this test
/// binary: the machine has two cores. Hold the guard while the tool runs.
pub async fn tool_slot() -> AsyncMutexGuard<'static, ()> {
    static SLOT: AsyncMutex<()> = AsyncMutex::const_new(());
    // A queue: several tools may be ahead, each bounded by its own timeout.
    match tokio::time::timeout(4 * TOOL_TIMEOUT, SLOT.lock()).await {
        Ok(guard) => guard,
        Err(_) => panic!("no free slot for a Node tool within {:?}", 4 * TOOL_TIMEOUT),
    }
}

/// `node <script> <args>` in `tests/e2e/`, not yet spawned; stdin closed, output piped.
fn node(script: &str, args: &[&str]) -> Command {
    let mut command = Command::new("node");
    command
        .arg(e2e_dir().join(script))
        .args(args)
        .current_dir(e2e_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

fn spawn_node(mut command: Command, script: &str) -> Child {
    command.spawn().unwrap_or_else(|e| {
        panic!("could not start `node {script}`: {e}; is Node installed? {SETUP_HINT}")
    })
}

/// A finished Node tool.
#[derive(Debug)]
pub struct ToolOutput {
    /// Its exit status.
    pub status: ExitStatus,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
}

impl ToolOutput {
    /// The single JSON line the tools print on stdout.
    pub fn json(&self, what: &str) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "{what} printed no JSON line ({e}); exit {}\nstdout: {}\nstderr: {}",
                self.status, self.stdout, self.stderr
            )
        })
    }
}

/// Runs `node tests/e2e/<script> <args>` to completion within `timeout` (killed after).
pub async fn run_tool(script: &str, args: &[&str], timeout: Duration) -> ToolOutput {
    let child = spawn_node(node(script, args), script);
    let output = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(output) => output.unwrap_or_else(|e| panic!("waiting for `node {script}`: {e}")),
        // Dropping the future drops the child, which kills it.
        Err(_) => panic!("`node {script}` did not finish within {timeout:?}"),
    };
    ToolOutput {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

// ----- oidc-provider -----

/// The endpoints `oidc-server.mjs` announces on its one stdout line.
#[derive(Debug, Clone)]
pub struct OidcEndpoints {
    /// `http://127.0.0.1:<port>`.
    pub issuer: String,
    /// `…/auth`.
    pub authorization_endpoint: String,
    /// `…/token`.
    pub token_endpoint: String,
    /// `…/me`.
    pub userinfo_endpoint: String,
    /// `…/token/revocation`.
    pub revocation_endpoint: String,
    /// `…/token/introspection`.
    pub introspection_endpoint: String,
}

/// A real OpenID Connect provider (panva/oidc-provider) in a child process, with one
/// client. It lives as long as this value: its stdin is held open, and the child is killed
/// on drop.
pub struct OidcServer {
    /// Where it listens.
    pub endpoints: OidcEndpoints,
    /// The registered client.
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
    log: Arc<Mutex<Vec<String>>>,
    _stderr_reader: JoinHandle<()>,
    // The server exits when its stdin closes: keep it open until the child is killed.
    _stdin: ChildStdin,
    _child: Child,
}

impl OidcServer {
    /// Starts `oidc-server.mjs` on a free port with one client whose only redirect URI is
    /// `redirect_uri`, and waits (bounded) for its ready line.
    pub async fn start(redirect_uri: &str, access_token_ttl: Duration) -> Self {
        require_node_modules();
        let client_id = random_token("oidc-client-", 9);
        let client_secret = random_token("oidc-secret-", 24);
        let mut command = node("oidc-server.mjs", &[]);
        command
            .stdin(Stdio::piped())
            .env("OIDC_PORT", "0")
            .env("OIDC_CLIENT_ID", &client_id)
            .env("OIDC_CLIENT_SECRET", &client_secret)
            .env("OIDC_REDIRECT_URI", redirect_uri)
            .env(
                "OIDC_ACCESS_TOKEN_TTL",
                access_token_ttl.as_secs().max(1).to_string(),
            );
        let mut child = spawn_node(command, "oidc-server.mjs");
        let stdin = child.stdin.take().expect("oidc-server's stdin is piped");
        let stdout = child.stdout.take().expect("oidc-server's stdout is piped");
        let stderr = child.stderr.take().expect("oidc-server's stderr is piped");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr_reader = {
            let log = log.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    lock(&log).push(line);
                }
            })
        };
        let mut line = String::new();
        let read =
            tokio::time::timeout(START_TIMEOUT, BufReader::new(stdout).read_line(&mut line)).await;
        let ready = matches!(read, Ok(Ok(n)) if n > 0);
        if !ready {
            // Give the log reader a moment to drain what the server said before it died.
            let exit = tokio::time::timeout(Duration::from_secs(3), child.wait()).await;
            let _ = tokio::time::timeout(Duration::from_secs(1), stderr_reader).await;
            panic!(
                "oidc-server.mjs did not announce its endpoints ({}; exit: {exit:?}); {SETUP_HINT}\n\
                 its stderr:\n{}",
                match read {
                    Err(_) => format!("no line within {START_TIMEOUT:?}"),
                    Ok(Ok(_)) => "stdout closed".to_owned(),
                    Ok(Err(e)) => format!("reading stdout failed: {e}"),
                },
                lock(&log).join("\n")
            );
        }
        let doc: Value = serde_json::from_str(line.trim())
            .unwrap_or_else(|e| panic!("oidc-server's ready line is not JSON ({e}): {line}"));
        let endpoint = |key: &str| {
            doc[key]
                .as_str()
                .unwrap_or_else(|| panic!("oidc-server's ready line lacks {key}: {line}"))
                .to_owned()
        };
        let endpoints = OidcEndpoints {
            issuer: endpoint("issuer"),
            authorization_endpoint: endpoint("authorization_endpoint"),
            token_endpoint: endpoint("token_endpoint"),
            userinfo_endpoint: endpoint("userinfo_endpoint"),
            revocation_endpoint: endpoint("revocation_endpoint"),
            introspection_endpoint: endpoint("introspection_endpoint"),
        };
        Self {
            endpoints,
            client_id,
            client_secret,
            log,
            _stderr_reader: stderr_reader,
            _stdin: stdin,
            _child: child,
        }
    }

    /// Everything the server logged so far (one line per request: method, path, status;
    /// OAuth errors by name). It never logs tokens, codes or secrets.
    pub fn log(&self) -> Vec<String> {
        lock(&self.log).clone()
    }

    /// How many log lines so far contain `needle`, e.g. `"POST /token -> 200"`.
    pub fn logged(&self, needle: &str) -> usize {
        lock(&self.log)
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    /// Waits (bounded) until `needle` has been logged at least `count` times. The server
    /// logs a request before it answers, but the lines reach us asynchronously.
    pub async fn wait_logged(&self, needle: &str, count: usize) {
        let what = format!("oidc-server to log {needle:?} {count} time(s)");
        // The same bound as every other wait: Node logs late on a busy machine.
        let found = tokio::time::timeout(mattermost_apps_testkit::util::WAIT, async {
            while self.logged(needle) < count {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        assert!(
            found.is_ok(),
            "timed out waiting for {what}; got {}. Log:\n{}",
            self.logged(needle),
            self.log().join("\n")
        );
    }

    /// RFC 7662 introspection of `token` as the registered client.
    pub async fn introspect(&self, token: &str) -> Value {
        let response = within(
            "introspection at oidc-provider",
            reqwest::Client::new()
                .post(&self.endpoints.introspection_endpoint)
                .basic_auth(&self.client_id, Some(&self.client_secret))
                .form(&[("token", token)])
                .send(),
        )
        .await
        .expect("oidc-provider answers introspection");
        assert_eq!(
            response.status().as_u16(),
            200,
            "introspection refused the registered client"
        );
        within("the introspection body", response.json::<Value>())
            .await
            .expect("introspection answers JSON")
    }

    /// `GET /me` with `access_token` as a bearer token: the status and the body.
    pub async fn userinfo(&self, access_token: &str) -> (u16, Value) {
        let response = within(
            "userinfo at oidc-provider",
            reqwest::Client::new()
                .get(&self.endpoints.userinfo_endpoint)
                .bearer_auth(access_token)
                .send(),
        )
        .await
        .expect("oidc-provider answers userinfo");
        let status = response.status().as_u16();
        let body = within("the userinfo body", response.text()).await;
        let body = body
            .ok()
            .and_then(|b| serde_json::from_str(&b).ok())
            .unwrap_or(Value::Null);
        (status, body)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

// ----- the browser -----

/// What the user does on the provider's consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    /// Clicks Continue.
    Grant,
    /// Clicks the provider's `[ Cancel ]` link (`error=access_denied`).
    Deny,
}

/// Where a browser walk ended.
#[derive(Debug, Clone)]
pub struct WalkResult {
    /// The final URL (on the complete URL; it holds the single-use code).
    pub final_url: String,
    /// The HTTP status of that page.
    pub status: u16,
    /// The page's `document.body.innerText`.
    pub text: String,
    /// Whether the page called `window.close()`.
    pub window_close_called: bool,
    /// Where the screenshot of the final page was saved.
    pub screenshot: PathBuf,
}

/// One user's part of the flow in headless Chromium (`browser-walk.mjs`): log in to the
/// emulator at `login_url`, open `connect_url`, sign in at the provider as `login`, grant or
/// deny, and land on `complete_url_prefix`. The final page is saved as
/// `tests/e2e/artifacts/<screenshot>`. Panics with the script's message when the walk fails
/// (Chromium missing included). Walks run one at a time.
pub async fn browser_walk(
    login_url: &str,
    connect_url: &str,
    login: &str,
    consent: Consent,
    complete_url_prefix: &str,
    screenshot: &str,
) -> WalkResult {
    require_node_modules();
    let shot = artifacts_dir().join(screenshot);
    // A stale screenshot must not pass for this walk's.
    let _ = std::fs::remove_file(&shot);
    let action = match consent {
        Consent::Grant => "consent",
        Consent::Deny => "deny",
    };
    let shot_arg = shot.to_string_lossy().into_owned();
    let args = [
        "--login-url",
        login_url,
        "--connect-url",
        connect_url,
        "--login",
        login,
        "--action",
        action,
        "--complete-url-prefix",
        complete_url_prefix,
        "--screenshot",
        &shot_arg,
        "--timeout-ms",
        WALK_DEADLINE_MS,
    ];
    let output = {
        let _slot = tool_slot().await;
        run_tool("browser-walk.mjs", &args, WALK_TIMEOUT).await
    };
    assert!(
        output.status.success(),
        "the browser walk ({action} as {login}) failed, exit {}: {}\n(if Chromium is missing or \
         does not start: {SETUP_HINT})",
        output.status,
        output.stderr.trim()
    );
    let json = output.json("browser-walk.mjs");
    let result = WalkResult {
        final_url: json["final_url"].as_str().unwrap_or_default().to_owned(),
        status: json["status"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or_else(|| panic!("browser-walk reported no status: {json}")),
        text: json["text"].as_str().unwrap_or_default().to_owned(),
        window_close_called: json["window_close_called"] == true,
        screenshot: shot,
    };
    let size = std::fs::metadata(&result.screenshot).map(|m| m.len());
    assert!(
        size.as_ref().is_ok_and(|s| *s > 0),
        "no screenshot of the final page at {}: {size:?}",
        result.screenshot.display()
    );
    result
}
