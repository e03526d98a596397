//! A Mattermost server with the Apps plugin (`com.mattermost.apps` v1.2.2), emulated as
//! far as an HTTP app can see it.
//!
//! It is written over `serde_json::Value` from the plugin's behaviour, never with the app's
//! own types, so the two cannot share a misunderstanding. What it does:
//!
//! - users, a bot per installed app, and per-(app, user) app session tokens;
//! - [`Mattermost::install`]: fetch and validate the manifest, ping, fetch the
//!   icon without a JWT, create the bot, call `on_install`;
//! - user calls ([`Mattermost::call`]), bindings ([`Mattermost::bindings`]) and a client-side
//!   command parser ([`Mattermost::command`]), each with the plugin's context, JWT,
//!   response rules and cleaning;
//! - the Apps REST API under `/plugins/com.mattermost.apps/api/v1`;
//! - the browser leg of remote OAuth2: `/login`, `…/oauth2/remote/connect`,
//!   `…/oauth2/remote/complete`, and a Rust [`Browser`] that walks it;
//! - records of every call, REST request, refresh event, dropped binding and TCP connection.
//!
//! ```ignore
//! let mm = Mattermost::start().await;
//! let admin = mm.create_user("sam.admin", "system_admin system_user");
//! mm.install(&app.manifest_url(), &secret, &admin).await?;
//! let response = mm.command(&admin, "/hello-oauth2-rs help").await?;
//! ```

pub mod browser;
pub mod clean;
pub mod command;
pub mod context;
pub mod manifest;
mod rest;
pub mod state;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpServer};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Map, Value};

// Re-exported for other test modules, whether or not the current ones use them.
#[allow(unused_imports)]
pub use browser::{Browser, BrowserResponse, Walk, COMPLETED_TEXT};
#[allow(unused_imports)]
pub use clean::Dropped;
#[allow(unused_imports)]
pub use command::CommandError;
#[allow(unused_imports)]
pub use context::ClientContext;
#[allow(unused_imports)]
pub use state::{
    CallRecord, EventTarget, InstalledApp, RefreshEvent, RestFault, RestRecord, SessionKind,
    StaticFetch, User,
};

use clean::{clean_bindings, clean_form, CleanContext};
use context::{build_context, ping_context};
use manifest::{manifest_call, string_list, validate_manifest, MAX_MANIFEST_SIZE};
use state::{Session, State};

use crate::support::util::{go_path_clean, new_id, percent_decode_fully};

/// Where the plugin's routes live under the site URL.
pub const PLUGIN_PATH: &str = "/plugins/com.mattermost.apps";
/// The Apps REST API base path.
pub const API_PATH: &str = "/plugins/com.mattermost.apps/api/v1";
/// The browser session cookie.
pub const SESSION_COOKIE: &str = "MMAUTHTOKEN";
/// How long an OAuth2 state is kept.
pub const STATE_TTL: Duration = Duration::from_secs(15 * 60);
/// The ping timeout.
pub const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// Keys of the CallResponse Go struct; others are lost on the way to the client.
const RESPONSE_KEYS: &[&str] = &[
    "type",
    "text",
    "data",
    "refresh_bindings",
    "navigate_to_url",
    "use_external_browser",
    "call",
    "form",
];

/// Emulator settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Developer mode (adds `developer_mode: true` to contexts), as the official compose file.
    pub developer_mode: bool,
    /// Timeout of a call to the app (the plugin's is 30 s).
    pub call_timeout: Duration,
    /// actix workers serving the emulator.
    pub workers: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            developer_mode: true,
            call_timeout: Duration::from_secs(30),
            workers: 2,
        }
    }
}

/// A user call, as a client posts it to `POST /api/v1/call`.
#[derive(Debug, Clone)]
pub struct UserCall {
    /// The Call: `{"path", "expand", "state"}` (or a bare path string).
    pub call: Value,
    /// Form or command values (an object; `null` for none).
    pub values: Value,
    /// The command line, for calls made from one.
    pub raw_command: Option<String>,
    /// The field that triggered a refresh or lookup.
    pub selected_field: Option<String>,
    /// Lookup text.
    pub query: Option<String>,
    /// The client's user agent (`webapp` by default).
    pub user_agent: Option<String>,
    /// The context the client sent (`channel_id`, `team_id`, `location`, `app_id`, …). The
    /// plugin rebuilds the context: only `user_agent` and `track_as_submit` survive (HEAD).
    pub client_context: Value,
}

impl UserCall {
    /// A call with values, from the webapp.
    pub fn new(call: Value, values: Value) -> Self {
        Self {
            call,
            values,
            raw_command: None,
            selected_field: None,
            query: None,
            user_agent: Some("webapp".into()),
            client_context: Value::Null,
        }
    }
}

