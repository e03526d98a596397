//! Bodies of the Apps REST API's remote OAuth2 endpoints.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::secret::{self, SecretString};

/// The remote OAuth2 client, stored with `POST /oauth2/app` (a whole replacement: omitted
/// keys are cleared) and returned in `context.oauth2` when `oauth2_app` is expanded.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OAuth2App {
    /// Base URL of the provider (informational; shown by `/apps list`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remote_root_url: String,
    /// The client ID issued by the provider.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub client_id: String,
    /// The client secret issued by the provider.
    #[serde(
        default,
        serialize_with = "secret::serialize",
        skip_serializing_if = "secret::is_empty"
    )]
    pub client_secret: SecretString,
    /// Free-form data the app keeps with the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}
