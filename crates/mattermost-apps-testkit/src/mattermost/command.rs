//! The webapp's slash-command parser for app bindings, ported to plain functions over
//! `serde_json::Value` (no emulator state, so any test binary can drive a server with it).
//!
//! Ported from `mattermost/mattermost`:
//! `webapp/channels/src/components/suggestion/command_provider/app_command_parser/app_command_parser.ts`
//! (the mobile app and older webapps carry the same logic), entered from `executeCommand`
//! in `webapp/channels/src/actions/command.ts`. Each step below names the function it
//! follows:
//!
//! - `executeCommand`: the command word is lower-cased and the rest trimmed (this is the
//!   `raw_command` sent); a line that does not start with an app's command and a space
//!   (`isAppCommand`) goes to the server's `/api/v4/commands/execute`, which knows no app
//!   commands.
//! - `ParsedCommand.matchBinding`: walk the `/command` bindings word by word by label
//!   (case-insensitive); the first word that names no sub-binding starts the parameters. A
//!   leaf with `submit` and no `form` gets an empty form with that submit; a leaf with a
//!   `form` and no `submit` uses **`binding.form` itself**. When that form has no submit,
//!   the webapp first fetches `form.source` (`getSubmittableForm`, `fetchSubmittableForm`),
//!   fails with the fetch's error, and otherwise discards the fetched form: see
//!   [`Parsed::fetch_first`] and [`check_fetched_form`].
//! - `ParsedCommand.parseForm`: `-flag`/`--flag`/`—flag`, a value after spaces or one `=`,
//!   values bare, `"double-quoted"` (a `\` is dropped, the next `"` always closes) or
//!   `` `ticked` ``; flags match a field's **label** (case-insensitive), markdown and
//!   readonly fields excluded; a repeated flag overwrites the earlier value.
//! - `AppCommandParser.composeCommandSubmitCall`: `addDefaultAndReadOnlyValues` (a field's
//!   `value` is sent when the flag was not typed; a select's default sends its option's
//!   value), then `getMissingFields` ("Required fields missing", **nothing is sent**), then
//!   `composeCallRequest` ("No submit call in binding or form.") and `expandOptions` (a
//!   static select's text must equal an option's **value**, and is sent as that option).
//!
//! Not ported, because this app's bindings use none of it: positional arguments,
//! multiselect lists, and bool, user, channel and dynamic select fields (a binding that has
//! them fails with a "not ported" error rather than being parsed differently), autocomplete,
//! and the position marker `parserErrorMessage` adds to parse errors.
//!
//! What the client does with the answer (`doAppSubmit`): `ok` shows its text, `error` its
//! text (a command shows no per-field errors), `form` opens the form as a modal.

use serde_json::{json, Map, Value};

/// A command the client refuses to send, with the client's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandError(pub String);

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(message: impl Into<String>) -> Result<T, CommandError> {
    Err(CommandError(message.into()))
}

/// The call a command line sends to `POST /plugins/com.mattermost.apps/api/v1/call`.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    /// The submit call (`resolvedForm.submit`).
    pub call: Value,
    /// The values: text as typed, a static select as its `{label, value}` option.
    pub values: Value,
    /// The command line as typed.
    pub raw_command: String,
    /// The context the client sends (`getAppContext`): `app_id` and `location` of the leaf
    /// binding; the caller adds `channel_id` and `team_id`.
    pub context: Value,
}

/// A command line matched against the bindings.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// A form source the client calls before anything else (the binding's form has no
    /// submit). The caller makes that call and passes its answer to [`check_fetched_form`]:
    /// an error there is the command's error, and otherwise `submission` stands.
    pub fetch_first: Option<Value>,
    /// The call to send, or why the client sends nothing.
    pub submission: Result<Submission, CommandError>,
}

/// The command bindings the parser walks: the children of the `/command` location.
pub fn command_bindings(bindings: &[Value]) -> &[Value] {
    bindings
        .iter()
        .find(|b| b["location"] == "/command")
        .and_then(|b| b["bindings"].as_array())
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The top-level command binding labelled `name` under `/command`.
pub fn find_command<'a>(bindings: &'a [Value], name: &str) -> Option<&'a Value> {
    command_bindings(bindings)
        .iter()
        .find(|b| label(b).eq_ignore_ascii_case(name))
}

