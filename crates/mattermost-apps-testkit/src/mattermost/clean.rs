//! The plugin's server-side cleaning of bindings and forms, over
//! `serde_json::Value`. Every dropped item is reported, so tests can assert that the app
//! never sends something the plugin would silently throw away.

use serde_json::{Map, Value};

use super::manifest::clean_static_path;

/// Keys the plugin's Go structs know; anything else is lost when it re-serialises.
const BINDING_KEYS: &[&str] = &[
    "app_id",
    "location",
    "icon",
    "label",
    "hint",
    "description",
    "submit",
    "form",
    "bindings",
];
const FORM_KEYS: &[&str] = &[
    "source",
    "title",
    "header",
    "footer",
    "icon",
    "submit",
    "submit_buttons",
    "fields",
];
const FIELD_KEYS: &[&str] = &[
    "name",
    "type",
    "is_required",
    "readonly",
    "value",
    "description",
    "label",
    "hint",
    "position",
    "modal_label",
    "multiselect",
    "refresh",
    "options",
    "lookup",
    "subtype",
    "min_length",
    "max_length",
];
const OPTION_KEYS: &[&str] = &["label", "value", "icon_data"];
const CALL_KEYS: &[&str] = &["path", "expand", "state"];

/// What the cleaning needs to know about the app and the request.
pub struct CleanContext<'a> {
    /// The app's ID, forced onto every non-top-level binding.
    pub app_id: &'a str,
    /// Granted locations, e.g. `/command`.
    pub granted_locations: &'a [String],
    /// Site URL, for rewriting relative icons.
    pub site_url: &'a str,
    /// The client's user agent (`webapp` drops icon-less channel-header buttons).
    pub user_agent: Option<&'a str>,
}

/// Something the cleaning removed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// Where it was, e.g. `/command/hello-oauth2-rs/configure form field client_id`.
    pub what: String,
    /// The rule that removed it.
    pub reason: String,
}

/// Cleans a bindings response's `data` (the top-level groups).
pub fn clean_bindings(
    groups: &[Value],
    cx: &CleanContext,
    dropped: &mut Vec<Dropped>,
) -> Vec<Value> {
    groups
        .iter()
        .filter_map(|b| clean_binding(b, "", true, cx, dropped))
        .collect()
}

fn clean_binding(
    binding: &Value,
    parent: &str,
    top: bool,
    cx: &CleanContext,
    dropped: &mut Vec<Dropped>,
) -> Option<Value> {
    let Some(object) = binding.as_object() else {
        dropped.push(Dropped {
            what: format!("{parent}/?"),
            reason: "binding is not an object".into(),
        });
        return None;
    };
    let mut b = keep_known(object, BINDING_KEYS, &format!("{parent} binding"), dropped);
    let text =
        |b: &Map<String, Value>, k: &str| b.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    // 1-2. location defaults to label, trimmed.
    let mut location = text(&b, "location").trim().to_owned();
    let label = text(&b, "label");
    if location.is_empty() {
        location = label.trim().to_owned();
    }
    if location.is_empty() {
        dropped.push(Dropped {
            what: format!("{parent}/?"),
            reason: "binding has neither location nor label".into(),
        });
        return None;
    }
    b.insert("location".into(), Value::String(location.clone()));
    let fql = if top {
        location.clone()
    } else {
        format!("{parent}/{location}")
    };
    // 3. granted locations
    if !cx
        .granted_locations
        .iter()
        .any(|g| fql == *g || fql.starts_with(&format!("{}/", g.trim_end_matches('/'))))
    {
        dropped.push(Dropped {
            what: fql,
            reason: "location is not granted".into(),
        });
        return None;
    }
    // 4. app_id
    if !top {
        b.insert("app_id".into(), Value::String(cx.app_id.to_owned()));
    }
    // 5. command labels
    if fql.starts_with("/command/") {
        let label = if label.is_empty() {
            location.clone()
        } else {
            label
        };
        let label = label.trim().to_owned();
        if label.contains([' ', '\t']) {
            dropped.push(Dropped {
                what: fql,
                reason: format!("command label {label:?} contains whitespace"),
            });
            return None;
        }
        b.insert("label".into(), Value::String(label));
    }
    // 6. icon
    clean_icon(&mut b, cx);
    // 7. icon-less channel header buttons, webapp only
    let depth = fql.matches('/').count();
    if fql.starts_with("/channel_header/")
        && depth == 2
        && text(&b, "icon").is_empty()
        && cx.user_agent == Some("webapp")
    {
        dropped.push(Dropped {
            what: fql,
            reason: "channel header binding without an icon".into(),
        });
        return None;
    }
    // 8. exactly one of bindings, form, submit
    let has_bindings = b
        .get("bindings")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    let has_form = b.get("form").is_some_and(|f| !f.is_null());
    let has_submit = b.get("submit").is_some_and(|s| !s.is_null());
    if [has_bindings, has_form, has_submit]
        .iter()
        .filter(|x| **x)
        .count()
        != 1
    {
        dropped.push(Dropped {
            what: fql,
            reason: "binding must have exactly one of bindings, form, submit".into(),
        });
        return None;
    }
    if has_submit {
        let call = clean_call(&b["submit"], &format!("{fql} submit"), dropped);
        b.insert("submit".into(), call);
    }
    if has_bindings {
        let children: Vec<Value> = b["bindings"]
            .as_array()
            .map(|a| a.to_vec())
            .unwrap_or_default()
            .iter()
            .filter_map(|c| clean_binding(c, &fql, false, cx, dropped))
            .collect();
        if children.is_empty() {
            dropped.push(Dropped {
                what: fql,
                reason: "every sub-binding was dropped".into(),
            });
            return None;
        }
        b.insert("bindings".into(), Value::Array(children));
    } else {
        b.remove("bindings");
    }
    if has_form {
        // 9. kept even without submit or source.
        let form = clean_form(&b["form"], &format!("{fql} form"), cx, dropped);
        b.insert("form".into(), form);
    }
    Some(Value::Object(b))
}

