//! No secret a call carries reaches a `{:?}`: not the values (client secret, OAuth2 code),
//! not the typed command line, not the session tokens, the app record (webhook secret), the
//! client secret or the stored token.

use mattermost_apps::{CallRequest, Context};

const REQUEST: &str = include_str!("fixtures/call-request-with-secrets.json");

/// Every secret in the fixture.
const SECRETS: &[&str] = &[
    "value-client-secret-5d1f",
    "value-oauth2-code-8c2a",
    "value-oauth2-state-1b7e",
    "bot-session-token-2f9c",
    "user-session-token-7a4d",
    "app-webhook-secret-3e8b",
    "context-client-secret-9a0c",
    "stored-access-token-4b6d",
    "stored-refresh-token-0e5f",
    "typed-client-secret-6c3a",
];

fn assert_no_secret(what: &str, debug: &str) {
    for secret in SECRETS {
        assert!(
            !debug.contains(secret),
            "{what} shows {secret} under {{:?}}: {debug}"
        );
    }
}

#[test]
fn no_secret_reaches_debug() {
    let request: CallRequest = serde_json::from_str(REQUEST).expect("the fixture parses");
    // The secrets really are in the parsed request, so the checks below are not vacuous.
    let written = serde_json::to_string(&request).expect("serialises");
    for secret in SECRETS {
        assert!(written.contains(secret), "{secret} was not parsed");
    }

    assert_no_secret("CallRequest", &format!("{request:?}"));
    assert_no_secret("CallRequest (pretty)", &format!("{request:#?}"));
    assert_no_secret("Context", &format!("{:?}", request.context));
    assert_no_secret("OAuth2Context", &format!("{:?}", request.context.oauth2));
    assert_no_secret("OAuth2App", &format!("{:?}", request.context.oauth2.app));

    // What is not secret still shows, so a log line stays useful.
    let debug = format!("{request:?}");
    assert!(
        debug.contains("\"client_secret\""),
        "value names show: {debug}"
    );
    assert!(
        debug.contains("zc57bxygzewsx75bdghmbntd41"),
        "the user shows: {debug}"
    );
}

#[test]
fn a_context_alone_hides_its_secrets() {
    let request: serde_json::Value = serde_json::from_str(REQUEST).expect("JSON");
    let context: Context = serde_json::from_value(request["context"].clone()).expect("a context");
    assert_no_secret("Context", &format!("{context:?}"));
}