/// The labels of `/<name>`'s sub-commands, in order (empty when there is no such command).
pub fn sub_command_labels(bindings: &[Value], name: &str) -> Vec<String> {
    find_command(bindings, name)
        .and_then(|c| c["bindings"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|b| b["label"].as_str().map(str::to_owned))
        .collect()
}

fn label(binding: &Value) -> &str {
    binding["label"].as_str().unwrap_or("")
}

fn present<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.get(key).filter(|v| !v.is_null())
}

fn is_space(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Parses `line` as the webapp does when the user presses Enter. `Err` is a refusal made
/// before any call (no command matched, a sub-command is missing, a form with neither
/// submit nor source).
pub fn parse(bindings: &[Value], typed: &str) -> Result<Parsed, CommandError> {
    let line = &normalize(typed);
    let is_app_command = command_bindings(bindings).iter().any(|b| {
        let base = label(b).trim_start_matches('/');
        !base.is_empty()
            && line
                .to_lowercase()
                .starts_with(&format!("/{base} ").to_lowercase())
    });
    if !is_app_command {
        let word = line.split(' ').next().unwrap_or("");
        return err(format!(
            "{word} is not an app command here: the client would send it to the server, which has no such command"
        ));
    }
    let (binding, params) = match_binding(command_bindings(bindings), line)?;
    let mut fetch_first = None;
    let form = match (present(binding, "submit"), present(binding, "form")) {
        (Some(submit), None) => json!({ "submit": submit }),
        (None, Some(form)) => {
            if present(form, "submit").is_none() {
                match present(form, "source") {
                    Some(source) => fetch_first = Some(source.clone()),
                    None => return err("Form has neither submit nor source."),
                }
            }
            form.clone()
        }
        _ => {
            return err(
                "Parsing error: unreachable: invalid binding, neither or both Submit and Form",
            )
        }
    };
    let submission = compose(binding, &form, params, line);
    Ok(Parsed {
        fetch_first,
        submission,
    })
}

/// `executeCommand`'s clean-up: the command word in lower case, one space, the rest trimmed.
fn normalize(message: &str) -> String {
    let end = message.find(' ').unwrap_or(message.len());
    let (word, rest) = message.split_at(end);
    format!("{} {}", word.to_lowercase(), rest.trim())
}

/// `matchBinding`: the leaf binding and the rest of the line (the parameters).
fn match_binding<'a, 'l>(
    mut bindings: &'a [Value],
    line: &'l str,
) -> Result<(&'a Value, &'l str), CommandError> {
    if bindings.is_empty() {
        return err("No command bindings.");
    }
    let Some(mut rest) = line.strip_prefix('/') else {
        return err("Command must start with a `/`.");
    };
    let mut matched: Option<&Value> = None;
    loop {
        let word_end = rest.find(is_space).unwrap_or(rest.len());
        let word = &rest[..word_end];
        let Some(binding) = bindings
            .iter()
            .find(|b| label(b).to_lowercase() == word.to_lowercase())
        else {
            break;
        };
        matched = Some(binding);
        bindings = binding["bindings"].as_array().map_or(&[], Vec::as_slice);
        rest = rest[word_end..].trim_start_matches(is_space);
        if rest.is_empty() {
            break;
        }
    }
    let Some(binding) = matched else {
        return err(format!(
            "`{line}`: No matching command found in this workspace."
        ));
    };
    if binding["bindings"]
        .as_array()
        .is_some_and(|b| !b.is_empty())
    {
        return err("You must select a subcommand.");
    }
    Ok((binding, rest))
}

/// `composeCommandSubmitCall` after `matchBinding`.
fn compose(
    binding: &Value,
    form: &Value,
    params: &str,
    line: &str,
) -> Result<Submission, CommandError> {
    let fields = form["fields"].as_array().map_or(&[][..], Vec::as_slice);
    let mut values = parse_form(fields, params)?;
    add_defaults(fields, &mut values);
    let missing: Vec<&str> = fields
        .iter()
        .filter(|f| f["is_required"] == true && !is_truthy(values.get(name(f))))
        .map(label)
        .collect();
    if !missing.is_empty() {
        return err(format!(
            "Required fields missing: `{}`.",
            missing.join(", ")
        ));
    }
    let Some(call) = present(form, "submit") else {
        return err("No submit call in binding or form.");
    };
    expand_options(fields, &mut values)?;
    Ok(Submission {
        call: call.clone(),
        values: Value::Object(values),
        raw_command: line.to_owned(),
        context: json!({
            "app_id": binding["app_id"],
            "location": binding["location"],
        }),
    })
}

fn name(field: &Value) -> &str {
    field["name"].as_str().unwrap_or("")
}

fn field_type(field: &Value) -> &str {
    field["type"]
        .as_str()
        .filter(|t| !t.is_empty())
        .unwrap_or("text")
}

/// JavaScript truthiness, which the parser uses for "has a value".
fn is_truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Number(n)) => n.as_f64().is_some_and(|n| n != 0.0),
        Some(_) => true,
    }
}

