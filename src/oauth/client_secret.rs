//! The client secret in the stored OAuth2 app (`OAuth2App.client_secret`), sealed with the
//! app's keys: opened where the provider config is built, sealed where `configure` stores
//! it. The plugin never reads it (it shows its last four characters in debug output only).

use crate::seal::{client_secret_aad, KeyRing, OpenError, SealError};
use mattermost_apps::secret::{ExposeSecret, SecretString};
use mattermost_apps::OAuth2Context;

/// The client secret stored in `oauth2.app`: a sealed one opened with `keys`, one an
/// earlier version stored in plain text as it is.
pub fn open_client_secret(
    oauth2: &OAuth2Context,
    keys: &KeyRing,
    app_id: &str,
) -> Result<SecretString, OpenError> {
    let stored = oauth2.app.client_secret.expose_secret();
    Ok(match keys.open_text(stored, &client_secret_aad(app_id))? {
        Some(plain) => SecretString::from(plain.as_str()),
        None => oauth2.app.client_secret.clone(),
    })
}

/// The client secret sealed with the current key, as stored in the app record.
pub fn seal_client_secret(
    secret: &SecretString,
    keys: &KeyRing,
    app_id: &str,
) -> Result<SecretString, SealError> {
    if secret.expose_secret().is_empty() {
        return Ok(SecretString::default());
    }
    keys.seal_text(secret.expose_secret(), &client_secret_aad(app_id))
        .map(SecretString::from)
}

/// What an admin reads when the stored client secret does not open, and what to do.
pub fn unopened_secret(err: &OpenError) -> String {
    format!(
        "the stored one cannot be opened: {err}. Start the app with the key that sealed it, \
         or enter the client secret again with `configure`"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::ProviderConfig;

    fn keys() -> KeyRing {
        KeyRing::parse(&KeyRing::generate_text("k1").expect("rng")).expect("ring")
    }

    #[test]
    fn the_client_secret_is_sealed_for_the_app_record_and_plain_ones_still_read() {
        let keys = keys();
        let mut oauth2 = OAuth2Context::default();
        oauth2.app.client_id = "id".into();
        oauth2.app.data = Some(serde_json::json!({"provider": "github"}));
        // Stored by an earlier version, in plain text.
        oauth2.app.client_secret = SecretString::from("GOCSPX-legacy");
        let config = ProviderConfig::from_context(&oauth2, &keys, "app")
            .expect("valid")
            .expect("configured");
        assert_eq!(config.client_secret.expose_secret(), "GOCSPX-legacy");
        let sealed = seal_client_secret(&config.client_secret, &keys, "app").expect("seal");
        assert!(!sealed.expose_secret().contains("GOCSPX"));
        oauth2.app.client_secret = sealed;
        let config = ProviderConfig::from_context(&oauth2, &keys, "app")
            .expect("valid")
            .expect("configured");
        assert_eq!(config.client_secret.expose_secret(), "GOCSPX-legacy");
        // Another key, or another app's record: a problem named for the admin, no panic.
        for (keys, app) in [(self::keys(), "app"), (keys, "other-app")] {
            let problems = ProviderConfig::from_context(&oauth2, &keys, app).expect_err("no");
            assert_eq!(problems[0].0, "client_secret");
            assert!(problems[0].1.contains("cannot be opened"), "{problems:?}");
        }
    }
}
