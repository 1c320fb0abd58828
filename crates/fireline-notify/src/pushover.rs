//! Pushover (<https://pushover.net/api>): one form POST to `/1/messages.json` with the
//! server's application token and the person's user (or group) key. A page someone must
//! wake for goes as an emergency (`priority=2`): Pushover repeats it every `retry`
//! seconds until acknowledged or `expire` seconds have passed, and on acknowledgement
//! calls the `callback` URL, the acknowledge link's `/pushover` (see
//! <https://pushover.net/api/receipts>).

use std::fmt;

use crate::http::{form_body, Http, Method, Post};
use crate::message::Message;
use crate::{Delivered, DeliveryError};

/// Where Pushover's API lives unless `[pushover] api_url` says otherwise.
pub const PUSHOVER_API_URL: &str = "https://api.pushover.net";

/// Pushover's limits: a title of 250 characters, a message of 1,024, a URL of 512 and
/// its title of 100.
const TITLE_MAX: usize = 250;
const MESSAGE_MAX: usize = 1024;
const URL_MAX: usize = 512;
const URL_TITLE_MAX: usize = 100;
/// How often an emergency repeats until acknowledged (Pushover: at least 30 seconds).
pub const EMERGENCY_RETRY_SECONDS: u32 = 60;
/// How long an emergency keeps repeating (Pushover: at most 10,800 seconds).
pub const EMERGENCY_EXPIRE_SECONDS: u32 = 3600;

/// The server's Pushover application.
#[derive(Clone, PartialEq, Eq)]
pub struct PushoverConfig {
    /// The application's API token (never shown in `Debug`, logs or errors).
    pub token: String,
    /// The API's base URL, [`PUSHOVER_API_URL`] unless a compatible service is used.
    pub api_url: String,
}

impl PushoverConfig {
    /// The application `token` at [`PUSHOVER_API_URL`].
    pub fn new(token: impl Into<String>) -> PushoverConfig {
        PushoverConfig {
            token: token.into(),
            api_url: PUSHOVER_API_URL.to_owned(),
        }
    }
}

// By hand: the token is a credential.
impl fmt::Debug for PushoverConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushoverConfig")
            .field("api_url", &self.api_url)
            .finish_non_exhaustive()
    }
}

/// Sends `message` to the user or group key `user`.
pub(crate) fn send(
    http: &Http,
    config: &PushoverConfig,
    user: &str,
    message: &Message,
) -> Result<Delivered, DeliveryError> {
    let user = user.trim();
    if user.is_empty() {
        return Err(DeliveryError::Permanent(
            "Pushover user key is empty".to_owned(),
        ));
    }
    let url = format!("{}/1/messages.json", config.api_url.trim_end_matches('/'));
    let mut form = vec![("token", config.token.clone()), ("user", user.to_owned())];
    form.extend(pushover_fields(message));
    let answer = http
        .send(&Post {
            channel: "pushover",
            method: Method::Post,
            url: &url,
            content_type: "application/x-www-form-urlencoded",
            headers: &[],
            basic_auth: None,
            body: form_body(&form).into_bytes(),
            error_text,
        })
        .map_err(|e| crate::redacted(e, &[&config.token, user]))?;
    answered(answer.status, &answer.body).map_err(|e| crate::redacted(e, &[&config.token, user]))
}

/// Pushover's answer to a request it took: `{"status":1,"request":"…"}`, with a
/// `receipt` for an emergency. A 2xx whose `status` is not 1 is refused all the same.
fn answered(status: u16, body: &str) -> Result<Delivered, DeliveryError> {
    let value: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    if value["status"].as_i64() != Some(1) {
        let why = error_text(body).unwrap_or_else(|| "no status 1 in the answer".to_owned());
        return Err(DeliveryError::Permanent(format!(
            "pushover: HTTP {status}: {why}"
        )));
    }
    let mut detail = format!("HTTP {status}");
    if let Some(request) = value["request"].as_str() {
        detail.push_str(&format!(", request {request}"));
    }
    if let Some(receipt) = value["receipt"].as_str() {
        detail.push_str(&format!(", receipt {receipt}"));
    }
    Ok(Delivered {
        detail,
        reference: None,
    })
}

