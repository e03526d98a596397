//! Outside text made safe for a log line. Log readers and collectors split the log at line
//! feeds, and terminals obey control characters, so text from outside the app (a redirect's
//! `error_description`, a provider's answer, what Mattermost sends) could otherwise forge a
//! whole line (`a\n[2026-01-01T00:00:00Z INFO …] forged`), hide one, or reorder what is
//! shown. Every `log::` call that carries such text passes it through [`escape`]; the text
//! and JSON formats both take what it returns.

use std::fmt::Write as _;

/// `text` on one line, with nothing hidden: `\` becomes `\\`; line feed, carriage return
/// and tab become `\n`, `\r` and `\t`; every other control character, U+2028, U+2029,
/// U+2424 and the bidirectional controls become `\u{…}`. Everything else is kept.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control()
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{2424}')
                || crate::markdown::is_bidi_control(c) =>
            {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forged_line_stays_on_the_line_that_carries_it() {
        let forged = "a\n[2026-01-01T00:00:00Z INFO  hello_oauth2_rs] forged\r\n";
        let line = escape(forged);
        assert_eq!(
            line,
            "a\\n[2026-01-01T00:00:00Z INFO  hello_oauth2_rs] forged\\r\\n"
        );
        assert_eq!(line.lines().count(), 1);
    }

    #[test]
    fn controls_separators_and_direction_marks_are_shown_as_escapes() {
        assert_eq!(escape("a\tb\u{1b}[2Jc"), "a\\tb\\u{1b}[2Jc");
        assert_eq!(
            escape("a\u{85}b\u{2028}c\u{2029}d\u{2424}"),
            "a\\u{85}b\\u{2028}c\\u{2029}d\\u{2424}"
        );
        assert_eq!(escape("x\u{202e}y\u{2066}z"), "x\\u{202e}y\\u{2066}z");
        // The escapes themselves cannot be forged: a backslash is doubled.
        assert_eq!(escape(r"a\nb"), r"a\\nb");
        assert_eq!(escape("Ada Lovelace, é 日本"), "Ada Lovelace, é 日本");
    }
}
