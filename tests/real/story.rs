//! One story's world on the real stack: the app (in-process, behind a [`Tap`]) installed
//! anew through the plugin's own install path, a real OIDC provider, fresh users, and a
//! login page for Chromium.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpResponse, HttpServer};
use serde_json::{json, Map, Value};
use tokio::sync::MutexGuard as AsyncMutexGuard;
use url::Url;

use crate::client::{new_user, Client, APPS_API};
use crate::stack::{exclusive, stack};
use crate::support::app::{new_secret, TestApp};
use crate::support::e2e::OidcServer;
use crate::support::util::random_token;
use crate::tap::Tap;

/// The app's ID.
pub const APP_ID: &str = "hello-oauth2-rs";
pub use crate::support::world::COMMAND;
/// The scopes the admin configures: `openid` for userinfo, `profile` and `email` for claims.
pub const SCOPES: &str = "openid profile email";

pub use crate::support::world::{expect_error, expect_ok, kind};

/// The app, uninstalled from the server, spawned behind its tap; nothing installed yet.
pub struct Story {
    /// The system admin's client.
    pub admin: Client,
    /// The app (its `root_url` is the tap's).
    pub app: TestApp,
    /// Every request the plugin sends the app.
    pub tap: Tap,
    /// Sets Chromium's session cookie.
    pub login: LoginPage,
    _one_at_a_time: AsyncMutexGuard<'static, ()>,
}

impl Story {
    /// Waits for the server, removes the app if a previous story left it installed, and
    /// starts a fresh app behind a tap.
    pub async fn begin() -> Self {
        Self::begin_with(|_| {}).await
    }

    /// [`Story::begin`] with the app's settings changed by `change`.
    pub async fn begin_with(change: impl FnOnce(&mut hello_oauth2_rs::settings::Settings)) -> Self {
        let guard = exclusive().await;
        let s = stack();
        // REAL_MM_SERVER=9 runs the same stories on a 9.x server (scripts/real-mattermost).
        let want = match std::env::var("REAL_MM_SERVER").as_deref() {
            Ok("9") => "9.",
            _ => "7.7.0",
        };
        assert!(
            s.server_version.starts_with(want),
            "the server reports {}, want {want}",
            s.server_version
        );
        assert_eq!(s.plugin_version, "1.2.2");
        let admin = Client::new(s.admin.clone());
        uninstall(&admin, APP_ID).await;
        let tap = Tap::start();
        let tap_url = tap.url.clone();
        let app = TestApp::spawn_with(&new_secret(), |settings| {
            settings.root_url = Url::parse(&tap_url).expect("the tap's URL parses");
            change(settings);
        })
        .await;
        tap.forward_to(&app.root_url);
        Self {
            admin,
            app,
            tap,
            login: LoginPage::start(),
            _one_at_a_time: guard,
        }
    }

    /// [`Story::begin`], then the install with the right secret.
    pub async fn installed() -> Self {
        Self::install_begun(Self::begin().await).await
    }

    /// [`Story::begin_with`], then the install with the right secret.
    pub async fn installed_with(
        change: impl FnOnce(&mut hello_oauth2_rs::settings::Settings),
    ) -> Self {
        Self::install_begun(Self::begin_with(change).await).await
    }

    async fn install_begun(story: Self) -> Self {
        let secret = story.app.secret.clone();
        let text = expect_ok(&story.install(&secret).await);
        assert!(text.contains("Installed"), "{text}");
        story
    }

    /// The manifest URL the admin types (through the tap, like every other request).
    pub fn manifest_url(&self) -> String {
        format!("{}/manifest.json", self.tap.url)
    }

    /// Installs the app as the webapp does ([`install_app`]), from the tap's manifest URL.
    pub async fn install(&self, secret: &str) -> Value {
        install_app(&self.admin, &self.manifest_url(), secret).await
    }

    /// A fresh regular user (in the team and the channel).
    pub async fn user(&self, prefix: &str) -> Client {
        new_user(prefix).await
    }

    /// Starts a real OIDC provider whose client redirects to the plugin's complete URL.
    pub async fn oidc(&self, access_token_ttl: Duration) -> OidcServer {
        OidcServer::start(&complete_url(), access_token_ttl).await
    }

    /// Configures `oidc` as the custom provider as the admin would: the bare `configure`
    /// opens the pre-filled form, whose submit stores.
    pub async fn configure(&self, oidc: &OidcServer) {
        let form = self.configure_form(&self.admin).await;
        let response = self
            .admin
            .submit(APP_ID, &form, configure_values(&form, oidc))
            .await;
        let text = expect_ok(&response);
        assert!(text.contains(&complete_url()), "{text}");
    }

    /// The form the bare `configure` opens for `client` (a submit without values answers
    /// with it; the webapp opens it as a modal).
    pub async fn configure_form(&self, client: &Client) -> Value {
        let line = format!("{COMMAND} configure");
        let opened = client.command(&line).await.response(&line);
        assert_eq!(kind(&opened), "form", "{opened:#}");
        opened["form"].clone()
    }

    /// `connect` as `client`: the target of the Markdown link it answers with, which must be
    /// the plugin's connect URL.
    pub async fn connect_link(&self, client: &Client) -> String {
        let line = format!("{COMMAND} connect");
        let text = expect_ok(&client.command(&line).await.response(&line));
        let link = text
            .split_once("](")
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(link, _)| link.to_owned())
            .unwrap_or_else(|| panic!("connect answered no Markdown link: {text}"));
        assert_eq!(link, connect_url(), "{text}");
        link
    }
}