/// The field types this port handles; any other fails loudly instead of differing from the
/// webapp silently.
fn check_ported(field: &Value) -> Result<(), CommandError> {
    let kind = field_type(field);
    if !matches!(kind, "text" | "static_select" | "markdown") || field["multiselect"] == true {
        return err(format!(
            "test parser: field {:?} of type {kind:?} (multiselect: {}) is not ported from the webapp's parser",
            name(field),
            field["multiselect"] == true
        ));
    }
    if field["position"].as_i64().is_some_and(|p| p != 0) {
        return err(format!(
            "test parser: positional field {:?} is not ported from the webapp's parser",
            name(field)
        ));
    }
    Ok(())
}

/// `parseForm`: the typed flags and their values, as strings.
fn parse_form(fields: &[Value], params: &str) -> Result<Map<String, Value>, CommandError> {
    for field in fields {
        check_ported(field)?;
    }
    let flags: Vec<&Value> = fields
        .iter()
        .filter(|f| field_type(f) != "markdown" && f["readonly"] != true)
        .collect();
    let mut values = Map::new();
    let mut chars = params.chars().peekable();
    loop {
        while chars.next_if(|c| is_space(*c)).is_some() {}
        let Some(c) = chars.next() else {
            return Ok(values);
        };
        match c {
            '-' => {
                chars.next_if_eq(&'-');
            }
            '—' => {}
            _ => return err("Unable to identify argument."),
        }
        let mut flag = String::new();
        while let Some(c) = chars.next_if(|c| !is_space(*c) && *c != '=') {
            flag.push(c);
        }
        let Some(field) = flags
            .iter()
            .find(|f| label(f).to_lowercase() == flag.to_lowercase())
        else {
            return err(format!("Command does not accept flag `{flag}`."));
        };
        let mut equals = false;
        while let Some(c) = chars.next_if(|c| is_space(*c) || *c == '=') {
            if c == '=' {
                if equals {
                    return err("Multiple `=` signs are not allowed.");
                }
                equals = true;
            }
        }
        let value = match chars.peek() {
            Some('"') => {
                chars.next();
                quoted(&mut chars, '"')?
            }
            Some('`') => {
                chars.next();
                quoted(&mut chars, '`')?
            }
            Some('[') => return err("Unexpected list opening."),
            _ => {
                let mut value = String::new();
                while let Some(c) = chars.next_if(|c| !is_space(*c)) {
                    value.push(c);
                }
                value
            }
        };
        values.insert(name(field).to_owned(), Value::String(value));
    }
}

/// A quoted value after its opening `quote`: inside `"…"` a backslash is dropped (and the
/// next `"` still closes); inside `` `…` `` nothing is special. Empty values are refused.
fn quoted(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    quote: char,
) -> Result<String, CommandError> {
    let mut value = String::new();
    let mut empty = true;
    loop {
        match chars.next() {
            None if quote == '"' => {
                return err("Matching double quote expected before end of input.")
            }
            None => return err("Matching tick quote expected before end of input."),
            Some(c) if c == quote => {
                if empty {
                    return err("Empty values are not allowed");
                }
                return Ok(value);
            }
            Some('\\') if quote == '"' => {}
            Some(c) => value.push(c),
        }
        empty = false;
    }
}

/// `addDefaultAndReadOnlyValues`: a field with a value the user did not type (or a
/// readonly one) is sent with that value.
fn add_defaults(fields: &[Value], values: &mut Map<String, Value>) {
    for field in fields {
        let default = field.get("value");
        let typed = values.contains_key(name(field)) && field["readonly"] != true;
        if typed || !is_truthy(default) {
            continue;
        }
        let text = match field_type(field) {
            "text" => match default {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => continue,
            },
            "static_select" => match default.and_then(|d| d["value"].as_str()) {
                Some(value) => value.to_owned(),
                None => continue,
            },
            _ => continue,
        };
        values.insert(name(field).to_owned(), Value::String(text));
    }
}

