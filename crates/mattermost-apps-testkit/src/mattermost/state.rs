//! The emulator's memory: users, sessions, the installed app and its stored data, the
//! OAuth2 states and the pending REST faults (the records are in [`super::records`]).

use std::collections::HashMap;
use std::time::Instant;

use serde_json::{json, Value};

use super::records::Records;
use crate::util::new_id;

/// A Mattermost user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// 26-character ID.
    pub id: String,
    /// Login name.
    pub username: String,
    /// E-mail address.
    pub email: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Nickname.
    pub nickname: String,
    /// Position.
    pub position: String,
    /// Space-separated roles, e.g. `system_admin system_user`.
    pub roles: String,
    /// Locale.
    pub locale: String,
    /// True for bot accounts.
    pub is_bot: bool,
    /// A bot's description.
    pub bot_description: String,
}

impl User {
    /// A new user with an ID and plausible profile data.
    pub fn new(username: &str, roles: &str) -> Self {
        let mut first = username.split('.').next().unwrap_or(username).to_owned();
        if let Some(c) = first.get_mut(0..1) {
            c.make_ascii_uppercase();
        }
        Self {
            id: new_id(),
            username: username.to_owned(),
            email: format!("{username}@example.com"),
            first_name: first,
            last_name: "Tester".into(),
            nickname: String::new(),
            position: String::new(),
            roles: roles.to_owned(),
            locale: "en".into(),
            is_bot: false,
            bot_description: String::new(),
        }
    }

    /// True with the `system_admin` role (Mattermost's `manage_system`).
    pub fn is_system_admin(&self) -> bool {
        self.roles.split_whitespace().any(|r| r == "system_admin")
    }

    fn timezone() -> Value {
        json!({"automaticTimezone": "", "manualTimezone": "", "useAutomaticTimezone": "true"})
    }

    /// The User JSON at level `id`: only `id`, with the non-omitempty keys zeroed.
    pub fn json_id(&self) -> Value {
        json!({
            "id": self.id, "delete_at": 0, "username": "", "auth_service": "", "email": "",
            "nickname": "", "first_name": "", "last_name": "", "position": "", "roles": "",
            "locale": "", "timezone": null, "disable_welcome_email": false
        })
    }

    /// The User JSON at level `summary`.
    pub fn json_summary(&self) -> Value {
        let mut user = json!({
            "id": self.id, "delete_at": 0, "username": self.username, "auth_service": "",
            "email": self.email, "nickname": self.nickname, "first_name": self.first_name,
            "last_name": self.last_name, "position": self.position, "roles": self.roles,
            "locale": self.locale, "timezone": Self::timezone(), "disable_welcome_email": false
        });
        if self.is_bot {
            user["is_bot"] = json!(true);
            if !self.bot_description.is_empty() {
                user["bot_description"] = json!(self.bot_description);
            }
        }
        user
    }

    /// The User JSON at level `all`: the sanitized full user.
    pub fn json_all(&self) -> Value {
        let mut user = self.json_summary();
        let extra = json!({
            "create_at": 1_700_000_000_000_i64, "update_at": 1_700_000_000_000_i64,
            "email_verified": true,
            "notify_props": {"channel": "true", "desktop": "mention", "email": "true", "push": "mention"},
            "last_password_update": 1_700_000_000_000_i64, "last_picture_update": 0,
            "mfa_active": false, "props": {}
        });
        if let (Some(user), Some(extra)) = (user.as_object_mut(), extra.as_object()) {
            user.extend(extra.clone());
        }
        user
    }
}

/// What kind of session a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionKind {
    /// Created by the Apps plugin for (app, user): the only kind the Apps REST API accepts.
    App {
        /// The app the session belongs to.
        app_id: String,
    },
    /// A personal access token.
    PersonalAccessToken,
    /// A browser login (the `MMAUTHTOKEN` cookie).
    Browser,
}

/// A session token and whose it is.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user.
    pub user_id: String,
    /// The kind.
    pub kind: SessionKind,
}

/// The installed app.
#[derive(Debug, Clone)]
pub struct InstalledApp {
    /// The app ID.
    pub app_id: String,
    /// The manifest as fetched.
    pub manifest: Value,
    /// Where calls go (`http.root_url`, unless a test re-routes it, e.g. to another replica).
    pub root_url: String,
    /// Whether calls are signed.
    pub use_jwt: bool,
    /// The outgoing JWT secret.
    pub secret: String,
    /// The bot's user ID.
    pub bot_user_id: String,
    /// The bot's username.
    pub bot_username: String,
    /// Granted permissions (= requested).
    pub permissions: Vec<String>,
    /// Granted locations (= requested).
    pub locations: Vec<String>,
    /// Disabled apps refuse calls.
    pub enabled: bool,
    /// `/oauth2/app` as last stored, re-encoded like Go.
    pub oauth2_app: Option<String>,
    /// `/oauth2/user` bytes, per user ID.
    pub oauth2_users: HashMap<String, Vec<u8>>,
    /// KV values per (user ID, prefix, key).
    pub kv: HashMap<(String, String, String), Vec<u8>>,
}

impl InstalledApp {
    /// True when the permission was granted.
    pub fn has(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }

    /// `/plugins/com.mattermost.apps/apps/{app_id}`.
    pub fn app_path(&self) -> String {
        format!("/plugins/com.mattermost.apps/apps/{}", self.app_id)
    }
}

/// A one-shot failure of the Apps REST API, to emulate a Mattermost store failure.
#[derive(Debug, Clone)]
pub struct RestFault {
    /// Method to match (`None`: any).
    pub method: Option<String>,
    /// Path to match, e.g. `/oauth2/user`.
    pub path: String,
    /// Status to answer.
    pub status: u16,
    /// Body to answer.
    pub body: String,
}

/// The emulator's state.
#[derive(Default)]
pub struct State {
    /// Users by ID.
    pub users: HashMap<String, User>,
    /// Sessions by token.
    pub sessions: HashMap<String, Session>,
    /// The installed app.
    pub app: Option<InstalledApp>,
    /// Pending OAuth2 states and when they expire.
    pub oauth2_states: HashMap<String, Instant>,
    /// One-shot REST faults.
    pub rest_faults: Vec<RestFault>,
    /// One-shot: REST requests (method, path) carried out whose answer is sent this late.
    pub rest_late: Vec<(String, String, std::time::Duration)>,
    /// REST requests (method, path) that fail with a 500 until switched back on.
    pub rest_down: Vec<(Option<String>, String)>,
    /// Direct message channels created through `/api/v4/channels/direct`.
    pub direct_channels: Vec<super::v4::DirectChannel>,
    /// Every `/api/v4` request fails with a 500 until switched back on.
    pub v4_down: bool,
    /// Records.
    pub records: Records,
}

impl State {
    /// The user named `username`.
    pub fn user_by_name(&self, username: &str) -> Option<&User> {
        self.users.values().find(|u| u.username == username)
    }

    /// The app session token of (app, user), created on first use (like the plugin's
    /// session store; the token is the same for the session's lifetime).
    pub fn app_session(&mut self, app_id: &str, user_id: &str) -> String {
        let kind = SessionKind::App {
            app_id: app_id.to_owned(),
        };
        if let Some((token, _)) = self
            .sessions
            .iter()
            .find(|(_, s)| s.user_id == user_id && s.kind == kind)
        {
            return token.clone();
        }
        let token = new_id();
        self.sessions.insert(
            token.clone(),
            Session {
                user_id: user_id.to_owned(),
                kind,
            },
        );
        token
    }
}
