//! Markdown → self-contained HTML, for the post-mortem export: CommonMark with tables,
//! fenced code and strikethrough (pulldown-cmark), where nothing a writer types becomes
//! markup the document did not ask for. Raw HTML is shown as text (escaped, never passed
//! through); a link is a link only to `http`, `https` or `mailto` (any other, `javascript:`
//! or a relative path, is its text alone); an image is its alt text, so the page loads
//! nothing. No scripts, no external assets.

use pulldown_cmark::{html, CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};

/// The HTML of `markdown`'s body (no page around it).
pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut events = Vec::new();
    // The text of the raw HTML block being read, shown as a paragraph of text.
    let mut html_block: Option<String> = None;
    // For each link open: whether its `<a>` was kept.
    let mut links: Vec<bool> = Vec::new();
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Start(Tag::HtmlBlock) => html_block = Some(String::new()),
            Event::End(TagEnd::HtmlBlock) => {
                let text = html_block.take().unwrap_or_default();
                events.extend([
                    Event::Start(Tag::Paragraph),
                    Event::Text(CowStr::from(text.trim_end().to_owned())),
                    Event::End(TagEnd::Paragraph),
                ]);
            }
            Event::Html(text) | Event::InlineHtml(text) => match html_block.as_mut() {
                Some(block) => block.push_str(&text),
                None => events.push(Event::Text(text)),
            },
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let kept = allowed(link_type, &dest_url);
                links.push(kept);
                if kept {
                    events.push(Event::Start(Tag::Link {
                        link_type,
                        dest_url,
                        title,
                        id,
                    }));
                }
            }
            Event::End(TagEnd::Link) => {
                if links.pop().unwrap_or(false) {
                    events.push(Event::End(TagEnd::Link));
                }
            }
            // The alt text stays, as text.
            Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => {}
            other => events.push(other),
        }
    }
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events.into_iter());
    out
}

/// Whether a link to `url` is kept: `http`, `https` and `mailto` only, the scheme written
/// at the very start (nothing a browser would strip first). An e-mail autolink
/// (`<ops@example.com>`) is written out as `mailto:`.
fn allowed(link_type: LinkType, url: &str) -> bool {
    if link_type == LinkType::Email {
        return true;
    }
    ["http://", "https://", "mailto:"].iter().any(|scheme| {
        url.get(..scheme.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(scheme))
    })
}

/// A whole HTML page of `markdown` titled `title`: its only styling inline, so the file
/// stands alone (mailed, archived, printed).
pub fn page(title: &str, markdown: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n{}</main>\n</body>\n</html>\n",
        crate::html::escape(title),
        to_html(markdown)
    )
}

/// The page's only styling.
const STYLE: &str =
    "body{font-family:system-ui,sans-serif;line-height:1.5;color:#1a1a1a;margin:0}\n\
main{max-width:60rem;margin:2rem auto;padding:0 1rem}\n\
table{border-collapse:collapse;margin:1rem 0;width:100%}\n\
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}\n\
th{background:#f3f3f3}\n\
code{background:#f3f3f3;padding:0 .2rem}\n\
pre{background:#f3f3f3;padding:.5rem;overflow-x:auto}\n\
pre code{padding:0}\n\
em{color:#555}\n";

#[cfg(test)]
mod tests {
    use super::to_html;

    #[test]
    fn only_web_and_mail_links_are_links() {
        for (md, kept) in [
            ("[a](https://example.com/x)", true),
            ("[a](HTTP://example.com)", true),
            ("[a](mailto:ops@example.com)", true),
            ("<ops@example.com>", true),
            ("<https://example.com>", true),
            ("[a](javascript:alert(1))", false),
            ("[a](JavaScript:alert(1))", false),
            ("[a](%20javascript:alert(1))", false),
            ("[a](data:text/html,x)", false),
            ("[a](vbscript:x)", false),
            ("[a](/ui/incidents)", false),
            ("[a][r]\n\n[r]: javascript:alert(1)", false),
        ] {
            let html = to_html(md);
            assert_eq!(html.contains("<a "), kept, "{md}: {html}");
            assert!(
                !html.contains("javascript:") || !html.contains("href"),
                "{html}"
            );
        }
    }

    #[test]
    fn images_are_their_alt_text() {
        let html = to_html("![the *graph*](https://example.com/g.png)");
        assert_eq!(html, "<p>the <em>graph</em></p>\n");
    }
}
