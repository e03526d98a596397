//! The Apps plugin's KV store: `/kv/{prefix}/{key}`, or `/kv/{key}` without a prefix
//! (mattermost-plugin-apps: server/httpin/service.go, server/httpin/kv.go).
//!
//! A value belongs to the app *and the token's user*: the plugin keys it by app ID, the
//! acting user's ID (the bot's, with the bot's token), the prefix and the key
//! (server/store/service.go, `Hashkey`). So a value set with one user's token is invisible
//! to another user and to the bot; keep app-wide values with the bot's client
//! ([`AppsClient::as_bot`]). Values are JSON of at most [`MAX_BODY`] bytes.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::core::{decode_optional, AppsClient, ClientError, MAX_BODY};

/// The longest prefix the plugin accepts, in bytes.
pub const MAX_PREFIX: usize = 2;

impl AppsClient {
    /// Reads a value; `None` when nothing (or `{}`/`null`) is stored. `prefix` is at most
    /// two bytes (`""` for none), `key` any non-empty text without `/`, as in
    /// [`kv_set`](Self::kv_set).
    ///
    /// ```no_run
    /// # async fn f(client: mattermost_apps::AppsClient) -> Result<(), mattermost_apps::client::ClientError> {
    /// let note: Option<String> = client.kv_get("", "note").await?;
    /// # Ok(()) }
    /// ```
    pub async fn kv_get<T: DeserializeOwned>(
        &self,
        prefix: &str,
        key: &str,
    ) -> Result<Option<T>, ClientError> {
        let bytes = self.get(&self.kv_url(prefix, key)?).await?;
        decode_optional(&bytes)
    }

    /// Stores a value and returns the plugin's `{"changed": bool}`. Despite its name it
    /// says whether the value was *written*: the plugin passes on what Mattermost's plugin
    /// KV store answers (mattermost-plugin-apps server/store/appkv.go, `KV.Set`), `true` for
    /// every write, the same value again included (checked on Mattermost 7.7 with plugin
    /// 1.2.2), so `false` means nothing was stored. Like Go's `KVSet(prefix, id, value)`:
    /// `prefix` is at most [`MAX_PREFIX`] bytes (`""` for none) and `key` non-empty; neither
    /// may hold `/` nor be `.` or `..` (the plugin routes on the decoded path, so such a key
    /// would reach another key), which is refused unsent with [`ClientError::BadKey`].
    ///
    /// ```no_run
    /// # async fn f(client: mattermost_apps::AppsClient) -> Result<(), mattermost_apps::client::ClientError> {
    /// let stored = client.kv_set("rm", "2024-05-01", &["water the plants"]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn kv_set<T: Serialize + ?Sized>(
        &self,
        prefix: &str,
        key: &str,
        value: &T,
    ) -> Result<bool, ClientError> {
        #[derive(serde::Deserialize)]
        struct Changed {
            changed: bool,
        }
        let url = self.kv_url(prefix, key)?;
        let answer = self
            .send(reqwest::Method::POST, &url, value, MAX_BODY)
            .await?;
        Ok(serde_json::from_slice::<Changed>(&answer)?.changed)
    }

    /// Deletes a value (deleting a missing one is not an error).
    ///
    /// ```no_run
    /// # async fn f(client: mattermost_apps::AppsClient) -> Result<(), mattermost_apps::client::ClientError> {
    /// client.kv_delete("", "note").await?;
    /// # Ok(()) }
    /// ```
    pub async fn kv_delete(&self, prefix: &str, key: &str) -> Result<(), ClientError> {
        self.delete(&self.kv_url(prefix, key)?).await
    }

    fn kv_url(&self, prefix: &str, key: &str) -> Result<String, ClientError> {
        Ok(self.apps(&kv_path(prefix, key)?))
    }
}

/// `/kv/{key}` or `/kv/{prefix}/{key}`, each part one percent-encoded path segment.
fn kv_path(prefix: &str, key: &str) -> Result<String, ClientError> {
    if prefix.len() > MAX_PREFIX {
        return Err(ClientError::BadKey("the prefix is longer than 2 bytes"));
    }
    if key.is_empty() {
        return Err(ClientError::BadKey("the key is empty"));
    }
    for part in [prefix, key] {
        if part.contains('/') || part == "." || part == ".." {
            return Err(ClientError::BadKey(
                "a prefix or key may not contain `/` or be `.` or `..`",
            ));
        }
    }
    Ok(if prefix.is_empty() {
        format!("/kv/{}", segment(key))
    } else {
        format!("/kv/{}/{}", segment(prefix), segment(key))
    })
}

/// Percent-encodes everything but letters, digits and `*-._`.
fn segment(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_the_plugins_routes() {
        assert_eq!(kv_path("", "note").ok(), Some("/kv/note".into()));
        assert_eq!(
            kv_path("rm", "a b?%#").ok(),
            Some("/kv/rm/a%20b%3F%25%23".into())
        );
        assert_eq!(kv_path("é", "k").ok(), Some("/kv/%C3%A9/k".into()));
        for (prefix, key) in [
            ("abc", "k"),
            ("", ""),
            ("", "a/b"),
            ("a/", "k"),
            ("", ".."),
            (".", "k"),
        ] {
            assert!(
                matches!(kv_path(prefix, key), Err(ClientError::BadKey(_))),
                "{prefix:?} {key:?}"
            );
        }
    }
}
