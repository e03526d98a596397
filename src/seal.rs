//! Sealing at rest: what the app stores in Mattermost (users' tokens, the client secret) is
//! encrypted with AES-256-GCM under a key only the app holds, so a copy of Mattermost's
//! database or of a backup reveals none of it.
//!
//! - [`KeyRing`]: the keys (`APP_TOKEN_KEY`): the first seals, every one opens, so a key is
//!   rotated by putting a new one first and keeping the old one until nothing needs it.
//! - [`Sealed`]: the stored envelope, `{"v":1,"kid":…,"nonce":…,"ct":…}`, with a fresh
//!   random nonce each time. The value is deflated before it is sealed: tokens are base64
//!   text, which deflate packs back to about 6 bits a character, so the envelope's own
//!   base64 costs nothing and the largest tokens stay well inside the plugin's 8 KiB. (What
//!   is sealed is the provider's text only, so the compressed length tells no secret.)
//! - The associated data names where a value belongs ([`token_aad`], [`client_secret_aad`]),
//!   so a value copied into another user's record, or into the app record, does not open.

use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The envelope version this code writes and reads.
const VERSION: u8 = 1;

/// Key length in bytes (AES-256).
pub const KEY_LEN: usize = 32;

/// The most an opened value may inflate to: the plugin stores at most 8 KiB.
const MAX_PLAIN: usize = 64 * 1024;

/// The associated data of a user's token: the app and the user it belongs to.
pub fn token_aad(app_id: &str, user_id: &str) -> Vec<u8> {
    [
        b"hello-oauth2-rs user token\0",
        app_id.as_bytes(),
        b"\0",
        user_id.as_bytes(),
    ]
    .concat()
}

/// The associated data of the client secret in the app record.
pub fn client_secret_aad(app_id: &str) -> Vec<u8> {
    [b"hello-oauth2-rs client secret\0", app_id.as_bytes()].concat()
}

/// One key and its ID (the ID is stored with each value, so the ring finds its key).
struct Key {
    id: String,
    key: LessSafeKey,
}

/// The sealing keys: the first seals, all open. Cheap to clone; `Debug` shows the key IDs
/// only.
#[derive(Clone)]
pub struct KeyRing(Arc<[Key]>);

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.0.iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("KeyRing").field("ids", &ids).finish()
    }
}

/// Why a key ring was refused. Never contains key material.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyRingError {
    /// No key at all.
    #[error("no key given: expected `id:base64key` entries separated by commas")]
    Empty,
    /// An entry is not `id:base64key`.
    #[error("entry {0} is not `id:base64key` (ID of 1 to 32 letters, digits, `-` or `_`)")]
    Malformed(usize),
    /// A key does not decode to 32 bytes.
    #[error("the key of entry {0} is not {KEY_LEN} bytes of base64")]
    BadKey(usize),
    /// Two keys share an ID.
    #[error("the key ID {0:?} is given twice")]
    Duplicate(String),
}

/// Sealing failed (the system random generator, or a value too long for the cipher).
#[derive(Debug, thiserror::Error)]
#[error("the value could not be sealed")]
pub struct SealError;

/// A stored value that does not open: sealed with a key not in the ring (lost or wrong),
/// tampered with, moved from another place, or not an envelope this version knows.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenError {
    /// No key in the ring has this ID.
    #[error("it was sealed with the key {0:?}, which is not among the app's keys (APP_TOKEN_KEY)")]
    UnknownKey(String),
    /// The key is there but the value does not authenticate.
    #[error("it does not open with the app's key {0:?} (a different key under the same ID, or the value was altered)")]
    Rejected(String),
    /// Not an envelope this version reads.
    #[error("it is not a sealed value this version of the app can read")]
    Unreadable,
}

