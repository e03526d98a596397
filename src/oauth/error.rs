//! What can go wrong at the provider, as the user is told it: the OAuth2 error code and
//! description (capped, Markdown-escaped), or what failed in the transport; never a token,
//! a code or a body. Every request module returns it; a refresh shares one (it is `Clone`).

use super::lock::LockError;
use crate::markdown;
use crate::metrics::{Classify, Outcome};

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

/// How a provider request ended, as its metric's outcome label.
impl<T> Classify for Result<T, ProviderError> {
    fn class(&self) -> Outcome {
        match self {
            Ok(_) => Outcome::Ok,
            Err(ProviderError::Refused(_)) => Outcome::Refused,
            Err(ProviderError::TokenRejected) => Outcome::TokenRejected,
            Err(ProviderError::Forbidden(_)) => Outcome::Forbidden,
            Err(ProviderError::Timeout) => Outcome::Timeout,
            Err(ProviderError::Unreachable) => Outcome::Unreachable,
            Err(ProviderError::BadResponse(_)) => Outcome::BadAnswer,
            Err(ProviderError::Config(_)) => Outcome::NotSent,
        }
    }
}

/// Why a refresh did not produce a usable token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefreshError {
    /// The token cannot be refreshed any more; the user must connect again. The text says
    /// why, as a sentence.
    #[error("{0}")]
    Dead(String),
    /// The provider refused or failed (the stored token stays).
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// The stored token could not be read from Mattermost (nothing was refreshed).
    #[error("your token could not be read from Mattermost: {}", crate::markdown::escape(.0, 300))]
    Read(String),
    /// The refresh lock could not be had (nothing was refreshed; the grant is intact).
    #[error("this app can't renew your connection right now ({0}). Try again shortly")]
    Lock(LockError),
    /// The user disconnected or connected again while this refresh ran.
    #[error("your connection changed while it was being renewed. Try again")]
    Superseded,
    /// The refresh task stopped without an answer.
    #[error("the refresh stopped unexpectedly")]
    Stopped,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_escaped_in_messages_and_plain_on_pages() {
        let err = ProviderError::refused("access_denied", Some("[Retry](https://evil.example)"));
        assert_eq!(
            err.to_string(),
            "the provider refused: access\\_denied (\\[\u{200B}Retry\\]\\(https:\u{200B}//evil\\.example\\))"
        );
        assert_eq!(
            err.plain(),
            "the provider refused: access_denied ([Retry](https://evil.example))"
        );
    }
}
