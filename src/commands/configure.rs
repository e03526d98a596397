//! `POST /configure` (system admins): stores the remote OAuth2 client through the Apps REST
//! API. Called with no values, it is the form's source: it answers with the form, pre-filled
//! with the current settings but never the stored client secret.

use std::time::Duration;

use actix_web::web;
use tokio::time::Instant;
use url::Url;

use super::{as_acting_user, paths, require_admin, COMMAND, ICON};
use crate::error::AppError;
use crate::oauth::{discovery, ProviderKind, ProviderSettings};
use mattermost_apps::client::ClientError;
use mattermost_apps::secret::{ExposeSecret, SecretString};
use mattermost_apps::Verified;
use mattermost_apps::{
    Call, CallRequest, CallResponse, Expand, ExpandLevel, Field, FieldType, Form, OAuth2App,
    OAuth2Context, SelectOption, TextSubtype,
};

/// Configure needs the admin (required), their token (to store), and the stored client.
const EXPAND: Expand = Expand {
    acting_user: Some(ExpandLevel::RequiredSummary),
    acting_user_access_token: Some(ExpandLevel::RequiredAll),
    oauth2_app: Some(ExpandLevel::All),
    ..Expand::NONE
};

/// One setting of the form. Its `label` is the one name people see, in the modal and in
/// error texts; its flag is that name in lower case with dashes (`Client ID`,
/// `--client-id`); `name` is the key in `values` and in field errors.
struct Setting {
    name: &'static str,
    label: &'static str,
    flag: &'static str,
    subtype: TextSubtype,
    help: &'static str,
}

/// The provider select.
const PROVIDER: Setting = Setting {
    name: "provider",
    label: "Provider",
    flag: "provider",
    subtype: TextSubtype::Input,
    help: "google, github, gitlab, microsoft or custom. Blank: the stored one (Google at first).",
};

/// The text settings, in form order.
const TEXT_SETTINGS: [Setting; 9] = [
    Setting {
        name: "issuer",
        label: "Issuer",
        flag: "issuer",
        subtype: TextSubtype::Url,
        help: "OpenID Connect / OAuth2 issuer URL: its discovery document gives the URLs and scopes left blank.",
    },
    Setting {
        name: "client_id",
        label: "Client ID",
        flag: "client-id",
        subtype: TextSubtype::Input,
        help: "The OAuth2 client ID issued by the provider.",
    },
    Setting {
        name: "client_secret",
        label: "Client secret",
        flag: "client-secret",
        subtype: TextSubtype::Password,
        help: "Blank: keep the stored one (only for the same provider and client ID).",
    },
    Setting {
        name: "auth_url",
        label: "Auth URL",
        flag: "auth-url",
        subtype: TextSubtype::Url,
        help: "The authorization endpoint. Blank: the provider's. Required for custom.",
    },
    Setting {
        name: "token_url",
        label: "Token URL",
        flag: "token-url",
        subtype: TextSubtype::Url,
        help: "The token endpoint. Blank: the provider's. Required for custom.",
    },
    Setting {
        name: "userinfo_url",
        label: "Userinfo URL",
        flag: "userinfo-url",
        subtype: TextSubtype::Url,
        help: "Used by `info`. Blank: the provider's.",
    },
    Setting {
        name: "revoke_url",
        label: "Revoke URL",
        flag: "revoke-url",
        subtype: TextSubtype::Url,
        help: "RFC 7009 endpoint used by `disconnect`. Blank: the provider's.",
    },
    Setting {
        name: "scopes",
        label: "Scopes",
        flag: "scopes",
        subtype: TextSubtype::Input,
        help: "Space-separated. Blank: the provider's.",
    },
    Setting {
        name: "calendar_url",
        label: "Calendar URL",
        flag: "calendar-url",
        subtype: TextSubtype::Url,
        help: "Google only: the Calendar API's calendar list shown by `info`. Blank: Google's.",
    },
];

fn settings() -> impl Iterator<Item = &'static Setting> {
    std::iter::once(&PROVIDER).chain(TEXT_SETTINGS.iter())
}

/// The name people see for the setting behind the field `name` (the field itself when
/// unknown).
pub fn setting_label(name: &str) -> &str {
    settings()
        .find(|s| s.name == name)
        .map_or(name, |s| s.label)
}

