//! Test support: a Mattermost emulator (the Apps plugin as the app sees it), a fake OAuth2
//! provider, the real app on a random port, and a [`world::World`] that wires them up.
//!
//! Quick start for a new story module (add `mod my_story;` to `tests/it/main.rs`):
//!
//! ```ignore
//! use crate::support::world::{expect_ok, World, COMMAND};
//!
//! #[tokio::test]
//! async fn my_story() {
//!     let w = World::new().await;            // emulator + provider + app, installed
//!     w.configure_custom_provider().await;   // sam.admin configures the fake provider
//!     w.connect(&w.alice).await;             // browser walk; asserts alice's token is stored
//!     let text = expect_ok(&w.run(&w.alice, &format!("{COMMAND} info")).await);
//!     assert!(w.mm.dropped().is_empty());    // nothing lost to the plugin's cleaning
//! }
//! ```
//!
//! The pieces, each usable alone:
//! - [`mattermost::Mattermost`]: `start()`, `site_url()`, `create_user()`, `install()`,
//!   `call()`/`call_with()`, `bindings()`, `command()`, `submit_form()`, `browser()`,
//!   `connect_url()`/`complete_url()`/`login_url()`, `stored_oauth2_app()`,
//!   `stored_token()`, `fail_rest_once()`, `set_rest_down()`, `answer_rest_late_once()`,
//!   `route_app_to()`, `build_request()`/`post_to()`,
//!   and the records: `calls()`, `rest_calls()`, `events()`, `dropped()`,
//!   `static_fetches()`, `connections()` (TCP connections the emulator accepted).
//! - [`mattermost::Browser`]: `login()`, `anonymous()`, `get()` (no redirect followed),
//!   `walk(connect_url)` (connect → provider → complete).
//! - [`provider::Provider`]: `start()`, the endpoint URLs, `register_redirect_uri()`,
//!   `set_expires_in()`, `set_rotation()`, `set_reuse_detection()`, `deny_authorization()`,
//!   `fail_next()`, `hold_next()` (a token answer held until released),
//!   `counts()`, `owner_of()`, `access_token_active()`, `revocations()`.
//! - [`app::TestApp`]: `spawn(secret)`, `spawn_with(secret, adjust_settings)`,
//!   `external(root_url, secret)` for the real binary.
//! - [`redis::Redis`]: Debian's `redis-server` on a free port, `stop()` to kill it.
//! - [`util::within`]: every wait in a test is bounded with it.
//! - [`e2e`]: the real parts in `tests/e2e/` (Node): `OidcServer::start()` (oidc-provider),
//!   `browser_walk()` (headless Chromium), `run_tool()` for `validate.mjs`/`typecheck.mjs`.

#![allow(dead_code)]

pub mod app;
pub mod e2e;
pub mod mattermost;
pub mod process;
pub mod provider;
pub mod proxy;
pub mod redis;
pub mod util;
pub mod world;
