//! Talking to the provider: the authorize URL, the code exchange, refresh, revocation and
//! userinfo. Every request goes through the one shared `reqwest::Client` (timeouts set,
//! redirects off) and reads at most [`MAX_ANSWER`] bytes of the answer. Errors carry the
//! provider's error code and description (capped), never a token, a code or a body.

use std::time::Duration;

use chrono::{DateTime, Datelike, Utc};
use futures::future::{BoxFuture, FutureExt};
use oauth2::basic::{BasicClient, BasicTokenResponse, BasicTokenType};
use oauth2::{
    AsyncHttpClient, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, ErrorResponseType, HttpRequest, HttpResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RefreshToken, RequestTokenError, Scope, StandardErrorResponse, TokenResponse,
    TokenUrl,
};
use serde_json::Value;
use url::Url;

use super::config::ProviderConfig;
use super::token::StoredToken;
use crate::markdown;
use crate::metrics::{self, ProviderRequest};
use mattermost_apps::secret::{ExposeSecret, SecretString};

/// The most the app reads of a provider's answer. Token and userinfo answers are a few KiB
/// (an ID token with many claims stays well under this); anything longer is refused.
pub const MAX_ANSWER: usize = 64 * 1024;

/// A client with the authorize and token endpoints set (the type parameters are the
/// auth, device, introspection, revocation and token endpoints).
type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// What went wrong at the provider. Clone, so one refresh's outcome can be shared.
///
/// `Display` is Markdown-safe (the provider's words are escaped for a Mattermost message);
/// [`ProviderError::plain`] is the same text unescaped, for plain-text pages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The provider answered with an OAuth2 error (`invalid_grant`, `access_denied`, …).
    #[error("{}", .0.text(true))]
    Refused(Refusal),
    /// The provider refused the access token (HTTP 401 at userinfo).
    #[error("the provider no longer accepts your token")]
    TokenRejected,
    /// The provider understood the token but refused the request (HTTP 403: a missing
    /// scope, a rate limit); the token stays.
    #[error("the provider refused the request (HTTP 403{}); the app may lack a scope, or the provider is limiting requests", .0.as_deref().map(|d| format!(": {}", markdown::escape(d, 300))).unwrap_or_default())]
    Forbidden(Option<String>),
    /// No answer within the timeout.
    #[error("the provider did not answer in time")]
    Timeout,
    /// Connection failure.
    #[error("the provider could not be reached")]
    Unreachable,
    /// An answer that is not what OAuth2 says (HTTP 5xx, not JSON, too large, …).
    #[error("the provider gave an unexpected answer: {0}")]
    BadResponse(String),
    /// The app's configuration cannot make this request (e.g. a bad redirect URL).
    #[error("{0}")]
    Config(String),
}

/// A provider's OAuth2 error: its code and description, capped, as the provider sent them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The OAuth2 error code, at most 100 characters.
    pub code: String,
    /// The description, at most 300 characters.
    pub description: Option<String>,
}

impl Refusal {
    fn text(&self, escaped: bool) -> String {
        let show = |s: &str| {
            if escaped {
                markdown::escape(s, usize::MAX)
            } else {
                s.to_owned()
            }
        };
        match &self.description {
            Some(d) => format!("the provider refused: {} ({})", show(&self.code), show(d)),
            None => format!("the provider refused: {}", show(&self.code)),
        }
    }
}

impl ProviderError {
    /// The provider's OAuth2 error, as quoted to the user: the code (at most 100
    /// characters) and the description (at most 300).
    pub fn refused(code: &str, description: Option<&str>) -> Self {
        ProviderError::Refused(Refusal {
            code: code.chars().take(100).collect(),
            description: description.map(|d| d.chars().take(300).collect()),
        })
    }

    /// True when the refresh token (or code) is dead and the user must reconnect:
    /// `invalid_grant`, or GitHub's `bad_refresh_token`.
    pub fn is_invalid_grant(&self) -> bool {
        matches!(self, ProviderError::Refused(r) if r.code == "invalid_grant" || r.code == "bad_refresh_token")
    }

    /// The message without Markdown escaping, for a plain-text page.
    pub fn plain(&self) -> String {
        match self {
            ProviderError::Refused(refusal) => refusal.text(false),
            other => other.to_string(),
        }
    }
}

