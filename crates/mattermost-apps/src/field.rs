//! `Field` and `SelectOption`: the inputs of a form or the flags of a command.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::call::Call;

/// Field types. The plugin knows the first seven; the webapp also lists the last three.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// A text input (see [`TextSubtype`]).
    #[default]
    Text,
    /// A select with `options`.
    StaticSelect,
    /// A select whose options come from the `lookup` call.
    DynamicSelect,
    /// A checkbox.
    Bool,
    /// A user picker.
    User,
    /// A channel picker.
    Channel,
    /// Read-only Markdown (`description` is the content).
    Markdown,
    /// Radio buttons (webapp only).
    Radio,
    /// A date (webapp only).
    Date,
    /// A date and time (webapp only).
    Datetime,
}

/// Text field subtypes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextSubtype {
    /// One line.
    Input,
    /// Several lines.
    Textarea,
    /// A number.
    Number,
    /// An e-mail address.
    Email,
    /// A phone number.
    Tel,
    /// A URL.
    Url,
    /// Hidden input.
    Password,
}

/// A form field. `name` is the key in `values`; `label` is the `--flag` in commands and
/// defaults to `name` with `_` turned into `-` (plugin) or to `name` (webapp), so set it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// Key in `values`; one word.
    pub name: String,
    /// The field type.
    #[serde(rename = "type", default)]
    pub field_type: FieldType,
    /// Must be filled before submit.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_required: bool,
    /// Shown but not editable.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub readonly: bool,
    /// Pre-filled value: a string, a bool, or a [`SelectOption`] for selects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// Help text under the field; the content of a Markdown field.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The `--flag` name in commands; one word, unique in the form.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    /// Autocomplete hint.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hint: String,
    /// Positional argument index (1..n, or -1 for last); 0 means a flag.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub position: i32,
    /// Human label in modals.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub modal_label: String,
    /// Selects: allow several values.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multiselect: bool,
    /// Selects: a change calls the form's `source`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refresh: bool,
    /// Options of a static select.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<SelectOption>,
    /// Lookup call of a dynamic select.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookup: Option<Call>,
    /// Text subtype.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtype: Option<TextSubtype>,
    /// Text: minimum length.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub min_length: i32,
    /// Text: maximum length.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max_length: i32,
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

/// An option of a select, and the shape of a select's value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectOption {
    /// Display text; defaults to `value`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    /// The value (always serialised).
    #[serde(default)]
    pub value: String,
    /// Icon of the option.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub icon_data: String,
}

impl SelectOption {
    /// An option with a label and a value.
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            value: value.into(),
            icon_data: String::new(),
        }
    }
}
