//! Tokens the provider issued that are not stored in Mattermost yet. The provider may have
//! spent the refresh token they replaced, so such a token is the user's only live grant: it
//! is kept here, handed only to a caller holding the token it replaced (keyed by site and
//! user, matched by a digest of the replaced access token), until a background store lands
//! it, the user disconnects or connects again, or storing is given up (then its user is
//! told why for a while).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use ring::digest;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::error::RefreshError;
use super::lock::UserKey;
use super::parties::same;
use super::token::StoredToken;
use mattermost_apps::secret::ExposeSecret;

/// How long a token that could not be stored is remembered, to tell its user why.
const REMEMBER_LOST: Duration = Duration::from_secs(600);

struct Entry {
    /// SHA-256 of the access token it replaces.
    replaces: digest::Digest,
    token: StoredToken,
    /// Set when storing was given up: the text tells the user why, and since when.
    lost: Option<(String, Instant)>,
}

/// The table, and the signals of its background stores.
#[derive(Default)]
pub struct Unstored {
    entries: Mutex<HashMap<UserKey, Entry>>,
    /// Notified when an entry is settled (stored, superseded or lost).
    settled: Notify,
    /// Notified by [`Unstored::drain`]: background stores try again at once.
    hurry: Notify,
    draining: AtomicBool,
}

fn digest_of(token: &StoredToken) -> digest::Digest {
    digest::digest(
        &digest::SHA256,
        token.access_token.expose_secret().as_bytes(),
    )
}

impl Unstored {
    fn entries(&self) -> MutexGuard<'_, HashMap<UserKey, Entry>> {
        match self.entries.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Keeps `token`, which replaced `replaced`, until it is stored.
    pub fn keep(&self, key: &UserKey, replaced: &StoredToken, token: &StoredToken) {
        self.entries().insert(
            key.clone(),
            Entry {
                replaces: digest_of(replaced),
                token: token.clone(),
                lost: None,
            },
        );
    }

    /// For a caller holding `old`: the token kept to replace it, or why it was lost.
    pub fn for_caller(
        &self,
        key: &UserKey,
        old: &StoredToken,
    ) -> Option<Result<StoredToken, RefreshError>> {
        let mut entries = self.entries();
        let entry = entries.get(key)?;
        if entry.replaces.as_ref() != digest_of(old).as_ref() {
            return None;
        }
        match &entry.lost {
            None => Some(Ok(entry.token.clone())),
            Some((_, since)) if since.elapsed() > REMEMBER_LOST => {
                entries.remove(key);
                None
            }
            Some((why, _)) => Some(Err(RefreshError::Dead(why.clone()))),
        }
    }

    /// Forgets `key`'s entry (the user disconnected or connected again).
    pub fn forget(&self, key: &UserKey) {
        self.entries().remove(key);
    }

    /// Gives up storing the token that replaced `replaced`: logs it (user ID only) and
    /// returns the error its user reads, which callers holding `replaced` get from now on.
    pub fn lose(&self, key: &UserKey, replaced: &StoredToken, why: &str) -> RefreshError {
        crate::metrics::refresh(crate::metrics::RefreshResult::StoreFailed);
        log::error!(
            "the renewed token of user {} could not be stored in Mattermost ({why}); they must connect again",
            crate::logline::escape(&key.user_id)
        );
        let text = format!(
            "Your connection was renewed, but Mattermost could not save the new token ({}).",
            crate::markdown::escape(why, 300)
        );
        self.entries().insert(
            key.clone(),
            Entry {
                replaces: digest_of(replaced),
                token: replaced.clone(),
                lost: Some((text.clone(), Instant::now())),
            },
        );
        self.settled.notify_waiters();
        RefreshError::Dead(text)
    }

    /// The background store of `token` ended (stored, or superseded): forgets it.
    pub fn settle(&self, key: &UserKey, token: &StoredToken) {
        let mut entries = self.entries();
        if entries
            .get(key)
            .is_some_and(|e| e.lost.is_none() && same(&e.token, token))
        {
            entries.remove(key);
        }
        drop(entries);
        self.settled.notify_waiters();
    }

    /// Waits `wait` between two background store attempts; not at all once draining.
    pub async fn pause(&self, wait: Duration) {
        let hurry = self.hurry.notified();
        if !self.draining.load(Ordering::SeqCst) {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = hurry => {}
            }
        }
    }

    /// Tokens kept and not lost.
    pub fn count(&self) -> usize {
        self.entries().values().filter(|e| e.lost.is_none()).count()
    }

    /// On shutdown: makes the background stores try at once and waits for them for at most
    /// `within`; logs the users whose token is still unstored then.
    pub async fn drain(&self, within: Duration) {
        self.draining.store(true, Ordering::SeqCst);
        self.hurry.notify_waiters();
        let until = Instant::now() + within;
        loop {
            let settled = self.settled.notified();
            if self.count() == 0 {
                return;
            }
            if tokio::time::timeout_at(until, settled).await.is_err() {
                for (key, _) in self.entries().iter().filter(|(_, e)| e.lost.is_none()) {
                    log::error!(
                        "exiting with the renewed token of user {} not stored in Mattermost; they must connect again",
                        crate::logline::escape(&key.user_id)
                    );
                }
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mattermost_apps::secret::SecretString;

    fn token(access: &str) -> StoredToken {
        StoredToken {
            access_token: SecretString::from(access),
            token_type: "Bearer".into(),
            refresh_token: SecretString::from("rt"),
            expiry: None,
        }
    }

    fn key(site: &str, user: &str) -> UserKey {
        UserKey {
            site: site.into(),
            user_id: user.into(),
        }
    }

    #[test]
    fn a_kept_token_goes_only_to_a_caller_holding_the_token_it_replaced() {
        let unstored = Unstored::default();
        let alice = key("http://a.example", "alice");
        unstored.keep(&alice, &token("old"), &token("new"));
        let handed = unstored.for_caller(&alice, &token("old"));
        assert!(matches!(handed, Some(Ok(t)) if same(&t, &token("new"))));
        // Another token, another site, another user: nothing.
        assert!(unstored.for_caller(&alice, &token("forged")).is_none());
        let other_site = key("http://b.example", "alice");
        assert!(unstored.for_caller(&other_site, &token("old")).is_none());
        assert!(unstored
            .for_caller(&key("http://a.example", "bob"), &token("old"))
            .is_none());
        assert_eq!(unstored.count(), 1);
        unstored.settle(&alice, &token("new"));
        assert_eq!(unstored.count(), 0);
    }

    #[tokio::test]
    async fn a_lost_token_is_explained_and_drain_does_not_wait_for_it() {
        let unstored = Unstored::default();
        let alice = key("http://a.example", "alice");
        unstored.keep(&alice, &token("old"), &token("new"));
        let err = unstored.lose(&alice, &token("old"), "too large");
        assert!(err.to_string().contains("too large"), "{err}");
        let told = unstored.for_caller(&alice, &token("old"));
        assert!(matches!(told, Some(Err(RefreshError::Dead(_)))), "{told:?}");
        assert_eq!(unstored.count(), 0);
        tokio::time::timeout(
            Duration::from_secs(5),
            unstored.drain(Duration::from_secs(60)),
        )
        .await
        .expect("nothing left to wait for");
    }
}
