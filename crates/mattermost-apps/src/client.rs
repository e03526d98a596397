//! A client for the Apps plugin's REST API (`/plugins/com.mattermost.apps/api/v1`), used with
//! a session token from the call's context. It owns a handle to a shared, pooled
//! `reqwest::Client` (cloning either is cheap), so it can move into a spawned task.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::oauth2::OAuth2App;
use crate::secret::{ExposeSecret, SecretString};

/// Path of the Apps REST API under the Mattermost site URL.
pub const API_PATH: &str = "/plugins/com.mattermost.apps/api/v1";

/// The plugin refuses KV values and OAuth2 bodies larger than this (bytes).
pub const MAX_BODY: usize = 8192;

/// The most the client reads of an answer: a stored value is at most [`MAX_BODY`], an
/// error a line; anything longer is refused unread.
pub const MAX_ANSWER: usize = 64 * 1024;

/// Why a REST call failed. No variant carries a token or a body the app sent.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The body is over [`MAX_BODY`]; nothing was sent.
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
    /// Mattermost answered with an error status; `message` is its (trimmed) error text.
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

/// The Apps REST API, as the user (or bot) whose token it holds. `Debug` shows the URL and
/// redacts the token.
#[derive(Clone, Debug)]
pub struct AppsClient {
    http: reqwest::Client,
    base: String,
    token: SecretString,
}

impl AppsClient {
    /// A client for `site_url` (trailing `/` ignored) acting with `token`. `http` is a
    /// handle to a pooled client: pass a clone of the one the app keeps.
    pub fn new(http: reqwest::Client, site_url: &str, token: SecretString) -> Self {
        Self {
            http,
            base: format!("{}{API_PATH}", site_url.trim_end_matches('/')),
            token,
        }
    }

    /// Stores the remote OAuth2 client (needs a system admin's token). A whole replacement.
    pub async fn store_oauth2_app(&self, app: &OAuth2App) -> Result<(), ClientError> {
        self.post("/oauth2/app", app).await
    }

    /// Stores the acting user's remote token (any JSON; `null` clears it).
    pub async fn store_oauth2_user<T: Serialize + ?Sized>(
        &self,
        value: &T,
    ) -> Result<(), ClientError> {
        self.post("/oauth2/user", value).await
    }

    /// Reads the acting user's remote token; `None` when nothing (or `{}`/`null`) is stored.
    pub async fn get_oauth2_user<T: DeserializeOwned>(&self) -> Result<Option<T>, ClientError> {
        self.get_optional("/oauth2/user").await
    }

    /// Reads a KV value; `None` when the key is missing.
    pub async fn kv_get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, ClientError> {
        self.get_optional(&format!("/kv/{}", escape_segment(key)))
            .await
    }

    /// Sets a KV value.
    pub async fn kv_set<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
    ) -> Result<(), ClientError> {
        self.post(&format!("/kv/{}", escape_segment(key)), value)
            .await
    }

    /// Deletes a KV value.
    pub async fn kv_delete(&self, key: &str) -> Result<(), ClientError> {
        let url = format!("{}/kv/{}", self.base, escape_segment(key));
        let response = self
            .http
            .delete(url)
            .bearer_auth(self.token.expose_secret())
            .send()
            .await?;
        check(response).await.map(drop)
    }

    async fn post<T: Serialize + ?Sized>(&self, path: &str, value: &T) -> Result<(), ClientError> {
        let body = serde_json::to_vec(value)?;
        if body.len() > MAX_BODY {
            return Err(ClientError::TooLarge(body.len()));
        }
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(self.token.expose_secret())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await?;
        check(response).await.map(drop)
    }

    async fn get_optional<T: DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<Option<T>, ClientError> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(self.token.expose_secret())
            .send()
            .await?;
        let bytes = read_capped(check(response).await?).await?;
        decode_optional(&bytes)
    }
}

async fn check(response: reqwest::Response) -> Result<reqwest::Response, ClientError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let message: String = match read_capped(response).await {
        Ok(body) => String::from_utf8_lossy(&body)
            .trim()
            .chars()
            .take(300)
            .collect(),
        Err(err) => err.to_string(),
    };
    Err(ClientError::Status {
        status: status.as_u16(),
        message,
    })
}

/// The body, or [`ClientError::AnswerTooLarge`] once it passes [`MAX_ANSWER`].
async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, ClientError> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_ANSWER as u64)
    {
        return Err(ClientError::AnswerTooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_ANSWER {
            return Err(ClientError::AnswerTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Empty bodies, `{}` and `null` mean "nothing stored".
fn decode_optional<T: DeserializeOwned>(bytes: &[u8]) -> Result<Option<T>, ClientError> {
    let trimmed = bytes.trim_ascii();
    if trimmed.is_empty() || trimmed == b"{}" || trimmed == b"null" {
        return Ok(None);
    }
    Ok(Some(serde_json::from_slice(trimmed)?))
}

/// Percent-encodes a KV key so it stays one path segment.
fn escape_segment(key: &str) -> String {
    url::form_urlencoded::byte_serialize(key.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
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
    fn keys_stay_one_segment() {
        assert_eq!(escape_segment("a/b c"), "a%2Fb%20c");
    }
}
