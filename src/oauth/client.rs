//! The requests to the provider: the authorize URL, the code exchange, refresh, revocation
//! and userinfo, built on the shared plumbing of [`super::http`] (the one client, capped
//! answers) and failing with [`ProviderError`].

use std::time::Duration;

use chrono::{DateTime, Datelike, Utc};
use oauth2::basic::{BasicClient, BasicTokenResponse, BasicTokenType};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ErrorResponseType, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken,
    RequestTokenError, Scope, StandardErrorResponse, TokenResponse, TokenUrl,
};
use serde_json::Value;
use url::Url;

use super::config::ProviderConfig;
use super::error::ProviderError;
use super::http::{client_post, get_as_user, read_capped, transport_error, CappedHttp};
use super::token::StoredToken;
use crate::markdown;
use crate::metrics::{self, ProviderRequest};
use mattermost_apps::secret::{ExposeSecret, SecretString};

/// A client with the authorize and token endpoints set (the type parameters are the
/// auth, device, introspection, revocation and token endpoints).
type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

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
    use crate::oauth::config::ProviderSettings;
    use crate::oauth::pkce::PkceKey;
    use crate::oauth::preset::ProviderKind;
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
