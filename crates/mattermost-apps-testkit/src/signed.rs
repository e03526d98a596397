//! Call requests signed as the Apps plugin signs them, to drive an app's handlers directly.

use mattermost_apps::jwt::HEADER;
use mattermost_apps::{CallRequest, Context, User};
use serde_json::Value;

/// A call request, its JSON body, and the `Mattermost-App-Authorization` header the plugin
/// sends with it: an HS256 JWT under the app's secret, expiring in 15 minutes, whose
/// `acting_user_id` is the context's acting user (absent when there is none).
///
/// ```
/// use actix_web::{test, web, App, HttpResponse};
/// use mattermost_apps::{JwtVerifier, Verified};
/// use mattermost_apps_testkit::SignedCall;
///
/// const SECRET: &str = "the-secret-typed-at-install-32-chars";
///
/// async fn ping(_call: Verified) -> HttpResponse {
///     HttpResponse::Ok().json(serde_json::json!({"type": "ok", "text": "pong"}))
/// }
///
/// # actix_web::rt::System::new().block_on(async {
/// let app = test::init_service(
///     App::new()
///         .app_data(web::Data::new(JwtVerifier::new(SECRET.as_bytes())))
///         .route("/ping", web::post().to(ping)),
/// )
/// .await;
/// let call = SignedCall::builder("/ping")
///     .acting_user("u1")
///     .value("text", "hello")
///     .sign(SECRET);
/// let request = test::TestRequest::post()
///     .uri("/ping")
///     .insert_header(call.header())
///     .set_payload(call.body)
///     .to_request();
/// assert_eq!(test::call_service(&app, request).await.status(), 200);
/// # });
/// ```
#[derive(Debug)]
pub struct SignedCall {
    /// The request as built.
    pub request: CallRequest,
    /// The request as JSON: the body to POST.
    pub body: String,
    /// `Bearer <JWT>`: the value of [`HEADER`].
    pub authorization: String,
}

impl SignedCall {
    /// Starts a call to `path` with an empty context.
    pub fn builder(path: &str) -> CallBuilder {
        CallBuilder {
            request: CallRequest {
                path: path.to_owned(),
                ..CallRequest::default()
            },
        }
    }

    /// Signs `request` with `secret`, the JWT secret the admin typed at install.
    pub fn new(request: CallRequest, secret: &str) -> Self {
        let json = serde_json::to_value(&request).expect("a CallRequest serialises");
        let (token, _, _) = crate::mattermost::sign(secret, &json);
        Self {
            body: json.to_string(),
            authorization: format!("Bearer {token}"),
            request,
        }
    }

    /// The header's name and value, as `insert_header` (actix) or `header` (reqwest) take
    /// them.
    pub fn header(&self) -> (&'static str, String) {
        (HEADER, self.authorization.clone())
    }
}

/// A [`SignedCall`] being built: the call's path, its acting user, its values, and anything
/// else of its context.
#[derive(Debug)]
pub struct CallBuilder {
    request: CallRequest,
}

impl CallBuilder {
    /// The acting user, by ID (as with `expand.acting_user: id`); the JWT names them too.
    pub fn acting_user(self, id: &str) -> Self {
        self.context(|c| {
            c.acting_user = Some(User {
                id: id.to_owned(),
                ..User::default()
            })
        })
    }

    /// A form or command value (strings, booleans, `{"label", "value"}` options, …).
    pub fn value(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.request
            .values
            .get_or_insert_with(Default::default)
            .insert(name.to_owned(), value.into());
        self
    }

    /// Edits the context in place (site URL, bot, channel, OAuth2 data, …).
    pub fn context(mut self, edit: impl FnOnce(&mut Context)) -> Self {
        edit(&mut self.request.context);
        self
    }

    /// The request, unsigned.
    pub fn build(self) -> CallRequest {
        self.request
    }

    /// The request, signed with `secret`.
    pub fn sign(self, secret: &str) -> SignedCall {
        SignedCall::new(self.request, secret)
    }
}

#[cfg(test)]
mod tests {
    use mattermost_apps::JwtVerifier;

    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn the_app_verifies_the_token_and_finds_the_acting_user() {
        let call = SignedCall::builder("/ping")
            .acting_user("u1")
            .value("n", 3)
            .sign(SECRET);
        let claims = JwtVerifier::new(SECRET.as_bytes())
            .verify_header(Some(&call.authorization))
            .expect("the app's verifier accepts the token");
        assert_eq!(claims.acting_user_id.as_deref(), Some("u1"));
        let body: Value = serde_json::from_str(&call.body).expect("the body is JSON");
        assert_eq!(body["path"], "/ping");
        assert_eq!(body["context"]["acting_user"]["id"], "u1");
        assert_eq!(body["values"]["n"], 3);
    }

    #[test]
    fn another_secret_or_no_user_is_told_apart() {
        let call = SignedCall::builder("/ping").sign(SECRET);
        let other = JwtVerifier::new(b"another-secret-another-secret-xx");
        assert!(other.verify_header(Some(&call.authorization)).is_err());
        let claims = JwtVerifier::new(SECRET.as_bytes())
            .verify_header(Some(&call.authorization))
            .expect("valid");
        assert_eq!(claims.acting_user_id, None);
    }
}