/// Why a call to the app failed, as the plugin words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// Refused before contacting the app (bad path, forbidden path, app not installed).
    Refused(String),
    /// The context could not be built.
    Expand(String),
    /// The HTTP call failed or its answer was not a CallResponse.
    Invoke(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Refused(e) | CallError::Expand(e) => f.write_str(e),
            CallError::Invoke(e) => {
                write!(f, "upstream call failed: failed to invoke via HTTP: {e}")
            }
        }
    }
}

/// Shared between the test-side handle and the server's handlers.
pub(crate) struct Inner {
    pub(crate) site_url: String,
    pub(crate) options: Options,
    state: Mutex<State>,
    connections: AtomicUsize,
}

/// One reqwest client per thread: actix workers and the test each run their own runtime,
/// and a pooled connection belongs to the runtime that opened it.
pub(crate) fn http() -> reqwest::Client {
    thread_local! {
        static CLIENT: reqwest::Client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(3))
            .build()
            .expect("the emulator's HTTP client builds");
    }
    CLIENT.with(Clone::clone)
}

impl Inner {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn app(&self) -> Option<InstalledApp> {
        self.lock().app.clone()
    }

    pub(crate) fn event(&self, target: EventTarget, reason: &str) {
        self.lock().records.events.push(RefreshEvent {
            target,
            reason: reason.to_owned(),
        });
    }

    /// POSTs a CallRequest to the app and records it. Returns the CallResponse
    /// (with an empty type read as `ok`) or the plugin's error text.
    pub(crate) async fn invoke(
        &self,
        request: Value,
        timeout: Duration,
        ping: bool,
    ) -> Result<Value, String> {
        let app = self.app().ok_or("the app is not installed")?;
        let path = request["path"].as_str().unwrap_or("").to_owned();
        let url = call_url(&app.root_url, &path)?;
        let mut builder = http()
            .post(&url)
            .timeout(timeout)
            .header("Content-Type", "application/json")
            .body(serde_json::to_vec(&request).expect("a Value serialises"));
        let mut jwt_header = None;
        let mut claims = None;
        if app.use_jwt {
            let (token, header, c) = sign(&app.secret, &request);
            jwt_header = Some(header);
            claims = Some(c);
            builder = builder.header("Mattermost-App-Authorization", format!("Bearer {token}"));
        }
        let mut record = CallRecord {
            url: url.clone(),
            path,
            request,
            jwt_header,
            claims,
            status: None,
            body: String::new(),
            response: None,
            error: None,
        };
        let outcome = match builder.send().await {
            Err(err) => Err(format!("Post {url:?}: {}", describe_reqwest(&err))),
            Ok(response) => {
                let status = response.status().as_u16();
                record.status = Some(status);
                let body = response.text().await.unwrap_or_default();
                record.body = body.clone();
                record.response = serde_json::from_str(&body).ok();
                match status {
                    200 => match serde_json::from_str::<Value>(&body) {
                        Ok(Value::Object(mut o)) => {
                            if o.get("type")
                                .and_then(Value::as_str)
                                .unwrap_or("")
                                .is_empty()
                            {
                                o.insert("type".into(), json!("ok"));
                            }
                            Ok(Value::Object(o))
                        }
                        Ok(Value::Null) if !ping => Ok(json!({"type": "ok"})),
                        Ok(other) => Err(format!(
                            "json: cannot unmarshal {} into Go value of type apps.CallResponse",
                            manifest::json_kind(&other)
                        )),
                        Err(err) => Err(format!("failed to decode the response: {err}")),
                    },
                    404 if ping => Ok(json!({"type": "ok"})),
                    404 => Err(format!("{url}: not found")),
                    _ => Err(body),
                }
            }
        };
        record.error = outcome.as_ref().err().cloned();
        self.lock().records.calls.push(record);
        outcome
    }

    /// Builds the context and the CallRequest for `call`, then invokes it.
    pub(crate) async fn call_app(
        &self,
        acting_user_id: Option<&str>,
        call: &Value,
        values: Option<Value>,
        extras: &[(&str, Option<String>)],
        client: &ClientContext,
    ) -> Result<Value, CallError> {
        let call = match call {
            Value::String(path) => json!({ "path": path }),
            other => other.clone(),
        };
        let raw_path = call["path"].as_str().unwrap_or("");
        let path = go_path_clean(&percent_decode_fully(raw_path));
        let expand = call.get("expand").filter(|e| !e.is_null()).cloned();
        let context = {
            let mut st = self.lock();
            build_context(
                &mut st,
                &self.site_url,
                self.options.developer_mode,
                acting_user_id,
                expand.as_ref(),
                client,
            )
            .map_err(CallError::Expand)?
        };
        let mut request = Map::new();
        request.insert("path".into(), json!(path));
        if let Some(expand) = expand {
            request.insert("expand".into(), expand);
        }
        if let Some(state) = call.get("state").filter(|s| !s.is_null()) {
            request.insert("state".into(), state.clone());
        }
        if let Some(values) = values.filter(|v| v.as_object().is_some_and(|o| !o.is_empty())) {
            request.insert("values".into(), values);
        }
        request.insert("context".into(), context);
        for (key, value) in extras {
            if let Some(value) = value {
                request.insert((*key).into(), json!(value));
            }
        }
        self.invoke(Value::Object(request), self.options.call_timeout, false)
            .await
            .map_err(CallError::Invoke)
    }

