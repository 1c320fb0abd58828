//! Slack's Web API, `chat.postMessage` with a bot token
//! (<https://api.slack.com/methods/chat.postMessage>): a JSON POST to
//! `{api_url}/chat.postMessage` with `Authorization: Bearer <token>`, the channel, the
//! Block Kit blocks of [`slack_payload`](crate::slack_payload) with link buttons, and
//! the `text` fallback.
//!
//! Slack answers almost everything with HTTP 200: `{"ok":true,"channel","ts","message"}`
//! when posted, `{"ok":false,"error":"channel_not_found"}` when not. An `ok:false` is a
//! failed delivery, classified by its error code
//! (<https://api.slack.com/methods/chat.postMessage#errors>,
//! <https://api.slack.com/web#errors>); HTTP 429 (with `Retry-After`) and 5xx are
//! transient as for every channel.
//!
//! The API base URL is the admin's setting (`[slack] api_url`), so it goes through the
//! trusted agent like Twilio's; the bot token is a credential and never appears in
//! errors or logs.

use serde_json::{json, Value};

use crate::http::{Http, Method, Post};
use crate::message::Message;
use crate::slack::{blocks, fallback_text, Links};
use crate::{Delivered, DeliveryError};

/// Where Slack's Web API lives unless `[slack] api_url` says otherwise.
pub const SLACK_API_URL: &str = "https://slack.com/api";

/// The server's Slack Web API settings (the bot token is the destination's: each
/// channel may be posted to by another app).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackApiConfig {
    /// The Web API's base URL, [`SLACK_API_URL`] unless a compatible service or a proxy
    /// is used.
    pub api_url: String,
    /// Whether the app answers its own buttons (fireline has its signing secret): then
    /// Acknowledge, Resolve and Escalate act from Slack; otherwise they are links.
    pub interactive: bool,
}

impl Default for SlackApiConfig {
    fn default() -> SlackApiConfig {
        SlackApiConfig {
            api_url: SLACK_API_URL.to_owned(),
            interactive: false,
        }
    }
}

/// `chat.postMessage`'s error codes that may pass: Slack's own trouble and rate limits.
/// Every other code (`invalid_auth`, `not_authed`, `channel_not_found`, `not_in_channel`,
/// `account_inactive`, `token_revoked`, `is_archived`, `msg_too_long`, `invalid_blocks`,
/// `missing_scope`, …) needs someone to change the token, the channel or the app.
const TRANSIENT_ERRORS: [&str; 6] = [
    "ratelimited",
    "rate_limited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
];

/// The JSON body of `chat.postMessage` for `channel`: `channel`, `text` (the fallback
/// for notifications), `blocks` (header, free text, one section per item followed by
/// Acknowledge/Runbook/Open link buttons, footer), and no link unfurling (an incident
/// page's preview would repeat the message).
pub fn slack_api_payload(channel: &str, message: &Message, interactive: bool) -> Value {
    let links = if interactive {
        Links::Actions
    } else {
        Links::Buttons
    };
    json!({
        "channel": channel,
        "text": fallback_text(message),
        "blocks": blocks(message, links),
        "unfurl_links": false,
        "unfurl_media": false,
    })
}

/// Posts `message` to `channel` with the bot `token`.
pub(crate) fn send(
    http: &Http,
    config: &SlackApiConfig,
    channel: &str,
    token: &str,
    message: &Message,
) -> Result<Delivered, DeliveryError> {
    let (channel, token) = (channel.trim(), token.trim());
    if channel.is_empty() {
        return Err(DeliveryError::Permanent(
            "Slack channel is empty: set a channel id (C0123ABC) or name".to_owned(),
        ));
    }
    if token.is_empty() || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(DeliveryError::Permanent(
            "Slack bot token is empty or malformed".to_owned(),
        ));
    }
    let body = slack_api_payload(channel, message, config.interactive);
    let answer = call(
        http,
        &config.api_url,
        "chat.postMessage",
        token,
        Body::Json(&body),
    )?;
    answered(answer.status, &answer.body).map_err(|e| crate::redacted(e, &[token]))
}

