//! A real Prometheus server (Debian's `prometheus` package, installed by
//! `tests/e2e/setup.sh`) on 127.0.0.1, scraping one target every second, with the repo's
//! alert rules loaded. Killed and its data removed on drop.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::process::{Child, Command};

use crate::support::process::free_port;
use crate::support::util::{random_token, WAIT};

/// Where Debian's package puts the server.
const BINARY: &str = "/usr/bin/prometheus";

/// The alert rules, as deployed.
const RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/prometheus/alerts.yml");

/// When the last successful scrape started. `timestamp` of a selector is the sample's time
/// (of any other expression, the query's), hence `and` rather than `timestamp(up == 1)`.
const SCRAPED_AT: &str =
    r#"timestamp(up{job="hello-oauth2-rs"}) and up{job="hello-oauth2-rs"} == 1"#;

/// A running Prometheus.
pub struct Prometheus {
    child: Child,
    dir: PathBuf,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    http: reqwest::Client,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        // Best effort: the child is killed on drop anyway, and a leftover temp dir is
        // only disk space.
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Prometheus {
    /// Starts Prometheus scraping `target` (`host:port`, path `/metrics`) every second,
    /// and waits until it is ready. Fails (never skips) when Prometheus is not installed.
    pub async fn start(target: &str) -> Self {
        assert!(
            std::path::Path::new(BINARY).exists(),
            "{BINARY} is missing: install Debian's prometheus package (tests/e2e/setup.sh does)"
        );
        let dir = std::env::temp_dir().join(random_token("prometheus-test-", 9));
        std::fs::create_dir_all(dir.join("data")).expect("a temp dir");
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - {RULES}\n\
             scrape_configs:\n  - job_name: hello-oauth2-rs\n    metrics_path: /metrics\n    \
             static_configs:\n      - targets: ['{target}']\n"
        );
        std::fs::write(dir.join("prometheus.yml"), config).expect("write the config");
        let port = free_port();
        let mut child = Command::new(BINARY)
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{BINARY} does not start: {e}"));
        let stderr = child.stderr.take().expect("stderr");
        // Kept for the failure message; Prometheus logs little.
        let log = tokio::spawn(async move {
            let mut text = String::new();
            let mut reader = tokio::io::BufReader::new(stderr);
            let _ = tokio::io::AsyncReadExt::read_to_string(&mut reader, &mut text).await;
            text
        });
        let prometheus = Self {
            child,
            dir,
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        };
        let ready = format!("{}/-/ready", prometheus.url);
        let until = tokio::time::Instant::now() + WAIT;
        loop {
            let answer = prometheus.http.get(&ready).send().await;
            if answer.is_ok_and(|a| a.status().is_success()) {
                return prometheus;
            }
            if tokio::time::Instant::now() > until {
                drop(prometheus);
                let log = log.await.unwrap_or_default();
                panic!("Prometheus was not ready within {WAIT:?}:\n{log}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The answer of `/api/v1/{path}` with the given query parameters, its `data`.
    pub async fn api(&self, path: &str, query: &[(&str, &str)]) -> Value {
        let answer: Value = self
            .http
            .get(format!("{}/api/v1/{path}", self.url))
            .query(query)
            .send()
            .await
            .expect("Prometheus answers")
            .json()
            .await
            .expect("Prometheus answers JSON");
        assert_eq!(answer["status"], "success", "{path} {query:?}: {answer}");
        answer["data"].clone()
    }

    /// The value of an instant query that yields one number (`sum(...)`); 0 when the
    /// result is empty (a series that was never recorded).
    pub async fn value(&self, query: &str) -> f64 {
        let data = self.api("query", &[("query", query)]).await;
        match data["result"].as_array().map(Vec::as_slice) {
            Some([]) => 0.0,
            Some([one]) => one["value"][1]
                .as_str()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{query}: not a number: {one}")),
            _ => panic!("{query}: expected one series, got {data}"),
        }
    }

    /// Waits until Prometheus holds a scrape that started after now, so everything done
    /// before this call is in its data. Polls the target's `up` sample's timestamp.
    pub async fn scraped(&self) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_secs_f64();
        let until = tokio::time::Instant::now() + WAIT;
        loop {
            let data = self.api("query", &[("query", SCRAPED_AT)]).await;
            let latest = data["result"][0]["value"][1]
                .as_str()
                .and_then(|v| v.parse::<f64>().ok());
            if latest.is_some_and(|t| t > now) {
                return;
            }
            if tokio::time::Instant::now() > until {
                let targets = self.api("targets", &[]).await;
                panic!("no successful scrape after {now} within {WAIT:?}; targets: {targets:#}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
