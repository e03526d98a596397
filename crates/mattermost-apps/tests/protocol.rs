//! Every example payload in `tests/fixtures/` round-trips through its type unchanged, so the
//! types read and write the protocol's JSON as the Apps plugin does.

use mattermost_apps::{Binding, CallRequest, CallResponse, Claims, Manifest, OAuth2App};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

/// Parses `name` as a `T`, writes it back, and checks nothing changed.
fn round_trips<T: Serialize + DeserializeOwned>(name: &str) -> T {
    let original = fixture(name);
    let typed: T = serde_json::from_value(original.clone())
        .unwrap_or_else(|e| panic!("{name} is not a {}: {e}", std::any::type_name::<T>()));
    let back = serde_json::to_value(&typed).expect("serialises");
    assert_eq!(back, original, "{name} changed on the way through the type");
    typed
}

#[test]
fn the_manifest_round_trips_and_passes_the_plugins_checks() {
    let manifest: Manifest = round_trips("manifest.json");
    assert_eq!(manifest.validate(), Ok(()));
}

#[test]
fn call_requests_round_trip() {
    for name in [
        "call-request-ping.json",
        "call-request-bindings.json",
        "call-request-configure-submit.json",
        "call-request-oauth2-connect.json",
        "call-request-oauth2-complete.json",
    ] {
        round_trips::<CallRequest>(name);
    }
    let submit: CallRequest = round_trips("call-request-configure-submit.json");
    assert_eq!(submit.value_str("environment"), Some("sandbox"));
    assert!(submit
        .context
        .acting_user
        .expect("expanded")
        .is_system_admin());
}

#[test]
fn call_responses_round_trip() {
    for name in [
        "call-response-bindings.json",
        "call-response-configure-submit.json",
        "call-response-connect-command.json",
        "call-response-oauth2-connect.json",
        "call-response-oauth2-complete.json",
        "call-response-lookup.json",
        "call-response-error-with-field-errors.json",
    ] {
        round_trips::<CallResponse>(name);
    }
    let bindings = fixture("call-response-bindings.json");
    let typed: Vec<Binding> = serde_json::from_value(bindings["data"].clone()).expect("bindings");
    assert_eq!(
        serde_json::to_value(&typed).expect("serialises"),
        bindings["data"]
    );
}

#[test]
fn rest_bodies_and_jwt_claims_round_trip() {
    round_trips::<OAuth2App>("oauth2-app-store-body.json");
    round_trips::<Claims>("jwt-claims.json");
}
