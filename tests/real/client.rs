//! A Mattermost client as the webapp is one, over the real server's REST API: it fetches
//! bindings from the Apps plugin (`GET /api/v1/bindings`), parses a command line over them
//! with the shared parser (`support::mattermost::command`, the webapp's
//! `app_command_parser` port), and posts the bound call to the plugin's `/api/v1/call`
//! (mattermost/mattermost-plugin-apps v1.2.2: `server/httpin/bindings.go`,
//! `server/httpin/call.go`).

use std::time::Duration;

use serde_json::{json, Value};

use crate::stack::{stack, MmUser};
use crate::support::mattermost::command::{self, CommandError};
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
        command::sub_command_labels(&bindings, command)
    }

    /// `POST /api/v1/call`: `call` with `values`, as the webapp sends it. `context` is the
    /// client's (`app_id`, `location`); the stack's channel and team are added.
    pub async fn call(
        &self,
        context: Value,
        call: &Value,
        values: Value,
        raw_command: Option<&str>,
    ) -> Value {
        let s = stack();
        let mut context = match context {
            Value::Object(map) => map,
            other => panic!("a call context is an object, not {other}"),
        };
        context.insert("channel_id".into(), json!(s.channel_id));
        context.insert("team_id".into(), json!(s.team_id));
        context.insert("user_agent".into(), json!("webapp"));
        let mut request = json!({
            "path": call["path"],
            "context": context,
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

    /// Runs `line` as the webapp does on Enter ([`command::parse`], the port of its
    /// `app_command_parser`): a refusal sends nothing; a binding form without a submit makes
    /// the client call the form's source first; otherwise the submit goes out with the
    /// typed values and the line as `raw_command`.
    pub async fn command(&self, line: &str) -> Outcome {
        let bindings = self.bindings().await;
        let parsed = match command::parse(&bindings, line) {
            Ok(parsed) => parsed,
            Err(e) => return Outcome::Refused(e),
        };
        if let Some(source) = &parsed.fetch_first {
            let context = json!({"app_id": app_of(&bindings, line)});
            let fetched = self.call(context, source, json!({}), None).await;
            if let Err(e) = command::check_fetched_form(&fetched) {
                return Outcome::Refused(e);
            }
        }
        let submission = match parsed.submission {
            Ok(submission) => submission,
            Err(e) => return Outcome::Refused(e),
        };
        Outcome::Response(
            self.call(
                submission.context,
                &submission.call,
                submission.values,
                Some(&submission.raw_command),
            )
            .await,
        )
    }

    /// Sends the submit of `/<command> <sub…>`'s binding with `values`, as the webapp does
    /// after parsing a line whose fields the shared parser does not port (positional
    /// arguments, dynamic selects: the built-in `/apps` commands).
    pub async fn submit_binding(&self, words: &[&str], values: Value) -> Value {
        let bindings = self.bindings().await;
        let mut binding = command::find_command(&bindings, words[0])
            .unwrap_or_else(|| panic!("no /{} command", words[0]));
        for word in &words[1..] {
            binding = binding["bindings"]
                .as_array()
                .and_then(|b| b.iter().find(|b| b["label"] == *word))
                .unwrap_or_else(|| panic!("no {word:?} under /{}", words.join(" ")));
        }
        let submit = &binding["form"]["submit"];
        assert!(!submit.is_null(), "/{} has no form submit", words.join(" "));
        let context = json!({
            "app_id": binding["app_id"],
            "location": format!("/command/{}", words.join("/")),
        });
        let line = format!("/{} {}", words.join(" "), values_as_words(&values));
        self.call(context, submit, values, Some(line.trim_end()))
            .await
    }

    /// Submits `form` (as opened in a modal) with `values`.
    pub async fn submit(&self, app_id: &str, form: &Value, values: Value) -> Value {
        assert!(
            !form["submit"].is_null(),
            "the form has no submit call: {form:#}"
        );
        let context = json!({"app_id": app_id, "location": "/command"});
        self.call(context, &form["submit"], values, None).await
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

/// The values as the words a user would have typed after the command.
fn values_as_words(values: &Value) -> String {
    values
        .as_object()
        .map(|o| {
            o.values()
                .map(|v| v["value"].as_str().or(v.as_str()).unwrap_or("").to_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
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
