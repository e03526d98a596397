//! A round-robin HTTP load balancer on 127.0.0.1: each request goes to the next backend in
//! turn, as a cloud load balancer without session affinity would send it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

struct Inner {
    backends: Mutex<Vec<String>>,
    next: AtomicUsize,
    /// (request path, index of the backend that served it), in order.
    served: Mutex<Vec<(String, usize)>>,
    http: reqwest::Client,
}

/// The balancer. Stopped on drop.
pub struct RoundRobin {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    inner: Arc<Inner>,
    handle: ServerHandle,
}

impl Drop for RoundRobin {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

impl RoundRobin {
    /// Starts the balancer with no backends yet (so its URL can be given to them first).
    pub fn start() -> Self {
        let inner = Arc::new(Inner {
            backends: Mutex::new(Vec::new()),
            next: AtomicUsize::new(0),
            served: Mutex::new(Vec::new()),
            http: client(),
        });
        let (url, handle) = serve(inner.clone(), forward);
        Self { url, inner, handle }
    }

    /// Sets the backends' base URLs.
    pub fn set_backends(&self, backends: Vec<String>) {
        *self.inner.backends.lock().expect("backends") = backends;
    }

    /// Every request so far: (path, backend index).
    pub fn served(&self) -> Vec<(String, usize)> {
        self.inner.served.lock().expect("served").clone()
    }

    /// The backend that served the first request to `path`.
    pub fn backend_of(&self, path: &str) -> Option<usize> {
        self.served()
            .into_iter()
            .find(|(p, _)| p == path)
            .map(|(_, b)| b)
    }
}

async fn forward(inner: web::Data<Inner>, request: HttpRequest, body: web::Bytes) -> HttpResponse {
    let (index, base) = {
        let backends = inner.backends.lock().expect("backends");
        if backends.is_empty() {
            return HttpResponse::BadGateway().body("no backend");
        }
        let index = inner.next.fetch_add(1, Ordering::SeqCst) % backends.len();
        (index, backends[index].clone())
    };
    inner
        .served
        .lock()
        .expect("served")
        .push((request.path().to_owned(), index));
    match relay(&inner.http, &request, &body, &base).await {
        Ok(answer) => answer.reply(),
        Err(_) => HttpResponse::BadGateway().body("backend unreachable"),
    }
}

/// A client for relaying: redirects are passed back, never followed. A fresh connection
/// per request: a pooled one can be closed by the backend's keep-alive timer (actix: 5 s)
/// just as a request is sent on it, and the relay would answer 502 for a healthy backend.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .build()
        .expect("the relay's client builds")
}

/// Serves every request on a fresh 127.0.0.1 port with `handler`, which gets `inner` as
/// `web::Data`; returns the URL and the handle that stops it.
pub fn serve<T, F, Args>(inner: Arc<T>, handler: F) -> (String, ServerHandle)
where
    T: Send + Sync + 'static,
    F: actix_web::Handler<Args> + Clone + Send + 'static,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the relay");
    let port = listener.local_addr().expect("the relay's address").port();
    let data = web::Data::from(inner);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(4 << 20))
            .default_service(web::to(handler.clone()))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .expect("the relay listens")
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}"), handle)
}

/// An answer relayed from a backend.
pub struct Relayed {
    /// Its status.
    pub status: u16,
    /// Its headers, as sent.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Its body.
    pub body: Vec<u8>,
}

impl Relayed {
    /// The answer for the original client (hop-by-hop headers dropped).
    pub fn reply(self) -> HttpResponse {
        let mut reply = HttpResponse::build(
            actix_web::http::StatusCode::from_u16(self.status)
                .unwrap_or(actix_web::http::StatusCode::BAD_GATEWAY),
        );
        for (name, value) in self.headers {
            if name != "content-length" && name != "transfer-encoding" && name != "connection" {
                reply.insert_header((name, value));
            }
        }
        reply.body(self.body)
    }
}

/// Sends `request` (method, path, query, headers, `body`) to `base` and reads the answer.
pub async fn relay(
    http: &reqwest::Client,
    request: &HttpRequest,
    body: &web::Bytes,
    base: &str,
) -> Result<Relayed, reqwest::Error> {
    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.path(), |p| p.as_str());
    let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes())
        .unwrap_or(reqwest::Method::GET);
    let mut outgoing = http
        .request(method, format!("{base}{path_and_query}"))
        .body(body.to_vec());
    for (name, value) in request.headers() {
        if name != "host" && name != "content-length" {
            outgoing = outgoing.header(name.as_str(), value.as_bytes());
        }
    }
    let response = outgoing.send().await?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
        .collect();
    let body = response.bytes().await.unwrap_or_default().to_vec();
    Ok(Relayed {
        status,
        headers,
        body,
    })
}
