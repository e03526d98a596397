//! The providers the app knows by name: each one's endpoints, scopes, extra authorize
//! parameters and how it revokes; data only.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The providers the configure form offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Google (the default).
    Google,
    /// GitHub (OAuth apps).
    Github,
    /// GitLab.com.
    Gitlab,
    /// Microsoft identity platform (Entra ID), common tenant.
    Microsoft,
    /// Any OAuth2 server: the admin gives the endpoints.
    Custom,
}

impl ProviderKind {
    /// Every kind, in form order.
    pub const ALL: [ProviderKind; 5] = [
        ProviderKind::Google,
        ProviderKind::Github,
        ProviderKind::Gitlab,
        ProviderKind::Microsoft,
        ProviderKind::Custom,
    ];

    /// The value in forms and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Google => "google",
            ProviderKind::Github => "github",
            ProviderKind::Gitlab => "gitlab",
            ProviderKind::Microsoft => "microsoft",
            ProviderKind::Custom => "custom",
        }
    }

    /// The human name.
    pub fn label(self) -> &'static str {
        match self {
            ProviderKind::Google => "Google",
            ProviderKind::Github => "GitHub",
            ProviderKind::Gitlab => "GitLab",
            ProviderKind::Microsoft => "Microsoft",
            ProviderKind::Custom => "Custom OAuth2 server",
        }
    }

    /// The provider as named inside a sentence: "Google", or "the provider" for `custom`.
    pub fn in_sentence(self) -> &'static str {
        match self {
            ProviderKind::Custom => "the provider",
            other => other.label(),
        }
    }

    /// The preset endpoints and scopes; `None` for `custom`.
    pub fn preset(self) -> Option<&'static Preset> {
        PRESETS.iter().find(|p| p.kind == self)
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProviderKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown provider {s:?}; choose one of {}", names.join(", "))
            })
    }
}

/// A named provider's endpoints, scopes and extra authorize parameters.
#[derive(Debug)]
pub struct Preset {
    /// Which provider.
    pub kind: ProviderKind,
    /// Authorize endpoint.
    pub auth_url: &'static str,
    /// Token endpoint.
    pub token_url: &'static str,
    /// Who-am-I endpoint.
    pub userinfo_url: &'static str,
    /// RFC 7009 revocation endpoint, if the provider has a standard one.
    pub revoke_url: Option<&'static str>,
    /// Revoking either token ends the whole grant, so `disconnect` sends one request:
    /// Google documents it; GitLab (Doorkeeper) keeps both tokens in one record.
    pub revokes_grant: bool,
    /// Where a user removes the app's access by hand, as a phrase ("at `<url>`").
    pub manage_access: &'static str,
    /// Space-separated scopes.
    pub scopes: &'static str,
    /// Extra authorize parameters.
    pub extra_params: &'static [(&'static str, &'static str)],
}

/// The presets. Google asks for offline access (and consent, so a refresh token is issued
/// again on reconnect); GitHub and Microsoft have no RFC 7009 revocation endpoint, so their
/// users remove the app's access on the provider's own page.
pub const PRESETS: &[Preset] = &[
    Preset {
        kind: ProviderKind::Google,
        auth_url: "https://accounts.google.com/o/oauth2/v2/auth",
        token_url: "https://oauth2.googleapis.com/token",
        userinfo_url: "https://openidconnect.googleapis.com/v1/userinfo",
        revoke_url: Some("https://oauth2.googleapis.com/revoke"),
        revokes_grant: true,
        manage_access: "at https://myaccount.google.com/connections",
        scopes: "openid https://www.googleapis.com/auth/userinfo.profile https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/calendar.readonly",
        extra_params: &[("access_type", "offline"), ("prompt", "consent")],
    },
    Preset {
        kind: ProviderKind::Github,
        auth_url: "https://github.com/login/oauth/authorize",
        token_url: "https://github.com/login/oauth/access_token",
        userinfo_url: "https://api.github.com/user",
        revoke_url: None,
        revokes_grant: false,
        manage_access: "at https://github.com/settings/applications (Authorized OAuth Apps)",
        scopes: "read:user user:email",
        extra_params: &[],
    },
    Preset {
        kind: ProviderKind::Gitlab,
        auth_url: "https://gitlab.com/oauth/authorize",
        token_url: "https://gitlab.com/oauth/token",
        userinfo_url: "https://gitlab.com/oauth/userinfo",
        revoke_url: Some("https://gitlab.com/oauth/revoke"),
        revokes_grant: true,
        manage_access: "at https://gitlab.com/-/user_settings/applications",
        scopes: "openid profile email read_user",
        extra_params: &[],
    },
    Preset {
        kind: ProviderKind::Microsoft,
        auth_url: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        token_url: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        userinfo_url: "https://graph.microsoft.com/oidc/userinfo",
        revoke_url: None,
        revokes_grant: false,
        manage_access: "at https://account.live.com/consent/Manage for a personal account, or at https://myapplications.microsoft.com for a work or school account",
        scopes: "openid profile email offline_access User.Read",
        extra_params: &[],
    },
];

/// The Calendar API's calendar list of the signed-in user.
pub const GOOGLE_CALENDAR_LIST: &str =
    "https://www.googleapis.com/calendar/v3/users/me/calendarList";

/// The Calendar API's scopes start with this (`…/calendar`, `…/calendar.readonly`, …).
pub const GOOGLE_CALENDAR_SCOPE: &str = "https://www.googleapis.com/auth/calendar";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_names_parse_case_insensitively() {
        assert_eq!("GitHub".parse::<ProviderKind>(), Ok(ProviderKind::Github));
        assert!("dropbox"
            .parse::<ProviderKind>()
            .expect_err("unknown")
            .contains("google"));
    }
}
