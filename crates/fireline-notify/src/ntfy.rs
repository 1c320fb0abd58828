//! ntfy (<https://ntfy.sh>, or a self-hosted server): the message POSTed to the topic's
//! URL, with its title, priority, tags, click URL and action buttons in headers, as
//! <https://docs.ntfy.sh/publish/> documents.
//!
//! The topic URL comes from the roster, so it goes through the outbound address check
//! like Slack and webhook URLs; the topic name is as good as a password (anyone who knows
//! it reads the topic), so errors and logs name the host only.

use base64::Engine as _;

use crate::http::{Http, Method, Post};
use crate::message::{Item, Message};
use crate::{header_value, Delivered, DeliveryError};

/// ntfy keeps a message body up to 4,096 bytes; longer ones become attachments.
const BODY_MAX_BYTES: usize = 4096;
/// ntfy shows at most three action buttons.
const MAX_ACTIONS: usize = 3;
/// An RFC 2047 encoded word is at most 75 characters: `=?UTF-8?B?` and `?=` take 12, and
/// 45 bytes make 60 base64 characters.
const ENCODED_WORD_BYTES: usize = 45;

/// POSTs `message` to the topic at `url`, with `token` as the bearer access token.
pub(crate) fn send(
    http: &Http,
    url: &str,
    token: Option<&str>,
    message: &Message,
) -> Result<Delivered, DeliveryError> {
    let mut headers = ntfy_headers(message);
    headers.push(("X-Fireline-Key", header_value(&message.key)?));
    if let Some(token) = token {
        if token.trim().is_empty() {
            return Err(DeliveryError::Permanent(
                "ntfy access token is empty; remove it or set one".to_owned(),
            ));
        }
        headers.push(("Authorization", format!("Bearer {}", token.trim())));
    }
    let answer = http.send(&Post {
        channel: "ntfy",
        method: Method::Post,
        url,
        content_type: "text/plain; charset=utf-8",
        headers: &headers,
        basic_auth: None,
        body: ntfy_body(message).into_bytes(),
        error_text,
    })?;
    let id = serde_json::from_str::<serde_json::Value>(&answer.body)
        .ok()
        .and_then(|v| v["id"].as_str().map(str::to_owned));
    Ok(Delivered {
        detail: match id {
            Some(id) => format!("HTTP {}, ntfy message {id}", answer.status),
            None => format!("HTTP {}", answer.status),
        },
        reference: None,
    })
}

/// ntfy's error answer, `{"code":40101,"http":401,"error":"unauthorized","link":"…"}`
/// (its server's `errHTTP`), as one line.
fn error_text(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let error = value["error"].as_str()?;
    let mut text = error.to_owned();
    if let Some(code) = value["code"].as_u64() {
        text.push_str(&format!(" (ntfy error {code}"));
        if let Some(link) = value["link"].as_str() {
            text.push_str(&format!(", {link}"));
        }
        text.push(')');
    }
    Some(text)
}

/// The headers that carry the notification's parts: `Title`, `Priority` (`5` for a page
/// someone must wake for, else `3`), `Tags`, `Click` (the first incident's page) and
/// `Actions` (an `http` "Acknowledge" POST to each of up to two acknowledge links, which
/// clears the notification, and a `view` "Open" of the first incident's page). Values
/// that are not plain ASCII are RFC 2047 encoded, as ntfy documents for every header.
pub(crate) fn ntfy_headers(message: &Message) -> Vec<(&'static str, String)> {
    let title = if message.headline.trim().is_empty() {
        "Fireline notification"
    } else {
        message.headline.as_str()
    };
    let mut tags = vec![if message.urgent {
        "rotating_light".to_owned()
    } else {
        "bell".to_owned()
    }];
    for item in &message.items {
        // A comma would split the tag in two.
        let severity = item.severity.replace(',', " ").trim().to_owned();
        if !severity.is_empty() && !tags.contains(&severity) {
            tags.push(severity);
        }
    }
    let mut headers = vec![
        ("Title", encoded(title)),
        (
            "Priority",
            if message.urgent { "5" } else { "3" }.to_owned(),
        ),
        ("Tags", encoded(&tags.join(","))),
    ];
    let incident_url = message.items.iter().find_map(|i| i.incident_url.as_deref());
    if let Some(url) = incident_url {
        headers.push(("Click", encoded(url)));
    }
    let actions = actions(&message.items, incident_url);
    if !actions.is_empty() {
        headers.push(("Actions", encoded(&actions.join("; "))));
    }
    headers
}

/// Action buttons in ntfy's header format: `action=http, label=…, url=…, method=POST,
/// clear=true` for acknowledge links, `action=view, label=Open, url=…` for the page.
fn actions(items: &[Item], incident_url: Option<&str>) -> Vec<String> {
    let acks: Vec<&Item> = items.iter().filter(|i| i.ack_url.is_some()).collect();
    let mut actions = Vec::new();
    for item in acks.iter().take(MAX_ACTIONS - 1) {
        let Some(url) = item.ack_url.as_deref() else {
            continue;
        };
        let label = if items.len() == 1 {
            "Acknowledge".to_owned()
        } else {
            format!("Ack {}", item.incident)
        };
        actions.push(format!(
            "action=http, label={}, url={}, method=POST, clear=true",
            action_value(&label),
            action_value(url)
        ));
    }
    if let Some(url) = incident_url {
        actions.push(format!(
            "action=view, label=Open, url={}",
            action_value(url)
        ));
    }
    actions
}

