//! Talking to the provider: the authorize URL, the code exchange, refresh, revocation and
//! userinfo. Every request goes through the one shared `reqwest::Client` (timeouts set,
//! redirects off). Errors carry the provider's error code and description, never a token,
//! a code or a response body.

use chrono::Utc;
use oauth2::basic::{BasicClient, BasicTokenResponse, BasicTokenType};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ErrorResponseType, HttpClientError, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RefreshToken, RequestTokenError, Scope, StandardErrorResponse, TokenResponse, TokenUrl,
};
use serde_json::Value;
use url::Url;

use super::provider::ProviderConfig;
use super::token::StoredToken;
use mattermost_apps::secret::{ExposeSecret, SecretString};

/// A client with the authorize and token endpoints set (the type parameters are the
/// auth, device, introspection, revocation and token endpoints).
type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// What went wrong at the provider. Clone, so one refresh's outcome can be shared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The provider answered with an OAuth2 error (`invalid_grant`, `access_denied`, …).
    #[error("the provider refused: {code}{}", .description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        /// The OAuth2 error code.
        code: String,
        /// The provider's description, trimmed to 300 characters.
        description: Option<String>,
    },
    /// The provider refused the access token (HTTP 401/403 at userinfo).
    #[error("the provider no longer accepts your token")]
    TokenRejected,
    /// No answer within the timeout.
    #[error("the provider did not answer in time")]
    Timeout,
    /// Connection failure.
    #[error("the provider could not be reached")]
    Unreachable,
    /// An answer that is not what OAuth2 says (HTTP 5xx, not JSON, …).
    #[error("the provider gave an unexpected answer: {0}")]
    BadResponse(String),
    /// The app's configuration cannot make this request (e.g. a bad redirect URL).
    #[error("{0}")]
    Config(String),
}

impl ProviderError {
    /// The provider's OAuth2 error, as quoted to the user: the code (at most 100
    /// characters) and the description (at most 300).
    pub fn refused(code: &str, description: Option<&str>) -> Self {
        ProviderError::Refused {
            code: code.chars().take(100).collect(),
            description: description.map(|d| d.chars().take(300).collect()),
        }
    }