impl KeyRing {
    /// Parses `id:base64key` entries separated by commas or whitespace; the first seals.
    /// IDs are 1 to 32 of `A-Z a-z 0-9 - _`; keys are 32 bytes in standard or URL-safe
    /// base64.
    pub fn parse(text: &str) -> Result<Self, KeyRingError> {
        let mut keys: Vec<Key> = Vec::new();
        let entries = text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|e| !e.is_empty());
        for (index, entry) in entries.enumerate() {
            let number = index + 1;
            let (id, encoded) = entry
                .split_once(':')
                .ok_or(KeyRingError::Malformed(number))?;
            if id.is_empty()
                || id.len() > 32
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(KeyRingError::Malformed(number));
            }
            let bytes = Zeroizing::new(
                STANDARD
                    .decode(encoded)
                    .or_else(|_| URL_SAFE_NO_PAD.decode(encoded.trim_end_matches('=')))
                    .map_err(|_| KeyRingError::BadKey(number))?,
            );
            let unbound =
                UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| KeyRingError::BadKey(number))?;
            if keys.iter().any(|k| k.id == id) {
                return Err(KeyRingError::Duplicate(id.to_owned()));
            }
            keys.push(Key {
                id: id.to_owned(),
                key: LessSafeKey::new(unbound),
            });
        }
        if keys.is_empty() {
            return Err(KeyRingError::Empty);
        }
        Ok(Self(keys.into()))
    }

    /// A new one-key ring's text (`<id>:<base64 of 32 random bytes>`), for the key file.
    pub fn generate_text(id: &str) -> Result<Zeroizing<String>, SealError> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        SystemRandom::new()
            .fill(bytes.as_mut())
            .map_err(|_| SealError)?;
        Ok(Zeroizing::new(format!("{id}:{}", STANDARD.encode(*bytes))))
    }

    /// The ID of the key that seals.
    pub fn current_id(&self) -> &str {
        &self.0[0].id
    }

    /// Seals `plain` for the place `aad` names, with the first key and a fresh nonce.
    pub fn seal(&self, plain: &[u8], aad: &[u8]) -> Result<Sealed, SealError> {
        let key = &self.0[0];
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SealError)?;
        let mut in_out = miniz_oxide::deflate::compress_to_vec(plain, 9);
        key.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut in_out,
            )
            .map_err(|_| SealError)?;
        Ok(Sealed {
            v: VERSION,
            kid: key.id.clone(),
            nonce: URL_SAFE_NO_PAD.encode(nonce),
            ct: URL_SAFE_NO_PAD.encode(&in_out),
        })
    }

    /// Opens `sealed` for the place `aad` names, with whichever key sealed it.
    pub fn open(&self, sealed: &Sealed, aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, OpenError> {
        if sealed.v != VERSION {
            return Err(OpenError::Unreadable);
        }
        let key = self
            .0
            .iter()
            .find(|k| k.id == sealed.kid)
            .ok_or_else(|| OpenError::UnknownKey(sealed.kid.clone()))?;
        let nonce: [u8; NONCE_LEN] = URL_SAFE_NO_PAD
            .decode(&sealed.nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or(OpenError::Unreadable)?;
        let mut in_out = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(&sealed.ct)
                .map_err(|_| OpenError::Unreadable)?,
        );
        let len = key
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut in_out,
            )
            .map_err(|_| OpenError::Rejected(key.id.clone()))?
            .len();
        in_out.truncate(len);
        miniz_oxide::inflate::decompress_to_vec_with_limit(&in_out, MAX_PLAIN)
            .map(Zeroizing::new)
            .map_err(|_| OpenError::Unreadable)
    }

    /// Seals a string into the text of its envelope, for a place that holds a string
    /// (the client secret).
    pub fn seal_text(&self, plain: &str, aad: &[u8]) -> Result<String, SealError> {
        serde_json::to_string(&self.seal(plain.as_bytes(), aad)?).map_err(|_| SealError)
    }

    /// Opens a string stored by [`KeyRing::seal_text`]; `Ok(None)` when `text` is not an
    /// envelope (a value stored in plain text by an earlier version).
    pub fn open_text(
        &self,
        text: &str,
        aad: &[u8],
    ) -> Result<Option<Zeroizing<String>>, OpenError> {
        let Some(sealed) = Sealed::from_text(text) else {
            return Ok(None);
        };
        let plain = self.open(&sealed, aad)?;
        let text = std::str::from_utf8(&plain).map_err(|_| OpenError::Unreadable)?;
        Ok(Some(Zeroizing::new(text.to_owned())))
    }
}

/// The stored envelope: version, key ID, nonce and ciphertext with its tag (both base64url
/// without padding).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sealed {
    /// Envelope version, 1.
    pub v: u8,
    /// The ID of the key that sealed it.
    pub kid: String,
    /// The 96-bit nonce.
    pub nonce: String,
    /// Ciphertext and 128-bit tag.
    pub ct: String,
}

impl Sealed {
    /// Reads an envelope from a stored JSON value; `None` when it is not one (a value an
    /// earlier version stored in plain text).
    pub fn from_value(value: &serde_json::Value) -> Option<Self> {
        value.get("ct")?;
        Self::deserialize(value).ok()
    }

    /// Reads an envelope from a stored string (the client secret); `None` when it is not
    /// one (a secret an earlier version stored in plain text).
    pub fn from_text(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_text(id: &str) -> String {
        KeyRing::generate_text(id).expect("rng").to_string()
    }

    #[test]
    fn a_value_round_trips_and_each_seal_is_fresh() {
        let ring = KeyRing::parse(&key_text("k1")).expect("ring");
        let aad = token_aad("app", "user1");
        let a = ring.seal(b"secret token", &aad).expect("seal");
        let b = ring.seal(b"secret token", &aad).expect("seal");
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ct, b.ct);
        assert_eq!(a.kid, "k1");
        assert_eq!(&ring.open(&a, &aad).expect("opens")[..], b"secret token");
    }

