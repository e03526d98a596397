//! The browser leg of remote OAuth2: a login route that sets the session cookie,
//! the plugin's `…/oauth2/remote/connect` and `…/oauth2/remote/complete` routes, and a Rust
//! [`Browser`] that walks connect → provider → complete by following redirects by hand;
//! also the URLs a test needs for it and the OAuth2 states' expiry.

use std::time::{Duration, Instant};

use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::context::ClientContext;
use super::manifest::manifest_call;
use super::state::{Session, SessionKind, User};
use super::{http, Inner, Mattermost, SESSION_COOKIE, STATE_TTL};
use crate::provider::LOGIN_COOKIE;
use crate::util::{new_id, query_pairs, random_bytes, WAIT};

/// The page the plugin shows when `on_oauth2_complete` succeeded.
pub const COMPLETED_TEXT: &str = "Completed connecting your account. Please close this window.";

fn text(status: u16, message: impl Into<String>) -> HttpResponse {
    let mut body = message.into();
    body.push('\n');
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("a valid status"))
        .content_type("text/plain; charset=utf-8")
        .body(body)
}

/// The Mattermost user of a browser request: its session cookie (or a bearer token).
fn browser_user(req: &HttpRequest, inner: &Inner) -> Option<String> {
    let from_cookie = req
        .headers()
        .get_all("Cookie")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == SESSION_COOKIE).then(|| value.to_owned())
        });
    let token = from_cookie.or_else(|| {
        let header = req.headers().get("Authorization")?.to_str().ok()?;
        let (scheme, token) = header.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.to_owned())
    })?;
    inner.lock().sessions.get(&token).map(|s| s.user_id.clone())
}

/// `GET /login?user=<username>`: logs the browser in (sets `MMAUTHTOKEN`) and answers 200.
pub(crate) async fn login(req: HttpRequest, inner: web::Data<Inner>) -> HttpResponse {
    let username = query_pairs(req.query_string())
        .into_iter()
        .find(|(k, _)| k == "user")
        .map(|(_, v)| v)
        .unwrap_or_default();
    let mut st = inner.lock();
    let Some(user) = st.user_by_name(&username).cloned() else {
        return text(404, format!("no user named {username:?}: not found"));
    };
    let token = new_id();
    st.sessions.insert(
        token.clone(),
        Session {
            user_id: user.id.clone(),
            kind: SessionKind::Browser,
        },
    );
    HttpResponse::Ok()
        .append_header((
            "Set-Cookie",
            format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax"),
        ))
        .append_header(("Set-Cookie", format!("MMUSERID={}; Path=/", user.id)))
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!DOCTYPE html><html><body><p>Logged in as {}</p></body></html>",
            user.username
        ))
}

/// Go's `%T` for a decoded JSON value.
fn go_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// The app checks shared by connect and complete.
fn check_app(inner: &Inner, app_id: &str) -> Result<super::InstalledApp, Box<HttpResponse>> {
    match inner.lock().app.clone() {
        Some(app) if app.app_id == app_id => {
            if app.enabled {
                Ok(app)
            } else {
                Err(Box::new(text(
                    403,
                    format!("app is disabled by the administrator: {app_id}: forbidden"),
                )))
            }
        }
        _ => Err(Box::new(text(
            404,
            format!("app {app_id} is not installed: not found"),
        ))),
    }
}

