//! Finding a provider by its issuer: the OpenID Connect Discovery document
//! (`/.well-known/openid-configuration`), or RFC 8414's authorization server metadata
//! (`/.well-known/oauth-authorization-server`) when there is none. `configure` fetches it
//! once and stores what it found; `status` fetches it again to check it.

use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::config::{check_endpoint, Discovered};
use super::error::ProviderError;
use super::http::{read_capped, MAX_ANSWER};
use super::reach;
use crate::markdown;
use crate::metrics::{self, Classify, Outcome, ProviderRequest};

/// The largest document read: real ones are 1 to 5 KiB.
pub const MAX_DOCUMENT: usize = MAX_ANSWER;

/// The longest endpoint URL taken from a document (the stored settings are capped at 8 KiB).
const MAX_URL: usize = 1024;

/// Asked for when the admin gives no scopes: those of these the issuer supports.
const DEFAULT_SCOPES: [&str; 3] = ["openid", "profile", "email"];

/// Why an issuer's document could not be used: Markdown for a message. The text names the
/// URL and the problem; what comes from the document is escaped, or shown as code so it can
/// be copied (`markdown::code`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscoveryError {
    /// The issuer is not a usable URL.
    #[error("the issuer {0}")]
    BadIssuer(String),
    /// No answer in time.
    #[error("{0} did not answer in time")]
    Timeout(String),
    /// Connection failure.
    #[error("{0} could not be reached")]
    Unreachable(String),
    /// Neither well-known URL answered with a success status.
    #[error("no discovery document: {0}")]
    NotFound(String),
    /// The body is over [`MAX_DOCUMENT`].
    #[error("the document at {0} is larger than {kib} KiB", kib = MAX_DOCUMENT / 1024)]
    TooLarge(String),
    /// The body is not a JSON object.
    #[error("the document at {0} is not JSON")]
    NotJson(String),
    /// A member has the wrong type (serde's words, escaped).
    #[error("the document at {0} is not a discovery document ({1})")]
    Malformed(String, String),
    /// The document describes another issuer (or none).
    #[error("the document at {url} names the issuer {}, not {}; enter the issuer exactly as the provider names it", markdown::code(.found, 200), markdown::code(.given, 200))]
    OtherIssuer {
        /// Where it was fetched.
        url: String,
        /// Its `issuer`, as the document gives it.
        found: String,
        /// The issuer the admin gave.
        given: String,
    },
    /// A required endpoint is missing.
    #[error("the document at {0} has no {1}")]
    Missing(String, &'static str),
    /// An endpoint is not usable; the text quotes the document, so it is escaped here.
    #[error("the document's {}: {}", .0, markdown::escape(.1, 300))]
    BadEndpoint(&'static str, String),
}

/// A discovery fetch, as its metric's outcome label: a document, an HTTP error status, or
/// a failure.
impl<T> Classify for Result<Result<T, u16>, DiscoveryError> {
    fn class(&self) -> Outcome {
        match self {
            Ok(Ok(_)) => Outcome::Ok,
            Ok(Err(status)) if *status >= 500 => Outcome::BadAnswer,
            Ok(Err(_)) => Outcome::Refused,
            Err(DiscoveryError::Timeout(_)) => Outcome::Timeout,
            Err(DiscoveryError::Unreachable(_)) => Outcome::Unreachable,
            Err(_) => Outcome::BadAnswer,
        }
    }
}

/// The members the app uses; the rest is ignored.
#[derive(Deserialize)]
struct Document {
    #[serde(default)]
    issuer: Option<String>,
    #[serde(default)]
    authorization_endpoint: Option<String>,
    #[serde(default)]
    token_endpoint: Option<String>,
    #[serde(default)]
    userinfo_endpoint: Option<String>,
    #[serde(default)]
    revocation_endpoint: Option<String>,
    #[serde(default)]
    scopes_supported: Option<Vec<String>>,
    #[serde(default)]
    authorization_response_iss_parameter_supported: Option<bool>,
}

/// The two places an issuer's document may be, in the order tried: OpenID Connect
/// appends to the issuer; RFC 8414 inserts before the issuer's path.
pub fn document_urls(issuer: &Url) -> [Url; 2] {
    let path = issuer.path().trim_end_matches('/');
    let mut oidc = issuer.clone();
    oidc.set_path(&format!("{path}/.well-known/openid-configuration"));
    let mut rfc8414 = issuer.clone();
    rfc8414.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
    [oidc, rfc8414]
}

/// Fetches and checks `issuer`'s document: its `issuer` must be exactly the given one, it
/// must have the authorization and token endpoints, and they must pass [`reach::check`]. Returns where it was found and what it gave. The second URL is tried
/// only when the first answers with an HTTP error.
pub async fn discover(
    http: &reqwest::Client,
    issuer: &str,
) -> Result<(Url, Discovered), DiscoveryError> {
    let issuer = issuer.trim();
    let parsed = check_endpoint(issuer).map_err(DiscoveryError::BadIssuer)?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(DiscoveryError::BadIssuer(format!(
            "{issuer:?} must have no query or fragment"
        )));
    }
    let mut statuses = Vec::new();
    for url in document_urls(&parsed) {
        match metrics::provider(ProviderRequest::Discovery, fetch(http, &url)).await? {
            Ok(doc) => {
                let found = read(issuer, &url, doc)?;
                reach::check(&parsed, &endpoints(&found))
                    .await
                    .map_err(|(name, why)| DiscoveryError::BadEndpoint(name, why))?;
                return Ok((url, found));
            }
            Err(status) => statuses.push(format!("{url} answered HTTP {status}")),
        }
    }
    Err(DiscoveryError::NotFound(statuses.join(", and ")))
}

