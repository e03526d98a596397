//! The plugin's calls to the app: the CallRequest built from a call and its expand, signed
//! with the app's JWT secret, posted to `root_url + path` and recorded; then the answer as
//! the client gets it (the Go struct's keys only, forms and bindings cleaned, a
//! `refresh_bindings` event). Also a client's user call (`POST /api/v1/call`) with the
//! plugin's path checks, and the bindings call behind `GET /api/v1/bindings`.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Map, Value};

use super::clean::{clean_bindings, clean_form, CleanContext, Dropped};
use super::context::{build_context, ClientContext};
use super::manifest::{self, manifest_call};
use super::records::{CallRecord, EventTarget};
use super::state::{InstalledApp, User};
use super::{http, Inner, Mattermost};
use crate::util::{go_path_clean, percent_decode_fully};

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

impl Inner {
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
pub(super) fn call_url(root_url: &str, path: &str) -> Result<String, String> {
    let mut url = url::Url::parse(root_url).map_err(|e| format!("bad root_url: {e}"))?;
    let joined = format!("{}/{}", url.path(), path);
    url.set_path(&go_path_clean(&percent_decode_fully(&joined)));
    Ok(url.to_string())
}

pub(super) fn describe_reqwest(err: &reqwest::Error) -> String {
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

impl Mattermost {
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
}