/// Field problems as one sentence for a message, each named by its setting
/// ("Token URL: required for the custom provider; …"). A command shows only the error's
/// text, not the per-field errors, so the text must carry them.
pub fn describe_problems(problems: &[(&'static str, String)]) -> String {
    problems
        .iter()
        .map(|(field, message)| format!("{}: {message}", setting_label(field)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// What a form shows: the stored settings in the modal, nothing in the binding.
struct Prefill<'a> {
    provider: Option<ProviderKind>,
    client_id: &'a str,
    settings: ProviderSettings,
}

/// The configure form's fields. `prefill` gives the modal its current values (never the
/// client secret); without it (the binding) no field has a value or is required, because
/// the command line sends a field's value as a default and refuses to send anything while
/// a required field is missing.
fn fields(prefill: Option<&Prefill<'_>>) -> Vec<Field> {
    let option = |k: ProviderKind| SelectOption::new(k.label(), k.as_str());
    let mut fields = vec![Field {
        name: PROVIDER.name.into(),
        field_type: FieldType::StaticSelect,
        is_required: prefill.is_some(),
        label: PROVIDER.flag.into(),
        modal_label: PROVIDER.label.into(),
        description: PROVIDER.help.into(),
        options: ProviderKind::ALL.into_iter().map(option).collect(),
        value: prefill
            .and_then(|p| p.provider)
            .and_then(|kind| serde_json::to_value(option(kind)).ok()),
        ..Field::default()
    }];
    for setting in &TEXT_SETTINGS {
        let value = prefill.map_or("", |p| match setting.name {
            "client_id" => p.client_id,
            "issuer" => p.settings.issuer.as_str(),
            "calendar_url" => p.settings.calendar_url.as_str(),
            "auth_url" => p.settings.auth_url.as_str(),
            "token_url" => p.settings.token_url.as_str(),
            "userinfo_url" => p.settings.userinfo_url.as_str(),
            "revoke_url" => p.settings.revoke_url.as_str(),
            "scopes" => p.settings.scopes.as_str(),
            _ => "",
        });
        fields.push(Field {
            name: setting.name.into(),
            field_type: FieldType::Text,
            is_required: prefill.is_some() && setting.name == "client_id",
            label: setting.flag.into(),
            modal_label: setting.label.into(),
            subtype: Some(setting.subtype),
            description: setting.help.into(),
            value: (!value.is_empty()).then(|| value.into()),
            ..Field::default()
        });
    }
    fields
}

/// The configure binding's form: every field (as flags for the command line, none
/// required, no values) and the submit. A command runs the submit with what was typed; a
/// bare `configure` sends no values and gets the pre-filled [`configure_form`] back, which
/// the client opens as a modal. The stored settings are not in the binding: the bindings
/// are the same for every admin and built once.
pub fn binding_form() -> Form {
    Form {
        title: TITLE.into(),
        icon: ICON.into(),
        submit: Some(Call::new(paths::CONFIGURE, EXPAND)),
        fields: fields(None),
        ..Form::default()
    }
}

const TITLE: &str = "Configure the OAuth2 provider";

/// The configure form, pre-filled from the stored settings (never with the client secret),
/// with the redirect URI to register in its header.
pub fn configure_form(current: &OAuth2Context) -> Form {
    let stored = ProviderSettings::from_context(current);
    let mut header = match current.complete_url.as_str() {
        "" => "Choose the provider and enter the client the provider issued.".to_owned(),
        url => format!("Register this redirect URI with the provider: `{url}`"),
    };
    if let Err(problem) = &stored {
        header.push_str(&format!(
            "\n\nThe stored provider settings cannot be used ({problem}): choose the provider again."
        ));
    }
    let settings = stored.ok().flatten();
    let prefill = Prefill {
        provider: match &settings {
            Some(settings) => settings.provider,
            None if current.app.client_id.is_empty() => Some(ProviderKind::Google),
            None => None,
        },
        client_id: current.app.client_id.as_str(),
        settings: settings.unwrap_or_default(),
    };
    Form {
        title: TITLE.into(),
        header,
        icon: ICON.into(),
        submit: Some(Call::new(paths::CONFIGURE, EXPAND)),
        fields: fields(Some(&prefill)),
        ..Form::default()
    }
}

/// `POST /configure`.
pub async fn configure(
    state: web::Data<crate::state::AppState>,
    call: Verified,
) -> Result<web::Json<CallResponse>, AppError> {
    let started = Instant::now();
    let ctx = &call.context;
    let admin = require_admin(ctx)?;
    if !has_any_value(&call) {
        return Ok(web::Json(CallResponse::form(configure_form(&ctx.oauth2))));
    }
    let (app, kind) = read_submission(&state.http, &call, state.call_deadline / 2).await?;
    // The store gets what is left before the deadline. Once it is sent it may have happened
    // even without an answer: then the admin is told to check, never to simply try again.
    let margin = STORE_MARGIN.min(state.call_deadline / 10);
    let budget = state
        .call_deadline
        .saturating_sub(started.elapsed() + margin);
    let mattermost = as_acting_user(&state, ctx)?;
    match tokio::time::timeout(budget, mattermost.store_oauth2_app(&app)).await {
        Ok(Ok(())) => {}
        Ok(Err(ClientError::Transport(why))) => return Err(maybe_saved(&why)),
        Err(_) => return Err(maybe_saved("Mattermost did not answer in time")),
        Ok(Err(err)) => return Err(AppError::mattermost("The configuration was not saved")(err)),
    }
    log::info!("user {} configured the {kind} provider", admin.id);
    let redirect = match ctx.oauth2.complete_url.as_str() {
        "" => String::new(),
        url => format!(
            " Register this redirect URI with {}: `{url}`.",
            kind.label()
        ),
    };
    Ok(web::Json(
        CallResponse::ok(format!(
            "Saved the **{}** OAuth2 client `{}`.{redirect} Users can now run `/{COMMAND} connect`.",
            kind.label(),
            app.client_id
        ))
        .refreshing_bindings(),
    ))
}

/// How long before the call's deadline the store gives up, so the admin reads what to do
/// (at most a tenth of the deadline).
const STORE_MARGIN: Duration = Duration::from_secs(2);

/// A store that was sent but not confirmed.
fn maybe_saved(why: &str) -> AppError {
    AppError::Plain(format!(
        "The configuration may have been saved ({why}). Run `/{COMMAND} status` to see the stored settings, and configure again only if they are not the new ones."
    ))
}

fn has_any_value(call: &CallRequest) -> bool {
    settings().any(|setting| call.value_str(setting.name).is_some())
}

/// Parses and checks the submitted values. A blank client secret keeps the stored one only
/// for the same provider, token endpoint and client ID: the old secret belongs to the old
/// client, and must not be sent to another provider's token endpoint. An issuer's discovery
/// document is fetched here, within `discovery_budget`, and an unusable one stores nothing.
async fn read_submission(
    http: &reqwest::Client,
    call: &CallRequest,
    discovery_budget: Duration,
) -> Result<(OAuth2App, ProviderKind), AppError> {
    let stored = &call.context.oauth2;
    let invalid = |fields: Vec<(&'static str, String)>| AppError::Invalid {
        message: format!(
            "The configuration was not saved. {}.",
            describe_problems(&fields)
        ),
        fields,
    };
    let stored_settings = if stored.app.client_id.is_empty() {
        None
    } else {
        ProviderSettings::from_context(stored).ok().flatten()
    };
    let text = |name| call.value_str(name).unwrap_or_default().to_owned();
    let issuer = text("issuer");
    let provider = match call.value_str(PROVIDER.name) {
        Some(text) => text
            .parse::<ProviderKind>()
            .map_err(|message| invalid(vec![(PROVIDER.name, message)]))?,
        None if !issuer.is_empty() => ProviderKind::Custom,
        None if stored.app.client_id.is_empty() => ProviderKind::Google,
        None => stored_settings
            .as_ref()
            .and_then(|s| s.provider)
            .ok_or_else(|| {
                invalid(vec![(
                    PROVIDER.name,
                    format!(
                        "required: the stored one cannot be read; give `--{}`",
                        PROVIDER.flag
                    ),
                )])
            })?,
    };
    let discovered = match issuer.as_str() {
        "" => None,
        issuer => Some(
            tokio::time::timeout(discovery_budget, discovery::discover(http, issuer))
                .await
                .map_err(|_| {
                    let late = format!(
                        "its discovery document did not arrive within {} s",
                        discovery_budget.as_secs_f32()
                    );
                    invalid(vec![("issuer", late)])
                })?
                .map_err(|err| invalid(vec![("issuer", err.to_string())]))?
                .1,
        ),
    };
    let settings = ProviderSettings {
        provider: Some(provider),
        issuer,
        discovered,
        auth_url: text("auth_url"),
        token_url: text("token_url"),
        userinfo_url: text("userinfo_url"),
        revoke_url: text("revoke_url"),
        calendar_url: text("calendar_url"),
        scopes: text("scopes")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    };
    let client_id = text("client_id");
    // The stored secret goes only where it went before: the same client at the same token
    // endpoint, and no new revocation endpoint (the app authenticates there too).
    let same_client = stored_settings.as_ref().is_some_and(|old| {
        old.provider == settings.provider
            && old.token_url == settings.token_url
            && (settings.revoke_url.is_empty() || old.revoke_url == settings.revoke_url)
            && old.issuer == settings.issuer
            && stored.app.client_id.trim() == client_id
    });
    let client_secret = match call.value_str("client_secret") {
        Some(secret) => SecretString::from(secret),
        None if same_client => stored.app.client_secret.clone(),
        None => SecretString::default(),
    };
    let config = settings
        .resolve(&client_id, &client_secret)
        .map_err(|mut fields| {
            let secret_kept_before =
                !stored.app.client_secret.expose_secret().is_empty() && !same_client;
            for (field, message) in &mut fields {
                if *field == "client_secret" && secret_kept_before {
                    *message =
                        "required: the stored one belongs to the previous provider or client ID"
                            .into();
                }
            }
            invalid(fields)
        })?;
    let data = serde_json::to_value(&settings).map_err(|_| AppError::Invalid {
        message: "The settings could not be encoded.".into(),
        fields: Vec::new(),
    })?;
    Ok((
        OAuth2App {
            remote_root_url: origin(&config.auth_url),
            client_id: config.client_id,
            client_secret,
            data: Some(data),
        },
        provider,
    ))
}

fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}