/// Who the user is at the provider, from the userinfo endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// Display name.
    pub name: Option<String>,
    /// Login or preferred username.
    pub username: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Subject or numeric ID.
    pub id: Option<String>,
}

/// Longest name, username or ID shown; an e-mail address may be 254 characters.
const MAX_NAME: usize = 100;
const MAX_EMAIL: usize = 254;

impl Identity {
    /// Picks the usual OpenID Connect and GitHub/GitLab keys out of a userinfo document.
    pub fn from_userinfo(doc: &Value) -> Self {
        let text = |keys: &[&str]| {
            keys.iter().find_map(|k| match doc.get(*k) {
                Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            })
        };
        Self {
            name: text(&["name", "displayName"]),
            username: text(&[
                "preferred_username",
                "login",
                "username",
                "userPrincipalName",
            ]),
            email: text(&["email", "mail"]),
            id: text(&["sub", "id"]),
        }
    }

    /// One Markdown line, e.g. "**Ada Lovelace** (ada, ada@example.com)". Every part is
    /// the provider's text, capped and escaped: it shows as written, never as a link or
    /// a mention.
    pub fn describe(&self) -> String {
        let head = self
            .name
            .as_deref()
            .or(self.username.as_deref())
            .or(self.email.as_deref())
            .or(self.id.as_deref());
        let Some(head) = head else {
            return "an unnamed account".to_owned();
        };
        let mut details = Vec::new();
        if let Some(username) = self.username.as_deref().filter(|u| *u != head) {
            details.push(markdown::escape(username, MAX_NAME));
        }
        if let Some(email) = self.email.as_deref().filter(|e| *e != head) {
            details.push(markdown::escape(email, MAX_EMAIL));
        }
        let head = markdown::escape(head, MAX_NAME);
        if details.is_empty() {
            format!("**{head}**")
        } else {
            format!("**{head}** ({})", details.join(", "))
        }
    }
}

fn client(config: &ProviderConfig, redirect: Option<&str>) -> Result<Client, ProviderError> {
    let client = BasicClient::new(ClientId::new(config.client_id.clone()))
        .set_client_secret(ClientSecret::new(
            config.client_secret.expose_secret().to_owned(),
        ))
        .set_auth_uri(AuthUrl::from_url(config.auth_url.clone()))
        .set_token_uri(TokenUrl::from_url(config.token_url.clone()));
    Ok(match redirect {
        Some(redirect) => {
            client.set_redirect_uri(RedirectUrl::new(redirect.to_owned()).map_err(|_| {
                ProviderError::Config("the OAuth2 complete URL is not a valid URL".into())
            })?)
        }
        None => client,
    })
}

/// The provider's authorize URL: `response_type=code`, client, redirect URI, scopes, the
/// plugin's `state` unchanged, the PKCE challenge, and the preset's extra parameters.
pub fn authorize_url(
    config: &ProviderConfig,
    redirect: &str,
    state: &str,
    challenge: PkceCodeChallenge,
) -> Result<Url, ProviderError> {
    let client = client(config, Some(redirect))?;
    let mut request = client
        .authorize_url(|| CsrfToken::new(state.to_owned()))
        .add_scopes(config.scopes.iter().cloned().map(Scope::new))
        .set_pkce_challenge(challenge);
    for (name, value) in config.extra_params {
        request = request.add_extra_param(*name, *value);
    }
    Ok(request.url().0)
}

/// Exchanges an authorization code (with the PKCE verifier) for a token.
pub async fn exchange(
    http: &reqwest::Client,
    config: &ProviderConfig,
    redirect: &str,
    code: &str,
    verifier: PkceCodeVerifier,
) -> Result<StoredToken, ProviderError> {
    let client = client(config, Some(redirect))?;
    let request = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .set_pkce_verifier(verifier);
    let response = metrics::provider(ProviderRequest::TokenExchange, async {
        request
            .request_async(&CappedHttp(http))
            .await
            .map_err(token_error)
    })
    .await?;
    stored(&response, None)
}

