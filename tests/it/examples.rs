//! Every file in `tests/fixtures/apps-protocol/` round-trips through the app's matching
//! type unchanged, so the app reads and writes the protocol's JSON as the plugin does.

use std::path::PathBuf;

use hello_oauth2_rs::oauth::StoredToken;
use mattermost_apps::jwt::Claims;
use mattermost_apps::{Binding, CallRequest, CallResponse, Manifest, OAuth2App};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/apps-protocol")
}

fn round_trip<T: Serialize + DeserializeOwned>(name: &str, original: &Value) -> Value {
    let typed: T = serde_json::from_value(original.clone()).unwrap_or_else(|e| {
        panic!(
            "{name} does not parse as {}: {e}",
            std::any::type_name::<T>()
        )
    });
    serde_json::to_value(&typed).expect("serialises")
}

/// Which type each file is, and its value after a round trip.
fn through_the_app(name: &str, original: &Value) -> Value {
    match name {
        "manifest.json" => round_trip::<Manifest>(name, original),
        "jwt-claims.json" => round_trip::<Claims>(name, original),
        "jwt-header.json" => round_trip::<jsonwebtoken::Header>(name, original),
        "oauth2-app-store-body.json" => round_trip::<OAuth2App>(name, original),
        "oauth2-user-store-body.json" => round_trip::<StoredToken>(name, original),
        n if n.starts_with("call-request-") => round_trip::<CallRequest>(name, original),
        n if n.starts_with("call-response-") => {
            let back = round_trip::<CallResponse>(name, original);
            if n == "call-response-bindings.json" {
                // The bindings themselves, through the app's Binding type.
                let data = round_trip::<Vec<Binding>>(name, &original["data"]);
                assert_eq!(data, original["data"], "{name}: data through Vec<Binding>");
            }
            back
        }
        other => panic!("{other} has no mapping to an app type: add one to tests/it/examples.rs"),
    }
}

#[test]
fn every_protocol_example_round_trips_through_the_apps_types() {
    let mut checked = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(examples_dir())
        .expect("the examples directory is readable")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&path).expect("readable");
        let original: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
        let back = through_the_app(&name, &original);
        assert_eq!(
            back,
            original,
            "{name} changed on the way through the app's type:\nbefore: {original:#}\nafter:  {back:#}"
        );
        checked.push(name);
    }
    // 17 examples when this test was written; fewer means files went missing.
    assert!(checked.len() >= 17, "only {checked:?}");
}
