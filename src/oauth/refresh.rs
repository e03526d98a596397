//! Refresh a user's token without ever losing or resurrecting their grant.
//!
//! One algorithm, under the refresh lock of [`super::lock`] (in-process, or Redis across
//! replicas), keyed by Mattermost site and user:
//!
//! 1. Read the stored token. If it is no longer the one the caller holds and it is fresh,
//!    use it: another call (on this replica or another) has already refreshed it. Replaying
//!    a spent refresh token makes providers with reuse detection revoke the whole grant.
//! 2. Refresh at the provider. From here the new token is the user's only live grant (the
//!    provider may have spent the old refresh token), so it is never dropped until stored.
//! 3. Just before storing: if `disconnect` or `complete` started a new generation, store
//!    nothing and revoke what was obtained. Read again and store only over the token that
//!    was replaced; if another token is stored now, use that one instead.
//! 4. A store that fails is retried within the call's deadline, holding the lock; after
//!    that the token is kept ([`super::unstored`], handed only to a caller holding the token
//!    it replaces) and stored in the background, retaking the lock for each attempt.
//!
//! Each refresh runs as its own task: a call that stops waiting does not stop it. A task
//! that ends the connection with no call waiting has the bot tell the user ([`notice`]).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::time::Instant;

pub use super::error::RefreshError;
use super::lock::{Guard, LockError, Locks, UserKey};
use super::parties::{clear_unless_replaced, same, AsUser, Cleared, Provider, StoreError};
use super::token::StoredToken;
use super::unstored::Unstored;
use crate::logline;
use crate::metrics::{self, RefreshResult};
use crate::notice;
use mattermost_apps::secret::ExposeSecret;

/// Background store attempts after the call's deadline, the first after [`FIRST_RETRY`],
/// each wait twice the last (about a minute in all).
const STORE_ATTEMPTS: u32 = 6;
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// How long a background store waits for the lock, each attempt.
const BACKGROUND_LOCK_WAIT: Duration = Duration::from_secs(10);

type Outcome = Result<StoredToken, RefreshError>;

/// Refreshes, their lock, and the tokens not stored yet. One per process.
pub struct Refresher {
    inner: Arc<Inner>,
}

struct Inner {
    locks: Locks,
    unstored: Unstored,
}

impl Refresher {
    /// A refresher on `locks`.
    pub fn new(locks: Locks) -> Self {
        Self {
            inner: Arc::new(Inner {
                locks,
                unstored: Unstored::default(),
            }),
        }
    }

    /// Replaces `old` (held by the caller) with a fresh token, stored for `user`, as its
    /// own task; the lock is waited for until `until`. Needs a tokio runtime.
    pub async fn refresh(
        &self,
        provider: Provider,
        user: AsUser,
        old: StoredToken,
        until: Instant,
    ) -> Outcome {
        let inner = self.inner.clone();
        let (answer, waiting) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let (bot, user_id) = (user.bot.clone(), user.key.user_id.clone());
            let (outcome, ended) = inner.refresh(provider, user, old, until).await;
            // A waiting call answers its user with the error; only a refresh that outlived
            // its call has the bot tell them.
            if let (Err(Err(err)), true) = (answer.send(outcome), ended) {
                notice::tell_ended(bot.as_ref(), &user_id, &err.to_string()).await;
            }
        });
        waiting.await.unwrap_or(Err(RefreshError::Stopped))
    }

    /// For `disconnect` and `complete`, before they store: starts a new generation (no
    /// refresh under way stores after this) and waits for the lock until `until`. `None`
    /// when it could not be had (logged; the caller goes on, the generation still holds).
    pub async fn end_refreshes(&self, key: &UserKey, until: Instant) -> Option<Guard> {
        if let Err(err) = self.inner.locks.bump(key).await {
            log::warn!(
                "could not start a new token generation for user {}: {err}",
                logline::escape(&key.user_id)
            );
        }
        self.inner.unstored.forget(key);
        match self.inner.locks.acquire(key, until).await {
            Ok(guard) => Some(guard),
            Err(err) => {
                log::warn!(
                    "going on without the refresh lock of user {}: {err}",
                    logline::escape(&key.user_id)
                );
                None
            }
        }
    }

    /// Gives back what [`Refresher::end_refreshes`] took.
    pub async fn release(&self, guard: Option<Guard>) {
        if let Some(guard) = guard {
            self.inner.locks.release(guard).await;
        }
    }

    /// On shutdown: stores the tokens not stored yet, waiting at most `within`.
    pub async fn drain(&self, within: Duration) {
        self.inner.unstored.drain(within).await;
    }
}

