//! Outside text (provider answers, discovery documents, redirect parameters, what Mattermost
//! sends), made safe to put in a Mattermost message: shown as it is, never read as Markdown,
//! a link, a mention or a line break.
//!
//! The webapp renders a message in two passes: Markdown first, with Mattermost's fork of
//! `marked` (GFM, tables, bare-URL autolinks, optional inline LaTeX;
//! `mattermost/marked: lib/marked.js`), then, on each text node left over, mentions, channel
//! links, e-mail autolinks, hashtags and emoticons, each swapped for a `$MM_…$` token and
//! swapped back at the end (`mattermost/mattermost:
//! webapp/channels/src/utils/text_formatting.tsx`, `doFormatText`). [`escape`] answers each
//! rule in turn (the tests below cite them one by one):
//!
//! - Markdown punctuation gets a backslash, and only the characters `marked`'s `escape` rule
//!   takes (`` \ ` * _ { } [ ] ( ) # + - . ! | ~ > ``); a backslash before a letter or digit
//!   shows as it is, so it is left alone;
//! - `<`, `&` and `$`, which it cannot escape, become entities (`&lt;`, `&amp;`, `&#36;`):
//!   no HTML, no `<…>` autolink, no entity of the sender's, no `$…$` LaTeX, no `$MM_…$` token;
//! - the second pass sees the text after the backslashes are gone, so a zero-width space
//!   (U+200B) goes after `@`, `~` and `#` where they could start a mention, channel link or
//!   hashtag, after every `:` and `;` (`https://` autolinks, `:emoji:`, `:)`, `;)`), after
//!   `<` (`<3`), and after `[` (a list item starting `[x] ` becomes a checkbox);
//! - nothing may start a new line, because a new line can start a heading, a list or a code
//!   block: control characters, U+2028 and U+2029 (Unicode's line and paragraph separators)
//!   become spaces, and U+2424 (which `marked` turns into a line feed before parsing) becomes
//!   its decimal entity, so it still shows (a hex one, `&#x2424;`, would hold the hashtag
//!   `#x2424`);
//! - bidirectional controls, which reorder what is shown around them, are dropped;
//! - the text is capped.
//!
//! [`code`] shows text as inline code instead, so it can be copied; text a code span cannot
//! hold as it is goes through [`escape`].

/// The zero-width space that breaks a mention, a link or an emoticon without showing.
const BREAK: char = '\u{200B}';

/// Caps `text` at `max` characters (an ellipsis marks the cut) and escapes it.
pub fn escape(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut previous: Option<char> = None;
    let mut chars = capped(text, max).peekable();
    while let Some(c) = chars.next() {
        let c = if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
            ' '
        } else {
            c
        };
        match c {
            c if is_bidi_control(c) => continue,
            // A backslash escapes only punctuation; before a letter or digit it shows.
            '\\' if chars.peek().is_some_and(|n| n.is_ascii_alphanumeric()) => out.push(c),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '-' | '.'
            | '!' | '|' | '~' | '>' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '&' => out.push_str("&amp;"),
            '$' => out.push_str("&#36;"),
            '\u{2424}' => out.push_str("&#9252;"),
            _ => out.push(c),
        }
        let after_word = previous.is_some_and(|p| p.is_ascii_alphanumeric());
        if matches!(c, ':' | ';' | '<' | '[') || (matches!(c, '@' | '~' | '#') && !after_word) {
            out.push(BREAK);
        }
        previous = Some(c);
    }
    out
}

/// `text` as inline code (copyable, never interpreted), capped at `max` characters. A code
/// span shows everything literally except what ends it or breaks its line: a backtick, a
/// control character, U+2028, U+2029, U+2424 (a line feed to `marked`) or a bidirectional
/// control. Text with any of them is [`escape`]d instead, so it still shows as it is.
pub fn code(text: &str, max: usize) -> String {
    let capped: String = capped(text, max).collect();
    let plain = !capped.trim().is_empty()
        && !capped.chars().any(|c| {
            c == '`'
                || c.is_control()
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{2424}')
                || is_bidi_control(c)
        });
    if plain {
        format!("`{capped}`")
    } else {
        escape(&capped, max)
    }
}

