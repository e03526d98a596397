//! Building a call's context from its expand, over `serde_json::Value`.

use serde_json::{json, Map, Value};

use super::state::State;

/// What the client sends beside the IDs. The plugin v1.2.2, which this emulates, passes
/// none of it to the app (see [`build_context`]); its HEAD keeps `user_agent`.
#[derive(Debug, Clone, Default)]
pub struct ClientContext {
    /// `webapp` / `mobile`.
    pub user_agent: Option<String>,
    /// Sent only when true.
    pub track_as_submit: bool,
}

/// An expand level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Id,
    Summary,
    All,
}

/// The keys in the plugin's expansion order.
const ORDER: [&str; 13] = [
    "acting_user_access_token",
    "acting_user",
    "app",
    "channel_member",
    "channel",
    "locale",
    "oauth2_app",
    "oauth2_user",
    "post",
    "root_post",
    "team_member",
    "team",
    "user",
];

/// Parses an expand object into (key, level, required). Unknown keys are ignored (the
/// plugin decodes into a Go struct); unknown levels (`none`, `-all`, …) fail the call.
fn parse_expand(expand: Option<&Value>) -> Result<Vec<(&'static str, Level, bool)>, String> {
    let Some(expand) = expand.filter(|e| !e.is_null()) else {
        return Ok(Vec::new());
    };
    let Some(object) = expand.as_object() else {
        return Err(format!(
            "failed to expand context: expand is not an object: {expand}"
        ));
    };
    let mut parsed = Vec::new();
    for key in ORDER {
        let Some(value) = object.get(key) else {
            continue;
        };
        let text = match value {
            Value::Null => continue,
            Value::String(s) => s.as_str(),
            other => {
                return Err(format!(
                    "failed to expand context: expand.{key}: {other} is not a string"
                ))
            }
        };
        if text.is_empty() {
            continue;
        }
        let (required, level) = match text.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let level = match level {
            "id" => Level::Id,
            "summary" => Level::Summary,
            "all" => Level::All,
            _ => {
                return Err(format!(
                    "failed to expand context: \"{text}\" is not a known expand level"
                ))
            }
        };
        parsed.push((key, level, required));
    }
    Ok(parsed)
}

/// The ping context of `call-request-ping.json`: nothing expanded, nothing filled in.
pub fn ping_context() -> Value {
    json!({
        "app_id": "",
        "mattermost_site_url": "",
        "app_path": "",
        "bot_user_id": "",
        "oauth2": {}
    })
}