    /// True for `invalid_grant`: the refresh token (or code) is dead; the user must reconnect.
    pub fn is_invalid_grant(&self) -> bool {
        matches!(self, ProviderError::Refused { code, .. } if code == "invalid_grant")
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

    /// One Markdown line, e.g. "**Ada Lovelace** (`ada`, ada@example.com)".
    pub fn describe(&self) -> String {
        let head = self
            .name
            .as_deref()
            .or(self.username.as_deref())
            .or(self.email.as_deref())
            .or(self.id.as_deref())
            .unwrap_or("an unnamed account");
        let mut details = Vec::new();
        if let Some(username) = self.username.as_deref().filter(|u| Some(*u) != Some(head)) {
            details.push(format!("`{username}`"));
        }
        if let Some(email) = self.email.as_deref().filter(|e| Some(*e) != Some(head)) {
            details.push(email.to_owned());
        }
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
    let response = client(config, Some(redirect))?
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .set_pkce_verifier(verifier)
        .request_async(http)
        .await
        .map_err(token_error)?;
    Ok(stored(&response, None))
}

/// Refreshes a token. The old refresh token is kept when the provider sends none.
pub async fn refresh(
    http: &reqwest::Client,
    config: &ProviderConfig,
    token: &StoredToken,
) -> Result<StoredToken, ProviderError> {
    let refresh_token = RefreshToken::new(token.refresh_token.expose_secret().to_owned());
    let response = client(config, None)?
        .exchange_refresh_token(&refresh_token)
        .request_async(http)
        .await
        .map_err(token_error)?;
    Ok(stored(&response, Some(&token.refresh_token)))
}

/// Revokes the token at the provider (RFC 7009): the refresh token, then the access token,
/// so neither can be used again. `Ok(false)` when the provider has no revocation endpoint.
///
/// Sent by hand rather than with the oauth2 crate, which refuses any non-https revocation
/// URL although `check_endpoint` accepts http for loopback providers (dev and tests).
pub async fn revoke(
    http: &reqwest::Client,
    config: &ProviderConfig,
    token: &StoredToken,
) -> Result<bool, ProviderError> {
    let Some(url) = &config.revoke_url else {
        return Ok(false);
    };
    let mut tokens = Vec::with_capacity(2);
    if !token.refresh_token.expose_secret().is_empty() {
        tokens.push((token.refresh_token.expose_secret(), "refresh_token"));
    }
    tokens.push((token.access_token.expose_secret(), "access_token"));
    // Client authentication as the oauth2 crate does it: HTTP Basic, form-encoded parts.
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    for (value, hint) in tokens {
        let response = http
            .post(url.clone())
            .basic_auth(
                encode(&config.client_id),
                Some(encode(config.client_secret.expose_secret())),
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&[("token", value), ("token_type_hint", hint)])
            .send()
            .await
            .map_err(|err| transport_error(&err))?;
        let status = response.status();
        if status.is_success() {
            continue;
        }
        let doc: Option<Value> = response.json().await.ok();
        let text = |key: &str| {
            doc.as_ref()
                .and_then(|d| d.get(key))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        return Err(match text("error") {
            Some(code) => ProviderError::refused(&code, text("error_description").as_deref()),
            None => ProviderError::BadResponse(format!(
                "HTTP {} from the revocation endpoint",
                status.as_u16()
            )),
        });
    }
    Ok(true)
}

/// Reads who the token belongs to.
pub async fn userinfo(
    http: &reqwest::Client,
    url: &Url,
    access_token: &SecretString,
) -> Result<Identity, ProviderError> {
    let response = http
        .get(url.clone())
        .bearer_auth(access_token.expose_secret())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|err| transport_error(&err))?;
    let status = response.status();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        return Err(ProviderError::TokenRejected);
    }
    if !status.is_success() {
        return Err(ProviderError::BadResponse(format!(
            "HTTP {} from userinfo",
            status.as_u16()
        )));
    }
    let doc: Value = response
        .json()
        .await
        .map_err(|_| ProviderError::BadResponse("userinfo is not JSON".into()))?;
    Ok(Identity::from_userinfo(&doc))
}

fn stored(response: &BasicTokenResponse, previous_refresh: Option<&SecretString>) -> StoredToken {
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
    StoredToken {
        access_token: SecretString::from(response.access_token().secret().clone()),
        token_type,
        refresh_token,
        expiry: response
            .expires_in()
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .map(|d| Utc::now() + d),
    }
}

fn transport_error(err: &reqwest::Error) -> ProviderError {
    if err.is_timeout() {
        ProviderError::Timeout
    } else {
        ProviderError::Unreachable
    }
}

fn token_error<T>(
    err: RequestTokenError<HttpClientError<reqwest::Error>, StandardErrorResponse<T>>,
) -> ProviderError
where
    T: ErrorResponseType + AsRef<str> + 'static,
    StandardErrorResponse<T>: oauth2::ErrorResponse,
{
    match err {
        RequestTokenError::ServerResponse(response) => ProviderError::refused(
            response.error().as_ref(),
            response.error_description().map(String::as_str),
        ),
        RequestTokenError::Request(HttpClientError::Reqwest(err)) => transport_error(&err),
        RequestTokenError::Request(_) => ProviderError::Unreachable,
        // The body may hold tokens: never quote it.
        RequestTokenError::Parse(_, _) => {
            ProviderError::BadResponse("the token endpoint did not return OAuth2 JSON".into())
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
    use crate::oauth::pkce::PkceKey;
    use crate::oauth::provider::{ProviderKind, ProviderSettings};
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
        assert!(query["scope"].contains("calendar"));
        assert!(
            !url.as_str().contains("secret-value-42"),
            "no client secret in the URL"
        );
    }

    #[test]
    fn identities_read_oidc_and_github_shapes() {
        let oidc = Identity::from_userinfo(&serde_json::json!({
            "sub": "123", "name": "Ada Lovelace", "email": "ada@example.com", "preferred_username": "ada"
        }));
        assert_eq!(oidc.describe(), "**Ada Lovelace** (`ada`, ada@example.com)");
        let github = Identity::from_userinfo(
            &serde_json::json!({"login": "octocat", "id": 583231, "name": null}),
        );
        assert_eq!(github.describe(), "**octocat**");
        assert_eq!(github.id.as_deref(), Some("583231"));
    }
}
