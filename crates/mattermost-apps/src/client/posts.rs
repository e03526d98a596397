//! Posting through Mattermost's own REST API (`/api/v4`): a post, a direct message channel,
//! an ephemeral post. What the app may do is what the token's identity may do: the bot
//! posts where it is a member (and in direct messages), the acting user where they can.

use serde::Serialize;
use serde_json::{Map, Value};

use super::core::{AppsClient, ClientError, MAX_ANSWER};
use crate::model::{Channel, Post};

/// The most a post's JSON may weigh when sent; Mattermost itself refuses messages over
/// 16383 characters.
const MAX_POST_BODY: usize = MAX_ANSWER;

/// A post to create: where, what, and optionally the thread and extra props.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NewPost {
    /// The channel to post in.
    pub channel_id: String,
    /// The text (Markdown).
    pub message: String,
    /// The thread's root post, to reply in a thread.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub root_id: String,
    /// Extra data (attachments, the app's own keys).
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub props: Map<String, Value>,
}

impl NewPost {
    /// A post of `message` in `channel_id`.
    pub fn new(channel_id: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            channel_id: channel_id.into(),
            message: message.into(),
            ..Self::default()
        }
    }
}

impl AppsClient {
    /// Creates a post (`POST /api/v4/posts`) and returns it as stored.
    ///
    /// ```no_run
    /// # async fn f(bot: mattermost_apps::AppsClient, ctx: mattermost_apps::Context) -> Result<(), mattermost_apps::client::ClientError> {
    /// use mattermost_apps::client::NewPost;
    ///
    /// let channel_id = ctx.channel.map(|c| c.id).unwrap_or_default();
    /// let post = bot.create_post(&NewPost::new(channel_id, "Deployed :rocket:")).await?;
    /// println!("posted {}", post.id);
    /// # Ok(()) }
    /// ```
    pub async fn create_post(&self, post: &NewPost) -> Result<Post, ClientError> {
        let answer = self
            .send(
                reqwest::Method::POST,
                &self.v4("/posts"),
                post,
                MAX_POST_BODY,
            )
            .await?;
        Ok(serde_json::from_slice(&answer)?)
    }

    /// The direct message channel between two users, created if needed
    /// (`POST /api/v4/channels/direct`). One of them must be the token's user: the bot
    /// (`context.bot_user_id`) with the bot's token.
    ///
    /// ```no_run
    /// # async fn f(bot: mattermost_apps::AppsClient, ctx: mattermost_apps::Context) -> Result<(), mattermost_apps::client::ClientError> {
    /// let user_id = ctx.acting_user.map(|u| u.id).unwrap_or_default();
    /// let channel = bot.direct_channel(&ctx.bot_user_id, &user_id).await?;
    /// assert!(channel.is_direct());
    /// # Ok(()) }
    /// ```
    pub async fn direct_channel(&self, user_a: &str, user_b: &str) -> Result<Channel, ClientError> {
        let url = self.v4("/channels/direct");
        let answer = self
            .send(
                reqwest::Method::POST,
                &url,
                &[user_a, user_b],
                MAX_POST_BODY,
            )
            .await?;
        Ok(serde_json::from_slice(&answer)?)
    }

    /// Sends `message` from the token's user `from` (the bot: `context.bot_user_id`) to the
    /// user `to` in their direct message channel: [`direct_channel`](Self::direct_channel)
    /// then [`create_post`](Self::create_post).
    ///
    /// ```no_run
    /// # async fn f(bot: mattermost_apps::AppsClient, ctx: mattermost_apps::Context) -> Result<(), mattermost_apps::client::ClientError> {
    /// let user_id = ctx.acting_user.map(|u| u.id).unwrap_or_default();
    /// bot.send_direct_message(&ctx.bot_user_id, &user_id, "Your export is ready.").await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_direct_message(
        &self,
        from: &str,
        to: &str,
        message: &str,
    ) -> Result<Post, ClientError> {
        let channel = self.direct_channel(from, to).await?;
        self.create_post(&NewPost::new(channel.id, message)).await
    }

    /// Shows `post` to `user_id` alone, until they reload (`POST /api/v4/posts/ephemeral`).
    /// Mattermost allows it to tokens with the `create_post_ephemeral` permission (system
    /// admins by default); an app answering a call usually needs none: the call's response
    /// text is already shown to the acting user alone.
    ///
    /// ```no_run
    /// # async fn f(client: mattermost_apps::AppsClient, ctx: mattermost_apps::Context) -> Result<(), mattermost_apps::client::ClientError> {
    /// use mattermost_apps::client::NewPost;
    ///
    /// let user_id = ctx.acting_user.map(|u| u.id).unwrap_or_default();
    /// let channel_id = ctx.channel.map(|c| c.id).unwrap_or_default();
    /// client.create_ephemeral_post(&user_id, &NewPost::new(channel_id, "Only you see this.")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_ephemeral_post(
        &self,
        user_id: &str,
        post: &NewPost,
    ) -> Result<Post, ClientError> {
        #[derive(Serialize)]
        struct Ephemeral<'a> {
            user_id: &'a str,
            post: &'a NewPost,
        }
        let url = self.v4("/posts/ephemeral");
        let body = Ephemeral { user_id, post };
        let answer = self
            .send(reqwest::Method::POST, &url, &body, MAX_POST_BODY)
            .await?;
        Ok(serde_json::from_slice(&answer)?)
    }
}
