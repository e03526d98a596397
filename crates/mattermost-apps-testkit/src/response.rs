//! Assertions on a call response (`CallResponse` JSON), as the webapp receives it.

use serde_json::Value;

/// The response's type (`ok`, `error`, `form`, `navigate`, …); `""` when missing.
pub fn kind(response: &Value) -> &str {
    response["type"].as_str().unwrap_or("")
}

/// The response's text; `""` when missing.
pub fn text(response: &Value) -> &str {
    response["text"].as_str().unwrap_or("")
}

/// Asserts an `ok` response and returns its text.
pub fn expect_ok(response: &Value) -> String {
    assert_eq!(kind(response), "ok", "expected ok, got {response:#}");
    text(response).to_owned()
}

/// Asserts an `error` response and returns its text.
pub fn expect_error(response: &Value) -> String {
    assert_eq!(
        kind(response),
        "error",
        "expected an error, got {response:#}"
    );
    text(response).to_owned()
}
