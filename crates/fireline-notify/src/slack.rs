//! Slack payloads: incoming webhooks and the Web API's `chat.postMessage` both take Block
//! Kit with a plain `text` fallback.

use serde_json::{json, Value};

use crate::message::{Item, Message};

// Slack refuses a whole message when one block breaks a limit, so every piece of user
// text is cut to fit rather than trusted to be short.
// https://api.slack.com/reference/block-kit/blocks
const HEADER_MAX: usize = 150;
const SECTION_TEXT_MAX: usize = 3000;
const FIELD_MAX: usize = 2000;
const CONTEXT_MAX: usize = 2000;
const FALLBACK_MAX: usize = 3000;
/// A message holds at most 50 blocks; keep room for header, text, overflow note and footer.
const MAX_ITEM_BLOCKS: usize = 45;
/// A button's URL is at most 3,000 characters; a longer link stays out of the buttons.
const BUTTON_URL_MAX: usize = 3000;

/// How an item's Acknowledge/Runbook/Open links are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Links {
    /// `<url|label>` links in the item's text: what any Slack-compatible webhook renders.
    Inline,
    /// Link buttons in an `actions` block after the item (two blocks an item).
    Buttons,
    /// Like [`Links::Buttons`], but Acknowledge, Resolve and Escalate are the app's own
    /// buttons, answered by fireline's `/hooks/slack/interactions` (an app with
    /// interactivity and a signing secret); Runbook and Open stay links.
    Actions,
}

/// The JSON body for a Slack-compatible incoming webhook.
///
/// `text` is the fallback shown in notifications; `blocks` holds a header, the free text
/// if any, one section per item (Severity/Service/Status fields and
/// Acknowledge/Runbook/Open links) and a context footer carrying the key. User text is
/// escaped for mrkdwn (`&`, `<`, `>`), so a title cannot forge links or mentions.
pub fn slack_payload(message: &Message) -> Value {
    json!({ "text": fallback_text(message), "blocks": blocks(message, Links::Inline) })
}

/// The header, free text, items and footer of [`slack_payload`], with links as `links`
/// says.
pub(crate) fn blocks(message: &Message, links: Links) -> Vec<Value> {
    let mut blocks = Vec::new();
    blocks.push(json!({
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": truncate_plain(non_empty(&message.headline, "Fireline notification"), HEADER_MAX),
            "emoji": true,
        },
    }));
    if let Some(text) = message.text.as_deref().filter(|t| !t.trim().is_empty()) {
        blocks.push(section(escape_limited(text, SECTION_TEXT_MAX)));
    }
    let shown = match links {
        Links::Inline => MAX_ITEM_BLOCKS,
        Links::Buttons | Links::Actions => MAX_ITEM_BLOCKS / 2,
    };
    for (index, item) in message.items.iter().take(shown).enumerate() {
        blocks.push(item_block(item, links));
        match links {
            Links::Buttons => blocks.extend(buttons(item, index)),
            Links::Actions => blocks.push(actions(item)),
            Links::Inline => {}
        }
    }
    let hidden = message.items.len().saturating_sub(shown);
    if hidden > 0 {
        blocks.push(context(format!("…and {hidden} more")));
    }
    blocks.push(context(format!(
        "Sent by Fireline · ref {}",
        escape_limited(&message.key, CONTEXT_MAX - 30)
    )));
    blocks
}

/// An `actions` block of link buttons (Acknowledge as the primary one), or nothing when
/// the item has no link. `action_id`s must be unique within the message.
fn buttons(item: &Item, index: usize) -> Option<Value> {
    let elements: Vec<Value> = crate::chat::links(item)
        .into_iter()
        .filter(|(_, url)| url.chars().count() <= BUTTON_URL_MAX)
        .map(|(label, url)| {
            let mut button = json!({
                "type": "button",
                "text": { "type": "plain_text", "text": label },
                "url": url,
                "action_id": format!("{}-{index}", label.to_ascii_lowercase()),
            });
            if label == "Acknowledge" {
                button["style"] = json!("primary");
            }
            button
        })
        .collect();
    (!elements.is_empty()).then(|| json!({ "type": "actions", "elements": elements }))
}