/// A Web API call's body: JSON (what Slack's write methods take), or a form (what its
/// read methods take).
pub(crate) enum Body<'a> {
    /// `application/json; charset=utf-8`.
    Json(&'a Value),
    /// `application/x-www-form-urlencoded`.
    Form(&'a [(&'a str, String)]),
}

/// One call of Slack's Web API `method` at `api_url` with the bot `token`: its answer,
/// errors with the token removed.
pub(crate) fn call(
    http: &Http,
    api_url: &str,
    method: &str,
    token: &str,
    body: Body<'_>,
) -> Result<crate::http::Answer, DeliveryError> {
    let (content_type, bytes) = match body {
        // Slack asks for the charset on JSON bodies and warns without it.
        Body::Json(value) => ("application/json; charset=utf-8", value.to_string()),
        Body::Form(pairs) => (
            "application/x-www-form-urlencoded",
            crate::http::form_body(pairs),
        ),
    };
    http.send(&Post {
        channel: "slack api",
        method: Method::Post,
        url: &format!("{}/{method}", api_url.trim_end_matches('/')),
        content_type,
        headers: &[("Authorization", format!("Bearer {}", token.trim()))],
        basic_auth: None,
        body: bytes.into_bytes(),
        error_text,
    })
    .map_err(|e| crate::redacted(e, &[token]))
}

/// Replaces the message `reference` (`channel/ts`, as [`Delivered::reference`] gave
/// it) with `message`: `chat.update`, so the channel shows the incident as it is now.
pub(crate) fn update(
    http: &Http,
    config: &SlackApiConfig,
    reference: &str,
    token: &str,
    message: &Message,
) -> Result<Delivered, DeliveryError> {
    let Some((channel, ts)) = reference.split_once('/') else {
        return Err(DeliveryError::Permanent(format!(
            "not a Slack message reference: {reference}"
        )));
    };
    let mut body = slack_api_payload(channel, message, config.interactive);
    body["ts"] = json!(ts);
    let answer = call(
        http,
        &config.api_url,
        "chat.update",
        token,
        Body::Json(&body),
    )?;
    answered(answer.status, &answer.body).map_err(|e| crate::redacted(e, &[token]))
}

/// Opens an incident's own channel: `conversations.create` with `name` (without `#`),
/// then `conversations.invite` of `invite` (member ids). The channel's id, or `None`
/// when it already existed (`name_taken`: an earlier attempt made it, and posts can
/// name it). Failing to invite is logged, not fatal: the channel is there, and people
/// can join it.
pub(crate) fn open_channel(
    http: &Http,
    config: &SlackApiConfig,
    name: &str,
    token: &str,
    invite: &[String],
) -> Result<Option<String>, DeliveryError> {
    let name = name.trim().trim_start_matches('#');
    if name.is_empty() || token.trim().is_empty() {
        return Err(DeliveryError::Permanent(
            "an incident channel needs a name and [slack] bot_token".to_owned(),
        ));
    }
    let body = json!({ "name": name, "is_private": false });
    let created = call(
        http,
        &config.api_url,
        "conversations.create",
        token,
        Body::Json(&body),
    )?;
    let value: Value = serde_json::from_str(&created.body).unwrap_or(Value::Null);
    let id = match (value["ok"].as_bool(), value["error"].as_str()) {
        (Some(true), _) => value["channel"]["id"].as_str().map(str::to_owned),
        (_, Some("name_taken")) => return Ok(None),
        _ => {
            return answered(created.status, &created.body)
                .map(|_| None)
                .map_err(|e| crate::redacted(e, &[token]))
        }
    };
    if let Some(id) = &id {
        invite_members(http, config, id, token, invite);
    }
    Ok(id)
}

