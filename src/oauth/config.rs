//! Which provider the admin configured: the settings stored in the plugin
//! (`OAuth2App.data`, with what an issuer's document gave), and the resolved endpoints the
//! app talks to. Data only: no requests.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use url::Url;

use super::client_secret::{open_client_secret, unopened_secret};
use super::preset::{ProviderKind, GOOGLE_CALENDAR_LIST, GOOGLE_CALENDAR_SCOPE};
use crate::seal::KeyRing;
use mattermost_apps::secret::{ExposeSecret, SecretString};
use mattermost_apps::OAuth2Context;

/// What the admin chose, stored as `OAuth2App.data`. Blank URLs mean "the issuer's, else
/// the preset's" and blank scopes "the preset's, else the issuer's", so switching providers
/// never keeps another provider's endpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderSettings {
    /// The provider.
    pub provider: Option<ProviderKind>,
    /// The OpenID Connect / RFC 8414 issuer whose discovery document gave `discovered`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub issuer: String,
    /// Authorize endpoint override.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auth_url: String,
    /// Token endpoint override.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token_url: String,
    /// Userinfo endpoint override.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub userinfo_url: String,
    /// Revocation endpoint override.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub revoke_url: String,
    /// Space-separated scopes override.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scopes: String,
    /// Google's calendar list override (`info` lists the user's calendars).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub calendar_url: String,
    /// What the issuer's discovery document gave when `configure` fetched it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovered: Option<Discovered>,
}

impl ProviderSettings {
    /// Reads the settings from `context.oauth2.data`: `Ok(None)` when none are stored,
    /// `Err` when what is stored is not settings this app wrote (or names no provider).
    /// Never a guess: reading other settings as Google's would send the stored client to
    /// the wrong provider.
    pub fn from_context(oauth2: &OAuth2Context) -> Result<Option<Self>, String> {
        let Some(data) = oauth2.app.data.as_ref().filter(|d| !d.is_null()) else {
            return Ok(None);
        };
        match Self::deserialize(data) {
            Ok(settings) if settings.provider.is_some() => Ok(Some(settings)),
            Ok(_) => Err("they name no provider".into()),
            Err(err) => Err(format!("they cannot be read: {err}")),
        }
    }

    /// Checks the settings and resolves them against the preset. Errors name the field.
    pub fn resolve(
        &self,
        client_id: &str,
        client_secret: &SecretString,
    ) -> Result<ProviderConfig, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let kind = self.provider.unwrap_or(ProviderKind::Google);
        let preset = kind.preset();
        let found = self.discovered.as_ref();
        // The issuer's endpoints replace the preset's (a self-managed GitLab, a tenant).
        let default = |discovered: fn(&Discovered) -> &str, preset: Option<&'static str>| {
            found.map(discovered).or(preset)
        };
        // A preset's scopes suit all its instances (Microsoft's bring `offline_access`).
        let scopes = if self.scopes.trim().is_empty() {
            preset
                .map(|p| p.scopes)
                .or(found.map(|d| d.scopes.as_str()))
                .unwrap_or("")
        } else {
            self.scopes.as_str()
        };
        let mut url = |field: &'static str, given: &str, preset: Option<&str>, required: bool| {
            let text = if given.is_empty() {
                preset.unwrap_or("")
            } else {
                given
            };
            if text.is_empty() {
                if required {
                    errors.push((
                        field,
                        format!("required for the {} provider", kind.as_str()),
                    ));
                }
                return None;
            }
            match check_endpoint(text) {
                Ok(url) => Some(url),
                Err(message) => {
                    errors.push((field, message));
                    None
                }
            }
        };
        let auth_url = url(
            "auth_url",
            &self.auth_url,
            default(|d| &d.auth_url, preset.map(|p| p.auth_url)),
            true,
        );
        let token_url = url(
            "token_url",
            &self.token_url,
            default(|d| &d.token_url, preset.map(|p| p.token_url)),
            true,
        );
        let userinfo_url = url(
            "userinfo_url",
            &self.userinfo_url,
            default(|d| &d.userinfo_url, preset.map(|p| p.userinfo_url)),
            false,
        );
        let revoke_url = url(
            "revoke_url",
            &self.revoke_url,
            default(|d| &d.revoke_url, preset.and_then(|p| p.revoke_url)),
            false,
        );

        // Google's calendars are listed when a calendar scope is asked for.
        let calendar_scope = scopes
            .split_whitespace()
            .any(|s| s.starts_with(GOOGLE_CALENDAR_SCOPE));
        let calendar_url = url(
            "calendar_url",
            &self.calendar_url,
            (kind == ProviderKind::Google && calendar_scope).then_some(GOOGLE_CALENDAR_LIST),
            false,
        );
        if client_id.trim().is_empty() {
            errors.push(("client_id", "required".to_owned()));
        }
        if client_secret.expose_secret().is_empty() {
            errors.push(("client_secret", "required".to_owned()));
        }
        match (auth_url, token_url) {
            (Some(auth_url), Some(token_url)) if errors.is_empty() => Ok(ProviderConfig {
                kind,
                client_id: client_id.trim().to_owned(),
                client_secret: client_secret.clone(),
                auth_url,
                token_url,
                userinfo_url,
                revoke_url,
                calendar_url,
                scopes: scopes.split_whitespace().map(str::to_owned).collect(),
                extra_params: preset.map(|p| p.extra_params).unwrap_or(&[]),
                issuer: (!self.issuer.is_empty()).then(|| self.issuer.clone()),
                iss_required: found.is_some_and(|d| d.iss_required),
            }),
            _ => Err(errors),
        }
    }
}

