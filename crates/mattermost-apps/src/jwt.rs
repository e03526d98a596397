//! Verifying `Mattermost-App-Authorization: Bearer <JWT>`, which the plugin adds to every
//! call when the manifest says `use_jwt`: HS256 under the secret typed at install, with
//! `exp` (issue time + 15 minutes) and, when the acting user was expanded, `acting_user_id`.
//! Verification is the `jsonwebtoken` crate's, restricted to HS256 with `exp` required.
//!
//! ```
//! use mattermost_apps::jwt::{check_acting_user, JwtError, JwtVerifier};
//!
//! let verifier = JwtVerifier::new(b"the secret typed at install, 32+ bytes");
//! assert_eq!(verifier.verify_header(None), Err(JwtError::Missing));
//! assert_eq!(
//!     verifier.verify_header(Some("Bearer not.a.jwt")),
//!     Err(JwtError::Malformed)
//! );
//! ```

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
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

/// Checks tokens against the app secret. Build it once and share it.
pub struct JwtVerifier {
    key: DecodingKey,
    validation: Validation,
}

/// Clock skew tolerated on `exp`, in seconds.
const LEEWAY: u64 = 30;

impl JwtVerifier {
    /// A verifier for tokens signed with `secret` (raw bytes, as the admin typed it).
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp"]);
        validation.leeway = LEEWAY;
        // The plugin sends no audience; without this a token that had one would be refused.
        validation.validate_aud = false;
        Self {
            key: DecodingKey::from_secret(secret),
            validation,
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

    /// Verifies a bare token: `alg` HS256, the signature, then `exp` (required) not in the
    /// past.
    pub fn verify(&self, token: &str) -> Result<Claims, JwtError> {
        jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| match err.kind() {
                ErrorKind::ExpiredSignature => JwtError::Expired,
                ErrorKind::InvalidSignature => JwtError::BadSignature,
                ErrorKind::InvalidAlgorithm => JwtError::WrongAlgorithm,
                _ => JwtError::Malformed,
            })
    }
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
    use jsonwebtoken::{encode, EncodingKey, Header};

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
        // An unsigned token ("alg": "none") with valid claims.
        let unsigned = format!(
            "eyJhbGciOiJub25lIn0.{}.",
            encode(
                &Header::new(Algorithm::HS256),
                &Claims {
                    exp: u64::MAX / 2,
                    acting_user_id: None
                },
                &EncodingKey::from_secret(SECRET),
            )
            .expect("sign")
            .split('.')
            .nth(1)
            .expect("claims part")
        );
        assert_eq!(v.verify(&unsigned), Err(JwtError::Malformed));
    }

    #[test]
    fn a_token_without_exp_is_refused() {
        let v = JwtVerifier::new(SECRET);
        let t = encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({"acting_user_id": "u1"}),
            &EncodingKey::from_secret(SECRET),
        )
        .expect("sign");
        assert_eq!(v.verify(&t), Err(JwtError::Malformed));
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
