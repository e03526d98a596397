//! `on_oauth2_complete` (`POST /oauth2/complete`): the provider redirected the browser back
//! with a code (or an error). Exchange the code with the derived PKCE verifier and store the
//! token for the acting user. On any failure nothing is stored, so an earlier token stays.
//! The plugin shows an error here as a plain-text page, so provider text is not escaped.

use actix_web::web;

use super::{as_acting_user, provider};
use crate::error::AppError;
use crate::oauth::{remote, ProviderError};
use crate::state::AppState;
use mattermost_apps::CallResponse;
use mattermost_apps::Verified;

/// `POST /oauth2/complete`.
pub async fn complete(
    state: web::Data<AppState>,
    call: Verified,
) -> Result<web::Json<CallResponse>, AppError> {
    // The plugin does not look for provider errors: the app must.
    if let Some(code) = call.value_str("error") {
        let refusal = ProviderError::refused(code, call.value_str("error_description"));
        return Err(AppError::Plain(format!(
            "Your account was not connected: {}",
            refusal.plain()
        )));
    }
    let ctx = &call.context;
    let config = provider(&ctx.oauth2)?;
    let missing = |what: &str| AppError::Invalid {
        message: format!("The provider's redirect carried no `{what}`."),
        fields: Vec::new(),
    };
    let code = call.value_str("code").ok_or_else(|| missing("code"))?;
    let oauth_state = call.value_str("state").ok_or_else(|| missing("state"))?;
    // The plugin already checked that the state names this user; check again, cheaply.
    if let Some(user) = &ctx.acting_user {
        if oauth_state.rsplit('.').next() != Some(user.id.as_str()) {
            return Err(AppError::Invalid {
                message: "This connection was started by another user.".into(),
                fields: Vec::new(),
            });
        }
    }
    if ctx.oauth2.complete_url.is_empty() {
        return Err(AppError::MissingContext("oauth2.complete_url"));
    }
    let mattermost = as_acting_user(&state, ctx)?;
    let token = remote::exchange(
        &state.http,
        &config,
        &ctx.oauth2.complete_url,
        code,
        state.pkce.verifier(oauth_state),
    )
    .await
    .map_err(|err| AppError::Plain(format!("Could not connect your account: {}", err.plain())))?;
    mattermost
        .store_oauth2_user(&token)
        .await
        .map_err(AppError::mattermost("Could not save your token"))?;
    log::info!(
        "user {} connected a {} account",
        ctx.acting_user
            .as_ref()
            .map(|u| u.id.as_str())
            .unwrap_or("?"),
        config.kind
    );
    Ok(web::Json(CallResponse::default()))
}