/// The characters that change the order in which the text around them is shown: the
/// marks (U+200E, U+200F, U+061C), embeddings and overrides (U+202A to U+202E) and
/// isolates (U+2066 to U+2069).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
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

    // `mattermost/marked: lib/marked.js`, `inline.link` and `inline.gfm.url`: `[…](…)` links
    // and bare `scheme:`/`www.` URLs; `inline.strong`, `inline.em`, `inline.code`.
    #[test]
    fn links_and_emphasis_show_literally() {
        assert_eq!(
            escape("[Verify your account](https://evil.example/login)", 100),
            "\\[\u{200B}Verify your account\\]\\(https:\u{200B}//evil\\.example/login\\)"
        );
        assert_eq!(
            escape("**bold** _em_ `code`", 100),
            "\\*\\*bold\\*\\* \\_em\\_ \\`code\\`"
        );
        assert_eq!(escape("www.evil.example", 100), "www\\.evil\\.example");
    }

    // `mattermost/mattermost: webapp/channels/src/utils/text_formatting.tsx`:
    // `autolinkAtMentions` (`AT_MENTION_PATTERN`, `@` then a letter), `autolinkChannelMentions`
    // (`~` then a name), `hashtagRegex` (`#` then a letter), `emailRegex` (left readable).
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

    // `mattermost/mattermost: webapp/channels/src/utils/emoticons.tsx`: `EMOJI_PATTERN`
    // (`:name:`) and `emoticonPatterns` (`:)`, `;)`, `<3`, …).
    #[test]
    fn emoji_and_emoticons_are_broken() {
        assert_eq!(escape(":goat:", 100), ":\u{200B}goat:\u{200B}");
        assert_eq!(escape(";)", 100), ";\u{200B}\\)");
        assert_eq!(escape("<3", 100), "&lt;\u{200B}3");
    }

    // `mattermost/marked: lib/marked.js`: `inline.tag` and `inline.autolink` start with `<`,
    // and its `escape(html)` keeps an entity the text already has (`&(?!#?\w+;)`), so `&`
    // must be written as `&amp;` to show.
    #[test]
    fn html_entities_and_autolinks_do_not_render() {
        assert_eq!(escape("<img src=x>", 100), "&lt;\u{200B}img src=x\\>");
        assert_eq!(
            escape("&lt;b&gt;", 100),
            "&amp;lt;\u{200B}b&amp;gt;\u{200B}"
        );
        assert_eq!(escape("<a@b.co>", 100), "&lt;\u{200B}a@b\\.co\\>");
    }

    // `mattermost/marked: lib/marked.js`, `inline.inlinelatex` (`$…$`, when the server
    // enables inline LaTeX; `$` is not in the `escape` rule), and `text_formatting.tsx`'s
    // `replaceTokens`, which puts a token back at the first `$MM_…$` it finds.
    #[test]
    fn dollars_start_no_latex_and_forge_no_token() {
        assert_eq!(escape("$x^2$", 100), "&#36;x^2&#36;");
        assert_eq!(escape("$MM_EMAIL0$", 100), "&#36;MM\\_EMAIL0&#36;");
    }

    // `mattermost/mattermost: webapp/channels/src/utils/markdown/renderer.tsx`, `listitem`:
    // an item whose text starts `[ ] `, `[x] ` or `[X] ` is drawn as a checkbox.
    #[test]
    fn a_name_cannot_draw_a_checkbox() {
        assert_eq!(escape("[x] Approved", 100), "\\[\u{200B}x\\] Approved");
    }

    // `mattermost/marked: lib/marked.js`, `inline.escape`: `\\(?!\w)`, a backslash escapes
    // another only before a non-word character.
    #[test]
    fn backslashes_escape_only_before_punctuation() {
        assert_eq!(escape(r"C:\Users", 100), "C:\u{200B}\\Users");
        assert_eq!(escape(r"a\*", 100), r"a\\\*");
    }

    // `mattermost/marked: lib/marked.js`, `Lexer.prototype.lex`: `\r\n` and `\r` become `\n`,
    // a tab four spaces (an indented code block after a line break) and U+2424 `\n`, before
    // any block rule (`block.heading`, `block.lheading`, `block.code`, `block.list`) runs.
    #[test]
    fn nothing_starts_a_new_line_or_block() {
        assert_eq!(escape("a\nb\tc\r\nd", 100), "a b c  d");
        // A heading and an indented code block, made with U+2424: it shows as itself. The
        // entity is decimal: `text_formatting.tsx`'s `hashtagRegex` needs a letter after `#`.
        assert_eq!(
            escape("\u{2424}SECURITY NOTICE\u{2424}===\u{2424}", 100),
            "&#9252;SECURITY NOTICE&#9252;===&#9252;"
        );
        assert_eq!(
            escape("Ada\u{2424}\u{2424}    code", 100),
            "Ada&#9252;&#9252;    code"
        );
        // Unicode's line and paragraph separators (UAX #14 class BK: a line break wherever
        // text is drawn; ECMAScript line terminators) and the C1 next line.
        assert_eq!(escape("a\u{2028}b\u{2029}c\u{85}d", 100), "a b c d");
    }

    // Unicode's bidirectional algorithm (UAX #9): marks, embeddings, overrides and isolates.
    #[test]
    fn direction_controls_are_dropped() {
        for c in [
            '\u{200E}', '\u{200F}', '\u{061C}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}',
            '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
        ] {
            assert_eq!(escape(&format!("a{c}b"), 100), "ab", "U+{:04X}", c as u32);
        }
        assert_eq!(escape("ab\u{200B}c", 100), "ab\u{200B}c", "others stay");
    }

    #[test]
    fn long_text_is_cut() {
        assert_eq!(escape("abcdef", 4), "abc…");
        assert_eq!(escape("abcd", 4), "abcd");
        assert_eq!(escape("", 4), "");
    }

    // `mattermost/marked: lib/marked.js`, `inline.code`: a backtick run ends the span, and
    // `Lexer.prototype.lex` turns U+2424 into a line feed, which can end the paragraph
    // (`block.lheading`, `block.heading`) or, inside it, break the line (the webapp draws
    // code spans with `white-space: pre-wrap`, `renderer.tsx` `codespan`).
    #[test]
    fn code_spans_hold_only_what_they_show_literally() {
        assert_eq!(
            code("https://id.example.com/x_y*z", 100),
            "`https://id.example.com/x_y*z`"
        );
        assert_eq!(code("[a](https://b)", 100), "`[a](https://b)`");
        assert_eq!(code("abcdef", 4), "`abc…`");
        for breaking in ["a`b", "a\u{2424}===", "a\nb", "a\u{2028}b", "a\u{202E}b"] {
            let shown = code(breaking, 100);
            assert!(!shown.starts_with('`'), "{breaking:?}: {shown}");
            assert_eq!(shown, escape(breaking, 100));
        }
        assert_eq!(code("", 10), "");
    }
}
