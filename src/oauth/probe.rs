//! Checking the client credentials without a user: the token endpoint is sent a made-up
//! authorization code, authenticated as a real exchange is. A provider checks the client
//! before the code, so `invalid_grant` (the code is unknown) proves the credentials are
//! accepted, and `invalid_client` or HTTP 401 says they are not.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::{SecureRandom, SystemRandom};
use serde::Deserialize;

use super::config::ProviderConfig;
use super::error::ProviderError;
use super::http::{client_post, read_capped, transport_error};
use crate::metrics::{self, ProviderRequest};

/// What the token endpoint made of the made-up code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It refused the code, not the client: the credentials are accepted.
    Accepted,
    /// It refused the client (`invalid_client`, or HTTP 401); Markdown-safe text.
    WrongCredentials(String),
    /// Anything else: an unexpected error code or status, quoted; Markdown-safe text.
    Unexpected(String),
}

/// The members of an OAuth2 error answer.
#[derive(Deserialize)]
struct ErrorAnswer {
    error: Option<String>,
    error_description: Option<String>,
}

/// Sends the made-up code to the token endpoint and judges the answer. `redirect` is the
/// complete URL, as a real exchange sends it.
pub async fn probe_token_endpoint(
    http: &reqwest::Client,
    config: &ProviderConfig,
    redirect: &str,
) -> Result<Verdict, ProviderError> {
    metrics::provider(ProviderRequest::StatusProbe, probe(http, config, redirect)).await
}

async fn probe(
    http: &reqwest::Client,
    config: &ProviderConfig,
    redirect: &str,
) -> Result<Verdict, ProviderError> {
    let code = format!("status-check-{}", random()?);
    let verifier = random()?;
    let response = client_post(http, config.token_url.clone(), config)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .map_err(|err| transport_error(&err))?;
    let status = response.status().as_u16();
    let body = read_capped(response).await?;
    let answer = serde_json::from_slice::<ErrorAnswer>(&body).ok();
    let (error, description) = match answer {
        Some(ErrorAnswer {
            error: Some(error),
            error_description,
        }) => (error, error_description),
        _ => (String::new(), None),
    };
    Ok(judge(status, &error, description.as_deref()))
}

/// The verdict for an answer's status and OAuth2 error. GitHub answers with HTTP 200 and
/// its own codes (`bad_verification_code`, `incorrect_client_credentials`).
fn judge(status: u16, error: &str, description: Option<&str>) -> Verdict {
    let quoted = || ProviderError::refused(error, description).to_string();
    match error {
        "invalid_grant" | "bad_verification_code" => Verdict::Accepted,
        "invalid_client" | "incorrect_client_credentials" => Verdict::WrongCredentials(quoted()),
        "" if status == 401 => Verdict::WrongCredentials("HTTP 401".into()),
        "" if (200..300).contains(&status) => {
            Verdict::Unexpected(format!("HTTP {status} for a made-up code"))
        }
        "" => Verdict::Unexpected(format!("HTTP {status}")),
        _ => Verdict::Unexpected(quoted()),
    }
}

/// 32 random bytes, base64url.
fn random() -> Result<String, ProviderError> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ProviderError::Config("no randomness available".into()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_to_a_made_up_code_tells_good_credentials_from_bad() {
        assert_eq!(judge(400, "invalid_grant", None), Verdict::Accepted);
        assert_eq!(judge(200, "bad_verification_code", None), Verdict::Accepted);
        assert!(matches!(
            judge(401, "invalid_client", Some("client authentication failed")),
            Verdict::WrongCredentials(text) if text.contains("invalid\\_client (client authentication failed)")
        ));
        assert!(matches!(
            judge(200, "incorrect_client_credentials", None),
            Verdict::WrongCredentials(_)
        ));
        assert!(
            matches!(judge(401, "", None), Verdict::WrongCredentials(text) if text == "HTTP 401")
        );
        assert!(matches!(judge(500, "", None), Verdict::Unexpected(text) if text == "HTTP 500"));
        assert!(matches!(judge(200, "", None), Verdict::Unexpected(_)));
        assert!(
            matches!(judge(400, "unauthorized_client", None), Verdict::Unexpected(text) if text.contains("unauthorized\\_client"))
        );
    }
}
