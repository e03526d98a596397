//! The remote OAuth2 provider, in three layers, each using only the ones above it:
//!
//! The provider's data (no requests):
//! - [`preset`]: the providers known by name (endpoints, scopes, how they revoke);
//! - [`config`]: the settings stored in the plugin, what an issuer's document gave, and
//!   the resolved endpoints ([`ProviderConfig`]);
//! - [`token`]: the stored token's JSON shape (golang.org/x/oauth2's `Token`), sealed;
//! - [`client_secret`]: the client secret in the stored app, sealed;
//! - [`pkce`]: the PKCE verifier, derived from the OAuth2 state.
//!
//! The HTTP plumbing:
//! - [`error`]: [`ProviderError`], what a request to the provider can end in;
//! - [`http`]: the shared client's capped reads, transport errors, client authentication.
//!
//! The requests built on it:
//! - [`client`]: authorize URL, code exchange, refresh, revocation, userinfo;
//! - [`discovery`]: the endpoints found from an issuer (`configure --issuer`);
//! - [`reach`]: where a remote issuer may send the app (no loopback or private hosts);
//! - [`probe`]: the client credentials checked without a user (`status`);
//! - [`calendar`]: the Google Calendar list `info` shows;
//! - [`lock`]: the refresh lock per site and user (in-process, or Redis across replicas);
//! - [`parties`]: the provider and Mattermost as one user, as a refresh talks to them
//!   (sealed stores, opened reads, timed requests);
//! - [`unstored`]: tokens issued but not stored yet (kept, handed over, stored later);
//! - [`refresh`]: the refresh: under the lock, stored only over what it replaced, never
//!   dropped until stored, never stored after `disconnect` or `complete`;
//! - [`user_token`]: the acting user's token for a provider call: refreshed when due or
//!   rejected, stored back (sealed), cleared when dead; what any command calls.

pub mod calendar;
pub mod client;
pub mod client_secret;
pub mod config;
pub mod discovery;
pub mod error;
pub mod http;
pub mod lock;
pub mod parties;
pub mod pkce;
pub mod preset;
pub mod probe;
pub mod reach;
pub mod refresh;
pub mod token;
pub mod unstored;
pub mod user_token;

pub use client::Identity;
pub use config::{Discovered, ProviderConfig, ProviderSettings};
pub use error::ProviderError;
pub use parties::{AsUser, Provider};
pub use pkce::PkceKey;
pub use preset::ProviderKind;
pub use refresh::Refresher;
pub use token::StoredToken;
pub use user_token::UserToken;
