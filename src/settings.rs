//! Process settings: command-line flags with environment fallbacks.

use std::fs;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use url::Url;

use crate::secret::AppSecret;
use mattermost_apps::secret::{ExposeSecret, SecretString};

/// Flags and environment variables, as typed by the operator.
#[derive(Debug, Parser)]
#[command(
    version,
    about = "Mattermost App that connects users to a remote OAuth2 provider",
    after_help = "The JWT secret shared with Mattermost (at least 32 bytes) comes from the \
        APP_SECRET environment variable, never from a flag (flags show in `ps`). Without it, \
        the app reads the secret file, or creates one and prints the secret once."
)]
pub struct Cli {
    /// Address to listen on.
    #[arg(long, env = "APP_LISTEN", default_value = "0.0.0.0:4000")]
    pub listen: SocketAddr,

    /// Public base URL of this app, as Mattermost reaches it (the manifest's `http.root_url`).
    #[arg(long, env = "APP_ROOT_URL", default_value = "http://localhost:4000")]
    pub root_url: Url,

    /// Where a generated JWT secret is kept across restarts (created owner-only). Used when
    /// `APP_SECRET` is not set.
    #[arg(long, env = "APP_SECRET_FILE", default_value = ".app-secret")]
    pub secret_file: PathBuf,

    /// Overrides `context.mattermost_site_url` for calls back to Mattermost.
    #[arg(long, env = "MATTERMOST_SITE_URL")]
    pub mattermost_site_url: Option<Url>,

    /// Timeout, in seconds, of every outbound request (Mattermost and the OAuth2 provider).
    #[arg(long, env = "APP_HTTP_TIMEOUT", default_value_t = 10)]
    pub http_timeout: u64,

    /// Redis server for the refresh lock shared by replicas (`redis://host:6379/`);
    /// required when more than one instance runs. Without it, the lock is in-process.
    #[arg(long, env = "APP_REDIS_URL", value_parser = secret_arg)]
    pub redis_url: Option<SecretString>,
}

/// A flag whose value may hold a password: kept out of `Debug`.
fn secret_arg(value: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(value))
}

/// Where the app secret came from; `main` tells the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretSource {
    /// `APP_SECRET`.
    Given,
    /// Read from the secret file written by an earlier start.
    File,
    /// Generated now and written to the secret file.
    Generated,
}

/// Validated settings the app runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Public base URL of the app.
    pub root_url: Url,
    /// JWT secret shared with Mattermost.
    pub secret: AppSecret,
    /// Where a generated secret is kept (read when `APP_SECRET` is not set).
    pub secret_file: PathBuf,
    /// Optional override of the Mattermost site URL for outbound calls.
    pub mattermost_site_url: Option<Url>,
    /// Timeout of every outbound request.
    pub http_timeout: Duration,
    /// The most a call may take, all its outbound requests together: below the plugin's
    /// 30 s wait for an app's answer, so the user reads the app's error, not the plugin's.
    pub call_deadline: Duration,
    /// The Redis server of the refresh lock; `None`: in-process (one instance).
    pub redis_url: Option<SecretString>,
}

/// The default [`Settings::call_deadline`].
pub const CALL_DEADLINE: Duration = Duration::from_secs(25);

impl Settings {
    /// Settings for a given secret with every other value at its default; handy in tests.
    pub fn new(root_url: Url, secret: AppSecret) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            root_url,
            secret,
            secret_file: PathBuf::from(".app-secret"),
            mattermost_site_url: None,
            http_timeout: Duration::from_secs(10),
            call_deadline: CALL_DEADLINE,
            redis_url: None,
        }
    }

    /// Checks the flags and resolves the secret: `secret` (the value of `APP_SECRET`, see
    /// [`secret_from_env`]), else the secret file, else a new one written there. Blocking
    /// file I/O: call before the async runtime starts.
    pub fn from_cli(cli: Cli, secret: Option<String>) -> anyhow::Result<(Self, SecretSource)> {
        check_http_url("--root-url / APP_ROOT_URL", &cli.root_url)?;
        if let Some(url) = &cli.mattermost_site_url {
            check_http_url("--mattermost-site-url / MATTERMOST_SITE_URL", url)?;
        }
        if cli.http_timeout == 0 {
            anyhow::bail!("--http-timeout / APP_HTTP_TIMEOUT must be at least 1 second");
        }
        let (secret, source) = match secret.as_deref().filter(|value| !value.is_empty()) {
            Some(value) => (
                AppSecret::parse(value).context("APP_SECRET")?,
                SecretSource::Given,
            ),
            None => load_or_create_secret(&cli.secret_file)?,
        };
        Ok((
            Self {
                listen: cli.listen,
                root_url: cli.root_url,
                secret,
                secret_file: cli.secret_file,
                mattermost_site_url: cli.mattermost_site_url,
                http_timeout: Duration::from_secs(cli.http_timeout),
                call_deadline: CALL_DEADLINE,
                redis_url: cli.redis_url.filter(|url| !url.expose_secret().is_empty()),
            },
            source,
        ))
    }

    /// The root URL without a trailing slash, as written into the manifest.
    pub fn root_url_str(&self) -> &str {
        self.root_url.as_str().trim_end_matches('/')
    }
}

