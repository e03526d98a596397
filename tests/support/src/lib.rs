//! What the app's test targets (`tests/it`, `tests/real`) share on top of
//! `mattermost-apps-testkit`: this app on a random port ([`app::TestApp`]), the story world
//! wired around it with this app's commands ([`world::World`]), and the Node tools in
//! `tests/e2e/` (oidc-provider, headless Chromium, the webapp's validators: [`e2e`]), and
//! a private `redis-server` ([`redis::Redis`]).

#![warn(missing_docs)]

pub mod app;
pub mod e2e;
pub mod redis;
pub mod world;