/// `GET …/apps/{app_id}/oauth2/remote/connect`.
pub(crate) async fn connect(
    req: HttpRequest,
    app_id: web::Path<String>,
    inner: web::Data<Inner>,
) -> HttpResponse {
    let app = match check_app(&inner, &app_id) {
        Ok(app) => app,
        Err(response) => return *response,
    };
    if !app.has("remote_oauth2") {
        return text(
            500,
            format!("{} is not authorized to use OAuth2", app.app_id),
        );
    }
    // The plugin does not require a session here; without one the state names no user and
    // the call fails at expansion.
    let user_id = browser_user(&req, &inner);
    let state = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(random_bytes(15)),
        user_id.clone().unwrap_or_default()
    );
    inner
        .lock()
        .oauth2_states
        .insert(state.clone(), Instant::now() + STATE_TTL);
    let call = manifest_call(
        &app.manifest,
        "get_oauth2_connect_url",
        Some("/oauth2/connect"),
        Some(json!({"acting_user": "summary", "acting_user_access_token": "all", "oauth2_app": "all"})),
    )
    .expect("has a default");
    let outcome = inner
        .call_app(
            user_id.as_deref(),
            &call,
            Some(json!({ "state": state })),
            &[],
            &ClientContext::default(),
        )
        .await;
    match outcome {
        Err(err) => text(500, err.to_string()),
        Ok(response) => match response["type"].as_str().unwrap_or("ok") {
            "ok" => match &response["data"] {
                Value::String(url) => HttpResponse::TemporaryRedirect()
                    .insert_header(("Location", url.as_str()))
                    .finish(),
                other => text(
                    500,
                    format!(
                        "oauth2: unexpected data type from the app: {}, expected string (connect URL)",
                        go_type(other)
                    ),
                ),
            },
            "error" => text(500, response["text"].as_str().unwrap_or("")),
            other => text(
                500,
                format!("oauth2: unexpected response type from the app: \"{other}\""),
            ),
        },
    }
}

/// `GET …/apps/{app_id}/oauth2/remote/complete?…`.
pub(crate) async fn complete(
    req: HttpRequest,
    app_id: web::Path<String>,
    inner: web::Data<Inner>,
) -> HttpResponse {
    let app = match check_app(&inner, &app_id) {
        Ok(app) => app,
        Err(response) => return *response,
    };
    if !app.has("remote_oauth2") {
        return text(
            401,
            format!(
                "{} is not authorized to use remote OAuth2: unauthorized",
                app.app_id
            ),
        );
    }
    // Every query parameter, first value only, as a string.
    let mut values = Map::new();
    for (name, value) in query_pairs(req.query_string()) {
        values.entry(name).or_insert(Value::String(value));
    }
    let state = values
        .get("state")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if state.is_empty() {
        return text(401, "no state arg in the URL: unauthorized");
    }
    let user_id = browser_user(&req, &inner);
    let parts: Vec<&str> = state.split('.').collect();
    if parts.len() != 2 || parts[1] != user_id.as_deref().unwrap_or("") {
        return text(403, "forbidden");
    }
    // Read and delete: single use, consumed whatever happens next.
    let stored = inner.lock().oauth2_states.remove(&state);
    if stored.is_none_or(|expiry| expiry <= Instant::now()) {
        return text(403, "state mismatch: forbidden");
    }
    let call = manifest_call(
        &app.manifest,
        "on_oauth2_complete",
        Some("/oauth2/complete"),
        Some(json!({
            "acting_user": "summary", "acting_user_access_token": "all",
            "oauth2_app": "all", "oauth2_user": "all"
        })),
    )
    .expect("has a default");
    let outcome = inner
        .call_app(
            user_id.as_deref(),
            &call,
            Some(Value::Object(values)),
            &[],
            &ClientContext::default(),
        )
        .await;
    match outcome {
        Err(err) => text(500, err.to_string()),
        Ok(response) => match response["type"].as_str().unwrap_or("ok") {
            "ok" => HttpResponse::Ok()
                .content_type("text/html")
                .body(format!(
                    "<!DOCTYPE html><html><head><script>window.close();</script></head><body><p>{COMPLETED_TEXT}</p></body></html>"
                )),
            "error" => text(500, response["text"].as_str().unwrap_or("")),
            other => text(
                500,
                format!("oauth2: unexpected response type from the app: \"{other}\""),
            ),
        },
    }
}

/// One response the browser got.
#[derive(Debug, Clone)]
pub struct BrowserResponse {
    /// The URL requested.
    pub url: String,
    /// The status.
    pub status: u16,
    /// The `Location` header, for redirects.
    pub location: Option<String>,
    /// The `Content-Type` header.
    pub content_type: String,
    /// The body.
    pub body: String,
}

