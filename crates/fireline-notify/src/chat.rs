//! What the chat destinations (Mattermost, Rocket.Chat, Teams, Discord, Matrix) share:
//! escaping user text for Markdown and HTML, cutting it to a provider's limit without
//! breaking an escape, and an item's links.
//!
//! Titles, reasons and notes are typed by people (or copied from alerts), so none of it
//! may turn into a link, a mention or markup in a channel: each format has its escape,
//! applied before cutting, and cutting never splits one.

use crate::message::Item;

/// `…`, appended to whatever was cut.
const ELLIPSIS: char = '…';

/// `text` escaped with `escape` (which appends one character's escaped form) and cut to
/// at most `max` characters, never inside an escape, ending in `…` when cut.
pub(crate) fn escaped_within(text: &str, max: usize, escape: fn(char, &mut String)) -> String {
    let mut out = String::with_capacity(text.len().min(max.saturating_mul(4)));
    let mut piece = String::new();
    let mut len = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        piece.clear();
        escape(c, &mut piece);
        let piece_len = piece.chars().count();
        // Leave room for the ellipsis unless this is the last character.
        let reserve = usize::from(chars.peek().is_some());
        if len + piece_len + reserve > max {
            if max > 0 {
                out.push(ELLIPSIS);
            }
            return out;
        }
        out.push_str(&piece);
        len += piece_len;
    }
    out
}

/// `text` cut to at most `max` characters, ending in `…` when cut.
pub(crate) fn cut(text: &str, max: usize) -> String {
    escaped_within(text, max, |c, out| out.push(c))
}

/// `text` cut to at most `max` bytes at a character boundary, ending in `…` when cut.
pub(crate) fn cut_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max.saturating_sub(ELLIPSIS.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ELLIPSIS}", &text[..end])
}

/// One character escaped for CommonMark-style Markdown (Mattermost, Rocket.Chat,
/// Discord, Adaptive Cards): the punctuation that makes links (`[]()<>`), emphasis,
/// code, spoilers, headings and quotes is backslash-escaped, and an `@` is followed by
/// a word joiner (U+2060, invisible) so `@channel`, `@here`, `@all` or `@everyone` typed
/// into a title is not a mention that notifies a whole channel (a backslash does not
/// stop Mattermost's mentions). `&` is left alone: Discord shows entities as typed.
/// Other control characters become spaces; line breaks are kept.
pub(crate) fn markdown_char(c: char, out: &mut String) {
    match c {
        '\\' | '`' | '*' | '_' | '~' | '|' | '[' | ']' | '(' | ')' | '<' | '>' | '#' => {
            out.push('\\');
            out.push(c);
        }
        '@' => {
            out.push('@');
            out.push('\u{2060}');
        }
        c if c.is_control() && c != '\n' => out.push(' '),
        c => out.push(c),
    }
}

/// Markdown-escaped `text` within `max` characters.
pub(crate) fn markdown(text: &str, max: usize) -> String {
    escaped_within(text, max, markdown_char)
}

/// Markdown-escaped `text` on one line (line breaks as spaces) within `max` characters:
/// for titles and field values, where a line break would end the element.
pub(crate) fn markdown_line(text: &str, max: usize) -> String {
    escaped_within(&one_line(text), max, markdown_char)
}

/// Escapes `text` for Markdown as Mattermost, Rocket.Chat, Discord and Adaptive Cards
/// read it: the punctuation of links, emphasis, code, spoilers, headings and quotes
/// (`` \ ` * _ ~ | [ ] ( ) < > # ``) is backslash-escaped, and every `@` is followed by
/// an invisible word joiner (U+2060). `[x](y)`, `<@123>`, `@channel` and `**bold**` in a
/// title are shown as typed, not as links, mentions or emphasis.
pub fn escape_markdown(text: &str) -> String {
    markdown(text, usize::MAX)
}

/// One character escaped for HTML text and attribute values.
pub(crate) fn html_char(c: char, out: &mut String) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        c if c.is_control() && c != '\n' => out.push(' '),
        c => out.push(c),
    }
}

/// HTML-escaped `text` within `max` characters.
pub(crate) fn html(text: &str, max: usize) -> String {
    escaped_within(text, max, html_char)
}

/// Escapes `text` for HTML (`& < > " '`), for Matrix's `formatted_body`.
pub fn escape_html(text: &str) -> String {
    html(text, usize::MAX)
}