/// One GET: `Ok(Err(status))` for an HTTP error status, else the parsed JSON object.
async fn fetch(
    http: &reqwest::Client,
    url: &Url,
) -> Result<Result<serde_json::Map<String, Value>, u16>, DiscoveryError> {
    let transport = |err: reqwest::Error| {
        if err.is_timeout() {
            DiscoveryError::Timeout(url.to_string())
        } else {
            DiscoveryError::Unreachable(url.to_string())
        }
    };
    let response = http
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(transport)?;
    let status = response.status();
    if !status.is_success() {
        return Ok(Err(status.as_u16()));
    }
    let body = read_capped(response).await.map_err(|err| match err {
        ProviderError::Timeout => DiscoveryError::Timeout(url.to_string()),
        ProviderError::Unreachable => DiscoveryError::Unreachable(url.to_string()),
        _ => DiscoveryError::TooLarge(url.to_string()),
    })?;
    match serde_json::from_slice(&body) {
        Ok(Value::Object(doc)) => Ok(Ok(doc)),
        _ => Err(DiscoveryError::NotJson(url.to_string())),
    }
}

/// The endpoints a document gave, by their names in it.
fn endpoints(found: &Discovered) -> [(&'static str, &str); 4] {
    [
        ("authorization_endpoint", &found.auth_url),
        ("token_endpoint", &found.token_url),
        ("userinfo_endpoint", &found.userinfo_url),
        ("revocation_endpoint", &found.revoke_url),
    ]
}

/// Checks a fetched document against the issuer the admin gave.
fn read(
    issuer: &str,
    url: &Url,
    doc: serde_json::Map<String, Value>,
) -> Result<Discovered, DiscoveryError> {
    let doc = Document::deserialize(Value::Object(doc)).map_err(|e| {
        DiscoveryError::Malformed(url.to_string(), markdown::escape(&e.to_string(), 200))
    })?;
    let found = doc.issuer.unwrap_or_default();
    if found != issuer {
        return Err(DiscoveryError::OtherIssuer {
            url: url.to_string(),
            found,
            given: issuer.to_owned(),
        });
    }
    let endpoint = |name: &'static str, value: Option<String>, required: bool| {
        let value = value.unwrap_or_default();
        if value.is_empty() {
            return if required {
                Err(DiscoveryError::Missing(url.to_string(), name))
            } else {
                Ok(value)
            };
        }
        if value.len() > MAX_URL {
            return Err(DiscoveryError::BadEndpoint(
                name,
                format!("longer than {MAX_URL} bytes"),
            ));
        }
        check_endpoint(&value)
            .map(|_| value)
            .map_err(|message| DiscoveryError::BadEndpoint(name, message))
    };
    let scopes = DEFAULT_SCOPES
        .into_iter()
        .filter(|scope| {
            doc.scopes_supported
                .as_ref()
                .is_none_or(|supported| supported.iter().any(|s| s == scope))
        })
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Discovered {
        auth_url: endpoint("authorization_endpoint", doc.authorization_endpoint, true)?,
        token_url: endpoint("token_endpoint", doc.token_endpoint, true)?,
        userinfo_url: endpoint("userinfo_endpoint", doc.userinfo_endpoint, false)?,
        revoke_url: endpoint("revocation_endpoint", doc.revocation_endpoint, false)?,
        scopes,
        iss_required: doc
            .authorization_response_iss_parameter_supported
            .unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("a URL")
    }

    fn object(doc: Value) -> serde_json::Map<String, Value> {
        match doc {
            Value::Object(map) => map,
            _ => panic!("an object"),
        }
    }

    const ISSUER: &str = "https://id.example.com/realms/main";

    fn doc() -> Value {
        json!({
            "issuer": ISSUER,
            "authorization_endpoint": "https://id.example.com/auth",
            "token_endpoint": "https://id.example.com/token",
            "userinfo_endpoint": "https://id.example.com/userinfo",
            "scopes_supported": ["openid", "email", "offline_access"],
            "authorization_response_iss_parameter_supported": true
        })
    }

    #[test]
    fn the_two_well_known_urls_follow_their_rfcs() {
        let [oidc, rfc8414] = document_urls(&url("https://id.example.com/realms/main/"));
        assert_eq!(
            oidc.as_str(),
            "https://id.example.com/realms/main/.well-known/openid-configuration"
        );
        assert_eq!(
            rfc8414.as_str(),
            "https://id.example.com/.well-known/oauth-authorization-server/realms/main"
        );
        let [oidc, rfc8414] = document_urls(&url("https://accounts.example.com"));
        assert_eq!(
            oidc.as_str(),
            "https://accounts.example.com/.well-known/openid-configuration"
        );
        assert_eq!(
            rfc8414.as_str(),
            "https://accounts.example.com/.well-known/oauth-authorization-server"
        );
    }

    #[test]
    fn a_document_fills_the_endpoints_and_the_supported_default_scopes() {
        let at = url("https://id.example.com/x");
        let found = read(ISSUER, &at, object(doc())).expect("a good document");
        assert_eq!(
            found,
            Discovered {
                auth_url: "https://id.example.com/auth".into(),
                token_url: "https://id.example.com/token".into(),
                userinfo_url: "https://id.example.com/userinfo".into(),
                revoke_url: String::new(),
                scopes: "openid email".into(),
                iss_required: true,
            }
        );
        // No scopes_supported: all three.
        let mut plain = doc();
        plain["scopes_supported"] = Value::Null;
        let found = read(ISSUER, &at, object(plain)).expect("a good document");
        assert_eq!(found.scopes, "openid profile email");
    }

    #[test]
    fn what_the_document_says_shows_literally_in_an_error() {
        let at = url("https://id.example.com/x");
        let mut phish = doc();
        phish["authorization_endpoint"] =
            json!("[Re-verify your admin session](https://phish.example/)");
        let err = read(ISSUER, &at, object(phish)).expect_err("not a URL");
        let text = err.to_string();
        assert!(!text.contains("[Re-verify"), "{text}");
        assert!(
            text.contains("\\[\u{200B}Re\\-verify your admin session\\]\\(https:\u{200B}//phish"),
            "{text}"
        );
        // U+2424 is a line feed to Mattermost's `marked`: it must not end the code span.
        let mut other = doc();
        other["issuer"] = json!("https://evil.example\u{2424}\u{2424}# Re-verify");
        let text = read(ISSUER, &at, object(other))
            .expect_err("another issuer")
            .to_string();
        assert!(!text.contains('\u{2424}'), "{text}");
        assert!(
            text.contains("https:\u{200B}//evil\\.example&#9252;&#9252;\\#\u{200B} Re\\-verify"),
            "{text}"
        );
    }

    #[test]
    fn a_document_for_another_issuer_or_without_endpoints_is_refused() {
        let at = url("https://id.example.com/x");
        let err = read(&format!("{ISSUER}/"), &at, object(doc())).expect_err("trailing slash");
        assert!(matches!(err, DiscoveryError::OtherIssuer { .. }), "{err}");
        assert!(err.to_string().contains(&format!("`{ISSUER}`")), "{err}");
        for (key, value) in [
            ("token_endpoint", Value::Null),
            ("authorization_endpoint", json!("")),
            ("userinfo_endpoint", json!("http://id.example.com/userinfo")),
            ("scopes_supported", json!("openid")),
            ("issuer", Value::Null),
        ] {
            let mut bad = doc();
            bad[key] = value;
            let err = read(ISSUER, &at, object(bad)).expect_err(key);
            assert!(
                err.to_string().contains(key) || key == "scopes_supported",
                "{key}: {err}"
            );
        }
    }
}