    /// `POST /api/v1/call`: what a client gets back.
    pub(crate) async fn user_call(&self, user_id: &str, call: UserCall) -> Value {
        let outcome = self.user_call_inner(user_id, &call).await;
        let app = self.app();
        let mut response = match outcome {
            Ok(response) => response,
            Err(err) => json!({"type": "error", "text": err.to_string()}),
        };
        if let Some(app) = app {
            response["app_metadata"] =
                json!({"bot_user_id": app.bot_user_id, "bot_username": app.bot_username});
        }
        response
    }

    async fn user_call_inner(&self, user_id: &str, call: &UserCall) -> Result<Value, CallError> {
        let app = self
            .app()
            .ok_or_else(|| CallError::Refused("app is not installed: not found".into()))?;
        if !app.enabled {
            return Err(CallError::Refused(format!(
                "app is disabled by the administrator: {}: forbidden",
                app.app_id
            )));
        }
        let call_value = match &call.call {
            Value::String(path) => json!({ "path": path }),
            other => other.clone(),
        };
        let path = call_value["path"].as_str().unwrap_or("");
        if !path.starts_with('/') {
            return Err(CallError::Refused(format!(
                "call path must start with a '/': {path:?}: invalid input"
            )));
        }
        let decoded = percent_decode_fully(path);
        if decoded.split('/').any(|s| s == "..") {
            return Err(CallError::Refused(format!(
                "call path must not escape the app's root: {path:?}: invalid input"
            )));
        }
        let cleaned = go_path_clean(&decoded);
        if forbidden_paths(&app.manifest).contains(&cleaned) {
            return Err(CallError::Refused(format!(
                "{cleaned} is reserved for the plugin and cannot be called from a client: forbidden"
            )));
        }
        let client = ClientContext {
            user_agent: call.client_context["user_agent"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| call.user_agent.clone()),
            track_as_submit: call.client_context["track_as_submit"] == true,
        };
        let response = self
            .call_app(
                Some(user_id),
                &call_value,
                Some(call.values.clone()),
                &[
                    ("raw_command", call.raw_command.clone()),
                    ("selected_field", call.selected_field.clone()),
                    ("query", call.query.clone()),
                ],
                &client,
            )
            .await?;
        let mut response = self.as_client_sees(response, "call response");
        let bindings_path = manifest_call(&app.manifest, "bindings", Some("/bindings"), None)
            .and_then(|c| c["path"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let kind = response["type"].as_str().unwrap_or("").to_owned();
        if kind == "form" {
            if let Some(form) = response.get("form").cloned() {
                let mut dropped = Vec::new();
                let cleaned = clean_form(
                    &form,
                    &format!("{cleaned} response form"),
                    &self.clean_context(&app, call.user_agent.as_deref()),
                    &mut dropped,
                );
                self.lock().records.dropped.extend(dropped);
                response["form"] = cleaned;
            }
        }
        if kind != "error"
            && response["refresh_bindings"].as_bool() == Some(true)
            && cleaned != bindings_path
        {
            self.event(EventTarget::User(user_id.to_owned()), "call response");
        }
        Ok(response)
    }

    /// Re-serialises a CallResponse through the Go struct: unknown keys are lost (recorded).
    fn as_client_sees(&self, response: Value, what: &str) -> Value {
        let Value::Object(object) = response else {
            return response;
        };
        let mut kept = Map::new();
        let mut dropped = Vec::new();
        for (key, value) in object {
            if RESPONSE_KEYS.contains(&key.as_str()) {
                kept.insert(key, value);
            } else {
                dropped.push(Dropped {
                    what: format!("{what} key {key:?}"),
                    reason: "unknown to the plugin's Go structs".into(),
                });
            }
        }
        self.lock().records.dropped.extend(dropped);
        Value::Object(kept)
    }

    fn clean_context<'a>(
        &'a self,
        app: &'a InstalledApp,
        user_agent: Option<&'a str>,
    ) -> CleanContext<'a> {
        CleanContext {
            app_id: &app.app_id,
            granted_locations: &app.locations,
            site_url: &self.site_url,
            user_agent,
        }
    }

