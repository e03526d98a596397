//! The client itself: its errors, its limits and the requests every call is made of
//! (sent as JSON with a size cap, answers read up to a cap).

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::context::Context;
use crate::secret::{ExposeSecret, SecretString};

/// Path of the Apps REST API under the Mattermost site URL.
pub const API_PATH: &str = "/plugins/com.mattermost.apps/api/v1";

/// Path of Mattermost's own REST API under the site URL.
pub const V4_PATH: &str = "/api/v4";

/// The plugin refuses KV values and OAuth2 bodies larger than this (bytes).
pub const MAX_BODY: usize = 8192;

/// The most the client reads of an answer: a stored value is at most [`MAX_BODY`], an
/// error a line; anything longer is refused unread.
pub const MAX_ANSWER: usize = 64 * 1024;

/// Why a REST call failed. No variant carries a token or a body the app sent.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The call's context has no token for the identity asked for; nothing was sent.
    #[error("the call's context has no {0}: the manifest must request act_as_bot (bot) or act_as_user (user), and the call expand acting_user_access_token")]
    NoToken(&'static str),
    /// A KV prefix or key the plugin cannot address; nothing was sent.
    #[error("bad KV key: {0}")]
    BadKey(&'static str),
    /// The body is over the plugin's limit ([`MAX_BODY`]); nothing was sent.
    #[error("the value is {0} bytes, over the plugin's limit of {MAX_BODY}")]
    TooLarge(usize),
    /// The value could not be encoded or the answer decoded.
    #[error("bad JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Connection failure or timeout.
    #[error("Mattermost could not be reached: {0}")]
    Transport(String),
    /// The answer is over [`MAX_ANSWER`]; the rest was not read.
    #[error("Mattermost's answer is larger than {} KiB", MAX_ANSWER / 1024)]
    AnswerTooLarge,
    /// Mattermost answered with an error status; `message` is its error text (the
    /// `message` of a v4 error object, else the trimmed body).
    #[error("Mattermost answered {status}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// Mattermost's error text, at most 300 characters.
        message: String,
    },
}

impl From<reqwest::Error> for ClientError {
    fn from(err: reqwest::Error) -> Self {
        let kind = if err.is_timeout() {
            "timed out"
        } else {
            "connection failed"
        };
        ClientError::Transport(kind.to_owned())
    }
}

/// Mattermost and its Apps plugin, as the user (or bot) whose token it holds. `Debug`
/// shows the URL and redacts the token.
///
/// ```no_run
/// use mattermost_apps::{reqwest, AppsClient, CallError, CallRequest, CallResponse};
///
/// async fn remember(http: reqwest::Client, call: CallRequest) -> Result<CallResponse, CallError> {
///     // The call's expand asked for `acting_user_access_token: all`.
///     let me = AppsClient::as_acting_user(http, &call.context)?;
///     let text = call.value_str("text").unwrap_or_default();
///     me.kv_set("", "note", text).await?;
///     Ok(CallResponse::ok("Noted."))
/// }
/// ```
#[derive(Clone, Debug)]
pub struct AppsClient {
    http: reqwest::Client,
    site: String,
    token: SecretString,
}

impl AppsClient {
    /// A client for `site_url` (trailing `/` ignored) acting with `token`. `http` is a
    /// handle to a pooled client: pass a clone of the one the app keeps.
    ///
    /// ```
    /// use mattermost_apps::secret::SecretString;
    /// use mattermost_apps::{reqwest, AppsClient};
    ///
    /// let http = reqwest::Client::new();
    /// let client = AppsClient::new(http, "https://chat.example.com/", SecretString::from("t0k3n"));
    /// assert!(!format!("{client:?}").contains("t0k3n"));
    /// ```
    pub fn new(http: reqwest::Client, site_url: &str, token: SecretString) -> Self {
        Self {
            http,
            site: site_url.trim_end_matches('/').to_owned(),
            token,
        }
    }

