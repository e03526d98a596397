//! [`AppSecret`]: the JWT secret shared with Mattermost. Other secret strings are
//! [`SecretString`]s (see [`mattermost_apps::secret`]).

use mattermost_apps::secret::{ExposeSecret, SecretString};

/// The shared secret the Apps plugin signs its JWTs with (HS256), at least 32 bytes.
/// Other keys the app needs (the PKCE key) are derived from it, so replicas that share
/// it agree on everything.
#[derive(Clone, Debug)]
pub struct AppSecret(SecretString);

/// Why a candidate app secret was refused.
#[derive(Debug, thiserror::Error)]
pub enum AppSecretError {
    /// The secret is shorter than [`AppSecret::MIN_LEN`] bytes.
    #[error("the app secret must be at least {min} bytes long, got {0}", min = AppSecret::MIN_LEN)]
    TooShort(usize),
}

impl AppSecret {
    /// The shortest secret accepted, in bytes (256 bits).
    pub const MIN_LEN: usize = 32;

    /// Accepts `value` (surrounding whitespace trimmed) when it is long enough.
    pub fn parse(value: &str) -> Result<Self, AppSecretError> {
        let value = value.trim();
        if value.len() < Self::MIN_LEN {
            return Err(AppSecretError::TooShort(value.len()));
        }
        Ok(Self(SecretString::from(value)))
    }

    /// A fresh random secret: 32 random bytes, hex-encoded (64 characters).
    pub fn generate() -> Result<Self, ring::error::Unspecified> {
        let bytes: [u8; 32] = ring::rand::generate(&ring::rand::SystemRandom::new())?.expose();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self(SecretString::from(hex)))
    }

    /// The secret, for signing keys and for the secret file.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

#[cfg(test)]
mod app_secret_tests {
    use super::*;

    #[test]
    fn short_secrets_are_refused_without_echoing_them() {
        let err = AppSecret::parse("short-secret").expect_err("too short");
        assert!(!err.to_string().contains("short-secret"));
    }

    #[test]
    fn generated_secrets_are_long_and_distinct() {
        let a = AppSecret::generate().expect("rng");
        let b = AppSecret::generate().expect("rng");
        assert_eq!(a.expose_secret().len(), 64);
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert!(AppSecret::parse(a.expose_secret()).is_ok());
        assert!(!format!("{a:?}").contains(a.expose_secret()));
    }
}