/// Refreshes a token. The old refresh token is kept when the provider sends none.
pub async fn refresh(
    http: &reqwest::Client,
    config: &ProviderConfig,
    token: &StoredToken,
) -> Result<StoredToken, ProviderError> {
    let refresh_token = RefreshToken::new(token.refresh_token.expose_secret().to_owned());
    let client = client(config, None)?;
    let request = client.exchange_refresh_token(&refresh_token);
    let response = metrics::provider(ProviderRequest::Refresh, async {
        request
            .request_async(&CappedHttp(http))
            .await
            .map_err(token_error)
    })
    .await?;
    stored(&response, Some(&token.refresh_token))
}

/// Revokes the token at the provider (RFC 7009). Where one revocation ends the whole grant
/// (the preset says so: Google, GitLab), one request is sent, for the refresh token if there
/// is one; elsewhere the refresh token, then the access token. An `invalid_token` answer
/// means the token is already dead, which is what was asked. `Ok(false)` when the provider
/// has no revocation endpoint.
///
/// Sent by hand rather than with the oauth2 crate, which refuses any non-https revocation
/// URL although `check_endpoint` accepts http for loopback providers (dev and tests).
pub async fn revoke(
    http: &reqwest::Client,
    config: &ProviderConfig,
    token: &StoredToken,
) -> Result<bool, ProviderError> {
    metrics::provider(
        ProviderRequest::Revocation,
        revoke_tokens(http, config, token),
    )
    .await
}

async fn revoke_tokens(
    http: &reqwest::Client,
    config: &ProviderConfig,
    token: &StoredToken,
) -> Result<bool, ProviderError> {
    let Some(url) = &config.revoke_url else {
        return Ok(false);
    };
    let one_revokes_all = config.kind.preset().is_some_and(|p| p.revokes_grant);
    let mut tokens = Vec::with_capacity(2);
    if !token.refresh_token.expose_secret().is_empty() {
        tokens.push((token.refresh_token.expose_secret(), "refresh_token"));
    }
    if tokens.is_empty() || !one_revokes_all {
        tokens.push((token.access_token.expose_secret(), "access_token"));
    }
    for (value, hint) in tokens {
        let response = client_post(http, url.clone(), config)
            .form(&[("token", value), ("token_type_hint", hint)])
            .send()
            .await
            .map_err(|err| transport_error(&err))?;
        let status = response.status();
        if status.is_success() {
            continue;
        }
        let doc: Option<Value> = serde_json::from_slice(&read_capped(response).await?).ok();
        let text = |key: &str| {
            doc.as_ref()
                .and_then(|d| d.get(key))
                .and_then(Value::as_str)
        };
        match text("error") {
            Some("invalid_token") => continue,
            Some(code) => return Err(ProviderError::refused(code, text("error_description"))),
            None => {
                return Err(ProviderError::BadResponse(format!(
                    "HTTP {} from the revocation endpoint",
                    status.as_u16()
                )))
            }
        }
    }
    Ok(true)
}

/// A POST that authenticates the client as the oauth2 crate does at the token endpoint:
/// HTTP Basic with form-encoded parts (RFC 6749 §2.3.1), asking for JSON.
pub(crate) fn client_post(
    http: &reqwest::Client,
    url: Url,
    config: &ProviderConfig,
) -> reqwest::RequestBuilder {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    http.post(url)
        .basic_auth(
            encode(&config.client_id),
            Some(encode(config.client_secret.expose_secret())),
        )
        .header(reqwest::header::ACCEPT, "application/json")
}

/// Reads who the token belongs to.
pub async fn userinfo(
    http: &reqwest::Client,
    url: &Url,
    access_token: &SecretString,
) -> Result<Identity, ProviderError> {
    let body = get_as_user(http, url.clone(), access_token, "userinfo");
    let body = metrics::provider(ProviderRequest::Userinfo, body).await?;
    let doc: Value = serde_json::from_slice(&body)
        .map_err(|_| ProviderError::BadResponse("userinfo is not JSON".into()))?;
    Ok(Identity::from_userinfo(&doc))
}

