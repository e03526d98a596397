//! Direct messages from the app's bot to a user whose connection changed where they could
//! not see it: a connection the app ended in the background, and a connect that completed
//! (the browser page that ends it says nothing). A message that cannot be sent is logged
//! and goes no further: it never fails a call.
//!
//! "Once" needs no state of its own: the bot says a connection ended only when the app
//! itself ended it, under the user's refresh lock, by clearing the stored token (or giving
//! up storing its replacement). The cleared record is the marker: it lives in Mattermost
//! (every replica, every restart sees it), no later call finds a token to refresh, and
//! connecting again replaces it. Mattermost's plugins guard the same way after users got
//! a message per failed refresh: GitLab refreshes under a per-user cluster mutex and deletes
//! the stored token before its one message (mattermost/mattermost-plugin-gitlab:
//! server/plugin.go, `getOrRefreshTokenWithMutex`, `handleRevokedToken`); Google Calendar's
//! engine sends it only when it is the one that set the stored token to nil
//! (mattermost/mattermost-plugin-mscalendar: calendar/store/user_store.go,
//! `DisconnectUserFromStoreIfNecessary`).

use mattermost_apps::secret::{ExposeSecret, SecretString};
use mattermost_apps::AppsClient;

use crate::logline;
use crate::names::COMMAND;

/// The app's bot, as the call's context gave it: `bot_access_token` comes with every call
/// once the app is granted `act_as_bot`, whatever the expand
/// (mattermost/mattermost-plugin-apps: server/proxy/expand.go). It is an app session that
/// lives 10 minutes and is extended when under 5 (server/session/session.go), so it still
/// works for a task that outlives its call by a few minutes.
#[derive(Clone, Debug)]
pub struct Bot {
    client: AppsClient,
    user_id: String,
}

impl Bot {
    /// The bot on `site_url`, when the context carries its user ID and token.
    pub fn new(
        http: reqwest::Client,
        site_url: &str,
        user_id: &str,
        token: Option<&SecretString>,
    ) -> Option<Self> {
        let token = token.filter(|t| !t.expose_secret().is_empty())?;
        (!user_id.is_empty()).then(|| Self {
            client: AppsClient::new(http, site_url, token.clone()),
            user_id: user_id.to_owned(),
        })
    }

    /// Sends `text` to `user_id` in their direct channel with the bot; a failure is logged.
    pub async fn tell(&self, user_id: &str, text: &str) {
        if let Err(err) = self
            .client
            .send_direct_message(&self.user_id, user_id, text)
            .await
        {
            log::warn!(
                "could not send a direct message to user {}: {}",
                logline::escape(user_id),
                logline::escape(&err.to_string())
            );
        }
    }
}

/// Tells `user_id` their connection ended, and `why` (logged when there is no bot).
pub async fn tell_ended(bot: Option<&Bot>, user_id: &str, why: &str) {
    match bot {
        Some(bot) => bot.tell(user_id, &ended(why)).await,
        None => log::warn!(
            "cannot tell user {} that their connection ended: the call carried no bot token",
            logline::escape(user_id)
        ),
    }
}

/// The message for a connection the app ended; `why` is the error's sentence (Markdown,
/// outside text in it already escaped).
pub fn ended(why: &str) -> String {
    format!("Your connection has ended. {why}\n\nTo connect again, run `/{COMMAND} connect`.")
}

/// The message for a connect that completed; `account` describes the remote account
/// (escaped), when a userinfo URL is configured and answered.
pub fn connected(provider: &str, account: Option<&str>) -> String {
    match account {
        Some(account) => format!("You are now connected to {provider} as {account}."),
        None => format!("You are now connected to {provider}."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bot_needs_its_id_and_a_token() {
        let http = reqwest::Client::new();
        let token = SecretString::from("b0t");
        let empty = SecretString::from("");
        assert!(Bot::new(http.clone(), "http://mm", "bot", Some(&token)).is_some());
        assert!(Bot::new(http.clone(), "http://mm", "", Some(&token)).is_none());
        assert!(Bot::new(http.clone(), "http://mm", "bot", Some(&empty)).is_none());
        assert!(Bot::new(http, "http://mm", "bot", None).is_none());
    }

    #[test]
    fn the_ended_message_says_how_to_connect_again() {
        let text = ended("Your refresh token is no longer accepted by Google.");
        assert!(text.contains("no longer accepted by Google"), "{text}");
        assert!(text.contains(&format!("`/{COMMAND} connect`")), "{text}");
    }
}
