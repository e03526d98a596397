//! `on_install`: tells the installing admin what to do next.

use actix_web::web;

use crate::names::COMMAND;
use mattermost_apps::CallResponse;
use mattermost_apps::Verified;

/// `POST /install`.
pub async fn install(call: Verified) -> web::Json<CallResponse> {
    let redirect = match call.context.oauth2.complete_url.as_str() {
        "" => String::new(),
        url => format!(
            " Register this redirect URI with your provider: {}.",
            crate::markdown::code(url, 1024)
        ),
    };
    web::Json(CallResponse::ok(format!(
        "Next, create an OAuth2 client at your provider (Google by default).{redirect} \
         Then run `/{COMMAND} configure` to enter its client ID and secret."
    )))
}
