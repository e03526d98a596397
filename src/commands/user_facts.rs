//! What `/bindings` answers from, read once: whether the acting user is a system admin and
//! whether they have a stored token, parsed from the call's context as far as those two
//! facts go; every other key is skipped unread, because clients fetch bindings on every
//! channel switch.

use serde::de::IgnoredAny;
use serde::Deserialize;

use mattermost_apps::context::{has_role, CallContext};

/// What the bindings depend on: whether the acting user is a system admin, and whether they
/// have a stored token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserFacts {
    /// The acting user is a system admin: show `configure` and `status`.
    pub admin: bool,
    /// The acting user has a stored token (the plugin sends `context.oauth2.user`): `info`
    /// and `disconnect` instead of `connect`.
    pub connected: bool,
}

/// The bindings call's context, only as far as the answer reads it: the acting user (its ID
/// for the JWT check, its roles) and the stored token. Every other key is skipped unread.
#[derive(Debug, Default, Deserialize)]
pub struct BindingsContext {
    #[serde(default)]
    acting_user: Option<ActingUser>,
    #[serde(default)]
    oauth2: OAuth2User,
}

/// `context.acting_user`, at any expand level.
#[derive(Debug, Default, Deserialize)]
struct ActingUser {
    id: String,
    #[serde(default)]
    roles: String,
}

/// `context.oauth2`, of which only `user` is read.
#[derive(Debug, Default, Deserialize)]
struct OAuth2User {
    /// Skipped unread: the plugin leaves `user` out when nothing (or `{}`, or `null`) is
    /// stored, so its presence is the answer.
    #[serde(default)]
    user: Option<IgnoredAny>,
}

impl BindingsContext {
    /// The two facts.
    pub fn user_facts(&self) -> UserFacts {
        UserFacts {
            admin: self
                .acting_user
                .as_ref()
                .is_some_and(|user| has_role(&user.roles, "system_admin")),
            connected: self.oauth2.user.is_some(),
        }
    }
}

impl CallContext for BindingsContext {
    fn acting_user_id(&self) -> Option<&str> {
        self.acting_user.as_ref().map(|user| user.id.as_str())
    }
}
