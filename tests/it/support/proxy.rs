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
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let inner = Arc::new(Inner {
            backends: Mutex::new(Vec::new()),
            next: AtomicUsize::new(0),
            served: Mutex::new(Vec::new()),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("proxy client"),
        });
        let data = web::Data::from(inner.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(4 << 20))
                .default_service(web::to(forward))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("proxy listens")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}"),
            inner,
            handle,
        }
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
    let path = request.path().to_owned();
    let target = match request.uri().query() {
        Some(query) => format!("{base}{path}?{query}"),
        None => format!("{base}{path}"),
    };
    let method =
        reqwest::Method::from_bytes(request.method().as_str().as_bytes()).expect("a valid method");
    let mut outgoing = inner.http.request(method, target).body(body.to_vec());
    for (name, value) in request.headers() {
        if name != "host" && name != "content-length" {
            outgoing = outgoing.header(name.as_str(), value.as_bytes());
        }
    }
    inner.served.lock().expect("served").push((path, index));
    match outgoing.send().await {
        Ok(response) => {
            let mut reply = HttpResponse::build(
                actix_web::http::StatusCode::from_u16(response.status().as_u16())
                    .expect("a valid status"),
            );
            for (name, value) in response.headers() {
                if name != "content-length" && name != "transfer-encoding" {
                    reply.insert_header((name.as_str(), value.as_bytes()));
                }
            }
            reply.body(response.bytes().await.unwrap_or_default())
        }
        Err(_) => HttpResponse::BadGateway().body("backend unreachable"),
    }
}
