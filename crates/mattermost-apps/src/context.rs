//! `Context`: what the plugin tells the app about the call. The plugin rebuilds it before
//! every call; only what the call's expand asked for is filled in.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{Channel, Post, Team};
use crate::oauth2::OAuth2App;
use crate::secret::{self, Redacted, SecretString};

/// The context of a call. `Debug` hides the app record (it holds the webhook secret) and
/// the stored OAuth2 token; the session tokens and the client secret are secret strings.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct Context {
    /// Always sent, always `""`: the plugin blanks it.
    #[serde(default)]
    pub app_id: String,
    /// The event, for subscription notifications only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// `webapp` or `mobile` (plugin builds after v1.2.2 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Set by clients for analytics (after v1.2.2 only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub track_as_submit: bool,
    /// Mattermost's SiteURL; `""` in ping requests.
    #[serde(default)]
    pub mattermost_site_url: String,
    /// True when Mattermost runs in developer mode.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub developer_mode: bool,
    /// `/plugins/com.mattermost.apps/apps/{app_id}`, relative to the site URL.
    #[serde(default)]
    pub app_path: String,
    /// The app's bot user; `""` in ping requests.
    #[serde(default)]
    pub bot_user_id: String,
    /// The bot's session token, only when the app has `act_as_bot`.
    #[serde(
        default,
        serialize_with = "secret::serialize_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub bot_access_token: Option<SecretString>,
    /// The app record, when expanded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<Value>,
    /// The acting user, when expanded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acting_user: Option<User>,
    /// A session token for the acting user, when expanded (`act_as_user`). Good for this
    /// request only: the plugin rotates it.
    #[serde(
        default,
        serialize_with = "secret::serialize_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub acting_user_access_token: Option<SecretString>,
    /// The acting user's locale, when expanded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// The channel, when expanded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// The channel membership, when expanded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_member: Option<Value>,
    /// The team, when expanded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<Team>,
    /// The team membership, when expanded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_member: Option<Value>,
    /// The post, when expanded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post: Option<Post>,
    /// The thread's root post, when expanded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_post: Option<Post>,
    /// The subject user of a notification, when expanded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// Remote OAuth2 data; always present, `{}` when nothing was expanded.
    #[serde(default)]
    pub oauth2: OAuth2Context,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("app_id", &self.app_id)
            .field("subject", &self.subject)
            .field("user_agent", &self.user_agent)
            .field("track_as_submit", &self.track_as_submit)
            .field("mattermost_site_url", &self.mattermost_site_url)
            .field("developer_mode", &self.developer_mode)
            .field("app_path", &self.app_path)
            .field("bot_user_id", &self.bot_user_id)
            .field("bot_access_token", &self.bot_access_token)
            .field("app", &self.app.as_ref().map(|_| Redacted))
            .field("acting_user", &self.acting_user)
            .field("acting_user_access_token", &self.acting_user_access_token)
            .field("locale", &self.locale)
            .field("channel", &self.channel)
            .field("channel_member", &self.channel_member)
            .field("team", &self.team)
            .field("team_member", &self.team_member)
            .field("post", &self.post)
            .field("root_post", &self.root_post)
            .field("user", &self.user)
            .field("oauth2", &self.oauth2)
            .finish()
    }
}

/// A context type a handler may choose instead of [`Context`], to read only the parts it
/// needs (e.g. a bindings handler that needs the acting user's roles alone). The call
/// extractor needs its acting user, so the JWT check can compare users.
pub trait CallContext: DeserializeOwned + Default + 'static {
    /// The expanded acting user's ID, if the context has one.
    fn acting_user_id(&self) -> Option<&str>;
}

impl CallContext for Context {
    fn acting_user_id(&self) -> Option<&str> {
        self.acting_user.as_ref().map(|u| u.id.as_str())
    }
}

