//! The user's token as stored with `/oauth2/user`: golang.org/x/oauth2's `Token` JSON shape
//! (`access_token`, `token_type`, `refresh_token`, `expiry`), so Go and Rust apps can read
//! each other's tokens. Unknown expiry is Go's zero time, `0001-01-01T00:00:00Z`.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use mattermost_apps::secret::{self, ExposeSecret, SecretString};
use ring::rand::{SecureRandom, SystemRandom};

/// Go's zero `time.Time`, which the Go driver writes for "no expiry".
pub const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// A token is refreshed when it expires within this margin, plus up to [`REFRESH_JITTER`]:
/// calls rarely meet an expired token (or one that expires on its way to the provider), and
/// replicas near the margin do not all decide to refresh at the same moment.
pub const REFRESH_MARGIN: Duration = Duration::minutes(5);

/// The most added to [`REFRESH_MARGIN`], drawn anew for each check.
pub const REFRESH_JITTER: Duration = Duration::seconds(60);

/// A remote OAuth2 token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredToken {
    /// The bearer token.
    #[serde(serialize_with = "secret::serialize")]
    pub access_token: SecretString,
    /// Usually `Bearer`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token_type: String,
    /// The refresh token, when the provider issued one.
    #[serde(
        default,
        serialize_with = "secret::serialize",
        skip_serializing_if = "secret::is_empty"
    )]
    pub refresh_token: SecretString,
    /// When the access token expires; `None` is unknown (Go's zero time on the wire).
    #[serde(
        default,
        serialize_with = "write_expiry",
        deserialize_with = "read_expiry"
    )]
    pub expiry: Option<DateTime<Utc>>,
}

impl StoredToken {
    /// True when the token has expired or expires within [`REFRESH_MARGIN`] (plus a random
    /// part of [`REFRESH_JITTER`]) of `now`.
    pub fn needs_refresh(&self, now: DateTime<Utc>) -> bool {
        self.expiry
            .is_some_and(|expiry| expiry - now <= REFRESH_MARGIN + jitter())
    }

    /// Reads the token from `context.oauth2.user`; `None` when it is not a token.
    pub fn from_context(value: &serde_json::Value) -> Option<Self> {
        let token = Self::deserialize(value).ok()?;
        (!token.access_token.expose_secret().is_empty()).then_some(token)
    }
}

/// A random duration in `0..=REFRESH_JITTER` (none if the system generator fails).
fn jitter() -> Duration {
    let mut byte = [0u8; 1];
    match SystemRandom::new().fill(&mut byte) {
        Ok(()) => REFRESH_JITTER * i32::from(byte[0]) / 255,
        Err(_) => Duration::zero(),
    }
}

/// Formats like Go's `time.RFC3339Nano`: nanoseconds with trailing zeros dropped.
pub fn go_rfc3339(time: &DateTime<Utc>) -> String {
    let mut out = time.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = time.timestamp_subsec_nanos();
    if nanos > 0 {
        let digits = format!("{nanos:09}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

fn write_expiry<S: Serializer>(expiry: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match expiry {
        Some(time) => s.serialize_str(&go_rfc3339(time)),
        None => s.serialize_str(GO_ZERO_TIME),
    }
}

fn read_expiry<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    if text.is_empty() {
        return Ok(None);
    }
    let time = DateTime::parse_from_rfc3339(&text).map_err(serde::de::Error::custom)?;
    let time = time.with_timezone(&Utc);
    // Go's zero time, and anything before 1970, means "unknown".
    Ok((time > Utc.timestamp_opt(0, 0).single().unwrap_or_default()).then_some(time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_the_go_shape_of_the_protocol_example() {
        let text = r#"{
            "access_token": "ec_at_Q2hhbmdlTWVJbUFGYWtlVG9rZW4",
            "token_type": "Bearer",
            "refresh_token": "ec_rt_TXlSZWZyZXNoVG9rZW5Jc0Zha2U",
            "expiry": "2025-06-11T15:50:11.482913507Z"
        }"#;
        let token: StoredToken = serde_json::from_str(text).expect("parse");
        let back = serde_json::to_value(&token).expect("write");
        let original: serde_json::Value = serde_json::from_str(text).expect("json");
        assert_eq!(back, original);
    }

    #[test]
    fn unknown_expiry_is_go_zero_time_and_extra_keys_are_tolerated() {
        let token: StoredToken = serde_json::from_value(json!({
            "access_token": "at", "expiry": GO_ZERO_TIME, "expires_in": 3599, "scope": "x"
        }))
        .expect("parse");
        assert_eq!(token.expiry, None);
        assert!(!token.needs_refresh(Utc::now()));
        let back = serde_json::to_value(&token).expect("write");
        assert_eq!(back, json!({"access_token": "at", "expiry": GO_ZERO_TIME}));
    }

    #[test]
    fn go_formatting_drops_trailing_zeros_and_reads_offsets() {
        let t = Utc
            .timestamp_opt(1_749_657_011, 480_000_000)
            .single()
            .expect("time");
        assert_eq!(go_rfc3339(&t), "2025-06-11T15:50:11.48Z");
        let t = Utc.timestamp_opt(1_749_657_011, 0).single().expect("time");
        assert_eq!(go_rfc3339(&t), "2025-06-11T15:50:11Z");
        let token: StoredToken = serde_json::from_value(
            json!({"access_token": "a", "expiry": "2025-06-11T17:50:11+02:00"}),
        )
        .expect("offset");
        assert_eq!(token.expiry, Some(t));
    }

    #[test]
    fn refresh_is_due_near_expiry() {
        let now = Utc::now();
        let token = |secs| StoredToken {
            access_token: SecretString::from("a"),
            token_type: String::new(),
            refresh_token: SecretString::default(),
            expiry: Some(now + Duration::seconds(secs)),
        };
        assert!(token(-5).needs_refresh(now));
        assert!(token(30).needs_refresh(now));
        assert!(token(299).needs_refresh(now));
        assert!(!token(361).needs_refresh(now));
    }

    #[test]
    fn a_context_value_without_an_access_token_is_not_a_token() {
        assert!(StoredToken::from_context(&json!({})).is_none());
        assert!(StoredToken::from_context(&json!({"access_token": ""})).is_none());
        assert!(StoredToken::from_context(&json!("nope")).is_none());
        assert!(StoredToken::from_context(&json!({"access_token": "x"})).is_some());
    }
}
