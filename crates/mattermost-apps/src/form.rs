//! `Form`: a modal, or the arguments of a command.

use serde::{Deserialize, Deserializer, Serialize};

use crate::call::Call;
use crate::field::Field;

/// A form: a modal, or the arguments of a command. It needs a `submit` or a `source`.
/// On the wire a bare string means `{"source": {"path": "<string>"}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Form {
    /// Fetched when the form has no fields or a `refresh` field changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Call>,
    /// Modal title.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// Text above the fields (Markdown).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub header: String,
    /// Text below the fields.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub footer: String,
    /// Absolute URL or a static asset name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub icon: String,
    /// Called with the values when the form is submitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submit: Option<Call>,
    /// Name of a select field rendered as the submit buttons.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub submit_buttons: String,
    /// The fields, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
}

impl<'de> Deserialize<'de> for Form {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Full {
            #[serde(default)]
            source: Option<Call>,
            #[serde(default)]
            title: String,
            #[serde(default)]
            header: String,
            #[serde(default)]
            footer: String,
            #[serde(default)]
            icon: String,
            #[serde(default)]
            submit: Option<Call>,
            #[serde(default)]
            submit_buttons: String,
            #[serde(default)]
            fields: Vec<Field>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Source(String),
            Full(Box<Full>),
        }
        Ok(match Wire::deserialize(deserializer)? {
            Wire::Source(path) => Form {
                source: Some(Call {
                    path,
                    ..Call::default()
                }),
                ..Form::default()
            },
            Wire::Full(f) => Form {
                source: f.source,
                title: f.title,
                header: f.header,
                footer: f.footer,
                icon: f.icon,
                submit: f.submit,
                submit_buttons: f.submit_buttons,
                fields: f.fields,
            },
        })
    }
}
