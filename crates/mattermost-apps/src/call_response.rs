//! `CallResponse`: what the app answers to every call.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::call::Call;
use crate::call_request::FieldError;
use crate::field::SelectOption;
use crate::form::Form;

/// The kind of response. An empty or missing type means `ok`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseType {
    /// Success: `text` and/or `data`.
    #[default]
    #[serde(alias = "")]
    Ok,
    /// Failure: `text`, and optional per-field errors in `data.errors`.
    Error,
    /// Open `form` as a modal.
    Form,
    /// Continue with `call` (not implemented by clients).
    Call,
    /// Open `navigate_to_url`.
    Navigate,
}

/// A response to a call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallResponse {
    /// Always serialised, like Go does.
    #[serde(rename = "type", default)]
    pub response_type: ResponseType,
    /// Markdown shown to the user (`ok`, `error`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// Payload: bindings, lookup items, the OAuth2 connect URL, or field errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// Ask the acting user's clients to refetch bindings.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refresh_bindings: bool,
    /// `navigate`: where to go.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub navigate_to_url: String,
    /// `navigate`: open outside the Mattermost client.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub use_external_browser: bool,
    /// `call`: the next call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<Call>,
    /// `form`: the form to open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<Form>,
}

impl CallResponse {
    /// `ok` with Markdown text.
    pub fn ok(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }

    /// `ok` with a data payload.
    pub fn data(data: Value) -> Self {
        Self {
            data: Some(data),
            ..Self::default()
        }
    }

    /// `error` with Markdown text.
    pub fn error(text: impl Into<String>) -> Self {
        Self {
            response_type: ResponseType::Error,
            text: text.into(),
            ..Self::default()
        }
    }

    /// `error` with per-field messages, shown next to the fields of a modal.
    ///
    /// ```
    /// use mattermost_apps::CallResponse;
    ///
    /// let response = CallResponse::field_errors(
    ///     "Check the highlighted fields.",
    ///     [("client_id", "required".to_owned())],
    /// );
    /// assert_eq!(
    ///     serde_json::to_value(&response)?,
    ///     serde_json::json!({
    ///         "type": "error",
    ///         "text": "Check the highlighted fields.",
    ///         "data": {"errors": {"client_id": "required"}}
    ///     })
    /// );
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn field_errors<'a>(
        text: impl Into<String>,
        errors: impl IntoIterator<Item = (&'a str, String)>,
    ) -> Self {
        let errors: Map<String, Value> = errors
            .into_iter()
            .map(|(field, message)| (field.to_owned(), Value::String(message)))
            .collect();
        let mut data = Map::new();
        data.insert("errors".into(), Value::Object(errors));
        Self {
            data: Some(Value::Object(data)),
            ..Self::error(text)
        }
    }

    /// `form`: opens a modal.
    pub fn form(form: Form) -> Self {
        Self {
            response_type: ResponseType::Form,
            form: Some(form),
            ..Self::default()
        }
    }

    /// `navigate`: the client opens `url`, a Mattermost link in the app and any other URL in
    /// a new tab.
    ///
    /// ```
    /// use mattermost_apps::CallResponse;
    ///
    /// let response = CallResponse::navigate("https://example.com/report").in_external_browser();
    /// assert_eq!(
    ///     serde_json::to_value(&response)?,
    ///     serde_json::json!({
    ///         "type": "navigate",
    ///         "navigate_to_url": "https://example.com/report",
    ///         "use_external_browser": true
    ///     })
    /// );
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn navigate(url: impl Into<String>) -> Self {
        Self {
            response_type: ResponseType::Navigate,
            navigate_to_url: url.into(),
            ..Self::default()
        }
    }

    /// Sets `use_external_browser`: a `navigate` opens outside the Mattermost client.
    pub fn in_external_browser(mut self) -> Self {
        self.use_external_browser = true;
        self
    }

    /// The answer to a dynamic select's `lookup` call: `ok` with `data.items`, the options
    /// matching `query` (the webapp shows them as they are; filtering is the app's).
    ///
    /// ```
    /// use mattermost_apps::{CallResponse, SelectOption};
    ///
    /// let response = CallResponse::lookup(vec![SelectOption::new("Support", "q-1")]);
    /// assert_eq!(
    ///     serde_json::to_value(&response)?,
    ///     serde_json::json!({
    ///         "type": "ok",
    ///         "data": {"items": [{"label": "Support", "value": "q-1"}]}
    ///     })
    /// );
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn lookup(items: Vec<SelectOption>) -> Self {
        Self::data(serde_json::json!({ "items": items }))
    }

    /// Sets `refresh_bindings`.
    pub fn refreshing_bindings(mut self) -> Self {
        self.refresh_bindings = true;
        self
    }
}

/// A call that ends early with a response other than the happy one, usually an `error`.
/// It is what handlers return as their error, so `?` works on the crate's errors (a REST
/// call's `ClientError` with the `client` feature, a bad value's [`FieldError`]) and
/// on any `CallResponse` (`Err(CallResponse::form(..))?`). It boxes the response so a
/// `Result` stays two words wide (clippy's `result_large_err`: a `CallResponse` is some
/// 450 bytes). With the `actix` feature it answers HTTP 200 with the response as JSON,
/// as the protocol wants.
///
/// ```
/// use mattermost_apps::{CallError, CallRequest, CallResponse};
///
/// fn remind(call: &CallRequest) -> Result<CallResponse, CallError> {
///     let Some(minutes) = call.value_parse::<u32>("minutes")? else {
///         return Err(CallResponse::error("How many minutes?").into());
///     };
///     Ok(CallResponse::ok(format!("In {minutes} minutes.")))
/// }
///
/// let call: CallRequest = serde_json::from_str(r#"{"values": {"minutes": "soon"}}"#)?;
/// let answer = CallResponse::from(remind(&call).unwrap_err());
/// assert_eq!(answer.text, "minutes: `soon` is not a valid value");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CallError(Box<CallResponse>);

impl CallError {
    /// The response this error answers with.
    pub fn response(&self) -> &CallResponse {
        &self.0
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.text)
    }
}

impl std::error::Error for CallError {}

impl From<CallResponse> for CallError {
    fn from(response: CallResponse) -> Self {
        CallError(Box::new(response))
    }
}

impl From<CallError> for CallResponse {
    fn from(err: CallError) -> Self {
        *err.0
    }
}

impl From<FieldError> for CallError {
    fn from(err: FieldError) -> Self {
        let text = err.to_string();
        CallResponse::field_errors(text, [(err.field.as_str(), err.message)]).into()
    }
}

#[cfg(feature = "client")]
impl From<crate::client::ClientError> for CallError {
    fn from(err: crate::client::ClientError) -> Self {
        CallResponse::error(err.to_string()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// clippy's `result_large_err` warns from 128 bytes; the error stays one pointer.
    #[test]
    fn a_call_error_is_one_pointer_wide() {
        assert!(std::mem::size_of::<CallResponse>() > 128);
        assert_eq!(
            std::mem::size_of::<CallError>(),
            std::mem::size_of::<usize>()
        );
    }
}
