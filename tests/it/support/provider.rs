//! A fake OAuth2 provider (authorization code with PKCE S256, refresh with optional
//! rotation, userinfo, RFC 7009 revocation) with fault injection and counters. It can
//! also behave like real providers do where they differ from the RFCs: GitHub's token
//! errors with HTTP 200, Google's revocation that ends the whole grant.
//!
//! Who is signed in at the provider is the [`LOGIN_COOKIE`] cookie the [`Browser`] sends
//! (its Mattermost username by default); authorization is approved automatically unless
//! [`Provider::deny_authorization`] was called.
//!
//! [`Browser`]: crate::support::mattermost::Browser

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::support::util::{query_pairs, random_token, s256};

/// The cookie naming the user signed in at the provider.
pub const LOGIN_COOKIE: &str = "fake_idp_user";

/// An endpoint faults can be injected into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `/token` (both grants).
    Token,
    /// `/userinfo`.
    Userinfo,
    /// `/revoke`.
    Revoke,
    /// `/.well-known/openid-configuration` and `/.well-known/oauth-authorization-server`.
    Discovery,
    /// `/calendar/v3/users/me/calendarList` (Google's calendar list).
    Calendar,
}

/// A one-shot fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 500 with a text body.
    ServerError,
    /// No answer for this long (longer than the app's timeout), then a 500.
    Hang(Duration),
    /// HTTP 200 with an HTML body.
    NonJson,
    /// HTTP 400 `{"error": "invalid_grant"}` (401 at userinfo and the calendar list).
    InvalidGrant,
    /// Wait this long, then answer as usual.
    Delay(Duration),
    /// HTTP 403 with GitHub's rate-limit JSON.
    Forbidden,
    /// HTTP 200, JSON, and a body of [`HUGE_BODY`] bytes.
    Huge,
}

/// The size of a [`Fault::Huge`] body: far more than any real answer.
pub const HUGE_BODY: usize = 4 * 1024 * 1024;

/// A [`Fault::Huge`] body: a JSON object whose `name` and `error` fill [`HUGE_BODY`] bytes.
static HUGE_JSON: LazyLock<web::Bytes> = LazyLock::new(|| {
    let filler = "x".repeat(HUGE_BODY / 2);
    web::Bytes::from(json!({"name": filler, "error": filler}).to_string())
});

/// How often each endpoint was called (faulted calls included).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// `/authorize`.
    pub authorize: usize,
    /// `/token`, any grant.
    pub token: usize,
    /// `/token` with `grant_type=authorization_code` that issued a token.
    pub code_exchanges: usize,
    /// `/token` with `grant_type=refresh_token` that issued a token.
    pub refreshes: usize,
    /// `/userinfo`.
    pub userinfo: usize,
    /// `/revoke`.
    pub revoke: usize,
    /// The calendar list.
    pub calendar: usize,
    /// Spent refresh tokens presented again (with reuse detection: each revoked a grant).
    pub reuses: usize,
}

/// The provider's side of a [`Held`]: tell the test the request came, wait for release.
type Hold = (
    tokio::sync::oneshot::Sender<()>,
    tokio::sync::oneshot::Receiver<()>,
);

/// A request held at the provider by [`Provider::hold_next`] until released.
pub struct Held {
    seen: tokio::sync::oneshot::Receiver<()>,
    release: tokio::sync::oneshot::Sender<()>,
}

impl Held {
    /// Waits until the provider has received the held request.
    pub async fn seen(&mut self) {
        crate::support::util::within("the held request to reach the provider", &mut self.seen)
            .await
            .expect("the provider is running");
    }

    /// Lets the held request go on as usual.
    pub fn release(self) {
        // The request may have given up already (its client timed out): nothing to do.
        let _ = self.release.send(());
    }
}

/// Who a login is at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Subject.
    pub sub: String,
    /// Display name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// Username.
    pub preferred_username: String,
}

