//! Secret strings (client secrets, tokens, codes) are [`SecretString`]s from the well-kept
//! `secrecy` crate: `Debug` prints `[REDACTED]`, there is no `Display` (so a secret cannot
//! slip into a `format!`, a log line or an `Authorization` header by accident), and the value
//! is read only with [`ExposeSecret::expose_secret`], where it leaves for its destination.
//!
//! `secrecy` reads secrets with serde but does not write them. The protocol sends some
//! back (the client secret to `/oauth2/app`, tokens to `/oauth2/user`), so a field that
//! must be written opts in with `#[serde(serialize_with = "...")]` and the helpers here:
//!
//! ```
//! use mattermost_apps::secret::{self, ExposeSecret, SecretString};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, Serialize, Deserialize)]
//! struct Token {
//!     #[serde(serialize_with = "secret::serialize")]
//!     access_token: SecretString,
//! }
//!
//! let token: Token = serde_json::from_str(r#"{"access_token":"t0k3n"}"#).unwrap();
//! assert!(!format!("{token:?}").contains("t0k3n"));
//! assert_eq!(token.access_token.expose_secret(), "t0k3n");
//! assert_eq!(serde_json::to_string(&token).unwrap(), r#"{"access_token":"t0k3n"}"#);
//! ```
//!
//! A secret cannot be formatted for display, so it cannot end up in a header or a message
//! by accident:
//!
//! ```compile_fail
//! use mattermost_apps::secret::SecretString;
//!
//! let token = SecretString::from("t0k3n");
//! let header = format!("Bearer {token}"); // error: SecretString is not Display
//! ```

use std::fmt;

use serde::Serializer;
use serde_json::{Map, Value};

pub use secrecy::{ExposeSecret, SecretString};

/// Writes a secret as a plain JSON string; for `#[serde(serialize_with = "...")]`.
pub fn serialize<S: Serializer>(secret: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

/// Writes an optional secret as a plain JSON string or `null`; for
/// `#[serde(serialize_with = "...")]` on an `Option<SecretString>`.
pub fn serialize_option<S: Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => serializer.serialize_some(secret.expose_secret()),
        None => serializer.serialize_none(),
    }
}

/// True when the secret is the empty string; for `#[serde(skip_serializing_if = "...")]`.
pub fn is_empty(secret: &SecretString) -> bool {
    secret.expose_secret().is_empty()
}

/// Stands in for a value that may hold a secret in a `Debug` output.
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// A JSON object in a `Debug` output: its keys, every value redacted.
pub(crate) struct KeysOnly<'a>(pub(crate) &'a Map<String, Value>);

impl fmt::Debug for KeysOnly<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|key| (key, Redacted)))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Holder {
        #[serde(serialize_with = "serialize")]
        plain: SecretString,
        #[serde(default, serialize_with = "serialize_option")]
        optional: Option<SecretString>,
    }

    #[test]
    fn secrets_round_trip_through_serde_and_stay_out_of_debug() {
        let text = r#"{"plain":"hunter2-very-secret","optional":"other-secret"}"#;
        let holder: Holder = serde_json::from_str(text).expect("parse");
        assert_eq!(serde_json::to_string(&holder).expect("write"), text);
        let debug = format!("{:?} {:?}", holder.plain, holder.optional);
        assert!(
            !debug.contains("hunter2") && !debug.contains("other-secret"),
            "{debug}"
        );
        assert!(is_empty(&SecretString::default()));
        assert!(!is_empty(&holder.plain));
    }
}
