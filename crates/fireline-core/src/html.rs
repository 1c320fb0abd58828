//! Escaping text for HTML and XML, for the markup still built by hand: the report's SVG
//! charts and the post-mortem export's title (its body is escaped by `markdown`). The
//! askama templates (the UI, the status page and feed, acknowledge pages) escape the
//! same five characters the same way.

/// Escapes `& < > " '` for element content and quoted attribute values (HTML or XML).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_characters_become_entities_and_the_rest_stays() {
        assert_eq!(
            super::escape(r#"<a href="x">Tom & Jerry's</a> é"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt; é"
        );
    }
}