impl Identity {
    /// The provider account of `login`.
    pub fn of(login: &str) -> Self {
        Self {
            sub: format!("sub-{login}"),
            name: format!("Provider User {login}"),
            email: format!("{login}@provider.example"),
            preferred_username: format!("{login}_at_provider"),
        }
    }
}

/// A `/token` request as received.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// `grant_type`.
    pub grant_type: String,
    /// `basic` or `post` (how the client authenticated), or `none`.
    pub client_auth: String,
}

#[derive(Debug, Clone)]
struct CodeGrant {
    redirect_uri: String,
    challenge: String,
    login: String,
    scope: String,
    used: bool,
}

#[derive(Debug, Clone)]
struct AccessGrant {
    login: String,
    expires_at: Option<DateTime<Utc>>,
    revoked: bool,
    refresh: Option<String>,
}

#[derive(Debug, Clone)]
struct RefreshGrant {
    login: String,
    /// The first refresh token of its rotation chain: one grant.
    family: String,
    revoked: bool,
    used: bool,
}

struct PState {
    client_id: String,
    client_secret: String,
    redirect_uris: Vec<String>,
    expires_in: Option<i64>,
    rotate_refresh_tokens: bool,
    refresh_returns_refresh_token: bool,
    deny: Option<String>,
    codes: HashMap<String, CodeGrant>,
    access: HashMap<String, AccessGrant>,
    refresh: HashMap<String, RefreshGrant>,
    faults: HashMap<Endpoint, VecDeque<Fault>>,
    holds: HashMap<Endpoint, VecDeque<Hold>>,
    /// A spent refresh token presented again revokes its whole grant (Auth0, Okta).
    reuse_detection: bool,
    /// Characters added to every access token issued from now on.
    access_token_padding: usize,
    counts: Counts,
    token_requests: Vec<TokenRequest>,
    revoked_by_request: Vec<String>,
    /// What `/.well-known/openid-configuration` serves (`None`: 404).
    discovery: Option<Value>,
    /// The `iss` sent with codes and errors (RFC 9207), if any.
    iss: Option<String>,
    github_errors: bool,
    revocation_ends_grant: bool,
    userinfo: Option<Value>,
}

struct PInner {
    state: Mutex<PState>,
    /// TCP connections the provider's server has accepted.
    connections: std::sync::atomic::AtomicUsize,
}