/// GETs one of the provider's APIs with the user's token and returns the (capped) body of a
/// success. Only a 401 means the token is dead; a 403 is a refusal of this request (scope,
/// rate limit, API not enabled) and is reported as it is; any other failure names `what`.
pub(crate) async fn get_as_user(
    http: &reqwest::Client,
    url: Url,
    access_token: &SecretString,
    what: &str,
) -> Result<Vec<u8>, ProviderError> {
    let response = http
        .get(url)
        .bearer_auth(access_token.expose_secret())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|err| transport_error(&err))?;
    let status = response.status();
    if status == reqwest::StatusCode::UNAUTHORIZED {
        return Err(ProviderError::TokenRejected);
    }
    let body = read_capped(response).await?;
    if status == reqwest::StatusCode::FORBIDDEN {
        return Err(ProviderError::Forbidden(refusal_message(&body)));
    }
    if !status.is_success() {
        let said = refusal_message(&body)
            .map(|m| format!(": {}", markdown::escape(&m, 300)))
            .unwrap_or_default();
        return Err(ProviderError::BadResponse(format!(
            "HTTP {} from {what}{said}",
            status.as_u16()
        )));
    }
    Ok(body)
}

/// The human message of an API refusal: GitHub's `message`, Graph's and Google's
/// `error.message`, or OAuth2's `error_description`.
fn refusal_message(body: &[u8]) -> Option<String> {
    let doc: Value = serde_json::from_slice(body).ok()?;
    let candidates = [
        doc.get("message"),
        doc.pointer("/error/message"),
        doc.get("error_description"),
    ];
    let message = candidates.into_iter().flatten().find_map(Value::as_str)?;
    Some(message.chars().take(300).collect())
}

/// The oauth2 crate's HTTP client: the shared `reqwest::Client`, reading at most
/// [`MAX_ANSWER`] bytes of an answer.
struct CappedHttp<'a>(&'a reqwest::Client);

impl<'c> AsyncHttpClient<'c> for CappedHttp<'_> {
    type Error = ProviderError;
    type Future = BoxFuture<'c, Result<HttpResponse, ProviderError>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        send_token_request(self.0, request).boxed()
    }
}

async fn send_token_request(
    http: &reqwest::Client,
    request: HttpRequest,
) -> Result<HttpResponse, ProviderError> {
    let request = reqwest::Request::try_from(request)
        .map_err(|_| ProviderError::Config("the token request could not be built".into()))?;
    let response = http
        .execute(request)
        .await
        .map_err(|err| transport_error(&err))?;
    let mut answer = oauth2::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        answer = answer.header(name, value);
    }
    answer
        .body(read_capped(response).await?)
        .map_err(|_| ProviderError::BadResponse("the token endpoint's headers are invalid".into()))
}