/// Cleans a form (a bare string means `{"source": {"path": …}}`).
pub fn clean_form(
    form: &Value,
    what: &str,
    cx: &CleanContext,
    dropped: &mut Vec<Dropped>,
) -> Value {
    let form = match form {
        Value::String(path) => serde_json::json!({"source": {"path": path}}),
        other => other.clone(),
    };
    let Some(object) = form.as_object() else {
        dropped.push(Dropped {
            what: what.into(),
            reason: "form is not an object".into(),
        });
        return Value::Object(Map::new());
    };
    let mut f = keep_known(object, FORM_KEYS, what, dropped);
    clean_icon(&mut f, cx);
    for key in ["submit", "source"] {
        if let Some(call) = f.get(key).filter(|c| !c.is_null()).cloned() {
            f.insert(
                key.into(),
                clean_call(&call, &format!("{what} {key}"), dropped),
            );
        }
    }
    let mut labels: Vec<String> = Vec::new();
    let mut fields = Vec::new();
    for field in f
        .get("fields")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        if let Some(field) = clean_field(&field, what, &mut labels, dropped) {
            fields.push(field);
        }
    }
    if f.contains_key("fields") {
        f.insert("fields".into(), Value::Array(fields));
    }
    Value::Object(f)
}

fn clean_field(
    field: &Value,
    form: &str,
    labels: &mut Vec<String>,
    dropped: &mut Vec<Dropped>,
) -> Option<Value> {
    let Some(object) = field.as_object() else {
        dropped.push(Dropped {
            what: format!("{form} field ?"),
            reason: "field is not an object".into(),
        });
        return None;
    };
    let name = object
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let what = format!("{form} field {name}");
    let mut f = keep_known(object, FIELD_KEYS, &what, dropped);
    let drop = |reason: String, dropped: &mut Vec<Dropped>| {
        dropped.push(Dropped {
            what: what.clone(),
            reason,
        });
        None
    };
    if name.is_empty() || name.contains([' ', '\t']) {
        return drop(
            format!("field name {name:?} is empty or has whitespace"),
            dropped,
        );
    }
    let mut label = f
        .get("label")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if label.is_empty() {
        label = name.replace('_', "-");
        f.insert("label".into(), Value::String(label.clone()));
    }
    if label.contains([' ', '\t']) {
        return drop(format!("field label {label:?} has whitespace"), dropped);
    }
    if labels.contains(&label) {
        return drop(
            format!("field label {label:?} repeats an earlier one"),
            dropped,
        );
    }
    let field_type = f
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if field_type == "static_select" {
        let mut option_labels: Vec<String> = Vec::new();
        let mut option_values: Vec<String> = Vec::new();
        let mut options = Vec::new();
        for option in f
            .get("options")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            let Some(o) = option.as_object() else {
                dropped.push(Dropped {
                    what: format!("{what} option ?"),
                    reason: "option is not an object".into(),
                });
                continue;
            };
            let o = keep_known(o, OPTION_KEYS, &format!("{what} option"), dropped);
            let value = o
                .get("value")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let mut option_label = o
                .get("label")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            if option_label.is_empty() {
                option_label = value.clone();
            }
            let reason = if option_label.is_empty() && value.is_empty() {
                Some("option has neither label nor value")
            } else if option_labels.contains(&option_label) {
                Some("option label repeats an earlier one")
            } else if option_values.contains(&value) {
                Some("option value repeats an earlier one")
            } else {
                None
            };
            if let Some(reason) = reason {
                dropped.push(Dropped {
                    what: format!("{what} option {value:?}"),
                    reason: reason.into(),
                });
                continue;
            }
            option_labels.push(option_label);
            option_values.push(value);
            options.push(Value::Object(o));
        }
        if options.is_empty() {
            return drop("static_select has no options left".into(), dropped);
        }
        f.insert("options".into(), Value::Array(options));
    }
    if field_type == "dynamic_select" && f.get("lookup").is_none_or(Value::is_null) {
        return drop("dynamic_select without lookup".into(), dropped);
    }
    labels.push(label);
    Some(Value::Object(f))
}