impl PInner {
    fn lock(&self) -> MutexGuard<'_, PState> {
        match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// The running provider. Dropping it stops its server.
pub struct Provider {
    inner: Arc<PInner>,
    base_url: String,
    handle: ServerHandle,
}

impl Drop for Provider {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

impl Provider {
    /// Starts a provider on `127.0.0.1:<random>` knowing one client.
    pub async fn start(client_id: &str, client_secret: &str) -> Self {
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").expect("bind the provider's port");
        let port = listener.local_addr().expect("local address").port();
        let base_url = format!("http://127.0.0.1:{port}");
        let inner = Arc::new(PInner {
            connections: std::sync::atomic::AtomicUsize::new(0),
            state: Mutex::new(PState {
                client_id: client_id.to_owned(),
                client_secret: client_secret.to_owned(),
                redirect_uris: Vec::new(),
                expires_in: Some(3600),
                rotate_refresh_tokens: false,
                refresh_returns_refresh_token: true,
                deny: None,
                codes: HashMap::new(),
                access: HashMap::new(),
                refresh: HashMap::new(),
                faults: HashMap::new(),
                holds: HashMap::new(),
                reuse_detection: false,
                access_token_padding: 0,
                counts: Counts::default(),
                token_requests: Vec::new(),
                revoked_by_request: Vec::new(),
                discovery: Some(discovery_document(&base_url)),
                iss: Some(base_url.clone()),
                github_errors: false,
                revocation_ends_grant: false,
                userinfo: None,
            }),
        });
        let data = web::Data::from(inner.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/authorize", web::get().to(authorize))
                .route("/token", web::post().to(token))
                .route("/userinfo", web::get().to(userinfo))
                .route("/userinfo", web::post().to(userinfo))
                .route("/revoke", web::post().to(revoke))
                .route(
                    "/.well-known/openid-configuration",
                    web::get().to(discovery),
                )
                .route(
                    "/.well-known/oauth-authorization-server",
                    web::get().to(discovery),
                )
                .route(
                    "/calendar/v3/users/me/calendarList",
                    web::get().to(calendar_list),
                )
        })
        .workers(1)
        .disable_signals()
        .on_connect({
            let inner = inner.clone();
            move |_, _| {
                inner
                    .connections
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        })
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            inner,
            base_url,
            handle,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
    /// The authorization endpoint.
    pub fn authorize_url(&self) -> String {
        format!("{}/authorize", self.base_url)
    }
    /// The token endpoint.
    pub fn token_url(&self) -> String {
        format!("{}/token", self.base_url)
    }
    /// The userinfo endpoint.
    pub fn userinfo_url(&self) -> String {
        format!("{}/userinfo", self.base_url)
    }
    /// The RFC 7009 revocation endpoint.
    pub fn revoke_url(&self) -> String {
        format!("{}/revoke", self.base_url)
    }
    /// Google's calendar list, as the Calendar API serves it.
    pub fn calendar_url(&self) -> String {
        format!("{}/calendar/v3/users/me/calendarList", self.base_url)
    }
    /// The issuer its discovery document names: the base URL.
    pub fn issuer(&self) -> &str {
        &self.base_url
    }
    /// Its discovery document, as served unless [`Provider::set_discovery`] replaced it.
    pub fn discovery_document(&self) -> Value {
        discovery_document(&self.base_url)
    }
    /// Serves `doc` as the discovery document (a JSON string is sent as the raw body), or
    /// 404 for `None`.
    pub fn set_discovery(&self, doc: Option<Value>) {
        self.inner.lock().discovery = doc;
    }
    /// The `iss` sent with every code and error from now on (RFC 9207; the issuer by
    /// default); `None`: no `iss`.
    pub fn set_iss(&self, iss: Option<&str>) {
        self.inner.lock().iss = iss.map(str::to_owned);
    }
    /// The client ID it knows.
    pub fn client_id(&self) -> String {
        self.inner.lock().client_id.clone()
    }
    /// The client secret it expects.
    pub fn client_secret(&self) -> String {
        self.inner.lock().client_secret.clone()
    }

    /// Registers a redirect URI (matched exactly).
    pub fn register_redirect_uri(&self, uri: &str) {
        self.inner.lock().redirect_uris.push(uri.to_owned());
    }

    /// `expires_in` of new access tokens (`None`: not sent, the token never expires).
    pub fn set_expires_in(&self, seconds: Option<i64>) {
        self.inner.lock().expires_in = seconds;
    }

    /// Rotate refresh tokens: each refresh issues a new one and kills the old one.
    pub fn set_rotation(&self, rotate: bool) {
        self.inner.lock().rotate_refresh_tokens = rotate;
    }

    /// Whether a refresh without rotation sends the (same) refresh token back.
    pub fn set_refresh_returns_refresh_token(&self, returns: bool) {
        self.inner.lock().refresh_returns_refresh_token = returns;
    }

    /// Answers token-endpoint errors as GitHub does: HTTP 200 with an `error` field,
    /// `incorrect_client_credentials` for a wrong secret, `bad_refresh_token` for a dead
    /// refresh token.
    pub fn set_github_errors(&self, github: bool) {
        self.inner.lock().github_errors = github;
    }

    /// Revokes as Google does: revoking either token ends the whole grant (the refresh
    /// token and every access token issued with it), and revoking a token that is already
    /// dead or unknown answers HTTP 400 `invalid_token`.
    pub fn set_revocation_ends_grant(&self, ends_grant: bool) {
        self.inner.lock().revocation_ends_grant = ends_grant;
    }

    /// Makes `/userinfo` answer this document for every active token.
    pub fn set_userinfo(&self, doc: Value) {
        self.inner.lock().userinfo = Some(doc);
    }

    /// Revokes every token issued so far, as when the user removes the app's access.
    pub fn revoke_all(&self) {
        let mut st = self.inner.lock();
        for grant in st.access.values_mut() {
            grant.revoked = true;
        }
        for grant in st.refresh.values_mut() {
            grant.revoked = true;
        }
    }

    /// Makes `/authorize` deny with `error=access_denied&error_description=<description>`.
    pub fn deny_authorization(&self, description: &str) {
        self.inner.lock().deny = Some(description.to_owned());
    }

    /// Makes `/authorize` approve again.
    pub fn allow_authorization(&self) {
        self.inner.lock().deny = None;
    }

    /// Holds the answer to the next request to `endpoint` (only [`Endpoint::Token`]) until
    /// the returned [`Held`] is released; the request itself is carried out at once.
    pub fn hold_next(&self, endpoint: Endpoint) -> Held {
        let (seen_tx, seen) = tokio::sync::oneshot::channel();
        let (release, release_rx) = tokio::sync::oneshot::channel();
        self.inner
            .lock()
            .holds
            .entry(endpoint)
            .or_default()
            .push_back((seen_tx, release_rx));
        Held { seen, release }
    }

    /// With rotation: a spent refresh token presented again revokes its whole grant, as
    /// Auth0 and Okta do without a grace period.
    pub fn set_reuse_detection(&self, on: bool) {
        self.inner.lock().reuse_detection = on;
    }

    /// Makes every access token issued from now on `extra` characters longer.
    pub fn set_access_token_padding(&self, extra: usize) {
        self.inner.lock().access_token_padding = extra;
    }

    /// Queues a fault for the next call of `endpoint`.
    pub fn fail_next(&self, endpoint: Endpoint, fault: Fault) {
        self.inner
            .lock()
            .faults
            .entry(endpoint)
            .or_default()
            .push_back(fault);
    }

    /// TCP connections the provider has accepted so far.
    pub fn connections(&self) -> usize {
        self.inner
            .connections
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The counters.
    pub fn counts(&self) -> Counts {
        self.inner.lock().counts.clone()
    }

    /// Every `/token` request.
    pub fn token_requests(&self) -> Vec<TokenRequest> {
        self.inner.lock().token_requests.clone()
    }

    /// The login an access token was issued to.
    pub fn owner_of(&self, access_token: &str) -> Option<String> {
        self.inner
            .lock()
            .access
            .get(access_token)
            .map(|a| a.login.clone())
    }

    /// True when `/userinfo` would accept the access token.
    pub fn access_token_active(&self, access_token: &str) -> bool {
        self.inner
            .lock()
            .access
            .get(access_token)
            .is_some_and(|a| !a.revoked && a.expires_at.is_none_or(|e| e > Utc::now()))
    }

    /// True when the refresh token would be accepted.
    pub fn refresh_token_active(&self, refresh_token: &str) -> bool {
        self.inner
            .lock()
            .refresh
            .get(refresh_token)
            .is_some_and(|r| !r.revoked && !r.used)
    }

    /// Tokens revoked through `/revoke`, in order.
    pub fn revocations(&self) -> Vec<String> {
        self.inner.lock().revoked_by_request.clone()
    }

    /// Every code, access token and refresh token issued, for leak checks.
    pub fn issued_secrets(&self) -> Vec<String> {
        let st = self.inner.lock();
        st.codes
            .keys()
            .chain(st.access.keys())
            .chain(st.refresh.keys())
            .cloned()
            .collect()
    }

    /// Expires every access token issued so far (the provider then refuses them).
    pub fn expire_access_tokens(&self) {
        let past = Utc::now() - chrono::Duration::seconds(1);
        for grant in self.inner.lock().access.values_mut() {
            grant.expires_at = Some(past);
        }
    }
}

/// The discovery document of a provider at `base`; it announces the `iss` parameter.
fn discovery_document(base: &str) -> Value {
    json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "revocation_endpoint": format!("{base}/revoke"),
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true
    })
}

fn json_response(status: u16, body: Value) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("a valid status"))
        .content_type("application/json")
        .insert_header(("Cache-Control", "no-store"))
        .body(body.to_string())
}

