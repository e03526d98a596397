//! The one error type of call handlers. Its text is written for the person who typed the
//! command; it never carries a secret. It answers HTTP 200 with a `CallResponse` of type
//! `error`, as the protocol wants for everything that is not a transport problem.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::markdown;
use crate::names::COMMAND;
use crate::oauth::refresh::RefreshError;
use crate::oauth::user_token::ProviderCallError;
use crate::oauth::ProviderError;
use mattermost_apps::client::ClientError;
use mattermost_apps::CallResponse;

/// A call that could not be done, and why.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No provider has been configured yet.
    #[error(
        "No OAuth2 provider is configured yet. Ask a system admin to run `/{COMMAND} configure`."
    )]
    NotConfigured,
    /// The stored provider settings no longer pass the checks.
    #[error("The stored OAuth2 settings are no longer valid ({0}). Ask a system admin to run `/{COMMAND} configure` again.")]
    Misconfigured(String),
    /// The user has no stored token.
    #[error("You are not connected yet. Run `/{COMMAND} connect` first.")]
    NotConnected,
    /// Only system admins may do this.
    #[error("Only system admins can configure or check the OAuth2 provider.")]
    AdminOnly,
    /// The plugin did not send a context part this call needs (an install or expand
    /// problem the user cannot fix: the part is logged, the user is sent to an admin).
    #[error("Mattermost did not send what this command needs. Ask a system admin to check the app's installation.")]
    MissingContext(&'static str),
    /// Bad form or command input; `fields` are shown next to the form's fields.
    #[error("{message}")]
    Invalid {
        /// Summary.
        message: String,
        /// Per-field messages.
        fields: Vec<(&'static str, String)>,
    },
    /// The provider refused or failed.
    #[error("{context}: {source}")]
    Provider {
        /// What the app was doing.
        context: &'static str,
        /// What the provider did.
        source: ProviderError,
    },
    /// Mattermost's Apps REST API refused or failed (its words escaped).
    #[error("{context}: {}", markdown::escape(&.source.to_string(), 500))]
    Mattermost {
        /// What the app was doing.
        context: &'static str,
        /// What Mattermost said.
        source: ClientError,
    },
    /// A refresh failed at the provider or while storing its result (the old token stays).
    #[error("Could not refresh your token: {0}")]
    Refresh(RefreshError),
    /// A message for a plain-text page (the plugin's OAuth2 complete page), as it is.
    #[error("{0}")]
    Plain(String),
    /// The user's stored token does not open here (the key that sealed it is gone, or it
    /// was altered): it must be made again, at the connect URL (the plugin's, which starts
    /// the flow whether or not a token is stored).
    #[error("Your connection cannot be opened by this app any more (the key it was sealed with is gone, or it was altered), so it must be made again: {}", connect_again(.0))]
    Unopened(String),
    /// The user must connect again; the text says why.
    #[error("{0} Run `/{COMMAND} connect` to connect again.")]
    Reconnect(String),
}

/// A link to connect again, else the commands that do it.
fn connect_again(connect_url: &str) -> String {
    if connect_url.is_empty() {
        format!("run `/{COMMAND} disconnect`, then `/{COMMAND} connect`.")
    } else {
        format!("[connect your account]({connect_url}).")
    }
}

impl AppError {
    /// A provider failure while doing `context`.
    pub fn provider(context: &'static str) -> impl FnOnce(ProviderError) -> Self {
        move |source| AppError::Provider { context, source }
    }

    /// A Mattermost failure while doing `context`.
    pub fn mattermost(context: &'static str) -> impl FnOnce(ClientError) -> Self {
        move |source| AppError::Mattermost { context, source }
    }

    /// A refresh failure: a dead token asks to reconnect.
    pub fn refresh(err: RefreshError) -> Self {
        match err {
            RefreshError::Dead(why) => AppError::Reconnect(why),
            other => AppError::Refresh(other),
        }
    }

    /// A failed provider call as the user, while doing `context`.
    pub fn user_call(context: &'static str) -> impl FnOnce(ProviderCallError) -> Self {
        move |err| match err {
            ProviderCallError::Token(err) => AppError::refresh(err),
            ProviderCallError::Request(source) => AppError::Provider { context, source },
        }
    }

    /// The `CallResponse` this error answers with.
    pub fn to_response(&self) -> CallResponse {
        match self {
            AppError::Invalid { fields, .. } if !fields.is_empty() => CallResponse::field_errors(
                self.to_string(),
                fields
                    .iter()
                    .map(|(field, message)| (*field, message.clone())),
            ),
            _ => CallResponse::error(self.to_string()),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        StatusCode::OK
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::MissingContext(part) => log::warn!(
                "call failed: the context has no `{part}`: check the expand of the manifest and the bindings"
            ),
            _ => log::info!("call failed: {}", crate::logline::escape(&self.to_string())),
        }
        HttpResponse::Ok().json(self.to_response())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_mattermost_says_is_escaped() {
        let refused = AppError::mattermost("Could not save your token")(ClientError::Status {
            status: 400,
            message: "[Sign in again](https://phish.example)\u{2424}# Notice".into(),
        });
        assert_eq!(
            refused.to_string(),
            "Could not save your token: Mattermost answered 400:\u{200B} \\[\u{200B}Sign in again\\]\\(https:\u{200B}//phish\\.example\\)&#9252;\\#\u{200B} Notice"
        );
        let store = AppError::Refresh(RefreshError::Read("[a](https://b)".into())).to_string();
        assert!(!store.contains("]("), "{store}");
    }
}
