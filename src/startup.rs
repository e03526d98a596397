//! Building the running app: routes and the HTTP server around the shared state, and the
//! metrics listener when one is set. Used by `main` and by the tests, which spawn the real
//! app on a random port.
//!
//! Shutdown ([`Application::run_until_terminated`]): on SIGTERM or SIGINT the server stops
//! accepting connections, waits for the calls in flight (each answers within the call
//! deadline; [`Application::shutdown_timeout`] is above it), then stops its workers; the
//! metrics listener stops last. The workers stop only once no call is in flight: a call's
//! request to the provider may use a pooled connection that another worker's runtime
//! drives, and actix stops idle workers at once (that cut a slow call short in a test).

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context as _;
use mattermost_apps::jwt::JwtVerifier;

use crate::commands;
use crate::metrics;
use crate::settings::Settings;
use crate::state::AppState;

/// How long past the call deadline a stopping server waits for calls in flight (the
/// answer still has to be written).
const SHUTDOWN_MARGIN: Duration = Duration::from_secs(5);

/// How long, after the server stopped, refreshed tokens not yet stored in Mattermost are
/// still tried before the process exits.
const DRAIN: Duration = Duration::from_secs(5);

/// The app, bound and ready to run.
pub struct Application {
    port: u16,
    server: Server,
    metrics: Option<(u16, Server)>,
    shutdown_timeout: Duration,
    state: web::Data<AppState>,
}

impl Application {
    /// Binds `settings.listen` (and `settings.metrics_listen`) and builds the server.
    pub fn build(settings: Settings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.listen)
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        Self::build_with_listener(settings, listener)
    }

    /// Builds the server on an already bound listener (tests bind port 0 first).
    pub fn build_with_listener(settings: Settings, listener: TcpListener) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let metrics = match settings.metrics_listen {
            Some(address) => Some(metrics_server(address)?),
            None => None,
        };
        let state = web::Data::new(AppState::new(&settings)?);
        let verifier = web::Data::new(JwtVerifier::new(settings.secret.expose_secret().as_bytes()));
        let shared = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .app_data(verifier.clone())
                .wrap_fn(metrics::observe_calls)
                .configure(commands::routes)
        })
        .shutdown_timeout(Self::shutdown_timeout(&settings).as_secs())
        .disable_signals()
        .listen(listener)?
        .run();
        Ok(Self {
            port,
            server,
            metrics,
            state,
            shutdown_timeout: Self::shutdown_timeout(&settings),
        })
    }

    /// How long a stopping server waits for the calls in flight: the call deadline and a
    /// margin. Kubernetes' `terminationGracePeriodSeconds` must be longer.
    pub fn shutdown_timeout(settings: &Settings) -> Duration {
        settings.call_deadline + SHUTDOWN_MARGIN
    }

    /// The port the app listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the metrics listener, when there is one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting, finishes the calls in flight
    /// (for at most [`Application::shutdown_timeout`]) and returns.
    pub async fn run_until_terminated(self) -> std::io::Result<()> {
        let server = self.server.handle();
        let timeout = self.shutdown_timeout;
        // Stopping needs the server polled meanwhile; it returns only if the signals cannot
        // be watched, else serving ends once the stop is done.
        let stopping = async {
            let signal = termination().await?;
            server.pause().await;
            log::info!(
                "{signal} received: accepting no new connections, finishing {} calls in flight",
                metrics::in_flight()
            );
            let give_up = tokio::time::Instant::now() + timeout;
            while metrics::in_flight() > 0 && tokio::time::Instant::now() < give_up {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            server.stop(true).await;
            std::future::pending().await
        };
        tokio::select! {
            stopped = self.run_until_stopped() => stopped,
            failed = stopping => failed,
        }
    }

    /// Serves until the server is stopped or dropped (the tests' way; signals are left
    /// to the caller). Once the server stops, the refreshed tokens still unstored are
    /// stored (for at most `DRAIN`) before returning.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let state = self.state.clone();
        let server = async {
            let served = self.server.await;
            state.refresher.drain(DRAIN).await;
            served
        };
        let Some((_, metrics)) = self.metrics else {
            return server.await;
        };
        let metrics_handle = metrics.handle();
        let app = async {
            let stopped = server.await;
            metrics_handle.stop(true).await;
            stopped
        };
        let (app, metrics) = futures::future::join(app, metrics).await;
        app.and(metrics)
    }
}

/// Waits for SIGTERM (Kubernetes stopping a pod) or SIGINT (Ctrl-C); returns its name.
async fn termination() -> std::io::Result<&'static str> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    })
}

/// The metrics listener: `GET /metrics` and nothing else, one worker. It ignores signals:
/// the app's server stops it once the calls in flight are done.
fn metrics_server(address: std::net::SocketAddr) -> anyhow::Result<(u16, Server)> {
    let listener = TcpListener::bind(address)
        .with_context(|| format!("cannot listen on {address} for metrics"))?;
    let port = listener.local_addr()?.port();
    let server = HttpServer::new(|| App::new().route("/metrics", web::get().to(serve_metrics)))
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run();
    Ok((port, server))
}

async fn serve_metrics() -> HttpResponse {
    match metrics::render() {
        Ok(text) => HttpResponse::Ok()
            .content_type(metrics::CONTENT_TYPE)
            .body(text),
        Err(_) => HttpResponse::InternalServerError().body("the metrics could not be written"),
    }
}
