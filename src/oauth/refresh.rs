//! Refresh once per user. Concurrent calls of one user share one refresh (and one store
//! back), so providers that rotate refresh tokens never see the same refresh token twice.
//! The refresh itself (read the stored token, refresh, store, `invalid_grant`) is in
//! [`super::user_token`]; this file only keeps it to one at a time.
//!
//! Each refresh runs as its own tokio task: a call that stops waiting (client gone, deadline
//! passed) does not stop it, so a rotated refresh token is always stored. Its entry is
//! removed when it fails; a success is handed for a short while to late calls that still
//! carry the token it replaced in their context.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::future::{BoxFuture, FutureExt, Shared};
use mattermost_apps::secret::ExposeSecret;
use ring::digest;

use super::error::ProviderError;
use super::token::StoredToken;
use crate::metrics::{self, RefreshResult};

/// How long a successful refresh is handed to late callers holding the token it replaced.
const REMEMBER: Duration = Duration::from_secs(30);

/// Why a refresh did not produce a stored token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefreshError {
    /// The token cannot be refreshed any more and was cleared; the user must reconnect.
    /// The text says why, as a sentence.
    #[error("{0}")]
    Dead(String),
    /// The provider refused or failed (the old token stays stored).
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// The new token could not be stored in Mattermost (the old one stays stored); the text
    /// is Mattermost's, escaped for a message.
    #[error("the refreshed token could not be saved in Mattermost: {}", crate::markdown::escape(.0, 500))]
    Store(String),
    /// The refresh task stopped without an answer.
    #[error("the refresh stopped unexpectedly")]
    Stopped,
}

type Outcome = Result<StoredToken, RefreshError>;

