//! Text from the provider (names, e-mails, error descriptions), made safe to put in a
//! Mattermost message: shown as it is, never read as Markdown, a link or a mention.
//!
//! Mattermost's clients render messages in two passes: Markdown first (the webapp uses
//! Mattermost's fork of `marked`, GFM with bare-URL autolinks), then, on the text left
//! over, mentions (`@all`, `@channel`, `@here`, `@user`), channel links (`~town-square`),
//! hashtags, e-mail autolinks and emoticons. So:
//!
//! - Markdown punctuation gets a backslash: only the characters `marked` can escape
//!   (`` \ ` * _ { } [ ] ( ) # + - . ! | ~ > ``), as other backslashes show;
//! - `<` and `&`, which `marked` cannot escape, become `&lt;` and `&amp;` (no HTML, no
//!   `<https://…>` autolink, no entity);
//! - the second pass runs after the backslashes are gone, so a zero-width space (U+200B)
//!   goes right after `@`, `~` and `#` where they could start a mention, channel link or
//!   hashtag, and after every `:` (`https://` autolinks, `:emoji:`);
//! - line breaks and other control characters become spaces, bidirectional overrides are
//!   dropped, and the text is capped.

/// The zero-width space that breaks a mention without showing.
const BREAK: char = '\u{200B}';

/// Caps `text` at `max` characters (an ellipsis marks the cut) and escapes it.
pub fn escape(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut previous: Option<char> = None;
    let mut chars = capped(text, max).peekable();
    while let Some(c) = chars.next() {
        let c = if c.is_control() { ' ' } else { c };
        match c {
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => continue,
            // A backslash escapes only punctuation; before a letter or digit it shows.
            '\\' if chars.peek().is_some_and(|n| n.is_ascii_alphanumeric()) => out.push(c),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '-' | '.'
            | '!' | '|' | '~' | '>' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '&' => out.push_str("&amp;"),
            _ => out.push(c),
        }
        let after_word = previous.is_some_and(|p| p.is_ascii_alphanumeric());
        if c == ':' || (matches!(c, '@' | '~' | '#') && !after_word) {
            out.push(BREAK);
        }
        previous = Some(c);
    }
    out
}

/// The first `max` characters, the last replaced by `…` when the text is longer.
fn capped(text: &str, max: usize) -> impl Iterator<Item = char> + '_ {
    let long = text.chars().nth(max).is_some();
    let keep = if long { max.saturating_sub(1) } else { max };
    text.chars().take(keep).chain(long.then_some('…'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_emphasis_show_literally() {
        assert_eq!(
            escape("[Verify your account](https://evil.example/login)", 100),
            "\\[Verify your account\\]\\(https:\u{200B}//evil\\.example/login\\)"
        );
        assert_eq!(
            escape("**bold** _em_ `code`", 100),
            "\\*\\*bold\\*\\* \\_em\\_ \\`code\\`"
        );
        assert_eq!(escape("www.evil.example", 100), "www\\.evil\\.example");
    }

    #[test]
    fn mentions_channels_and_hashtags_are_broken_but_emails_stay_readable() {
        assert_eq!(escape("@all", 100), "@\u{200B}all");
        assert_eq!(escape("hi @channel.", 100), "hi @\u{200B}channel\\.");
        assert_eq!(
            escape("é@here _@here", 100),
            "é@\u{200B}here \\_@\u{200B}here"
        );
        assert_eq!(escape("~town-square", 100), "\\~\u{200B}town\\-square");
        assert_eq!(escape("#announcements", 100), "\\#\u{200B}announcements");
        assert_eq!(escape("ada@example.com", 100), "ada@example\\.com");
    }

    #[test]
    fn html_entities_and_autolinks_do_not_render() {
        assert_eq!(escape("<img src=x>", 100), "&lt;img src=x\\>");
        assert_eq!(escape("&lt;b&gt;", 100), "&amp;lt;b&amp;gt;");
        assert_eq!(escape("<a@b.co>", 100), "&lt;a@b\\.co\\>");
    }

    #[test]
    fn backslashes_escape_only_before_punctuation() {
        assert_eq!(escape(r"C:\Users", 100), "C:\u{200B}\\Users");
        assert_eq!(escape(r"a\*", 100), r"a\\\*");
    }

    #[test]
    fn lines_and_direction_controls_go_and_long_text_is_cut() {
        assert_eq!(escape("a\nb\tc", 100), "a b c");
        assert_eq!(escape("a\u{202E}b", 100), "ab");
        assert_eq!(escape("abcdef", 4), "abc…");
        assert_eq!(escape("abcd", 4), "abcd");
        assert_eq!(escape("", 4), "");
    }
}
