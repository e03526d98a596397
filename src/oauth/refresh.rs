//! Refresh once per user. Concurrent calls of one user that find the same expired token
//! share one refresh (and one store back), so providers that rotate refresh tokens never see
//! the same refresh token twice. A finished refresh is remembered for a short while, because
//! calls already in flight still carry the old token in their context.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::future::{FutureExt, Shared};
use mattermost_apps::secret::ExposeSecret;
use ring::digest;

use super::remote::ProviderError;
use super::token::StoredToken;

/// How long a finished refresh is handed to late callers holding the token it replaced.
const REMEMBER: Duration = Duration::from_secs(30);

/// Why a refresh did not produce a stored token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefreshError {
    /// The provider refused or failed.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// The new token could not be stored in Mattermost (the old one stays stored).
    #[error("the refreshed token could not be saved in Mattermost: {0}")]
    Store(String),
}

type Outcome = Result<StoredToken, RefreshError>;
type SharedRefresh = Shared<Pin<Box<dyn Future<Output = Outcome> + Send>>>;

struct Flight {
    /// SHA-256 of the access token being replaced.
    replaces: digest::Digest,
    started: Instant,
    refresh: SharedRefresh,
}

/// The per-process table of refreshes, keyed by Mattermost user ID.
#[derive(Default)]
pub struct Refresher {
    flights: Mutex<HashMap<String, Flight>>,
}

impl Refresher {
    /// Runs `refresh` for `user_id`, unless a refresh of the same token is under way or just
    /// finished, in which case its outcome is shared. `refresh` must also store the result.
    pub async fn refresh<F>(&self, user_id: &str, old: &StoredToken, refresh: F) -> Outcome
    where
        F: Future<Output = Outcome> + Send + 'static,
    {
        let replaces = digest::digest(&digest::SHA256, old.access_token.expose_secret().as_bytes());
        let shared = {
            let mut flights = match self.flights.lock() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            let now = Instant::now();
            flights.retain(|_, f| {
                now.duration_since(f.started) < REMEMBER || f.refresh.peek().is_none()
            });
            match flights.get(user_id) {
                Some(f)
                    if f.replaces.as_ref() == replaces.as_ref() || f.refresh.peek().is_none() =>
                {
                    f.refresh.clone()
                }
                _ => {
                    let boxed: Pin<Box<dyn Future<Output = Outcome> + Send>> = Box::pin(refresh);
                    let shared = boxed.shared();
                    flights.insert(
                        user_id.to_owned(),
                        Flight {
                            replaces,
                            started: now,
                            refresh: shared.clone(),
                        },
                    );
                    shared
                }
            }
        };
        shared.await
    }

    /// Number of remembered refreshes (for tests and metrics).
    pub fn len(&self) -> usize {
        self.flights.lock().map(|f| f.len()).unwrap_or(0)
    }

    /// True when no refresh is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
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
}
