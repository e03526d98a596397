//! The names Mattermost knows this app by: its slash command, its icon and its call paths.
//! A leaf: the error texts, the bindings and the routes all use them.

/// The slash command: `/hello-oauth2-rs`.
pub const COMMAND: &str = "hello-oauth2-rs";

/// The icon, a static asset.
pub const ICON: &str = "icon.png";

/// Call paths. The OAuth2 paths must differ from the `connect` command's path: the plugin
/// refuses user calls to them.
pub mod paths {
    /// Bindings.
    pub const BINDINGS: &str = "/bindings";
    /// on_install.
    pub const INSTALL: &str = "/install";
    /// Configure (submit, and the form when opened without values).
    pub const CONFIGURE: &str = "/configure";
    /// The connect command.
    pub const CONNECT: &str = "/connect";
    /// The info command.
    pub const INFO: &str = "/info";
    /// The disconnect command.
    pub const DISCONNECT: &str = "/disconnect";
    /// The help command.
    pub const HELP: &str = "/help";
    /// The status command.
    pub const STATUS: &str = "/status";
    /// get_oauth2_connect_url.
    pub const OAUTH2_CONNECT: &str = "/oauth2/connect";
    /// on_oauth2_complete.
    pub const OAUTH2_COMPLETE: &str = "/oauth2/complete";
    /// Ping.
    pub const PING: &str = "/ping";
}
