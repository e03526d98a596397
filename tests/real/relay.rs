//! A relay in front of a real server (Mattermost's REST API, oidc-provider) that records
//! what passes and can fault one request: fail it with a status before it reaches the
//! server, or hold the server's answer until the story releases it. The stories wait on
//! what it saw (a request held, a store recorded), never on a length of time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use crate::support::proxy;
use crate::support::util::within;

/// One request that passed the relay, with the answer its client got.
#[derive(Debug, Clone)]
pub struct Passed {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The request body as text (forms and JSON alike).
    pub request: String,
    /// The status the client got.
    pub status: u16,
    /// The answer, parsed (`Null` when not JSON).
    pub response: Value,
}

/// What to do with the next request that matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and a text body; the server never sees the request.
    Fail(u16),
    /// Send it on, then keep the server's answer until [`Relay::release`].
    HoldAnswer,
}

struct Rule {
    method: &'static str,
    path: String,
    body_contains: String,
    fault: Fault,
}

struct Inner {
    target: String,
    http: reqwest::Client,
    rules: Mutex<Vec<Rule>>,
    passed: Mutex<Vec<Passed>>,
    held: Mutex<usize>,
    /// Closed by [`Relay::release`].
    hold: tokio::sync::Semaphore,
}

/// The relay; stopped on drop.
pub struct Relay {
    /// `http://127.0.0.1:<port>`: give this to the client instead of the server's URL.
    pub url: String,
    inner: Arc<Inner>,
    handle: ServerHandle,
}

impl Drop for Relay {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Relay {
    /// A relay to `target` (`http://host:port`, no trailing `/`).
    pub fn start(target: &str) -> Self {
        let inner = Arc::new(Inner {
            target: target.trim_end_matches('/').to_owned(),
            http: proxy::client(),
            rules: Mutex::new(Vec::new()),
            passed: Mutex::new(Vec::new()),
            held: Mutex::new(0),
            hold: tokio::sync::Semaphore::new(0),
        });
        let (url, handle) = proxy::serve(inner.clone(), forward);
        Self { url, inner, handle }
    }

    /// Applies `fault` to the next `method path` request whose body contains
    /// `body_contains` (`""` for any).
    pub fn fault_next(&self, method: &'static str, path: &str, body_contains: &str, fault: Fault) {
        lock(&self.inner.rules).push(Rule {
            method,
            path: path.to_owned(),
            body_contains: body_contains.to_owned(),
            fault,
        });
    }

    /// Lets every held answer go, now and from now on.
    pub fn release(&self) {
        self.inner.hold.close();
    }

    /// Waits (bounded) until `n` answers are held.
    pub async fn wait_held(&self, n: usize) {
        within(&format!("{n} held answers at the relay"), async {
            while *lock(&self.inner.held) < n {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
    }

    /// Every request answered so far, in the order the answers went out.
    pub fn passed(&self) -> Vec<Passed> {
        lock(&self.inner.passed).clone()
    }

    /// The `method path` requests answered so far.
    pub fn to(&self, method: &str, path: &str) -> Vec<Passed> {
        self.passed()
            .into_iter()
            .filter(|p| p.method == method && p.path == path)
            .collect()
    }
}

async fn forward(req: HttpRequest, body: web::Bytes, inner: web::Data<Inner>) -> HttpResponse {
    let method = req.method().as_str().to_owned();
    let path = req.path().to_owned();
    let request = String::from_utf8_lossy(&body).into_owned();
    let fault = {
        let mut rules = lock(&inner.rules);
        let found = rules.iter().position(|r| {
            r.method == method && r.path == path && request.contains(&r.body_contains)
        });
        found.map(|i| rules.remove(i).fault)
    };
    let answer = match fault {
        Some(Fault::Fail(status)) => proxy::Relayed {
            status,
            headers: vec![("content-type".into(), b"text/plain".to_vec())],
            body: b"relay: injected failure".to_vec(),
        },
        Some(Fault::HoldAnswer) | None => {
            let answer = proxy::relay(&inner.http, &req, &body, &inner.target)
                .await
                .unwrap_or_else(|e| proxy::Relayed {
                    status: 502,
                    headers: Vec::new(),
                    body: format!("relay: {e}").into_bytes(),
                });
            if fault == Some(Fault::HoldAnswer) {
                *lock(&inner.held) += 1;
                // No permit is ever added: this returns when `release` closes it.
                let released = inner.hold.acquire().await;
                debug_assert!(released.is_err(), "the hold is only ever closed");
            }
            answer
        }
    };
    lock(&inner.passed).push(Passed {
        method,
        path,
        request,
        status: answer.status,
        response: serde_json::from_slice(&answer.body).unwrap_or(Value::Null),
    });
    answer.reply()
}
