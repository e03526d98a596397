//! `CallRequest`: the body of every call the plugin sends to the app.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::context::Context;
use crate::expand::Expand;
use crate::field::SelectOption;
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

    /// A value as a bool: a JSON boolean (what a modal's checkbox and a command's flag send)
    /// or the strings `"true"` / `"false"`.
    pub fn value_bool(&self, name: &str) -> Option<bool> {
        match self.values.as_ref()?.get(name)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// The chosen option of a single select: a static or dynamic select sends
    /// `{"label", "value"}`, and so do user and channel pickers, whose `value` is the user's
    /// or channel's ID and `label` the username or channel display name. A plain string
    /// (a value the app pre-filled) counts as an option with that value and no label.
    /// Blank values count as absent.
    ///
    /// ```
    /// use mattermost_apps::CallRequest;
    ///
    /// let call: CallRequest = serde_json::from_str(
    ///     r#"{"path": "/assign", "values": {
    ///         "assignee": {"label": "alice", "value": "ufwsqsc5k3f8xbcypxgmcznxmc"},
    ///         "channel": {"label": "Town Square", "value": "4xp9fdt77pncbef59f4k1qe83o"}
    ///     }}"#,
    /// )?;
    /// let assignee = call.value_option("assignee").expect("chosen");
    /// assert_eq!((assignee.label.as_str(), assignee.value.as_str()), ("alice", "ufwsqsc5k3f8xbcypxgmcznxmc"));
    /// assert_eq!(call.value_str("channel"), Some("4xp9fdt77pncbef59f4k1qe83o"));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn value_option(&self, name: &str) -> Option<SelectOption> {
        option(self.values.as_ref()?.get(name)?)
    }

    /// The chosen options of a multiselect (`"multiselect": true` on a select, user or
    /// channel field), which sends a list of `{"label", "value"}`. A single option counts as
    /// a list of one; a missing value, `null` or an empty list is empty. Entries that are not
    /// options are skipped.
    ///
    /// ```
    /// use mattermost_apps::CallRequest;
    ///
    /// let call: CallRequest = serde_json::from_str(
    ///     r#"{"path": "/notify", "values": {"who": [
    ///         {"label": "alice", "value": "u1"}, {"label": "bob", "value": "u2"}
    ///     ]}}"#,
    /// )?;
    /// let ids: Vec<String> = call.value_options("who").into_iter().map(|o| o.value).collect();
    /// assert_eq!(ids, ["u1", "u2"]);
    /// assert!(call.value_options("nobody").is_empty());
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn value_options(&self, name: &str) -> Vec<SelectOption> {
        match self.values.as_ref().and_then(|values| values.get(name)) {
            Some(Value::Array(items)) => items.iter().filter_map(option).collect(),
            Some(single) => option(single).into_iter().collect(),
            None => Vec::new(),
        }
    }

    /// A value parsed from text, for text fields with `subtype: number` (the webapp sends
    /// what was typed, as a string) or any other `FromStr` type. `Ok(None)` when the field
    /// is blank or missing; a [`FieldError`] naming the field when the text does not parse,
    /// so a handler can answer it with `?`.
    ///
    /// ```
    /// use mattermost_apps::CallRequest;
    ///
    /// let call: CallRequest = serde_json::from_str(
    ///     r#"{"path": "/remind", "values": {"minutes": " 15 ", "count": "many"}}"#,
    /// )?;
    /// assert_eq!(call.value_parse::<u32>("minutes"), Ok(Some(15)));
    /// assert_eq!(call.value_parse::<u32>("missing"), Ok(None));
    /// let err = call.value_parse::<u32>("count").unwrap_err();
    /// assert_eq!(err.field, "count");
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn value_parse<T: FromStr>(&self, name: &str) -> Result<Option<T>, FieldError> {
        let text = match self.values.as_ref().and_then(|values| values.get(name)) {
            Some(Value::Number(n)) => n.to_string(),
            _ => match self.value_str(name) {
                Some(text) => text.to_owned(),
                None => return Ok(None),
            },
        };
        text.parse().map(Some).map_err(|_| FieldError {
            field: name.to_owned(),
            message: format!("`{text}` is not a valid value"),
        })
    }
}

/// One submitted value that is wrong. It converts into a [`CallResponse`](crate::CallResponse)
/// of type `error` that shows `message` next to the field in a modal, so `?` on it answers
/// the call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The field's `name`.
    pub field: String,
    /// What is wrong, for the user.
    pub message: String,
}

/// `{"label", "value"}` with a non-blank value, or a non-blank string as a value.
fn option(value: &Value) -> Option<SelectOption> {
    let option = match value {
        Value::String(s) => SelectOption::new("", s.as_str()),
        Value::Object(_) => serde_json::from_value(value.clone()).ok()?,
        _ => return None,
    };
    (!option.value.trim().is_empty()).then_some(option)
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

    /// The shapes the webapp sends, from a modal and from a typed command (mattermost/
    /// mattermost-webapp: components/apps_form/apps_form_field/apps_form_field.tsx and
    /// components/suggestion/command_provider/app_command_parser/app_command_parser.ts).
    #[test]
    fn every_field_type_the_webapp_sends_is_read() {
        let req: CallRequest = serde_json::from_value(json!({
            "path": "/x",
            "values": {
                "text": "hello",
                "number": "42",
                "json_number": 7,
                "flag": true,
                "static": {"label": "Red", "value": "red"},
                "dynamic_typed": {"label": "q-1", "value": "q-1"},
                "user": {"label": "alice", "value": "u1"},
                "channel": {"label": "Town Square", "value": "c1"},
                "multi": [{"label": "A", "value": "a"}, 3, {"label": "B", "value": "b"}],
                "empty_multi": [],
                "blank_option": {"label": "", "value": " "},
                "cleared": null
            }
        }))
        .expect("parse");
        assert_eq!(req.value_str("text"), Some("hello"));
        assert_eq!(req.value_parse::<i64>("number"), Ok(Some(42)));
        assert_eq!(req.value_parse::<u8>("json_number"), Ok(Some(7)));
        assert_eq!(req.value_bool("flag"), Some(true));
        assert_eq!(
            req.value_option("static"),
            Some(SelectOption::new("Red", "red"))
        );
        assert_eq!(req.value_str("dynamic_typed"), Some("q-1"));
        assert_eq!(req.value_option("user").map(|o| o.value), Some("u1".into()));
        assert_eq!(
            req.value_option("channel").map(|o| o.label),
            Some("Town Square".into())
        );
        assert_eq!(
            req.value_options("multi"),
            [SelectOption::new("A", "a"), SelectOption::new("B", "b")]
        );
        assert_eq!(req.value_options("static").len(), 1);
        assert!(req.value_options("empty_multi").is_empty());
        assert_eq!(req.value_option("blank_option"), None);
        assert_eq!(req.value_option("cleared"), None);
        assert!(req.value_options("cleared").is_empty());
        assert_eq!(
            req.value_option("text"),
            Some(SelectOption::new("", "hello"))
        );
        assert_eq!(
            req.value_parse::<i64>("text"),
            Err(FieldError {
                field: "text".into(),
                message: "`hello` is not a valid value".into()
            })
        );
    }
}
