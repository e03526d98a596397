//! A client's slash-command parser over (cleaned) bindings: walk the sub-commands by label,
//! map `--flag value` and positional arguments to the form's fields, and produce the submit
//! call with its `values`. Errors are what a client would refuse before calling anything.

use serde_json::{json, Map, Value};

/// A command the client refuses to send.
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

/// Splits a command line into words; `"…"` and `'…'` group words, `\` escapes in `"…"`.
pub fn tokenize(line: &str) -> Result<Vec<String>, CommandError> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {
                in_word = true;
                let quote = c;
                loop {
                    match chars.next() {
                        None => return err("unterminated quote"),
                        Some(c) if c == quote => break,
                        Some('\\') if quote == '"' => match chars.next() {
                            Some(c) => current.push(c),
                            None => return err("unterminated quote"),
                        },
                        Some(c) => current.push(c),
                    }
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                current.push(c);
            }
        }
    }
    if in_word {
        words.push(current);
    }
    Ok(words)
}

/// The top-level command binding labelled `name` under `/command`.
pub fn find_command<'a>(bindings: &'a [Value], name: &str) -> Option<&'a Value> {
    bindings
        .iter()
        .find(|g| g["location"] == "/command")?
        .get("bindings")?
        .as_array()?
        .iter()
        .find(|b| label_of(b).eq_ignore_ascii_case(name))
}

fn label_of(binding: &Value) -> &str {
    binding["label"]
        .as_str()
        .filter(|l| !l.is_empty())
        .or_else(|| binding["location"].as_str())
        .unwrap_or("")
}

/// What a command line resolves to, before any call is made.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// A binding with a submit call (no arguments).
    Submit(Value),
    /// A form to fill from the remaining words: embedded in the binding, or still to be
    /// fetched from its `source` (as the webapp's parser does when the form has no submit).
    Form {
        /// The embedded form (with a submit), or `None` when it must be fetched.
        form: Option<Value>,
        /// The form's source call, when it has to be fetched.
        source: Option<Value>,
        /// The words after the sub-command.
        args: Vec<String>,
    },
}

/// Resolves `line` against `bindings`.
pub fn resolve(bindings: &[Value], line: &str) -> Result<Parsed, CommandError> {
    let words = tokenize(line)?;
    let Some(first) = words.first() else {
        return err("empty command");
    };
    let Some(name) = first.strip_prefix('/') else {
        return err("a command starts with '/'");
    };
    let Some(mut binding) = find_command(bindings, name) else {
        return err(format!("/{name} is not a command you can use"));
    };
    let mut rest = &words[1..];
    while let Some(children) = binding["bindings"].as_array().filter(|c| !c.is_empty()) {
        let Some(word) = rest.first() else {
            return err(format!("{line:?} needs a sub-command"));
        };
        let Some(child) = children
            .iter()
            .find(|c| label_of(c).eq_ignore_ascii_case(word))
        else {
            return err(format!("no sub-command {word:?} in {line:?}"));
        };
        binding = child;
        rest = &rest[1..];
    }
    if let Some(submit) = binding.get("submit").filter(|s| !s.is_null()) {
        if !rest.is_empty() {
            return err(format!("unexpected arguments {rest:?}"));
        }
        return Ok(Parsed::Submit(submit.clone()));
    }
    let Some(form) = binding.get("form").filter(|f| !f.is_null()) else {
        return err("the binding has neither submit nor form");
    };
    let present = |key: &str| form.get(key).filter(|v| !v.is_null()).cloned();
    match (present("submit"), present("source")) {
        (Some(_), _) => Ok(Parsed::Form {
            form: Some(form.clone()),
            source: None,
            args: rest.to_vec(),
        }),
        (None, Some(source)) => Ok(Parsed::Form {
            form: None,
            source: Some(source),
            args: rest.to_vec(),
        }),
        (None, None) => err("Form has neither submit nor source."),
    }
}

/// Parses `line` against bindings whose form is embedded: the submit call and the values.
/// A missing required field is an error here; a client opens the modal instead.
pub fn parse(bindings: &[Value], line: &str) -> Result<(Value, Value), CommandError> {
    match resolve(bindings, line)? {
        Parsed::Submit(submit) => Ok((submit, json!({}))),
        Parsed::Form {
            form: Some(form),
            args,
            ..
        } => {
            let fields = form["fields"].as_array().cloned().unwrap_or_default();
            let values = parse_values(&fields, &args)?;
            if let Some(missing) = missing_required(&fields, &values) {
                return err(format!("required field --{missing} is missing"));
            }
            Ok((form["submit"].clone(), values))
        }
        Parsed::Form { .. } => err("the form must be fetched from its source first"),
    }
}

/// The label of the first required field without a value, if any.
pub fn missing_required(fields: &[Value], values: &Value) -> Option<String> {
    fields
        .iter()
        .find(|f| {
            let name = f["name"].as_str().unwrap_or("");
            f["is_required"] == true && values.get(name).is_none()
        })
        .map(|f| {
            f["label"]
                .as_str()
                .or(f["name"].as_str())
                .unwrap_or("")
                .to_owned()
        })
}

