//! `CallResponse`: what the app answers to every call.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::call::Call;
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

    /// Sets `refresh_bindings`.
    pub fn refreshing_bindings(mut self) -> Self {
        self.refresh_bindings = true;
        self
    }
}
