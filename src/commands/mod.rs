//! This app's routes: one file per call, `manifest.rs` for what the plugin downloads at
//! install, `health.rs` for the liveness checks, and the few helpers the calls share.

mod bindings;
mod complete;
mod configure;
mod connect;
mod deadline;
mod disconnect;
mod health;
mod help;
mod info;
mod install;
mod manifest;
mod status;

pub use bindings::{bindings_for, BindingsContext};
pub use configure::configure_form;

use actix_web::web;

use crate::error::AppError;
use crate::oauth::lock::UserKey;
use crate::oauth::{AsUser, Provider, ProviderConfig, UserToken};
use crate::state::AppState;
use mattermost_apps::client::ClientError;
use mattermost_apps::secret::{ExposeSecret, SecretString};
use mattermost_apps::{AppsClient, Context, OAuth2Context, User};
use tokio::time::Instant;

/// The slash command: `/hello-oauth2-rs`.
pub const COMMAND: &str = "hello-oauth2-rs";

/// The icon, a static asset.
pub const ICON: &str = "icon.png";

/// Call paths. The OAuth2 paths must differ from the `connect` command's path: the plugin
/// refuses user calls to them.
pub mod paths {
    /// Bindings.
    pub const BINDINGS: &str = "/bindings";
    /// on_install.
    pub const INSTALL: &str = "/install";
    /// Configure (submit, and the form when opened without values).
    pub const CONFIGURE: &str = "/configure";
    /// The connect command.
    pub const CONNECT: &str = "/connect";
    /// The info command.
    pub const INFO: &str = "/info";
    /// The disconnect command.
    pub const DISCONNECT: &str = "/disconnect";
    /// The help command.
    pub const HELP: &str = "/help";
    /// The status command.
    pub const STATUS: &str = "/status";
    /// get_oauth2_connect_url.
    pub const OAUTH2_CONNECT: &str = "/oauth2/connect";
    /// on_oauth2_complete.
    pub const OAUTH2_COMPLETE: &str = "/oauth2/complete";
    /// Ping.
    pub const PING: &str = "/ping";
}

/// Registers every route: the hot path first, the one pattern (matched by a regex) last.
/// Every call but `/bindings` (which calls no one) answers within the call deadline.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let call = |path: &str, handler| {
        web::resource(path.to_owned())
            .wrap_fn(deadline::within_deadline)
            .route(handler)
    };
    cfg.route(paths::BINDINGS, web::post().to(bindings::bindings))
        .route("/healthz", web::get().to(health::healthz))
        .route("/manifest.json", web::get().to(manifest::manifest))
        .route(paths::PING, web::post().to(health::ping))
        .service(call(paths::INSTALL, web::post().to(install::install)))
        .service(call(paths::CONFIGURE, web::post().to(configure::configure)))
        .service(call(paths::CONNECT, web::post().to(connect::connect)))
        .service(call(
            paths::OAUTH2_CONNECT,
            web::post().to(connect::connect_url),
        ))
        .service(call(
            paths::OAUTH2_COMPLETE,
            web::post().to(complete::complete),
        ))
        .service(call(paths::INFO, web::post().to(info::info)))
        .service(call(
            paths::DISCONNECT,
            web::post().to(disconnect::disconnect),
        ))
        .service(call(paths::HELP, web::post().to(help::help)))
        .service(call(paths::STATUS, web::post().to(status::status)))
        .route("/static/{name}", web::get().to(manifest::static_asset));
}

/// The acting user, required.
fn acting_user(ctx: &Context) -> Result<&User, AppError> {
    ctx.acting_user
        .as_ref()
        .ok_or(AppError::MissingContext("acting_user"))
}

/// The acting user, who must be a system admin. Fails closed: no expanded user, no access.
fn require_admin(ctx: &Context) -> Result<&User, AppError> {
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
fn as_acting_user(state: &AppState, ctx: &Context) -> Result<AppsClient, AppError> {
    Ok(AppsClient::new(
        state.http.clone(),
        site_url(state, ctx)?,
        session(ctx)?.clone(),
    ))
}

/// The configured provider, or why there is none.
fn provider(oauth2: &OAuth2Context) -> Result<ProviderConfig, AppError> {
    match ProviderConfig::from_context(oauth2) {
        Ok(Some(config)) => Ok(config),
        Ok(None) => Err(AppError::NotConfigured),
        Err(problems) => Err(AppError::Misconfigured(configure::describe_problems(
            &problems,
        ))),
    }
}

/// The acting user on this site, as the refresh lock and the Apps REST API know them.
fn as_user(state: &AppState, ctx: &Context) -> Result<AsUser, AppError> {
    Ok(AsUser {
        key: UserKey {
            site: site_url(state, ctx)?.trim_end_matches('/').to_owned(),
            user_id: acting_user(ctx)?.id.clone(),
        },
        mattermost: as_acting_user(state, ctx)?,
    })
}

/// Stores `value` (a token, or `null`) as the acting user's token so that it wins over a
/// refresh under way: a new generation first (no refresh stores after it), then the
/// refresh lock, waited for a quarter of the call's deadline at most.
async fn store_over_refreshes<T: serde::Serialize>(
    state: &AppState,
    user: &AsUser,
    started: Instant,
    value: &T,
) -> Result<(), ClientError> {
    let until = started + state.call_deadline / 4;
    let guard = state.refresher.end_refreshes(&user.key, until).await;
    let stored = user.mattermost.store_oauth2_user(value).await;
    state.refresher.release(guard).await;
    stored
}

/// The acting user's token, for calling the provider as them (and refreshing it). The
/// call started `started`; a refresh waits for the lock, and retries a failed store, for
/// half the call's deadline at most, leaving the rest for the request it was needed for.
fn user_token<'a>(
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
