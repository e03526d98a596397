//! The `info` command: who the user is connected as, read from the provider's userinfo
//! endpoint with the user's token, refreshed first when it is (nearly) expired.

use actix_web::web;
use chrono::Utc;

use super::{acting_user, as_acting_user, provider, site_url};
use crate::error::AppError;
use crate::oauth::refresh::RefreshError;
use crate::oauth::{remote, ProviderConfig, ProviderError, StoredToken};
use crate::state::AppState;
use mattermost_apps::secret::ExposeSecret;
use mattermost_apps::Verified;
use mattermost_apps::{AppsClient, CallResponse, Context};

/// `POST /info`.
pub async fn info(
    state: web::Data<AppState>,
    call: Verified,
) -> Result<web::Json<CallResponse>, AppError> {
    let ctx = &call.context;
    let config = provider(&ctx.oauth2)?;
    let mut token = ctx
        .oauth2
        .user
        .as_ref()
        .and_then(StoredToken::from_context)
        .ok_or(AppError::NotConnected)?;
    let mut refreshed = false;
    if token.needs_refresh(Utc::now()) {
        token = refresh(&state, ctx, &config, token).await?;
        refreshed = true;
    }
    let Some(userinfo_url) = &config.userinfo_url else {
        return Ok(web::Json(CallResponse::ok(format!(
            "You are connected to {}. No userinfo URL is configured, so the account cannot be shown.",
            config.kind.label()
        ))));
    };
    let identity = match remote::userinfo(&state.http, userinfo_url, &token.access_token).await {
        Err(ProviderError::TokenRejected) => {
            // The token is dead: forget it, so the bindings offer `connect` again, as the
            // message says (a stored token hides `connect`).
            if let Ok(mattermost) = as_acting_user(&state, ctx) {
                replaced_or_forget(&mattermost, &token).await;
            }
            return Err(AppError::Reconnect(format!(
                "{} no longer accepts your token.",
                config.kind.label()
            )));
        }
        other => other.map_err(AppError::provider("Could not read your account"))?,
    };
    let mut text = format!(
        "You are connected to {} as {}.",
        config.kind.label(),
        identity.describe()
    );
    if let Some(expiry) = token.expiry {
        let minutes = (expiry - Utc::now()).num_minutes().max(0);
        text.push_str(&format!(" The access token expires in {minutes} min"));
        text.push_str(if refreshed {
            " (refreshed just now)."
        } else {
            "."
        });
    }
    Ok(web::Json(CallResponse::ok(text)))
}

/// Clears the stored token unless another call has already replaced `dead`, and returns
/// that replacement when there is one.
async fn replaced_or_forget(
    mattermost: &AppsClient<'_>,
    dead: &StoredToken,
) -> Option<StoredToken> {
    if let Ok(Some(current)) = mattermost.get_oauth2_user::<StoredToken>().await {
        if current.access_token.expose_secret() != dead.access_token.expose_secret() {
            return Some(current);
        }
    }
    if let Err(err) = mattermost.store_oauth2_user(&serde_json::Value::Null).await {
        log::warn!("could not clear a dead token: {err}");
    }
    None
}

/// Refreshes the token once for this user, however many calls ask at the same time, and
/// stores the result. The stored token is read first: when another replica has already
/// refreshed, its token is used (and refreshed only if it is due too), because presenting
/// the spent refresh token makes providers with reuse detection revoke the whole grant.
/// On `invalid_grant` the stored token is read again (another replica may have rotated it
/// meanwhile); if it is still the dead one, it is cleared.
async fn refresh(
    state: &web::Data<AppState>,
    ctx: &Context,
    config: &ProviderConfig,
    token: StoredToken,
) -> Result<StoredToken, AppError> {
    if token.refresh_token.expose_secret().is_empty() {
        return Err(AppError::Reconnect(format!(
            "Your {} token has expired and the provider issued no refresh token.",
            config.kind.label()
        )));
    }
    let user_id = acting_user(ctx)?.id.clone();
    // What the flight needs to store with, owned (it may outlive this call).
    let site = site_url(state, ctx)?.to_owned();
    let mm_token = ctx
        .acting_user_access_token
        .clone()
        .ok_or(AppError::MissingContext("acting_user_access_token"))?;
    let shared_state = state.clone().into_inner();
    let config = config.clone();
    let old = token.clone();
    let log_user = user_id.clone();
    let flight = async move {
        let mattermost = AppsClient::new(&shared_state.http, &site, mm_token.expose_secret());
        // This call's context may predate a refresh by another replica. Refreshing with its
        // (then spent) refresh token would make a provider that detects reuse revoke the
        // whole grant, the other replica's new token included.
        let old = match mattermost.get_oauth2_user::<StoredToken>().await {
            Ok(Some(current))
                if current.access_token.expose_secret() != old.access_token.expose_secret() =>
            {
                if !current.needs_refresh(Utc::now()) {
                    return Ok(current);
                }
                current
            }
            _ => old,
        };
        match remote::refresh(&shared_state.http, &config, &old).await {
            Ok(new) => {
                mattermost
                    .store_oauth2_user(&new)
                    .await
                    .map_err(|err| RefreshError::Store(err.to_string()))?;
                log::info!("refreshed the token of user {log_user}");
                Ok(new)
            }
            // Another replica may have refreshed first and rotated the refresh token: then
            // Mattermost already holds a newer token, which is the answer.
            Err(err) if err.is_invalid_grant() => replaced_or_forget(&mattermost, &old)
                .await
                .ok_or(RefreshError::Provider(err)),
            Err(err) => Err(RefreshError::Provider(err)),
        }
    };
    state
        .refresher
        .refresh(&user_id, &token, flight)
        .await
        .map_err(AppError::refresh)
}
