//! The Mattermost Apps Framework protocol, as typed Rust: reusable by any Rust app, with no
//! behaviour of this one. One file per protocol noun; JSON names exactly as upstream.

pub mod binding;
pub mod call;
pub mod client;
pub mod context;
pub mod expand;
pub mod extract;
pub mod form;
pub mod jwt;
pub mod manifest;
pub mod oauth2;
pub mod response;
pub mod secret;

pub use binding::Binding;
pub use call::{Call, CallRequest};
pub use client::AppsClient;
pub use context::{Context, OAuth2Context, User};
pub use expand::{Expand, ExpandLevel};
pub use form::{Field, FieldType, Form, SelectOption, TextSubtype};
pub use manifest::Manifest;
pub use oauth2::OAuth2App;
pub use response::{CallResponse, ResponseType};
