//! Process settings: command-line flags with environment fallbacks.

use std::fs;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use url::Url;

use crate::logging::LogFormat;
use crate::seal::KeyRing;
use crate::secret::AppSecret;
use mattermost_apps::secret::{ExposeSecret, SecretString};

/// Flags and environment variables, as typed by the operator.
#[derive(Debug, Parser)]
#[command(
    version,
    about = "Mattermost App that connects users to a remote OAuth2 provider",
    after_help = "The JWT secret shared with Mattermost (at least 32 bytes) comes from the \
        APP_SECRET environment variable, never from a flag (flags show in `ps`). Without it, \
        the app reads the secret file, or creates one and prints the secret once. The \
        token-sealing key ring comes from APP_TOKEN_KEY (comma-separated `id:base64key` \
        entries, the first seals) or the token key file, created owner-only when absent."
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

    /// Where the token-sealing key ring is kept (created owner-only with one new key when
    /// absent). Used when `APP_TOKEN_KEY` is not set.
    #[arg(long, env = "APP_TOKEN_KEY_FILE", default_value = ".app-token-key")]
    pub token_key_file: PathBuf,

    /// Overrides `context.mattermost_site_url` for calls back to Mattermost.
    #[arg(long, env = "MATTERMOST_SITE_URL")]
    pub mattermost_site_url: Option<Url>,

    /// Timeout, in seconds, of every outbound request (Mattermost and the OAuth2 provider).
    #[arg(long, env = "APP_HTTP_TIMEOUT", default_value_t = 10)]
    pub http_timeout: u64,

    /// Address of the Prometheus listener serving `/metrics` (e.g. `0.0.0.0:9090`); off
    /// when unset. Mattermost never needs to reach it.
    #[arg(long, env = "APP_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Log format: `text` for people, `json` for one JSON object per line.
    #[arg(long, env = "APP_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

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
    /// The keys that seal tokens and the client secret in Mattermost (first seals, all
    /// open); not shared with Mattermost.
    pub token_keys: KeyRing,
    /// Optional override of the Mattermost site URL for outbound calls.
    pub mattermost_site_url: Option<Url>,
    /// Timeout of every outbound request.
    pub http_timeout: Duration,
    /// Where `/metrics` is served; `None` = no metrics listener.
    pub metrics_listen: Option<SocketAddr>,
    /// The most a call may take, all its outbound requests together: below the plugin's
    /// 30 s wait for an app's answer, so the user reads the app's error, not the plugin's.
    pub call_deadline: Duration,
    /// The Redis server of the refresh lock; `None`: in-process (one instance).
    pub redis_url: Option<SecretString>,
}

/// The default [`Settings::call_deadline`].
pub const CALL_DEADLINE: Duration = Duration::from_secs(25);

