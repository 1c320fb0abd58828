//! Discord channel webhooks ("Execute Webhook",
//! <https://discord.com/developers/docs/resources/webhook#execute-webhook>): one JSON
//! POST to the webhook URL with `content` (the headline and free text), one embed per
//! incident, and `allowed_mentions: {"parse": []}` so nothing in a title pings
//! `@everyone`, a role or a user. Discord answers `204 No Content` (no `?wait=true`),
//! and `429` with `retry_after` when rate limited
//! (<https://discord.com/developers/docs/topics/rate-limits>).
//!
//! Discord refuses a message that breaks a limit
//! (<https://discord.com/developers/docs/resources/message#embed-object-embed-limits>):
//! content 2,000 characters, 10 embeds, a title 256, a description 4,096, 25 fields of
//! 256 (name) and 1,024 (value), and 6,000 characters of embed text in all. Everything
//! is cut to fit. The URL carries the webhook's token, so it goes through the outbound
//! address check and errors name the host only.

use serde_json::{json, Value};

use crate::chat::{self, markdown, markdown_line};
use crate::http::{Http, Method, Post};
use crate::message::{Item, Message};
use crate::{Delivered, DeliveryError};

const CONTENT_MAX: usize = 2000;
const MAX_EMBEDS: usize = 10;
const TITLE_MAX: usize = 256;
const DESCRIPTION_MAX: usize = 4096;
const FIELD_VALUE_MAX: usize = 1024;
/// The sum of every embed's title, description, field names and values, footer and
/// author: `title`, `description` and `fields` are all Fireline sends.
const EMBEDS_TOTAL_MAX: usize = 6000;
/// Red for a page someone must wake for, amber for reminders and notices.
const URGENT_COLOR: u32 = 0xE0_1E_5A;
const NOTICE_COLOR: u32 = 0xEC_B2_2E;

/// The JSON body for a Discord webhook: `content` is the headline in bold and the free
/// text; `embeds` has one embed per incident (title `INC-12: …` linking to its page,
/// the reason and Acknowledge/Runbook/Open links in the description, Severity, Service
/// and Status as inline fields), at most 10; `allowed_mentions` parses nothing. User
/// text is Markdown-escaped ([`escape_markdown`](crate::escape_markdown)), and every
/// part is cut to Discord's limits.
pub fn discord_payload(message: &Message) -> Value {
    let shown = message.items.len().min(MAX_EMBEDS);
    let hidden = message.items.len() - shown;
    let mut content = format!(
        "**{}**",
        markdown_line(chat::headline(&message.headline), 300)
    );
    if hidden > 0 {
        content.push_str(&format!(" (…and {hidden} more)"));
    }
    if let Some(text) = message.text.as_deref().filter(|t| !t.trim().is_empty()) {
        let room = CONTENT_MAX.saturating_sub(content.chars().count() + 1);
        content.push('\n');
        content.push_str(&markdown(text, room));
    }
    let color = if message.urgent {
        URGENT_COLOR
    } else {
        NOTICE_COLOR
    };
    // Each embed gets an equal share of the 6,000 characters.
    let budget = EMBEDS_TOTAL_MAX.checked_div(shown).unwrap_or(0);
    let embeds: Vec<Value> = message
        .items
        .iter()
        .take(shown)
        .map(|item| embed(item, color, budget))
        .collect();
    json!({
        "content": content,
        "embeds": embeds,
        "allowed_mentions": { "parse": [] },
    })
}

/// One incident's embed in at most `budget` characters of counted text (600 or more).
fn embed(item: &Item, color: u32, budget: usize) -> Value {
    let title = format!(
        "{}: {}",
        markdown_line(&item.incident, 50),
        markdown_line(&item.title, TITLE_MAX)
    );
    let title = chat::cut(&title, TITLE_MAX.min(budget / 4));
    let value_max = FIELD_VALUE_MAX.min(budget / 10);
    let fields = [
        ("Severity", &item.severity),
        ("Service", &item.service),
        ("Status", &item.status),
    ]
    .map(|(name, value)| (name, markdown_line(chat::or(value, "—"), value_max)));
    let used = title.chars().count()
        + fields
            .iter()
            .map(|(n, v)| n.chars().count() + v.chars().count())
            .sum::<usize>();
    let room = DESCRIPTION_MAX.min(budget.saturating_sub(used));
    let mut embed = json!({
        "title": title,
        "description": description(item, room),
        "color": color,
        "fields": fields.map(|(name, value)| json!({ "name": name, "value": value, "inline": true })),
    });
    if let Some(url) = item.incident_url.as_deref().and_then(chat::web_url) {
        embed["url"] = json!(url);
    }
    embed
}

/// The links first (they are what a responder needs), then the reason in what is left
/// of `room` characters; links that do not fit are left out (the title still links to
/// the incident).
fn description(item: &Item, room: usize) -> String {
    let mut links = String::new();
    for link in chat::links(item)
        .into_iter()
        .filter_map(|(label, url)| chat::markdown_link(label, url))
    {
        let sep = if links.is_empty() { "" } else { " · " };
        if links.chars().count() + sep.len() + link.chars().count() > room {
            break;
        }
        links.push_str(sep);
        links.push_str(&link);
    }
    let reason = item.reason.as_deref().filter(|r| !r.trim().is_empty());
    let Some(reason) = reason else {
        return links;
    };
    if links.is_empty() {
        return markdown(reason, room);
    }
    let left = room.saturating_sub(links.chars().count() + 1);
    if left < 2 {
        return links;
    }
    format!("{}\n{links}", markdown(reason, left))
}