/// Invites `members` into channel `id` (`conversations.invite`). Best effort: someone
/// who cannot be invited can still join, so failures are logged, not returned, and
/// members already there (`already_in_channel`) are no failure at all.
pub(crate) fn invite_members(
    http: &Http,
    config: &SlackApiConfig,
    id: &str,
    token: &str,
    members: &[String],
) {
    if members.is_empty() {
        return;
    }
    let body = json!({ "channel": id, "users": members.join(",") });
    let invited = call(
        http,
        &config.api_url,
        "conversations.invite",
        token,
        Body::Json(&body),
    )
    .and_then(|a| {
        if a.body.contains("\"already_in_channel\"") {
            return Ok(());
        }
        answered(a.status, &a.body).map(|_| ())
    });
    if let Err(e) = invited {
        let e = crate::redacted(e, &[token]);
        tracing::warn!(error = %e, "could not invite responders to the incident channel");
    }
}

/// Slack's error answer, `{"ok":false,"error":"ratelimited"}`, as its code.
fn error_text(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    value["error"].as_str().map(str::to_owned)
}

/// Reads a 2xx answer: `ok:true` is delivered (with the channel and message `ts`),
/// `ok:false` is classified by its `error`, and an answer that is not Slack's JSON is
/// permanent (the API URL points elsewhere).
pub(crate) fn answered(status: u16, body: &str) -> Result<Delivered, DeliveryError> {
    let Ok(value) = serde_json::from_str::<Value>(body) else {
        return Err(DeliveryError::Permanent(format!(
            "slack api: HTTP {status} without Slack's JSON answer (is [slack] api_url right?)"
        )));
    };
    if value["ok"].as_bool() == Some(true) {
        let mut detail = format!("HTTP {status}");
        if let Some(ts) = value["ts"].as_str() {
            detail.push_str(&format!(", message {ts}"));
        }
        if let Some(channel) = value["channel"].as_str() {
            detail.push_str(&format!(" in {channel}"));
        }
        let reference = match (value["channel"].as_str(), value["ts"].as_str()) {
            (Some(channel), Some(ts)) => Some(format!("{channel}/{ts}")),
            _ => None,
        };
        return Ok(Delivered { detail, reference });
    }
    let code = value["error"].as_str().unwrap_or("no error code");
    let detail = format!("slack api: HTTP {status}: {}", describe(code));
    if TRANSIENT_ERRORS.contains(&code) {
        Err(DeliveryError::Transient(detail))
    } else {
        Err(DeliveryError::Permanent(detail))
    }
}

