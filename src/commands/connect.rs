//! The `connect` command, and `get_oauth2_connect_url` (`POST /oauth2/connect`), which the
//! plugin calls when the user's browser opens the connect link.

use actix_web::web;
use serde_json::Value;

use super::context::{acting_user, provider};
use crate::error::AppError;
use crate::oauth::client;
use crate::state::AppState;
use mattermost_apps::CallResponse;
use mattermost_apps::Verified;

/// `POST /connect`: a Markdown link to the plugin's connect URL.
pub async fn connect(
    state: web::Data<AppState>,
    call: Verified,
) -> Result<web::Json<CallResponse>, AppError> {
    let oauth2 = &call.context.oauth2;
    let config = provider(&state, oauth2)?;
    if oauth2.connect_url.is_empty() {
        return Err(AppError::MissingContext("oauth2.connect_url"));
    }
    Ok(web::Json(CallResponse::ok(format!(
        "[Connect your {} account]({})",
        config.kind.label(),
        oauth2.connect_url
    ))))
}

/// `POST /oauth2/connect`: answers with the provider's authorize URL as a JSON string. The
/// state is the plugin's, unchanged; the PKCE challenge is derived from it (see
/// [`crate::oauth::pkce`]), so whichever replica completes the flow can derive the verifier.
pub async fn connect_url(
    state: web::Data<AppState>,
    call: Verified,
) -> Result<web::Json<CallResponse>, AppError> {
    // With `act_as_bot` the plugin expands a call from a browser with no Mattermost
    // session too (as the bot): such a flow could never complete for anyone.
    acting_user(&call.context)?;
    let oauth2 = &call.context.oauth2;
    let config = provider(&state, oauth2)?;
    let oauth_state = call.value_str("state").ok_or(AppError::Invalid {
        message: "The plugin sent no OAuth2 state.".into(),
        fields: Vec::new(),
    })?;
    if oauth2.complete_url.is_empty() {
        return Err(AppError::MissingContext("oauth2.complete_url"));
    }
    let url = client::authorize_url(
        &config,
        &oauth2.complete_url,
        oauth_state,
        state.pkce.challenge(oauth_state),
    )
    .map_err(AppError::provider("Could not build the authorization URL"))?;
    Ok(web::Json(CallResponse::data(Value::String(url.into()))))
}