fn oauth_error(status: u16, error: &str, description: &str) -> HttpResponse {
    json_response(
        status,
        json!({"error": error, "error_description": description}),
    )
}

/// Applies a queued fault; `Some` is the response to send instead.
async fn take_fault(inner: &PInner, endpoint: Endpoint) -> Option<HttpResponse> {
    let held = inner
        .lock()
        .holds
        .get_mut(&endpoint)
        .and_then(VecDeque::pop_front);
    if let Some((seen, release)) = held {
        // The test may have stopped waiting for either: nothing to do then.
        let _ = seen.send(());
        let _ = release.await;
    }
    let fault = inner.lock().faults.get_mut(&endpoint)?.pop_front()?;
    Some(match fault {
        Fault::Delay(duration) => {
            tokio::time::sleep(duration).await;
            return None;
        }
        Fault::Forbidden => json_response(
            403,
            json!({"message": "API rate limit exceeded for user ID 1.", "documentation_url": "https://docs.github.com/rest"}),
        ),
        // Built once and shared: serialising 4 MiB per call made the fake itself slow
        // enough, in a debug build under load, to trip the app's timeout instead of its cap.
        Fault::Huge => HttpResponse::Ok()
            .content_type("application/json")
            .body(HUGE_JSON.clone()),
        Fault::ServerError => HttpResponse::InternalServerError()
            .content_type("text/plain")
            .body("internal server error"),
        Fault::Hang(duration) => {
            tokio::time::sleep(duration).await;
            HttpResponse::InternalServerError().body("too late")
        }
        Fault::NonJson => HttpResponse::Ok()
            .content_type("text/html")
            .body("<html><body>Service temporarily unavailable</body></html>"),
        Fault::InvalidGrant if matches!(endpoint, Endpoint::Userinfo | Endpoint::Calendar) => {
            HttpResponse::Unauthorized().finish()
        }
        Fault::InvalidGrant => oauth_error(400, "invalid_grant", "injected invalid_grant"),
    })
}

fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all("Cookie")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (n, v) = pair.trim().split_once('=')?;
            (n == name).then(|| v.to_owned())
        })
}

fn redirect_with(redirect_uri: &str, params: &[(&str, &str)], iss: Option<&str>) -> HttpResponse {
    let mut url = url::Url::parse(redirect_uri).expect("registered redirect URIs parse");
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in params {
            query.append_pair(k, v);
        }
        if let Some(iss) = iss {
            query.append_pair("iss", iss);
        }
    }
    HttpResponse::Found()
        .insert_header(("Location", url.to_string()))
        .finish()
}

async fn authorize(req: HttpRequest, inner: web::Data<PInner>) -> HttpResponse {
    let q: HashMap<String, String> = query_pairs(req.query_string()).into_iter().rev().collect();
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let mut st = inner.lock();
    st.counts.authorize += 1;
    if get("client_id") != st.client_id {
        return HttpResponse::BadRequest().body("unknown client_id");
    }
    let redirect_uri = get("redirect_uri");
    if !st.redirect_uris.contains(&redirect_uri) {
        return HttpResponse::BadRequest().body("redirect_uri is not registered for this client");
    }
    let state = get("state");
    if get("response_type") != "code" {
        return redirect_with(
            &redirect_uri,
            &[("error", "unsupported_response_type"), ("state", &state)],
            st.iss.as_deref(),
        );
    }
    if get("code_challenge").is_empty() || get("code_challenge_method") != "S256" {
        return redirect_with(
            &redirect_uri,
            &[
                ("error", "invalid_request"),
                ("error_description", "PKCE with S256 is required"),
                ("state", &state),
            ],
            st.iss.as_deref(),
        );
    }
    if let Some(description) = st.deny.clone() {
        return redirect_with(
            &redirect_uri,
            &[
                ("error", "access_denied"),
                ("error_description", &description),
                ("state", &state),
            ],
            st.iss.as_deref(),
        );
    }
    let login = cookie(&req, LOGIN_COOKIE).unwrap_or_else(|| "default".into());
    let code = random_token("code_", 18);
    let scope = get("scope");
    st.codes.insert(
        code.clone(),
        CodeGrant {
            redirect_uri: redirect_uri.clone(),
            challenge: get("code_challenge"),
            login,
            scope: scope.clone(),
            used: false,
        },
    );
    redirect_with(
        &redirect_uri,
        &[("code", &code), ("state", &state), ("scope", &scope)],
        st.iss.as_deref(),
    )
}

