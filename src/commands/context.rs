//! What a call takes from its context: the acting user (an admin, for some calls), the way
//! back to Mattermost as that user, the configured provider and the user's token. Each
//! missing part is an [`AppError`] naming it.

use crate::error::AppError;
use crate::notice::Bot;
use crate::oauth::lock::UserKey;
use crate::oauth::parties::{Sealing, StoreError};
use crate::oauth::{AsUser, Provider, ProviderConfig, StoredToken, UserToken};
use crate::state::AppState;
use mattermost_apps::secret::{ExposeSecret, SecretString};
use mattermost_apps::{AppsClient, Context, OAuth2Context, User};
use tokio::time::Instant;

/// The acting user, required.
pub(super) fn acting_user(ctx: &Context) -> Result<&User, AppError> {
    ctx.acting_user
        .as_ref()
        .ok_or(AppError::MissingContext("acting_user"))
}

/// The acting user, who must be a system admin. Fails closed: no expanded user, no access.
pub(super) fn require_admin(ctx: &Context) -> Result<&User, AppError> {
    let user = acting_user(ctx)?;
    if user.is_system_admin() {
        Ok(user)
    } else {
        Err(AppError::AdminOnly)
    }
}

/// Where to call Mattermost: the override, else the context's site URL.
fn site_url<'a>(state: &'a AppState, ctx: &'a Context) -> Result<&'a str, AppError> {
    match state.site_url_override.as_deref() {
        Some(url) => Ok(url),
        None if !ctx.mattermost_site_url.is_empty() => Ok(&ctx.mattermost_site_url),
        None => Err(AppError::MissingContext("mattermost_site_url")),
    }
}

/// The acting user's Mattermost session token (expanded by `acting_user_access_token`).
fn session(ctx: &Context) -> Result<&SecretString, AppError> {
    ctx.acting_user_access_token
        .as_ref()
        .filter(|t| !t.expose_secret().is_empty())
        .ok_or(AppError::MissingContext("acting_user_access_token"))
}

/// The Apps REST API as the acting user.
pub(super) fn as_acting_user(state: &AppState, ctx: &Context) -> Result<AppsClient, AppError> {
    Ok(AppsClient::new(
        state.http.clone(),
        site_url(state, ctx)?,
        session(ctx)?.clone(),
    ))
}

/// The configured provider, or why there is none.
pub(super) fn provider(
    state: &AppState,
    oauth2: &OAuth2Context,
) -> Result<ProviderConfig, AppError> {
    match ProviderConfig::from_context(oauth2, &state.keys, &state.app_id) {
        Ok(Some(config)) => Ok(config),
        Ok(None) => Err(AppError::NotConfigured),
        Err(problems) => Err(misconfigured(problems)),
    }
}

/// The stored settings' problems. They quote the stored values: escaped, as they may come
/// from outside.
fn misconfigured(problems: Vec<(&'static str, String)>) -> AppError {
    AppError::Misconfigured(super::provider_form::describe_problems(
        &problems
            .into_iter()
            .map(|(field, problem)| (field, crate::markdown::escape(&problem, 300)))
            .collect::<Vec<_>>(),
    ))
}

/// The acting user's stored token (`context.oauth2.user`), opened: `Ok(None)` when none is
/// stored. One that does not open (the key that sealed it is gone, or it was altered) is
/// left as it is, and the user is asked to connect again.
pub(super) fn stored_token(
    state: &AppState,
    ctx: &Context,
) -> Result<Option<StoredToken>, AppError> {
    let Some(value) = ctx.oauth2.user.as_ref() else {
        return Ok(None);
    };
    let user = acting_user(ctx)?;
    StoredToken::open(value, &state.keys, &state.app_id, &user.id).map_err(|err| {
        log::warn!(
            "the stored token of user {} does not open: {err}",
            crate::logline::escape(&user.id)
        );
        AppError::Unopened(ctx.oauth2.connect_url.clone())
    })
}

/// The acting user on this site, as the refresh lock and the Apps REST API know them.
pub(super) fn as_user(state: &AppState, ctx: &Context) -> Result<AsUser, AppError> {
    Ok(AsUser {
        key: UserKey {
            site: site_url(state, ctx)?.trim_end_matches('/').to_owned(),
            user_id: acting_user(ctx)?.id.clone(),
        },
        mattermost: as_acting_user(state, ctx)?,
        sealing: Sealing {
            keys: state.keys.clone(),
            app_id: state.app_id.clone(),
        },
        bot: bot(state, ctx)?,
    })
}

/// The app's bot, when the context carries its token (the app is granted `act_as_bot`).
pub(super) fn bot(state: &AppState, ctx: &Context) -> Result<Option<Bot>, AppError> {
    Ok(Bot::new(
        state.http.clone(),
        site_url(state, ctx)?,
        &ctx.bot_user_id,
        ctx.bot_access_token.as_ref(),
    ))
}

/// Stores `token` (sealed; `None` clears it) as the acting user's token so that it wins
/// over a refresh under way: a new generation first (no refresh stores after it), then the
/// refresh lock, waited for a quarter of the call's deadline at most.
pub(super) async fn store_over_refreshes(
    state: &AppState,
    user: &AsUser,
    started: Instant,
    token: Option<&StoredToken>,
) -> Result<(), StoreError> {
    let until = started + state.call_deadline / 4;
    let guard = state.refresher.end_refreshes(&user.key, until).await;
    let stored = match token {
        Some(token) => user.store(token).await,
        None => user
            .clear()
            .await
            .map_err(|err| StoreError::Failed(err.to_string())),
    };
    state.refresher.release(guard).await;
    stored
}

/// The acting user's token, for calling the provider as them (and refreshing it). The
/// call started `started`; a refresh waits for the lock, and retries a failed store, for
/// half the call's deadline at most, leaving the rest for the request it was needed for.
pub(super) fn user_token<'a>(
    state: &'a AppState,
    ctx: &Context,
    config: &ProviderConfig,
    started: Instant,
) -> Result<UserToken<'a>, AppError> {
    let provider = Provider {
        http: state.http.clone(),
        config: config.clone(),
    };
    Ok(UserToken::new(
        &state.refresher,
        provider,
        as_user(state, ctx)?,
        started + state.call_deadline / 2,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::KeyRing;

    #[test]
    fn stored_settings_are_quoted_escaped() {
        let mut oauth2 = OAuth2Context::default();
        oauth2.app.client_id = "id".into();
        oauth2.app.client_secret = SecretString::from("s");
        oauth2.app.data = Some(serde_json::json!({
            "provider": "custom",
            "auth_url": "[Sign in again](https://phish.example/)",
            "token_url": "https://id.example.com/token",
        }));
        let keys =
            KeyRing::parse("k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").expect("a key");
        let text = match ProviderConfig::from_context(&oauth2, &keys, "app") {
            Err(problems) => misconfigured(problems).to_string(),
            Ok(_) => panic!("not a URL"),
        };
        assert!(text.contains("Auth URL: "), "{text}");
        assert!(!text.contains("]("), "{text}");
        assert!(!text.contains("https://phish"), "{text}");
    }
}
