//! `on_oauth2_complete` (`POST /oauth2/complete`): the provider redirected the browser back
//! with a code (or an error). Exchange the code with the derived PKCE verifier and store the
//! token for the acting user. On any failure nothing is stored, so an earlier token stays.
//! With an issuer configured, the response must come from it (RFC 9207's `iss`).
//! The plugin shows an error here as a plain-text page, so provider text is not escaped.
//! A connect that completes is confirmed by the bot in a direct message naming the remote
//! account: the page the browser ends on says nothing.

use actix_web::web;
use tokio::time::Instant;

use super::context::{as_user, bot, provider, store_over_refreshes};
use crate::error::AppError;
use crate::metrics;
use crate::notice::{self, Bot};
use crate::oauth::{client, ProviderConfig, ProviderError, StoredToken};
use crate::state::AppState;
use mattermost_apps::CallResponse;
use mattermost_apps::Verified;

/// `POST /oauth2/complete`.
pub async fn complete(
    state: web::Data<AppState>,
    call: Verified,
) -> Result<web::Json<CallResponse>, AppError> {
    let started = Instant::now();
    let ctx = &call.context;
    let config = provider(&state, &ctx.oauth2)?;
    check_iss(&config, call.value_str("iss"))?;
    // The plugin does not look for provider errors: the app must.
    if let Some(code) = call.value_str("error") {
        let refusal = ProviderError::refused(code, call.value_str("error_description"));
        return Err(AppError::Plain(format!(
            "Your account was not connected: {}",
            refusal.plain()
        )));
    }
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
    let user = as_user(&state, ctx)?;
    let token = client::exchange(
        &state.http,
        &config,
        &ctx.oauth2.complete_url,
        code,
        state.pkce.verifier(oauth_state),
    )
    .await
    .map_err(|err| AppError::Plain(format!("Could not connect your account: {}", err.plain())))?;
    // Sealed for this user, and wins over a refresh of an earlier token under way: it
    // stores nothing after this.
    store_over_refreshes(&state, &user, started, Some(&token))
        .await
        .map_err(|err| AppError::Plain(format!("Could not save your token: {err}.")))?;
    metrics::connection_made();
    log::info!(
        "user {} connected a {} account",
        crate::logline::escape(ctx.acting_user.as_ref().map_or("?", |u| u.id.as_str())),
        config.kind
    );
    match bot(&state, ctx)? {
        // In its own task: the answer does not wait for the provider's userinfo endpoint.
        Some(bot) => {
            let http = state.http.clone();
            tokio::spawn(confirm(bot, http, config, user.key.user_id, token));
        }
        None => log::warn!("cannot confirm a connect: the call carried no bot token"),
    }
    Ok(web::Json(CallResponse::default()))
}

/// Tells `user_id` they are connected, naming the account when a userinfo URL is
/// configured and answers (the name and e-mail come from the provider: escaped).
async fn confirm(
    bot: Bot,
    http: reqwest::Client,
    config: ProviderConfig,
    user_id: String,
    token: StoredToken,
) {
    let account = match &config.userinfo_url {
        Some(url) => match client::userinfo(&http, url, &token.access_token).await {
            Ok(identity) => Some(identity.describe()),
            Err(err) => {
                log::warn!(
                    "could not read the account user {} connected: {}",
                    crate::logline::escape(&user_id),
                    crate::logline::escape(&err.plain())
                );
                None
            }
        },
        None => None,
    };
    let text = notice::connected(config.kind.label(), account.as_deref());
    bot.tell(&user_id, &text).await;
}

/// RFC 9207: an authorization response names the server that issued it. One naming another
/// server (a mix-up attack: the code was issued elsewhere, for someone else's use) is
/// refused, and so is one without `iss` when the issuer's metadata promised it.
fn check_iss(config: &ProviderConfig, iss: Option<&str>) -> Result<(), AppError> {
    let Some(issuer) = config.issuer.as_deref() else {
        return Ok(());
    };
    let refuse = |why: String| {
        Err(AppError::Invalid {
            message: format!("Your account was not connected: {why}."),
            fields: Vec::new(),
        })
    };
    match iss {
        Some(iss) if iss == issuer => Ok(()),
        Some(iss) => refuse(format!(
            "the response came from the issuer {:?}, not from the configured {issuer:?}",
            iss.chars().take(200).collect::<String>()
        )),
        None if config.iss_required => refuse(format!(
            "the response carries no `iss`, which {issuer:?} always sends"
        )),
        None => Ok(()),
    }
}