/// POSTs `message` to the webhook at `url`.
pub(crate) fn send(http: &Http, url: &str, message: &Message) -> Result<Delivered, DeliveryError> {
    let answer = http.send(&Post {
        channel: "discord",
        method: Method::Post,
        url,
        content_type: "application/json",
        headers: &[],
        basic_auth: None,
        body: discord_payload(message).to_string().into_bytes(),
        error_text,
    })?;
    Ok(Delivered {
        detail: format!("HTTP {}", answer.status),
        reference: None,
    })
}

/// Discord's error answers: `{"message":"Unknown Webhook","code":10015}`, and for 429
/// `{"message":"You are being rate limited.","retry_after":64.57,"global":false}`.
fn error_text(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    let message = value["message"].as_str()?;
    let mut text = message.to_owned();
    if let Some(code) = value["code"].as_u64() {
        text.push_str(&format!(" (Discord error {code})"));
    }
    if let Some(seconds) = value["retry_after"].as_f64() {
        text.push_str(&format!(", retry after {seconds} s"));
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> Item {
        Item {
            incident: "INC-12".into(),
            title: "Checkout <@&123> [x](https://evil.example)".into(),
            severity: "SEV1".into(),
            service: "checkout".into(),
            status: "triggered".into(),
            reason: Some("declared SEV1 @everyone".into()),
            incident_url: Some("https://f.example/ui/incidents/INC-12".into()),
            runbook_url: None,
            ack_url: Some("https://f.example/ack/abc".into()),
        }
    }

    fn page() -> Message {
        Message {
            key: "k".into(),
            headline: "Paged: [SEV1] Checkout 5xx".into(),
            items: vec![item()],
            urgent: true,
            ..Message::default()
        }
    }

    /// The text Discord counts against the 6,000.
    fn counted(body: &Value) -> usize {
        let len = |v: &Value| v.as_str().map(|s| s.chars().count()).unwrap_or(0);
        body["embeds"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                len(&e["title"])
                    + len(&e["description"])
                    + e["fields"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|f| len(&f["name"]) + len(&f["value"]))
                        .sum::<usize>()
            })
            .sum()
    }

    #[test]
    fn content_embeds_and_no_mentions() {
        let body = discord_payload(&page());
        assert_eq!(body["allowed_mentions"], json!({ "parse": [] }));
        assert_eq!(body["content"], "**Paged: \\[SEV1\\] Checkout 5xx**");
        let e = &body["embeds"][0];
        assert_eq!(
            e["title"],
            "INC-12: Checkout \\<@\u{2060}&123\\> \\[x\\]\\(https://evil.example\\)"
        );
        assert_eq!(e["url"], "https://f.example/ui/incidents/INC-12");
        assert_eq!(
            e["description"],
            "declared SEV1 @\u{2060}everyone\n[Acknowledge](https://f.example/ack/abc) · \
             [Open](https://f.example/ui/incidents/INC-12)"
        );
        assert_eq!(
            e["fields"][0],
            json!({ "name": "Severity", "value": "SEV1", "inline": true })
        );
        assert_eq!(e["color"], URGENT_COLOR);
    }

    #[test]
    fn every_limit_holds_for_a_huge_burst() {
        let mut big = item();
        big.title = "t".repeat(1000);
        big.reason = Some("r".repeat(10_000));
        big.service = "s".repeat(5000);
        let message = Message {
            key: "k".into(),
            headline: "h".repeat(5000),
            items: vec![big; 14],
            text: Some("x".repeat(5000)),
            urgent: false,
            confirm_url: None,
            unsubscribe_url: None,
        };
        let body = discord_payload(&message);
        let content = body["content"].as_str().unwrap_or_default();
        assert!(content.chars().count() <= CONTENT_MAX);
        assert!(content.contains("…and 4 more"), "{content}");
        let embeds = body["embeds"].as_array().cloned().unwrap_or_default();
        assert_eq!(embeds.len(), MAX_EMBEDS);
        for e in &embeds {
            let len = |v: &Value| v.as_str().map(|s| s.chars().count()).unwrap_or(0);
            assert!(len(&e["title"]) <= TITLE_MAX);
            assert!(len(&e["description"]) <= DESCRIPTION_MAX);
            let fields = e["fields"].as_array().cloned().unwrap_or_default();
            assert!(fields.len() <= 25);
            assert!(fields.iter().all(|f| len(&f["value"]) <= FIELD_VALUE_MAX));
            // The acknowledge link survives the cut.
            assert!(len(&e["description"]) > 0);
        }
        assert!(counted(&body) <= EMBEDS_TOTAL_MAX, "{}", counted(&body));
        let one = Message {
            items: vec![message.items[0].clone()],
            ..message
        };
        let body = discord_payload(&one);
        assert!(counted(&body) <= EMBEDS_TOTAL_MAX, "{}", counted(&body));
        let description = body["embeds"][0]["description"]
            .as_str()
            .unwrap_or_default();
        assert!(description.chars().count() > 3000, "uses the room it has");
        assert!(description.ends_with("[Open](https://f.example/ui/incidents/INC-12)"));
    }

    #[test]
    fn rate_limit_answers_say_when_to_retry() {
        assert_eq!(
            error_text(
                r#"{"message":"You are being rate limited.","retry_after":64.57,"global":false}"#
            )
            .as_deref(),
            Some("You are being rate limited., retry after 64.57 s")
        );
        assert_eq!(
            error_text(r#"{"message":"Unknown Webhook","code":10015}"#).as_deref(),
            Some("Unknown Webhook (Discord error 10015)")
        );
    }
}
