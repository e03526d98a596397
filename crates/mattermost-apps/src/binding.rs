//! `Binding`: where the app shows up (slash commands, channel header, post menu).

use serde::{Deserialize, Serialize};

use crate::call::Call;
use crate::form::Form;

/// Top-level locations a bindings response may group under.
pub mod location {
    /// Slash commands.
    pub const COMMAND: &str = "/command";
    /// Channel header buttons (or the App Bar).
    pub const CHANNEL_HEADER: &str = "/channel_header";
    /// The post "…" menu.
    pub const POST_MENU: &str = "/post_menu";
}

/// A binding. Exactly one of `submit`, `form` or non-empty `bindings` must be set, or both
/// the plugin and the webapp drop it. Under `/command`, `label` is the command word: one
/// word, unique among its siblings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Binding {
    /// Set by the plugin on every non-top-level binding; apps need not send it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub app_id: String,
    /// This node's name relative to its parent; defaults to `label`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub location: String,
    /// Absolute URL or a static asset name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub icon: String,
    /// Command word, menu text or button text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    /// Autocomplete hint, or tooltip.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hint: String,
    /// Autocomplete description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submit: Option<Call>,
    /// An embedded form (needs `submit` or `source`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<Form>,
    /// Sub-bindings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bindings: Vec<Binding>,
}