/// `expandOptions`: a static select's text becomes the option whose value it equals.
fn expand_options(fields: &[Value], values: &mut Map<String, Value>) -> Result<(), CommandError> {
    let mut errors = String::new();
    for field in fields.iter().filter(|f| field_type(f) == "static_select") {
        let key = name(field);
        let Some(typed) = values.get(key).filter(|v| is_truthy(Some(v))).cloned() else {
            continue;
        };
        let option = field["options"]
            .as_array()
            .and_then(|options| options.iter().find(|o| o["value"] == typed));
        match option {
            Some(option) => {
                values.insert(key.to_owned(), option.clone());
            }
            None => {
                let shown = typed
                    .as_str()
                    .map_or_else(|| typed.to_string(), str::to_owned);
                errors.push_str(&format!("Unknown option for field `{key}`: `{shown}`.\n"));
                values.remove(key);
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CommandError(errors))
    }
}

/// `fetchSubmittableForm`: what the client makes of the answer to [`Parsed::fetch_first`].
pub fn check_fetched_form(response: &Value) -> Result<(), CommandError> {
    match response["type"].as_str().unwrap_or("") {
        "form" if present(&response["form"], "submit").is_some() => Ok(()),
        "form" => err("No submit call in binding or form."),
        "error" => err(response["text"]
            .as_str()
            .filter(|t| !t.is_empty())
            .unwrap_or("Unknown error occurred.")),
        kind @ ("ok" | "navigate") => err(format!(
            "App response type was not expected. Response type: {kind}"
        )),
        kind => err(format!(
            "App response type not supported. Response type: {kind}."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bindings of app `app` with these sub-commands (the plugin sets `app_id` on
    /// every binding).
    fn app(mut commands: Value) -> Vec<Value> {
        for command in commands.as_array_mut().into_iter().flatten() {
            command["app_id"] = json!("app");
        }
        vec![json!({"location": "/command", "bindings": [{
            "app_id": "app", "location": "app", "label": "app", "bindings": commands
        }]})]
    }

    fn set_form() -> Value {
        json!({
            "submit": {"path": "/set"},
            "fields": [
                {"name": "provider", "label": "provider", "type": "static_select",
                 "options": [{"label": "Google", "value": "google"},
                             {"label": "Custom", "value": "custom"}]},
                {"name": "client_id", "label": "client-id", "type": "text"},
                {"name": "scopes", "label": "scopes", "type": "text", "value": "openid"},
                {"name": "note", "label": "note", "type": "markdown"}
            ]
        })
    }

    fn submit(bindings: &[Value], line: &str) -> Result<Submission, CommandError> {
        let parsed = parse(bindings, line)?;
        assert_eq!(parsed.fetch_first, None, "{line}");
        parsed.submission
    }

    fn refusal(bindings: &[Value], line: &str) -> String {
        submit(bindings, line).expect_err("refused").0
    }

    #[test]
    fn flags_match_labels_and_selects_match_option_values() {
        let bindings = app(json!([{"location": "set", "label": "set", "form": set_form()}]));
        let s = submit(
            &bindings,
            "/APP Set --provider google -CLIENT-ID=\"x \\y\" —scopes `a b`  ",
        )
        .expect("parses");
        assert_eq!(s.call, json!({"path": "/set"}));
        assert_eq!(
            s.values,
            json!({"provider": {"label": "Google", "value": "google"},
                   "client_id": "x y", "scopes": "a b"})
        );
        // The command word is lower-cased, the rest trimmed.
        assert_eq!(
            s.raw_command,
            "/app Set --provider google -CLIENT-ID=\"x \\y\" —scopes `a b`"
        );
        assert_eq!(s.context, json!({"app_id": "app", "location": "set"}));
        // The option's label is not accepted, and the message names the field.
        assert_eq!(
            refusal(&bindings, "/app set --provider Google"),
            "Unknown option for field `provider`: `Google`.\n"
        );
        assert_eq!(
            refusal(&bindings, "/app set --client_id x"),
            "Command does not accept flag `client_id`."
        );
        assert_eq!(
            refusal(&bindings, "/app set --note x"),
            "Command does not accept flag `note`."
        );
        assert_eq!(
            refusal(&bindings, "/app set x"),
            "Unable to identify argument."
        );
        assert!(refusal(&bindings, "/app set --scopes \"open").contains("double quote"));
        assert!(refusal(&bindings, "/app set --scopes \"\"").contains("Empty values"));
        assert!(refusal(&bindings, "/app set --scopes = = x").contains("Multiple `=`"));
    }

    #[test]
    fn defaults_come_from_values_and_a_repeated_flag_overwrites() {
        let bindings = app(json!([{"location": "set", "label": "set", "form": set_form()}]));
        let s = submit(&bindings, "/app set --client-id a --client-id b").expect("parses");
        assert_eq!(s.values, json!({"client_id": "b", "scopes": "openid"}));
        // A flag at the end with no value sends an empty string.
        let s = submit(&bindings, "/app set --client-id").expect("parses");
        assert_eq!(s.values, json!({"client_id": "", "scopes": "openid"}));
    }

    #[test]
    fn a_required_field_missing_sends_nothing() {
        let mut form = set_form();
        form["fields"][1]["is_required"] = json!(true);
        form["fields"][0]["is_required"] = json!(true);
        let bindings = app(json!([{"location": "set", "label": "set", "form": form}]));
        assert_eq!(
            refusal(&bindings, "/app set"),
            "Required fields missing: `provider, client-id`."
        );
        assert_eq!(
            refusal(&bindings, "/app set --provider google --client-id"),
            "Required fields missing: `client-id`."
        );
        assert!(submit(&bindings, "/app set --provider google --client-id x").is_ok());
    }

    #[test]
    fn only_the_form_embedded_in_the_binding_counts() {
        let bindings = app(json!([
            {"location": "open", "label": "open", "form": {"source": {"path": "/form"}}},
            {"location": "broken", "label": "broken", "form": {"title": "no submit, no source"}},
            {"location": "go", "label": "go", "submit": {"path": "/go"}},
            {"location": "both", "label": "both", "submit": {"path": "/go"}, "form": set_form()}
        ]));
        // A source-only form: fetched first, then the embedded form (no fields, no
        // submit) is what the line is parsed against.
        let parsed = parse(&bindings, "/app open").expect("matches");
        assert_eq!(parsed.fetch_first, Some(json!({"path": "/form"})));
        assert_eq!(
            parsed.submission.expect_err("no submit").0,
            "No submit call in binding or form."
        );
        let parsed = parse(&bindings, "/app open --client-id x").expect("matches");
        assert_eq!(
            parsed.submission.expect_err("no fields").0,
            "Command does not accept flag `client-id`."
        );
        assert_eq!(
            parse(&bindings, "/app broken").expect_err("refused").0,
            "Form has neither submit nor source."
        );
        assert!(parse(&bindings, "/app both")
            .expect_err("refused")
            .0
            .contains("neither or both"));
        // A submit binding takes no flags.
        assert_eq!(
            submit(&bindings, "/app go").expect("parses").call,
            json!({"path": "/go"})
        );
        assert!(refusal(&bindings, "/app go --x 1").contains("does not accept flag"));
        assert_eq!(
            parse(&bindings, "/app").expect_err("not a leaf").0,
            "You must select a subcommand."
        );
        assert!(parse(&bindings, "/nope go")
            .expect_err("no app")
            .0
            .contains("not an app command"));
        assert_eq!(
            submit(&bindings, "/app go").expect("parses").raw_command,
            "/app go"
        );
        // A word that names no sub-command starts the parameters.
        assert_eq!(
            parse(&bindings, "/app nope").expect_err("not a leaf").0,
            "You must select a subcommand."
        );
    }

    #[test]
    fn a_fetched_form_needs_a_submit() {
        assert!(
            check_fetched_form(&json!({"type": "form", "form": {"submit": {"path": "/s"}}}))
                .is_ok()
        );
        assert_eq!(
            check_fetched_form(&json!({"type": "form", "form": {"source": {"path": "/s"}}}))
                .expect_err("no submit")
                .0,
            "No submit call in binding or form."
        );
        assert_eq!(
            check_fetched_form(&json!({"type": "error", "text": "nope"}))
                .expect_err("error")
                .0,
            "nope"
        );
        assert!(check_fetched_form(&json!({"type": "ok"}))
            .expect_err("ok")
            .0
            .contains("not expected"));
    }
}