/// What the issuer's document gave, stored with the settings (`ProviderSettings.discovered`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovered {
    /// `authorization_endpoint`.
    pub auth_url: String,
    /// `token_endpoint`.
    pub token_url: String,
    /// `userinfo_endpoint`, if any.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub userinfo_url: String,
    /// `revocation_endpoint`, if any.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub revoke_url: String,
    /// `DEFAULT_SCOPES` limited to `scopes_supported`, space-separated.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scopes: String,
    /// `authorization_response_iss_parameter_supported` (RFC 9207): every authorization
    /// response carries `iss`, so one without it is refused.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub iss_required: bool,
}

/// A provider ready to use.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// Which provider.
    pub kind: ProviderKind,
    /// Client ID.
    pub client_id: String,
    /// Client secret.
    pub client_secret: SecretString,
    /// Authorize endpoint.
    pub auth_url: Url,
    /// Token endpoint.
    pub token_url: Url,
    /// Userinfo endpoint, if known.
    pub userinfo_url: Option<Url>,
    /// Revocation endpoint, if known.
    pub revoke_url: Option<Url>,
    /// Google's calendar list, listed by `info` (Google only).
    pub calendar_url: Option<Url>,
    /// Scopes to request.
    pub scopes: Vec<String>,
    /// Extra authorize parameters.
    pub extra_params: &'static [(&'static str, &'static str)],
    /// The issuer, when configured by it: the `iss` an authorization response must carry.
    pub issuer: Option<String>,
    /// The issuer sends `iss` with every authorization response (RFC 9207).
    pub iss_required: bool,
}

impl ProviderConfig {
    /// The provider as configured in `context.oauth2` (needs `oauth2_app` expanded at
    /// `all`), its client secret opened with `keys`: `Ok(None)` when no client has been
    /// stored, `Err` with the problems when the stored settings no longer pass the checks
    /// or the secret does not open.
    pub fn from_context(
        oauth2: &OAuth2Context,
        keys: &KeyRing,
        app_id: &str,
    ) -> Result<Option<Self>, Vec<(&'static str, String)>> {
        if oauth2.app.client_id.is_empty() {
            return Ok(None);
        }
        let secret = open_client_secret(oauth2, keys, app_id).map_err(|err| {
            log::warn!("the stored client secret does not open: {err}");
            vec![("client_secret", unopened_secret(&err))]
        })?;
        match ProviderSettings::from_context(oauth2) {
            Ok(Some(settings)) => settings.resolve(&oauth2.app.client_id, &secret).map(Some),
            Ok(None) => Err(vec![("provider", "no provider settings are stored".into())]),
            Err(problem) => Err(vec![("provider", problem)]),
        }
    }
}

