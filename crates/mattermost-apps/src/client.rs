//! A client for Mattermost as the app's bot or the acting user: the Apps plugin's REST API
//! (`/plugins/com.mattermost.apps/api/v1`: remote OAuth2, KV) and the few Mattermost v4
//! calls an app needs to post (see [`AppsClient::create_post`]). It owns a handle to a
//! shared, pooled `reqwest::Client` (cloning either is cheap), so it can move into a
//! spawned task. Every answer is read up to [`MAX_ANSWER`] bytes at most.
//!
//! Use the HTTP client this crate re-exports, [`crate::reqwest`], so its version always
//! matches.

mod core;
mod kv;
mod oauth2;
mod posts;

pub use self::core::{
    read_capped, AppsClient, ClientError, ReadError, API_PATH, MAX_ANSWER, MAX_BODY, V4_PATH,
};
pub use kv::MAX_PREFIX;
pub use posts::NewPost;
