//! The HTTP plumbing every provider request shares: the one `reqwest::Client` (timeouts
//! set, redirects off, built in `AppState`), answers read up to [`MAX_ANSWER`] bytes,
//! transport failures as [`ProviderError`]s, the client's Basic authentication, a GET as
//! the user, and the adapter that gives the oauth2 crate this client.

use futures::future::{BoxFuture, FutureExt};
use oauth2::{AsyncHttpClient, HttpRequest, HttpResponse};
use serde_json::Value;
use url::Url;

use super::config::ProviderConfig;
use super::error::ProviderError;
use crate::markdown;
use mattermost_apps::client::ReadError;
use mattermost_apps::secret::{ExposeSecret, SecretString};

/// The most the app reads of a provider's answer. Token and userinfo answers are a few KiB
/// (an ID token with many claims stays well under this); anything longer is refused.
pub const MAX_ANSWER: usize = 64 * 1024;

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
pub(crate) struct CappedHttp<'a>(pub(crate) &'a reqwest::Client);

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
pub(crate) async fn read_capped(response: reqwest::Response) -> Result<Vec<u8>, ProviderError> {
    mattermost_apps::client::read_capped(response, MAX_ANSWER)
        .await
        .map_err(|err| match err {
            ReadError::TooLarge => ProviderError::BadResponse(format!(
                "the answer is larger than {} KiB",
                MAX_ANSWER / 1024
            )),
            ReadError::Transport(err) => transport_error(&err),
        })
}

pub(crate) fn transport_error(err: &reqwest::Error) -> ProviderError {
    if err.is_timeout() {
        ProviderError::Timeout
    } else {
        ProviderError::Unreachable
    }
}