/// Client authentication: HTTP Basic (form-urlencoded parts) or the body's client_id and
/// client_secret. Returns the method, or `None` when it fails.
fn client_auth(
    req: &HttpRequest,
    form: &HashMap<String, String>,
    st: &PState,
) -> Option<&'static str> {
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    if let Some(header) = req
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
    {
        let (scheme, value) = header.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let raw = String::from_utf8(STANDARD.decode(value.trim()).ok()?).ok()?;
        let (id, secret) = raw.split_once(':')?;
        return (decode(id) == st.client_id && decode(secret) == st.client_secret)
            .then_some("basic");
    }
    let id = form.get("client_id")?;
    let secret = form.get("client_secret")?;
    (*id == st.client_id && *secret == st.client_secret).then_some("post")
}

fn issue(st: &mut PState, login: &str, scope: &str, refresh: Option<String>) -> Value {
    let access = random_token("at_", 24) + &"x".repeat(st.access_token_padding);
    // An absurd `expires_in` (tests send some) means "never" here.
    let expires_at = st.expires_in.and_then(|s| {
        chrono::Duration::try_seconds(s).and_then(|d| Utc::now().checked_add_signed(d))
    });
    st.access.insert(
        access.clone(),
        AccessGrant {
            login: login.to_owned(),
            expires_at,
            revoked: false,
            refresh: refresh.clone(),
        },
    );
    let mut body = json!({"access_token": access, "token_type": "Bearer", "scope": scope});
    if let Some(seconds) = st.expires_in {
        body["expires_in"] = json!(seconds);
    }
    if let Some(refresh) = refresh {
        body["refresh_token"] = json!(refresh);
    }
    body
}

fn new_refresh(st: &mut PState, login: &str, family: Option<&str>) -> String {
    let token = random_token("rt_", 24);
    st.refresh.insert(
        token.clone(),
        RefreshGrant {
            login: login.to_owned(),
            family: family.unwrap_or(&token).to_owned(),
            revoked: false,
            used: false,
        },
    );
    token
}

/// `/token`: a held request is answered (its token issued) at once, and the answer is sent
/// when the test releases it, as from a slow provider.
async fn token(req: HttpRequest, body: web::Bytes, inner: web::Data<PInner>) -> HttpResponse {
    let held = inner
        .lock()
        .holds
        .get_mut(&Endpoint::Token)
        .and_then(VecDeque::pop_front);
    let answer = token_answer(req, body, inner).await;
    if let Some((seen, release)) = held {
        // The test may have stopped waiting for either: nothing to do then.
        let _ = seen.send(());
        let _ = release.await;
    }
    answer
}