/// Builds the context of a call made by `acting_user_id` (None: no user, e.g. a browser
/// without a session) with `expand`. An `Err` fails the call before the app is contacted.
pub fn build_context(
    st: &mut State,
    site_url: &str,
    developer_mode: bool,
    acting_user_id: Option<&str>,
    expand: Option<&Value>,
    // Kept for the plugin's HEAD, which passes `user_agent` on; v1.2.2 drops it.
    _client: &ClientContext,
) -> Result<Value, String> {
    let app = st
        .app
        .clone()
        .ok_or_else(|| "the app is not installed".to_owned())?;
    let levels = parse_expand(expand)?;
    let acting_user = acting_user_id.and_then(|id| st.users.get(id).cloned());

    if !levels.is_empty() {
        let identity = (app.has("act_as_user") && acting_user.is_some()) || app.has("act_as_bot");
        if !identity {
            return Err(
                "failed to expand context: apps without any ActAs* permission can't expand".into(),
            );
        }
    }

    // v1.2.2 blanks the whole client part of the context before calling the app
    // (`server/proxy/expand.go`: `e.Context.UserAgentContext = apps.UserAgentContext{}`),
    // so `app_id` is empty and `user_agent`/`track_as_submit` are gone (tests/real shows it).
    let mut ctx = Map::new();
    ctx.insert("app_id".into(), json!(""));
    ctx.insert("mattermost_site_url".into(), json!(site_url));
    if developer_mode {
        ctx.insert("developer_mode".into(), json!(true));
    }
    ctx.insert("app_path".into(), json!(app.app_path()));
    ctx.insert("bot_user_id".into(), json!(app.bot_user_id));
    if app.has("act_as_bot") {
        let token = st.app_session(&app.app_id, &app.bot_user_id);
        ctx.insert("bot_access_token".into(), json!(token));
    }
    let mut oauth2 = Map::new();

    for (key, level, required) in levels {
        let outcome: Result<(), String> = match key {
            "acting_user_access_token" => {
                if level != Level::All {
                    Ok(())
                } else if !app.has("act_as_user") {
                    Err("act_as_user is not granted: forbidden".into())
                } else if let Some(user) = &acting_user {
                    let token = st.app_session(&app.app_id, &user.id);
                    ctx.insert(key.into(), json!(token));
                    Ok(())
                } else {
                    Err("no acting user".into())
                }
            }
            "acting_user" => match &acting_user {
                Some(user) => {
                    let value = match level {
                        Level::Id => user.json_id(),
                        Level::Summary => user.json_summary(),
                        Level::All => user.json_all(),
                    };
                    ctx.insert(key.into(), value);
                    Ok(())
                }
                None => Err("no acting user".into()),
            },
            "app" => {
                if level == Level::Id {
                    Ok(())
                } else {
                    let mut value = json!({
                        "app_id": app.app_id,
                        "version": app.manifest.get("version").cloned().unwrap_or(json!("")),
                        "bot_user_id": app.bot_user_id,
                        "bot_username": app.bot_username,
                        "remote_oauth2": {}
                    });
                    if level == Level::All {
                        value["deploy_type"] = json!("http");
                        if acting_user.as_ref().is_some_and(|u| u.is_system_admin()) {
                            value["webhook_secret"] = json!("emulated-webhook-secret");
                        }
                    }
                    ctx.insert(key.into(), value);
                    Ok(())
                }
            }
            "locale" => {
                let locale = acting_user
                    .as_ref()
                    .map(|u| u.locale.clone())
                    .unwrap_or_else(|| "en".into());
                ctx.insert(key.into(), json!(locale));
                Ok(())
            }
            "oauth2_app" => {
                if level != Level::All {
                    Ok(())
                } else if !app.has("remote_oauth2") {
                    Err(format!(
                        "{} is not authorized to use remote OAuth2",
                        app.app_id
                    ))
                } else {
                    if let Some(stored) = &app.oauth2_app {
                        if let Ok(Value::Object(stored)) = serde_json::from_str::<Value>(stored) {
                            for (k, v) in stored {
                                oauth2.insert(k, v);
                            }
                        }
                    }
                    let base = format!(
                        "{}{}/oauth2/remote",
                        site_url.trim_end_matches('/'),
                        app.app_path()
                    );
                    oauth2.insert("connect_url".into(), json!(format!("{base}/connect")));
                    oauth2.insert("complete_url".into(), json!(format!("{base}/complete")));
                    Ok(())
                }
            }
            "oauth2_user" => {
                if level != Level::All {
                    Ok(())
                } else if !app.has("remote_oauth2") {
                    Err(format!(
                        "{} is not authorized to use remote OAuth2",
                        app.app_id
                    ))
                } else if let Some(user) = &acting_user {
                    // Nothing stored, `{}` and `null` leave `user` out, even with `+all`.
                    if let Some(bytes) = app.oauth2_users.get(&user.id) {
                        match serde_json::from_slice::<Value>(bytes) {
                            Ok(Value::Null) => {}
                            Ok(Value::Object(o)) if o.is_empty() => {}
                            Ok(value) => {
                                oauth2.insert("user".into(), value);
                            }
                            Err(_) => {}
                        }
                    }
                    Ok(())
                } else {
                    Err("no acting user".into())
                }
            }
            "channel" | "channel_member" => Err("no channel_id in the client context".into()),
            "team" | "team_member" => Err("no team_id in the client context".into()),
            "post" | "root_post" => Err("no post_id in the client context".into()),
            "user" => Err("no subject user".into()),
            _ => Ok(()),
        };
        if let Err(err) = outcome {
            if required {
                return Err(format!(
                    "failed to expand context: failed to expand required {key}: {err}"
                ));
            }
        }
    }
    ctx.insert("oauth2".into(), Value::Object(oauth2));
    Ok(Value::Object(ctx))
}