    /// `GET /api/v1/bindings` for one app: the bindings call, cleaned.
    pub(crate) async fn bindings(&self, user_id: &str, user_agent: Option<&str>) -> Vec<Value> {
        let Some(app) = self.app().filter(|a| a.enabled) else {
            return Vec::new();
        };
        if app.locations.is_empty() {
            // "no location granted to bind to": the app is never asked.
            return Vec::new();
        }
        let call = manifest_call(&app.manifest, "bindings", Some("/bindings"), None)
            .expect("bindings has a default");
        let client = ClientContext {
            user_agent: user_agent.map(str::to_owned),
            track_as_submit: false,
        };
        let Ok(response) = self
            .call_app(Some(user_id), &call, None, &[], &client)
            .await
        else {
            return Vec::new();
        };
        if response["type"] != "ok" {
            return Vec::new();
        }
        let Some(groups) = response.get("data").and_then(Value::as_array) else {
            return Vec::new();
        };
        let mut dropped = Vec::new();
        let cleaned = clean_bindings(groups, &self.clean_context(&app, user_agent), &mut dropped);
        self.lock().records.dropped.extend(dropped);
        cleaned
    }
}

/// Signs a CallRequest like the plugin: HS256 under `secret`, `exp` = now + 15 min,
/// `acting_user_id` = the expanded acting user's ID when there is one. Returns the token, its
/// decoded header and its claims.
pub fn sign(secret: &str, request: &Value) -> (String, Value, Value) {
    let exp = chrono::Utc::now().timestamp() + 15 * 60;
    let mut claims = json!({ "exp": exp });
    if let Some(id) = request["context"]["acting_user"]["id"]
        .as_str()
        .filter(|id| !id.is_empty())
    {
        claims["acting_user_id"] = json!(id);
    }
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("HS256 signing works");
    let header = token
        .split('.')
        .next()
        .and_then(|h| URL_SAFE_NO_PAD.decode(h).ok())
        .and_then(|h| serde_json::from_slice(&h).ok())
        .unwrap_or(Value::Null);
    (token, header, claims)
}

/// `root_url + "/" + path`, percent-decoded repeatedly and cleaned.
fn call_url(root_url: &str, path: &str) -> Result<String, String> {
    let mut url = url::Url::parse(root_url).map_err(|e| format!("bad root_url: {e}"))?;
    let joined = format!("{}/{}", url.path(), path);
    url.set_path(&go_path_clean(&percent_decode_fully(&joined)));
    Ok(url.to_string())
}

fn describe_reqwest(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "context deadline exceeded (Client.Timeout exceeded while awaiting headers)".into()
    } else if err.is_connect() {
        "dial tcp: connection refused".into()
    } else {
        err.to_string()
    }
}

/// The paths a client may not call.
fn forbidden_paths(manifest: &Value) -> Vec<String> {
    let mut paths = vec!["/ping".to_owned()];
    for key in [
        "on_install",
        "on_uninstall",
        "on_version_changed",
        "on_enable",
        "on_disable",
    ] {
        if let Some(call) = manifest_call(manifest, key, None, None) {
            paths.extend(call["path"].as_str().map(str::to_owned));
        }
    }
    for (key, default) in [
        ("get_oauth2_connect_url", "/oauth2/connect"),
        ("on_oauth2_complete", "/oauth2/complete"),
        ("on_remote_webhook", "/webhook"),
    ] {
        if let Some(call) = manifest_call(manifest, key, Some(default), None) {
            paths.extend(call["path"].as_str().map(str::to_owned));
        }
    }
    paths
}

/// The running emulator. Dropping it stops its server.
pub struct Mattermost {
    inner: Arc<Inner>,
    handle: ServerHandle,
}

impl Drop for Mattermost {
    fn drop(&mut self) {
        // Sends the stop command now; the returned future only waits for completion.
        drop(self.handle.stop(false));
    }
}

