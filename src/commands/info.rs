//! The `info` command: who the user is connected as, read from the provider's userinfo
//! endpoint with the user's token (refreshed when due, or when the provider rejects it);
//! for Google, the user's calendars too, with the same token and the same handling.

use actix_web::web;
use chrono::Utc;
use tokio::time::Instant;

use super::{provider, user_token};
use crate::error::AppError;
use crate::oauth::user_token::ProviderCallError;
use crate::oauth::{calendar, client, StoredToken};
use crate::state::AppState;
use mattermost_apps::CallResponse;
use mattermost_apps::Verified;

/// `POST /info`.
pub async fn info(
    state: web::Data<AppState>,
    call: Verified,
) -> Result<web::Json<CallResponse>, AppError> {
    let started = Instant::now();
    let ctx = &call.context;
    let config = provider(&ctx.oauth2)?;
    let token = ctx
        .oauth2
        .user
        .as_ref()
        .and_then(StoredToken::from_context)
        .ok_or(AppError::NotConnected)?;
    let Some(userinfo_url) = &config.userinfo_url else {
        return Ok(web::Json(CallResponse::ok(format!(
            "You are connected to {}. No userinfo URL is configured, so the account cannot be shown.",
            config.kind.label()
        ))));
    };
    let http = &state.http;
    let answer = user_token(&state, ctx, &config, started)?
        .call(token, |token| async move {
            client::userinfo(http, userinfo_url, &token.access_token).await
        })
        .await
        .map_err(AppError::user_call("Could not read your account"))?;
    let mut text = format!(
        "You are connected to {} as {}.",
        config.kind.label(),
        answer.value.describe()
    );
    if let Some(expiry) = answer.token.expiry {
        let minutes = (expiry - Utc::now()).num_minutes().max(0);
        text.push_str(&format!(" The access token expires in {minutes} min"));
        text.push_str(if answer.refreshed {
            " (refreshed just now)."
        } else {
            "."
        });
    }
    if let Some(url) = &config.calendar_url {
        let listed = user_token(&state, ctx, &config, started)?
            .call(answer.token, |token| async move {
                calendar::list(http, url, &token.access_token).await
            })
            .await;
        text.push_str("\n\n");
        match listed {
            Ok(calendars) => text.push_str(&calendars.value.describe()),
            // The provider failed this request only: the account is shown, the token stays.
            Err(ProviderCallError::Request(err)) => {
                text.push_str(&format!("Your calendars could not be read: {err}."))
            }
            Err(err) => return Err(AppError::user_call("Could not read your calendars")(err)),
        }
    }
    Ok(web::Json(CallResponse::ok(text)))
}
