//! Test a Mattermost App (Apps Framework, HTTP) the way Mattermost will use it, without
//! Mattermost: in-process, on 127.0.0.1, in plain `cargo test`.
//!
//! - [`mattermost::Mattermost`]: an emulator of Mattermost with the Apps plugin
//!   (`com.mattermost.apps` v1.2.2) as an HTTP app sees it. It installs the app from its
//!   manifest, signs every call's JWT, builds each call's context from its `expand`, serves
//!   the Apps REST API (KV, OAuth2 app and user data) with the plugin's checks, runs the
//!   browser leg of remote OAuth2, cleans bindings and forms as the plugin does, parses slash
//!   commands as the webapp does, and records everything for the test to assert on. Where it
//!   still differs from the real plugin is listed in `src/mattermost/DIFFERENCES.md`.
//! - [`provider::Provider`]: a fake OAuth2 provider (authorization code with PKCE,
//!   refresh, userinfo, revocation) with counters and fault switches.
//! - [`SignedCall`]: one call request signed with the app's JWT secret, for driving an
//!   app's handlers directly (no emulator needed).
//! - [`response`]: assertions on call responses; [`util`]: bounded waits, random IDs;
//!   [`proxy`]: a round-robin balancer and a relay for multi-replica tests.
//!
//! A story against the emulator (`my_app::spawn` stands for however your app starts on a
//! random port):
//!
//! ```ignore
//! use mattermost_apps_testkit::mattermost::Mattermost;
//! use mattermost_apps_testkit::response::expect_ok;
//!
//! #[tokio::test]
//! async fn a_user_says_hello() {
//!     let app = my_app::spawn("a-jwt-secret-of-32-characters-or-more").await;
//!     let mm = Mattermost::start().await;
//!     let admin = mm.create_user("sam.admin", "system_admin system_user");
//!     let alice = mm.create_user("alice", "system_user");
//!     mm.install(&format!("{}/manifest.json", app.root_url), &app.secret, &admin)
//!         .await
//!         .expect("the plugin accepts the manifest");
//!     let answer = mm.command(&alice, "/hello ping").await.expect("the command parses");
//!     assert_eq!(expect_ok(&answer), "pong");
//! }
//! ```
//!
//! Every wait is bounded ([`util::within`]), every server binds 127.0.0.1 on a free port and
//! stops when its handle is dropped.

#![warn(missing_docs)]

pub mod mattermost;
pub mod provider;
pub mod proxy;
pub mod response;
pub mod signed;
pub mod util;

pub use signed::SignedCall;
