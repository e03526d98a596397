//! A Mattermost client as the webapp is one, over the real server's REST API: it fetches
//! bindings from the Apps plugin, parses a command line over them with the shared parser
//! (`support::mattermost::command`, the webapp's `app_command_parser` port), and posts the
//! bound call to the plugin's `/api/v1/call`, as `shared/real-mattermost.md` §1 and §2 say.

use std::time::Duration;

use serde_json::{json, Value};

use crate::stack::{stack, MmUser};
use crate::support::mattermost::command::{self, CommandError, Parsed};
use crate::support::util::{random_token, within};

/// The Apps plugin's REST API.
pub const APPS_API: &str = "/plugins/com.mattermost.apps/api/v1";

/// One user's client.
#[derive(Clone)]
pub struct Client {
    /// Who is logged in.
    pub user: MmUser,
    http: reqwest::Client,
}

/// What a client does with a command line before or instead of calling.
#[derive(Debug)]
pub enum Outcome {
    /// The plugin's CallResponse to the submit.
    Response(Value),
    /// The client refused the line itself (the webapp shows this error; nothing is sent).
    Refused(CommandError),
}

impl Outcome {
    /// The CallResponse; panics on a client-side refusal (naming the command, not its
    /// arguments: they may hold a secret).
    pub fn response(self, line: &str) -> Value {
        match self {
            Outcome::Response(r) => r,
            Outcome::Refused(e) => panic!("the client refused {:?}: {e}", command_words(line)),
        }
    }
}

