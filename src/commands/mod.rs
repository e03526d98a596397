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
use crate::oauth::{ProviderConfig, UserToken};
use crate::state::AppState;
use mattermost_apps::secret::{ExposeSecret, SecretString};
use mattermost_apps::{AppsClient, Context, OAuth2Context, User};

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

/// The acting user's token, for calling the provider as them (and refreshing it).
fn user_token<'a>(
    state: &'a AppState,
    ctx: &Context,
    config: &ProviderConfig,
) -> Result<UserToken<'a>, AppError> {
    let session = session(ctx)?;
    Ok(UserToken::new(
        &state.refresher,
        &state.http,
        config,
        &acting_user(ctx)?.id,
        site_url(state, ctx)?,
        session,
    ))
}
