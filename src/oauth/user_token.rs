//! The acting user's token, ready for a provider call: refreshed once when it is due or when
//! the provider rejects it (see [`super::refresh`]), stored back in Mattermost (sealed), and
//! cleared when it cannot be refreshed (so the bindings offer `connect` again). Any command
//! calls the provider through [`UserToken::call`].

use std::future::Future;

use chrono::Utc;
use tokio::time::Instant;

use super::error::{ProviderError, RefreshError};
use super::parties::{clear_unless_replaced, AsUser, Provider};
use super::refresh::Refresher;
use super::token::StoredToken;
use mattermost_apps::secret::ExposeSecret;

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
