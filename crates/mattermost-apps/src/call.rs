//! `Call` (what to invoke) and `CallRequest` (what the app receives).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::context::Context;
use super::expand::Expand;

/// A call: the app path to POST to, what to expand, and opaque state passed back as is.
/// On the wire a bare string is also accepted and means `{"path": "<string>"}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Call {
    /// Path relative to the app's root URL, starting with `/`.
    pub path: String,
    /// Context parts to expand; absent expands nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expand: Option<Expand>,
    /// Opaque state echoed back in the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<Value>,
}

impl Call {
    /// A call to `path` with the given expand.
    pub fn new(path: impl Into<String>, expand: Expand) -> Self {
        Self {
            path: path.into(),
            expand: Some(expand),
            state: None,
        }
    }
}

impl<'de> Deserialize<'de> for Call {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Full {
            #[serde(default)]
            path: String,
            #[serde(default)]
            expand: Option<Expand>,
            #[serde(default)]
            state: Option<Value>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Path(String),
            Full(Full),
        }
        Ok(match Wire::deserialize(deserializer)? {
            Wire::Path(path) => Call {
                path,
                ..Call::default()
            },
            Wire::Full(f) => Call {
                path: f.path,
                expand: f.expand,
                state: f.state,
            },
        })
    }
}

/// The body of every POST from the plugin to the app. `C` is the context type, so a hot path
/// can deserialise only the context parts it reads.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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

impl<C> CallRequest<C> {
    /// The same request with its context converted by `f`.
    pub fn map_context<D>(self, f: impl FnOnce(C) -> D) -> CallRequest<D> {
        CallRequest {
            path: self.path,
            expand: self.expand,
            state: self.state,
            values: self.values,
            context: f(self.context),
            raw_command: self.raw_command,
            selected_field: self.selected_field,
            query: self.query,
        }
    }

    /// A value as a string, read leniently: a plain string, or the `value` of a select
    /// option object `{"label", "value"}`. Blank strings count as absent.
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
    fn a_bare_string_is_a_path() {
        let call: Call = serde_json::from_value(json!("/bindings")).expect("string form");
        assert_eq!(call.path, "/bindings");
        assert!(call.expand.is_none());
    }

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
