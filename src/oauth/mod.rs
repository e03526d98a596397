//! The remote OAuth2 provider: presets and stored settings, PKCE, the token shape, the
//! provider's endpoints, and refreshing once per user.

pub mod calendar;
pub mod discovery;
pub mod pkce;
pub mod probe;
pub mod provider;
pub mod refresh;
pub mod remote;
pub mod token;

pub use pkce::PkceKey;
pub use provider::{ProviderConfig, ProviderKind, ProviderSettings};
pub use refresh::Refresher;
pub use remote::{Identity, ProviderError};
pub use token::StoredToken;
