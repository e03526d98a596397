//! `POST /configure` (system admins): stores the remote OAuth2 client through the Apps REST
//! API. Called with no values, it is the form's source: it answers with the form, pre-filled
//! with the current settings but never the stored client secret.

use actix_web::web;
use url::Url;

use super::{as_acting_user, paths, require_admin, COMMAND, ICON};
use crate::error::AppError;
use crate::oauth::{ProviderKind, ProviderSettings};
use mattermost_apps::secret::SecretString;
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

/// The form's text fields: (name, flag, modal label, subtype, help).
const TEXT_FIELDS: [(&str, &str, &str, TextSubtype, &str); 7] = [
    (
        "client_id",
        "client-id",
        "Client ID",
        TextSubtype::Input,
        "The OAuth2 client ID issued by the provider.",
    ),
    (
        "client_secret",
        "client-secret",
        "Client secret",
        TextSubtype::Password,
        "The client secret. Leave blank to keep the stored one.",
    ),
    (
        "auth_url",
        "auth-url",
        "Authorization URL",
        TextSubtype::Url,
        "Blank: the provider's default. Required for custom.",
    ),
    (
        "token_url",
        "token-url",
        "Token URL",
        TextSubtype::Url,
        "Blank: the provider's default. Required for custom.",
    ),
    (
        "userinfo_url",
        "userinfo-url",
        "Userinfo URL",
        TextSubtype::Url,
        "Used by `info`. Blank: the provider's default.",
    ),
    (
        "revoke_url",
        "revoke-url",
        "Revocation URL",
        TextSubtype::Url,
        "RFC 7009 endpoint used by `disconnect`. Blank: the provider's default.",
    ),
    (
        "scopes",
        "scopes",
        "Scopes",
        TextSubtype::Input,
        "Space-separated. Blank: the provider's defaults.",
    ),
];

/// The form of the configure binding: no fields, just the `source` that fetches the real
/// form when it is opened or typed (the webapp's command parser fetches a form without a
/// submit from its source). The bindings stay small, and the form always comes pre-filled.
pub fn binding_form() -> Form {
    Form {
        source: Some(Call::new(paths::CONFIGURE, EXPAND)),
        ..Form::default()
    }
}

/// The configure form, pre-filled from the stored settings (never with the client secret),
/// with the redirect URI to register in its header.
pub fn configure_form(current: &OAuth2Context) -> Form {
    let settings = ProviderSettings::from_context(current);
    let kind = settings.provider.unwrap_or(ProviderKind::Google);
    let option = |k: ProviderKind| SelectOption::new(k.label(), k.as_str());
    let mut fields = vec![Field {
        name: "provider".into(),
        field_type: FieldType::StaticSelect,
        is_required: true,
        label: "provider".into(),
        modal_label: "Provider".into(),
        description: "Google, GitHub, GitLab and Microsoft come with their endpoints and scopes."
            .into(),
        options: ProviderKind::ALL.into_iter().map(option).collect(),
        value: serde_json::to_value(option(kind)).ok(),
        ..Field::default()
    }];
    for (name, label, modal_label, subtype, description) in TEXT_FIELDS {
        let value = match name {
            "client_id" => current.app.client_id.as_str(),
            "auth_url" => settings.auth_url.as_str(),
            "token_url" => settings.token_url.as_str(),
            "userinfo_url" => settings.userinfo_url.as_str(),
            "revoke_url" => settings.revoke_url.as_str(),
            "scopes" => settings.scopes.as_str(),
            _ => "",
        };
        fields.push(Field {
            name: name.into(),
            field_type: FieldType::Text,
            is_required: name == "client_id",
            label: label.into(),
            modal_label: modal_label.into(),
            subtype: Some(subtype),
            description: description.into(),
            value: (!value.is_empty()).then(|| value.into()),
            ..Field::default()
        });
    }
    let header = match current.complete_url.as_str() {
        "" => "Choose the provider and enter the client the provider issued.".into(),
        url => format!("Register this redirect URI with the provider: `{url}`"),
    };
    Form {
        title: "Configure the OAuth2 provider".into(),
        header,
        icon: ICON.into(),
        submit: Some(Call::new(paths::CONFIGURE, EXPAND)),
        fields,
        ..Form::default()
    }
}

/// `POST /configure`.
pub async fn configure(
    state: web::Data<crate::startup::AppState>,
    call: Verified,
) -> Result<web::Json<CallResponse>, AppError> {
    let ctx = &call.context;
    let admin = require_admin(ctx)?;
    if !has_any_value(&call) {
        return Ok(web::Json(CallResponse::form(configure_form(&ctx.oauth2))));
    }
    let (app, kind) = read_submission(&call)?;
    as_acting_user(&state, ctx)?
        .store_oauth2_app(&app)
        .await
        .map_err(AppError::mattermost("The configuration was not saved"))?;
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

fn has_any_value(call: &CallRequest) -> bool {
    std::iter::once("provider")
        .chain(TEXT_FIELDS.iter().map(|f| f.0))
        .any(|name| call.value_str(name).is_some())
}

/// Parses and checks the submitted values; a blank client secret keeps the stored one.
fn read_submission(call: &CallRequest) -> Result<(OAuth2App, ProviderKind), AppError> {
    let stored = &call.context.oauth2;
    let provider = match call.value_str("provider") {
        Some(text) => text
            .parse::<ProviderKind>()
            .map_err(|message| AppError::Invalid {
                fields: vec![("provider", message.clone())],
                message,
            })?,
        None => ProviderSettings::from_context(stored)
            .provider
            .unwrap_or(ProviderKind::Google),
    };
    let text = |name| call.value_str(name).unwrap_or_default().to_owned();
    let settings = ProviderSettings {
        provider: Some(provider),
        auth_url: text("auth_url"),
        token_url: text("token_url"),
        userinfo_url: text("userinfo_url"),
        revoke_url: text("revoke_url"),
        scopes: text("scopes")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    };
    let client_id = text("client_id");
    let client_secret = match call.value_str("client_secret") {
        Some(secret) => SecretString::from(secret),
        None => stored.app.client_secret.clone(),
    };
    let config = settings
        .resolve(&client_id, &client_secret)
        .map_err(|fields| AppError::Invalid {
            message: "The configuration was not saved: please correct the highlighted fields."
                .into(),
            fields,
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
