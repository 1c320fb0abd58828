//! A Matrix room through the client-server API
//! (<https://spec.matrix.org/latest/client-server-api/#put_matrixclientv3roomsroomidsendeventtypetxnid>):
//! `PUT {homeserver}/_matrix/client/v3/rooms/{roomId}/send/m.room.message/{txnId}` with
//! `Authorization: Bearer <access token>` and an `m.text` message: `body` in plain text,
//! `formatted_body` in HTML (`format: org.matrix.custom.html`,
//! <https://spec.matrix.org/latest/client-server-api/#mroommessage-msgtypes>).
//!
//! The transaction id is derived from the message's key, so a retried delivery is the
//! same transaction and the homeserver answers it with the first event instead of
//! posting twice. `"m.mentions": {}` says the message mentions no one, so a name or
//! `@room` in a title does not ping (intentional mentions, spec 1.7).
//!
//! The homeserver URL comes from the roster, so it goes through the outbound address
//! check; the access token never appears in errors or logs. The homeserver answers
//! `200 {"event_id"}`; `M_FORBIDDEN` (not in the room) and `M_UNKNOWN_TOKEN` are
//! permanent, `429 M_LIMIT_EXCEEDED` transient.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::chat::{self, escape_html};
use crate::http::{Http, Method, Post};
use crate::message::{Item, Message};
use crate::{Delivered, DeliveryError};

/// An event is at most 65,536 bytes with the homeserver's own fields and signatures;
/// the two texts stay well inside.
const BODY_MAX_BYTES: usize = 16 * 1024;
const FORMATTED_MAX_BYTES: usize = 32 * 1024;
const TITLE_MAX: usize = 500;
const REASON_MAX: usize = 1000;
const TEXT_MAX: usize = 4000;

/// The content of the `m.room.message` event: `msgtype` `m.text`, `body` (plain text:
/// headline, each incident with its facts, reason and links as URLs, free text),
/// `format` `org.matrix.custom.html` and `formatted_body` (the same in HTML with every
/// user text escaped and links as `<a href>`), and an empty `m.mentions`. Incidents
/// that would not fit are left out, saying how many.
pub fn matrix_content(message: &Message) -> Value {
    let headline = chat::headline(&message.headline);
    let mut body = chat::cut(&chat::one_line(headline), 500);
    let mut html = format!("<p><strong>{}</strong></p>", escape_html(&body));
    let mut shown = 0;
    for item in &message.items {
        let (plain, formatted) = item_texts(item);
        // Room for the rest: the free text and a "…and N more" line.
        if body.len() + plain.len() + TEXT_MAX * 2 > BODY_MAX_BYTES
            || html.len() + formatted.len() + TEXT_MAX * 6 > FORMATTED_MAX_BYTES
        {
            break;
        }
        body.push_str("\n\n");
        body.push_str(&plain);
        html.push_str(&formatted);
        shown += 1;
    }
    let hidden = message.items.len() - shown;
    if hidden > 0 {
        body.push_str(&format!("\n\n…and {hidden} more"));
        html.push_str(&format!("<p>…and {hidden} more</p>"));
    }
    if let Some(text) = message.text.as_deref().filter(|t| !t.trim().is_empty()) {
        let text = chat::cut(text, TEXT_MAX);
        body.push_str("\n\n");
        body.push_str(&text);
        html.push_str(&format!(
            "<p>{}</p>",
            escape_html(&text).replace('\n', "<br>")
        ));
    }
    json!({
        "msgtype": "m.text",
        "body": chat::cut_bytes(&body, BODY_MAX_BYTES),
        "format": "org.matrix.custom.html",
        "formatted_body": html,
        "m.mentions": {},
    })
}

/// One incident as plain text and as an HTML paragraph.
fn item_texts(item: &Item) -> (String, String) {
    let title = chat::cut(&chat::one_line(&item.title), TITLE_MAX);
    let incident = chat::cut(&chat::one_line(&item.incident), 50);
    let facts = format!(
        "Severity: {} · Service: {} · Status: {}",
        chat::cut(&chat::one_line(chat::or(&item.severity, "—")), 100),
        chat::cut(&chat::one_line(chat::or(&item.service, "—")), 100),
        chat::cut(&chat::one_line(chat::or(&item.status, "—")), 100),
    );
    let mut plain = format!("{incident}: {title}\n{facts}");
    let mut html = format!(
        "<p><strong>{}: {}</strong><br>{}",
        escape_html(&incident),
        escape_html(&title),
        escape_html(&facts)
    );
    if let Some(reason) = item.reason.as_deref().filter(|r| !r.trim().is_empty()) {
        let reason = chat::cut(&chat::one_line(reason), REASON_MAX);
        plain.push('\n');
        plain.push_str(&reason);
        html.push_str(&format!("<br><em>{}</em>", escape_html(&reason)));
    }
    let links = chat::links(item);
    if !links.is_empty() {
        let anchors: Vec<String> = links
            .iter()
            .map(|(label, url)| format!("<a href=\"{}\">{label}</a>", escape_html(url)))
            .collect();
        html.push_str(&format!("<br>{}", anchors.join(" · ")));
        for (label, url) in links {
            plain.push_str(&format!("\n{label}: {url}"));
        }
    }
    html.push_str("</p>");
    (plain, html)
}

/// The transaction id for `key`: `fireline-` and 32 hex digits of its SHA-256, the same
/// for every retry of one message (the homeserver then answers the first event again),
/// made only of characters a path segment takes as they are.
pub fn matrix_txn_id(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    format!("fireline-{}", &hex::encode(digest)[..32])
}

