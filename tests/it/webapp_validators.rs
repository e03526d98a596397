//! Every bindings response and every form the app produces, as the webapp receives them
//! (after the plugin's cleaning), run through the webapp's own validators
//! (mattermost-redux 11.9.0 `validateBindings` / `cleanForm`, `validate.mjs`) and its
//! TypeScript types (@mattermost/types 11.9.0, `typecheck.mjs`).
//!
//! The validators may only write what validate.mjs's header lists: on each non-top-level
//! binding `app_id` (from the parent when falsy), `label` (the relative location when
//! falsy) and `location` (the parent's full location + "/" + its own); top-level groups are
//! filtered to /post_menu, /channel_header, /command in that order, and dropped when left
//! without children; `cleanForm` writes nothing. The test applies exactly those writes to
//! its input and requires the validators' output to equal the result.

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::support::e2e::{require_node_modules, run_tool, tool_slot, TOOL_TIMEOUT};
use crate::support::mattermost::command::find_command;
use crate::support::util::random_token;
use crate::support::world::{expect_ok, kind, World, COMMAND};

/// The app's ID, which the plugin stamps on every non-top-level binding.
const APP_ID: &str = "hello-oauth2-rs";

/// The top-level locations validateBindings keeps, in its output order.
const TOP_LOCATIONS: [&str; 3] = ["/post_menu", "/channel_header", "/command"];

/// JavaScript truthiness of an optional JSON value.
fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(_) => true,
    }
}