/// A walk through the flow: each step's response, as far as it got.
#[derive(Debug, Clone)]
pub struct Walk {
    /// `GET …/oauth2/remote/connect`.
    pub connect: BrowserResponse,
    /// `GET <provider authorize URL>`, when connect redirected.
    pub authorize: Option<BrowserResponse>,
    /// `GET …/oauth2/remote/complete?…`, when the provider redirected back.
    pub complete: Option<BrowserResponse>,
}

impl Walk {
    /// The last response.
    pub fn last(&self) -> &BrowserResponse {
        self.complete
            .as_ref()
            .or(self.authorize.as_ref())
            .unwrap_or(&self.connect)
    }

    /// True when the plugin showed its "Completed connecting" page.
    pub fn completed(&self) -> bool {
        self.complete
            .as_ref()
            .is_some_and(|r| r.status == 200 && r.body.contains(COMPLETED_TEXT))
    }
}

/// A browser: the Mattermost session cookie for the site, and the provider login cookie
/// (who is signed in at the provider) for every other origin. Redirects are followed by hand.
#[derive(Debug, Clone)]
pub struct Browser {
    site_url: String,
    session: Option<String>,
    provider_login: Option<String>,
}

impl Browser {
    /// Logs in as `username` with `GET /login?user=…` and keeps the cookie. The provider sees
    /// the same name signed in.
    pub async fn login(site_url: &str, username: &str) -> Self {
        let url = format!("{site_url}/login?user={username}");
        let response = http()
            .get(&url)
            .timeout(WAIT)
            .send()
            .await
            .expect("the emulator answers /login");
        assert_eq!(response.status().as_u16(), 200, "login as {username}");
        let session = response
            .headers()
            .get_all("Set-Cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| {
                c.split(';')
                    .next()?
                    .strip_prefix(&format!("{SESSION_COOKIE}="))
                    .map(str::to_owned)
            })
            .expect("/login sets the session cookie");
        Self {
            site_url: site_url.to_owned(),
            session: Some(session),
            provider_login: Some(username.to_owned()),
        }
    }

    /// A browser with no Mattermost session.
    pub fn anonymous(site_url: &str) -> Self {
        Self {
            site_url: site_url.to_owned(),
            session: None,
            provider_login: Some("anonymous".into()),
        }
    }

    /// One GET, no redirect followed, cookies by origin.
    pub async fn get(&self, url: &str) -> BrowserResponse {
        let same_site = url.starts_with(&format!("{}/", self.site_url));
        let cookie = if same_site {
            self.session
                .as_ref()
                .map(|s| format!("{SESSION_COOKIE}={s}"))
        } else {
            self.provider_login
                .as_ref()
                .map(|l| format!("{LOGIN_COOKIE}={l}"))
        };
        let mut request = http().get(url).timeout(WAIT);
        if let Some(cookie) = cookie {
            request = request.header("Cookie", cookie);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url} failed: {e}"));
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let location = header("Location");
        let content_type = header("Content-Type").unwrap_or_default();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        BrowserResponse {
            url: url.to_owned(),
            status,
            location,
            content_type,
            body,
        }
    }

    /// Opens `connect_url` and follows the flow: 307 to the provider, its redirect back to
    /// the site, and the complete page.
    pub async fn walk(&self, connect_url: &str) -> Walk {
        let connect = self.get(connect_url).await;
        let mut walk = Walk {
            connect,
            authorize: None,
            complete: None,
        };
        let Some(provider_url) = walk
            .connect
            .location
            .clone()
            .filter(|_| walk.connect.status == 307)
        else {
            return walk;
        };
        let authorize = self.get(&provider_url).await;
        let back = authorize
            .location
            .clone()
            .filter(|_| matches!(authorize.status, 302 | 303 | 307))
            .filter(|l| l.starts_with(&format!("{}/", self.site_url)));
        walk.authorize = Some(authorize);
        if let Some(back) = back {
            walk.complete = Some(self.get(&back).await);
        }
        walk
    }
}

impl Mattermost {
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

    /// Expires every pending OAuth2 state (as if 15 minutes had passed).
    pub fn expire_oauth2_states(&self) {
        let past = Instant::now()
            .checked_sub(Duration::from_secs(1))
            .unwrap_or_else(Instant::now);
        for expiry in self.inner.lock().oauth2_states.values_mut() {
            *expiry = past;
        }
    }
}
