//! Verifying `Mattermost-App-Authorization: Bearer <JWT>`, which the plugin adds to every
//! call when the manifest says `use_jwt`: HS256 under the secret typed at install, with
//! `exp` (issue time + 15 minutes) and, when the acting user was expanded, `acting_user_id`.
//!
//! Only HS256 is accepted, so verification is short enough to do directly with `ring`
//! (constant-time HMAC check, key prepared once), instead of a general JWT library that
//! prepares the key and decodes the claims twice on every call: this runs on every call,
//! `/bindings` included. The tests sign with the `jsonwebtoken` crate, so this is checked
//! against an independent implementation.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::hmac;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The header that carries the token.
pub const HEADER: &str = "Mattermost-App-Authorization";

/// The claims the plugin puts in its tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Expiry, Unix seconds.
    pub exp: u64,
    /// The expanded acting user's ID; absent when `acting_user` was not expanded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acting_user_id: Option<String>,
}

/// Why a call's token was refused. The texts are safe to return to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// No header.
    #[error("missing Mattermost-App-Authorization header")]
    Missing,
    /// The header is not `Bearer <token>`.
    #[error("Mattermost-App-Authorization is not a Bearer token")]
    NotBearer,
    /// `exp` is in the past.
    #[error("the JWT has expired")]
    Expired,
    /// Signed with another secret (or tampered with).
    #[error("the JWT signature does not match the app secret")]
    BadSignature,
    /// Not HS256.
    #[error("the JWT is not signed with HS256")]
    WrongAlgorithm,
    /// Anything else: not a JWT, no `exp`, bad claims.
    #[error("the JWT is malformed")]
    Malformed,
    /// `acting_user_id` differs from the context's acting user.
    #[error("the JWT's acting_user_id does not match the context's acting user")]
    UserMismatch,
}

/// Checks tokens against the app secret.
pub struct JwtVerifier {
    key: hmac::Key,
}

/// Clock skew tolerated on `exp`, in seconds.
const LEEWAY: u64 = 30;

/// The one header field that matters.
#[derive(Deserialize)]
struct JoseHeader {
    alg: String,
}

impl JwtVerifier {
    /// A verifier for tokens signed with `secret` (raw bytes, as the admin typed it).
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    /// Verifies the header value (`Bearer <token>`) and returns the claims.
    pub fn verify_header(&self, header: Option<&str>) -> Result<Claims, JwtError> {
        let header = header.ok_or(JwtError::Missing)?;
        let token = match header.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Err(JwtError::NotBearer),
        };
        self.verify(token)
    }

    /// Verifies a bare token: three base64url parts, `alg` HS256, the signature over the
    /// first two, then `exp` (required) not in the past.
    pub fn verify(&self, token: &str) -> Result<Claims, JwtError> {
        let (signed, signature) = token.rsplit_once('.').ok_or(JwtError::Malformed)?;
        let (header, payload) = signed.split_once('.').ok_or(JwtError::Malformed)?;
        let header: JoseHeader = decode_part(header)?;
        if header.alg != "HS256" {
            return Err(JwtError::WrongAlgorithm);
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| JwtError::Malformed)?;
        hmac::verify(&self.key, signed.as_bytes(), &signature)
            .map_err(|_| JwtError::BadSignature)?;
        let claims: Claims = decode_part(payload)?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if claims.exp.saturating_add(LEEWAY) < now {
            return Err(JwtError::Expired);
        }
        Ok(claims)
    }
}

/// Decodes one base64url JSON part of a token.
fn decode_part<T: DeserializeOwned>(part: &str) -> Result<T, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JwtError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
}

/// Checks the token's `acting_user_id` against the context's acting user: when the context
/// has one, the token must name the same user. (The plugin sets the claim from the expanded
/// acting user, so a context with a user and a token without one is a forgery.)
pub fn check_acting_user(claims: &Claims, context_user: Option<&str>) -> Result<(), JwtError> {
    match context_user {
        Some(user) if claims.acting_user_id.as_deref() != Some(user) => Err(JwtError::UserMismatch),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn token(alg: Algorithm, secret: &[u8], exp_offset: i64, user: Option<&str>) -> String {
        let exp = (chrono::Utc::now().timestamp() + exp_offset) as u64;
        let claims = Claims {
            exp,
            acting_user_id: user.map(str::to_owned),
        };
        encode(
            &Header::new(alg),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .expect("sign")
    }

    #[test]
    fn accepts_a_good_token_and_returns_its_claims() {
        let v = JwtVerifier::new(SECRET);
        let t = token(Algorithm::HS256, SECRET, 900, Some("u1"));
        let claims = v
            .verify_header(Some(&format!("Bearer {t}")))
            .expect("valid");
        assert_eq!(claims.acting_user_id.as_deref(), Some("u1"));
        assert_eq!(check_acting_user(&claims, Some("u1")), Ok(()));
        assert_eq!(check_acting_user(&claims, None), Ok(()));
        assert_eq!(
            check_acting_user(&claims, Some("u2")),
            Err(JwtError::UserMismatch)
        );
    }

    #[test]
    fn refuses_every_kind_of_bad_token() {
        let v = JwtVerifier::new(SECRET);
        let bearer = |t: String| format!("Bearer {t}");
        assert_eq!(v.verify_header(None), Err(JwtError::Missing));
        assert_eq!(v.verify_header(Some("Basic abc")), Err(JwtError::NotBearer));
        assert_eq!(
            v.verify_header(Some(&bearer(token(Algorithm::HS256, SECRET, -120, None)))),
            Err(JwtError::Expired)
        );
        assert_eq!(
            v.verify_header(Some(&bearer(token(
                Algorithm::HS256,
                b"another-secret-another-secret-xx",
                900,
                None
            )))),
            Err(JwtError::BadSignature)
        );
        assert_eq!(
            v.verify_header(Some(&bearer(token(Algorithm::HS512, SECRET, 900, None)))),
            Err(JwtError::WrongAlgorithm)
        );
        assert_eq!(
            v.verify_header(Some("Bearer not.a.jwt")),
            Err(JwtError::Malformed)
        );
    }

    #[test]
    fn a_context_user_without_a_token_user_is_a_mismatch() {
        let claims = Claims {
            exp: 0,
            acting_user_id: None,
        };
        assert_eq!(
            check_acting_user(&claims, Some("u1")),
            Err(JwtError::UserMismatch)
        );
    }
}
