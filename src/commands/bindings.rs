//! `POST /bindings`: the slash command and its sub-commands, chosen for the acting user.
//! This is the hot path (clients fetch bindings on every channel switch): it expands only
//! the acting user's summary (for the admin check) and the stored token (connected or not).

use std::fmt;
use std::sync::LazyLock;

use actix_web::http::header::HeaderValue;
use actix_web::{web, HttpResponse};
use serde::de::value::SeqAccessDeserializer;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use super::{configure, paths, COMMAND, ICON};
use crate::oauth::StoredToken;
use mattermost_apps::binding::location;
use mattermost_apps::context::{CallContext, SlimContext, UserRoles};
use mattermost_apps::Verified;
use mattermost_apps::{
    Binding, Call, CallRequest, CallResponse, Context, Expand, ExpandLevel, User,
};

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
/// The context is read into a [`BindingsContext`], which keeps only those two facts and the
/// acting user's ID for the JWT check.
pub async fn bindings(call: Verified<BindingsContext>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(HeaderValue::from_static("application/json"))
        .body(RESPONSES[call.context.viewer.index()].clone())
}

/// The two facts the bindings depend on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
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
            admin: ctx.acting_user.as_ref().is_some_and(User::is_system_admin),
            connected: has_token(ctx.oauth2.user.as_ref()),
        }
    }

    fn index(self) -> usize {
        usize::from(self.admin) * 2 + usize::from(self.connected)
    }
}

/// True when `context.oauth2.user` holds a token.
fn has_token(user: Option<&Value>) -> bool {
    user.and_then(StoredToken::from_context).is_some()
}

/// The bindings call's context: the acting user's ID and the [`Viewer`], with the same
/// answer as [`Viewer::of`] on the full context. Everything else is skipped unread, and the
/// stored token is judged as it streams by rather than copied into a `Value`.
#[derive(Debug, Default, Deserialize)]
#[serde(from = "SlimContext<HasToken>")]
pub struct BindingsContext {
    acting_user_id: Option<String>,
    /// What the answer depends on.
    pub viewer: Viewer,
}

impl<T: Into<bool>> From<SlimContext<T>> for BindingsContext {
    fn from(ctx: SlimContext<T>) -> Self {
        let viewer = Viewer {
            admin: ctx
                .acting_user
                .as_ref()
                .is_some_and(UserRoles::is_system_admin),
            connected: ctx.oauth2.user.is_some_and(Into::into),
        };
        Self {
            acting_user_id: ctx.acting_user.map(|user| user.id),
            viewer,
        }
    }
}

impl CallContext for BindingsContext {
    fn acting_user_id(&self) -> Option<&str> {
        self.acting_user_id.as_deref()
    }

    /// Tries [`RawToken`] first: the token's strings are three quarters of a bindings body,
    /// and reading them raw is ~4 times faster (0.07 instead of 0.30 µs for a
    /// Microsoft-sized token). A token field that is neither a string, null nor an array
    /// (never one this app stored) fails that reader; then [`HasToken`] decides, as it
    /// does for a body that is not JSON, whose error it reports.
    fn parse_call(body: &[u8]) -> serde_json::Result<CallRequest<Self>> {
        match serde_json::from_slice::<CallRequest<SlimContext<RawToken>>>(body) {
            Ok(request) => Ok(request.map_context(Self::from)),
            Err(_) => serde_json::from_slice(body),
        }
    }
}

/// Whether `context.oauth2.user` holds a token, judged while the JSON streams by, with the
/// answer [`has_token`] gives on the parsed value: an object whose `access_token` is a
/// non-empty string, whose `token_type` and `refresh_token` are strings when present, and
/// whose `expiry` is null, empty or RFC 3339 when present; a repeated key counts once,
/// the last one, as in a parsed `Value`. This skips copying the token's strings into a
/// `Value` and again into a [`StoredToken`] (~0.6 µs for a Microsoft-sized token).
///
/// With `RAW`, faster and stricter ([`RawToken`]): the four token strings are read as raw
/// bytes (no UTF-8 or control character check, which the answer does not need), so any
/// other kind of value in one of those four fields is an error instead of "not a token".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HasToken<const RAW: bool = false>(pub bool);

/// The fast, strict reading of [`HasToken`].
type RawToken = HasToken<true>;

impl<const RAW: bool> From<HasToken<RAW>> for bool {
    fn from(HasToken(yes): HasToken<RAW>) -> bool {
        yes
    }
}

impl<'de, const RAW: bool> Deserialize<'de> for HasToken<RAW> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(TokenVisitor { raw: RAW })
            .map(HasToken)
    }
}

/// Judges a token; `raw` reads its strings as bytes.
struct TokenVisitor {
    raw: bool,
}

