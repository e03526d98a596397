//! The acting user's token, ready for a provider call: refreshed once when it is due or when
//! the provider rejects it (see [`super::refresh`]), stored back in Mattermost, and cleared
//! when it cannot be refreshed (so the bindings offer `connect` again). Any command calls the provider through
//! [`UserToken::call`].

use std::future::Future;

use chrono::Utc;
use tokio::time::Instant;

use super::client::{self, ProviderError};
use super::config::ProviderConfig;
use super::lock::UserKey;
use super::refresh::{RefreshError, Refresher};
use super::token::StoredToken;
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
            log::warn!("could not revoke a discarded token: {}", err.plain());
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

/// Mattermost's Apps REST API as one user, and who that is.
#[derive(Clone)]
pub struct AsUser {
    /// The site and the user.
    pub key: UserKey,
    /// The REST API with the user's session token.
    pub mattermost: AppsClient,
}

impl AsUser {
    /// The stored token; `None` when none is stored.
    pub async fn read(&self) -> Result<Option<StoredToken>, ClientError> {
        self.mattermost.get_oauth2_user().await
    }

    /// Stores `token` (a whole replacement).
    pub async fn store(&self, token: &StoredToken) -> Result<(), ClientError> {
        self.mattermost.store_oauth2_user(token).await
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
            clear_unless_replaced(&self.user.mattermost, old).await;
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

    /// Clears a rejected token and says so.
    async fn dead(&self, token: &StoredToken) -> RefreshError {
        clear_unless_replaced(&self.user.mattermost, token).await;
        RefreshError::Dead(format!(
            "Your token is no longer accepted by {}.",
            self.provider.config.kind.in_sentence()
        ))
    }
}

/// Clears the stored token unless another call has already replaced `dead`, and returns
/// that replacement when there is one.
pub async fn clear_unless_replaced(
    mattermost: &AppsClient,
    dead: &StoredToken,
) -> Option<StoredToken> {
    if let Ok(Some(current)) = mattermost.get_oauth2_user::<StoredToken>().await {
        if !same(&current, dead) {
            return Some(current);
        }
    }
    if let Err(err) = mattermost.store_oauth2_user(&serde_json::Value::Null).await {
        log::warn!("could not clear a dead token: {err}");
    }
    None
}