async fn token_answer(
    req: HttpRequest,
    body: web::Bytes,
    inner: web::Data<PInner>,
) -> HttpResponse {
    inner.lock().counts.token += 1;
    if let Some(response) = take_fault(&inner, Endpoint::Token).await {
        return response;
    }
    let params = query_pairs(&String::from_utf8_lossy(&body));
    let form: HashMap<String, String> = params.iter().cloned().rev().collect();
    let mut st = inner.lock();
    let auth = client_auth(&req, &form, &st);
    let grant_type = form.get("grant_type").cloned().unwrap_or_default();
    st.token_requests.push(TokenRequest {
        grant_type: grant_type.clone(),
        client_auth: auth.unwrap_or("none").to_owned(),
    });
    let github = st.github_errors;
    // GitHub answers every token-endpoint error with HTTP 200, in its own words.
    let oauth_error = |status: u16, error: &str, description: &str| match (github, error) {
        (false, _) => oauth_error(status, error, description),
        (true, "invalid_client") => oauth_error(
            200,
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        ),
        (true, "invalid_grant") if grant_type == "refresh_token" => oauth_error(
            200,
            "bad_refresh_token",
            "The refresh token passed is incorrect or expired.",
        ),
        (true, _) => oauth_error(200, error, description),
    };
    if auth.is_none() {
        return oauth_error(401, "invalid_client", "client authentication failed");
    }
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    match grant_type.as_str() {
        "authorization_code" => {
            let code = get("code");
            let Some(grant) = st.codes.get_mut(&code) else {
                return oauth_error(400, "invalid_grant", "unknown code");
            };
            if grant.used {
                return oauth_error(400, "invalid_grant", "code already used");
            }
            grant.used = true;
            let grant = grant.clone();
            if get("redirect_uri") != grant.redirect_uri {
                return oauth_error(
                    400,
                    "invalid_grant",
                    "redirect_uri differs from the authorization request",
                );
            }
            let verifier = get("code_verifier");
            if verifier.is_empty() || s256(&verifier) != grant.challenge {
                return oauth_error(400, "invalid_grant", "PKCE verification failed");
            }
            st.counts.code_exchanges += 1;
            let refresh = new_refresh(&mut st, &grant.login, None);
            json_response(
                200,
                issue(&mut st, &grant.login, &grant.scope, Some(refresh)),
            )
        }
        "refresh_token" => {
            let old = get("refresh_token");
            let Some(grant) = st.refresh.get(&old).cloned() else {
                return oauth_error(400, "invalid_grant", "unknown refresh token");
            };
            if grant.used {
                st.counts.reuses += 1;
                if st.reuse_detection {
                    revoke_family(&mut st, &grant.family);
                }
            }
            if grant.revoked || grant.used {
                return oauth_error(400, "invalid_grant", "refresh token is no longer valid");
            }
            st.counts.refreshes += 1;
            let (lineage, sent) = if st.rotate_refresh_tokens {
                if let Some(g) = st.refresh.get_mut(&old) {
                    g.used = true;
                }
                let new = new_refresh(&mut st, &grant.login, Some(&grant.family));
                (new.clone(), Some(new))
            } else if st.refresh_returns_refresh_token {
                (old.clone(), Some(old.clone()))
            } else {
                (old.clone(), None)
            };
            let mut body = issue(&mut st, &grant.login, "", Some(lineage));
            if sent.is_none() {
                if let Some(o) = body.as_object_mut() {
                    o.remove("refresh_token");
                }
            }
            json_response(200, body)
        }
        _ => oauth_error(400, "unsupported_grant_type", "unsupported grant_type"),
    }
}

/// The user's calendars: their own (primary) and a shared one whose name is Markdown.
async fn calendar_list(req: HttpRequest, inner: web::Data<PInner>) -> HttpResponse {
    inner.lock().counts.calendar += 1;
    if let Some(response) = take_fault(&inner, Endpoint::Calendar).await {
        return response;
    }
    let token = req
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    let st = inner.lock();
    let Some(grant) = st
        .access
        .get(&token)
        .filter(|a| !a.revoked && a.expires_at.is_none_or(|e| e > Utc::now()))
    else {
        return json_response(
            401,
            json!({"error": {"code": 401, "message": "Invalid Credentials", "status": "UNAUTHENTICATED"}}),
        );
    };
    let id = Identity::of(&grant.login);
    json_response(
        200,
        json!({
            "kind": "calendar#calendarList",
            "items": [
                {"id": id.email, "summary": id.email, "primary": true, "accessRole": "owner"},
                {"id": "team@group.calendar.example", "summary": "Team",
                 "summaryOverride": "[Team](https://evil.example) @all", "accessRole": "reader"}
            ]
        }),
    )
}