/// The body, or an error once it passes [`MAX_ANSWER`] bytes (read no further).
pub(crate) async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, ProviderError> {
    let too_large = || {
        ProviderError::BadResponse(format!(
            "the answer is larger than {} KiB",
            MAX_ANSWER / 1024
        ))
    };
    if response
        .content_length()
        .is_some_and(|n| n > MAX_ANSWER as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|err| transport_error(&err))?
    {
        if body.len() + chunk.len() > MAX_ANSWER {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn stored(
    response: &BasicTokenResponse,
    previous_refresh: Option<&SecretString>,
) -> Result<StoredToken, ProviderError> {
    let token_type = match response.token_type() {
        BasicTokenType::Bearer => "Bearer".to_owned(),
        BasicTokenType::Mac => "MAC".to_owned(),
        BasicTokenType::Extension(other) => other.clone(),
    };
    let refresh_token = match (response.refresh_token(), previous_refresh) {
        (Some(new), _) => SecretString::from(new.secret().clone()),
        (None, Some(old)) => old.clone(),
        (None, None) => SecretString::default(),
    };
    let expiry = match response.expires_in() {
        Some(lifetime) => Some(expiry_after(Utc::now(), lifetime)?),
        None => None,
    };
    Ok(StoredToken {
        access_token: SecretString::from(response.access_token().secret().clone()),
        token_type,
        refresh_token,
        expiry,
    })
}

/// `now + expires_in`, or an error when that is not a time Go and RFC 3339 can write
/// (after the year 9999): the provider's number is broken, and must not crash the app.
fn expiry_after(now: DateTime<Utc>, lifetime: Duration) -> Result<DateTime<Utc>, ProviderError> {
    chrono::Duration::from_std(lifetime)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .filter(|t| t.year() <= 9999)
        .ok_or_else(|| {
            ProviderError::BadResponse(format!(
                "expires_in of {} s is out of range",
                lifetime.as_secs()
            ))
        })
}

pub(crate) fn transport_error(err: &reqwest::Error) -> ProviderError {
    if err.is_timeout() {
        ProviderError::Timeout
    } else {
        ProviderError::Unreachable
    }
}

fn token_error<T>(err: RequestTokenError<ProviderError, StandardErrorResponse<T>>) -> ProviderError
where
    T: ErrorResponseType + AsRef<str> + 'static,
    StandardErrorResponse<T>: oauth2::ErrorResponse,
{
    match err {
        RequestTokenError::ServerResponse(response) => ProviderError::refused(
            response.error().as_ref(),
            response.error_description().map(String::as_str),
        ),
        RequestTokenError::Request(err) => err,
        // GitHub answers errors with HTTP 200 and an `error` field, which the crate reads
        // as a token that does not parse. Anything else is not quoted: it may hold tokens.
        RequestTokenError::Parse(_, body) => {
            let doc: Option<Value> = serde_json::from_slice(&body).ok();
            let text = |key: &str| doc.as_ref()?.get(key)?.as_str();
            match text("error") {
                Some(code) => ProviderError::refused(code, text("error_description")),
                None => ProviderError::BadResponse(
                    "the token endpoint did not return OAuth2 JSON".into(),
                ),
            }
        }
        // Raised for a non-JSON Content-Type or an empty body, whatever the status.
        RequestTokenError::Other(_) => ProviderError::BadResponse(
            "the token endpoint returned an empty or non-JSON answer".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::config::{ProviderKind, ProviderSettings};
    use crate::oauth::pkce::PkceKey;
    use crate::secret::AppSecret;

    #[test]
    fn the_authorize_url_carries_everything_the_provider_needs() {
        let config = ProviderSettings {
            provider: Some(ProviderKind::Google),
            ..Default::default()
        }
        .resolve("client-1", &SecretString::from("secret-value-42"))
        .expect("google");
        let key = PkceKey::derive(&AppSecret::parse(&"k".repeat(32)).expect("secret"));
        let state = "abc.user1";
        let url = authorize_url(
            &config,
            "http://mm.test/complete",
            state,
            key.challenge(state),
        )
        .expect("url");
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(query["response_type"], "code");
        assert_eq!(query["client_id"], "client-1");
        assert_eq!(query["redirect_uri"], "http://mm.test/complete");
        assert_eq!(query["state"], state);
        assert_eq!(query["code_challenge_method"], "S256");
        assert_eq!(query["code_challenge"], key.challenge(state).as_str());
        assert_eq!(query["access_type"], "offline");
        // Only what `info` reads: the profile, the e-mail and the calendar list.
        assert_eq!(
            query["scope"],
            "openid https://www.googleapis.com/auth/userinfo.profile https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/calendar.readonly"
        );
        assert!(
            !url.as_str().contains("secret-value-42"),
            "no client secret in the URL"
        );
    }

    #[test]
    fn a_refusal_is_escaped_in_messages_and_plain_on_pages() {
        let err = ProviderError::refused("access_denied", Some("[Retry](https://evil.example)"));
        assert_eq!(
            err.to_string(),
            "the provider refused: access\\_denied (\\[Retry\\]\\(https:\u{200B}//evil\\.example\\))"
        );
        assert_eq!(
            err.plain(),
            "the provider refused: access_denied ([Retry](https://evil.example))"
        );
    }

    #[test]
    fn expiry_arithmetic_on_provider_numbers_never_panics() {
        let now = Utc::now();
        let hour = expiry_after(now, Duration::from_secs(3600)).expect("an hour");
        assert_eq!((hour - now).num_seconds(), 3600);
        for absurd in [10u64.pow(15), u64::MAX] {
            let err = expiry_after(now, Duration::from_secs(absurd)).expect_err("absurd");
            assert!(err.to_string().contains("expires_in"), "{err}");
        }
    }

    #[test]
    fn identities_read_oidc_and_github_shapes() {
        let oidc = Identity::from_userinfo(&serde_json::json!({
            "sub": "123", "name": "Ada Lovelace", "email": "ada@example.com", "preferred_username": "ada"
        }));
        assert_eq!(oidc.describe(), "**Ada Lovelace** (ada, ada@example\\.com)");
        let github = Identity::from_userinfo(
            &serde_json::json!({"login": "octocat", "id": 583231, "name": null}),
        );
        assert_eq!(github.describe(), "**octocat**");
        assert_eq!(github.id.as_deref(), Some("583231"));
    }
}
