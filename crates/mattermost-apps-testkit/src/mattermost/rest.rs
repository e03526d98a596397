//! The Apps REST API under `/plugins/com.mattermost.apps/api/v1`: `/oauth2/app`,
//! `/oauth2/user` and `/kv/...`, with the checks, limits and error texts; also what a test
//! reads or plants in the store behind it, and one-shot store failures.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::manifest::json_kind;
use super::records::{EventTarget, RefreshEvent, RestRecord};
use super::state::{InstalledApp, RestFault, SessionKind, State, User};
use super::{Inner, Mattermost, API_PATH};
use crate::util::percent_decode;

/// The largest KV / OAuth2 body accepted.
pub const MAX_BODY: usize = 8192;

struct Answer {
    status: u16,
    body: Vec<u8>,
    content_type: &'static str,
}

impl Answer {
    fn ok_empty() -> Self {
        Self {
            status: 200,
            body: Vec::new(),
            content_type: "text/plain; charset=utf-8",
        }
    }

    fn json(body: Vec<u8>) -> Self {
        Self {
            status: 200,
            body,
            content_type: "application/json",
        }
    }

    /// `<message>\n` as text/plain; the messages already end with `: <category>`.
    fn error(status: u16, message: impl Into<String>) -> Self {
        let mut body = message.into().into_bytes();
        body.push(b'\n');
        Self {
            status,
            body,
            content_type: "text/plain; charset=utf-8",
        }
    }
}

/// Who is calling: the token's user and whether the token is an app session of the app.
struct Caller {
    user: Option<User>,
    app_session: bool,
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let header = req.headers().get("Authorization")?.to_str().ok()?;
    let (scheme, token) = header.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token"))
        .then(|| token.trim().to_owned())
}

/// Every request under the API path.
pub(crate) async fn handle(
    req: HttpRequest,
    body: web::Bytes,
    inner: web::Data<Inner>,
) -> HttpResponse {
    let path = req.path().strip_prefix(API_PATH).unwrap_or("").to_owned();
    let method = req.method().as_str().to_owned();
    let token = bearer(&req);
    let answer = {
        let mut st = inner.lock();
        let caller = {
            let session = token.as_deref().and_then(|t| st.sessions.get(t)).cloned();
            let app_id = st.app.as_ref().map(|a| a.app_id.clone());
            Caller {
                user: session
                    .as_ref()
                    .and_then(|s| st.users.get(&s.user_id))
                    .cloned(),
                app_session: session.is_some_and(|s| {
                    matches!(&s.kind, SessionKind::App { app_id: a } if Some(a) == app_id.as_ref())
                }),
            }
        };
        let answer = route(&mut st, &method, &path, &caller, &body);
        let late = st
            .rest_late
            .iter()
            .position(|(m, p, _)| *m == method && *p == path)
            .map(|i| st.rest_late.remove(i).2);
        st.records.rest.push(RestRecord {
            method,
            path,
            user_id: caller.user.map(|u| u.id),
            status: answer.status,
        });
        (answer, late)
    };
    let (answer, late) = answer;
    if let Some(late) = late {
        tokio::time::sleep(late).await;
    }
    HttpResponse::build(
        actix_web::http::StatusCode::from_u16(answer.status).expect("a valid status"),
    )
    .content_type(answer.content_type)
    .body(answer.body)
}

