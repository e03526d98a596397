//! A recording proxy between the real Apps plugin and the app: the app's `root_url` points
//! here, so every request the plugin sends (with its real JWT and the context it expanded)
//! and every answer is kept. What the plugin stored shows in what it expands into the next
//! call: that is how the stories read stored settings and tokens back through the plugin.

use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::support::proxy;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

/// One request the plugin made to the app.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// Whether it carried `Mattermost-App-Authorization: Bearer <JWT>`.
    pub has_jwt: bool,
    /// That JWT's claims, decoded but not verified (the app verifies it).
    pub jwt_claims: Value,
    /// The request body, parsed (`Null` when not JSON).
    pub request: Value,
    /// The app's status.
    pub status: u16,
    /// The app's answer, parsed (`Null` when not JSON).
    pub response: Value,
}

struct Inner {
    target: Mutex<String>,
    /// The paths of the requests that reached the tap, answered or not yet.
    arrived: Mutex<Vec<String>>,
    log: Mutex<Vec<Exchange>>,
    http: reqwest::Client,
}

/// The proxy; stopped on drop.
pub struct Tap {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    inner: Arc<Inner>,
    handle: ServerHandle,
}

impl Drop for Tap {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Tap {
    /// Starts the proxy; [`Tap::forward_to`] sets the app it forwards to.
    pub fn start() -> Self {
        let inner = Arc::new(Inner {
            target: Mutex::new(String::new()),
            arrived: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            http: proxy::client(),
        });
        let (url, handle) = proxy::serve(inner.clone(), forward);
        Self { url, inner, handle }
    }

    /// Forwards to `root_url` from now on.
    pub fn forward_to(&self, root_url: &str) {
        *lock(&self.inner.target) = root_url.trim_end_matches('/').to_owned();
    }

    /// Everything so far, in order.
    pub fn log(&self) -> Vec<Exchange> {
        lock(&self.inner.log).clone()
    }

    /// The requests to `path`, in order.
    pub fn to(&self, path: &str) -> Vec<Exchange> {
        self.log().into_iter().filter(|e| e.path == path).collect()
    }

    /// The last request to `path`.
    pub fn last(&self, path: &str) -> Exchange {
        self.to(path).pop().unwrap_or_else(|| {
            panic!(
                "the plugin never called {path}; it called {:?}",
                self.paths()
            )
        })
    }

    /// The paths called so far.
    pub fn paths(&self) -> Vec<String> {
        self.log().into_iter().map(|e| e.path).collect()
    }

    /// Waits (bounded) until `n` requests to `path` have reached the tap (answered or not:
    /// the plugin has sent them on to the app).
    pub async fn wait_arrived(&self, path: &str, n: usize) {
        crate::support::util::within(&format!("{n} requests to {path} at the tap"), async {
            while lock(&self.inner.arrived)
                .iter()
                .filter(|p| *p == path)
                .count()
                < n
            {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        })
        .await;
    }

    /// Forgets what was recorded.
    pub fn clear(&self) {
        lock(&self.inner.log).clear();
    }
}

async fn forward(req: HttpRequest, body: web::Bytes, inner: web::Data<Inner>) -> HttpResponse {
    let target = lock(&inner.target).clone();
    lock(&inner.arrived).push(req.path().to_owned());
    let jwt = req
        .headers()
        .get("Mattermost-App-Authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let has_jwt = jwt.is_some();
    let jwt_claims = jwt
        .and_then(|t| t.split('.').nth(1))
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|p| serde_json::from_slice(&p).ok())
        .unwrap_or(Value::Null);
    let request = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let answer = proxy::relay(&inner.http, &req, &body, &target)
        .await
        .unwrap_or_else(|e| proxy::Relayed {
            status: 502,
            headers: Vec::new(),
            body: format!("tap: {e}").into_bytes(),
        });
    lock(&inner.log).push(Exchange {
        method: req.method().as_str().to_owned(),
        path: req.path().to_owned(),
        has_jwt,
        jwt_claims,
        request,
        status: answer.status,
        response: serde_json::from_slice(&answer.body).unwrap_or(Value::Null),
    });
    answer.reply()
}