/// The values an admin enters in the configure form for `oidc` (the provider select's
/// value is the option object, as the webapp submits it).
pub fn configure_values(form: &Value, oidc: &OidcServer) -> Value {
    let fields = form["fields"].as_array().expect("the form has fields");
    let custom = fields
        .iter()
        .find(|f| f["name"] == "provider")
        .and_then(|f| f["options"].as_array())
        .and_then(|o| o.iter().find(|o| o["value"] == "custom"))
        .cloned()
        .expect("a custom provider option");
    let e = &oidc.endpoints;
    let mut values = Map::new();
    values.insert("provider".into(), custom);
    for (name, value) in [
        ("client_id", &oidc.client_id),
        ("client_secret", &oidc.client_secret),
        ("auth_url", &e.authorization_endpoint),
        ("token_url", &e.token_endpoint),
        ("userinfo_url", &e.userinfo_endpoint),
        ("revoke_url", &e.revocation_endpoint),
    ] {
        values.insert(name.into(), json!(value));
    }
    values.insert("scopes".into(), json!(SCOPES));
    Value::Object(values)
}

/// `{site}/plugins/com.mattermost.apps/apps/hello-oauth2-rs/oauth2/remote/connect`.
pub fn connect_url() -> String {
    format!(
        "{}/plugins/com.mattermost.apps/apps/{APP_ID}/oauth2/remote/connect",
        stack().site_url
    )
}

/// The redirect URI: `…/oauth2/remote/complete`.
pub fn complete_url() -> String {
    format!(
        "{}/plugins/com.mattermost.apps/apps/{APP_ID}/oauth2/remote/complete",
        stack().site_url
    )
}

/// Installs the app as the webapp does: `/apps install http <manifest_url>` (the plugin
/// fetches the manifest and answers with its consent form, opened as a modal), then the
/// modal's submit with consent, the deploy type the form offers, and the JWT `secret`.
/// The consent submit's CallResponse. (The URL is a positional argument, which the
/// shared parser does not port: the binding's submit is sent with it directly.)
pub async fn install_app(admin: &Client, manifest_url: &str, secret: &str) -> Value {
    let consent = admin
        .submit_binding(&["apps", "install", "http"], json!({"url": manifest_url}))
        .await;
    assert_eq!(kind(&consent), "form", "{consent:#}");
    let form = &consent["form"];
    let fields = form["fields"]
        .as_array()
        .expect("the consent form's fields");
    let field = |name: &str| {
        fields
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("the consent form has no {name} field: {form:#}"))
    };
    let deploy = field("deploy_type")["value"].clone();
    assert_eq!(deploy["value"], "http", "{form:#}");
    assert!(field("secret")["modal_label"]
        .as_str()
        .is_some_and(|l| l.contains("JWT Secret")));
    let mut values = json!({"deploy_type": deploy, "secret": secret});
    if fields.iter().any(|f| f["name"] == "consent") {
        values["consent"] = json!(true);
    }
    admin.submit("apps", form, values).await
}

/// Uninstalls the app if it is installed (`/apps uninstall`), so each story starts clean:
/// the plugin then forgets its settings and every user's token.
pub async fn uninstall(admin: &Client, app_id: &str) {
    let (status, _) = admin
        .request("GET", &format!("{APPS_API}/apps/{app_id}"), None)
        .await;
    if status != 200 {
        return;
    }
    // The app is a dynamic select, which the shared parser does not port.
    let response = admin
        .submit_binding(
            &["apps", "uninstall"],
            json!({"app": {"label": app_id, "value": app_id}}),
        )
        .await;
    let text = expect_ok(&response);
    assert!(text.contains("Uninstalled"), "{text}");
}

/// A page on 127.0.0.1 that sets Mattermost's session cookie for a user, so Chromium opens
/// the connect URL with that user's own session (cookies are per host, not per port).
pub struct LoginPage {
    url: String,
    tokens: Arc<Mutex<HashMap<String, String>>>,
    handle: ServerHandle,
}

impl Drop for LoginPage {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

impl LoginPage {
    fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the login page");
        let port = listener.local_addr().expect("its address").port();
        let tokens: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        let data = web::Data::from(tokens.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/login/{nonce}", web::get().to(login))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("the login page listens")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}"),
            tokens,
            handle,
        }
    }

    /// A one-time URL that logs Chromium in as `client`'s user (the token is not in it).
    pub fn url_for(&self, client: &Client) -> String {
        let nonce = random_token("", 12);
        self.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(nonce.clone(), client.user.token.clone());
        format!("{}/login/{nonce}", self.url)
    }
}

async fn login(
    nonce: web::Path<String>,
    tokens: web::Data<Mutex<HashMap<String, String>>>,
) -> HttpResponse {
    let token = tokens
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(nonce.as_str());
    match token {
        Some(token) => HttpResponse::Ok()
            .insert_header((
                "Set-Cookie",
                format!("MMAUTHTOKEN={token}; Path=/; HttpOnly; SameSite=Lax"),
            ))
            .content_type("text/plain")
            .body("logged in\n"),
        None => HttpResponse::NotFound().body("unknown or used login link\n"),
    }
}