fn route(st: &mut State, method: &str, path: &str, caller: &Caller, body: &[u8]) -> Answer {
    let known = path == "/oauth2/app" || path == "/oauth2/user" || kv_route(path).is_some();
    if !known {
        return Answer::error(404, "404 page not found");
    }
    let allowed = match path {
        "/oauth2/app" => matches!(method, "POST" | "PUT"),
        "/oauth2/user" => matches!(method, "GET" | "POST" | "PUT"),
        _ => matches!(method, "GET" | "POST" | "PUT" | "DELETE"),
    };
    if !allowed {
        return Answer::error(405, "405 method not allowed");
    }
    let Some(app) = st.app.clone() else {
        return Answer::error(404, "app is not installed: not found");
    };
    // Authentication and permissions, in the plugin's order.
    let Some(user) = caller.user.clone() else {
        return Answer::error(401, "user ID is required: unauthorized");
    };
    let remote_oauth2 = || {
        Answer::error(
            401,
            format!(
                "{} is not authorized to use remote OAuth2: unauthorized",
                app.app_id
            ),
        )
    };
    match path {
        "/oauth2/app" => {
            if user.is_bot || !user.is_system_admin() {
                return Answer::error(
                    401,
                    "access to this operation is limited to users with permission: manage_system: unauthorized",
                );
            }
            if !caller.app_session {
                return Answer::error(401, "not an app session: unauthorized");
            }
            if !app.has("remote_oauth2") {
                return remote_oauth2();
            }
        }
        "/oauth2/user" => {
            if !caller.app_session {
                return Answer::error(401, "not an app session: unauthorized");
            }
            if user.is_bot {
                return Answer::error(
                    401,
                    format!(
                        "@{} ({}): is a bot: unauthorized",
                        user.username, user.first_name
                    ),
                );
            }
            if !app.has("remote_oauth2") {
                return remote_oauth2();
            }
        }
        _ => {
            if !caller.app_session {
                return Answer::error(401, "not an app session: unauthorized");
            }
        }
    }
    // A store failure injected by the test.
    if let Some(i) = st
        .rest_faults
        .iter()
        .position(|f| f.path == path && f.method.as_deref().is_none_or(|m| m == method))
    {
        let fault = st.rest_faults.remove(i);
        return Answer::error(fault.status, fault.body);
    }
    if st
        .rest_down
        .iter()
        .any(|(m, p)| p == path && m.as_deref().is_none_or(|m| m == method))
    {
        return Answer::error(500, "injected outage: the store is down");
    }
    if method != "GET" && method != "DELETE" && body.len() > MAX_BODY {
        return Answer::error(500, "size limit of 8Kb exceeded");
    }
    let app = st.app.as_mut().expect("checked above");
    let (answer, event) = match path {
        "/oauth2/app" => store_oauth2_app(app, body),
        "/oauth2/user" => oauth2_user(app, &user, method, body),
        _ => (kv(app, &user, method, path, body), None),
    };
    if let Some(event) = event {
        st.records.events.push(event);
    }
    answer
}

fn store_oauth2_app(app: &mut InstalledApp, body: &[u8]) -> (Answer, Option<RefreshEvent>) {
    let parsed: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(err) => {
            return (
                Answer::error(
                    400,
                    format!("OAuth2App is not valid JSON: {err}: invalid input"),
                ),
                None,
            )
        }
    };
    let object = match &parsed {
        Value::Null => serde_json::Map::new(),
        Value::Object(o) => o.clone(),
        other => {
            return (
                Answer::error(
                    400,
                    format!(
                        "OAuth2App is not valid JSON: json: cannot unmarshal {} into Go value of type apps.OAuth2App: invalid input",
                        json_kind(other)
                    ),
                ),
                None,
            )
        }
    };
    // Decoded into the four known keys only; omitted keys are cleared.
    let mut pairs: Vec<String> = Vec::new();
    for key in ["remote_root_url", "client_id", "client_secret"] {
        match object.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.is_empty() => {}
            Some(Value::String(s)) => pairs.push(format!("\"{key}\":{}", go_json(&json!(s)))),
            Some(other) => {
                return (
                    Answer::error(
                        400,
                        format!(
                            "OAuth2App is not valid JSON: json: cannot unmarshal {} into Go struct field OAuth2App.{key} of type string: invalid input",
                            json_kind(other)
                        ),
                    ),
                    None,
                )
            }
        }
    }
    if let Some(data) = object.get("data").filter(|d| !d.is_null()) {
        pairs.push(format!("\"data\":{}", go_json(data)));
    }
    let encoded = format!("{{{}}}", pairs.join(","));
    let unchanged = app
        .oauth2_app
        .as_ref()
        .is_some_and(|current| current.as_bytes() == body);
    if unchanged {
        return (Answer::ok_empty(), None);
    }
    app.oauth2_app = Some(encoded);
    (
        Answer::ok_empty(),
        Some(event(EventTarget::AllUsers, "oauth2/app stored")),
    )
}

