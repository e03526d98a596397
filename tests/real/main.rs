//! The stories against the real Mattermost server 7.7 and Apps plugin 1.2.2
//! (`scripts/real-mattermost`), driven as a user's webapp drives them: bindings from the
//! plugin, commands parsed over them, calls posted to the plugin, the OAuth2 leg in Chromium.
//! One story at a time (the server hosts one install of the app); each installs it anew.

/// The test kit and the app's shared story support, under the names the stories use.
mod support {
    pub use hello_oauth2_rs_test_support::{app, e2e, redis, world};
    pub use mattermost_apps_testkit::{leaks, mattermost, proxy, util};
}

mod client;
mod relay;
mod stack;
mod story;
mod tap;

mod configure;
mod connect;
mod example;
mod install;
mod lifecycle;
mod notices;
mod replicas;
mod sealed;
