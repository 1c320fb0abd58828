//! Microsoft Teams through a Workflows webhook ("Post to a channel when a webhook
//! request is received"): one JSON POST of a message with a single Adaptive Card
//! attachment, `{"type":"message","attachments":[{"contentType":
//! "application/vnd.microsoft.card.adaptive","content":{…}}]}`
//! (<https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using>;
//! Workflows take Adaptive Cards only, not the old connector MessageCard). The flow
//! answers `202 Accepted` with no body.
//!
//! The card is version 1.4 (Teams renders up to 1.5): a header, the free text, one
//! container per incident (title, reason, a FactSet of Severity/Service/Status, and
//! `Action.OpenUrl` buttons for Acknowledge/Runbook/Open) and a footer. A Teams message
//! is at most 28 KB, so a burst is cut to fit. The workflow URL carries its signature
//! (`sig=`), so it goes through the outbound address check and errors name the host
//! only.

use serde_json::{json, Value};

use crate::chat::{self, markdown, markdown_line};
use crate::http::{Http, Method, Post};
use crate::message::{Item, Message};
use crate::{Delivered, DeliveryError};

/// Teams refuses messages over 28 KB; keep a margin for the envelope Workflows adds.
const MESSAGE_MAX_BYTES: usize = 26 * 1024;
const TITLE_MAX: usize = 400;
const REASON_MAX: usize = 600;
const TEXT_MAX: usize = 3000;
const FACT_MAX: usize = 200;

/// The JSON body for a Teams Workflows webhook: a `message` with one Adaptive Card 1.4
/// attachment (header, free text, one container per incident with its facts and
/// `Action.OpenUrl` buttons, footer with the key). TextBlock text is Markdown, so all
/// user text is escaped ([`escape_markdown`](crate::escape_markdown)); incidents that
/// would take the message past Teams' 28 KB are left out, saying how many.
pub fn teams_payload(message: &Message) -> Value {
    let mut shown = message.items.len();
    loop {
        let body = envelope(card(message, shown));
        // One item is always kept: its texts are capped far below the limit.
        if shown <= 1 || body.to_string().len() <= MESSAGE_MAX_BYTES {
            return body;
        }
        shown -= 1;
    }
}

fn envelope(card: Value) -> Value {
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card,
        }],
    })
}

/// The card with the first `shown` items.
fn card(message: &Message, shown: usize) -> Value {
    let mut body = vec![json!({
        "type": "TextBlock",
        "text": markdown_line(chat::headline(&message.headline), 300),
        "size": "Large",
        "weight": "Bolder",
        "color": if message.urgent { "Attention" } else { "Default" },
        "wrap": true,
    })];
    if let Some(text) = message.text.as_deref().filter(|t| !t.trim().is_empty()) {
        body.push(json!({ "type": "TextBlock", "text": markdown(text, TEXT_MAX), "wrap": true }));
    }
    for item in message.items.iter().take(shown) {
        body.push(container(item));
    }
    let hidden = message.items.len().saturating_sub(shown);
    if hidden > 0 {
        body.push(
            json!({ "type": "TextBlock", "text": format!("…and {hidden} more"), "wrap": true }),
        );
    }
    body.push(json!({
        "type": "TextBlock",
        "text": format!("Sent by Fireline · ref {}", markdown_line(&message.key, 200)),
        "size": "Small",
        "isSubtle": true,
        "wrap": true,
    }));
    json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        // Full width in channels: the facts and buttons do not fit the narrow default.
        "msteams": { "width": "Full" },
    })
}

fn container(item: &Item) -> Value {
    let mut items = vec![json!({
        "type": "TextBlock",
        "text": format!(
            "**{}: {}**",
            markdown_line(&item.incident, 50),
            markdown_line(&item.title, TITLE_MAX)
        ),
        "wrap": true,
    })];
    if let Some(reason) = item.reason.as_deref().filter(|r| !r.trim().is_empty()) {
        items.push(json!({
            "type": "TextBlock",
            "text": markdown(reason, REASON_MAX),
            "isSubtle": true,
            "wrap": true,
        }));
    }
    items.push(json!({
        "type": "FactSet",
        "facts": [
            fact("Severity", &item.severity),
            fact("Service", &item.service),
            fact("Status", &item.status),
        ],
    }));
    let actions: Vec<Value> = chat::links(item)
        .into_iter()
        .map(|(label, url)| json!({ "type": "Action.OpenUrl", "title": label, "url": url }))
        .collect();
    if !actions.is_empty() {
        items.push(json!({ "type": "ActionSet", "actions": actions }));
    }
    json!({ "type": "Container", "separator": true, "spacing": "Medium", "items": items })
}

