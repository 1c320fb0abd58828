//! Mattermost and Rocket.Chat incoming webhooks: one JSON POST to the webhook URL with
//! `text` (Markdown) and `attachments` (title linking to the incident, text, colour,
//! short fields) — the payload both document
//! (<https://developers.mattermost.com/integrate/webhooks/incoming/>,
//! <https://developers.mattermost.com/integrate/reference/message-attachments/>,
//! <https://docs.rocket.chat/use-rocket.chat/workspace-administration/integrations>).
//! Slack's `blocks` are not sent: neither renders them. With [`MattermostButtons`]
//! (the server answers Mattermost's button clicks), a Mattermost attachment carries
//! Acknowledge, Resolve and Escalate as interactive message buttons
//! (<https://developers.mattermost.com/integrate/plugins/interactive-messages/>), each
//! with a signed context ([`crate::MattermostActionKey`]).
//!
//! Mattermost answers `200 ok`, Rocket.Chat `200 {"success":true}`; Rocket.Chat's
//! `{"success":false,"error":…}` is a refusal. The URL carries the webhook's secret, so
//! it goes through the outbound address check and errors name its host only.

use serde_json::{json, Value};

use crate::chat::{self, markdown, markdown_line};
use crate::http::{Http, Method, Post};
use crate::mattermost_app::{MattermostAction, MattermostButtons};
use crate::message::{Item, Message};
use crate::{Delivered, DeliveryError};

/// Which server the webhook belongs to: the shape is shared, the limits are not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// Mattermost: a post's message is at most 16,383 characters (server 5.0 and later).
    Mattermost,
    /// Rocket.Chat: a message is at most 5,000 characters unless the admin raised
    /// `Message_MaxAllowedSize`.
    RocketChat,
}

impl Flavor {
    fn text_max(self) -> usize {
        match self {
            Flavor::Mattermost => 16_383,
            Flavor::RocketChat => 5_000,
        }
    }

    fn channel(self) -> &'static str {
        match self {
            Flavor::Mattermost => "mattermost",
            Flavor::RocketChat => "rocket.chat",
        }
    }
}

/// Most incidents shown as attachments; a bigger burst ends with "…and N more".
const MAX_ATTACHMENTS: usize = 20;
/// An attachment's text: a reason and three links fit with room to spare.
const ATTACHMENT_TEXT_MAX: usize = 3000;
const TITLE_MAX: usize = 250;
const FIELD_MAX: usize = 200;
/// Red for a page someone must wake for, amber for reminders and notices.
const URGENT_COLOR: &str = "#E01E5A";
const NOTICE_COLOR: &str = "#ECB22E";

/// The JSON body for a Mattermost incoming webhook: `text` is the headline in bold and
/// the free text, `attachments` one per incident (title `INC-12: …` linking to its
/// page, the reason and Acknowledge/Runbook/Open links as text, Severity/Service/Status
/// as short fields, a plain `fallback`). All user text is Markdown-escaped
/// ([`escape_markdown`](crate::escape_markdown)): a title cannot make links or
/// mentions. With `buttons`, each attachment has Acknowledge (while someone must),
/// Resolve and Escalate (while the incident is open) as `actions` whose `integration`
/// is the actions URL and a signed context, and no Acknowledge link.
pub fn mattermost_payload(message: &Message, buttons: Option<&MattermostButtons>) -> Value {
    payload(message, Flavor::Mattermost, buttons)
}

/// The JSON body for a Rocket.Chat incoming webhook: the shape of
/// [`mattermost_payload`], within Rocket.Chat's 5,000-character message.
pub fn rocketchat_payload(message: &Message) -> Value {
    payload(message, Flavor::RocketChat, None)
}

pub(crate) fn payload(
    message: &Message,
    flavor: Flavor,
    buttons: Option<&MattermostButtons>,
) -> Value {
    let shown = message.items.len().min(MAX_ATTACHMENTS);
    let hidden = message.items.len() - shown;
    let mut text = format!(
        "**{}**",
        markdown_line(chat::headline(&message.headline), 500)
    );
    if hidden > 0 {
        text.push_str(&format!(" (…and {hidden} more)"));
    }
    if let Some(extra) = message.text.as_deref().filter(|t| !t.trim().is_empty()) {
        let room = flavor.text_max().saturating_sub(text.chars().count() + 1);
        text.push('\n');
        text.push_str(&markdown(extra, room));
    }
    let color = if message.urgent {
        URGENT_COLOR
    } else {
        NOTICE_COLOR
    };
    let attachments: Vec<Value> = message
        .items
        .iter()
        .take(shown)
        .map(|item| attachment(item, color, buttons))
        .collect();
    let mut body = json!({ "text": text });
    if !attachments.is_empty() {
        body["attachments"] = Value::Array(attachments);
    }
    body
}

