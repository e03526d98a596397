//! The `status` command (system admins): what the app is configured with, never the client
//! secret, and a live check of the provider, one line per check: the issuer's discovery
//! document (when an issuer is set) and the client credentials at the token endpoint.

use std::time::Duration;

use actix_web::web;

use super::context::require_admin;
use super::provider_form::setting_label;
use crate::error::AppError;
use crate::markdown::{self, escape};
use crate::names::COMMAND;
use crate::oauth::discovery;
use crate::oauth::probe::{self, Verdict};
use crate::oauth::{Discovered, ProviderConfig, ProviderError, ProviderSettings};
use crate::seal::Sealed;
use crate::state::AppState;
use mattermost_apps::secret::ExposeSecret;
use mattermost_apps::Verified;
use mattermost_apps::{CallResponse, Expand, ExpandLevel, OAuth2Context};

/// Status needs the admin (required) and the stored client.
pub const EXPAND: Expand = Expand {
    acting_user: Some(ExpandLevel::RequiredSummary),
    oauth2_app: Some(ExpandLevel::All),
    ..Expand::NONE
};

/// How much sooner than the call's deadline the live checks give up, whatever the outbound
/// timeout, so that each reports its own line rather than the call being cut off. The
/// checks run at the same time.
const CHECK_MARGIN: Duration = Duration::from_secs(5);

/// `POST /status`.
pub async fn status(
    state: web::Data<AppState>,
    call: Verified,
) -> Result<web::Json<CallResponse>, AppError> {
    let ctx = &call.context;
    require_admin(ctx)?;
    let oauth2 = &ctx.oauth2;
    // Unreadable settings show as none here; the resolved config below says why.
    let settings = ProviderSettings::from_context(oauth2)
        .ok()
        .flatten()
        .unwrap_or_default();
    let mut text = String::from("#### OAuth2 provider status\n");
    match settings.provider {
        Some(kind) => text.push_str(&format!("- Provider: {} (`{kind}`)\n", kind.label())),
        None => text.push_str("- Provider: none stored\n"),
    }
    if !settings.issuer.is_empty() {
        text.push_str(&format!("- Issuer: {}\n", code(&settings.issuer)));
    }
    text.push_str(&format!(
        "- Client ID: {}\n- Client secret: {}\n",
        match oauth2.app.client_id.as_str() {
            "" => "none stored".to_owned(),
            id => code(id),
        },
        match oauth2.app.client_secret.expose_secret() {
            "" => "not stored".to_owned(),
            secret => match Sealed::from_text(secret) {
                Some(sealed) => format!("stored, sealed with the key {}", code(&sealed.kid)),
                None =>
                    "stored in plain text by an earlier version (sealed when `configure` saves it)"
                        .to_owned(),
            },
        }
    ));
    if !oauth2.complete_url.is_empty() {
        text.push_str(&format!(
            "- Redirect URI to register at the provider: {}\n",
            code(&oauth2.complete_url)
        ));
    }
    let config = match ProviderConfig::from_context(oauth2, &state.keys, &state.app_id) {
        Ok(Some(config)) => config,
        Ok(None) => {
            text.push_str(&format!(
                "\nNo client is stored yet: run `/{COMMAND} configure`. Live checks skipped."
            ));
            return Ok(web::Json(CallResponse::ok(text)));
        }
        Err(problems) => {
            for (field, problem) in problems {
                text.push_str(&format!(
                    "- :x: {}: {}\n",
                    setting_label(field),
                    escape(&problem, 300)
                ));
            }
            text.push_str(&format!(
                "\nThe stored settings are not usable: run `/{COMMAND} configure`. Live checks skipped."
            ));
            return Ok(web::Json(CallResponse::ok(text)));
        }
    };
    let optional =
        |url: &Option<url::Url>| url.as_ref().map_or("none".into(), |u| code(u.as_str()));
    text.push_str(&format!(
        "- Authorization URL: {}\n- Token URL: {}\n- Userinfo URL: {}\n- Revocation URL: {}\n- Scopes: {}\n",
        code(config.auth_url.as_str()),
        code(config.token_url.as_str()),
        optional(&config.userinfo_url),
        optional(&config.revoke_url),
        match config.scopes.join(" ").as_str() {
            "" => "none".to_owned(),
            scopes => code(scopes),
        }
    ));
    if let Some(url) = &config.calendar_url {
        text.push_str(&format!("- Calendar list URL: {}\n", code(url.as_str())));
    }

    text.push_str("\n#### Live checks\n");
    let budget = state
        .call_deadline
        .saturating_sub(CHECK_MARGIN)
        .max(Duration::from_secs(1));
    let (found, credentials) = tokio::join!(
        check_discovery(&state.http, &settings, budget),
        check_credentials(&state.http, &config, oauth2, budget),
    );
    if let Some(line) = found {
        text.push_str(&format!("- {line}\n"));
    }
    text.push_str(&format!("- {credentials}\n"));
    Ok(web::Json(CallResponse::ok(text)))
}