/// Parses an endpoint: an absolute http(s) URL, and https unless the host is loopback
/// (a provider on the same machine, as in development and tests).
pub fn check_endpoint(text: &str) -> Result<Url, String> {
    let url =
        Url::parse(text.trim()).map_err(|err| format!("{text:?} is not a valid URL ({err})"))?;
    let host = url.host_str().unwrap_or("");
    match url.scheme() {
        "https" if !host.is_empty() => Ok(url),
        "http" if is_loopback(host) => Ok(url),
        "http" => Err(format!(
            "{text:?} must use https (http is allowed for loopback hosts only)"
        )),
        _ => Err(format!("{text:?} must be an https URL")),
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> SecretString {
        SecretString::from("s")
    }

    #[test]
    fn presets_resolve_with_just_credentials() {
        for kind in ProviderKind::ALL
            .into_iter()
            .filter(|k| *k != ProviderKind::Custom)
        {
            let settings = ProviderSettings {
                provider: Some(kind),
                ..Default::default()
            };
            let config = settings.resolve("id", &secret()).expect("preset resolves");
            assert!(!config.scopes.is_empty(), "{kind}");
            assert!(config.userinfo_url.is_some(), "{kind}");
        }
        let google = ProviderSettings::default()
            .resolve("id", &secret())
            .expect("google");
        assert_eq!(google.kind, ProviderKind::Google);
        assert!(google.extra_params.contains(&("access_type", "offline")));
    }

    #[test]
    fn custom_needs_its_endpoints_and_names_the_fields() {
        let settings = ProviderSettings {
            provider: Some(ProviderKind::Custom),
            ..Default::default()
        };
        let errors = settings
            .resolve("", &SecretString::default())
            .expect_err("incomplete");
        let fields: Vec<_> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            ["auth_url", "token_url", "client_id", "client_secret"]
        );
    }

    fn keys() -> KeyRing {
        KeyRing::parse(&KeyRing::generate_text("k1").expect("rng")).expect("ring")
    }

    #[test]
    fn a_context_tells_unconfigured_from_invalid() {
        let keys = keys();
        let from_context =
            |oauth2: &OAuth2Context| ProviderConfig::from_context(oauth2, &keys, "app");
        let mut oauth2 = OAuth2Context::default();
        assert!(matches!(from_context(&oauth2), Ok(None)));
        oauth2.app.client_id = "id".into();
        oauth2.app.client_secret = secret();
        oauth2.app.data = Some(serde_json::json!({"provider": "github"}));
        let config = from_context(&oauth2).expect("valid").expect("configured");
        assert_eq!(config.kind, ProviderKind::Github);
        oauth2.app.data = Some(serde_json::json!({"provider": "custom"}));
        let problems = from_context(&oauth2).expect_err("no endpoints");
        assert_eq!(problems.len(), 2);
        // Settings this app did not write are an error, never Google's defaults.
        for data in [
            None,
            Some(serde_json::json!({})),
            Some(serde_json::json!({"provider": "dropbox"})),
            Some(serde_json::json!("google")),
        ] {
            oauth2.app.data = data.clone();
            let problems = from_context(&oauth2).expect_err("unreadable");
            assert_eq!(problems.len(), 1, "{data:?}");
            assert_eq!(problems[0].0, "provider", "{data:?}");
        }
    }

    #[test]
    fn an_issuer_replaces_the_preset_endpoints_and_explicit_urls_win() {
        let discovered = Discovered {
            auth_url: "https://gitlab.example.com/oauth/authorize".into(),
            token_url: "https://gitlab.example.com/oauth/token".into(),
            userinfo_url: String::new(),
            revoke_url: "https://gitlab.example.com/oauth/revoke".into(),
            scopes: "openid profile email".into(),
            iss_required: true,
        };
        let settings = ProviderSettings {
            provider: Some(ProviderKind::Gitlab),
            issuer: "https://gitlab.example.com".into(),
            token_url: "https://gitlab.example.com/custom/token".into(),
            discovered: Some(discovered.clone()),
            ..Default::default()
        };
        let config = settings.resolve("id", &secret()).expect("resolves");
        assert_eq!(config.auth_url.as_str(), discovered.auth_url);
        assert_eq!(
            config.token_url.as_str(),
            settings.token_url,
            "explicit wins"
        );
        // The issuer has no userinfo endpoint: not gitlab.com's either.
        assert_eq!(config.userinfo_url, None);
        assert_eq!(config.scopes.join(" "), "openid profile email read_user");
        assert_eq!(config.issuer.as_deref(), Some("https://gitlab.example.com"));
        assert!(config.iss_required);
        // Custom: the issuer's scopes.
        let custom = ProviderSettings {
            provider: Some(ProviderKind::Custom),
            discovered: Some(discovered),
            ..Default::default()
        };
        let config = custom.resolve("id", &secret()).expect("resolves");
        assert_eq!(config.scopes.join(" "), "openid profile email");
    }

    #[test]
    fn endpoints_must_be_https_except_on_loopback() {
        assert!(check_endpoint("https://auth.example.com/authorize").is_ok());
        assert!(check_endpoint("http://127.0.0.1:9000/token").is_ok());
        assert!(check_endpoint("http://localhost/token").is_ok());
        assert!(check_endpoint("http://[::1]:8080/token").is_ok());
        assert!(check_endpoint("http://auth.example.com/token").is_err());
        assert!(check_endpoint("ftp://auth.example.com/token").is_err());
        assert!(check_endpoint("not a url").is_err());
    }
}
