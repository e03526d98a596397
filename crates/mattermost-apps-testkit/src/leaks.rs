//! Finding a secret in stored bytes in any encoding it could have been written in.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;

/// The forms `secret` takes when stored as it is, hex-encoded, or base64-encoded (standard
/// or URL-safe) at any offset in a larger value: for each of the three alignments, the part
/// of the encoding that does not depend on the bytes around it.
pub fn encodings(secret: &str) -> Vec<String> {
    let bytes = secret.as_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut forms = vec![secret.to_owned(), hex.clone(), hex.to_uppercase()];
    for pad in 0..3 {
        let mut shifted = vec![b'x'; pad];
        shifted.extend_from_slice(bytes);
        for engine in [&STANDARD, &URL_SAFE_NO_PAD] {
            let text = engine.encode(&shifted);
            let text = text.trim_end_matches('=');
            // Drop the characters that mix in the padding bytes, and the last group.
            let start = if pad == 0 { 0 } else { 4 };
            let end = text.len().saturating_sub(4);
            if end > start + 8 {
                forms.push(text[start..end].to_owned());
            }
        }
    }
    forms
}

/// The first of `secrets` found in `stored` in any of its [`encodings`], with its label.
pub fn find_leak<'a>(stored: &str, secrets: &'a [(String, String)]) -> Option<&'a str> {
    secrets
        .iter()
        .find(|(_, secret)| encodings(secret).iter().any(|form| stored.contains(form)))
        .map(|(what, _)| what.as_str())
}

#[test]
fn every_encoding_is_found_at_every_offset() {
    let secret = "ya29.a0AfH6SMB-secret_token";
    let secrets = vec![("the token".to_owned(), secret.to_owned())];
    for prefix in ["", "a", "ab", "abc"] {
        let value = format!("{{\"access_token\":\"{prefix}{secret}\"}}");
        for stored in [
            value.clone(),
            STANDARD.encode(&value),
            URL_SAFE_NO_PAD.encode(&value),
            value.bytes().map(|b| format!("{b:02x}")).collect(),
        ] {
            assert_eq!(find_leak(&stored, &secrets), Some("the token"), "{stored}");
        }
    }
    assert_eq!(find_leak("{\"v\":1,\"ct\":\"AAAA\"}", &secrets), None);
}