/// PUTs `message` into `room` on `homeserver` with the access `token`.
pub(crate) fn send(
    http: &Http,
    homeserver: &str,
    room: &str,
    token: &str,
    message: &Message,
) -> Result<Delivered, DeliveryError> {
    let (room, token) = (room.trim(), token.trim());
    // The send endpoint takes a room id; an alias (#ops:example.org) would be a 4xx.
    if !room.starts_with('!') || !room.contains(':') {
        return Err(DeliveryError::Permanent(
            "Matrix room must be a room id like !abc123:example.org (Room settings → Advanced)"
                .to_owned(),
        ));
    }
    if token.is_empty() || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(DeliveryError::Permanent(
            "Matrix access token is empty or malformed".to_owned(),
        ));
    }
    let url = format!(
        "{}/_matrix/client/v3/rooms/{}/send/m.room.message/{}",
        homeserver.trim().trim_end_matches('/'),
        path_segment(room),
        matrix_txn_id(&message.key)
    );
    let hide = |e| crate::redacted(e, &[token]);
    let answer = http
        .send(&Post {
            channel: "matrix",
            method: Method::Put,
            url: &url,
            content_type: "application/json",
            headers: &[("Authorization", format!("Bearer {token}"))],
            basic_auth: None,
            body: matrix_content(message).to_string().into_bytes(),
            error_text,
        })
        .map_err(hide)?;
    let value: Value = serde_json::from_str(&answer.body).unwrap_or_default();
    Ok(Delivered {
        detail: match value["event_id"].as_str() {
            Some(id) => format!("HTTP {}, event {id}", answer.status),
            None => format!("HTTP {}", answer.status),
        },
        reference: None,
    })
}

/// `text` percent-encoded for one path segment: everything but RFC 3986's unreserved
/// characters (`!` and `:` in a room id included, as the spec's examples do).
fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte))
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// The spec's standard error answer, `{"errcode":"M_FORBIDDEN","error":"…"}` (with
/// `retry_after_ms` on `M_LIMIT_EXCEEDED`).
fn error_text(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    let code = value["errcode"].as_str()?;
    let mut text = match value["error"].as_str() {
        Some(error) => format!("{error} ({code})"),
        None => code.to_owned(),
    };
    if let Some(ms) = value["retry_after_ms"].as_u64() {
        text.push_str(&format!(", retry after {ms} ms"));
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Message {
        Message {
            key: "INC-12/c0:page:SEV1/ops/matrix/0.0".into(),
            headline: "Paged: [SEV1] Checkout 5xx".into(),
            items: vec![Item {
                incident: "INC-12".into(),
                title: "Checkout <img src=x onerror=alert(1)> & \"more\"".into(),
                severity: "SEV1".into(),
                service: "checkout".into(),
                status: "triggered".into(),
                reason: Some("declared SEV1".into()),
                incident_url: Some("https://f.example/ui/incidents/INC-12".into()),
                runbook_url: Some("https://wiki.example/run?a=1&b=\"2\"".into()),
                ack_url: Some("https://f.example/ack/abc".into()),
            }],
            text: Some("line one\n<b>line two</b>".into()),
            urgent: true,
            confirm_url: None,
            unsubscribe_url: None,
        }
    }

    #[test]
    fn plain_and_html_bodies_with_escaped_user_text() {
        let content = matrix_content(&page());
        assert_eq!(content["msgtype"], "m.text");
        assert_eq!(content["format"], "org.matrix.custom.html");
        assert_eq!(content["m.mentions"], json!({}));
        let body = content["body"].as_str().unwrap_or_default();
        assert!(
            body.starts_with("Paged: [SEV1] Checkout 5xx\n\nINC-12: Checkout <img"),
            "{body}"
        );
        assert!(
            body.contains("\nAcknowledge: https://f.example/ack/abc"),
            "{body}"
        );
        let html = content["formatted_body"].as_str().unwrap_or_default();
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains(
            "<strong>INC-12: Checkout &lt;img src=x onerror=alert(1)&gt; &amp; &quot;more&quot;</strong>"
        ), "{html}");
        assert!(
            html.contains("<a href=\"https://f.example/ack/abc\">Acknowledge</a>"),
            "{html}"
        );
        assert!(
            html.contains(
                "<a href=\"https://wiki.example/run?a=1&amp;b=&quot;2&quot;\">Runbook</a>"
            ),
            "{html}"
        );
        assert!(
            html.ends_with("<p>line one<br>&lt;b&gt;line two&lt;/b&gt;</p>"),
            "{html}"
        );
    }

    #[test]
    fn a_burst_stays_within_the_event_size() {
        let mut message = page();
        let mut item = page().items[0].clone();
        item.title = "<".repeat(2000);
        message.items = vec![item; 200];
        let content = matrix_content(&message);
        assert!(
            content.to_string().len() < 60_000,
            "{}",
            content.to_string().len()
        );
        assert!(content["body"].as_str().is_some_and(|b| b.contains("more")));
    }

    #[test]
    fn the_transaction_id_is_stable_and_path_safe() {
        let a = matrix_txn_id("INC-12/c0:page:SEV1/ops/matrix/0.0");
        assert_eq!(a, matrix_txn_id("INC-12/c0:page:SEV1/ops/matrix/0.0"));
        assert_ne!(a, matrix_txn_id("INC-12/c0:page:SEV1/ops/matrix/0.1"));
        assert_eq!(a.len(), "fireline-".len() + 32);
        assert_eq!(path_segment(&a), a);
        assert_eq!(path_segment("!abc:example.org"), "%21abc%3Aexample.org");
    }

    #[test]
    fn error_answers_name_the_code() {
        assert_eq!(
            error_text(r#"{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":2000}"#)
                .as_deref(),
            Some("Too many requests (M_LIMIT_EXCEEDED), retry after 2000 ms")
        );
        assert_eq!(error_text("not json"), None);
    }
}