/// An `actions` block of the app's own buttons for one incident (Acknowledge while it
/// waits for someone, Resolve and Escalate while it is open, Add note always), then its
/// Runbook and Open links. The buttons' `value` is the incident; its `action_id` says what to do.
fn actions(item: &Item) -> Value {
    let open = item.status != "resolved";
    let mut elements = Vec::new();
    let mut act = |label: &str, action: &str, style: Option<&str>| {
        let mut button = json!({
            "type": "button",
            "text": { "type": "plain_text", "text": label },
            "action_id": action,
            "value": item.incident.chars().take(2000).collect::<String>(),
        });
        if let Some(style) = style {
            button["style"] = json!(style);
        }
        elements.push(button);
    };
    if item.ack_url.is_some() {
        act("Acknowledge", crate::SLACK_ACKNOWLEDGE, Some("primary"));
    }
    if open {
        act("Resolve", crate::SLACK_RESOLVE, None);
        act("Escalate", crate::SLACK_ESCALATE, Some("danger"));
    }
    act("Add note", crate::SLACK_NOTE, None);
    for (label, url) in crate::chat::links(item) {
        if label == "Acknowledge" || url.chars().count() > BUTTON_URL_MAX {
            continue;
        }
        elements.push(json!({
            "type": "button",
            "text": { "type": "plain_text", "text": label },
            "url": url,
            "action_id": format!("link-{}", label.to_ascii_lowercase()),
        }));
    }
    json!({ "type": "actions", "elements": elements })
}

/// The plain `text` beside the blocks: what notifications and old clients show.
pub(crate) fn fallback_text(message: &Message) -> String {
    let mut text = message.headline.clone();
    for item in &message.items {
        text.push_str(&format!(
            "\n{} [{}] {}",
            item.incident, item.severity, item.title
        ));
    }
    if let Some(extra) = message.text.as_deref() {
        text.push('\n');
        text.push_str(extra);
    }
    escape_limited(&text, FALLBACK_MAX)
}

fn item_block(item: &Item, links: Links) -> Value {
    let mut text = format!(
        "*{}: {}*",
        escape_limited(&item.incident, 100),
        escape_limited(&item.title, 1000)
    );
    if let Some(reason) = item.reason.as_deref().filter(|r| !r.is_empty()) {
        text.push('\n');
        text.push_str(&escape_limited(reason, 500));
    }
    let inline: Vec<String> = [
        (&item.ack_url, "Acknowledge"),
        (&item.runbook_url, "Runbook"),
        (&item.incident_url, "Open"),
    ]
    .into_iter()
    .filter_map(|(url, label)| url.as_deref().map(|u| link(u, label)))
    .collect();
    if !inline.is_empty() && links == Links::Inline {
        text.push('\n');
        text.push_str(&inline.join("   "));
    }
    json!({
        "type": "section",
        "text": { "type": "mrkdwn", "text": text },
        "fields": [
            field("Severity", &item.severity),
            field("Service", &item.service),
            field("Status", &item.status),
        ],
    })
}

fn field(name: &str, value: &str) -> Value {
    json!({
        "type": "mrkdwn",
        "text": format!("*{name}*\n{}", escape_limited(non_empty(value, "—"), FIELD_MAX - 20)),
    })
}

fn section(text: String) -> Value {
    json!({ "type": "section", "text": { "type": "mrkdwn", "text": text } })
}

fn context(text: String) -> Value {
    json!({ "type": "context", "elements": [{ "type": "mrkdwn", "text": text }] })
}

/// `<url|label>`. Inside the angle brackets `|` ends the URL and `>` ends the link, so
/// both are neutralised; `&` and `<` are escaped as everywhere else.
fn link(url: &str, label: &str) -> String {
    let mut safe = String::with_capacity(url.len());
    for c in url.chars() {
        match c {
            '&' => safe.push_str("&amp;"),
            '<' => safe.push_str("%3C"),
            '>' => safe.push_str("%3E"),
            '|' => safe.push_str("%7C"),
            c if c.is_whitespace() || c.is_control() => safe.push_str("%20"),
            c => safe.push(c),
        }
    }
    format!("<{safe}|{label}>")
}

/// Escapes the three characters Slack's mrkdwn gives meaning to.
pub fn escape_mrkdwn(text: &str) -> String {
    escape_limited(text, usize::MAX)
}

/// Escapes `text` and cuts it to at most `max` characters, never inside an entity, so the
/// result is always valid mrkdwn and within Slack's limit.
fn escape_limited(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    let mut len = 0usize;
    let total = text.chars().count();
    for (i, c) in text.chars().enumerate() {
        let piece: &str = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            _ => "",
        };
        let piece_len = if piece.is_empty() { 1 } else { piece.len() };
        // Leave room for the ellipsis unless this is the last character.
        let reserve = usize::from(i + 1 < total);
        if len + piece_len + reserve > max {
            out.push('…');
            return out;
        }
        if piece.is_empty() {
            out.push(c);
        } else {
            out.push_str(piece);
        }
        len += piece_len;
    }
    out
}