/// What one store attempt found.
enum Attempt {
    Stored,
    /// Stored nothing: the generation changed, or another token (or none) is stored now.
    Superseded(Option<StoredToken>),
    /// Failed, may work later.
    Retry(String),
    /// Will never work (too large for the plugin).
    Never(String),
}

/// Where the refresh under the lock ended.
enum Step {
    Done(Outcome),
    /// This refresh ended the connection: the provider refused the refresh token (and the
    /// stored token was cleared), or the new token will never be stored.
    Ended(RefreshError),
    /// A new token that could not be stored within the call's deadline, and the stored
    /// token it replaces.
    Unstored {
        replaced: StoredToken,
        new: StoredToken,
    },
}

impl Inner {
    /// The outcome, and whether this refresh ended the connection.
    async fn refresh(
        self: Arc<Self>,
        provider: Provider,
        user: AsUser,
        old: StoredToken,
        until: Instant,
    ) -> (Outcome, bool) {
        if let Some(outcome) = self.unstored.for_caller(&user.key, &old) {
            metrics::refresh(RefreshResult::Joined);
            return (outcome, false);
        }
        let waited = Instant::now();
        let locked = match self.locks.generation(&user.key).await {
            Ok(generation) => self
                .locks
                .acquire(&user.key, until)
                .await
                .map(|guard| (generation, guard)),
            Err(err) => Err(err),
        };
        metrics::lock_wait(waited.elapsed());
        let locked = locked.map_err(|err| {
            if let LockError::Unavailable(why) = &err {
                metrics::refresh(RefreshResult::LockUnavailable);
                log::warn!(
                    "not refreshing the token of user {}: {why}",
                    logline::escape(&user.key.user_id)
                );
            }
            RefreshError::Lock(err)
        });
        let (generation, guard) = match locked {
            Ok(locked) => locked,
            Err(err) => return (Err(err), false),
        };
        let step = self
            .under_lock(&provider, &user, &old, generation, until)
            .await;
        self.locks.release(guard).await;
        match step {
            Step::Done(outcome) => (outcome, false),
            Step::Ended(err) => (Err(err), true),
            Step::Unstored { replaced, new } => {
                self.unstored.keep(&user.key, &replaced, &new);
                tokio::spawn(self.clone().store_later(
                    provider,
                    user,
                    replaced,
                    new.clone(),
                    generation,
                ));
                (Ok(new), false)
            }
        }
    }

