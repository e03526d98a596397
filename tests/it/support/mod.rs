//! Test support, under the names the stories use: the generic parts come from the
//! `mattermost-apps-testkit` crate (the Mattermost emulator, the fake OAuth2 provider, the
//! relays, the helpers), this app's shared parts from `tests/support` (the app on a random
//! port, the [`world::World`] wired around it, the Node tools); the real binary in a child
//! process is here ([`process`]), where cargo names the binary.
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
//!   `external(root_url, secret)` for the real binary ([`process::AppProcess`]).
//! - [`redis::Redis`] (with `--features e2e`): Debian's `redis-server` on a free port,
//!   `stop()` to kill it.
//! - [`util::within`]: every wait in a test is bounded with it.
//! - `e2e` (with `--features e2e`): the real parts in `tests/e2e/` (Node):
//!   `OidcServer::start()` (oidc-provider), `browser_walk()` (headless Chromium),
//!   `run_tool()` for `validate.mjs`/`typecheck.mjs`.

#[cfg(feature = "e2e")]
pub use hello_oauth2_rs_test_support::e2e;
#[cfg(feature = "e2e")]
pub use hello_oauth2_rs_test_support::redis;
pub use hello_oauth2_rs_test_support::{app, world};
pub use mattermost_apps_testkit::{leaks, mattermost, provider, proxy, util};

pub mod process;
#[cfg(feature = "e2e")]
pub mod prometheus;
