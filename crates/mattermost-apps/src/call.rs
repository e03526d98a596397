//! `Call`: what to invoke, with what expanded.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::expand::Expand;

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
}