/// A value in ntfy's action header: quoted when it holds the separators `,` or `;`
/// (double quotes, or single quotes when it holds double ones).
fn action_value(value: &str) -> String {
    if !value.contains([',', ';']) && !value.starts_with(['"', '\'']) {
        value.to_owned()
    } else if !value.contains('"') {
        format!("\"{value}\"")
    } else if !value.contains('\'') {
        format!("'{value}'")
    } else {
        // Both quote kinds: URLs may spell `"` as `%22` instead.
        format!("'{}'", value.replace('\'', "%27"))
    }
}

/// A header value: control characters (which would end the header) as spaces, and the
/// whole as RFC 2047 base64 encoded words when it is not plain ASCII.
pub(crate) fn encoded(value: &str) -> String {
    let flat: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.trim();
    if flat.is_ascii() {
        return flat.to_owned();
    }
    let mut words = Vec::new();
    let mut start = 0;
    while start < flat.len() {
        let mut end = (start + ENCODED_WORD_BYTES).min(flat.len());
        // Each word decodes alone, so none may end inside a character.
        while !flat.is_char_boundary(end) {
            end -= 1;
        }
        let chunk = &flat.as_bytes()[start..end];
        words.push(format!(
            "=?UTF-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(chunk)
        ));
        start = end;
    }
    // Whitespace between adjacent encoded words is not part of the text (RFC 2047 §6.2).
    words.join(" ")
}

/// The notification's text: each incident (id, severity, title, service, status, why),
/// then the free text, within ntfy's 4,096 bytes.
pub(crate) fn ntfy_body(message: &Message) -> String {
    let mut lines = Vec::new();
    for item in &message.items {
        lines.push(format!(
            "{} [{}] {}",
            item.incident, item.severity, item.title
        ));
        lines.push(format!("{} · {}", item.service, item.status));
        if let Some(reason) = item.reason.as_deref().filter(|r| !r.trim().is_empty()) {
            lines.push(reason.to_owned());
        }
    }
    if let Some(text) = message.text.as_deref().filter(|t| !t.trim().is_empty()) {
        lines.push(text.to_owned());
    }
    let body = if lines.is_empty() {
        // ntfy would say "triggered" for an empty body.
        message.headline.clone()
    } else {
        lines.join("\n")
    };
    cut_bytes(&body, BODY_MAX_BYTES)
}

/// `text` cut to at most `max` bytes, at a character boundary, ending in `…` if cut.
fn cut_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(value: &str) -> String {
        let mut out = Vec::new();
        for word in value.split(' ') {
            let inner = word
                .strip_prefix("=?UTF-8?B?")
                .and_then(|w| w.strip_suffix("?="))
                .unwrap_or_else(|| panic!("not an encoded word: {word}"));
            assert!(word.len() <= 75, "{word}");
            out.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(inner)
                    .unwrap_or_default(),
            );
        }
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn plain_ascii_headers_are_left_alone_and_others_rfc_2047_encoded() {
        assert_eq!(
            encoded("Paged: [SEV1] Checkout 5xx"),
            "Paged: [SEV1] Checkout 5xx"
        );
        assert_eq!(encoded("a\r\nX-Evil: 1"), "a  X-Evil: 1");
        // ntfy's own example: 🇩🇪 is =?UTF-8?B?8J+HqfCfh6o=?=
        assert_eq!(encoded("🇩🇪"), "=?UTF-8?B?8J+HqfCfh6o=?=");
        let long = "Paiement refusé — ".repeat(10);
        let value = encoded(&long);
        assert!(value.is_ascii(), "{value}");
        assert_eq!(decode(&value), long.trim());
    }

    #[test]
    fn action_values_with_separators_are_quoted() {
        assert_eq!(
            action_value("https://f.example/ack/1"),
            "https://f.example/ack/1"
        );
        assert_eq!(action_value("a,b"), "\"a,b\"");
        assert_eq!(action_value("a;\"b\""), "'a;\"b\"'");
        assert_eq!(action_value("a;\"b'\""), "'a;\"b%27\"'");
    }

    #[test]
    fn a_long_body_is_cut_to_ntfys_limit() {
        let message = Message {
            text: Some("é".repeat(5000)),
            ..Message::default()
        };
        let body = ntfy_body(&message);
        assert!(body.len() <= BODY_MAX_BYTES, "{}", body.len());
        assert!(body.ends_with('…'));
        assert_eq!(
            ntfy_body(&Message {
                headline: "Hand-off".into(),
                ..Message::default()
            }),
            "Hand-off"
        );
    }
}