impl<'de> Visitor<'de> for TokenVisitor {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let judge = |check| Judge {
            check,
            raw: self.raw,
        };
        let mut access_token = Judged::Absent;
        let (mut token_type, mut refresh_token, mut expiry) = (true, true, true);
        while let Some(key) = map.next_key::<TokenKey>()? {
            match key {
                TokenKey::AccessToken => access_token = map.next_value_seed(judge(is_not_empty))?,
                TokenKey::TokenType => token_type = map.next_value_seed(judge(any))?.is_string(),
                TokenKey::RefreshToken => {
                    refresh_token = map.next_value_seed(judge(any))?.is_string()
                }
                TokenKey::Expiry => {
                    expiry = match map.next_value_seed(judge(is_expiry))? {
                        Judged::Null => true,
                        judged => judged.is_ok_string(),
                    }
                }
                TokenKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(access_token.is_ok_string() && token_type && refresh_token && expiry)
    }

    /// A token written as an array (serde reads structs from arrays too) never comes from
    /// this app: take the slow, exact path.
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<bool, A::Error> {
        let value = Value::deserialize(SeqAccessDeserializer::new(seq))?;
        Ok(has_token(Some(&value)))
    }

    // Anything else is not a token.
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
}

/// The keys of a [`StoredToken`].
enum TokenKey {
    AccessToken,
    TokenType,
    RefreshToken,
    Expiry,
    Other,
}

impl<'de> Deserialize<'de> for TokenKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = TokenKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E>(self, key: &str) -> Result<TokenKey, E> {
                Ok(match key {
                    "access_token" => TokenKey::AccessToken,
                    "token_type" => TokenKey::TokenType,
                    "refresh_token" => TokenKey::RefreshToken,
                    "expiry" => TokenKey::Expiry,
                    _ => TokenKey::Other,
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// One value of the token: a string with the verdict of the check, null, or anything else
/// (skipped). Never an error when read with `raw` off, so a strange token cannot fail the
/// whole call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Judged {
    Absent,
    String(bool),
    Null,
    Other,
}

impl Judged {
    fn is_string(self) -> bool {
        matches!(self, Judged::String(_))
    }
    fn is_ok_string(self) -> bool {
        self == Judged::String(true)
    }
}

fn is_not_empty(text: &[u8]) -> bool {
    !text.is_empty()
}

fn any(_: &[u8]) -> bool {
    true
}

/// What [`StoredToken`]'s expiry reader accepts: empty, or RFC 3339.
fn is_expiry(text: &[u8]) -> bool {
    text.is_empty()
        || std::str::from_utf8(text)
            .is_ok_and(|text| chrono::DateTime::parse_from_rfc3339(text).is_ok())
}

/// Reads one value into a [`Judged`], applying `check` to a string. With `raw`, a string
/// is read as bytes (serde_json then finds its end with a SIMD search and skips the UTF-8
/// check), and a value that is not a string, null or an array is an error.
#[derive(Clone, Copy)]
struct Judge {
    check: fn(&[u8]) -> bool,
    raw: bool,
}

impl<'de> DeserializeSeed<'de> for Judge {
    type Value = Judged;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Judged, D::Error> {
        if self.raw {
            deserializer.deserialize_option(self)
        } else {
            deserializer.deserialize_any(self)
        }
    }
}

impl<'de> Visitor<'de> for Judge {
    type Value = Judged;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_none<E>(self) -> Result<Judged, E> {
        Ok(Judged::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Judged, D::Error> {
        deserializer.deserialize_bytes(self)
    }
    fn visit_bytes<E>(self, bytes: &[u8]) -> Result<Judged, E> {
        Ok(Judged::String((self.check)(bytes)))
    }
    fn visit_str<E>(self, text: &str) -> Result<Judged, E> {
        Ok(Judged::String((self.check)(text.as_bytes())))
    }
    fn visit_unit<E>(self) -> Result<Judged, E> {
        Ok(Judged::Null)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Judged, E> {
        Ok(Judged::Other)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Judged, E> {
        Ok(Judged::Other)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Judged, E> {
        Ok(Judged::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Judged, E> {
        Ok(Judged::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Judged, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Judged::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Judged, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Judged::Other)
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
            form: Some(configure::binding_form()),
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

#[cfg(test)]
mod tests {
    use actix_web::{test as actix_test, App};
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::{json, Value};

    use super::*;
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

    /// The contexts the two facts can come from, including tokens that are not tokens.
    fn cases() -> Vec<Value> {
        let good = json!({"access_token": "at", "token_type": "Bearer",
                          "refresh_token": "rt", "expiry": "2025-06-11T15:50:11.48Z"});
        let roles = [
            None,
            Some("system_user"),
            Some("system_admin system_user"),
            Some("system_user custom_system_admin_like"),
        ];
        let tokens = [
            None,
            Some(good),
            Some(Value::Null),
            Some(json!({})),
            Some(json!({"access_token": ""})),
            Some(json!({"access_token": "at", "expiry": "not a time"})),
            Some(json!({"access_token": "at", "expiry": "0001-01-01T00:00:00Z"})),
            Some(json!("a string")),
        ];
        roles
            .iter()
            .flat_map(|r| tokens.iter().map(move |t| body(*r, t.clone())))
            .collect()
    }

    /// The viewer from each reader: the exact one, the fast one (`None` when it refuses
    /// the body) and the one the handler uses.
    fn viewers(text: &str) -> (Viewer, Option<Viewer>, Viewer) {
        let exact: CallRequest<SlimContext<HasToken>> =
            serde_json::from_str(text).expect("the exact reader takes any token");
        let fast = serde_json::from_str::<CallRequest<SlimContext<RawToken>>>(text).ok();
        let used = BindingsContext::parse_call(text.as_bytes()).expect("parses");
        (
            BindingsContext::from(exact.context).viewer,
            fast.map(|r| BindingsContext::from(r.context).viewer),
            used.context.viewer,
        )
    }

    #[test]
    fn the_bindings_context_yields_the_same_viewer_as_the_full_one() {
        let mut seen = std::collections::HashSet::new();
        for case in cases() {
            let text = case.to_string();
            let full: CallRequest<Context> = serde_json::from_str(&text).expect("full");
            let viewer = Viewer::of(&full.context);
            let (exact, fast, used) = viewers(&text);
            assert_eq!((exact, used), (viewer, viewer), "{text}");
            assert!(fast.is_none_or(|fast| fast == viewer), "{text}");
            seen.insert(viewer.index());
        }
        assert_eq!(seen.len(), 4, "every viewer is covered");
    }

    /// The fast reader must be the one that runs: it takes every token this app stores.
    #[test]
    fn the_fast_reader_takes_every_token_the_app_stores() {
        let expiry = chrono::DateTime::parse_from_rfc3339("2025-06-11T15:50:11.48Z")
            .expect("a time")
            .to_utc();
        let stored = [
            StoredToken {
                access_token: String::from("at\u{e9}\"\n").into(),
                token_type: "Bearer".into(),
                refresh_token: String::from("rt").into(),
                expiry: Some(expiry),
            },
            StoredToken {
                access_token: String::from("at").into(),
                token_type: String::new(),
                refresh_token: String::from("").into(),
                expiry: None,
            },
        ];
        for token in stored {
            let token = serde_json::to_value(&token).expect("serialises");
            let text = body(Some("system_user"), Some(token)).to_string();
            let (exact, fast, _) = viewers(&text);
            assert_eq!(fast, Some(exact), "{text}");
            assert!(exact.connected, "{text}");
        }
        let fixture = include_str!("../../benches/fixtures/call-request-bindings.json");
        assert!(
            serde_json::from_str::<CallRequest<SlimContext<RawToken>>>(fixture).is_ok(),
            "the benchmark's body"
        );
    }

    /// Tokens a `Value` cannot show (repeated keys, escapes), and odd shapes, read as text:
    /// the fast reader refuses those with a number, a bool or an object in a token field.
    #[test]
    fn the_streamed_token_check_agrees_with_stored_token() {
        let tokens = [
            r#"{"access_token":"a","access_token":""}"#,
            r#"{"access_token":"","access_token":"a"}"#,
            r#"{"access_token":"a","expiry":"bad","expiry":""}"#,
            r#"{"access_token":"a","expiry":"","expiry":"bad"}"#,
            r#"{"acc\u0065ss_token":"\u0061"}"#,
            r#"{"access_token":"a","expiry":null,"token_type":"Bearer","refresh_token":""}"#,
            r#"{"access_token":"a","expiry":"2025-06-11T17:50:11+02:00"}"#,
            r#"{"access_token":"a","expiry":"0001-01-01T00:00:00Z"}"#,
            r#"{"access_token":"a","expiry":1749657011}"#,
            r#"{"access_token":"a","token_type":null}"#,
            r#"{"access_token":"a","refresh_token":{"x":[1,2]}}"#,
            r#"{"access_token":"a","scope":{"nested":[{"deep":null}]},"expires_in":3599}"#,
            r#"{"access_token":["a"]}"#,
            r#"{"access_token":null}"#,
            r#"{"token_type":"Bearer"}"#,
            r#"["a"]"#,
            r#"["a","Bearer","r","2025-06-11T15:50:11Z"]"#,
            r#"["a","Bearer","r","2025-06-11T15:50:11Z","extra"]"#,
            r#"[""]"#,
            r#"[]"#,
            r#"[1]"#,
            r#"true"#,
            r#"0"#,
            r#"-1.5"#,
            r#""a""#,
            r#"null"#,
            r#"{}"#,
        ];
        for token in tokens {
            let text = format!(
                r#"{{"context":{{"acting_user":{{"id":"{USER}","roles":"system_user"}},"oauth2":{{"user":{token}}}}}}}"#
            );
            let full: CallRequest<Context> = serde_json::from_str(&text).expect("full");
            let viewer = Viewer::of(&full.context);
            let (exact, fast, used) = viewers(&text);
            assert_eq!((exact, used), (viewer, viewer), "{token}");
            assert!(fast.is_none_or(|fast| fast == viewer), "{token}");
        }
    }

    #[actix_web::test]
    async fn the_handler_answers_what_building_the_bindings_per_call_did() {
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
        for case in cases() {
            // What the handler answered before the cache and the slim context.
            let full: CallRequest<Context> = serde_json::from_value(case.clone()).expect("full");
            let data = serde_json::to_value(bindings_for(&full.context)).expect("data");
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
            assert_eq!(actix_test::read_body(response).await, expected);
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
