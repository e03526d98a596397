//! The configure form's settings, one table entry each: the key, the label people see, the
//! flag, the kind of field, the help, and how the value is read for the pre-fill and
//! written when submitted. The form, the flags, the pre-fill, the parsing and the names in
//! error texts all come from [`SETTINGS`], so a setting is added in one place.

use crate::oauth::{ProviderKind, ProviderSettings};
use mattermost_apps::secret::SecretString;
use mattermost_apps::{CallRequest, Field, FieldType, SelectOption, TextSubtype};

/// What the form edits: the provider settings stored as `OAuth2App.data`, and the client.
#[derive(Debug, Default)]
pub struct Entered {
    /// The settings (the provider, the issuer, the URLs, the scopes).
    pub settings: ProviderSettings,
    /// The client ID.
    pub client_id: String,
    /// The client secret, when one was typed (never pre-filled).
    pub client_secret: Option<SecretString>,
}

/// What kind of field a setting is.
pub enum Kind {
    /// A select of the providers.
    Provider,
    /// A text field.
    Text(TextSubtype),
}

/// One setting. Its `label` is the one name people see, in the modal and in error texts;
/// its `flag` is that name in lower case with dashes (`Client ID`, `--client-id`); `key`
/// is the key in `values`, in field errors and in the stored settings.
pub struct Setting {
    /// The key in `values` and in field errors.
    pub key: &'static str,
    /// The name people see.
    pub label: &'static str,
    /// The command-line flag, without `--`.
    pub flag: &'static str,
    /// The kind of field.
    pub kind: Kind,
    /// The help under the field.
    pub help: &'static str,
    /// Required in the modal (never in the binding: see [`fields`]).
    pub required: bool,
    /// The current value, for the pre-fill (`""` for none).
    pub read: fn(&Entered) -> &str,
    /// Takes a submitted (trimmed, non-empty) value, or says why it cannot.
    pub write: fn(&mut Entered, &str) -> Result<(), String>,
}

/// Every setting, in form order.
pub const SETTINGS: &[Setting] = &[
    Setting {
        key: "provider",
        label: "Provider",
        flag: "provider",
        kind: Kind::Provider,
        help: "google, github, gitlab, microsoft or custom. Blank: the stored one (Google at first).",
        required: true,
        read: |e| e.settings.provider.map_or("", ProviderKind::as_str),
        write: |e, v| set(&mut e.settings.provider, Some(v.parse()?)),
    },
    Setting {
        key: "issuer",
        label: "Issuer",
        flag: "issuer",
        kind: Kind::Text(TextSubtype::Url),
        help: "OpenID Connect / OAuth2 issuer URL: its discovery document gives the URLs and scopes left blank.",
        required: false,
        read: |e| &e.settings.issuer,
        write: |e, v| set(&mut e.settings.issuer, v.into()),
    },
    Setting {
        key: "client_id",
        label: "Client ID",
        flag: "client-id",
        kind: Kind::Text(TextSubtype::Input),
        help: "The OAuth2 client ID issued by the provider.",
        required: true,
        read: |e| &e.client_id,
        write: |e, v| set(&mut e.client_id, v.into()),
    },
    Setting {
        key: "client_secret",
        label: "Client secret",
        flag: "client-secret",
        kind: Kind::Text(TextSubtype::Password),
        help: "Blank: keep the stored one (only for the same provider and client ID).",
        required: false,
        read: |_| "", // never sent back
        write: |e, v| set(&mut e.client_secret, Some(v.into())),
    },
    Setting {
        key: "auth_url",
        label: "Auth URL",
        flag: "auth-url",
        kind: Kind::Text(TextSubtype::Url),
        help: "The authorization endpoint. Blank: the provider's. Required for custom.",
        required: false,
        read: |e| &e.settings.auth_url,
        write: |e, v| set(&mut e.settings.auth_url, v.into()),
    },
    Setting {
        key: "token_url",
        label: "Token URL",
        flag: "token-url",
        kind: Kind::Text(TextSubtype::Url),
        help: "The token endpoint. Blank: the provider's. Required for custom.",
        required: false,
        read: |e| &e.settings.token_url,
        write: |e, v| set(&mut e.settings.token_url, v.into()),
    },
    Setting {
        key: "userinfo_url",
        label: "Userinfo URL",
        flag: "userinfo-url",
        kind: Kind::Text(TextSubtype::Url),
        help: "Used by `info`. Blank: the provider's.",
        required: false,
        read: |e| &e.settings.userinfo_url,
        write: |e, v| set(&mut e.settings.userinfo_url, v.into()),
    },
    Setting {
        key: "revoke_url",
        label: "Revoke URL",
        flag: "revoke-url",
        kind: Kind::Text(TextSubtype::Url),
        help: "RFC 7009 endpoint used by `disconnect`. Blank: the provider's.",
        required: false,
        read: |e| &e.settings.revoke_url,
        write: |e, v| set(&mut e.settings.revoke_url, v.into()),
    },
    Setting {
        key: "scopes",
        label: "Scopes",
        flag: "scopes",
        kind: Kind::Text(TextSubtype::Input),
        help: "Space-separated. Blank: the provider's.",
        required: false,
        read: |e| &e.settings.scopes,
        write: |e, v| set(&mut e.settings.scopes, v.split_whitespace().collect::<Vec<_>>().join(" ")),
    },
    Setting {
        key: "calendar_url",
        label: "Calendar URL",
        flag: "calendar-url",
        kind: Kind::Text(TextSubtype::Url),
        help: "Google only: the Calendar API's calendar list shown by `info`. Blank: Google's.",
        required: false,
        read: |e| &e.settings.calendar_url,
        write: |e, v| set(&mut e.settings.calendar_url, v.into()),
    },
];

