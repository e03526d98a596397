//! `POST /bindings`: the slash command and its sub-commands, chosen for the acting user.
//! This is the hot path (clients fetch bindings on every channel switch): it expands only
//! the acting user's summary (for the admin check) and the stored token (connected or not).

use std::sync::LazyLock;

use actix_web::http::header::ContentType;
use actix_web::{web, HttpResponse};

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

/// `POST /bindings`. The answer depends on two facts only, so it is one of four JSON bodies
/// serialised on first use and then served as shared bytes: building and serialising the
/// bindings on every call cost ~11 µs, more than everything else in the handler together.
pub async fn bindings(call: Verified) -> HttpResponse {
    let viewer = Viewer::of(&call.context);
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(RESPONSES[viewer.index()].clone())
}

/// The two facts the bindings depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    /// The acting user is a system admin: show `configure`.
    pub admin: bool,
    /// The acting user has a stored token: `info` and `disconnect` instead of `connect`.
    pub connected: bool,
}

impl Viewer {
    /// Every viewer, in [`Viewer::index`] order.
    const ALL: [Viewer; 4] = [
        Viewer {
            admin: false,
            connected: false,
        },
        Viewer {
            admin: false,
            connected: true,
        },
        Viewer {
            admin: true,
            connected: false,
        },
        Viewer {
            admin: true,
            connected: true,
        },
    ];

    /// Reads the two facts from the context.
    pub fn of(ctx: &Context) -> Self {
        Self {
            admin: ctx
                .acting_user
                .as_ref()
                .is_some_and(|u| u.is_system_admin()),
            connected: ctx
                .oauth2
                .user
                .as_ref()
                .and_then(StoredToken::from_context)
                .is_some(),
        }
    }

    fn index(self) -> usize {
        usize::from(self.admin) * 2 + usize::from(self.connected)
    }
}

/// The response body for each viewer, in [`Viewer::index`] order.
static RESPONSES: LazyLock<[web::Bytes; 4]> = LazyLock::new(|| Viewer::ALL.map(render));

/// The `ok` response carrying `viewer`'s bindings, as JSON.
fn render(viewer: Viewer) -> web::Bytes {
    let data = serde_json::to_value(build(viewer)).unwrap_or_default();
    // Only string-keyed maps and plain values: serialising cannot fail.
    serde_json::to_vec(&CallResponse::data(data))
        .unwrap_or_default()
        .into()
}

/// The bindings for a context: `configure` for system admins, `connect` until connected,
/// `info` and `disconnect` once connected, `help` for everyone.
pub fn bindings_for(ctx: &Context) -> Vec<Binding> {
    build(Viewer::of(ctx))
}

/// The bindings for a viewer.
fn build(Viewer { admin, connected }: Viewer) -> Vec<Binding> {
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
