//! This app's route table. One file per call, `manifest.rs` for what the plugin downloads
//! at install, `health.rs` for the liveness checks; beside them `context.rs` (what the
//! calls take from their context), `provider_form.rs` (configure's settings table),
//! `user_facts.rs` (what `/bindings` reads) and `deadline.rs` (the calls' time limit).

mod bindings;
mod complete;
mod configure;
mod connect;
mod context;
mod deadline;
mod disconnect;
mod health;
mod help;
mod info;
mod install;
mod manifest;
mod provider_form;
mod status;
mod user_facts;

pub use bindings::bindings_for;
pub use configure::configure_form;
pub use user_facts::{BindingsContext, UserFacts};

use actix_web::web;

use crate::names::paths;

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