fn attachment(item: &Item, color: &str, buttons: Option<&MattermostButtons>) -> Value {
    let title = format!(
        "{}: {}",
        markdown_line(&item.incident, 50),
        markdown_line(&item.title, TITLE_MAX)
    );
    let mut text = String::new();
    if let Some(reason) = item.reason.as_deref().filter(|r| !r.trim().is_empty()) {
        text.push_str(&markdown(reason, 1000));
    }
    let links: Vec<String> = chat::links(item)
        .into_iter()
        // The button acknowledges as whoever clicks; the link would too, but twice is noise.
        .filter(|(label, _)| buttons.is_none() || *label != "Acknowledge")
        .filter_map(|(label, url)| chat::markdown_link(label, url))
        .collect();
    if !links.is_empty() {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&links.join(" · "));
    }
    let fallback = chat::cut(
        &chat::one_line(&format!(
            "{} [{}] {}",
            item.incident, item.severity, item.title
        )),
        300,
    );
    let mut attachment = json!({
        "fallback": fallback,
        "color": color,
        "title": title,
        "text": chat::cut(&text, ATTACHMENT_TEXT_MAX),
        "fields": [
            field("Severity", &item.severity),
            field("Service", &item.service),
            field("Status", &item.status),
        ],
    });
    if let Some(url) = item.incident_url.as_deref().and_then(chat::web_url) {
        attachment["title_link"] = json!(url);
    }
    if let Some(buttons) = buttons {
        let actions = actions(item, buttons);
        if !actions.is_empty() {
            attachment["actions"] = Value::Array(actions);
        }
    }
    attachment
}

/// The interactive buttons for one incident: Acknowledge while someone must (the page
/// offered an acknowledge link), Resolve and Escalate while it is open.
fn actions(item: &Item, buttons: &MattermostButtons) -> Vec<Value> {
    let open = item.status != "resolved";
    let wanted = [
        (
            MattermostAction::Acknowledge,
            "Acknowledge",
            "primary",
            item.ack_url.is_some(),
        ),
        (MattermostAction::Resolve, "Resolve", "default", open),
        (MattermostAction::Escalate, "Escalate", "danger", open),
    ];
    wanted
        .into_iter()
        .filter(|(_, _, _, shown)| *shown)
        .map(|(action, label, style, _)| {
            json!({
                "id": action.as_str(),
                "type": "button",
                "name": label,
                "style": style,
                "integration": {
                    "url": buttons.actions_url,
                    "context": buttons.key.context(&item.incident, action),
                },
            })
        })
        .collect()
}

fn field(title: &str, value: &str) -> Value {
    json!({ "short": true, "title": title, "value": markdown_line(chat::or(value, "—"), FIELD_MAX) })
}

/// POSTs `message` to the incoming webhook at `url`.
pub(crate) fn send(
    http: &Http,
    flavor: Flavor,
    url: &str,
    message: &Message,
    buttons: Option<&MattermostButtons>,
) -> Result<Delivered, DeliveryError> {
    let answer = http.send(&Post {
        channel: flavor.channel(),
        method: Method::Post,
        url,
        content_type: "application/json",
        headers: &[],
        basic_auth: None,
        body: payload(message, flavor, buttons).to_string().into_bytes(),
        error_text,
    })?;
    // Rocket.Chat says whether it posted; Mattermost answers the text `ok`.
    let value: Value = serde_json::from_str(&answer.body).unwrap_or_default();
    if value["success"].as_bool() == Some(false) {
        let why = error_text(&answer.body).unwrap_or_else(|| "success: false".to_owned());
        return Err(DeliveryError::Permanent(format!(
            "{} to {}: HTTP {}: {why}",
            flavor.channel(),
            crate::http::url_host(url),
            answer.status
        )));
    }
    Ok(Delivered {
        detail: format!("HTTP {}", answer.status),
        reference: None,
    })
}