/// Pushover's error answer, `{"user":"invalid","errors":["user identifier is invalid"],
/// "status":0,"request":"…"}`: its `errors`, and the request id Pushover's support asks
/// for.
fn error_text(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let errors: Vec<&str> = value["errors"]
        .as_array()?
        .iter()
        .filter_map(serde_json::Value::as_str)
        .collect();
    if errors.is_empty() {
        return None;
    }
    let mut text = errors.join("; ");
    if let Some(request) = value["request"].as_str() {
        text.push_str(&format!(" (request {request})"));
    }
    Some(text)
}

/// The message's fields besides token and user: `title` (the headline), `message` (one
/// line per incident, then the free text), `url` and `url_title` (the first incident's
/// page), and `priority`: `2` (emergency, repeating every
/// [`EMERGENCY_RETRY_SECONDS`] for [`EMERGENCY_EXPIRE_SECONDS`]) for a page someone must
/// wake for, with a `callback` to the acknowledge link when the message is about one
/// incident (to the confirm link on a test page), else `0`.
pub(crate) fn pushover_fields(message: &Message) -> Vec<(&'static str, String)> {
    let title = if message.headline.trim().is_empty() {
        "Fireline notification"
    } else {
        message.headline.as_str()
    };
    let mut fields = vec![
        ("title", cut(title, TITLE_MAX)),
        ("message", cut(&text(message), MESSAGE_MAX)),
    ];
    let first = message.items.first();
    if let Some(url) = first
        .and_then(|i| i.incident_url.as_deref())
        .filter(|u| u.chars().count() <= URL_MAX)
    {
        fields.push(("url", url.to_owned()));
        let label = match first {
            Some(item) if message.items.len() == 1 => format!("Open {}", item.incident),
            _ => "Open in Fireline".to_owned(),
        };
        fields.push(("url_title", cut(&label, URL_TITLE_MAX)));
    }
    if message.urgent {
        fields.push(("priority", "2".to_owned()));
        fields.push(("retry", EMERGENCY_RETRY_SECONDS.to_string()));
        fields.push(("expire", EMERGENCY_EXPIRE_SECONDS.to_string()));
        // One acknowledgement in Pushover stands for one incident: a bundle of several
        // is acknowledged in Fireline, item by item.
        // A test page has no incident: acknowledging it confirms the contact.
        let callback = match message.items.as_slice() {
            [item] => item.ack_url.as_deref(),
            [] => message.confirm_url.as_deref(),
            _ => None,
        };
        if let Some(link) = callback {
            fields.push(("callback", format!("{link}/pushover")));
        }
    } else {
        fields.push(("priority", "0".to_owned()));
    }
    fields
}

fn text(message: &Message) -> String {
    let mut lines = Vec::new();
    for item in &message.items {
        lines.push(format!(
            "{} [{}] {} ({}, {})",
            item.incident, item.severity, item.title, item.service, item.status
        ));
        if let Some(reason) = item.reason.as_deref().filter(|r| !r.trim().is_empty()) {
            lines.push(reason.to_owned());
        }
    }
    if let Some(text) = message.text.as_deref().filter(|t| !t.trim().is_empty()) {
        lines.push(text.to_owned());
    }
    if lines.is_empty() {
        // Pushover refuses an empty message.
        lines.push(message.headline.clone());
    }
    lines.join("\n")
}

/// `text` cut to at most `max` characters, ending in `…` if cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_token() {
        let config = PushoverConfig::new("azGDORePK8gMaC0QOYAMyEEuzJnyUi");
        let text = format!("{config:?}");
        assert!(!text.contains("azGDOR"), "{text}");
        assert!(text.contains("api.pushover.net"), "{text}");
    }

    #[test]
    fn documented_limits_hold() {
        const { assert!(EMERGENCY_RETRY_SECONDS >= 30) };
        const { assert!(EMERGENCY_EXPIRE_SECONDS <= 10_800) };
        let message = Message {
            headline: "x".repeat(300),
            text: Some("y".repeat(2000)),
            ..Message::default()
        };
        let fields = pushover_fields(&message);
        let get = |name| {
            fields
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.chars().count())
        };
        assert_eq!(get("title"), Some(TITLE_MAX));
        assert_eq!(get("message"), Some(MESSAGE_MAX));
    }

    #[test]
    fn an_answer_without_status_one_is_refused() {
        assert!(answered(200, r#"{"status":1,"request":"r1"}"#).is_ok());
        let error = answered(200, r#"{"status":0,"errors":["nope"],"request":"r2"}"#);
        assert_eq!(
            error,
            Err(DeliveryError::Permanent(
                "pushover: HTTP 200: nope (request r2)".to_owned()
            ))
        );
    }
}
