//! The plugin's manifest rules, written over `serde_json::Value`
//! so that the app's own `Manifest::validate` cannot share a misunderstanding with it.

use serde_json::{json, Value};

use crate::util::{go_path_clean, percent_decode_fully};

/// The largest manifest the plugin accepts (1 MiB).
pub const MAX_MANIFEST_SIZE: usize = 1024 * 1024;

/// Checks a manifest like `/apps install http` does and returns every failure (empty: valid).
pub fn validate_manifest(manifest: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(object) = manifest.as_object() else {
        return vec!["manifest is not a JSON object".into()];
    };
    let text = |key: &str, problems: &mut Vec<String>| -> String {
        match object.get(key) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                problems.push(format!(
                    "json: cannot unmarshal {} into Go struct field Manifest.{key} of type string",
                    json_kind(other)
                ));
                String::new()
            }
        }
    };
    // 1. display_name
    if text("display_name", &mut problems).is_empty() {
        problems.push("display_name: must not be empty".into());
    }
    // 2. homepage_url
    let homepage = text("homepage_url", &mut problems);
    if homepage.is_empty() {
        problems.push("homepage_url: must not be empty".into());
    } else if !is_http_url(&homepage) {
        problems.push(format!(
            "homepage_url: {homepage:?} is not a valid http(s) URL"
        ));
    }
    // 3. icon
    let icon = text("icon", &mut problems);
    if !icon.is_empty() && clean_static_path(&icon).is_none() {
        problems.push(format!("icon: {icon:?} is not a valid static path"));
    }
    // 4. app_id
    let app_id = text("app_id", &mut problems);
    if !(3..=32).contains(&app_id.len()) {
        problems.push(format!(
            "app_id: {app_id:?} must be between 3 and 32 bytes long"
        ));
    }
    if !app_id.chars().all(allowed_id_char) {
        problems.push(format!(
            "app_id: {app_id:?} may contain only letters, digits, '-', '_', '.'"
        ));
    }
    // 5. version
    let version = text("version", &mut problems);
    if version.len() > 10 {
        problems.push(format!(
            "version: {version:?} must be at most 10 bytes long"
        ));
    }
    if !version.chars().all(allowed_id_char) {
        problems.push(format!(
            "version: {version:?} may contain only letters, digits, '-', '_', '.'"
        ));
    }
    // 6. permission dependencies (unknown permissions are not rejected)
    let permissions = string_list(object.get("requested_permissions"));
    let has = |p: &str| permissions.iter().any(|x| x == p);
    for (needs, dependency) in [
        ("remote_oauth2", "act_as_user"),
        ("remote_webhooks", "act_as_bot"),
        ("user_joined_channel_notification", "act_as_bot"),
    ] {
        if has(needs) && !has(dependency) {
            problems.push(format!("{needs} requires {dependency}"));
        }
    }
    // 7. a deploy section
    let deploys: Vec<&str> = ["http", "aws_lambda", "open_faas", "plugin"]
        .into_iter()
        .filter(|k| object.get(*k).is_some_and(|v| !v.is_null()))
        .collect();
    if deploys.is_empty() {
        problems
            .push("manifest has no deploy section (http, aws_lambda, open_faas, plugin)".into());
    }
    if let Some(http) = object.get("http").filter(|v| !v.is_null()) {
        match http.get("root_url").and_then(Value::as_str) {
            None | Some("") => problems.push("http.root_url: must not be empty".into()),
            Some(url) if !is_http_url(url) => {
                problems.push(format!("http.root_url: {url:?} is not a valid http(s) URL"))
            }
            Some(_) => {}
        }
        if http
            .get("use_jwt")
            .is_some_and(|v| !v.is_boolean() && !v.is_null())
        {
            problems.push("http.use_jwt: must be a boolean".into());
        }
    }
    problems
}

/// The plugin's static-path rule: percent-decode repeatedly, clean, reject empty, `.`, and
/// anything escaping upwards. Returns the cleaned path.
pub fn clean_static_path(path: &str) -> Option<String> {
    let cleaned = go_path_clean(&percent_decode_fully(path));
    if path.is_empty() || cleaned == "." || cleaned.starts_with("../") {
        return None;
    }
    Some(cleaned)
}

/// An absolute http(s) URL with a host.
pub fn is_http_url(text: &str) -> bool {
    url::Url::parse(text)
        .map(|u| {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
        })
        .unwrap_or(false)
}

fn allowed_id_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// A JSON array of strings as a Vec (anything else: empty).
pub fn string_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The Go name of a JSON value's kind, for decode errors.
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A manifest Call (object, or a bare string meaning `{"path": …}`), with the defaults of
/// The plugin's call defaults: an empty path takes `default_path`; an absent expand takes
/// `default_expand` (a present expand replaces it completely).
pub fn manifest_call(
    manifest: &Value,
    key: &str,
    default_path: Option<&str>,
    default_expand: Option<Value>,
) -> Option<Value> {
    let declared = manifest.get(key).filter(|v| !v.is_null());
    let (path, expand, state) = match declared {
        None => (String::new(), None, None),
        Some(Value::String(path)) => (path.clone(), None, None),
        Some(call) => (
            call.get("path")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            call.get("expand").filter(|v| !v.is_null()).cloned(),
            call.get("state").filter(|v| !v.is_null()).cloned(),
        ),
    };
    if declared.is_none() && default_path.is_none() {
        return None;
    }
    let path = if path.is_empty() {
        default_path.unwrap_or("").to_owned()
    } else {
        path
    };
    let mut call = json!({ "path": path });
    if let Some(expand) = expand.or(default_expand) {
        call["expand"] = expand;
    }
    if let Some(state) = state {
        call["state"] = state;
    }
    Some(call)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_collected() {
        let bad = json!({
            "app_id": "x",
            "version": "v00.00.0000",
            "homepage_url": "not a url",
            "icon": "%2e%2e/secret.png",
            "requested_permissions": ["remote_oauth2", "remote_webhooks", "something_unknown"],
        });
        let problems = validate_manifest(&bad);
        assert_eq!(problems.len(), 8, "{problems:#?}");
        assert!(problems
            .iter()
            .any(|p| p == "remote_oauth2 requires act_as_user"));
        assert!(problems
            .iter()
            .any(|p| p == "remote_webhooks requires act_as_bot"));
        assert!(!problems.iter().any(|p| p.contains("something_unknown")));
    }

    #[test]
    fn the_example_manifest_passes() {
        let text = include_str!("../../../mattermost-apps/tests/fixtures/manifest.json");
        let manifest: Value = serde_json::from_str(text).expect("example manifest is JSON");
        assert_eq!(validate_manifest(&manifest), Vec::<String>::new());
    }

    #[test]
    fn manifest_calls_take_defaults_only_when_absent() {
        let manifest = json!({"bindings": "/b", "on_oauth2_complete": {"expand": {"app": "all"}}});
        assert_eq!(
            manifest_call(&manifest, "bindings", Some("/bindings"), None),
            Some(json!({"path": "/b"}))
        );
        assert_eq!(
            manifest_call(
                &manifest,
                "on_oauth2_complete",
                Some("/oauth2/complete"),
                Some(json!({"acting_user": "summary"}))
            ),
            Some(json!({"path": "/oauth2/complete", "expand": {"app": "all"}}))
        );
        assert_eq!(manifest_call(&manifest, "on_install", None, None), None);
    }
}
