//! The remote OAuth2 provider: presets and stored settings, PKCE, the token shape, the
//! provider's endpoints, refreshing once per user, and calling the provider as the user.

pub mod calendar;
pub mod discovery;
pub mod pkce;
pub mod probe;
pub mod provider;
pub mod refresh;
pub mod remote;
pub mod token;
pub mod user_token;

pub use pkce::PkceKey;
pub use provider::{ProviderConfig, ProviderKind, ProviderSettings};
pub use refresh::Refresher;
pub use remote::{Identity, ProviderError};
pub use token::StoredToken;
pub use user_token::UserToken;
