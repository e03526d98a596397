//! `POST /bindings`: the slash command and its sub-commands, chosen for the acting user.
//! Plain on purpose: read the two facts the answer depends on (is the acting user a system
//! admin, do they have a stored token) → build the bindings → serialise. Clients fetch
//! bindings on every channel switch, so the call parses only those facts and skips the
//! rest of the context unread.

use actix_web::HttpResponse;
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::{configure, status};
use crate::names::{paths, COMMAND, ICON};
use mattermost_apps::binding::location;
use mattermost_apps::context::{has_role, CallContext};
use mattermost_apps::Verified;
use mattermost_apps::{Binding, Call, CallResponse, Expand, ExpandLevel};

/// What the `info` and `disconnect` calls expand: the token, the provider and a way to
/// store (the acting user and their access token).
const TOKEN_EXPAND: Expand = Expand {
    acting_user: Some(ExpandLevel::Id),
    acting_user_access_token: Some(ExpandLevel::All),
    oauth2_app: Some(ExpandLevel::All),
    oauth2_user: Some(ExpandLevel::All),
    ..Expand::NONE
};

/// `POST /bindings`: the bindings for the acting user's [`UserFacts`].
pub async fn bindings(call: Verified<BindingsContext>) -> HttpResponse {
    let bindings = bindings_for(call.context.user_facts());
    match serde_json::to_value(bindings) {
        Ok(data) => HttpResponse::Ok().json(CallResponse::data(data)),
        // Only string-keyed maps and plain values: not expected to fail.
        Err(err) => {
            log::error!("the bindings could not be serialised: {err}");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// What the bindings depend on: whether the acting user is a system admin, and whether they
/// have a stored token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserFacts {
    /// The acting user is a system admin: show `configure` and `status`.
    pub admin: bool,
    /// The acting user has a stored token (the plugin sends `context.oauth2.user`): `info`
    /// and `disconnect` instead of `connect`.
    pub connected: bool,
}

/// The bindings call's context, only as far as the answer reads it: the acting user (its ID
/// for the JWT check, its roles) and the stored token. Every other key is skipped unread.
#[derive(Debug, Default, Deserialize)]
pub struct BindingsContext {
    #[serde(default)]
    acting_user: Option<ActingUser>,
    #[serde(default)]
    oauth2: OAuth2User,
}

/// `context.acting_user`, at any expand level.
#[derive(Debug, Default, Deserialize)]
struct ActingUser {
    id: String,
    #[serde(default)]
    roles: String,
}

/// `context.oauth2`, of which only `user` is read.
#[derive(Debug, Default, Deserialize)]
struct OAuth2User {
    /// Skipped unread: the plugin leaves `user` out when nothing (or `{}`, or `null`) is
    /// stored, so its presence is the answer.
    #[serde(default)]
    user: Option<IgnoredAny>,
}

impl BindingsContext {
    /// The two facts.
    pub fn user_facts(&self) -> UserFacts {
        UserFacts {
            admin: self
                .acting_user
                .as_ref()
                .is_some_and(|user| has_role(&user.roles, "system_admin")),
            connected: self.oauth2.user.is_some(),
        }
    }
}

impl CallContext for BindingsContext {
    fn acting_user_id(&self) -> Option<&str> {
        self.acting_user.as_ref().map(|user| user.id.as_str())
    }
}

/// The bindings for these facts: `configure` and `status` for system admins, `connect`
/// until connected, `info` and `disconnect` once connected, `help` for everyone.
pub fn bindings_for(UserFacts { admin, connected }: UserFacts) -> Vec<Binding> {
    let mut commands = Vec::with_capacity(5);
    if connected {
        commands.push(command(
            "info",
            "Show which remote account you are connected as",
            Call::new(paths::INFO, TOKEN_EXPAND),
        ));
        commands.push(command(
            "disconnect",
            "Forget your remote token and revoke it at the provider",
            Call::new(paths::DISCONNECT, TOKEN_EXPAND),
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
            form: Some(configure::binding_form()),
            ..Binding::default()
        });
        commands.push(command(
            "status",
            "Show the OAuth2 settings and check the provider (system admins only)",
            Call::new(paths::STATUS, status::EXPAND),
        ));
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

#[cfg(test)]
mod tests {
    use actix_web::{test as actix_test, web, App};
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::{json, Value};

    use super::*;
    use crate::oauth::StoredToken;
    use mattermost_apps::jwt::{Claims, JwtVerifier};
    use mattermost_apps::CallRequest;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const USER: &str = "zc57bxygzewsx75bdghmbntd41";

    /// A bindings body with the given `roles` (no acting user when `None`) and
    /// `context.oauth2.user` (absent when `None`).
    fn body(roles: Option<&str>, token: Option<Value>) -> Value {
        let mut context = json!({
            "app_id": "",
            "mattermost_site_url": "http://mattermost.test:8065",
            "bot_user_id": "p7z4xdoztaqpj5dabi3zg4hid8",
            "oauth2": {"client_id": "ignored"}
        });
        if let Some(roles) = roles {
            context["acting_user"] = json!({
                "id": USER, "username": "sam", "roles": roles, "delete_at": 0,
                "timezone": {"useAutomaticTimezone": "true"}
            });
        }
        if let Some(token) = token {
            context["oauth2"]["user"] = token;
        }
        json!({"path": "/bindings", "expand": {"acting_user": "summary", "oauth2_user": "all"},
               "context": context})
    }

    /// Bodies the two facts can come from (tokens that are not tokens included), each with
    /// the facts it holds.
    fn cases() -> Vec<(Value, UserFacts)> {
        let good = json!({"access_token": "at", "token_type": "Bearer",
                          "refresh_token": "rt", "expiry": "2025-06-11T15:50:11.48Z"});
        let roles = [
            (None, false),
            (Some("system_user"), false),
            (Some("system_admin system_user"), true),
            (Some("system_user custom_system_admin_like"), false),
        ];
        let tokens = [
            (None, false),
            (Some(good), true),
            (Some(Value::Null), false),
            (Some(json!({})), true),
            (Some(json!({"access_token": ""})), true),
            (
                Some(json!({"access_token": "at", "expiry": "not a time"})),
                true,
            ),
            (
                Some(json!({"access_token": "at", "expiry": "0001-01-01T00:00:00Z"})),
                true,
            ),
            (Some(json!("a string")), true),
        ];
        let mut cases = Vec::new();
        for (roles, admin) in roles {
            for (token, connected) in tokens.clone() {
                cases.push((body(roles, token), UserFacts { admin, connected }));
            }
        }
        cases
    }

    /// The facts the handler reads from a body, or the parse error.
    fn read(text: &str) -> serde_json::Result<UserFacts> {
        serde_json::from_str::<CallRequest<BindingsContext>>(text).map(|r| r.context.user_facts())
    }

    /// The sub-command labels of a bindings answer's data.
    fn labels(data: &Value) -> Vec<String> {
        data[0]["bindings"][0]["bindings"]
            .as_array()
            .expect("sub-commands")
            .iter()
            .map(|b| b["label"].as_str().expect("a label").to_owned())
            .collect()
    }

    #[test]
    fn the_facts_are_read_from_the_context() {
        for (case, facts) in cases() {
            let text = case.to_string();
            assert_eq!(read(&text).expect("parses"), facts, "{text}");
        }
        let fixture = include_str!("../../benches/fixtures/call-request-bindings.json");
        let facts = UserFacts {
            admin: true,
            connected: true,
        };
        assert_eq!(read(fixture).expect("parses"), facts, "the benchmark's");
    }

    #[test]
    fn the_bindings_follow_the_facts() {
        let expected = [
            (false, false, &["connect", "help"][..]),
            (false, true, &["info", "disconnect", "help"]),
            (true, false, &["connect", "configure", "status", "help"]),
            (
                true,
                true,
                &["info", "disconnect", "configure", "status", "help"],
            ),
        ];
        for (admin, connected, commands) in expected {
            let data = serde_json::to_value(bindings_for(UserFacts { admin, connected }))
                .expect("serialises");
            assert_eq!(
                labels(&data),
                commands,
                "admin {admin}, connected {connected}"
            );
            let hint = data[0]["bindings"][0]["hint"].as_str().expect("a hint");
            assert_eq!(hint, format!("[{}]", commands.join(" | ")));
        }
    }

    /// Whatever is stored counts as connected (the tokens this app writes, and anything
    /// else), as `disconnect` is then what clears it, and never fails the call; `null` is
    /// nothing stored.
    #[test]
    fn anything_stored_reads_as_connected() {
        let expiry = chrono::DateTime::parse_from_rfc3339("2025-06-11T15:50:11.48Z")
            .expect("a time")
            .to_utc();
        let written = StoredToken {
            access_token: String::from("at\u{e9}\"\n").into(),
            token_type: "Bearer".into(),
            refresh_token: String::from("").into(),
            expiry: Some(expiry),
        };
        let written = serde_json::to_string(&written).expect("serialises");
        let tokens = [
            written.as_str(),
            r#"{"access_token":"a","expiry":"2025-06-11T17:50:11+02:00","scope":{"x":[1,null]}}"#,
            r#"{"acc\u0065ss_token":"\u0061\""}"#,
            r#"{"access_token":"a","expiry":"not a time"}"#,
            r#"{"access_token":""}"#,
            r#"["a","Bearer","r","2025-06-11T15:50:11Z"]"#,
            r#"[]"#,
            r#"true"#,
            r#"-1.5"#,
            r#""a""#,
        ];
        let text = |token: &str| {
            format!(
                r#"{{"context":{{"acting_user":{{"id":"{USER}","roles":"system_user"}},"oauth2":{{"user":{token}}}}}}}"#
            )
        };
        for token in tokens {
            assert!(read(&text(token)).expect("parses").connected, "{token}");
        }
        assert!(!read(&text("null")).expect("parses").connected);
    }

    #[actix_web::test]
    async fn the_handler_answers_the_bindings_of_the_callers_facts() {
        let app = actix_test::init_service(
            App::new()
                .app_data(web::Data::new(JwtVerifier::new(SECRET)))
                .route("/bindings", web::post().to(bindings)),
        )
        .await;
        let claims = |user: &str| Claims {
            exp: 4_102_444_800,
            acting_user_id: Some(user.to_owned()),
        };
        let sign = |claims: &Claims| {
            encode(
                &Header::default(),
                claims,
                &EncodingKey::from_secret(SECRET),
            )
            .expect("sign")
        };
        let token = format!("Bearer {}", sign(&claims(USER)));
        for (case, facts) in cases() {
            let data = serde_json::to_value(bindings_for(facts)).expect("data");
            let expected = serde_json::to_vec(&CallResponse::data(data)).expect("json");

            let request = actix_test::TestRequest::post()
                .uri("/bindings")
                .insert_header(("Mattermost-App-Authorization", token.as_str()))
                .set_json(&case)
                .to_request();
            let response = actix_test::call_service(&app, request).await;
            assert_eq!(response.status(), 200);
            let content_type = response.headers().get("content-type").cloned();
            assert_eq!(
                content_type.as_ref().map(|v| v.as_bytes()),
                Some(&b"application/json"[..])
            );
            assert_eq!(actix_test::read_body(response).await, expected, "{case}");
        }

        // The JWT's user must still match the (slim) context's acting user.
        let forged = format!("Bearer {}", sign(&claims("someone-else")));
        let request = actix_test::TestRequest::post()
            .uri("/bindings")
            .insert_header(("Mattermost-App-Authorization", forged.as_str()))
            .set_json(body(Some("system_admin"), None))
            .to_request();
        assert_eq!(actix_test::call_service(&app, request).await.status(), 401);
    }
}