impl Mattermost {
    /// Starts an emulator with the default [`Options`] on `127.0.0.1:<random>`.
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    /// Starts an emulator with `options`.
    pub async fn start_with(options: Options) -> Self {
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").expect("bind the emulator's port");
        let port = listener.local_addr().expect("local address").port();
        let inner = Arc::new(Inner {
            site_url: format!("http://127.0.0.1:{port}"),
            options: options.clone(),
            state: Mutex::new(State::default()),
            connections: AtomicUsize::new(0),
        });
        let data = web::Data::from(inner.clone());
        let counter = inner.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
                .route("/login", web::get().to(browser::login))
                .route(
                    &format!("{PLUGIN_PATH}/apps/{{app_id}}/oauth2/remote/connect"),
                    web::get().to(browser::connect),
                )
                .route(
                    &format!("{PLUGIN_PATH}/apps/{{app_id}}/oauth2/remote/complete"),
                    web::get().to(browser::complete),
                )
                .route(
                    &format!("{API_PATH}/{{tail:.*}}"),
                    web::route().to(rest::handle),
                )
        })
        .workers(options.workers)
        .disable_signals()
        .on_connect(move |_, _| {
            counter.connections.fetch_add(1, Ordering::SeqCst);
        })
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { inner, handle }
    }

    /// `http://127.0.0.1:<port>`: the SiteURL, also `context.mattermost_site_url`.
    pub fn site_url(&self) -> &str {
        &self.inner.site_url
    }

    /// TCP connections the emulator's server has accepted so far.
    pub fn connections(&self) -> usize {
        self.inner.connections.load(Ordering::SeqCst)
    }

    // ----- users and sessions -----

    /// Creates a user with `roles` (e.g. `system_user`, `system_admin system_user`).
    pub fn create_user(&self, username: &str, roles: &str) -> User {
        let user = User::new(username, roles);
        self.inner
            .lock()
            .users
            .insert(user.id.clone(), user.clone());
        user
    }

    /// The user named `username`.
    pub fn user(&self, username: &str) -> Option<User> {
        self.inner.lock().user_by_name(username).cloned()
    }

    /// The installed app's bot.
    pub fn bot(&self) -> User {
        let st = self.inner.lock();
        let app = st.app.as_ref().expect("an app is installed");
        st.users
            .get(&app.bot_user_id)
            .cloned()
            .expect("the bot exists")
    }

    /// The app session token of (installed app, `user`), as the plugin puts it in contexts.
    pub fn app_session_token(&self, user: &User) -> String {
        let mut st = self.inner.lock();
        let app_id = st.app.as_ref().expect("an app is installed").app_id.clone();
        st.app_session(&app_id, &user.id)
    }

    /// A personal access token of `user` (accepted by Mattermost, refused by the Apps API).
    pub fn personal_access_token(&self, user: &User) -> String {
        let token = new_id();
        self.inner.lock().sessions.insert(
            token.clone(),
            Session {
                user_id: user.id.clone(),
                kind: SessionKind::PersonalAccessToken,
            },
        );
        token
    }

    /// Every session token issued so far (app sessions, PATs, browser logins), for leak checks.
    pub fn all_session_tokens(&self) -> Vec<String> {
        self.inner.lock().sessions.keys().cloned().collect()
    }

    /// Ends every app session: the next call gets new tokens (the plugin's 10-minute expiry).
    pub fn expire_app_sessions(&self) {
        self.inner
            .lock()
            .sessions
            .retain(|_, s| !matches!(s.kind, SessionKind::App { .. }));
    }

    // ----- install -----

    /// `/apps install http <manifest_url>` with consent given and `jwt_secret` typed into the
    /// consent modal, by `admin`. Returns the message the admin sees.
    pub async fn install(
        &self,
        manifest_url: &str,
        jwt_secret: &str,
        admin: &User,
    ) -> Result<String, String> {
        let inner = &self.inner;
        // 1. fetch
        let response = http()
            .get(manifest_url)
            .timeout(inner.options.call_timeout)
            .send()
            .await
            .map_err(|e| format!("failed to get manifest: {}", describe_reqwest(&e)))?;
        if response.status().as_u16() >= 400 {
            return Err(format!(
                "failed to get manifest: received status {}",
                response.status().as_u16()
            ));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| format!("failed to get manifest: {e}"))?;
        if bytes.len() > MAX_MANIFEST_SIZE {
            return Err("failed to get manifest: size limit of 1024Kb exceeded".into());
        }
        let manifest: Value = serde_json::from_slice(&bytes)
            .map_err(|e| format!("failed to decode manifest: {e}"))?;
        // 2. validate
        let problems = validate_manifest(&manifest);
        if !problems.is_empty() {
            return Err(format!("invalid manifest: {}", problems.join("; ")));
        }
        let app_id = manifest["app_id"].as_str().unwrap_or("").to_owned();
        let display_name = manifest["display_name"].as_str().unwrap_or("").to_owned();
        let http_deploy = manifest
            .get("http")
            .cloned()
            .ok_or("only http apps can be installed with this emulator")?;
        let root_url = http_deploy["root_url"].as_str().unwrap_or("").to_owned();
        let use_jwt = http_deploy["use_jwt"].as_bool().unwrap_or(false);
        // 4. consent and the secret (a blank one keeps the stored one on reinstall)
        let previous = inner.app();
        let secret = match (&previous, jwt_secret.is_empty()) {
            (Some(prev), true) if prev.app_id == app_id => prev.secret.clone(),
            _ => jwt_secret.to_owned(),
        };
        let (bot_user_id, bot_username) = {
            let st = inner.lock();
            match &previous {
                Some(prev) if prev.app_id == app_id => {
                    (prev.bot_user_id.clone(), prev.bot_username.clone())
                }
                _ => {
                    let mut username = app_id.to_lowercase();
                    if st.user_by_name(&username).is_some_and(|u| !u.is_bot) {
                        username = format!("{username}-app");
                    }
                    (String::new(), username)
                }
            }
        };
        let mut app = InstalledApp {
            app_id: app_id.clone(),
            manifest: manifest.clone(),
            root_url,
            use_jwt,
            secret,
            bot_user_id,
            bot_username,
            permissions: string_list(manifest.get("requested_permissions")),
            locations: string_list(manifest.get("requested_locations")),
            enabled: true,
            oauth2_app: None,
            oauth2_users: Default::default(),
            kv: Default::default(),
        };
        if let Some(prev) = previous.filter(|p| p.app_id == app_id) {
            app.oauth2_app = prev.oauth2_app;
            app.oauth2_users = prev.oauth2_users;
            app.kv = prev.kv;
        }
        // The ping and the icon are fetched with the new record in place, and rolled back
        // when they fail.
        let rollback = inner.lock().app.replace(app.clone());
        let restore = |inner: &Inner| inner.lock().app = rollback.clone();
        // ping
        let ping = json!({ "path": "/ping", "context": ping_context() });
        if let Err(err) = inner.invoke(ping, PING_TIMEOUT, true).await {
            restore(inner);
            return Err(format!(
                "failed to install, /ping path is not accessible: {err}"
            ));
        }
        // icon
        if let Some(icon) = manifest["icon"].as_str().filter(|i| !i.is_empty()) {
            let name = manifest::clean_static_path(icon).unwrap_or_default();
            let url = call_url(&app.root_url, &format!("/static/{name}"))?;
            let result = http()
                .get(&url)
                .timeout(inner.options.call_timeout)
                .send()
                .await;
            let status = result.as_ref().ok().map(|r| r.status().as_u16());
            inner.lock().records.statics.push(StaticFetch {
                url: url.clone(),
                status,
                sent_auth: false,
            });
            if status != Some(200) {
                restore(inner);
                return Err(format!(
                    "failed to download icon: {url}: status {}",
                    status
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "none".into())
                ));
            }
        }
        // bot
        {
            let mut st = inner.lock();
            let bot_id = match st.users.values().find(|u| u.username == app.bot_username) {
                Some(bot) => bot.id.clone(),
                None => {
                    let mut bot = User::new(&app.bot_username, "system_user");
                    bot.is_bot = true;
                    bot.first_name = display_name.clone();
                    bot.last_name = String::new();
                    bot.email = String::new();
                    bot.bot_description = format!("Bot account for `{display_name}` App.");
                    let id = bot.id.clone();
                    st.users.insert(id.clone(), bot);
                    id
                }
            };
            if let Some(installed) = st.app.as_mut() {
                installed.bot_user_id = bot_id;
            }
        }
        // on_install, or the bindings call when there is none but locations were granted
        let on_install = manifest_call(&manifest, "on_install", None, None);
        let mut message = format!("Installed app `{app_id}`: {display_name}");
        let outcome = match on_install {
            Some(call) => Some(
                inner
                    .call_app(Some(&admin.id), &call, None, &[], &ClientContext::default())
                    .await,
            ),
            None if !app.locations.is_empty() => {
                let call = manifest_call(&manifest, "bindings", Some("/bindings"), None)
                    .expect("bindings has a default");
                Some(
                    inner
                        .call_app(Some(&admin.id), &call, None, &[], &ClientContext::default())
                        .await,
                )
            }
            None => None,
        };
        match outcome {
            Some(Ok(response)) if response["type"] != "error" => {
                message.push('.');
                if let Some(text) = response["text"].as_str().filter(|t| !t.is_empty()) {
                    message.push_str("\n\n");
                    message.push_str(text);
                }
            }
            Some(Ok(response)) => message.push_str(&format!(
                ", despite on_install failure: {}",
                response["text"].as_str().unwrap_or("")
            )),
            Some(Err(err)) => message.push_str(&format!(", despite on_install failure: {err}")),
            None => message.push('.'),
        }
        inner.event(EventTarget::User(admin.id.clone()), "install");
        Ok(message)
    }

    /// The installed app's record (manifest, secret, stored data).
    pub fn installed_app(&self) -> Option<InstalledApp> {
        self.inner.app()
    }

    /// Sends the app's calls to `root_url` from now on, like a load balancer switching
    /// replicas (the manifest is unchanged).
    pub fn route_app_to(&self, root_url: &str) {
        if let Some(app) = self.inner.lock().app.as_mut() {
            app.root_url = root_url.trim_end_matches('/').to_owned();
        }
    }

    /// `/apps enable` / `/apps disable`, without the lifecycle calls.
    pub fn set_app_enabled(&self, enabled: bool) {
        if let Some(app) = self.inner.lock().app.as_mut() {
            app.enabled = enabled;
        }
    }

    // ----- calls -----

    /// A user call (`POST /api/v1/call`) with `values`, from the webapp. Returns the
    /// CallResponse as the client gets it (errors are `{"type": "error"}` with HTTP 200).
    pub async fn call(&self, user: &User, call: Value, values: Value) -> Value {
        self.call_with(user, UserCall::new(call, values)).await
    }

    /// A user call with every option.
    pub async fn call_with(&self, user: &User, call: UserCall) -> Value {
        self.inner.user_call(&user.id, call).await
    }

    /// Submits a form the app returned (a modal's submit button), with `values`.
    pub async fn submit_form(&self, user: &User, form: &Value, values: Value) -> Value {
        let names: Vec<&str> = form["fields"]
            .as_array()
            .map(|f| f.iter().filter_map(|f| f["name"].as_str()).collect())
            .unwrap_or_default();
        if let Some(values) = values.as_object() {
            for key in values.keys() {
                assert!(
                    names.contains(&key.as_str()),
                    "test bug: value {key:?} is not a field of the form ({names:?})"
                );
            }
        }
        let submit = form
            .get("submit")
            .cloned()
            .expect("the form has a submit call");
        self.call(user, submit, values).await
    }

    /// The CallRequest the plugin would send for a call by `user` (context built, nothing
    /// sent), for tests that talk to the app directly.
    pub fn build_request(&self, user: Option<&User>, call: &Value, values: Value) -> Value {
        let expand = call.get("expand").filter(|e| !e.is_null()).cloned();
        let context = {
            let mut st = self.inner.lock();
            build_context(
                &mut st,
                &self.inner.site_url,
                self.inner.options.developer_mode,
                user.map(|u| u.id.as_str()),
                expand.as_ref(),
                &ClientContext::default(),
            )
            .expect("the context builds")
        };
        let mut request = json!({ "path": call["path"], "context": context });
        if let Some(expand) = expand {
            request["expand"] = expand;
        }
        if values.as_object().is_some_and(|o| !o.is_empty()) {
            request["values"] = values;
        }
        request
    }

    /// The JWT the plugin would send with `request` (the installed app's secret).
    pub fn jwt_for(&self, request: &Value) -> String {
        let app = self.installed_app().expect("an app is installed");
        sign(&app.secret, request).0
    }

    /// POSTs `request` (e.g. from [`Mattermost::build_request`]) straight to an app instance
    /// at `root_url`, signed like the plugin, bypassing the emulator's routing and records.
    /// Returns the status and the body.
    pub async fn post_to(&self, root_url: &str, request: &Value) -> (u16, String) {
        let path = request["path"].as_str().unwrap_or("");
        let url = call_url(root_url, path).expect("a valid root URL");
        let response = http()
            .post(url)
            .timeout(self.inner.options.call_timeout)
            .header("Content-Type", "application/json")
            .header(
                "Mattermost-App-Authorization",
                format!("Bearer {}", self.jwt_for(request)),
            )
            .body(request.to_string())
            .send()
            .await
            .expect("the app answers");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// The bindings `user` gets from the webapp (`GET /api/v1/bindings`), cleaned.
    pub async fn bindings(&self, user: &User) -> Vec<Value> {
        self.inner.bindings(&user.id, Some("webapp")).await
    }

    /// The labels of the slash command's sub-commands in `user`'s bindings.
    pub async fn command_labels(&self, user: &User, command: &str) -> Vec<String> {
        let bindings = self.bindings(user).await;
        command::find_command(&bindings, command)
            .and_then(|c| c["bindings"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|b| b["label"].as_str().map(str::to_owned))
            .collect()
    }

    /// Runs a command line as the webapp's parser does ([`command::parse`]): on Enter,
    /// the client parses the line against `user`'s bindings and either refuses (`Err`, with
    /// the client's message, and nothing is sent) or calls the submit with the typed values
    /// and `raw_command`. A binding form without a submit makes it call the form's source
    /// first. The answer is the CallResponse; a `form` answer is what the client opens as a
    /// modal (submit it with [`Mattermost::submit_form`]).
    pub async fn command(&self, user: &User, line: &str) -> Result<Value, CommandError> {
        let bindings = self.bindings(user).await;
        let parsed = command::parse(&bindings, line)?;
        if let Some(source) = parsed.fetch_first {
            let fetched = self.call(user, source, json!({})).await;
            command::check_fetched_form(&fetched)?;
        }
        let submission = parsed.submission?;
        let mut call = UserCall::new(submission.call, submission.values);
        call.raw_command = Some(submission.raw_command);
        call.client_context = submission.context;
        Ok(self.call_with(user, call).await)
    }

    /// A browser logged in as `user` (its session cookie set by `GET /login`).
    pub async fn browser(&self, user: &User) -> Browser {
        Browser::login(self.site_url(), &user.username).await
    }

    /// `{site}/plugins/com.mattermost.apps/apps/{app_id}/oauth2/remote/connect`.
    pub fn connect_url(&self) -> String {
        let app = self.installed_app().expect("an app is installed");
        format!(
            "{}{}/oauth2/remote/connect",
            self.site_url(),
            app.app_path()
        )
    }

    /// `{site}/plugins/com.mattermost.apps/apps/{app_id}/oauth2/remote/complete`: the
    /// redirect URI to register with the provider.
    pub fn complete_url(&self) -> String {
        let app = self.installed_app().expect("an app is installed");
        format!(
            "{}{}/oauth2/remote/complete",
            self.site_url(),
            app.app_path()
        )
    }

    /// `http://127.0.0.1:<port>/login?user=<username>`.
    pub fn login_url(&self, username: &str) -> String {
        format!("{}/login?user={username}", self.site_url())
    }

    // ----- stored data -----

    /// What `/oauth2/app` last stored (parsed).
    pub fn stored_oauth2_app(&self) -> Option<Value> {
        let app = self.installed_app()?;
        app.oauth2_app.and_then(|s| serde_json::from_str(&s).ok())
    }

    /// Replaces the stored OAuth2 client directly (as if stored by some other means).
    pub fn set_stored_oauth2_app(&self, value: &Value) {
        if let Some(app) = self.inner.lock().app.as_mut() {
            app.oauth2_app = Some(value.to_string());
        }
    }

    /// The exact bytes `/oauth2/user` last stored for `user`.
    pub fn stored_oauth2_user_bytes(&self, user: &User) -> Option<Vec<u8>> {
        self.installed_app()?.oauth2_users.get(&user.id).cloned()
    }

    /// `user`'s stored token, parsed; `None` when nothing, `{}` or `null` is stored.
    pub fn stored_token(&self, user: &User) -> Option<Value> {
        let bytes = self.stored_oauth2_user_bytes(user)?;
        match serde_json::from_slice::<Value>(&bytes).ok()? {
            Value::Null => None,
            Value::Object(o) if o.is_empty() => None,
            value => Some(value),
        }
    }

    /// Replaces `user`'s stored token directly (as if the app had stored it).
    pub fn set_stored_token(&self, user: &User, value: &Value) {
        if let Some(app) = self.inner.lock().app.as_mut() {
            app.oauth2_users.insert(
                user.id.clone(),
                serde_json::to_vec(value).expect("a Value serialises"),
            );
        }
    }

    // ----- faults -----

    /// Makes the next Apps REST request matching `method` (None: any) and `path` answer
    /// `status` with `body` (a Mattermost store failure).
    pub fn fail_rest_once(&self, method: Option<&str>, path: &str, status: u16, body: &str) {
        self.inner.lock().rest_faults.push(RestFault {
            method: method.map(str::to_owned),
            path: path.to_owned(),
            status,
            body: body.to_owned(),
        });
    }

    /// Expires every pending OAuth2 state (as if 15 minutes had passed).
    pub fn expire_oauth2_states(&self) {
        let past = Instant::now()
            .checked_sub(Duration::from_secs(1))
            .unwrap_or_else(Instant::now);
        for expiry in self.inner.lock().oauth2_states.values_mut() {
            *expiry = past;
        }
    }

    // ----- records -----

    /// Every call made to the app, in order.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.inner.lock().records.calls.clone()
    }

    /// The calls made to `path`.
    pub fn calls_to(&self, path: &str) -> Vec<CallRecord> {
        self.calls()
            .into_iter()
            .filter(|c| c.path == path)
            .collect()
    }

    /// Every Apps REST request, in order.
    pub fn rest_calls(&self) -> Vec<RestRecord> {
        self.inner.lock().records.rest.clone()
    }

    /// The REST requests with `method` to `path`.
    pub fn rest_calls_to(&self, method: &str, path: &str) -> Vec<RestRecord> {
        self.rest_calls()
            .into_iter()
            .filter(|r| r.method == method && r.path == path)
            .collect()
    }

    /// Every refresh_bindings event.
    pub fn events(&self) -> Vec<RefreshEvent> {
        self.inner.lock().records.events.clone()
    }

    /// Everything the plugin's cleaning (and the Go re-serialisation) dropped.
    pub fn dropped(&self) -> Vec<Dropped> {
        self.inner.lock().records.dropped.clone()
    }

    /// The static asset fetches.
    pub fn static_fetches(&self) -> Vec<StaticFetch> {
        self.inner.lock().records.statics.clone()
    }

    /// Forgets the records (not the state).
    pub fn clear_records(&self) {
        self.inner.lock().records = Default::default();
    }
}