async fn userinfo(req: HttpRequest, inner: web::Data<PInner>) -> HttpResponse {
    inner.lock().counts.userinfo += 1;
    if let Some(response) = take_fault(&inner, Endpoint::Userinfo).await {
        return response;
    }
    let token = req
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_owned())
        .unwrap_or_default();
    let st = inner.lock();
    let active = st
        .access
        .get(&token)
        .filter(|a| !a.revoked && a.expires_at.is_none_or(|e| e > Utc::now()));
    match active {
        Some(_) if st.userinfo.is_some() => {
            json_response(200, st.userinfo.clone().unwrap_or_default())
        }
        Some(grant) => {
            let id = Identity::of(&grant.login);
            json_response(
                200,
                json!({"sub": id.sub, "name": id.name, "email": id.email, "preferred_username": id.preferred_username}),
            )
        }
        None => HttpResponse::Unauthorized()
            .insert_header(("WWW-Authenticate", "Bearer error=\"invalid_token\""))
            .finish(),
    }
}

async fn revoke(req: HttpRequest, body: web::Bytes, inner: web::Data<PInner>) -> HttpResponse {
    inner.lock().counts.revoke += 1;
    if let Some(response) = take_fault(&inner, Endpoint::Revoke).await {
        return response;
    }
    let form: HashMap<String, String> = query_pairs(&String::from_utf8_lossy(&body))
        .into_iter()
        .rev()
        .collect();
    let mut st = inner.lock();
    if client_auth(&req, &form, &st).is_none() {
        return oauth_error(401, "invalid_client", "client authentication failed");
    }
    let token = form.get("token").cloned().unwrap_or_default();
    if token.is_empty() {
        return oauth_error(400, "invalid_request", "token is required");
    }
    st.revoked_by_request.push(token.clone());
    if st.revocation_ends_grant {
        return revoke_grant(&mut st, &token);
    }
    if let Some(grant) = st.refresh.get_mut(&token) {
        grant.revoked = true;
        for access in st.access.values_mut() {
            if access.refresh.as_deref() == Some(token.as_str()) {
                access.revoked = true;
            }
        }
    } else if let Some(grant) = st.access.get_mut(&token) {
        grant.revoked = true;
    }
    // RFC 7009: 200 whether or not the token was known.
    HttpResponse::Ok().finish()
}

async fn discovery(inner: web::Data<PInner>) -> HttpResponse {
    if let Some(response) = take_fault(&inner, Endpoint::Discovery).await {
        return response;
    }
    let Some(doc) = inner.lock().discovery.clone() else {
        return HttpResponse::NotFound().finish();
    };
    match doc {
        Value::String(body) => HttpResponse::Ok()
            .content_type("application/json")
            .body(body),
        doc => json_response(200, doc),
    }
}

/// Google's revocation: either token ends its whole grant; a dead or unknown token is a 400.
/// Revokes every refresh token of a rotation chain and the access tokens they issued.
fn revoke_family(st: &mut PState, family: &str) {
    let mut members = Vec::new();
    for (token, grant) in st.refresh.iter_mut().filter(|(_, g)| g.family == family) {
        grant.revoked = true;
        members.push(token.clone());
    }
    for access in st.access.values_mut() {
        if access.refresh.as_ref().is_some_and(|r| members.contains(r)) {
            access.revoked = true;
        }
    }
}

fn revoke_grant(st: &mut PState, token: &str) -> HttpResponse {
    let lineage = match (st.refresh.get(token), st.access.get(token)) {
        (Some(grant), _) if !grant.revoked => Some(token.to_owned()),
        (_, Some(grant)) if !grant.revoked => grant.refresh.clone(),
        _ => return oauth_error(400, "invalid_token", "Token expired or revoked"),
    };
    if let Some(grant) = st.access.get_mut(token) {
        grant.revoked = true;
    }
    if let Some(lineage) = lineage {
        if let Some(grant) = st.refresh.get_mut(&lineage) {
            grant.revoked = true;
        }
        for access in st.access.values_mut() {
            if access.refresh.as_deref() == Some(lineage.as_str()) {
                access.revoked = true;
            }
        }
    }
    HttpResponse::Ok().finish()
}
