//! `POST /bindings`: the slash command and its sub-commands, chosen for the acting user.
//! Plain on purpose: read the two facts the answer depends on (is the acting user a system
//! admin, do they have a stored token: `user_facts.rs`) → build the bindings
//! ([`bindings_for`]) → serialise.

use std::sync::OnceLock;

use actix_web::http::header::HeaderValue;
use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::user_facts::{BindingsContext, UserFacts};
use super::{configure, status};
use crate::names::{paths, COMMAND, ICON};
use mattermost_apps::binding::location;
use mattermost_apps::call_response::ResponseType;
use mattermost_apps::Verified;
use mattermost_apps::{Binding, Call, Expand, ExpandLevel};

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
    match cached(call.context.user_facts(), answer) {
        Ok(body) => HttpResponse::Ok()
            .content_type(HeaderValue::from_static("application/json"))
            .body(body),
        // Only string-keyed maps and plain values: not expected to fail.
        Err(err) => {
            log::error!("the bindings could not be serialised: {err}");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// The answer for these facts: an `ok` `CallResponse` with the bindings as its data,
/// serialised straight from them (`CallResponse::data` takes a `serde_json::Value`, a
/// copy of the whole tree).
fn answer(facts: UserFacts) -> serde_json::Result<Vec<u8>> {
    #[derive(Serialize)]
    struct Answer {
        #[serde(rename = "type")]
        response_type: ResponseType,
        data: Vec<Binding>,
    }
    serde_json::to_vec(&Answer {
        response_type: ResponseType::Ok,
        data: bindings_for(facts),
    })
}

/// A cache, and only that: the answer depends on the two facts alone, so each of the four
/// is made once, when first asked for. It earns its place: `/bindings` runs about 78,000
/// instructions with it and 170,000 without, which would spend more than half the CPU per
/// call that the official Go example does (benches/RESULTS.md).
fn cached(
    facts: UserFacts,
    make: fn(UserFacts) -> serde_json::Result<Vec<u8>>,
) -> serde_json::Result<web::Bytes> {
    static ANSWERS: [OnceLock<web::Bytes>; 4] = [const { OnceLock::new() }; 4];
    let slot = &ANSWERS[usize::from(facts.admin) * 2 + usize::from(facts.connected)];
    if let Some(body) = slot.get() {
        return Ok(body.clone());
    }
    let body = web::Bytes::from(make(facts)?);
    Ok(slot.get_or_init(|| body).clone())
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
    use actix_web::{test as actix_test, App};
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::{json, Value};

    use super::*;
    use crate::oauth::StoredToken;
    use mattermost_apps::jwt::{Claims, JwtVerifier};
    use mattermost_apps::{CallRequest, CallResponse};

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

    /// Anything stored is connected (`disconnect` clears it); `null` is nothing stored.
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
            let expected = serde_json::to_value(CallResponse::data(data)).expect("json");

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
            let answer: Value =
                serde_json::from_slice(&actix_test::read_body(response).await).expect("JSON");
            assert_eq!(answer, expected, "{case}");
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