/// Slack's error code, with what to do for the ones an admin meets when setting up.
fn describe(code: &str) -> String {
    let hint = match code {
        "channel_not_found" => "no such channel for this token (use the channel id, C…)",
        "not_in_channel" => "invite the app to the channel (/invite @app)",
        "is_archived" => "the channel is archived",
        "invalid_auth" | "not_authed" | "token_revoked" | "token_expired" => {
            "the bot token is wrong or revoked"
        }
        "account_inactive" => "the app or its user was deactivated",
        "missing_scope" => {
            "the app needs the chat:write scope (and channels:manage for incident channels)"
        }
        "msg_too_long" => "the message is too long",
        _ => "",
    };
    let code: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect();
    if hint.is_empty() {
        code
    } else {
        format!("{code} ({hint})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Item;

    fn page() -> Message {
        Message {
            key: "INC-12/c0:page:SEV1/ops/slack/0.0".into(),
            headline: "Paged: [SEV1] Checkout 5xx".into(),
            items: vec![Item {
                incident: "INC-12".into(),
                title: "Checkout <!here> & friends".into(),
                severity: "SEV1".into(),
                service: "checkout".into(),
                status: "triggered".into(),
                reason: Some("declared SEV1".into()),
                incident_url: Some("https://f.example/ui/incidents/INC-12".into()),
                runbook_url: Some("https://wiki.example/run?a=1&b=2".into()),
                ack_url: Some("https://f.example/ack/abc".into()),
            }],
            urgent: true,
            ..Message::default()
        }
    }

    #[test]
    fn the_body_has_channel_text_blocks_and_buttons() {
        let body = slack_api_payload("C0123ABC", &page(), false);
        assert_eq!(body["channel"], "C0123ABC");
        assert_eq!(body["unfurl_links"], false);
        let blocks = body["blocks"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        assert_eq!(blocks[0]["type"], "header");
        let text = blocks[1]["text"]["text"].as_str().unwrap_or_default();
        assert!(text.contains("&lt;!here&gt; &amp; friends"), "{text}");
        assert!(
            !text.contains("<https://"),
            "links are buttons here: {text}"
        );
        assert_eq!(blocks[2]["type"], "actions");
        let buttons = blocks[2]["elements"].as_array().map(Vec::len);
        assert_eq!(buttons, Some(3));
        assert_eq!(blocks[2]["elements"][0]["text"]["text"], "Acknowledge");
        assert_eq!(blocks[2]["elements"][0]["url"], "https://f.example/ack/abc");
        assert_eq!(blocks[2]["elements"][0]["style"], "primary");
        assert_eq!(
            blocks[2]["elements"][1]["url"],
            "https://wiki.example/run?a=1&b=2"
        );
        assert_eq!(blocks[2]["elements"][2]["action_id"], "open-0");
        assert!(body["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("Paged: [SEV1] Checkout 5xx")));
    }

    #[test]
    fn an_interactive_app_gets_buttons_that_act_and_links_that_open() {
        let body = slack_api_payload("C0123ABC", &page(), true);
        let buttons = &body["blocks"][2]["elements"];
        let labels: Vec<&str> = buttons
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|b| b["text"]["text"].as_str())
            .collect();
        assert_eq!(
            labels,
            [
                "Acknowledge",
                "Resolve",
                "Escalate",
                "Add note",
                "Runbook",
                "Open"
            ]
        );
        for (i, action) in [
            crate::SLACK_ACKNOWLEDGE,
            crate::SLACK_RESOLVE,
            crate::SLACK_ESCALATE,
        ]
        .into_iter()
        .enumerate()
        {
            assert_eq!(buttons[i]["action_id"], action);
            assert_eq!(buttons[i]["value"], "INC-12");
            assert!(buttons[i].get("url").is_none(), "{}", buttons[i]);
        }
        assert_eq!(buttons[3]["action_id"], crate::SLACK_NOTE);
        assert_eq!(buttons[5]["url"], "https://f.example/ui/incidents/INC-12");
        // Acknowledged already: nothing to acknowledge.
        let mut acked = page();
        acked.items[0].ack_url = None;
        let body = slack_api_payload("C0123ABC", &acked, true);
        assert_eq!(body["blocks"][2]["elements"][0]["text"]["text"], "Resolve");
    }

    #[test]
    fn a_burst_with_buttons_stays_within_fifty_blocks() {
        let mut message = page();
        message.items = vec![page().items[0].clone(); 60];
        let body = slack_api_payload("C1", &message, false);
        let blocks = body["blocks"].as_array().map(Vec::len).unwrap_or(0);
        assert!(blocks <= 50, "{blocks}");
        assert!(body.to_string().contains("…and 38 more"));
        let ids: Vec<String> = body["blocks"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
            .filter_map(|e| e["action_id"].as_str().map(str::to_owned))
            .collect();
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(ids.len(), unique.len(), "action_id repeats");
    }

    #[test]
    fn ok_false_is_classified_by_its_code() {
        let check = |body: &str| answered(200, body);
        assert!(check(r#"{"ok":true,"channel":"C1","ts":"1.2"}"#).is_ok());
        for permanent in [
            "invalid_auth",
            "not_authed",
            "channel_not_found",
            "not_in_channel",
            "account_inactive",
            "token_revoked",
            "is_archived",
            "msg_too_long",
            "something_new",
        ] {
            let result = check(&format!(r#"{{"ok":false,"error":"{permanent}"}}"#));
            assert!(
                matches!(&result, Err(DeliveryError::Permanent(d)) if d.contains(permanent)),
                "{permanent}: {result:?}"
            );
        }
        for transient in ["ratelimited", "internal_error", "service_unavailable"] {
            let result = check(&format!(r#"{{"ok":false,"error":"{transient}"}}"#));
            assert!(
                matches!(result, Err(DeliveryError::Transient(_))),
                "{transient}"
            );
        }
        assert!(matches!(
            check("<html>proxy</html>"),
            Err(DeliveryError::Permanent(_))
        ));
    }
}