fn clean_call(call: &Value, what: &str, dropped: &mut Vec<Dropped>) -> Value {
    match call {
        Value::String(path) => serde_json::json!({ "path": path }),
        Value::Object(o) => Value::Object(keep_known(o, CALL_KEYS, what, dropped)),
        other => other.clone(),
    }
}

fn clean_icon(object: &mut Map<String, Value>, cx: &CleanContext) {
    let Some(icon) = object
        .get("icon")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return;
    };
    if icon.is_empty() || icon.starts_with("http://") || icon.starts_with("https://") {
        return;
    }
    match clean_static_path(&icon) {
        Some(name) => {
            let url = format!(
                "{}/plugins/com.mattermost.apps/apps/{}/static/{}",
                cx.site_url.trim_end_matches('/'),
                cx.app_id,
                name.trim_start_matches('/')
            );
            object.insert("icon".into(), Value::String(url));
        }
        None => {
            object.insert("icon".into(), Value::String(String::new()));
        }
    }
}

/// Copies the known keys; unknown ones are reported as dropped (Go structs lose them).
fn keep_known(
    object: &Map<String, Value>,
    known: &[&str],
    what: &str,
    dropped: &mut Vec<Dropped>,
) -> Map<String, Value> {
    let mut kept = Map::new();
    for (key, value) in object {
        if known.contains(&key.as_str()) {
            kept.insert(key.clone(), value.clone());
        } else {
            dropped.push(Dropped {
                what: format!("{what} key {key:?}"),
                reason: "unknown to the plugin's Go structs".into(),
            });
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cx(granted: &[String]) -> CleanContext<'_> {
        CleanContext {
            app_id: "app",
            granted_locations: granted,
            site_url: "http://mm.test",
            user_agent: Some("webapp"),
        }
    }

    #[test]
    fn each_rule_drops_and_reports() {
        let granted = vec!["/command".to_owned()];
        let data = json!([
            {"location": "/command", "bindings": [{
                "label": "app", "icon": "icon.png", "bindings": [
                    {"label": "two words", "submit": {"path": "/x"}},
                    {"label": "both", "submit": {"path": "/x"}, "form": {"submit": {"path": "/y"}}},
                    {"label": "ok", "submit": {"path": "/ok"}, "role_id": "x"},
                    {"label": "form", "form": {"submit_label": "Go", "fields": [
                        {"name": "client_id"},
                        {"name": "dup", "label": "client-id"},
                        {"name": "has space"},
                        {"name": "sel", "type": "static_select", "options": [
                            {"label": "A", "value": "a"}, {"label": "A", "value": "b"}, {"value": "a"}]},
                        {"name": "empty_sel", "type": "static_select", "options": []},
                        {"name": "dyn", "type": "dynamic_select"}
                    ]}}
                ]
            }]},
            {"location": "/channel_header", "bindings": [{"label": "x", "submit": {"path": "/x"}}]}
        ]);
        let mut dropped = Vec::new();
        let cleaned = clean_bindings(data.as_array().expect("array"), &cx(&granted), &mut dropped);
        let reasons: Vec<String> = dropped
            .iter()
            .map(|d| format!("{}: {}", d.what, d.reason))
            .collect();
        assert_eq!(cleaned.len(), 1, "{reasons:#?}");
        let app = &cleaned[0]["bindings"][0];
        assert_eq!(
            app["icon"],
            "http://mm.test/plugins/com.mattermost.apps/apps/app/static/icon.png"
        );
        let labels: Vec<&str> = app["bindings"]
            .as_array()
            .expect("children")
            .iter()
            .filter_map(|b| b["label"].as_str())
            .collect();
        assert_eq!(labels, ["ok", "form"]);
        assert_eq!(app["bindings"][0]["app_id"], "app");
        let fields = app["bindings"][1]["form"]["fields"]
            .as_array()
            .expect("fields");
        let names: Vec<&str> = fields.iter().filter_map(|f| f["name"].as_str()).collect();
        assert_eq!(names, ["client_id", "sel"]);
        assert_eq!(fields[0]["label"], "client-id");
        assert_eq!(fields[1]["options"], json!([{"label": "A", "value": "a"}]));
        // two words, both, role_id, submit_label, dup, has space, 2 options, empty_sel, dyn,
        // the channel header group (not granted).
        assert_eq!(dropped.len(), 11, "{reasons:#?}");
    }
}