/// Stores a written value.
fn set<T>(slot: &mut T, value: T) -> Result<(), String> {
    *slot = value;
    Ok(())
}

/// The setting with this key.
pub fn setting(key: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.key == key)
}

/// The name people see for the setting behind the field `key` (the key itself when
/// unknown).
pub fn setting_label(key: &str) -> &str {
    setting(key).map_or(key, |s| s.label)
}

/// Field problems as one sentence for a message, each named by its setting
/// ("Token URL: required for the custom provider; …"). A command shows only the error's
/// text, not the per-field errors, so the text must carry them.
pub fn describe_problems(problems: &[(&'static str, String)]) -> String {
    problems
        .iter()
        .map(|(key, message)| format!("{}: {message}", setting_label(key)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The form's fields. `prefill` gives the modal its current values (never the client
/// secret) and its required fields; without it (the binding) no field has a value or is
/// required, because the command line sends a field's value as a default and refuses to
/// send anything while a required field is missing.
pub fn fields(prefill: Option<&Entered>) -> Vec<Field> {
    let provider = |k: ProviderKind| SelectOption::new(k.label(), k.as_str());
    SETTINGS
        .iter()
        .map(|setting| {
            let value = prefill.map_or("", setting.read);
            let field = Field {
                name: setting.key.into(),
                is_required: prefill.is_some() && setting.required,
                label: setting.flag.into(),
                modal_label: setting.label.into(),
                description: setting.help.into(),
                ..Field::default()
            };
            match setting.kind {
                Kind::Provider => Field {
                    field_type: FieldType::StaticSelect,
                    options: ProviderKind::ALL.into_iter().map(provider).collect(),
                    value: value
                        .parse()
                        .ok()
                        .and_then(|kind| serde_json::to_value(provider(kind)).ok()),
                    ..field
                },
                Kind::Text(subtype) => Field {
                    field_type: FieldType::Text,
                    subtype: Some(subtype),
                    value: (!value.is_empty()).then(|| value.into()),
                    ..field
                },
            }
        })
        .collect()
}

/// True when the call carries a value for any setting (a bare `configure` carries none).
pub fn has_any_value(call: &CallRequest) -> bool {
    SETTINGS.iter().any(|s| call.value_str(s.key).is_some())
}

/// The submitted values; blank ones stay blank. Errors name the field.
pub fn read(call: &CallRequest) -> Result<Entered, Vec<(&'static str, String)>> {
    let mut entered = Entered::default();
    let mut errors = Vec::new();
    for setting in SETTINGS {
        if let Some(value) = call.value_str(setting.key) {
            if let Err(message) = (setting.write)(&mut entered, value) {
                errors.push((setting.key, message));
            }
        }
    }
    if errors.is_empty() {
        Ok(entered)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::ProviderKind;

    #[test]
    fn every_field_the_checks_can_name_is_a_setting() {
        let settings = ProviderSettings {
            provider: Some(ProviderKind::Custom),
            auth_url: "x".into(),
            token_url: "x".into(),
            userinfo_url: "x".into(),
            revoke_url: "x".into(),
            calendar_url: "x".into(),
            ..Default::default()
        };
        let errors = settings
            .resolve("", &SecretString::default())
            .expect_err("all bad");
        assert_eq!(errors.len(), 7, "{errors:?}");
        for (key, _) in errors {
            assert!(setting(key).is_some(), "{key} has no setting");
        }
    }

    #[test]
    fn what_is_written_reads_back_and_flags_follow_labels() {
        for setting in SETTINGS {
            assert_eq!(
                setting.flag,
                setting.label.to_lowercase().replace(' ', "-"),
                "{}",
                setting.key
            );
            let mut entered = Entered::default();
            let value = match setting.kind {
                Kind::Provider => "github",
                Kind::Text(_) => "https://x.example/a",
            };
            (setting.write)(&mut entered, value).expect("takes a good value");
            let expected = if setting.key == "client_secret" {
                ""
            } else {
                value
            };
            assert_eq!((setting.read)(&entered), expected, "{}", setting.key);
        }
    }
}
