//! A real Redis server (Debian's `redis-server`, installed by `tests/e2e/setup.sh`) on a free
//! 127.0.0.1 port, in a temporary directory, without persistence; killed on drop. A machine
//! without it fails the story that needs it, with the reason.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use mattermost_apps_testkit::util::{free_port, random_token, within};

/// A running `redis-server`.
pub struct Redis {
    /// `redis://127.0.0.1:<port>/`.
    pub url: String,
    port: u16,
    child: Option<Child>,
    dir: PathBuf,
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            // Already gone is fine: the test may have stopped it.
            let _ = child.start_kill();
        }
        // A leftover empty temp dir is harmless.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Redis {
    /// Starts `redis-server` and waits until it answers `PING`.
    pub async fn start() -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(random_token("it-redis-", 8));
        std::fs::create_dir_all(&dir).expect("a temp dir for redis-server");
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "redis-server cannot start ({err}): run tests/e2e/setup.sh, which installs it"
                )
            });
        let redis = Self {
            url: format!("redis://127.0.0.1:{port}/"),
            port,
            child: Some(child),
            dir,
        };
        within("redis-server to answer PING", async {
            while !redis.answers().await {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        redis
    }

    /// True when the server answers `PING`.
    pub async fn answers(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)).await else {
            return false;
        };
        let mut reply = [0u8; 7];
        stream.write_all(b"PING\r\n").await.is_ok()
            && stream.read_exact(&mut reply).await.is_ok()
            && &reply == b"+PONG\r\n"
    }

    /// Stops the server (as if it crashed) and waits until it is gone.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("redis-server is killed");
        }
    }
}
