//! The two parties a refresh talks to: the provider ([`Provider`]: refresh, discard) and
//! Mattermost as one user ([`AsUser`]: read the stored token opened, store it sealed,
//! clear it). Everything the refresh does with them goes through these, so sealing and
//! metrics live in one place.

use super::client;
use super::config::ProviderConfig;
use super::error::{ProviderError, RefreshError};
use super::lock::UserKey;
use super::token::StoredToken;
use crate::logline;
use crate::metrics::{self, MattermostRequest, Removal};
use crate::notice::Bot;
use crate::seal::{KeyRing, OpenError};
use mattermost_apps::client::ClientError;
use mattermost_apps::secret::ExposeSecret;
use mattermost_apps::AppsClient;

/// The provider, as this app's client: the requests a refresh makes there.
#[derive(Clone)]
pub struct Provider {
    /// The shared HTTP client.
    pub http: reqwest::Client,
    /// The configured provider.
    pub config: ProviderConfig,
}

impl Provider {
    /// Exchanges `token`'s refresh token for a new token.
    pub async fn refresh(&self, token: &StoredToken) -> Result<StoredToken, ProviderError> {
        client::refresh(&self.http, &self.config, token).await
    }

    /// Revokes a token this app obtained but will not keep. Skipped where one revocation
    /// ends the whole grant (the preset says so): that would end the user's connection too.
    pub async fn discard(&self, token: &StoredToken) {
        if self.config.kind.preset().is_some_and(|p| p.revokes_grant) {
            return;
        }
        if let Err(err) = client::revoke(&self.http, &self.config, token).await {
            log::warn!(
                "could not revoke a discarded token: {}",
                logline::escape(&err.plain())
            );
        }
    }

    /// The error for an expired token without a refresh token.
    pub fn no_refresh_token(&self) -> RefreshError {
        RefreshError::Dead(format!(
            "Your token has expired, and {} issued no refresh token to renew it.",
            self.config.kind.in_sentence()
        ))
    }

    /// The error for a refresh token the provider refused.
    pub fn refresh_token_refused(&self) -> RefreshError {
        RefreshError::Dead(format!(
            "Your refresh token is no longer accepted by {}, so your connection was removed.",
            self.config.kind.in_sentence()
        ))
    }
}

/// How stored tokens are sealed: the app's key ring, and the app ID they are bound to.
#[derive(Clone)]
pub struct Sealing {
    /// The app's key ring.
    pub keys: KeyRing,
    /// The manifest's app ID.
    pub app_id: String,
}

/// Mattermost's Apps REST API as one user, and who that is. Tokens are sealed on the way in
/// and opened on the way out.
#[derive(Clone)]
pub struct AsUser {
    /// The site and the user.
    pub key: UserKey,
    /// The REST API with the user's session token.
    pub mattermost: AppsClient,
    /// How the user's token is sealed.
    pub sealing: Sealing,
    /// The app's bot, to tell the user when their connection ends with no call to answer.
    pub bot: Option<Bot>,
}

/// Why the stored token could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Mattermost refused or failed.
    #[error(transparent)]
    Mattermost(#[from] ClientError),
    /// What is stored does not open with this app's keys.
    #[error("the stored token does not open: {0}")]
    Unopened(#[from] OpenError),
}

/// Why a token could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Sealed, it is over the plugin's size cap: it will never be stored.
    #[error("{0}")]
    TooLarge(String),
    /// Sealing failed, or Mattermost refused or failed; a later attempt may work.
    #[error("{0}")]
    Failed(String),
}

impl AsUser {
    /// The stored token, opened; `None` when none is stored.
    pub async fn read(&self) -> Result<Option<StoredToken>, ReadError> {
        let read = self.mattermost.get_oauth2_user::<serde_json::Value>();
        let Some(value) = metrics::mattermost(MattermostRequest::GetToken, read).await? else {
            return Ok(None);
        };
        let Sealing { keys, app_id } = &self.sealing;
        Ok(StoredToken::open(&value, keys, app_id, &self.key.user_id)?)
    }

    /// Stores `token`, sealed for this user (a whole replacement).
    pub async fn store(&self, token: &StoredToken) -> Result<(), StoreError> {
        let Sealing { keys, app_id } = &self.sealing;
        let sealed = token
            .seal(keys, app_id, &self.key.user_id)
            .map_err(|err| StoreError::Failed(err.to_string()))?;
        let store = self.mattermost.store_oauth2_user(&sealed);
        match metrics::mattermost(MattermostRequest::StoreToken, store).await {
            Ok(()) => Ok(()),
            Err(err @ ClientError::TooLarge(_)) => Err(StoreError::TooLarge(err.to_string())),
            Err(err) => Err(StoreError::Failed(err.to_string())),
        }
    }

    /// Clears the stored token (stores `null`).
    pub async fn clear(&self) -> Result<(), ClientError> {
        let clear = self.mattermost.store_oauth2_user(&serde_json::Value::Null);
        metrics::mattermost(MattermostRequest::ClearToken, clear).await?;
        metrics::connection_removed(Removal::TokenCleared);
        Ok(())
    }
}

/// True when `a` and `b` are the same token (same access token).
pub fn same(a: &StoredToken, b: &StoredToken) -> bool {
    a.access_token.expose_secret() == b.access_token.expose_secret()
}

/// What [`clear_unless_replaced`] found and did.
#[derive(Debug)]
pub enum Cleared {
    /// Another call has already stored this replacement; nothing was cleared.
    Replaced(StoredToken),
    /// This call cleared the dead token: it ended the connection.
    Ended,
    /// Nothing is stored any more (another call cleared it), or the clear failed.
    NotByThisCall,
}

/// Clears the stored token unless another call has already replaced (or cleared) `dead`.
pub async fn clear_unless_replaced(user: &AsUser, dead: &StoredToken) -> Cleared {
    match user.read().await {
        Ok(Some(current)) if !same(&current, dead) => return Cleared::Replaced(current),
        Ok(None) => return Cleared::NotByThisCall,
        // The dead token, or unreadable: clear it.
        _ => {}
    }
    match user.clear().await {
        Ok(()) => Cleared::Ended,
        Err(err) => {
            log::warn!(
                "could not clear a dead token: {}",
                logline::escape(&err.to_string())
            );
            Cleared::NotByThisCall
        }
    }
}