enum State {
    Running(Shared<BoxFuture<'static, Outcome>>),
    Done { token: StoredToken, until: Instant },
}

struct Flight {
    id: u64,
    /// SHA-256 of the access token being replaced.
    replaces: digest::Digest,
    state: State,
}

type Flights = Arc<Mutex<HashMap<String, Flight>>>;

/// The per-process table of refreshes, keyed by Mattermost user ID.
#[derive(Default)]
pub struct Refresher {
    flights: Flights,
    next_id: AtomicU64,
}

fn lock(flights: &Flights) -> MutexGuard<'_, HashMap<String, Flight>> {
    match flights.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl Refresher {
    /// Runs `refresh` for `user_id` as its own task, unless a refresh of this user is under
    /// way or one of the same token just succeeded, in which case its outcome is shared.
    /// `refresh` must also store the result. Needs a tokio runtime.
    pub async fn refresh<F>(&self, user_id: &str, old: &StoredToken, refresh: F) -> Outcome
    where
        F: std::future::Future<Output = Outcome> + Send + 'static,
    {
        let replaces = digest::digest(&digest::SHA256, old.access_token.expose_secret().as_bytes());
        let running = {
            let mut flights = lock(&self.flights);
            let now = Instant::now();
            flights.retain(|_, f| match &f.state {
                // A task that ended without reaching `finish` (it panicked) is forgotten
                // once its result is known, so the next call starts afresh.
                State::Running(running) => running.peek().is_none(),
                State::Done { until, .. } => *until > now,
            });
            match flights.get(user_id) {
                Some(Flight {
                    state: State::Running(running),
                    ..
                }) => {
                    metrics::refresh(RefreshResult::Joined);
                    running.clone()
                }
                Some(Flight {
                    replaces: done,
                    state: State::Done { token, .. },
                    ..
                }) if done.as_ref() == replaces.as_ref() => {
                    metrics::refresh(RefreshResult::Joined);
                    return Ok(token.clone());
                }
                _ => {
                    let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                    let task = tokio::spawn(finish(
                        self.flights.clone(),
                        user_id.to_owned(),
                        id,
                        refresh,
                    ));
                    let running = task
                        .map(|joined| joined.unwrap_or(Err(RefreshError::Stopped)))
                        .boxed()
                        .shared();
                    flights.insert(
                        user_id.to_owned(),
                        Flight {
                            id,
                            replaces,
                            state: State::Running(running.clone()),
                        },
                    );
                    running
                }
            }
        };
        running.await
    }

    /// Number of refreshes under way or remembered (for tests and metrics).
    pub fn len(&self) -> usize {
        lock(&self.flights).len()
    }

    /// True when no refresh is under way or remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The task body: runs the refresh, then remembers a success briefly or forgets a failure.
async fn finish<F>(flights: Flights, user_id: String, id: u64, refresh: F) -> Outcome
where
    F: std::future::Future<Output = Outcome>,
{
    let outcome = refresh.await;
    let mut flights = lock(&flights);
    if flights.get(&user_id).is_some_and(|f| f.id == id) {
        match &outcome {
            Ok(token) => {
                if let Some(flight) = flights.get_mut(&user_id) {
                    flight.state = State::Done {
                        token: token.clone(),
                        until: Instant::now() + REMEMBER,
                    };
                }
            }
            Err(_) => {
                flights.remove(&user_id);
            }
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use mattermost_apps::secret::{ExposeSecret, SecretString};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    fn token(access: &str) -> StoredToken {
        StoredToken {
            access_token: SecretString::from(access),
            token_type: "Bearer".into(),
            refresh_token: SecretString::from("rt"),
            expiry: None,
        }
    }

    #[tokio::test]
    async fn concurrent_refreshes_of_one_user_run_once() {
        let refresher = Arc::new(Refresher::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let refresher = refresher.clone();
            let runs = runs.clone();
            tasks.push(tokio::spawn(async move {
                refresher
                    .refresh("u1", &token("old"), async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok(token("new"))
                    })
                    .await
            }));
        }
        for task in tasks {
            let outcome = task.await.expect("task");
            assert_eq!(
                outcome.expect("refreshed").access_token.expose_secret(),
                "new"
            );
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);

        // A late caller with the old token gets the remembered result; another user runs.
        let late = refresher
            .refresh("u1", &token("old"), async { Ok(token("other")) })
            .await;
        assert_eq!(late.expect("shared").access_token.expose_secret(), "new");
        let second = refresher
            .refresh("u2", &token("old"), async { Ok(token("u2-new")) })
            .await;
        assert_eq!(second.expect("own").access_token.expose_secret(), "u2-new");
        assert_eq!(refresher.len(), 2);
    }

    #[tokio::test]
    async fn a_refresh_finishes_when_its_caller_stops_waiting() {
        let refresher = Arc::new(Refresher::default());
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let caller = {
            let refresher = refresher.clone();
            tokio::spawn(async move {
                refresher
                    .refresh("u1", &token("old"), async move {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        let _ = done_tx.send(());
                        Ok(token("new"))
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        caller.abort();
        tokio::time::timeout(Duration::from_secs(2), done_rx)
            .await
            .expect("the refresh went on without its caller")
            .expect("it finished");
        // Its success is remembered for a call still carrying the old token.
        let late = refresher
            .refresh("u1", &token("old"), async { Ok(token("other")) })
            .await;
        assert_eq!(
            late.expect("remembered").access_token.expose_secret(),
            "new"
        );
    }

    #[tokio::test]
    async fn a_failure_is_forgotten_and_the_next_call_tries_again() {
        let refresher = Refresher::default();
        let failed = refresher
            .refresh("u1", &token("a"), async {
                Err(RefreshError::Provider(ProviderError::Timeout))
            })
            .await;
        assert!(
            matches!(failed, Err(RefreshError::Provider(ProviderError::Timeout))),
            "{failed:?}"
        );
        assert!(refresher.is_empty(), "no entry is left behind");
        let again = refresher
            .refresh("u1", &token("a"), async { Ok(token("b")) })
            .await;
        assert_eq!(
            again.expect("tried again").access_token.expose_secret(),
            "b"
        );
    }

    #[tokio::test]
    async fn a_newer_token_refreshes_again() {
        let refresher = Refresher::default();
        let first = refresher
            .refresh("u1", &token("a"), async { Ok(token("b")) })
            .await;
        assert_eq!(first.expect("first").access_token.expose_secret(), "b");
        let second = refresher
            .refresh("u1", &token("b"), async { Ok(token("c")) })
            .await;
        assert_eq!(second.expect("second").access_token.expose_secret(), "c");
    }

    #[tokio::test]
    async fn a_refresh_that_panicked_is_forgotten() {
        let refresher = Refresher::default();
        let stopped = refresher
            .refresh("u1", &token("a"), async { panic!("a bug in the refresh") })
            .await;
        assert!(matches!(stopped, Err(RefreshError::Stopped)), "{stopped:?}");
        let next = refresher
            .refresh("u1", &token("a"), async { Ok(token("b")) })
            .await;
        assert_eq!(next.expect("ran again").access_token.expose_secret(), "b");
    }
}
