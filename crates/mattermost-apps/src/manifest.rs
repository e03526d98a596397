//! `Manifest`: what `/apps install http <url>` fetches, and the plugin's validation rules.

use serde::{Deserialize, Serialize};

use crate::call::Call;

/// Permissions an app may request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// `bot_access_token` in every call.
    ActAsBot,
    /// `acting_user_access_token` may be expanded.
    ActAsUser,
    /// `oauth2_app`/`oauth2_user` expansion and the `/oauth2/*` endpoints; needs `act_as_user`.
    #[serde(rename = "remote_oauth2")]
    RemoteOAuth2,
    /// Incoming webhooks; needs `act_as_bot`.
    RemoteWebhooks,
    /// Channel-join notifications; needs `act_as_bot`.
    UserJoinedChannelNotification,
}

/// How the plugin reaches an HTTP app.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpDeploy {
    /// Base URL; call paths are appended to it.
    pub root_url: String,
    /// Sign every call with `Mattermost-App-Authorization: Bearer <JWT>`.
    #[serde(default)]
    pub use_jwt: bool,
}

/// An app manifest (HTTP deployment). Unknown keys are ignored by the plugin.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// 3–32 bytes of letters, digits, `-`, `_`, `.`.
    pub app_id: String,
    /// At most 10 bytes of letters, digits, `-`, `_`, `.`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// Required absolute http(s) URL.
    pub homepage_url: String,
    /// Required; becomes the bot's display name.
    pub display_name: String,
    /// Shown in listings.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Static asset name of the icon, fetched at install.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub icon: String,
    /// The bindings call (default `/bindings`, no expand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bindings: Option<Call>,
    /// Called after install.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_install: Option<Call>,
    /// Called before uninstall; an error aborts it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_uninstall: Option<Call>,
    /// Called after a version change (Cloud only in practice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_version_changed: Option<Call>,
    /// Called on `/apps enable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_enable: Option<Call>,
    /// Called on `/apps disable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_disable: Option<Call>,
    /// Returns the provider's authorize URL. An expand given here replaces the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_oauth2_connect_url: Option<Call>,
    /// Exchanges the code. An expand given here replaces the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_oauth2_complete: Option<Call>,
    /// Receives remote webhooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_remote_webhook: Option<Call>,
    /// Requested permissions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requested_permissions: Vec<Permission>,
    /// Requested locations; without any, the plugin never asks for bindings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requested_locations: Vec<String>,
    /// `none`, `secret` or `jwt`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remote_webhook_auth_type: String,
    /// HTTP deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpDeploy>,
}

impl Manifest {
    /// The plugin's install-time checks; every failure is listed.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        if self.display_name.is_empty() {
            problems.push("display_name must not be empty".to_owned());
        }
        if !is_http_url(&self.homepage_url) {
            problems.push(format!(
                "homepage_url {:?} is not an absolute http(s) URL",
                self.homepage_url
            ));
        }
        if !self.icon.is_empty() && !is_clean_static_path(&self.icon) {
            problems.push(format!("icon {:?} is not a valid static path", self.icon));
        }
        let id_ok = (3..=32).contains(&self.app_id.len())
            && self
                .app_id
                .chars()
                .all(|c| c.is_alphanumeric() || "-_.".contains(c));
        if !id_ok {
            problems.push(format!(
                "app_id {:?} must be 3-32 bytes of letters, digits, '-', '_', '.'",
                self.app_id
            ));
        }
        let version_ok = self.version.len() <= 10
            && self
                .version
                .chars()
                .all(|c| c.is_alphanumeric() || "-_.".contains(c));
        if !version_ok {
            problems.push(format!(
                "version {:?} must be at most 10 bytes of letters, digits, '-', '_', '.'",
                self.version
            ));
        }
        let has = |p| self.requested_permissions.contains(&p);
        for (needs, dependency) in [
            (Permission::RemoteOAuth2, Permission::ActAsUser),
            (Permission::RemoteWebhooks, Permission::ActAsBot),
            (
                Permission::UserJoinedChannelNotification,
                Permission::ActAsBot,
            ),
        ] {
            if has(needs) && !has(dependency) {
                problems.push(format!("{needs:?} requires {dependency:?}"));
            }
        }
        match &self.http {
            Some(http) if is_http_url(&http.root_url) => {}
            Some(http) => problems.push(format!(
                "http.root_url {:?} is not an absolute http(s) URL",
                http.root_url
            )),
            None => problems.push("no deploy section (http) is present".to_owned()),
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

fn is_http_url(s: &str) -> bool {
    url::Url::parse(s)
        .map(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .unwrap_or(false)
}

/// A flat static asset name: no parent escapes, not empty. (The plugin percent-decodes and
/// cleans; a plain relative name like `icon.png` always passes.)
fn is_clean_static_path(s: &str) -> bool {
    !s.is_empty() && s != "." && !s.starts_with('/') && !s.split('/').any(|part| part == "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_manifest_is_valid() {
        let text = include_str!("../tests/fixtures/manifest.json");
        let manifest: Manifest = serde_json::from_str(text).expect("parse");
        assert_eq!(manifest.validate(), Ok(()));
    }

    #[test]
    fn every_rule_is_reported() {
        let manifest = Manifest {
            app_id: "x".into(),
            version: "v00.00.0000".into(),
            homepage_url: "not a url".into(),
            icon: "../icon.png".into(),
            requested_permissions: vec![Permission::RemoteOAuth2],
            ..Manifest::default()
        };
        let problems = manifest.validate().expect_err("invalid");
        assert_eq!(problems.len(), 7, "{problems:#?}");
    }
}