/// A Mattermost user, with the keys the `summary` level fills in. Keys Go always
/// serialises are always serialised here too; unknown keys (level `all`) are ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// 26-character user ID.
    pub id: String,
    /// Milliseconds since the epoch when deactivated, else 0.
    #[serde(default)]
    pub delete_at: i64,
    /// Login name.
    #[serde(default)]
    pub username: String,
    /// SSO service, or `""`.
    #[serde(default)]
    pub auth_service: String,
    /// E-mail address (blank when privacy settings hide it).
    #[serde(default)]
    pub email: String,
    /// Nickname.
    #[serde(default)]
    pub nickname: String,
    /// First name.
    #[serde(default)]
    pub first_name: String,
    /// Last name.
    #[serde(default)]
    pub last_name: String,
    /// Position.
    #[serde(default)]
    pub position: String,
    /// Space-separated role names, e.g. `system_admin system_user`.
    #[serde(default)]
    pub roles: String,
    /// Locale, e.g. `en`.
    #[serde(default)]
    pub locale: String,
    /// Timezone settings; `null` at level `id`.
    #[serde(default)]
    pub timezone: Option<BTreeMap<String, String>>,
    /// Whether the welcome e-mail is off.
    #[serde(default)]
    pub disable_welcome_email: bool,
    /// True for bot accounts.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_bot: bool,
    /// A bot's description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bot_description: String,
}

impl User {
    /// True when the user has the `system_admin` role.
    pub fn is_system_admin(&self) -> bool {
        has_role(&self.roles, "system_admin")
    }
}

/// True when the space-separated `roles` contains `role`.
pub fn has_role(roles: &str, role: &str) -> bool {
    roles.split_whitespace().any(|r| r == role)
}

/// `context.oauth2`: the remote OAuth2 client as last stored by the app (its keys inline,
/// as Go embeds `OAuth2App`), the plugin's connect/complete URLs, and the acting user's
/// stored token. The client secret comes with every call that expands `oauth2_app`.
/// `Debug` hides the stored token.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct OAuth2Context {
    /// As stored with `/oauth2/app` (`remote_root_url`, `client_id`, `client_secret`, `data`).
    #[serde(flatten)]
    pub app: OAuth2App,
    /// Where the user's browser starts the flow (filled when `oauth2_app` is expanded).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub connect_url: String,
    /// The redirect URI to register with the provider.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub complete_url: String,
    /// The acting user's token as stored with `/oauth2/user`, when expanded and present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<Value>,
}

impl fmt::Debug for OAuth2Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth2Context")
            .field("app", &self.app)
            .field("connect_url", &self.connect_url)
            .field("complete_url", &self.complete_url)
            .field("user", &self.user.as_ref().map(|_| Redacted))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_matched_as_words() {
        assert!(has_role("system_admin system_user", "system_admin"));
        assert!(!has_role(
            "system_user custom_system_admin_like",
            "system_admin"
        ));
        assert!(!has_role("", "system_admin"));
    }

    #[test]
    fn channel_team_and_post_are_typed() {
        let ctx: Context = serde_json::from_str(
            r#"{"channel": {"id": "c1", "team_id": "t1", "type": "P", "name": "ops"},
                "team": {"id": "t1", "name": "acme"},
                "post": {"id": "p1", "message": "deploy?", "root_id": "p0"},
                "root_post": {"id": "p0"}}"#,
        )
        .expect("parse");
        assert_eq!(ctx.channel.map(|c| c.name), Some("ops".into()));
        assert_eq!(ctx.team.map(|t| t.name), Some("acme".into()));
        assert_eq!(ctx.post.map(|p| p.root_id), Some("p0".into()));
        assert_eq!(ctx.root_post.map(|p| p.id), Some("p0".into()));
    }

    #[test]
    fn secrets_in_the_context_are_redacted_in_debug() {
        let ctx: Context = serde_json::from_str(
            r#"{"acting_user_access_token":"tok-123","oauth2":{"client_secret":"cs-456"}}"#,
        )
        .expect("parse");
        let debug = format!("{ctx:?}");
        assert!(!debug.contains("tok-123") && !debug.contains("cs-456"));
    }
}