fn fact(title: &str, value: &str) -> Value {
    json!({ "title": title, "value": markdown_line(chat::or(value, "—"), FACT_MAX) })
}

/// POSTs `message` to the workflow at `url`.
pub(crate) fn send(http: &Http, url: &str, message: &Message) -> Result<Delivered, DeliveryError> {
    let answer = http.send(&Post {
        channel: "teams",
        method: Method::Post,
        url,
        content_type: "application/json",
        headers: &[],
        basic_auth: None,
        body: teams_payload(message).to_string().into_bytes(),
        error_text,
    })?;
    Ok(Delivered {
        detail: format!("HTTP {}", answer.status),
        reference: None,
    })
}

/// The Logic Apps error answer of a workflow trigger,
/// `{"error":{"code":"TriggerRequestMethodNotValid","message":"…"}}`.
fn error_text(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    let error = &value["error"];
    let message = error["message"].as_str()?;
    Some(match error["code"].as_str() {
        Some(code) => format!("{message} ({code})"),
        None => message.to_owned(),
    })
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
                title: "Checkout [click](https://evil.example)".into(),
                severity: "SEV1".into(),
                service: "checkout".into(),
                status: "triggered".into(),
                reason: Some("declared SEV1".into()),
                incident_url: Some("https://f.example/ui/incidents/INC-12".into()),
                runbook_url: Some("https://wiki.example/run".into()),
                ack_url: Some("https://f.example/ack/abc".into()),
            }],
            urgent: true,
            ..Message::default()
        }
    }

    #[test]
    fn one_adaptive_card_in_a_message() {
        let body = teams_payload(&page());
        assert_eq!(body["type"], "message");
        let attachments = body["attachments"].as_array().map(Vec::len);
        assert_eq!(attachments, Some(1));
        let a = &body["attachments"][0];
        assert_eq!(a["contentType"], "application/vnd.microsoft.card.adaptive");
        let card = &a["content"];
        assert_eq!(card["type"], "AdaptiveCard");
        assert_eq!(card["version"], "1.4");
        assert_eq!(card["body"][0]["text"], "Paged: \\[SEV1\\] Checkout 5xx");
        let incident = &card["body"][1]["items"];
        assert_eq!(
            incident[0]["text"],
            "**INC-12: Checkout \\[click\\]\\(https://evil.example\\)**"
        );
        assert_eq!(incident[2]["type"], "FactSet");
        assert_eq!(incident[2]["facts"][0]["title"], "Severity");
        assert_eq!(incident[2]["facts"][0]["value"], "SEV1");
        let actions = &incident[3]["actions"];
        assert_eq!(actions[0]["type"], "Action.OpenUrl");
        assert_eq!(actions[0]["title"], "Acknowledge");
        assert_eq!(actions[0]["url"], "https://f.example/ack/abc");
        assert_eq!(actions[2]["title"], "Open");
    }

    #[test]
    fn a_burst_is_cut_to_twenty_eight_kilobytes() {
        let mut message = page();
        let mut item = page().items[0].clone();
        item.title = "t".repeat(400);
        item.reason = Some("r".repeat(600));
        message.items = vec![item; 80];
        let body = teams_payload(&message).to_string();
        assert!(body.len() <= MESSAGE_MAX_BYTES, "{}", body.len());
        assert!(body.contains("more"), "says what was left out");
        let mut huge = page();
        huge.text = Some("x".repeat(100_000));
        let body = teams_payload(&huge).to_string();
        assert!(body.len() <= MESSAGE_MAX_BYTES, "{}", body.len());
    }

    #[test]
    fn workflow_errors_are_quoted() {
        assert_eq!(
            error_text(r#"{"error":{"code":"WorkflowTriggerIsNotEnabled","message":"The workflow is disabled."}}"#)
                .as_deref(),
            Some("The workflow is disabled. (WorkflowTriggerIsNotEnabled)")
        );
    }
}
