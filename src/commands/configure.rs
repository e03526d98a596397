//! `POST /configure` (system admins): stores the remote OAuth2 client through the Apps REST
//! API. Called with no values, it is the form's source: it answers with the form, pre-filled
//! with the current settings but never the stored client secret.

use std::time::Duration;

use actix_web::web;
use tokio::time::Instant;
use url::Url;

use super::context::{as_acting_user, require_admin};
use super::provider_form::{self, describe_problems, setting, Entered};
use crate::error::AppError;
use crate::markdown;
use crate::metrics::{self, MattermostRequest};
use crate::names::{paths, COMMAND, ICON};
use crate::oauth::client_secret::{open_client_secret, seal_client_secret, unopened_secret};
use crate::oauth::{discovery, ProviderConfig, ProviderKind, ProviderSettings};
use crate::seal::KeyRing;
use mattermost_apps::client::ClientError;
use mattermost_apps::secret::{ExposeSecret, SecretString};
use mattermost_apps::Verified;
use mattermost_apps::{
    Call, CallRequest, CallResponse, Expand, ExpandLevel, Form, OAuth2App, OAuth2Context,
};

/// Configure needs the admin (required), their token (to store), and the stored client.
const EXPAND: Expand = Expand {
    acting_user: Some(ExpandLevel::RequiredSummary),
    acting_user_access_token: Some(ExpandLevel::RequiredAll),
    oauth2_app: Some(ExpandLevel::All),
    ..Expand::NONE
};

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
        fields: provider_form::fields(None),
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
        url => format!(
            "Register this redirect URI with the provider: {}",
            markdown::code(url, 1024)
        ),
    };
    if let Err(problem) = &stored {
        header.push_str(&format!(
            "\n\nThe stored provider settings cannot be used ({}): choose the provider again.",
            markdown::escape(problem, 300)
        ));
    }
    let settings = stored.ok().flatten();
    let provider = match &settings {
        Some(settings) => settings.provider,
        None if current.app.client_id.is_empty() => Some(ProviderKind::Google),
        None => None,
    };
    let prefill = Entered {
        settings: ProviderSettings {
            provider,
            ..settings.unwrap_or_default()
        },
        client_id: current.app.client_id.clone(),
        client_secret: None,
    };
    Form {
        title: TITLE.into(),
        header,
        icon: ICON.into(),
        submit: Some(Call::new(paths::CONFIGURE, EXPAND)),
        fields: provider_form::fields(Some(&prefill)),
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
    if !provider_form::has_any_value(&call) {
        return Ok(web::Json(CallResponse::form(configure_form(&ctx.oauth2))));
    }
    let (app, kind) = read_submission(&state, &call, state.call_deadline / 2).await?;
    // Stored sealed: a copy of Mattermost's database does not reveal it.
    let sealed = OAuth2App {
        client_secret: seal_client_secret(&app.client_secret, &state.keys, &state.app_id).map_err(
            |err| AppError::Invalid {
                message: format!("The configuration was not saved: {err}."),
                fields: Vec::new(),
            },
        )?,
        ..app.clone()
    };
    // The store gets what is left before the deadline. Once it is sent it may have happened
    // even without an answer: then the admin is told to check, never to simply try again.
    let margin = STORE_MARGIN.min(state.call_deadline / 10);
    let budget = state
        .call_deadline
        .saturating_sub(started.elapsed() + margin);
    let mattermost = as_acting_user(&state, ctx)?;
    let store = metrics::mattermost(
        MattermostRequest::StoreApp,
        mattermost.store_oauth2_app(&sealed),
    );
    match tokio::time::timeout(budget, store).await {
        Ok(Ok(())) => {}
        Ok(Err(ClientError::Transport(why))) => return Err(maybe_saved(&why)),
        Err(_) => return Err(maybe_saved("Mattermost did not answer in time")),
        Ok(Err(err)) => return Err(AppError::mattermost("The configuration was not saved")(err)),
    }
    log::info!(
        "user {} configured the {kind} provider",
        crate::logline::escape(&admin.id)
    );
    let redirect = match ctx.oauth2.complete_url.as_str() {
        "" => String::new(),
        url => format!(
            " Register this redirect URI with {}: {}.",
            kind.label(),
            markdown::code(url, 1024)
        ),
    };
    Ok(web::Json(
        CallResponse::ok(format!(
            "Saved the **{}** OAuth2 client {}.{redirect} Users can now run `/{COMMAND} connect`.",
            kind.label(),
            markdown::code(&app.client_id, 200)
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
        "The configuration may have been saved ({}). Run `/{COMMAND} status` to see the stored settings, and configure again only if they are not the new ones.",
        markdown::escape(why, 300)
    ))
}

/// Parses and checks the submitted values. A blank client secret keeps the stored one only
/// for the same client ([`same_client`]): the old secret belongs to the old client, and
/// must not be sent to another token endpoint. An issuer's discovery document is fetched
/// here, within `discovery_budget`, and an unusable one stores nothing.
async fn read_submission(
    state: &crate::state::AppState,
    call: &CallRequest,
    discovery_budget: Duration,
) -> Result<(OAuth2App, ProviderKind), AppError> {
    let http = &state.http;
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
    let Entered {
        mut settings,
        client_id,
        client_secret,
    } = provider_form::read(call).map_err(invalid)?;
    let provider = match settings.provider {
        Some(provider) => provider,
        None if !settings.issuer.is_empty() => ProviderKind::Custom,
        None if stored.app.client_id.is_empty() => ProviderKind::Google,
        None => stored_settings
            .as_ref()
            .and_then(|s| s.provider)
            .ok_or_else(|| {
                let flag = setting("provider").map_or("provider", |s| s.flag);
                invalid(vec![(
                    "provider",
                    format!("required: the stored one cannot be read; give `--{flag}`"),
                )])
            })?,
    };
    settings.provider = Some(provider);
    if !settings.issuer.is_empty() {
        let (_, found) = tokio::time::timeout(
            discovery_budget,
            discovery::discover(http, &settings.issuer),
        )
        .await
        .map_err(|_| {
            let late = format!(
                "its discovery document did not arrive within {} s",
                discovery_budget.as_secs_f32()
            );
            invalid(vec![("issuer", late)])
        })?
        .map_err(|err| invalid(vec![("issuer", err.to_string())]))?;
        settings.discovered = Some(found);
    }
    let kept = client_secret.is_none() && !stored.app.client_secret.expose_secret().is_empty();
    // A kept secret is opened to be sealed again, with the current key.
    let client_secret = match client_secret {
        Some(secret) => secret,
        None if kept => open_client_secret(stored, &state.keys, &state.app_id)
            .map_err(|err| invalid(vec![("client_secret", unopened_secret(&err))]))?,
        None => SecretString::default(),
    };
    let config = settings
        .resolve(&client_id, &client_secret)
        .map_err(invalid)?;
    if kept && !same_client(stored, &state.keys, &state.app_id, &config) {
        return Err(invalid(vec![(
            "client_secret",
            "required: the stored one belongs to the previous provider, client ID or endpoints"
                .into(),
        )]));
    }
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

/// Whether the stored secret may go with `new`: the same provider, issuer and client ID at
/// the same token endpoint, and no new revocation endpoint (the app authenticates there
/// too). The endpoints compared are the resolved ones, those the secret is sent to: an
/// issuer's document may have moved them while every URL field stayed blank.
fn same_client(stored: &OAuth2Context, keys: &KeyRing, app_id: &str, new: &ProviderConfig) -> bool {
    ProviderConfig::from_context(stored, keys, app_id)
        .ok()
        .flatten()
        .is_some_and(|old| {
            old.kind == new.kind
                && old.issuer == new.issuer
                && old.client_id == new.client_id
                && old.token_url == new.token_url
                && (new.revoke_url.is_none() || old.revoke_url == new.revoke_url)
        })
}

fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}