impl Client {
    /// A client for `user` (logged in: it has a session token).
    pub fn new(user: MmUser) -> Self {
        Self {
            user,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(60))
                .build()
                .expect("the HTTP client builds"),
        }
    }

    /// `METHOD {site}{path}` as this user, with a JSON body when given: the status and the
    /// body (JSON, or the text as a JSON string).
    pub async fn request(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let url = format!("{}{path}", stack().site_url);
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = self
            .http
            .request(method.clone(), &url)
            .bearer_auth(&self.user.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let what = format!("{method} {path}");
        let response = within(&what, request.send())
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let status = response.status().as_u16();
        let text = within(&what, response.text()).await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    /// The bindings the webapp fetches for the stack's channel.
    pub async fn bindings(&self) -> Vec<Value> {
        let s = stack();
        let path = format!(
            "{APPS_API}/bindings?channel_id={}&team_id={}&user_agent_type=webapp",
            s.channel_id, s.team_id
        );
        let (status, body) = self.request("GET", &path, None).await;
        assert_eq!(status, 200, "GET bindings: {body}");
        body.as_array()
            .cloned()
            .unwrap_or_else(|| panic!("the bindings are not a list: {body}"))
    }

    /// The labels of `/<command>`'s sub-commands in this user's bindings.
    pub async fn command_labels(&self, command: &str) -> Vec<String> {
        let bindings = self.bindings().await;
        command::find_command(&bindings, command)
            .and_then(|c| c["bindings"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|b| b["label"].as_str().map(str::to_owned))
            .collect()
    }

    /// `POST /api/v1/call`: `call` for `app_id` with `values`, as the webapp sends it.
    pub async fn call(
        &self,
        app_id: &str,
        location: &str,
        call: &Value,
        values: Value,
        raw_command: Option<&str>,
    ) -> Value {
        let s = stack();
        let mut request = json!({
            "path": call["path"],
            "context": {
                "app_id": app_id,
                "location": location,
                "channel_id": s.channel_id,
                "team_id": s.team_id,
                "user_agent": "webapp",
                "track_as_submit": true,
            },
            "values": values,
        });
        for key in ["expand", "state"] {
            if let Some(v) = call.get(key).filter(|v| !v.is_null()) {
                request[key] = v.clone();
            }
        }
        if let Some(line) = raw_command {
            request["raw_command"] = json!(line);
        }
        let (status, body) = self
            .request("POST", &format!("{APPS_API}/call"), Some(&request))
            .await;
        assert_eq!(status, 200, "POST call {}: {body}", call["path"]);
        body
    }

    /// Runs `line` as the webapp does: walk the bindings by label, take the leaf's form
    /// (only fields embedded in the binding take flags), fill defaults, refuse a missing
    /// required field or an unknown flag, and post the form's submit.
    pub async fn command(&self, line: &str) -> Outcome {
        let bindings = self.bindings().await;
        let app_id = app_of(&bindings, line);
        let location = location_of(line);
        let (call, values) = match command::resolve(&bindings, line) {
            Err(e) => return Outcome::Refused(e),
            Ok(Parsed::Submit(submit)) => (submit, json!({})),
            Ok(Parsed::Form {
                form: Some(form),
                args,
                ..
            }) => {
                let fields = form["fields"].as_array().cloned().unwrap_or_default();
                let mut values = match command::parse_values(&fields, &args) {
                    Ok(v) => v,
                    Err(e) => return Outcome::Refused(e),
                };
                add_defaults(&fields, &mut values);
                if let Some(missing) = command::missing_required(&fields, &values) {
                    return Outcome::Refused(CommandError(format!(
                        "Required fields missing: `{missing}`"
                    )));
                }
                (form["submit"].clone(), values)
            }
            // A form with only a source: the webapp overwrites what it fetches with the
            // binding's own form, which has no submit (shared/real-mattermost.md §1).
            Ok(Parsed::Form { form: None, .. }) => {
                return Outcome::Refused(CommandError("No submit call in binding or form.".into()))
            }
        };
        Outcome::Response(
            self.call(&app_id, &location, &call, values, Some(line))
                .await,
        )
    }

    /// Submits `form` (as opened in a modal) with `values`.
    pub async fn submit(&self, app_id: &str, form: &Value, values: Value) -> Value {
        assert!(
            !form["submit"].is_null(),
            "the form has no submit call: {form:#}"
        );
        self.call(app_id, "/command", &form["submit"], values, None)
            .await
    }
}

/// The app a command belongs to: the top-level command binding's `app_id`.
fn app_of(bindings: &[Value], line: &str) -> String {
    let name = line
        .trim_start()
        .trim_start_matches('/')
        .split_whitespace()
        .next()
        .unwrap_or("");
    command::find_command(bindings, name)
        .and_then(|b| b["app_id"].as_str())
        .unwrap_or(name)
        .to_owned()
}

/// The command's words before its first flag.
fn command_words(line: &str) -> String {
    line.split_whitespace()
        .take_while(|w| !w.starts_with("--"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `/command/<word>/<word>…` for the command's words before its first flag.
fn location_of(line: &str) -> String {
    let words: Vec<&str> = line
        .trim_start_matches('/')
        .split_whitespace()
        .take_while(|w| !w.starts_with("--"))
        .take(3)
        .collect();
    format!("/command/{}", words.join("/"))
}

/// The webapp sends a field's `value` when the user typed nothing for it
/// (`addDefaultAndReadOnlyValues`).
fn add_defaults(fields: &[Value], values: &mut Value) {
    for field in fields {
        let Some(name) = field["name"].as_str() else {
            continue;
        };
        let value = &field["value"];
        if !value.is_null() && values.get(name).is_none() {
            values[name] = value.clone();
        }
    }
}

/// A fresh regular user in the stack's team and channel, logged in.
pub async fn new_user(prefix: &str) -> Client {
    let s = stack();
    let admin = Client::new(s.admin.clone());
    let username = random_token(prefix, 6)
        .to_lowercase()
        .replace(['_', '-'], "");
    let password = random_token("Pw-", 12) + "-9";
    let (status, user) = admin
        .request(
            "POST",
            "/api/v4/users",
            Some(&json!({
                "username": username,
                "password": password,
                "email": format!("{username}@example.com"),
            })),
        )
        .await;
    assert_eq!(status, 201, "creating {username}: {user}");
    let id = user["id"].as_str().expect("a user ID").to_owned();
    let (status, body) = admin
        .request(
            "POST",
            &format!("/api/v4/teams/{}/members", s.team_id),
            Some(&json!({"team_id": s.team_id, "user_id": id})),
        )
        .await;
    assert_eq!(status, 201, "adding {username} to the team: {body}");
    let (status, body) = admin
        .request(
            "POST",
            &format!("/api/v4/channels/{}/members", s.channel_id),
            Some(&json!({"user_id": id})),
        )
        .await;
    assert_eq!(status, 201, "adding {username} to the channel: {body}");
    let token = login(&username, &password).await;
    Client::new(MmUser {
        id,
        username,
        token,
    })
}

/// `POST /api/v4/users/login`: the session token.
pub async fn login(username: &str, password: &str) -> String {
    let url = format!("{}/api/v4/users/login", stack().site_url);
    let response = within(
        "login",
        reqwest::Client::new()
            .post(&url)
            .json(&json!({"login_id": username, "password": password}))
            .send(),
    )
    .await
    .unwrap_or_else(|e| panic!("login as {username}: {e}"));
    assert_eq!(response.status().as_u16(), 200, "login as {username}");
    response
        .headers()
        .get("Token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("login as {username} gave no Token header"))
}
