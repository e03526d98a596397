//! A Mattermost App (Apps Framework, HTTP deployment) that shows remote OAuth2: an admin
//! configures a provider, users connect their accounts, and the app uses their tokens.
//!
//! The Apps protocol itself is the `mattermost_apps` crate (`crates/mattermost-apps`).
//!
//! - [`oauth`]: the remote provider: presets, PKCE, exchange, refresh, revoke;
//! - [`commands`]: this app's calls;
//! - [`state`]: [`state::AppState`], what every handler shares;
//! - [`markdown`]: outside text made safe to show in a message;
//! - [`logline`]: outside text made safe for a log line;
//! - [`names`]: the slash command, the icon and the call paths;
//! - [`metrics`]: what Prometheus scrapes; [`logging`]: text or JSON log lines;
//! - [`startup`]: [`startup::Application`], used by `main` and by the tests.

pub mod commands;
pub mod error;
pub mod logging;
pub mod logline;
pub mod markdown;
pub mod metrics;
pub mod names;
pub mod notice;
pub mod oauth;
pub mod seal;
pub mod secret;
pub mod settings;
pub mod startup;
pub mod state;
