//! Stateless PKCE: the code verifier is derived from the plugin's one-time OAuth2 `state`.
//!
//! Why derived and not stored: the plugin hands the app the same `state` at connect and at
//! complete, and it is single-use and expires after 15 minutes. Deriving the verifier as
//! `base64url(HMAC-SHA256(K, state))`, with `K` derived from `APP_SECRET`, lets any replica
//! finish a flow another replica started, with no memory in the process and no KV round trip.
//! An attacker who sees the state in a URL cannot compute the verifier without the secret,
//! which is what PKCE needs: the code alone is useless to whoever intercepts it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use oauth2::{PkceCodeChallenge, PkceCodeVerifier};
use ring::hmac;

use crate::secret::AppSecret;

/// Domain separation: the JWT key is the raw secret; this key is derived for PKCE only.
const LABEL: &[u8] = b"hello-oauth2-rs pkce v1";

/// The keyed hash that turns a state into a verifier.
pub struct PkceKey(hmac::Key);

impl PkceKey {
    /// Derives the PKCE key from the app secret.
    pub fn derive(secret: &AppSecret) -> Self {
        let root = hmac::Key::new(hmac::HMAC_SHA256, secret.expose_secret().as_bytes());
        let derived = hmac::sign(&root, LABEL);
        Self(hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()))
    }

    /// The verifier for `state`: 43 base64url characters (256 bits).
    pub fn verifier(&self, state: &str) -> PkceCodeVerifier {
        let tag = hmac::sign(&self.0, state.as_bytes());
        PkceCodeVerifier::new(URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// The S256 challenge for `state`.
    pub fn challenge(&self, state: &str) -> PkceCodeChallenge {
        PkceCodeChallenge::from_code_verifier_sha256(&self.verifier(state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(secret: &str) -> PkceKey {
        PkceKey::derive(&AppSecret::parse(secret).expect("secret"))
    }

    #[test]
    fn the_verifier_is_deterministic_per_secret_and_state() {
        let a = key("0123456789abcdef0123456789abcdef");
        let b = key("0123456789abcdef0123456789abcdef");
        let other = key("fedcba9876543210fedcba9876543210");
        let state = "p_famLXOh7SgMMpYGygL.iojzzibqu8d4sufm8bcwyxuu43";
        let v = a.verifier(state);
        assert_eq!(v.secret().len(), 43);
        assert_eq!(v.secret(), b.verifier(state).secret());
        assert_ne!(v.secret(), other.verifier(state).secret());
        assert_ne!(v.secret(), a.verifier("another.state").secret());
        assert_eq!(a.challenge(state).method().as_str(), "S256");
        assert_ne!(a.challenge(state).as_str(), v.secret());
    }
}
