//! The `disconnect` command: forget the user's token here, then revoke it at the provider.
//! The local disconnect happens first and always, and wins over a refresh under way; the answer says what happened at the
//! provider, and what the user can do there when the app could not revoke the token.

use std::time::Duration;

use tokio::time::Instant;

use actix_web::web;

use super::{as_user, provider, store_over_refreshes};
use crate::error::AppError;
use crate::oauth::{client, ProviderConfig, StoredToken};
use crate::state::AppState;
use mattermost_apps::CallResponse;
use mattermost_apps::Verified;

/// How long before the call's deadline the revocation gives up, so that the user still
/// reads what happened and what to do at the provider.
const REVOKE_MARGIN: Duration = Duration::from_secs(2);

/// `POST /disconnect`.
pub async fn disconnect(
    state: web::Data<AppState>,
    call: Verified,
) -> Result<web::Json<CallResponse>, AppError> {
    let started = Instant::now();
    let ctx = &call.context;
    let token = ctx.oauth2.user.as_ref().and_then(StoredToken::from_context);
    // `null` clears the stored token (as the Go example does), and no refresh under way
    // stores one after it.
    store_over_refreshes(
        &state,
        &as_user(&state, ctx)?,
        started,
        &serde_json::Value::Null,
    )
    .await
    .map_err(AppError::mattermost("Could not remove your token"))?;
    let Some(token) = token else {
        return Ok(web::Json(
            CallResponse::ok("You were not connected.").refreshing_bindings(),
        ));
    };
    let text = match provider(&ctx.oauth2) {
        Ok(config) => {
            // The token is already forgotten here: a revocation cut off by the call's
            // deadline would leave the user with "try again" and nothing left to retry.
            let budget = state
                .call_deadline
                .saturating_sub(started.elapsed() + REVOKE_MARGIN);
            let revoked =
                tokio::time::timeout(budget, client::revoke(&state.http, &config, &token))
                    .await
                    .unwrap_or(Err(client::ProviderError::Timeout));
            if let Err(err) = &revoked {
                log::warn!("revocation failed: {}", err.plain());
            }
            after_revocation(&config, revoked)
        }
        Err(_) => "Disconnected. This app no longer uses your account. The provider settings \
                   cannot be read, so the token was not revoked; remove this app's access in \
                   your account settings at the provider."
            .to_owned(),
    };
    Ok(web::Json(CallResponse::ok(text).refreshing_bindings()))
}

/// What the user reads after the revocation attempt.
fn after_revocation(
    config: &ProviderConfig,
    revoked: Result<bool, client::ProviderError>,
) -> String {
    let name = config.kind.in_sentence();
    let by_hand = match config.kind.preset() {
        Some(preset) => format!("remove this app's access {}", preset.manage_access),
        None => "remove this app's access in your account settings at the provider".to_owned(),
    };
    match revoked {
        Ok(true) => format!(
            "Disconnected. Your token was revoked at {name}, so this app can no longer use your account."
        ),
        Ok(false) if config.kind.preset().is_some() => format!(
            "Disconnected. This app no longer uses your account. {} offers apps no way to revoke a token, so to end the app's access, {by_hand}.",
            config.kind.label()
        ),
        Ok(false) => format!(
            "Disconnected. This app no longer uses your account. No revocation endpoint is configured, so to end the app's access, {by_hand}."
        ),
        Err(err) => format!(
            "Disconnected here, but revoking the token at {name} failed: {err}. To end the app's access, {by_hand}."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::{ProviderKind, ProviderSettings};
    use mattermost_apps::secret::SecretString;

    fn config(kind: ProviderKind) -> ProviderConfig {
        ProviderSettings {
            provider: Some(kind),
            auth_url: "https://idp.example/authorize".into(),
            token_url: "https://idp.example/token".into(),
            ..Default::default()
        }
        .resolve("id", &SecretString::from("s"))
        .expect("resolves")
    }

    #[test]
    fn every_provider_gets_sentences_that_say_what_to_do() {
        for kind in ProviderKind::ALL {
            let config = config(kind);
            let outcomes = [
                Ok(true),
                Ok(false),
                Err(client::ProviderError::refused("invalid_client", None)),
            ];
            for outcome in outcomes {
                let text = after_revocation(&config, outcome);
                assert!(text.starts_with("Disconnected"), "{text}");
                assert!(text.ends_with('.'), "{text}");
                assert!(!text.contains("Custom OAuth2 server"), "{text}");
                if !text.contains("was revoked") {
                    assert!(text.contains("remove this app's access"), "{text}");
                }
            }
        }
        let github = after_revocation(&config(ProviderKind::Github), Ok(false));
        assert!(
            github.contains("https://github.com/settings/applications"),
            "{github}"
        );
    }
}
