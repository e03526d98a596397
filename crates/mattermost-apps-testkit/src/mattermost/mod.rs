//! A Mattermost server with the Apps plugin (`com.mattermost.apps` v1.2.2), emulated as
//! far as an HTTP app can see it.
//!
//! It is written over `serde_json::Value` from the plugin's behaviour, never with the app's
//! own types, so the two cannot share a misunderstanding. This file starts the server and
//! holds what every part shares.
//!
//! Where each part lives:
//!
//! - `users.rs`: users, a bot per installed app, per-(app, user) app session tokens, PATs;
//! - `install.rs`: [`Mattermost::install`]: fetch and validate the manifest ([`manifest`]),
//!   ping, fetch the icon without a JWT, create the bot, call `on_install`;
//! - `calls.rs`: calls to the app with the plugin's context ([`context`]), JWT and response
//!   rules, and the cleaning of forms and bindings ([`clean`]): user calls
//!   ([`Mattermost::call`]) and the bindings call;
//! - `runner.rs` and [`command`]: the webapp's side: its bindings ([`Mattermost::bindings`])
//!   and a command line run against them ([`Mattermost::command`]);
//! - `rest.rs`: the Apps REST API under `/plugins/com.mattermost.apps/api/v1`, the stored
//!   data behind it, and its one-shot faults;
//! - [`v4`]: Mattermost's own `/api/v4` calls a direct message needs (a direct channel, a
//!   post), and the posts made;
//! - [`browser`]: the browser leg of remote OAuth2: `/login`, `…/oauth2/remote/connect`,
//!   `…/oauth2/remote/complete`, and a Rust [`Browser`] that walks it;
//! - [`records`]: every call, REST request, refresh event, dropped binding and static fetch
//!   (and [`Mattermost::connections`], the TCP connections accepted);
//! - [`state`]: the memory all of them share, behind one lock (`Inner`).
//!
//! ```ignore
//! let mm = Mattermost::start().await;
//! let admin = mm.create_user("sam.admin", "system_admin system_user");
//! mm.install(&app.manifest_url(), &secret, &admin).await?;
//! let response = mm.command(&admin, "/hello-oauth2-rs help").await?;
//! ```

pub mod browser;
mod calls;
pub mod clean;
pub mod command;
pub mod context;
mod install;
pub mod manifest;
pub mod records;
mod rest;
mod runner;
pub mod state;
mod users;
pub mod v4;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpServer};

// The types a test names, at the module's top.
pub use browser::{Browser, BrowserResponse, Walk, COMPLETED_TEXT};
pub use calls::{sign, CallError, UserCall};
pub use clean::Dropped;
pub use command::CommandError;
pub use context::ClientContext;
pub use records::{CallRecord, EventTarget, RefreshEvent, RestRecord, StaticFetch};
pub use state::{InstalledApp, RestFault, SessionKind, User};
pub use v4::PostRecord;

use state::State;

/// Where the plugin's routes live under the site URL.
pub const PLUGIN_PATH: &str = "/plugins/com.mattermost.apps";
/// The Apps REST API base path.
pub const API_PATH: &str = "/plugins/com.mattermost.apps/api/v1";
/// The browser session cookie.
pub const SESSION_COOKIE: &str = "MMAUTHTOKEN";
/// How long an OAuth2 state is kept.
pub const STATE_TTL: Duration = Duration::from_secs(15 * 60);

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
                .route(
                    &format!("{}/{{tail:.*}}", v4::V4_PATH),
                    web::route().to(v4::handle),
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
}
