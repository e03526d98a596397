//! The protocol examples the app has its own types for round-trip through them unchanged
//! (the library's `tests/protocol.rs` covers the rest with the library's types): the token
//! the app stores through the plugin, and the JWT header the plugin signs with.

use hello_oauth2_rs::oauth::StoredToken;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// `name` from the library's fixtures, the one set of protocol examples.
fn example(name: &str) -> Value {
    let path = format!(
        "{}/crates/mattermost-apps/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

fn round_trips<T: Serialize + DeserializeOwned>(name: &str) {
    let original = example(name);
    let typed: T = serde_json::from_value(original.clone())
        .unwrap_or_else(|e| panic!("{name} is not a {}: {e}", std::any::type_name::<T>()));
    let back = serde_json::to_value(&typed).expect("serialises");
    assert_eq!(
        back, original,
        "{name} changed on the way through the app's type:\nbefore: {original:#}\nafter:  {back:#}"
    );
}

#[test]
fn the_stored_token_body_round_trips_through_the_apps_type() {
    round_trips::<StoredToken>("oauth2-user-store-body.json");
}

#[test]
fn the_jwt_header_round_trips_through_the_jwt_crates_type() {
    round_trips::<jsonwebtoken::Header>("jwt-header.json");
}
