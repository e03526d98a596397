//! The acting user's token, ready for a provider call: refreshed once when it is due or when
//! the provider rejects it (see [`super::refresh`]), stored back in Mattermost (sealed), and
//! cleared when it cannot be refreshed (so the bindings offer `connect` again). Any command
//! calls the provider through [`UserToken::call`].

use std::future::Future;

use chrono::Utc;
use tokio::time::Instant;

use super::client;
use super::config::ProviderConfig;
use super::error::ProviderError;
use super::lock::UserKey;
use super::refresh::{RefreshError, Refresher};
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

/// The acting user's token and where it is stored.
pub struct UserToken<'a> {
    refresher: &'a Refresher,
    provider: Provider,
    user: AsUser,
    /// When the call must answer: a refresh waits for the lock until then.
    until: Instant,
}

/// A provider call's answer, and the token it was made with.
#[derive(Debug)]
pub struct Answer<T> {
    /// What the provider answered.
    pub value: T,
    /// The token used (the stored one, or its replacement).
    pub token: StoredToken,
    /// True when the token was refreshed for this call.
    pub refreshed: bool,
}

/// Why a provider request made with the user's token failed.
#[derive(Debug, thiserror::Error)]
pub enum ProviderCallError {
    /// No usable token: the refresh failed, or the token is dead (and was cleared).
    #[error(transparent)]
    Token(RefreshError),
    /// The provider failed the request itself (the token stays).
    #[error(transparent)]
    Request(ProviderError),
}

impl<'a> UserToken<'a> {
    /// The token of `user`, refreshed with `refresher` at `provider`; a refresh waits for
    /// the lock until `until`.
    pub fn new(refresher: &'a Refresher, provider: Provider, user: AsUser, until: Instant) -> Self {
        Self {
            refresher,
            provider,
            user,
            until,
        }
    }

    /// Runs `request` with `token`, refreshed first when due. If the provider rejects it
    /// (HTTP 401) and a refresh token is stored, refreshes once and retries; a token that
    /// is still rejected, or cannot be refreshed, is cleared.
    pub async fn call<T, F, Fut>(
        &self,
        token: StoredToken,
        request: F,
    ) -> Result<Answer<T>, ProviderCallError>
    where
        F: Fn(StoredToken) -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let (token, refreshed) = self.fresh(token).await.map_err(ProviderCallError::Token)?;
        match request(token.clone()).await {
            Err(ProviderError::TokenRejected)
                if !refreshed && !token.refresh_token.expose_secret().is_empty() => {}
            Err(ProviderError::TokenRejected) => {
                return Err(ProviderCallError::Token(self.dead(&token).await))
            }
            other => {
                return other
                    .map(|value| Answer {
                        value,
                        token,
                        refreshed,
                    })
                    .map_err(ProviderCallError::Request)
            }
        }
        // Rejected before its expiry (revoked, or the provider's clock differs): refresh
        // once, then try again.
        let token = self
            .refresh(&token)
            .await
            .map_err(ProviderCallError::Token)?;
        match request(token.clone()).await {
            Err(ProviderError::TokenRejected) => {
                Err(ProviderCallError::Token(self.dead(&token).await))
            }
            other => other
                .map(|value| Answer {
                    value,
                    token,
                    refreshed: true,
                })
                .map_err(ProviderCallError::Request),
        }
    }

    /// `token` when it is not due, else its refreshed replacement; true when refreshed.
    pub async fn fresh(&self, token: StoredToken) -> Result<(StoredToken, bool), RefreshError> {
        if !token.needs_refresh(Utc::now()) {
            return Ok((token, false));
        }
        self.refresh(&token).await.map(|new| (new, true))
    }

    /// Replaces `old` with a fresh token, stored, however many calls ask at the same time.
    async fn refresh(&self, old: &StoredToken) -> Result<StoredToken, RefreshError> {
        if old.refresh_token.expose_secret().is_empty() {
            // The call answers its user with the error: no direct message needed.
            clear_unless_replaced(&self.user, old).await;
            return Err(self.provider.no_refresh_token());
        }
        self.refresher
            .refresh(
                self.provider.clone(),
                self.user.clone(),
                old.clone(),
                self.until,
            )
            .await
    }

    /// Clears a rejected token and says so (in the call's answer: the user is in front of
    /// it, so no direct message).
    async fn dead(&self, token: &StoredToken) -> RefreshError {
        clear_unless_replaced(&self.user, token).await;
        RefreshError::Dead(format!(
            "Your token is no longer accepted by {}.",
            self.provider.config.kind.in_sentence()
        ))
    }
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