    /// A client acting as the app's bot, with the context's `bot_access_token` (sent with
    /// every call when the manifest requests `act_as_bot`) and `mattermost_site_url`.
    ///
    /// ```
    /// use mattermost_apps::client::ClientError;
    /// use mattermost_apps::{reqwest, AppsClient, Context};
    ///
    /// let ctx: Context = serde_json::from_str(
    ///     r#"{"mattermost_site_url": "https://chat.example.com", "bot_access_token": "b0t"}"#,
    /// )?;
    /// assert!(AppsClient::as_bot(reqwest::Client::new(), &ctx).is_ok());
    /// let ping = Context::default();
    /// assert!(matches!(
    ///     AppsClient::as_bot(reqwest::Client::new(), &ping),
    ///     Err(ClientError::NoToken("bot_access_token"))
    /// ));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn as_bot(http: reqwest::Client, context: &Context) -> Result<Self, ClientError> {
        let token = context
            .bot_access_token
            .clone()
            .ok_or(ClientError::NoToken("bot_access_token"))?;
        Ok(Self::new(http, &context.mattermost_site_url, token))
    }

    /// A client acting as the user who made the call, with the context's
    /// `acting_user_access_token` (expand it at level `all`; needs `act_as_user`).
    ///
    /// ```
    /// use mattermost_apps::{reqwest, AppsClient, Context};
    ///
    /// let ctx: Context = serde_json::from_str(
    ///     r#"{"mattermost_site_url": "https://chat.example.com", "acting_user_access_token": "u5er"}"#,
    /// )?;
    /// assert!(AppsClient::as_acting_user(reqwest::Client::new(), &ctx).is_ok());
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn as_acting_user(http: reqwest::Client, context: &Context) -> Result<Self, ClientError> {
        let token = context
            .acting_user_access_token
            .clone()
            .ok_or(ClientError::NoToken("acting_user_access_token"))?;
        Ok(Self::new(http, &context.mattermost_site_url, token))
    }

    pub(super) fn apps(&self, path: &str) -> String {
        format!("{}{API_PATH}{path}", self.site)
    }

    pub(super) fn v4(&self, path: &str) -> String {
        format!("{}{V4_PATH}{path}", self.site)
    }

    /// Sends `value` as JSON (refused unsent over `limit` bytes); returns the answer.
    pub(super) async fn send<T: Serialize + ?Sized>(
        &self,
        method: reqwest::Method,
        url: &str,
        value: &T,
        limit: usize,
    ) -> Result<Vec<u8>, ClientError> {
        let body = serde_json::to_vec(value)?;
        if body.len() > limit {
            return Err(ClientError::TooLarge(body.len()));
        }
        let response = self
            .http
            .request(method, url)
            .bearer_auth(self.token.expose_secret())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await?;
        Ok(read_capped(check(response).await?, MAX_ANSWER).await?)
    }

    pub(super) async fn get(&self, url: &str) -> Result<Vec<u8>, ClientError> {
        let response = self
            .http
            .get(url)
            .bearer_auth(self.token.expose_secret())
            .send()
            .await?;
        Ok(read_capped(check(response).await?, MAX_ANSWER).await?)
    }

    pub(super) async fn delete(&self, url: &str) -> Result<(), ClientError> {
        let response = self
            .http
            .delete(url)
            .bearer_auth(self.token.expose_secret())
            .send()
            .await?;
        check(response).await.map(drop)
    }
}

async fn check(response: reqwest::Response) -> Result<reqwest::Response, ClientError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let message = match read_capped(response, MAX_ANSWER).await {
        Ok(body) => error_text(&body),
        Err(err) => ClientError::from(err).to_string(),
    };
    Err(ClientError::Status {
        status: status.as_u16(),
        message,
    })
}

/// Why [`read_capped`] returned no body.
#[derive(Debug)]
pub enum ReadError {
    /// The body is longer than the limit (by its `Content-Length`, or once the chunks read
    /// pass it); the rest was not read.
    TooLarge,
    /// The connection failed or timed out while the body was read.
    Transport(reqwest::Error),
}

/// Reads an answer's body, refusing one over `limit` bytes without reading the rest: at
/// once by its `Content-Length`, else chunk by chunk. For any answer an app reads whole
/// from a server it does not control (this client's, or an OAuth2 provider's); each caller
/// turns [`ReadError`] into its own error.
pub async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, ReadError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(ReadError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Transport)? {
        if body.len() + chunk.len() > limit {
            return Err(ReadError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

impl From<ReadError> for ClientError {
    fn from(err: ReadError) -> Self {
        match err {
            ReadError::TooLarge => ClientError::AnswerTooLarge,
            ReadError::Transport(err) => err.into(),
        }
    }
}

/// The `message` of a Mattermost v4 error object (`{"id", "message", "status_code"}`), or
/// the body as text (the plugin's errors are plain text); at most 300 characters.
fn error_text(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct AppError {
        message: String,
    }
    let text = match serde_json::from_slice::<AppError>(body) {
        Ok(error) => error.message,
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    text.trim().chars().take(300).collect()
}

/// Empty bodies, `{}` and `null` mean "nothing stored".
pub(super) fn decode_optional<T: DeserializeOwned>(bytes: &[u8]) -> Result<Option<T>, ClientError> {
    let trimmed = bytes.trim_ascii();
    if trimmed.is_empty() || trimmed == b"{}" || trimmed == b"null" {
        return Ok(None);
    }
    Ok(Some(serde_json::from_slice(trimmed)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_answers_mean_nothing_stored() {
        for body in [&b""[..], b"  ", b"{}", b"null"] {
            let value: Option<serde_json::Value> = decode_optional(body).expect("decode");
            assert!(value.is_none());
        }
        let value: Option<serde_json::Value> = decode_optional(b"{\"a\":1}").expect("decode");
        assert_eq!(value, Some(serde_json::json!({"a": 1})));
    }

    #[test]
    fn error_texts_are_mattermosts_message_or_the_body() {
        let v4 = br#"{"id":"api.context.permissions.app_error","message":"You do not have the appropriate permissions.","status_code":403}"#;
        assert_eq!(
            error_text(v4),
            "You do not have the appropriate permissions."
        );
        assert_eq!(
            error_text(b"not found: invalid input\n"),
            "not found: invalid input"
        );
        assert_eq!(error_text("é".repeat(400).as_bytes()).chars().count(), 300);
    }
}
