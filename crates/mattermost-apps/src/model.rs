//! Mattermost's own records as a call's context carries them: [`Channel`], [`Team`] and
//! [`Post`], with the commonly used fields of Mattermost's `model.Channel`, `model.Team`
//! and `model.Post` (mattermost/mattermost: server/public/model). The expand level decides
//! which are filled (mattermost-plugin-apps: apps/expand.go): `id` gives the IDs only,
//! `summary` a documented subset, `all` everything; missing fields are empty and unknown
//! fields are ignored.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A channel. `summary` fills `id`, `delete_at`, `team_id`, `channel_type`, `display_name`
/// and `name`; `id` only `id` and `team_id`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Channel {
    /// 26-character channel ID.
    pub id: String,
    /// Milliseconds since the epoch.
    pub create_at: i64,
    /// Milliseconds since the epoch.
    pub update_at: i64,
    /// Milliseconds since the epoch when archived, else 0.
    pub delete_at: i64,
    /// The team; `""` for direct and group messages.
    pub team_id: String,
    /// `O` public, `P` private, `D` direct message, `G` group message.
    #[serde(rename = "type")]
    pub channel_type: String,
    /// The name shown to users.
    pub display_name: String,
    /// The URL name (`town-square`); two user IDs joined by `__` for a direct message.
    pub name: String,
    /// The channel header (Markdown).
    pub header: String,
    /// The channel purpose.
    pub purpose: String,
    /// Who created it.
    pub creator_id: String,
}

impl Channel {
    /// True for a direct message channel between two users.
    pub fn is_direct(&self) -> bool {
        self.channel_type == "D"
    }
}

/// A team. `summary` fills `id`, `display_name`, `name`, `description`, `email` and
/// `team_type`; `id` only `id`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Team {
    /// 26-character team ID.
    pub id: String,
    /// Milliseconds since the epoch.
    pub create_at: i64,
    /// Milliseconds since the epoch.
    pub update_at: i64,
    /// Milliseconds since the epoch when archived, else 0.
    pub delete_at: i64,
    /// The name shown to users.
    pub display_name: String,
    /// The URL name.
    pub name: String,
    /// The description.
    pub description: String,
    /// The team's contact e-mail (blank unless the caller may see it).
    pub email: String,
    /// `O` open, `I` invite only.
    #[serde(rename = "type")]
    pub team_type: String,
    /// Whether anyone on the server may join.
    pub allow_open_invite: bool,
}

/// A post. `summary` fills `id`, `post_type`, `user_id`, `channel_id`, `root_id` and
/// `message`; `id` only `id`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Post {
    /// 26-character post ID.
    pub id: String,
    /// Milliseconds since the epoch.
    pub create_at: i64,
    /// Milliseconds since the epoch.
    pub update_at: i64,
    /// Milliseconds since the epoch of the last edit, else 0.
    pub edit_at: i64,
    /// Milliseconds since the epoch when deleted, else 0.
    pub delete_at: i64,
    /// Pinned to the channel.
    pub is_pinned: bool,
    /// The author.
    pub user_id: String,
    /// The channel it is in.
    pub channel_id: String,
    /// The thread's root post; `""` for a root post.
    pub root_id: String,
    /// The text (Markdown).
    pub message: String,
    /// `""` for a user's post; `system_*` and others for special posts.
    #[serde(rename = "type")]
    pub post_type: String,
    /// Extra data: attachments, the app's own keys.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub props: Map<String, Value>,
    /// Attached files.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub file_ids: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// As the plugin's `all` level sends them: extra fields are ignored, `null`-free.
    #[test]
    fn records_read_the_plugins_json_and_ignore_unknown_fields() {
        let channel: Channel = serde_json::from_value(json!({
            "id": "c1", "create_at": 1, "update_at": 2, "delete_at": 0, "team_id": "t1",
            "type": "O", "display_name": "Town Square", "name": "town-square",
            "header": "", "purpose": "", "last_post_at": 3, "total_msg_count": 4,
            "extra_update_at": 0, "creator_id": "", "scheme_id": null, "props": null
        }))
        .expect("channel");
        assert_eq!(
            (channel.name.as_str(), channel.channel_type.as_str()),
            ("town-square", "O")
        );
        assert!(!channel.is_direct());
        let team: Team = serde_json::from_value(json!({
            "id": "t1", "display_name": "Team", "name": "team", "description": "",
            "email": "", "type": "O", "invite_id": "x", "allow_open_invite": true
        }))
        .expect("team");
        assert_eq!(team.team_type, "O");
        assert!(team.allow_open_invite);
        let post: Post = serde_json::from_value(json!({
            "id": "p1", "user_id": "u1", "channel_id": "c1", "root_id": "", "message": "hi",
            "type": "", "props": {"from_bot": "true"}, "hashtags": "", "metadata": {}
        }))
        .expect("post");
        assert_eq!(post.message, "hi");
        assert_eq!(post.props["from_bot"], "true");
        // The `id` level: only IDs.
        let id_only: Channel =
            serde_json::from_value(json!({"id": "c1", "team_id": "t1"})).expect("id level");
        assert_eq!(id_only.display_name, "");
    }
}