/// A Markdown link `[label](url)`, or `None` when `url` is not an absolute http(s) URL
/// (a `javascript:` link in a button is worse than no button). Characters that would end
/// the destination (`(`, `)`, spaces, `<`, `>`) are percent-encoded.
pub(crate) fn markdown_link(label: &str, url: &str) -> Option<String> {
    let url = web_url(url)?;
    let mut safe = String::with_capacity(url.len());
    for c in url.chars() {
        match c {
            '(' => safe.push_str("%28"),
            ')' => safe.push_str("%29"),
            '<' => safe.push_str("%3C"),
            '>' => safe.push_str("%3E"),
            c if c.is_whitespace() || c.is_control() => safe.push_str("%20"),
            c => safe.push(c),
        }
    }
    Some(format!("[{label}]({safe})"))
}

/// `url` if it is an absolute http(s) URL without whitespace: what a button or link may
/// point to.
pub(crate) fn web_url(url: &str) -> Option<&str> {
    let url = url.trim();
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    let plausible = matches!(scheme.as_deref(), Some("http" | "https"))
        && !crate::http::url_host(url).is_empty()
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    plausible.then_some(url)
}

/// An item's links in the order every channel shows them: Acknowledge, Runbook, Open;
/// only the http(s) ones.
pub(crate) fn links(item: &Item) -> Vec<(&'static str, &str)> {
    [
        ("Acknowledge", item.ack_url.as_deref()),
        ("Runbook", item.runbook_url.as_deref()),
        ("Open", item.incident_url.as_deref()),
    ]
    .into_iter()
    .filter_map(|(label, url)| url.and_then(web_url).map(|u| (label, u)))
    .collect()
}

/// `text` with runs of whitespace (line breaks included) as one space.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `value`, or `default` when it is blank.
pub(crate) fn or<'a>(value: &'a str, default: &'a str) -> &'a str {
    if value.trim().is_empty() {
        default
    } else {
        value
    }
}

/// The headline, or a generic one when it is blank.
pub(crate) fn headline(headline: &str) -> &str {
    or(headline, "Fireline notification")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_cannot_make_links_mentions_or_emphasis() {
        assert_eq!(
            escape_markdown("[Acknowledge](https://evil.example)"),
            "\\[Acknowledge\\]\\(https://evil.example\\)"
        );
        assert_eq!(
            escape_markdown("<@123> **x**"),
            "\\<@\u{2060}123\\> \\*\\*x\\*\\*"
        );
        assert_eq!(escape_markdown("@channel"), "@\u{2060}channel");
        assert_eq!(escape_markdown("# a & b"), "\\# a & b");
        assert_eq!(escape_markdown("checkout-api: 5xx!"), "checkout-api: 5xx!");
    }

    #[test]
    fn html_escapes_the_five() {
        assert_eq!(
            escape_html("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn cutting_never_splits_an_escape() {
        assert_eq!(markdown("[[[[", 5), "\\[\\[…");
        assert_eq!(html("&&&", 11), "&amp;&amp;…");
        assert_eq!(cut("abcd", 3), "ab…");
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut_bytes("ééé", 5), "é…");
        assert_eq!(cut_bytes("abc", 3), "abc");
        let long = markdown(&"x".repeat(5000), 2000);
        assert_eq!(long.chars().count(), 2000);
    }

    #[test]
    fn links_are_http_only_and_cannot_end_early() {
        assert_eq!(
            markdown_link("Open", "https://f.example/a (b)"),
            None,
            "whitespace makes it no URL"
        );
        assert_eq!(
            markdown_link("Open", "https://f.example/a(b)").as_deref(),
            Some("[Open](https://f.example/a%28b%29)")
        );
        assert_eq!(markdown_link("Open", "javascript:alert(1)"), None);
        let item = Item {
            ack_url: Some("https://f.example/ack/1".into()),
            runbook_url: Some("ftp://x.example/r".into()),
            incident_url: Some("https://f.example/ui/incidents/INC-1".into()),
            ..Item::default()
        };
        assert_eq!(
            links(&item),
            vec![
                ("Acknowledge", "https://f.example/ack/1"),
                ("Open", "https://f.example/ui/incidents/INC-1")
            ]
        );
    }
}
