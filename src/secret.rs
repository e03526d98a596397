//! The app's secret: [`AppSecret`], the JWT secret shared with Mattermost. Secret strings
//! in general are the protocol crate's [`Secret`].

pub use mattermost_apps::secret::Secret;

/// The shared secret the Apps plugin signs its JWTs with (HS256), at least 32 bytes.
/// Other keys the app needs (the PKCE key) are derived from it, so replicas that share
/// it agree on everything.
#[derive(Clone)]
pub struct AppSecret(Secret);

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
        Ok(Self(Secret::new(value)))
    }

    /// A fresh random secret: 32 random bytes, hex-encoded (64 characters).
    pub fn generate() -> Result<Self, ring::error::Unspecified> {
        let bytes: [u8; 32] = ring::rand::generate(&ring::rand::SystemRandom::new())?.expose();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self(Secret::new(hex)))
    }

    /// The secret's bytes, for signing keys.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl std::fmt::Debug for AppSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppSecret([redacted])")
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
        assert_eq!(a.expose().len(), 64);
        assert_ne!(a.expose(), b.expose());
        assert!(AppSecret::parse(a.expose()).is_ok());
        assert_eq!(format!("{a:?}"), "AppSecret([redacted])");
    }
}