/// The servers' error answers: Mattermost's `{"id":"web.incoming_webhook.…","message":
/// "…","status_code":400}` and Rocket.Chat's `{"success":false,"error":"…"}`.
fn error_text(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    if let Some(message) = value["message"].as_str() {
        return Some(match value["id"].as_str() {
            Some(id) => format!("{message} ({id})"),
            None => message.to_owned(),
        });
    }
    value["error"].as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Message {
        Message {
            key: "k".into(),
            headline: "Paged: [SEV1] Checkout 5xx".into(),
            items: vec![Item {
                incident: "INC-12".into(),
                title: "[Acknowledge](https://evil.example) @channel".into(),
                severity: "SEV1".into(),
                service: "checkout_api".into(),
                status: "triggered".into(),
                reason: Some("declared **SEV1**".into()),
                incident_url: Some("https://f.example/ui/incidents/INC-12".into()),
                runbook_url: None,
                ack_url: Some("https://f.example/ack/abc".into()),
            }],
            text: Some("note: @all please <look>".into()),
            urgent: true,
            confirm_url: None,
            unsubscribe_url: None,
        }
    }

    #[test]
    fn text_and_attachments_not_blocks() {
        let body = mattermost_payload(&page(), None);
        assert!(body.get("blocks").is_none(), "{body}");
        assert_eq!(
            body["text"],
            "**Paged: \\[SEV1\\] Checkout 5xx**\nnote: @\u{2060}all please \\<look\\>"
        );
        let a = &body["attachments"][0];
        assert_eq!(
            a["title"],
            "INC-12: \\[Acknowledge\\]\\(https://evil.example\\) @\u{2060}channel"
        );
        assert_eq!(a["title_link"], "https://f.example/ui/incidents/INC-12");
        assert_eq!(a["color"], URGENT_COLOR);
        assert_eq!(
            a["text"],
            "declared \\*\\*SEV1\\*\\*\n[Acknowledge](https://f.example/ack/abc) · \
             [Open](https://f.example/ui/incidents/INC-12)"
        );
        assert_eq!(a["fields"][1]["value"], "checkout\\_api");
        assert_eq!(a["fields"][1]["short"], true);
        assert!(a["fallback"]
            .as_str()
            .is_some_and(|f| f.starts_with("INC-12 [SEV1]")));
    }

    #[test]
    fn buttons_replace_the_acknowledge_link_and_carry_signed_contexts() {
        let buttons = MattermostButtons {
            actions_url: "https://f.example/hooks/mattermost/actions".into(),
            key: crate::MattermostActionKey::from_command_token("tok"),
        };
        let body = mattermost_payload(&page(), Some(&buttons));
        let a = &body["attachments"][0];
        let names: Vec<&str> = a["actions"]
            .as_array()
            .map(|v| v.iter().filter_map(|b| b["name"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(names, ["Acknowledge", "Resolve", "Escalate"]);
        let ack = &a["actions"][0];
        assert_eq!(ack["integration"]["url"], buttons.actions_url);
        assert_eq!(
            buttons.key.verify(&ack["integration"]["context"]),
            Ok(("INC-12".to_owned(), MattermostAction::Acknowledge))
        );
        assert_eq!(
            a["text"],
            "declared \\*\\*SEV1\\*\\*\n[Open](https://f.example/ui/incidents/INC-12)"
        );
        // Acknowledged and resolved: nothing left to press.
        let mut done = page();
        done.items[0].ack_url = None;
        done.items[0].status = "resolved".into();
        let body = mattermost_payload(&done, Some(&buttons));
        assert!(body["attachments"][0].get("actions").is_none(), "{body}");
        // Rocket.Chat never gets them.
        assert!(rocketchat_payload(&page())["attachments"][0]
            .get("actions")
            .is_none());
    }

    #[test]
    fn rocket_chat_text_stays_within_its_limit() {
        let mut message = page();
        message.text = Some("[".repeat(20_000));
        let rc = rocketchat_payload(&message);
        let mm = mattermost_payload(&message, None);
        let len = |v: &Value| v["text"].as_str().map(|t| t.chars().count()).unwrap_or(0);
        assert!(len(&rc) <= 5_000, "{}", len(&rc));
        assert!(len(&mm) <= 16_383 && len(&mm) > 5_000, "{}", len(&mm));
        assert!(rc["text"].as_str().is_some_and(|t| t.ends_with("\\[…")));
    }

    #[test]
    fn a_burst_is_cut_to_twenty_attachments() {
        let mut message = page();
        message.items = vec![page().items[0].clone(); 25];
        let body = mattermost_payload(&message, None);
        assert_eq!(body["attachments"].as_array().map(Vec::len), Some(20));
        assert!(body["text"]
            .as_str()
            .is_some_and(|t| t.contains("…and 5 more")));
        let notice = Message {
            headline: "Hand-off".into(),
            ..Message::default()
        };
        let body = mattermost_payload(&notice, None);
        assert!(body.get("attachments").is_none(), "{body}");
    }

    #[test]
    fn error_answers_are_quoted() {
        assert_eq!(
            error_text(
                r#"{"id":"web.incoming_webhook.invalid.app_error","message":"Invalid webhook.","status_code":400}"#
            )
            .as_deref(),
            Some("Invalid webhook. (web.incoming_webhook.invalid.app_error)")
        );
        assert_eq!(
            error_text(r#"{"success":false,"error":"Invalid integration"}"#).as_deref(),
            Some("Invalid integration")
        );
    }
}