fn truncate_plain(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn non_empty<'a>(value: &'a str, default: &'a str) -> &'a str {
    if value.trim().is_empty() {
        default
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Message {
        Message {
            key: "k1".into(),
            headline: "Paged: [SEV1] Checkout 5xx".into(),
            items: vec![Item {
                incident: "INC-12".into(),
                title: "Checkout <5xx> & friends".into(),
                severity: "SEV1".into(),
                service: "checkout".into(),
                status: "triggered".into(),
                reason: Some("declared SEV1".into()),
                incident_url: Some("https://f.example/ui/incidents/INC-12".into()),
                runbook_url: Some("https://wiki.example/run?a=1&b=2".into()),
                ack_url: Some("https://f.example/ack/abc".into()),
            }],
            text: None,
            urgent: true,
            confirm_url: None,
            unsubscribe_url: None,
        }
    }

    #[test]
    fn escapes_the_three_mrkdwn_characters() {
        assert_eq!(escape_mrkdwn("a & b < c > d"), "a &amp; b &lt; c &gt; d");
        assert_eq!(escape_mrkdwn("<!channel>"), "&lt;!channel&gt;");
        assert_eq!(escape_mrkdwn("plain *bold*"), "plain *bold*");
    }

    #[test]
    fn user_text_cannot_forge_a_link_or_mention() {
        let mut message = page();
        message.items[0].title = "<https://evil.example|Acknowledge> <!here>".into();
        message.text = Some("<@U123> & more".into());
        let body = slack_payload(&message).to_string();
        assert!(!body.contains("<https://evil"), "{body}");
        assert!(!body.contains("<!here>"), "{body}");
        assert!(!body.contains("<@U123>"), "{body}");
        assert!(body.contains("&lt;!here&gt;"), "{body}");
        assert!(body.contains("&lt;@U123&gt; &amp; more"), "{body}");
    }

    #[test]
    fn links_are_escaped_inside_angle_brackets() {
        assert_eq!(
            link("https://x.example/a?b=1&c=2|x>y", "Runbook"),
            "<https://x.example/a?b=1&amp;c=2%7Cx%3Ey|Runbook>"
        );
    }

    #[test]
    fn item_section_has_fields_and_links() {
        let payload = slack_payload(&page());
        let blocks = payload["blocks"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        assert_eq!(blocks[0]["type"], "header");
        assert_eq!(blocks[0]["text"]["text"], "Paged: [SEV1] Checkout 5xx");
        let item = &blocks[1];
        let text = item["text"]["text"].as_str().unwrap_or_default();
        assert!(
            text.contains("*INC-12: Checkout &lt;5xx&gt; &amp; friends*"),
            "{text}"
        );
        assert!(
            text.contains("<https://f.example/ack/abc|Acknowledge>"),
            "{text}"
        );
        assert!(
            text.contains("<https://wiki.example/run?a=1&amp;b=2|Runbook>"),
            "{text}"
        );
        assert!(
            text.contains("<https://f.example/ui/incidents/INC-12|Open>"),
            "{text}"
        );
        assert_eq!(item["fields"][0]["text"], "*Severity*\nSEV1");
        assert_eq!(item["fields"][1]["text"], "*Service*\ncheckout");
        assert_eq!(item["fields"][2]["text"], "*Status*\ntriggered");
        assert_eq!(blocks.last().map(|b| &b["type"]), Some(&json!("context")));
        let fallback = payload["text"].as_str().unwrap_or_default();
        assert!(fallback.starts_with("Paged: [SEV1] Checkout 5xx\nINC-12 [SEV1]"));
    }

    #[test]
    fn long_text_is_cut_without_splitting_an_entity() {
        let cut = escape_limited(&"&".repeat(10), 12);
        assert_eq!(cut, "&amp;&amp;…");
        assert_eq!(escape_limited("abc", 3), "abc");
        assert_eq!(escape_limited("abcd", 3), "ab…");
        let header = truncate_plain(&"x".repeat(200), HEADER_MAX);
        assert_eq!(header.chars().count(), HEADER_MAX);
    }

    #[test]
    fn a_large_burst_stays_within_the_block_limit() {
        let mut message = page();
        message.items = vec![page().items[0].clone(); 60];
        let payload = slack_payload(&message);
        let blocks = payload["blocks"].as_array().map(Vec::len).unwrap_or(0);
        assert!(blocks <= 50, "{blocks} blocks");
        assert!(payload.to_string().contains("…and 15 more"));
    }

    #[test]
    fn a_plain_notice_has_header_text_and_footer() {
        let message = Message {
            key: "handoff-1".into(),
            headline: "Hand-off: you are now on call for SRE primary".into(),
            items: vec![],
            text: Some("DB failover planned at 14:00".into()),
            urgent: false,
            confirm_url: None,
            unsubscribe_url: None,
        };
        let payload = slack_payload(&message);
        let blocks = payload["blocks"].as_array().map(Vec::len).unwrap_or(0);
        assert_eq!(blocks, 3);
        assert_eq!(
            payload["blocks"][1]["text"]["text"],
            "DB failover planned at 14:00"
        );
    }
}