/// The issuer's document, fetched again: does it still give what `configure` stored?
async fn check_discovery(
    http: &reqwest::Client,
    settings: &ProviderSettings,
    budget: Duration,
) -> Option<String> {
    if settings.issuer.is_empty() {
        return None;
    }
    let found = tokio::time::timeout(budget, discovery::discover(http, &settings.issuer)).await;
    Some(match found {
        Err(_) => ":x: Discovery: no answer in time".to_owned(),
        Ok(Err(err)) => format!(":x: Discovery: {err}"),
        Ok(Ok((url, now))) => {
            let stored = settings.discovered.as_ref();
            let changed = changed_endpoints(stored, &now);
            if changed.is_empty() {
                format!(
                    ":white_check_mark: Discovery: {} names this issuer and the stored endpoints",
                    code(url.as_str())
                )
            } else {
                format!(
                    ":warning: Discovery: {} now gives another {}: run `/{COMMAND} configure` again",
                    code(url.as_str()),
                    changed.join(", ")
                )
            }
        }
    })
}

/// The endpoints that differ between what was stored and what the document says now.
fn changed_endpoints(stored: Option<&Discovered>, now: &Discovered) -> Vec<&'static str> {
    let empty = Discovered::default();
    let stored = stored.unwrap_or(&empty);
    [
        ("authorization_endpoint", &stored.auth_url, &now.auth_url),
        ("token_endpoint", &stored.token_url, &now.token_url),
        ("userinfo_endpoint", &stored.userinfo_url, &now.userinfo_url),
        ("revocation_endpoint", &stored.revoke_url, &now.revoke_url),
    ]
    .into_iter()
    .filter(|(_, before, after)| before != after)
    .map(|(name, _, _)| name)
    .collect()
}

/// The token endpoint, sent a made-up code with the stored credentials.
async fn check_credentials(
    http: &reqwest::Client,
    config: &ProviderConfig,
    oauth2: &OAuth2Context,
    budget: Duration,
) -> String {
    let verdict = tokio::time::timeout(
        budget,
        probe::probe_token_endpoint(http, config, &oauth2.complete_url),
    )
    .await
    .unwrap_or(Err(ProviderError::Timeout));
    match verdict {
        Ok(Verdict::Accepted) => ":white_check_mark: Token endpoint: the client credentials are accepted (a made-up code was refused with `invalid_grant`)".into(),
        Ok(Verdict::WrongCredentials(why)) => format!(
            ":x: Token endpoint: the client ID or secret is wrong ({why}): check them and run `/{COMMAND} configure`"
        ),
        Ok(Verdict::Unexpected(what)) => format!(
            ":warning: Token endpoint: unexpected answer to a made-up code: {what}"
        ),
        Err(err) => format!(":x: Token endpoint: {err}"),
    }
}

/// A setting as inline code, or escaped when a code span cannot show it literally.
fn code(text: &str) -> String {
    markdown::code(text, 1024)
}
