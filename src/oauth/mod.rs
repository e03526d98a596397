//! The remote OAuth2 provider, one file per part:
//!
//! - [`config`]: which provider (presets, the settings stored in the plugin, the resolved
//!   endpoints); no requests;
//! - [`client`]: the requests to the provider (authorize URL, code exchange, refresh,
//!   revocation, userinfo) and its errors;
//! - [`user_token`]: the acting user's token for a provider call: refreshed when due or
//!   rejected, stored back, cleared when dead; what any command calls;
//! - [`refresh`]: the refresh: under the lock, stored only over what it replaced, never
//!   dropped until stored, never stored after `disconnect` or `complete`;
//! - [`unstored`]: tokens issued but not stored yet (kept, handed over, stored later);
//! - [`lock`]: the refresh lock per site and user (in-process, or Redis across replicas);
//! - [`token`]: the stored token's JSON shape (golang.org/x/oauth2's `Token`);
//! - [`pkce`]: the PKCE verifier, derived from the OAuth2 state;
//! - [`discovery`]: the endpoints found from an issuer (`configure --issuer`);
//! - [`probe`]: the client credentials checked without a user (`status`);
//! - [`calendar`]: the Google Calendar list `info` shows.

pub mod calendar;
pub mod client;
pub mod config;
pub mod discovery;
pub mod lock;
pub mod pkce;
pub mod probe;
pub mod refresh;
pub mod token;
pub mod unstored;
pub mod user_token;

pub use client::{Identity, ProviderError};
pub use config::{ProviderConfig, ProviderKind, ProviderSettings};
pub use pkce::PkceKey;
pub use refresh::Refresher;
pub use token::StoredToken;
pub use user_token::{AsUser, Provider, UserToken};