impl Settings {
    /// Settings for a given secret and key ring with every other value at its default;
    /// handy in tests.
    pub fn new(root_url: Url, secret: AppSecret, token_keys: KeyRing) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            root_url,
            secret,
            secret_file: PathBuf::from(".app-secret"),
            token_keys,
            mattermost_site_url: None,
            http_timeout: Duration::from_secs(10),
            metrics_listen: None,
            call_deadline: CALL_DEADLINE,
            redis_url: None,
        }
    }

    /// Checks the flags and resolves the secrets: `secrets.app_secret` (the value of
    /// `APP_SECRET`, see [`secrets_from_env`]), else the secret file, else a new one
    /// written there; the same for the token keys. Blocking file I/O: call before the
    /// async runtime starts.
    pub fn from_cli(cli: Cli, secrets: EnvSecrets) -> anyhow::Result<(Self, SecretSource)> {
        check_http_url("--root-url / APP_ROOT_URL", &cli.root_url)?;
        if let Some(url) = &cli.mattermost_site_url {
            check_http_url("--mattermost-site-url / MATTERMOST_SITE_URL", url)?;
        }
        if cli.http_timeout == 0 {
            anyhow::bail!("--http-timeout / APP_HTTP_TIMEOUT must be at least 1 second");
        }
        let token_keys = match secrets
            .token_key
            .as_deref()
            .filter(|v| !v.trim().is_empty())
        {
            Some(value) => KeyRing::parse(value).context("APP_TOKEN_KEY")?,
            None => load_or_create_keys(&cli.token_key_file)?,
        };
        let (secret, source) = match secrets.app_secret.as_deref().filter(|v| !v.is_empty()) {
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
                token_keys,
                mattermost_site_url: cli.mattermost_site_url,
                http_timeout: Duration::from_secs(cli.http_timeout),
                metrics_listen: cli.metrics_listen,
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

/// The secrets that come from the environment only, never from flags: a process's
/// arguments are visible to every user of the machine (`ps`).
#[derive(Default)]
pub struct EnvSecrets {
    /// `APP_SECRET`.
    pub app_secret: Option<String>,
    /// `APP_TOKEN_KEY`.
    pub token_key: Option<String>,
}

/// `APP_SECRET` and `APP_TOKEN_KEY` from the environment; `None` when unset.
pub fn secrets_from_env() -> anyhow::Result<EnvSecrets> {
    let read = |name: &str| match std::env::var(name) {
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(anyhow::anyhow!("{name} is not UTF-8")),
    };
    Ok(EnvSecrets {
        app_secret: read("APP_SECRET")?,
        token_key: read("APP_TOKEN_KEY")?,
    })
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

/// The key ring in `path`, or a new one-key ring written there. Losing this file loses
/// every sealed token, so its creation is logged (never the key).
fn load_or_create_keys(path: &Path) -> anyhow::Result<KeyRing> {
    match fs::read_to_string(path) {
        Ok(text) => {
            KeyRing::parse(&text).with_context(|| format!("token key file {}", path.display()))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let id = chrono::Utc::now().format("k%Y%m%d").to_string();
            let text = KeyRing::generate_text(&id)
                .map_err(|_| anyhow::anyhow!("the system random generator failed"))?;
            write_owner_only(path, &text)
                .with_context(|| format!("cannot write the token key file {}", path.display()))?;
            log::warn!(
                "created the token-sealing key {id} in {}: back it up; replicas must share it (APP_TOKEN_KEY)",
                path.display()
            );
            KeyRing::parse(&text).context("the generated token key")
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
        let keys = temp_path("token-key-file-test");
        let _ = fs::remove_file(&keys);
        let key_file = keys.to_str().expect("utf-8 path");
        let flags = ["--secret-file", file, "--token-key-file", key_file];
        let (first, source) =
            Settings::from_cli(cli(&flags), EnvSecrets::default()).expect("generated");
        assert_eq!(source, SecretSource::Generated);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).expect("file").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (second, source) =
            Settings::from_cli(cli(&flags), EnvSecrets::default()).expect("reused");
        assert_eq!(source, SecretSource::File);
        assert_eq!(first.secret.expose_secret(), second.secret.expose_secret());
        assert_eq!(
            first.token_keys.current_id(),
            second.token_keys.current_id()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&keys).expect("file").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // The same key, not only the same ID: what one start sealed, the next opens.
        let sealed = first.token_keys.seal(b"t", b"place").expect("seal");
        assert!(second.token_keys.open(&sealed, b"place").is_ok());
        fs::remove_file(&path).expect("cleanup");
        fs::remove_file(&keys).expect("cleanup");
    }

    #[test]
    fn the_redis_url_is_kept_out_of_debug() {
        let url = "redis://:hunter2-password@redis.example:6379/";
        let (settings, _) =
            Settings::from_cli(cli(&["--redis-url", url]), given(&"x".repeat(40))).expect("valid");
        let url_set = settings.redis_url.as_ref().expect("set");
        assert_eq!(url_set.expose_secret(), url);
        assert!(!format!("{settings:?}").contains("hunter2"));
        let (none, _) =
            Settings::from_cli(cli(&["--redis-url", ""]), given(&"x".repeat(40))).expect("valid");
        assert!(none.redis_url.is_none(), "empty means unset");
    }

    #[test]
    fn the_secret_is_not_a_flag() {
        let long = "x".repeat(40);
        let err = Cli::try_parse_from(["x", "--secret", &long]).expect_err("no such flag");
        assert!(err.to_string().contains("unexpected argument"), "{err}");
    }

    fn given(app_secret: &str) -> EnvSecrets {
        EnvSecrets {
            app_secret: Some(app_secret.to_owned()),
            token_key: Some(KeyRing::generate_text("k1").expect("rng").to_string()),
        }
    }

    #[test]
    fn the_token_key_comes_from_the_environment_and_is_never_echoed() {
        let secrets = EnvSecrets {
            token_key: Some("k1:c2hvcnQ=".to_owned()),
            ..given(&"x".repeat(40))
        };
        let err = Settings::from_cli(cli(&[]), secrets).expect_err("short key");
        let text = format!("{err:#}");
        assert!(text.contains("APP_TOKEN_KEY"), "{text}");
        assert!(!text.contains("c2hvcnQ"), "{text}");
        let secrets = given(&"x".repeat(40));
        let key = secrets.token_key.clone().expect("given");
        let (settings, _) = Settings::from_cli(cli(&[]), secrets).expect("ok");
        assert_eq!(settings.token_keys.current_id(), "k1");
        let debug = format!("{settings:?}");
        assert!(!debug.contains(&key[3..]), "Debug shows no key: {debug}");
        let err = Cli::try_parse_from(["x", "--token-key", "k1:AAAA"]).expect_err("no flag");
        assert!(err.to_string().contains("unexpected argument"), "{err}");
    }

    #[test]
    fn bad_settings_are_one_line_errors() {
        let err = Settings::from_cli(cli(&[]), given("too-short")).expect_err("short");
        assert!(format!("{err:#}").contains("at least 32 bytes"));
        assert!(!format!("{err:#}").contains("too-short"));

        let err = Cli::try_parse_from(["x", "--listen", "nonsense"]).expect_err("bad addr");
        assert!(err.to_string().contains("invalid socket address"));

        let long = "x".repeat(40);
        let err = Settings::from_cli(cli(&["--root-url", "ftp://host/"]), given(&long))
            .expect_err("scheme");
        assert!(err.to_string().contains("http(s)"));

        let err = Cli::try_parse_from(["x", "--log-format", "xml"]).expect_err("bad format");
        assert!(
            err.to_string().contains("possible values: text, json"),
            "{err}"
        );
        let err = Cli::try_parse_from(["x", "--metrics-listen", "9090"]).expect_err("no host");
        assert!(err.to_string().contains("invalid socket address"), "{err}");
    }

    #[test]
    fn metrics_are_off_and_logs_are_text_unless_asked() {
        let plain = cli(&[]);
        assert_eq!(plain.metrics_listen, None);
        assert_eq!(plain.log_format, LogFormat::Text);
        let on = cli(&["--metrics-listen", "127.0.0.1:9090", "--log-format", "json"]);
        assert_eq!(
            on.metrics_listen,
            Some(SocketAddr::from(([127, 0, 0, 1], 9090)))
        );
        assert_eq!(on.log_format, LogFormat::Json);
    }
}