fn oauth2_user(
    app: &mut InstalledApp,
    user: &User,
    method: &str,
    body: &[u8],
) -> (Answer, Option<RefreshEvent>) {
    if method == "GET" {
        let stored = app.oauth2_users.get(&user.id).cloned().unwrap_or_default();
        let answer = Answer {
            status: 200,
            body: stored,
            content_type: "text/plain; charset=utf-8",
        };
        return (answer, None);
    }
    if serde_json::from_slice::<Value>(body).is_err() {
        return (
            Answer::error(400, "payload is not valid JSON: invalid input"),
            None,
        );
    }
    if app.oauth2_users.get(&user.id).map(Vec::as_slice) == Some(body) {
        return (Answer::ok_empty(), None);
    }
    app.oauth2_users.insert(user.id.clone(), body.to_vec());
    let target = EventTarget::User(user.id.clone());
    (
        Answer::ok_empty(),
        Some(event(target, "oauth2/user stored")),
    )
}

/// The (prefix, key) of `/kv/{key}` or `/kv/{prefix}/{key}`, matched as the plugin's router
/// (gorilla/mux) does: on the decoded path, each part one or more characters other than `/`
/// (mattermost-plugin-apps: server/httpin/service.go). So `/kv/a%2Fb` is prefix `a`, key `b`.
fn kv_route(path: &str) -> Option<(String, String)> {
    let decoded = percent_decode(path.strip_prefix("/kv/")?);
    match decoded.split('/').collect::<Vec<_>>().as_slice() {
        [key] if !key.is_empty() => Some((String::new(), key.to_string())),
        [prefix, key] if !prefix.is_empty() && !key.is_empty() => {
            Some((prefix.to_string(), key.to_string()))
        }
        _ => None,
    }
}

fn kv(app: &mut InstalledApp, user: &User, method: &str, path: &str, body: &[u8]) -> Answer {
    let Some((prefix, key)) = kv_route(path) else {
        return Answer::error(404, "404 page not found");
    };
    if prefix.len() > 2 {
        return Answer::error(
            500,
            format!("prefix \"{prefix}\" is longer than the limit of 2 ASCII characters"),
        );
    }
    let id = (user.id.clone(), prefix, key);
    match method {
        "GET" => Answer::json(app.kv.get(&id).cloned().unwrap_or_else(|| b"{}".to_vec())),
        "DELETE" => {
            app.kv.remove(&id);
            Answer::ok_empty()
        }
        _ => {
            if serde_json::from_slice::<Value>(body).is_err() {
                return Answer::error(400, "payload is not valid json: invalid input");
            }
            app.kv.insert(id, body.to_vec());
            // The plugin passes on pluginapi's `KV.Set` "written" flag, true for every
            // write, the same value again included (server/store/appkv.go).
            Answer::json(br#"{"changed":true}"#.to_vec())
        }
    }
}

fn event(target: EventTarget, reason: &str) -> RefreshEvent {
    RefreshEvent {
        target,
        reason: reason.to_owned(),
    }
}

/// Go's `json.Marshal` output for a value: sorted object keys (serde_json's default map)
/// and HTML-safe escapes.
pub fn go_json(value: &Value) -> String {
    serde_json::to_string(value)
        .expect("a Value serialises")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

impl Mattermost {
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

    /// Carries out the next Apps REST request matching `method` and `path` at once, and
    /// sends its answer `late` (a store that happened, answered too late).
    pub fn answer_rest_late_once(&self, method: &str, path: &str, late: std::time::Duration) {
        self.inner
            .lock()
            .rest_late
            .push((method.to_owned(), path.to_owned(), late));
    }

    /// Makes every Apps REST request matching `method` (None: any) and `path` answer 500
    /// while `down` (a Mattermost store outage), until called again with `false`.
    pub fn set_rest_down(&self, method: Option<&str>, path: &str, down: bool) {
        let key = (method.map(str::to_owned), path.to_owned());
        let mut st = self.inner.lock();
        st.rest_down.retain(|k| *k != key);
        if down {
            st.rest_down.push(key);
        }
    }

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
}
