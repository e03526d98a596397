//! The acting user's token, ready for a provider call: refreshed once when it is due or when
//! the provider rejects it, stored back in Mattermost, and cleared when it cannot be
//! refreshed (so the bindings offer `connect` again). Any command calls the provider through
//! [`UserToken::call`].

use std::future::Future;

use chrono::Utc;

use super::client;
use super::config::ProviderConfig;
use super::error::ProviderError;
use super::refresh::{RefreshError, Refresher};
use super::token::StoredToken;
use crate::metrics::{self, MattermostRequest, RefreshResult, Removal};
use crate::seal::KeyRing;
use mattermost_apps::secret::{ExposeSecret, SecretString};
use mattermost_apps::AppsClient;

/// The acting user's token and where it is stored. The parts a refresh needs are owned, so
/// the refresh task can outlive the call that started it.
pub struct UserToken<'a> {
    refresher: &'a Refresher,
    sealing: Sealing,
    http: reqwest::Client,
    config: ProviderConfig,
    user_id: String,
    site_url: String,
    session: SecretString,
}

/// The keys and the app ID a user's token is sealed with where it is stored.
#[derive(Clone, Debug)]
pub struct Sealing {
    /// The app's key ring.
    pub keys: KeyRing,
    /// The manifest's app ID.
    pub app_id: String,
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
    /// The token of `user_id`, stored sealed through the Apps REST API at `site_url` with
    /// the user's `session` token.
    pub fn new(
        refresher: &'a Refresher,
        sealing: Sealing,
        http: &reqwest::Client,
        config: &ProviderConfig,
        user_id: &str,
        site_url: &str,
        session: &SecretString,
    ) -> Self {
        Self {
            refresher,
            sealing,
            http: http.clone(),
            config: config.clone(),
            user_id: user_id.to_owned(),
            site_url: site_url.to_owned(),
            session: session.clone(),
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

    /// Refreshes `old` once for this user, however many calls ask at the same time, and
    /// stores the result.
    async fn refresh(&self, old: &StoredToken) -> Result<StoredToken, RefreshError> {
        if old.refresh_token.expose_secret().is_empty() {
            clear_unless_replaced(&self.mattermost(), &self.sealing, &self.user_id, old).await;
            return Err(RefreshError::Dead(format!(
                "Your token has expired, and {} issued no refresh token to renew it.",
                self.config.kind.in_sentence()
            )));
        }
        let flight = refresh_and_store(
            self.sealing.clone(),
            self.http.clone(),
            self.config.clone(),
            self.site_url.clone(),
            self.session.clone(),
            self.user_id.clone(),
            old.clone(),
        );
        self.refresher.refresh(&self.user_id, old, flight).await
    }

    /// Clears a rejected token and says so.
    async fn dead(&self, token: &StoredToken) -> RefreshError {
        clear_unless_replaced(&self.mattermost(), &self.sealing, &self.user_id, token).await;
        RefreshError::Dead(format!(
            "Your token is no longer accepted by {}.",
            self.config.kind.in_sentence()
        ))
    }

    fn mattermost(&self) -> AppsClient {
        AppsClient::new(self.http.clone(), &self.site_url, self.session.clone())
    }
}

/// The refresh task: read the stored token, refresh it at the provider, store the result.
///
/// The stored token is read first: when another replica has already refreshed, its token
/// is used (and refreshed only if it is due too), because presenting the spent refresh
/// token makes providers with reuse detection revoke the whole grant. On `invalid_grant`
/// the stored token is read again (another replica may have rotated it meanwhile); if it is
/// still the dead one, it is cleared.
async fn refresh_and_store(
    sealing: Sealing,
    http: reqwest::Client,
    config: ProviderConfig,
    site_url: String,
    session: SecretString,
    user_id: String,
    old: StoredToken,
) -> Result<StoredToken, RefreshError> {
    let mattermost = AppsClient::new(http.clone(), &site_url, session);
    let old = match stored(&mattermost, &sealing, &user_id).await {
        Some(current)
            if current.access_token.expose_secret() != old.access_token.expose_secret() =>
        {
            if !current.needs_refresh(Utc::now()) {
                metrics::refresh(RefreshResult::Adopted);
                return Ok(current);
            }
            current
        }
        _ => old,
    };
    match client::refresh(&http, &config, &old).await {
        Ok(new) => {
            let sealed = new
                .seal(&sealing.keys, &sealing.app_id, &user_id)
                .map_err(|err| RefreshError::Store(err.to_string()))?;
            let store = mattermost.store_oauth2_user(&sealed);
            if let Err(err) = metrics::mattermost(MattermostRequest::StoreToken, store).await {
                metrics::refresh(RefreshResult::StoreFailed);
                return Err(RefreshError::Store(err.to_string()));
            }
            metrics::refresh(RefreshResult::Refreshed);
            log::info!(
                "refreshed the token of user {}",
                crate::logline::escape(&user_id)
            );
            Ok(new)
        }
        Err(err) if err.is_invalid_grant() => {
            metrics::refresh(RefreshResult::InvalidGrant);
            match clear_unless_replaced(&mattermost, &sealing, &user_id, &old).await {
                Some(current) => Ok(current),
                None => Err(RefreshError::Dead(format!(
                "Your refresh token is no longer accepted by {}, so your connection was removed.",
                config.kind.in_sentence()
            ))),
            }
        }
        Err(err) => {
            metrics::refresh(RefreshResult::Failed);
            Err(RefreshError::Provider(err))
        }
    }
}

/// Clears the stored token unless another call has already replaced `dead`, and returns
/// that replacement when there is one.
async fn clear_unless_replaced(
    mattermost: &AppsClient,
    sealing: &Sealing,
    user_id: &str,
    dead: &StoredToken,
) -> Option<StoredToken> {
    if let Some(current) = stored(mattermost, sealing, user_id).await {
        if current.access_token.expose_secret() != dead.access_token.expose_secret() {
            return Some(current);
        }
    }
    let clear = mattermost.store_oauth2_user(&serde_json::Value::Null);
    match metrics::mattermost(MattermostRequest::ClearToken, clear).await {
        Ok(()) => metrics::connection_removed(Removal::TokenCleared),
        Err(err) => log::warn!(
            "could not clear a dead token: {}",
            crate::logline::escape(&err.to_string())
        ),
    }
    None
}

/// The token stored now for `user_id`, opened; `None` when none is stored, or it cannot be
/// read or opened (the caller then goes on with the token it has).
async fn stored(mattermost: &AppsClient, sealing: &Sealing, user_id: &str) -> Option<StoredToken> {
    let value = metrics::mattermost(
        MattermostRequest::GetToken,
        mattermost.get_oauth2_user::<serde_json::Value>(),
    )
    .await
    .ok()
    .flatten()?;
    StoredToken::open(&value, &sealing.keys, &sealing.app_id, user_id)
        .ok()
        .flatten()
}