    async fn under_lock(
        &self,
        provider: &Provider,
        user: &AsUser,
        held: &StoredToken,
        generation: u64,
        until: Instant,
    ) -> Step {
        if let Some(outcome) = self.unstored.for_caller(&user.key, held) {
            return Step::Done(outcome);
        }
        let old = match user.read().await {
            Err(err) => return Step::Done(Err(RefreshError::Read(err.to_string()))),
            Ok(None) => {
                return Step::Done(Err(RefreshError::Dead(
                    "You are no longer connected.".to_owned(),
                )))
            }
            Ok(Some(current)) if same(&current, held) => current,
            Ok(Some(current)) if !current.needs_refresh(Utc::now()) => {
                metrics::refresh(RefreshResult::Adopted);
                return Step::Done(Ok(current));
            }
            Ok(Some(current)) => current,
        };
        // Read with the caller's own session: a token kept to replace it is theirs.
        if let Some(outcome) = self.unstored.for_caller(&user.key, &old) {
            return Step::Done(outcome);
        }
        if old.refresh_token.expose_secret().is_empty() {
            return Step::Done(Err(provider.no_refresh_token()));
        }
        let new = match provider.refresh(&old).await {
            Ok(new) => new,
            Err(err) if err.is_invalid_grant() => {
                metrics::refresh(RefreshResult::InvalidGrant);
                return match clear_unless_replaced(user, &old).await {
                    Cleared::Replaced(current) => Step::Done(Ok(current)),
                    Cleared::Ended => Step::Ended(provider.refresh_token_refused()),
                    Cleared::NotByThisCall => Step::Done(Err(provider.refresh_token_refused())),
                };
            }
            Err(err) => {
                metrics::refresh(RefreshResult::Failed);
                return Step::Done(Err(RefreshError::Provider(err)));
            }
        };
        log::info!(
            "refreshed the token of user {}",
            logline::escape(&user.key.user_id)
        );
        let mut wait = Duration::from_millis(100);
        loop {
            match self.store(provider, user, &old, &new, generation).await {
                Attempt::Stored => {
                    metrics::refresh(RefreshResult::Refreshed);
                    return Step::Done(Ok(new));
                }
                Attempt::Superseded(current) => {
                    return Step::Done(current.ok_or(RefreshError::Superseded))
                }
                Attempt::Never(why) => {
                    return Step::Ended(self.unstored.lose(&user.key, &old, &why))
                }
                Attempt::Retry(_) if Instant::now() + wait < until => {
                    metrics::refresh(RefreshResult::RetriedStore);
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                Attempt::Retry(why) => {
                    log::warn!(
                        "the renewed token of user {} is not stored yet ({why}); retrying in the background",
                        logline::escape(&user.key.user_id)
                    );
                    return Step::Unstored { replaced: old, new };
                }
            }
        }
    }

    /// One store attempt, under the lock: only in the same generation, only over `replaced`.
    async fn store(
        &self,
        provider: &Provider,
        user: &AsUser,
        replaced: &StoredToken,
        new: &StoredToken,
        generation: u64,
    ) -> Attempt {
        match self.locks.generation(&user.key).await {
            Err(err) => return Attempt::Retry(err.to_string()),
            Ok(now) if now != generation => {
                provider.discard(new).await;
                return Attempt::Superseded(None);
            }
            Ok(_) => {}
        }
        match user.read().await {
            Err(err) => Attempt::Retry(err.to_string()),
            Ok(Some(current)) if same(&current, new) => Attempt::Stored,
            Ok(Some(current)) if same(&current, replaced) => match user.store(new).await {
                Ok(()) => Attempt::Stored,
                Err(StoreError::TooLarge(why)) => Attempt::Never(why),
                Err(StoreError::Failed(why)) => Attempt::Retry(why),
            },
            Ok(current) => {
                log::warn!(
                    "the token of user {} changed during a refresh; keeping the stored one",
                    logline::escape(&user.key.user_id)
                );
                if current.is_none() {
                    provider.discard(new).await;
                }
                Attempt::Superseded(current)
            }
        }
    }

    /// Stores `new` after the call's deadline, retaking the lock for each attempt.
    async fn store_later(
        self: Arc<Self>,
        provider: Provider,
        user: AsUser,
        replaced: StoredToken,
        new: StoredToken,
        generation: u64,
    ) {
        let mut wait = FIRST_RETRY;
        let mut why = String::new();
        for _ in 0..STORE_ATTEMPTS {
            self.unstored.pause(wait).await;
            wait *= 2;
            let until = Instant::now() + BACKGROUND_LOCK_WAIT;
            let guard = match self.locks.acquire(&user.key, until).await {
                Ok(guard) => guard,
                Err(err) => {
                    why = err.to_string();
                    continue;
                }
            };
            metrics::refresh(RefreshResult::RetriedStore);
            let attempt = self
                .store(&provider, &user, &replaced, &new, generation)
                .await;
            self.locks.release(guard).await;
            match attempt {
                Attempt::Stored => {
                    metrics::refresh(RefreshResult::Refreshed);
                    log::info!(
                        "stored the renewed token of user {}",
                        logline::escape(&user.key.user_id)
                    );
                    return self.unstored.settle(&user.key, &new);
                }
                Attempt::Superseded(_) => return self.unstored.settle(&user.key, &new),
                Attempt::Retry(reason) => why = reason,
                Attempt::Never(reason) => {
                    why = reason;
                    break;
                }
            }
        }
        // No call is waiting for this one: the bot tells the user.
        let err = self.unstored.lose(&user.key, &replaced, &why).to_string();
        notice::tell_ended(user.bot.as_ref(), &user.key.user_id, &err).await;
    }
}
