//! `POST /bindings`: the slash command and its sub-commands, chosen for the acting user.
//! This is the hot path (clients fetch bindings on every channel switch): it expands only
//! the acting user's summary (for the admin check) and the stored token (connected or not).

use actix_web::web;

use super::{configure, paths, COMMAND, ICON};
use crate::apps::binding::location;
use crate::apps::extract::Verified;
use crate::apps::{Binding, Call, CallResponse, Context, Expand, ExpandLevel};
use crate::oauth::StoredToken;

/// The `info` and `disconnect` calls need the token, the provider and a way to store.
const TOKEN_CALL: Expand = Expand {
    acting_user: Some(ExpandLevel::Id),
    acting_user_access_token: Some(ExpandLevel::All),
    oauth2_app: Some(ExpandLevel::All),
    oauth2_user: Some(ExpandLevel::All),
    ..Expand::NONE
};

/// `POST /bindings`.
pub async fn bindings(call: Verified) -> web::Json<CallResponse> {
    let data = serde_json::to_value(bindings_for(&call.context)).unwrap_or_default();
    web::Json(CallResponse::data(data))
}

/// The bindings for a context: `configure` for system admins, `connect` until connected,
/// `info` and `disconnect` once connected, `help` for everyone.
pub fn bindings_for(ctx: &Context) -> Vec<Binding> {
    let admin = ctx
        .acting_user
        .as_ref()
        .is_some_and(|u| u.is_system_admin());
    let connected = ctx
        .oauth2
        .user
        .as_ref()
        .and_then(StoredToken::from_context)
        .is_some();

    let mut commands = Vec::with_capacity(4);
    if connected {
        commands.push(command(
            "info",
            "Show which remote account you are connected as",
            Call::new(paths::INFO, TOKEN_CALL),
        ));
        commands.push(command(
            "disconnect",
            "Forget your remote token and revoke it at the provider",
            Call::new(paths::DISCONNECT, TOKEN_CALL),
        ));
    } else {
        commands.push(command(
            "connect",
            "Connect your remote OAuth2 account",
            Call::new(
                paths::CONNECT,
                Expand {
                    oauth2_app: Some(ExpandLevel::All),
                    ..Expand::NONE
                },
            ),
        ));
    }
    if admin {
        commands.push(Binding {
            location: "configure".into(),
            label: "configure".into(),
            description: "Set up the OAuth2 provider (system admins only)".into(),
            form: Some(configure::configure_form(None)),
            ..Binding::default()
        });
    }
    commands.push(command(
        "help",
        "Show what this app can do",
        Call::new(
            paths::HELP,
            Expand {
                acting_user: Some(ExpandLevel::Summary),
                ..Expand::NONE
            },
        ),
    ));

    let hint = format!(
        "[{}]",
        commands
            .iter()
            .map(|b| b.label.as_str())
            .collect::<Vec<_>>()
            .join(" | ")
    );
    vec![Binding {
        location: location::COMMAND.into(),
        bindings: vec![Binding {
            location: COMMAND.into(),
            label: COMMAND.into(),
            icon: ICON.into(),
            hint,
            description: "Connect your remote OAuth2 account".into(),
            bindings: commands,
            ..Binding::default()
        }],
        ..Binding::default()
    }]
}

fn command(label: &str, description: &str, submit: Call) -> Binding {
    Binding {
        location: label.into(),
        label: label.into(),
        description: description.into(),
        submit: Some(submit),
        ..Binding::default()
    }
}
