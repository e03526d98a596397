#![warn(missing_docs)]
// The README's example app needs the `actix` feature.
#![cfg_attr(feature = "actix", doc = include_str!("../README.md"))]
#![cfg_attr(
    not(feature = "actix"),
    doc = "The Mattermost Apps Framework protocol as typed Rust (see the README)."
)]
//!
//! ## Modules
//!
//! One module per protocol noun; the main types are re-exported at the top.

pub mod binding;
pub mod call;
pub mod call_request;
pub mod call_response;
pub mod command;
pub mod context;
pub mod expand;
pub mod field;
pub mod form;
pub mod jwt;
pub mod manifest;
pub mod model;
pub mod oauth2;
pub mod secret;

#[cfg(feature = "actix")]
pub mod actix;
#[cfg(feature = "client")]
pub mod client;

#[cfg(feature = "actix")]
pub use actix::Verified;
/// The web framework [`Verified`] extracts from, re-exported so an app serves its calls
/// with the same version.
#[cfg(feature = "actix")]
pub use actix_web;
pub use binding::Binding;
pub use call::Call;
pub use call_request::{CallRequest, FieldError};
pub use call_response::{CallError, CallResponse, ResponseType};
#[cfg(feature = "client")]
pub use client::AppsClient;
pub use command::Command;
pub use context::{Context, OAuth2Context, User};
pub use expand::{Expand, ExpandLevel};
pub use field::{Field, FieldType, SelectOption, TextSubtype};
pub use form::Form;
pub use jwt::{Claims, JwtVerifier};
pub use manifest::Manifest;
pub use model::{Channel, Post, Team};
pub use oauth2::OAuth2App;
/// The HTTP client [`AppsClient`] runs on, re-exported so an app builds its
/// `reqwest::Client` from the same version (two `reqwest`s in one build do not mix).
#[cfg(feature = "client")]
pub use reqwest;