    #[test]
    fn another_place_does_not_open() {
        let ring = KeyRing::parse(&key_text("k1")).expect("ring");
        let sealed = ring.seal(b"t", &token_aad("app", "alice")).expect("seal");
        let err = ring
            .open(&sealed, &token_aad("app", "bob"))
            .expect_err("bob");
        assert_eq!(err, OpenError::Rejected("k1".into()));
        assert!(ring.open(&sealed, &token_aad("other", "alice")).is_err());
        assert!(ring.open(&sealed, &client_secret_aad("app")).is_err());
        // The separator keeps ("ab", "c") apart from ("a", "bc").
        assert_ne!(token_aad("ab", "c"), token_aad("a", "bc"));
    }

    #[test]
    fn tampering_does_not_open() {
        let ring = KeyRing::parse(&key_text("k1")).expect("ring");
        let aad = client_secret_aad("app");
        let sealed = ring.seal(b"client secret", &aad).expect("seal");
        let mut ct = URL_SAFE_NO_PAD.decode(&sealed.ct).expect("b64");
        for i in [0, ct.len() - 1] {
            ct[i] ^= 1;
            let bad = Sealed {
                ct: URL_SAFE_NO_PAD.encode(&ct),
                ..sealed.clone()
            };
            assert_eq!(ring.open(&bad, &aad), Err(OpenError::Rejected("k1".into())));
            ct[i] ^= 1;
        }
        let bad_nonce = Sealed {
            nonce: URL_SAFE_NO_PAD.encode([0u8; NONCE_LEN]),
            ..sealed.clone()
        };
        assert!(ring.open(&bad_nonce, &aad).is_err());
        let future = Sealed {
            v: 2,
            ..sealed.clone()
        };
        assert_eq!(ring.open(&future, &aad), Err(OpenError::Unreadable));
        let short = Sealed {
            nonce: "AAAA".into(),
            ..sealed
        };
        assert_eq!(ring.open(&short, &aad), Err(OpenError::Unreadable));
    }

    #[test]
    fn an_old_key_opens_and_the_current_key_seals_again() {
        let old_text = key_text("old");
        let old = KeyRing::parse(&old_text).expect("old");
        let aad = token_aad("app", "u");
        let sealed = old.seal(b"t", &aad).expect("seal");
        let rotated = KeyRing::parse(&format!("{},{old_text}", key_text("new"))).expect("ring");
        assert_eq!(rotated.current_id(), "new");
        let plain = rotated.open(&sealed, &aad).expect("old key opens");
        let again = rotated.seal(&plain, &aad).expect("seal");
        assert_eq!(again.kid, "new");
        // Once the old key is dropped, only the re-sealed value opens.
        let new_only = KeyRing::parse(&key_text("new")).expect("ring");
        assert_eq!(
            new_only.open(&sealed, &aad),
            Err(OpenError::UnknownKey("old".into()))
        );
        // A different key under the same ID is refused, not mistaken.
        assert_eq!(
            new_only.open(&again, &aad),
            Err(OpenError::Rejected("new".into()))
        );
    }

    #[test]
    fn plain_text_is_not_an_envelope() {
        let ring = KeyRing::parse(&key_text("k1")).expect("ring");
        let aad = client_secret_aad("app");
        assert_eq!(ring.open_text("GOCSPX-plain-secret", &aad), Ok(None));
        assert_eq!(ring.open_text("{\"x\":1}", &aad), Ok(None));
        let text = ring.seal_text("GOCSPX-plain-secret", &aad).expect("seal");
        assert!(!text.contains("GOCSPX"));
        let opened = ring.open_text(&text, &aad).expect("opens").expect("sealed");
        assert_eq!(opened.as_str(), "GOCSPX-plain-secret");
        assert!(Sealed::from_value(&serde_json::json!({"access_token": "x"})).is_none());
    }

    #[test]
    fn key_rings_parse_strictly_and_never_echo_a_key() {
        let a = key_text("a");
        let b = key_text("b-2_X");
        let ring = KeyRing::parse(&format!(" {a},\n{b}\n")).expect("two keys");
        assert_eq!(ring.current_id(), "a");
        assert_eq!(format!("{ring:?}"), r#"KeyRing { ids: ["a", "b-2_X"] }"#);
        assert_eq!(KeyRing::parse(" , ").err(), Some(KeyRingError::Empty));
        let short = format!("k:{}", STANDARD.encode([7u8; 16]));
        assert_eq!(KeyRing::parse(&short).err(), Some(KeyRingError::BadKey(1)));
        assert_eq!(
            KeyRing::parse(&format!("{a},nocolon")).err(),
            Some(KeyRingError::Malformed(2))
        );
        assert_eq!(
            KeyRing::parse(&format!("bad.id:{}", &a[2..])).err(),
            Some(KeyRingError::Malformed(1))
        );
        assert_eq!(
            KeyRing::parse(&format!("{a},{a}")).err(),
            Some(KeyRingError::Duplicate("a".into()))
        );
        let err = KeyRing::parse("k:not-base64!!").expect_err("bad");
        assert!(!err.to_string().contains("not-base64"));
    }
}