pub fn parse_values(fields: &[Value], words: &[String]) -> Result<Value, CommandError> {
    let mut values = Map::new();
    let mut positional: Vec<&Value> = fields
        .iter()
        .filter(|f| f["position"].as_i64().is_some_and(|p| p != 0))
        .collect();
    positional.sort_by_key(|f| {
        let p = f["position"].as_i64().unwrap_or(0);
        if p < 0 {
            i64::MAX
        } else {
            p
        }
    });
    let mut next_positional = 0;
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        let (field, raw) = if let Some(flag) = word.strip_prefix("--") {
            let Some(field) = fields.iter().find(|f| {
                f["label"].as_str() == Some(flag) && f["type"].as_str() != Some("markdown")
            }) else {
                return err(format!("unknown flag --{flag}"));
            };
            let is_bool = field["type"] == "bool";
            let next = words.get(i + 1);
            let raw = match next {
                Some(v) if !(is_bool && v.starts_with("--")) => {
                    i += 2;
                    v.clone()
                }
                _ if is_bool => {
                    i += 1;
                    "true".to_owned()
                }
                _ => return err(format!("--{flag} needs a value")),
            };
            (field, raw)
        } else {
            let Some(field) = positional.get(next_positional) else {
                return err(format!("unexpected argument {word:?}"));
            };
            next_positional += 1;
            i += 1;
            (*field, word.clone())
        };
        let name = field["name"].as_str().unwrap_or("").to_owned();
        if values.contains_key(&name) {
            return err(format!(
                "--{} given twice",
                field["label"].as_str().unwrap_or("")
            ));
        }
        values.insert(name, field_value(field, &raw)?);
    }
    Ok(Value::Object(values))
}

fn field_value(field: &Value, raw: &str) -> Result<Value, CommandError> {
    let label = field["label"].as_str().unwrap_or("");
    match field["type"].as_str().unwrap_or("text") {
        "static_select" => {
            let options = field["options"].as_array().cloned().unwrap_or_default();
            let option = options
                .iter()
                .find(|o| o["value"].as_str() == Some(raw))
                .or_else(|| {
                    options.iter().find(|o| {
                        o["label"]
                            .as_str()
                            .is_some_and(|l| l.eq_ignore_ascii_case(raw))
                    })
                });
            match option {
                Some(o) => Ok(json!({
                    "label": o["label"].as_str().or(o["value"].as_str()).unwrap_or(""),
                    "value": o["value"],
                })),
                None => err(format!("Could not find option {raw:?} for --{label}")),
            }
        }
        "bool" => match raw {
            "true" => Ok(json!(true)),
            "false" => Ok(json!(false)),
            _ => err(format!("--{label} takes true or false")),
        },
        "dynamic_select" | "user" | "channel" => Ok(json!({"label": raw, "value": raw})),
        _ => Ok(json!(raw)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_group_words() {
        let words = tokenize(r#"/x configure --scopes "a b" --id 'c d' e"#).expect("tokenize");
        assert_eq!(
            words,
            ["/x", "configure", "--scopes", "a b", "--id", "c d", "e"]
        );
        assert!(tokenize("/x \"open").is_err());
    }

    #[test]
    fn flags_map_to_fields_and_options() {
        let bindings = vec![json!({"location": "/command", "bindings": [{
            "label": "app", "bindings": [{"label": "set", "form": {
                "submit": {"path": "/set"},
                "fields": [
                    {"name": "provider", "label": "provider", "type": "static_select",
                     "options": [{"label": "Google", "value": "google"}]},
                    {"name": "client_id", "label": "client-id", "type": "text", "is_required": true},
                    {"name": "force", "label": "force", "type": "bool"}
                ]}}]
        }]})];
        let (submit, values) = parse(
            &bindings,
            "/app set --provider Google --client-id 'x y' --force",
        )
        .expect("parses");
        assert_eq!(submit, json!({"path": "/set"}));
        assert_eq!(
            values,
            json!({"provider": {"label": "Google", "value": "google"}, "client_id": "x y", "force": true})
        );
        assert!(
            parse(&bindings, "/app set --provider dropbox --client-id x")
                .expect_err("unknown option")
                .0
                .contains("dropbox")
        );
        assert!(parse(&bindings, "/app set")
            .expect_err("required")
            .0
            .contains("client-id"));
        assert!(parse(&bindings, "/app nope").is_err());
    }

    #[test]
    fn a_form_without_submit_is_fetched_from_its_source() {
        let bindings = vec![json!({"location": "/command", "bindings": [{
            "label": "app", "bindings": [
                {"label": "set", "form": {"source": {"path": "/set-form"}}},
                {"label": "broken", "form": {"title": "no submit, no source"}}
            ]
        }]})];
        assert_eq!(
            resolve(&bindings, "/app set --client-id x").expect("resolves"),
            Parsed::Form {
                form: None,
                source: Some(json!({"path": "/set-form"})),
                args: vec!["--client-id".into(), "x".into()],
            }
        );
        assert!(resolve(&bindings, "/app broken")
            .expect_err("neither")
            .0
            .contains("neither submit nor source"));
    }
}
