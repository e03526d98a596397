//! Logging: env_logger (filtered by `RUST_LOG`, `info` by default) to stderr, as text for
//! people or, with `APP_LOG_FORMAT=json`, one JSON object per line for machines:
//!
//! ```json
//! {"time":"2026-12-06T07:00:00.123Z","level":"INFO","target":"hello_oauth2_rs::call","message":"call","duration_ms":12,"outcome":"ok","path":"/info","user_id":"4xk9…"}
//! ```
//!
//! `time`, `level`, `target` and `message` are always there; a record's key-values
//! (calls carry `path`, `user_id`, `outcome`, `duration_ms`) follow. serde_json escapes
//! every string, so text from outside cannot break a line or forge a field.

use std::io::Write;

use chrono::{SecondsFormat, Utc};
use log::kv::{self, VisitSource};
use serde::Serialize;
use serde_json::{Map, Value};

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// env_logger's text, for people.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Starts the logger. Call once, first thing in `main`.
pub fn init(format: LogFormat) {
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    if format == LogFormat::Json {
        builder.format(|buf, record| {
            serde_json::to_writer(&mut *buf, &json_line(record))?;
            writeln!(buf)
        });
    }
    builder.init();
}

/// One line of the JSON format.
#[derive(Serialize)]
struct Line<'a> {
    time: String,
    level: &'static str,
    target: &'a str,
    message: String,
    #[serde(flatten)]
    fields: Map<String, Value>,
}

fn json_line<'a>(record: &'a log::Record<'_>) -> Line<'a> {
    let mut fields = Fields(Map::new());
    // The visitor never fails; an error would only drop the remaining fields.
    if record.key_values().visit(&mut fields).is_err() {
        fields.0.insert("fields".into(), "incomplete".into());
    }
    Line {
        time: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        level: record.level().as_str(),
        target: record.target(),
        message: record.args().to_string(),
        fields: fields.0,
    }
}

/// Collects a record's key-values; numbers and booleans stay JSON numbers and booleans.
struct Fields(Map<String, Value>);

impl<'kvs> VisitSource<'kvs> for Fields {
    fn visit_pair(&mut self, key: kv::Key<'kvs>, value: kv::Value<'kvs>) -> Result<(), kv::Error> {
        let value = if let Some(n) = value.to_u64() {
            Value::from(n)
        } else if let Some(n) = value.to_i64() {
            Value::from(n)
        } else if let Some(b) = value.to_bool() {
            Value::from(b)
        } else {
            Value::from(value.to_string())
        };
        self.0.insert(key.as_str().to_owned(), value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_one_escaped_json_object() {
        let kvs: [(&str, kv::Value); 3] = [
            ("path", kv::Value::from("/info")),
            ("duration_ms", kv::Value::from(12u64)),
            ("user_id", kv::Value::from("evil\"\n{\"level\":\"ERROR\"}")),
        ];
        let args = format_args!("line one\nline two \u{1b}[31m");
        let record = log::Record::builder()
            .args(args)
            .level(log::Level::Info)
            .target("hello_oauth2_rs::call")
            .key_values(&kvs)
            .build();
        let text = serde_json::to_string(&json_line(&record)).expect("serialises");
        assert!(!text.contains('\n'), "one line: {text}");
        let doc: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(doc["level"], "INFO");
        assert_eq!(doc["target"], "hello_oauth2_rs::call");
        assert_eq!(doc["message"], "line one\nline two \u{1b}[31m");
        assert_eq!(doc["path"], "/info");
        assert_eq!(doc["duration_ms"], 12);
        assert_eq!(doc["user_id"], "evil\"\n{\"level\":\"ERROR\"}");
        assert!(doc["time"].as_str().is_some_and(|t| t.ends_with('Z')));
    }
}