/// `APP_SECRET` from the environment; `None` when unset or empty. The secret is never a flag:
/// a process's arguments are visible to every user of the machine (`ps`).
pub fn secret_from_env() -> anyhow::Result<Option<String>> {
    match std::env::var("APP_SECRET") {
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => anyhow::bail!("APP_SECRET is not UTF-8"),
    }
}

fn check_http_url(name: &str, url: &Url) -> anyhow::Result<()> {
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        anyhow::bail!("{name} must be an http(s) URL with a host, got {url}");
    }
    Ok(())
}

fn load_or_create_secret(path: &Path) -> anyhow::Result<(AppSecret, SecretSource)> {
    match fs::read_to_string(path) {
        Ok(text) => {
            let secret = AppSecret::parse(&text)
                .with_context(|| format!("secret file {}", path.display()))?;
            Ok((secret, SecretSource::File))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let secret = AppSecret::generate()
                .map_err(|_| anyhow::anyhow!("the system random generator failed"))?;
            write_owner_only(path, secret.expose_secret())
                .with_context(|| format!("cannot write the secret file {}", path.display()))?;
            Ok((secret, SecretSource::Generated))
        }
        Err(err) => Err(err).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn write_owner_only(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> Cli {
        let mut all = vec!["hello-oauth2-rs"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).expect("flags parse")
    }

    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("{name}-{}", std::process::id()))
    }

    #[test]
    fn a_generated_secret_is_kept_owner_only_and_reused() {
        let path = temp_path("secret-file-test");
        let _ = fs::remove_file(&path);
        let file = path.to_str().expect("utf-8 path");
        let (first, source) =
            Settings::from_cli(cli(&["--secret-file", file]), None).expect("generated");
        assert_eq!(source, SecretSource::Generated);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).expect("file").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (second, source) =
            Settings::from_cli(cli(&["--secret-file", file]), None).expect("reused");
        assert_eq!(source, SecretSource::File);
        assert_eq!(first.secret.expose_secret(), second.secret.expose_secret());
        fs::remove_file(&path).expect("cleanup");
    }

    #[test]
    fn the_redis_url_is_kept_out_of_debug() {
        let url = "redis://:hunter2-password@redis.example:6379/";
        let (settings, _) =
            Settings::from_cli(cli(&["--redis-url", url]), Some("x".repeat(40))).expect("valid");
        let given = settings.redis_url.as_ref().expect("set");
        assert_eq!(given.expose_secret(), url);
        assert!(!format!("{settings:?}").contains("hunter2"));
        let (none, _) =
            Settings::from_cli(cli(&["--redis-url", ""]), Some("x".repeat(40))).expect("valid");
        assert!(none.redis_url.is_none(), "empty means unset");
    }

    #[test]
    fn the_secret_is_not_a_flag() {
        let long = "x".repeat(40);
        let err = Cli::try_parse_from(["x", "--secret", &long]).expect_err("no such flag");
        assert!(err.to_string().contains("unexpected argument"), "{err}");
    }

    #[test]
    fn bad_settings_are_one_line_errors() {
        let err = Settings::from_cli(cli(&[]), Some("too-short".to_owned())).expect_err("short");
        assert!(format!("{err:#}").contains("at least 32 bytes"));
        assert!(!format!("{err:#}").contains("too-short"));

        let err = Cli::try_parse_from(["x", "--listen", "nonsense"]).expect_err("bad addr");
        assert!(err.to_string().contains("invalid socket address"));

        let long = "x".repeat(40);
        let err = Settings::from_cli(cli(&["--root-url", "ftp://host/"]), Some(long))
            .expect_err("scheme");
        assert!(err.to_string().contains("http(s)"));
    }
}
