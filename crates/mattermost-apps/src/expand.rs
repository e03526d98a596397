//! `Expand`: which parts of the context the plugin fills in before calling the app.

use serde::{Deserialize, Serialize};

/// How much of one context part to expand. A `+` level is required: the plugin fails the call
/// before contacting the app when it cannot expand it. Levels a key does not support are
/// silently ignored by the plugin (e.g. `summary` for `oauth2_app`). The plugin refuses
/// `none` and `-level`, so they have no variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpandLevel {
    /// Only identifiers.
    #[serde(rename = "id")]
    Id,
    /// A documented subset of fields.
    #[serde(rename = "summary")]
    Summary,
    /// Everything the acting identity may see.
    #[serde(rename = "all")]
    All,
    /// `id`, and fail the call if it cannot be expanded.
    #[serde(rename = "+id")]
    RequiredId,
    /// `summary`, required.
    #[serde(rename = "+summary")]
    RequiredSummary,
    /// `all`, required.
    #[serde(rename = "+all")]
    RequiredAll,
}

/// The expand section of a call. An absent key expands nothing. Build one from
/// [`Expand::NONE`] with struct update syntax, in `const` context too.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expand {
    /// The app record (`summary` or `all`; `id` is ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<ExpandLevel>,
    /// The Mattermost user who acts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acting_user: Option<ExpandLevel>,
    /// A Mattermost session token for the acting user (`all` only; needs `act_as_user`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acting_user_access_token: Option<ExpandLevel>,
    /// The acting user's locale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<ExpandLevel>,
    /// The channel the call was made in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<ExpandLevel>,
    /// The acting (or subject) user's channel membership.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_member: Option<ExpandLevel>,
    /// The team the call was made in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<ExpandLevel>,
    /// The acting (or subject) user's team membership.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_member: Option<ExpandLevel>,
    /// The post the call was made on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post: Option<ExpandLevel>,
    /// The root of the post's thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_post: Option<ExpandLevel>,
    /// The subject user of a notification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<ExpandLevel>,
    /// The remote OAuth2 client settings and connect/complete URLs (`all` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2_app: Option<ExpandLevel>,
    /// The acting user's stored remote OAuth2 token (`all` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2_user: Option<ExpandLevel>,
}

impl Expand {
    /// Nothing expanded.
    pub const NONE: Expand = Expand {
        app: None,
        acting_user: None,
        acting_user_access_token: None,
        locale: None,
        channel: None,
        channel_member: None,
        team: None,
        team_member: None,
        post: None,
        root_post: None,
        user: None,
        oauth2_app: None,
        oauth2_user: None,
    };
}
