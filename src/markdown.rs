//! Provider text in Markdown messages: shown as written, never interpreted (a calendar
//! named `[Verify](https://…)` or `@all` must not become a link or a mention).

/// `text` with Markdown's special characters escaped, `@` included (no mentions).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\`*_[]<>#|~@".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `text` as inline code; a backtick in it cannot end the span.
pub fn code(text: &str) -> String {
    format!("`{}`", text.replace('`', "'"))
}

/// At most `max` characters of `text`, with an ellipsis when cut, and no line breaks.
pub fn cap(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match flat.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_text_is_shown_not_interpreted() {
        assert_eq!(
            escape("[Verify](https://x) @all *now*"),
            "\\[Verify\\](https://x) \\@all \\*now\\*"
        );
        assert_eq!(code("a`b"), "`a'b`");
        assert_eq!(cap("abcdef", 3), "abc…");
        assert_eq!(cap("ab\ncd", 10), "ab cd");
        assert_eq!(cap("éé", 2), "éé");
    }
}
