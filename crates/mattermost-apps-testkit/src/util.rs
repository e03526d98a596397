//! Small helpers shared by the emulator, the fake provider and the tests: random IDs and
//! tokens, bounded waits, Go-style path cleaning.

use std::future::Future;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::{SecureRandom, SystemRandom};

/// The longest any single step of a test may wait.
pub const WAIT: Duration = Duration::from_secs(20);

/// Mattermost's base-32 alphabet for IDs and session tokens.
const MM_ALPHABET: &[u8] = b"ybndrfg8ejkmcpqxot1uwisza345h769";

/// `n` random bytes from the system generator.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random generator works");
    bytes
}

/// A 26-character Mattermost ID (user IDs, session tokens).
pub fn new_id() -> String {
    random_bytes(26)
        .into_iter()
        .map(|b| MM_ALPHABET[usize::from(b) % MM_ALPHABET.len()] as char)
        .collect()
}

/// A random base64url string of `n` bytes with a readable prefix (provider tokens, codes).
pub fn random_token(prefix: &str, n: usize) -> String {
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(random_bytes(n)))
}

/// base64url(SHA-256(text)) without padding: the PKCE S256 transform.
pub fn s256(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()))
}

/// Awaits `fut` for at most [`WAIT`]; panics naming `what` when it takes longer.
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(WAIT, fut).await {
        Ok(value) => value,
        Err(_) => panic!("timed out after {WAIT:?} waiting for {what}"),
    }
}

/// Percent-decodes `text` once (invalid escapes are kept as they are).
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-decodes until the text stops changing, as the plugin does with paths.
pub fn percent_decode_fully(text: &str) -> String {
    let mut current = text.to_owned();
    loop {
        let next = percent_decode(&current);
        if next == current {
            return current;
        }
        current = next;
    }
}

/// Go's `path.Clean`: collapses `//`, resolves `.` and `..`, drops a trailing `/`.
pub fn go_path_clean(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => match parts.last() {
                Some(last) if *last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Parses a query string into (name, value) pairs, in order.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// The first value of `name` in a query string.
pub fn query_value(query: &str, name: &str) -> Option<String> {
    query_pairs(query)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// A port on 127.0.0.1 that was free a moment ago, for a server a test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_clean_matches_go() {
        assert_eq!(go_path_clean("/a//b/./c/.."), "/a/b");
        assert_eq!(go_path_clean("/../x"), "/x");
        assert_eq!(go_path_clean("a/../../x"), "../x");
        assert_eq!(go_path_clean("icon.png"), "icon.png");
        assert_eq!(go_path_clean(""), ".");
        assert_eq!(go_path_clean("/bindings/"), "/bindings");
        assert_eq!(percent_decode_fully("%252e%252e"), "..");
    }
}
