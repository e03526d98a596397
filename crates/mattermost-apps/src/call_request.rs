//! `CallRequest`: the body of every call the plugin sends to the app.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::context::Context;
use crate::expand::Expand;
use crate::secret::{KeysOnly, Redacted};

/// The body of every POST from the plugin to the app. `C` is the context type, so a hot path
/// can deserialise only the context parts it reads.
///
/// `Debug` shows the names of the `values` but not their content (a client secret, an
/// OAuth2 code), and hides `raw_command` (it holds the same values as typed).
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct CallRequest<C = Context> {
    /// The call's path, cleaned by the plugin.
    #[serde(default)]
    pub path: String,
    /// The call's expand, echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expand: Option<Expand>,
    /// The call's state, echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<Value>,
    /// Form or command values, or values the plugin injected (OAuth2 `state`, `code`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Map<String, Value>>,
    /// The context the plugin built for this call.
    #[serde(default)]
    pub context: C,
    /// The command line as typed, for calls made from a slash command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_command: Option<String>,
    /// The field that triggered a form refresh or lookup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected_field: Option<String>,
    /// Text typed so far, for lookups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

impl<C: fmt::Debug> fmt::Debug for CallRequest<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallRequest")
            .field("path", &self.path)
            .field("expand", &self.expand)
            .field("state", &self.state)
            .field("values", &self.values.as_ref().map(KeysOnly))
            .field("context", &self.context)
            .field("raw_command", &self.raw_command.as_ref().map(|_| Redacted))
            .field("selected_field", &self.selected_field)
            .field("query", &self.query)
            .finish()
    }
}

impl<C> CallRequest<C> {
    /// A value as a string, read leniently: a plain string, or the `value` of a select
    /// option object `{"label", "value"}`. Blank strings count as absent.
    ///
    /// ```
    /// use mattermost_apps::CallRequest;
    ///
    /// let call: CallRequest = serde_json::from_str(
    ///     r#"{"path": "/configure", "values": {
    ///         "provider": {"label": "GitHub", "value": "github"},
    ///         "client_id": " abc ",
    ///         "scopes": ""
    ///     }}"#,
    /// )?;
    /// assert_eq!(call.value_str("provider"), Some("github"));
    /// assert_eq!(call.value_str("client_id"), Some("abc"));
    /// assert_eq!(call.value_str("scopes"), None);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn value_str(&self, name: &str) -> Option<&str> {
        let value = match self.values.as_ref()?.get(name)? {
            Value::String(s) => s.as_str(),
            Value::Object(option) => option.get("value")?.as_str()?,
            _ => return None,
        };
        let value = value.trim();
        (!value.is_empty()).then_some(value)
    }

    /// A value as a bool: a JSON boolean or the strings `"true"` / `"false"`.
    pub fn value_bool(&self, name: &str) -> Option<bool> {
        match self.values.as_ref()?.get(name)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_read_leniently() {
        let req: CallRequest = serde_json::from_value(json!({
            "path": "/x",
            "values": {
                "plain": " google ",
                "option": {"label": "GitHub", "value": "github"},
                "blank": "  ",
                "flag": "true",
                "real_flag": false,
                "number": 3
            },
            "context": {}
        }))
        .expect("parse");
        assert_eq!(req.value_str("plain"), Some("google"));
        assert_eq!(req.value_str("option"), Some("github"));
        assert_eq!(req.value_str("blank"), None);
        assert_eq!(req.value_str("number"), None);
        assert_eq!(req.value_str("missing"), None);
        assert_eq!(req.value_bool("flag"), Some(true));
        assert_eq!(req.value_bool("real_flag"), Some(false));
    }
}