/// JavaScript's `String(value)` for what a binding's location can be.
fn js_string(value: Option<&Value>) -> String {
    match value {
        None => "undefined".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// What validateBindings makes of `groups` when it drops nothing: the writes listed in
/// validate.mjs's header, and nothing else.
fn webapp_writes(groups: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    for top in TOP_LOCATIONS {
        for group in groups.iter().filter(|g| g["location"] == top) {
            let mut group = group.clone();
            write_children(&mut group);
            if group["bindings"].as_array().is_some_and(|b| !b.is_empty()) {
                out.push(group);
            }
        }
    }
    out
}

fn write_children(parent: &mut Value) {
    let app_id = parent.get("app_id").cloned();
    let location = js_string(parent.get("location"));
    let Some(children) = parent.get_mut("bindings").and_then(Value::as_array_mut) else {
        return;
    };
    for child in children {
        let Some(b) = child.as_object_mut() else {
            continue;
        };
        if !truthy(b.get("app_id")) {
            match &app_id {
                Some(id) => b.insert("app_id".into(), id.clone()),
                None => b.remove("app_id"),
            };
        }
        if !truthy(b.get("label")) {
            let label = if truthy(b.get("location")) {
                b["location"].clone()
            } else {
                json!("")
            };
            b.insert("label".into(), label);
        }
        let full = format!("{location}/{}", js_string(b.get("location")));
        b.insert("location".into(), json!(full));
        write_children(child);
    }
}

/// Bindings (groups included) and the fields of their embedded forms.
fn count_bindings(list: &Value) -> usize {
    list.as_array().map_or(0, |list| {
        list.iter()
            .map(|b| 1 + count_bindings(&b["bindings"]) + count_fields(&b["form"]))
            .sum()
    })
}

fn count_fields(form: &Value) -> usize {
    form["fields"].as_array().map_or(0, Vec::len)
}

/// Where `got` differs from `want`, as `path: want → got` lines (at most 20).
fn differences(want: &Value, got: &Value) -> Vec<String> {
    fn walk(path: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
        if out.len() >= 20 || want == got {
            return;
        }
        match (want, got) {
            (Value::Object(w), Value::Object(g)) => {
                for key in w.keys().chain(g.keys().filter(|k| !w.contains_key(*k))) {
                    let (a, b) = (w.get(key), g.get(key));
                    match (a, b) {
                        (Some(a), Some(b)) => walk(&format!("{path}.{key}"), a, b, out),
                        _ => out.push(format!("{path}.{key}: {a:?} → {b:?}")),
                    }
                }
            }
            (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
                for (i, (a, b)) in w.iter().zip(g).enumerate() {
                    walk(&format!("{path}[{i}]"), a, b, out);
                }
            }
            _ => out.push(format!("{path}: {want} → {got}")),
        }
    }
    let mut out = Vec::new();
    walk("$", want, got, &mut out);
    out
}

/// The validators' verdict on one bindings response or form.
fn verdict(want: &Value, got: &Value, want_count: usize, got_count: usize) -> Vec<String> {
    let mut problems = differences(want, got);
    if want_count != got_count {
        problems.push(format!(
            "{want_count} bindings/fields went in, {got_count} came out"
        ));
    }
    problems
}

/// A temporary JSON file, removed on drop.
struct TempJson(PathBuf);

impl TempJson {
    fn write(name: &str, value: &Value) -> Self {
        let path = std::env::temp_dir().join(format!(
            "hello-oauth2-rs-{name}-{}-{}.json",
            std::process::id(),
            random_token("", 6)
        ));
        let text = serde_json::to_string_pretty(value).expect("JSON serialises");
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        Self(path)
    }

    fn arg(&self) -> String {
        self.0.to_string_lossy().into_owned()
    }
}

impl Drop for TempJson {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Asserts the plugin stamped `app_id` on every non-top-level binding and on no group.
fn assert_app_id_stamped(groups: &[Value]) {
    fn below(bindings: &Value, path: &str) {
        for b in bindings.as_array().into_iter().flatten() {
            let here = format!("{path}/{}", b["location"].as_str().unwrap_or("?"));
            assert_eq!(b["app_id"], APP_ID, "app_id of {here}");
            below(&b["bindings"], &here);
        }
    }
    for group in groups {
        assert!(
            group.get("app_id").is_none(),
            "a group has an app_id: {group}"
        );
        below(
            &group["bindings"],
            group["location"].as_str().unwrap_or("?"),
        );
    }
}

/// The labels of the command's sub-commands in a bindings response.
fn sub_commands(groups: &[Value]) -> Vec<String> {
    find_command(groups, APP_ID)
        .and_then(|c| c["bindings"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|b| b["label"].as_str().map(str::to_owned))
        .collect()
}

/// The form `configure` without values opens, as the client receives it.
async fn bare_configure_form(w: &World) -> Value {
    let response = w.run(&w.sam, &format!("{COMMAND} configure")).await;
    assert_eq!(kind(&response), "form", "{response:#}");
    response["form"].clone()
}

#[tokio::test]
async fn the_webapp_validators_keep_every_binding_and_form_unchanged() {
    require_node_modules();
    let w = World::new().await;

    // Every form the app returns: the bare configure before any configuration, after a
    // custom provider, after a named one; and the configure binding's embedded form.
    let unconfigured = bare_configure_form(&w).await;
    w.configure_custom_provider().await;
    let custom = bare_configure_form(&w).await;

    // Every bindings response: plain user and system admin, not connected and connected.
    let user = w.mm.bindings(&w.alice).await;
    let admin = w.mm.bindings(&w.sam).await;
    w.connect(&w.alice).await;
    w.connect(&w.sam).await;
    let user_connected = w.mm.bindings(&w.alice).await;
    let admin_connected = w.mm.bindings(&w.sam).await;
    let sets = [
        ("plain user", &user, vec!["connect", "help"]),
        (
            "plain user, connected",
            &user_connected,
            vec!["info", "disconnect", "help"],
        ),
        (
            "system admin",
            &admin,
            vec!["connect", "configure", "status", "help"],
        ),
        (
            "system admin, connected",
            &admin_connected,
            vec!["info", "disconnect", "configure", "status", "help"],
        ),
    ];
    for (who, set, labels) in &sets {
        assert_eq!(sub_commands(set), *labels, "{who}: {set:#?}");
        assert_app_id_stamped(set);
    }
    let embedded = |set: &[Value]| {
        find_command(set, APP_ID).expect("the command")["bindings"]
            .as_array()
            .expect("sub-commands")
            .iter()
            .find(|b| b["label"] == "configure")
            .expect("configure")["form"]
            .clone()
    };
    let embedded_form = embedded(&admin);
    assert_eq!(embedded(&admin_connected), embedded_form);

    let response = w
        .run(
            &w.sam,
            &format!(
                "{COMMAND} configure --provider gitlab --client-id gl-id --client-secret gl-s"
            ),
        )
        .await;
    expect_ok(&response);
    let named = bare_configure_form(&w).await;
    let forms = [
        ("the configure binding's form", &embedded_form),
        ("the bare configure form, unconfigured", &unconfigured),
        ("the bare configure form, custom provider", &custom),
        ("the bare configure form, GitLab", &named),
    ];
    assert_ne!(custom, unconfigured);
    assert_ne!(named, custom);
    // Nothing was lost on the way to the webapp either.
    assert!(w.mm.dropped().is_empty(), "{:#?}", w.mm.dropped());

    // Controls: what the validators must drop, so the comparison is known to catch it.
    let mut bad_set = admin_connected.clone();
    bad_set[0]["bindings"][0]["bindings"][0]["label"] = json!("two words");
    let mut bad_form = custom.clone();
    bad_form["fields"]
        .as_array_mut()
        .expect("fields")
        .push(json!({"name": "has space", "type": "text"}));

    let real = json!({
        "bindings": sets.iter().map(|(_, set, _)| set).collect::<Vec<_>>(),
        "forms": forms.iter().map(|(_, form)| form).collect::<Vec<_>>(),
    });
    let mut with_controls = real.clone();
    with_controls["bindings"]
        .as_array_mut()
        .expect("bindings")
        .push(json!(bad_set));
    with_controls["forms"]
        .as_array_mut()
        .expect("forms")
        .push(bad_form);
    let real_file = TempJson::write("webapp-input", &real);
    let control_file = TempJson::write("webapp-input-controls", &with_controls);

    let (validated, typed) = {
        let _slot = tool_slot().await;
        let validated = run_tool("validate.mjs", &[&control_file.arg()], TOOL_TIMEOUT).await;
        let typed = run_tool("typecheck.mjs", &[&real_file.arg()], TOOL_TIMEOUT).await;
        (validated, typed)
    };

    // validate.mjs: everything unchanged but for the documented writes.
    assert!(
        validated.status.success(),
        "validate.mjs failed: {}",
        validated.stderr
    );
    let out = validated.json("validate.mjs");
    let out_sets = out["bindings"].as_array().expect("validated bindings");
    let out_forms = out["forms"].as_array().expect("cleaned forms");
    assert_eq!(out_sets.len(), sets.len() + 1);
    assert_eq!(out_forms.len(), forms.len() + 1);
    let mut problems = Vec::new();
    for ((who, set, _), got) in sets.iter().zip(out_sets) {
        let want = Value::Array(webapp_writes(set));
        let found = verdict(&want, got, count_bindings(&json!(set)), count_bindings(got));
        problems.extend(
            found
                .into_iter()
                .map(|p| format!("bindings of the {who}: {p}")),
        );
    }
    for ((what, form), got) in forms.iter().zip(out_forms) {
        let found = verdict(form, got, count_fields(form), count_fields(got));
        problems.extend(found.into_iter().map(|p| format!("{what}: {p}")));
    }
    assert!(
        problems.is_empty(),
        "the webapp's validators changed the app's output:\n{}\nvalidate.mjs said: {}",
        problems.join("\n"),
        validated.stderr
    );
    // The controls were caught, by the validators and by the comparison.
    let got = &out_sets[sets.len()];
    let control = verdict(
        &Value::Array(webapp_writes(&bad_set)),
        got,
        count_bindings(&json!(bad_set)),
        count_bindings(got),
    );
    assert!(
        control.iter().any(|p| p.contains("came out")),
        "{control:#?}"
    );
    let got = &out_forms[forms.len()];
    let control = verdict(
        &with_controls["forms"][forms.len()],
        got,
        count_fields(&with_controls["forms"][forms.len()]),
        count_fields(got),
    );
    assert!(
        control.iter().any(|p| p.contains("came out")),
        "{control:#?}"
    );
    let reports: Vec<&str> = validated
        .stderr
        .lines()
        .filter(|l| l.contains("dropped"))
        .collect();
    assert_eq!(
        reports.len(),
        2,
        "only the controls lose anything: {}",
        validated.stderr
    );
    let last_set = format!("bindings[{}]", sets.len());
    let last_form = format!("forms[{}]", forms.len());
    assert!(
        reports.iter().any(|l| l.contains(&last_set))
            && reports.iter().any(|l| l.contains(&last_form)),
        "{reports:#?}"
    );

    // typecheck.mjs: the app's output fits the webapp's types.
    let verdict = typed.json("typecheck.mjs");
    assert!(
        typed.status.success() && verdict["ok"] == true,
        "the app's bindings and forms do not fit @mattermost/types (exit {}): {:#}\n{}",
        typed.status,
        verdict["errors"],
        typed.stderr
    );
}
