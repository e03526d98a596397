//! The app itself: its manifest, its commands and their handlers, on the crate's public API
//! alone. `main.rs` serves it; the crate's tests serve it to self-signed calls.

use mattermost_apps::actix_web::web;
use mattermost_apps::binding::location;
use mattermost_apps::command::{self, Command};
use mattermost_apps::manifest::{HttpDeploy, Permission};
use mattermost_apps::{
    reqwest, AppsClient, CallError, CallResponse, Expand, ExpandLevel, Field, FieldType, Manifest,
    SelectOption, Verified,
};

/// The app's ID and slash command.
pub const APP_ID: &str = "hello-rs";

/// What every handler shares: the pooled HTTP client and the URL Mattermost reaches us at.
#[derive(Clone)]
pub struct Hello {
    /// For calls back to Mattermost.
    pub http: reqwest::Client,
    /// Written into the manifest.
    pub root_url: String,
}

/// The KV key of the note (no prefix).
const NOTE: &str = "note";

/// Every sub-command, declared once: bindings and routes both come from here.
fn commands() -> [Command; 5] {
    // Acting as the user who typed the command: their ID in the JWT, their token for KV.
    let as_user = Expand {
        acting_user: Some(ExpandLevel::Summary),
        acting_user_access_token: Some(ExpandLevel::All),
        ..Expand::NONE
    };
    let text = |name: &str, position| Field {
        name: name.into(),
        label: name.into(),
        position,
        is_required: true,
        ..Field::default()
    };
    [
        Command::new("ping").description("Check that the app answers"),
        Command::new("form").description("Open a form"),
        Command::new("greet")
            .description("Greet someone")
            .expand(as_user.clone())
            .field(text("name", 0))
            .field(Field {
                name: "mood".into(),
                label: "mood".into(),
                field_type: FieldType::StaticSelect,
                options: vec![
                    SelectOption::new("Cheerful", "cheerful"),
                    SelectOption::new("Calm", "calm"),
                ],
                ..Field::default()
            })
            .field(Field {
                name: "loud".into(),
                label: "loud".into(),
                field_type: FieldType::Bool,
                ..Field::default()
            }),
        Command::new("remember")
            .description("Remember a text")
            .hint("[text]")
            .expand(as_user.clone())
            .field(text("text", -1)),
        Command::new("recall")
            .description("Show the remembered text")
            .expand(as_user)
            .field(Field {
                name: "dm".into(),
                label: "dm".into(),
                field_type: FieldType::Bool,
                description: "Send it as a direct message from the bot".into(),
                ..Field::default()
            }),
    ]
}

/// Registers the manifest, the bindings and every command's route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let [ping_cmd, form_cmd, greet_cmd, remember_cmd, recall_cmd] = commands();
    cfg.route("/manifest.json", web::get().to(manifest))
        .route("/bindings", web::post().to(bindings))
        // The plugin calls it at install with nothing expanded: no acting user. Answering
        // it verified makes an install with a wrong JWT secret fail there.
        .route("/ping", web::post().to(ping))
        .service(ping_cmd.route(ping))
        .service(form_cmd.route(form))
        .service(greet_cmd.route(greet))
        .service(remember_cmd.route(remember))
        .service(recall_cmd.route(recall));
}

async fn manifest(hello: web::Data<Hello>) -> web::Json<Manifest> {
    web::Json(Manifest {
        app_id: APP_ID.into(),
        display_name: "Hello (Rust)".into(),
        homepage_url: "https://github.com/mattermost/mattermost-plugin-apps".into(),
        requested_permissions: vec![Permission::ActAsUser, Permission::ActAsBot],
        requested_locations: vec![location::COMMAND.into()],
        http: Some(HttpDeploy {
            root_url: hello.root_url.clone(),
            use_jwt: true,
        }),
        ..Manifest::default()
    })
}

async fn bindings(_call: Verified) -> CallResponse {
    command::bindings(APP_ID, "A small app in Rust", &commands())
}

async fn ping(_call: Verified) -> CallResponse {
    CallResponse::ok("pong")
}

/// Opens `greet`'s form as a modal.
async fn form(_call: Verified) -> CallResponse {
    let [_, _, greet, _, _] = commands();
    CallResponse::form(greet.form())
}

async fn greet(call: Verified) -> Result<CallResponse, CallError> {
    let name = call
        .value_str("name")
        .ok_or_else(|| CallResponse::field_errors("Whom?", [("name", "required".into())]))?;
    let mood = call
        .value_option("mood")
        .map_or("plain".into(), |o| o.value);
    let mut text = format!("Hello, {name}! ({mood})");
    if call.value_bool("loud") == Some(true) {
        text = text.to_uppercase();
    }
    Ok(CallResponse::ok(text))
}

async fn remember(call: Verified, hello: web::Data<Hello>) -> Result<CallResponse, CallError> {
    let text = call
        .value_str("text")
        .ok_or_else(|| CallResponse::error("What should I remember?"))?;
    let me = AppsClient::as_acting_user(hello.http.clone(), &call.context)?;
    if !me.kv_set("", NOTE, text).await? {
        return Err(CallResponse::error("Mattermost did not store the note; try again.").into());
    }
    Ok(CallResponse::ok("Remembered."))
}

async fn recall(call: Verified, hello: web::Data<Hello>) -> Result<CallResponse, CallError> {
    let me = AppsClient::as_acting_user(hello.http.clone(), &call.context)?;
    let Some(note) = me.kv_get::<String>("", NOTE).await? else {
        return Ok(CallResponse::ok(
            "Nothing remembered yet: `/hello-rs remember <text>`.",
        ));
    };
    let text = format!("You asked me to remember: {note}");
    if call.value_bool("dm") != Some(true) {
        return Ok(CallResponse::ok(text));
    }
    let user_id = match &call.context.acting_user {
        Some(user) => user.id.as_str(),
        None => return Err(CallResponse::error("Mattermost did not say who you are.").into()),
    };
    let bot = AppsClient::as_bot(hello.http.clone(), &call.context)?;
    bot.send_direct_message(&call.context.bot_user_id, user_id, &text)
        .await?;
    Ok(CallResponse::ok("Sent you a direct message."))
}
