//! The `help` command.

use actix_web::web;

use crate::names::COMMAND;
use mattermost_apps::CallResponse;
use mattermost_apps::Verified;

/// `POST /help`.
pub async fn help(call: Verified) -> web::Json<CallResponse> {
    let admin = call
        .context
        .acting_user
        .as_ref()
        .is_some_and(|u| u.is_system_admin());
    let mut text = format!(
        "#### /{COMMAND}\n\
         - `/{COMMAND} connect`: connect your account at the configured OAuth2 provider\n\
         - `/{COMMAND} info`: show which account you are connected as\n\
         - `/{COMMAND} disconnect`: forget your token and revoke it at the provider\n"
    );
    if admin {
        text.push_str(&format!(
            "- `/{COMMAND} configure`: choose the provider (Google, GitHub, GitLab, Microsoft or custom) and its client. \
             Without flags it opens a form; with flags: `/{COMMAND} configure --provider google --client-id ID --client-secret SECRET`. \
             Any OpenID Connect server by its issuer: `/{COMMAND} configure --provider custom --issuer https://id.example.com --client-id ID --client-secret SECRET`\n\
             - `/{COMMAND} status`: the provider settings (never the secret), the redirect URI to register, and a live check of the issuer and the client credentials\n"
        ));
    }
    web::Json(CallResponse::ok(text))
}
