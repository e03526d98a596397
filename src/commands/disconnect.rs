//! The `disconnect` command: forget the user's token here, then revoke it at the provider.
//! The local disconnect happens first and always; a failed revocation is reported.

use actix_web::web;

use super::{as_acting_user, provider};
use crate::error::AppError;
use crate::oauth::{remote, StoredToken};
use crate::state::AppState;
use mattermost_apps::CallResponse;
use mattermost_apps::Verified;

/// `POST /disconnect`.
pub async fn disconnect(
    state: web::Data<AppState>,
    call: Verified,
) -> Result<web::Json<CallResponse>, AppError> {
    let ctx = &call.context;
    let token = ctx.oauth2.user.as_ref().and_then(StoredToken::from_context);
    // `null` clears the stored token (as the Go example does).
    as_acting_user(&state, ctx)?
        .store_oauth2_user(&serde_json::Value::Null)
        .await
        .map_err(AppError::mattermost("Could not remove your token"))?;
    let Some(token) = token else {
        return Ok(web::Json(
            CallResponse::ok("You were not connected.").refreshing_bindings(),
        ));
    };
    let config = provider(&ctx.oauth2).ok();
    let provider = config
        .as_ref()
        .map(|c| c.kind.label())
        .unwrap_or("the provider");
    let revoked = match &config {
        Some(config) => remote::revoke(&state.http, config, &token).await,
        None => Ok(false),
    };
    let text = match revoked {
        Ok(true) => format!("Disconnected. Your token was revoked at {provider}."),
        Ok(false) => format!(
            "Disconnected. {provider} has no revocation endpoint configured, so remove this app's access in your {provider} account settings."
        ),
        Err(err) => {
            log::warn!("revocation failed: {err}");
            format!("Disconnected here, but revoking the token at {provider} failed: {err}.")
        }
    };
    Ok(web::Json(CallResponse::ok(text).refreshing_bindings()))
}
