//! The chat destinations against local stand-ins that check each request against the
//! provider's documented shape (method, path, headers, required JSON fields and limits)
//! and answer as the provider documents it, errors included: Slack's `chat.postMessage`
//! (`ok:false` on HTTP 200, 429 `ratelimited`), Mattermost and Rocket.Chat incoming
//! webhooks, a Teams Workflows trigger (202), a Discord webhook (204, 429 with
//! `retry_after`) and a Matrix homeserver (`PUT …/send/m.room.message/{txnId}`,
//! `M_UNKNOWN_TOKEN`, `M_FORBIDDEN`, `M_LIMIT_EXCEEDED`). Webhook URLs and homeservers
//! come from the roster, so loopback is allowed explicitly here and refused by default;
//! the Slack API URL is the admin's and needs no allowance.

mod stand_in;

use std::time::Duration;

use fireline_notify::{
    Allow, Category, DeliveryError, Destination, Item, Message, Notifier, Providers, SlackApiConfig,
};
use serde_json::Value;
use stand_in::{fixture, Reply, Request, StandIn};

const SLACK_TOKEN: &str = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy";
const MATRIX_TOKEN: &str = "syt_ZmlyZWxpbmU_WmRqYXBxdWlyZWQ_1a2b3c";
const ROOM: &str = "!VFRvyndKpzcLrVslQD:example.org";

fn now() -> jiff::Timestamp {
    "2026-03-02T14:00:00Z".parse().expect("timestamp")
}

/// Loopback allowed for the roster's URLs; the Slack API at `slack_api`.
fn notifier(slack_api: Option<String>) -> Notifier {
    Notifier::new(None, Duration::from_secs(5))
        .expect("notifier")
        .with_outbound(Allow::nothing().with(Category::Loopback))
        .with_providers(Providers {
            slack: slack_api.map(|api_url| SlackApiConfig {
                api_url,
                interactive: false,
            }),
            ..Providers::default()
        })
        .expect("providers")
}

fn send(to: &Destination, message: &Message) -> Result<String, DeliveryError> {
    notifier(None).send(to, message, now()).map(|d| d.detail)
}

fn item(n: u32) -> Item {
    Item {
        incident: format!("INC-{n}"),
        title: "Checkout returns 5xx [ack](https://evil.example) @everyone <!channel>".into(),
        severity: "SEV1".into(),
        service: "checkout-api".into(),
        status: "triggered".into(),
        reason: Some("declared SEV1".into()),
        incident_url: Some(format!("https://fireline.example/ui/incidents/INC-{n}")),
        runbook_url: Some("https://wiki.example/runbooks/checkout?step=1&x=2".into()),
        ack_url: Some(format!(
            "https://fireline.example/ack/{n}.alice.1772460000.c2ln"
        )),
    }
}

fn page() -> Message {
    Message {
        key: "INC-12/c0:page:SEV1/ops/chat/0.0".into(),
        headline: "Paged: [SEV1] Checkout 5xx".into(),
        items: vec![item(12)],
        text: Some("Hand-off note: DB failover at 14:00".into()),
        urgent: true,
        confirm_url: None,
        unsubscribe_url: None,
    }
}

/// A bundle big enough to need every limit.
fn burst() -> Message {
    let mut message = page();
    message.items = (1..=60)
        .map(|n| Item {
            title: "t".repeat(3000),
            reason: Some("r".repeat(5000)),
            ..item(n)
        })
        .collect();
    message.text = Some("x".repeat(50_000));
    message
}

fn json(request: &Request) -> Result<Value, String> {
    serde_json::from_slice(&request.body).map_err(|e| format!("body is not JSON: {e}"))
}

fn chars(value: &Value) -> usize {
    value.as_str().map(|s| s.chars().count()).unwrap_or(0)
}

fn list(value: &Value) -> Vec<Value> {
    value.as_array().cloned().unwrap_or_default()
}

/// Faults common to the JSON POSTs: method and media type.
fn post_json(request: &Request, faults: &mut Vec<String>) -> Option<Value> {
    if request.method != "POST" {
        faults.push(format!("method {} (POST expected)", request.method));
    }
    let content_type = request.header("content-type").unwrap_or_default();
    if !content_type.starts_with("application/json") {
        faults.push(format!("Content-Type {content_type:?}"));
    }
    match json(request) {
        Ok(value) => Some(value),
        Err(e) => {
            faults.push(e);
            None
        }
    }
}

// ---- Slack Web API -------------------------------------------------------------------

/// chat.postMessage: a POST to `/api/chat.postMessage` with the bot token as a bearer,
/// `application/json; charset=utf-8`, `channel`, and `text` or `blocks` within Block
/// Kit's limits (50 blocks, header 150, section 3,000, buttons with http(s) URLs of at
/// most 3,000 characters and unique `action_id`s).
fn slack_check(request: &Request) -> Vec<String> {
    let mut faults = Vec::new();
    if request.path != "/api/chat.postMessage" {
        faults.push(format!("path {}", request.path));
    }
    if request.header("authorization") != Some(&format!("Bearer {SLACK_TOKEN}")) {
        faults.push("no Authorization: Bearer <bot token>".to_owned());
    }
    if request.header("content-type") != Some("application/json; charset=utf-8") {
        faults.push("Content-Type is not application/json; charset=utf-8".to_owned());
    }
    let Some(body) = post_json(request, &mut faults) else {
        return faults;
    };
    if body["channel"] != "C0123ABC" {
        faults.push(format!("channel {}", body["channel"]));
    }
    if chars(&body["text"]) == 0 && body["blocks"].as_array().is_none() {
        faults.push("neither text nor blocks".to_owned());
    }
    let blocks = list(&body["blocks"]);
    if blocks.len() > 50 {
        faults.push(format!("{} blocks", blocks.len()));
    }
    let mut ids = Vec::new();
    for block in &blocks {
        match block["type"].as_str() {
            Some("header") if chars(&block["text"]["text"]) > 150 => {
                faults.push("header over 150".to_owned())
            }
            Some("section") if chars(&block["text"]["text"]) > 3000 => {
                faults.push("section over 3000".to_owned())
            }
            Some("actions") => {
                for button in list(&block["elements"]) {
                    let url = button["url"].as_str().unwrap_or_default();
                    if !url.starts_with("https://") || url.chars().count() > 3000 {
                        faults.push(format!("button url {url:?}"));
                    }
                    ids.push(button["action_id"].to_string());
                }
            }
            _ => {}
        }
    }
    let count = ids.len();
    ids.sort();
    ids.dedup();
    if ids.len() != count {
        faults.push("action_id repeats".to_owned());
    }
    faults
}

fn slack_bot() -> Destination {
    Destination::SlackBot {
        channel: "C0123ABC".into(),
        token: SLACK_TOKEN.into(),
    }
}

fn slack_send(reply: Reply, message: &Message) -> (StandIn, Result<String, DeliveryError>) {
    let stand_in = StandIn::start(slack_check, reply);
    // Not through `notifier`: the admin's API URL needs no [outbound] allowance.
    let result = Notifier::new(None, Duration::from_secs(5))
        .expect("notifier")
        .with_providers(Providers {
            slack: Some(SlackApiConfig {
                api_url: stand_in.url("/api/"),
                interactive: false,
            }),
            ..Providers::default()
        })
        .expect("providers")
        .send(&slack_bot(), message, now())
        .map(|d| d.detail);
    (stand_in, result)
}

#[test]
fn slack_bot_posts_blocks_with_buttons_and_reads_the_ts() {
    let reply = Reply::json(200, fixture("slack-post-message-ok.jsonc"));
    let (stand_in, result) = slack_send(reply, &page());
    assert_eq!(
        result.as_deref(),
        Ok("HTTP 200, message 1503435956.000247 in C123ABC456")
    );
    let body = json(&stand_in.only_request()).expect("json");
    let text = body.to_string();
    assert!(text.contains("&lt;!channel&gt;"), "mrkdwn escaped: {text}");
    assert!(!text.contains("<!channel>"), "{text}");
    let buttons: Vec<Value> = list(&body["blocks"])
        .into_iter()
        .flat_map(|b| list(&b["elements"]))
        .filter(|e| e["type"] == "button")
        .collect();
    assert_eq!(buttons.len(), 3, "{text}");
    assert_eq!(
        buttons[0]["url"],
        "https://fireline.example/ack/12.alice.1772460000.c2ln"
    );
}

#[test]
fn slack_bot_bursts_stay_within_block_kit() {
    let reply = Reply::json(200, fixture("slack-post-message-ok.jsonc"));
    let (_, result) = slack_send(reply, &burst());
    assert!(result.is_ok(), "{result:?}");
}

#[test]
fn slack_ok_false_on_http_200_is_permanent() {
    let reply = Reply::json(200, fixture("slack-channel-not-found.jsonc"));
    let (_, result) = slack_send(reply, &page());
    let Err(DeliveryError::Permanent(detail)) = result else {
        panic!("{result:?}");
    };
    assert!(detail.contains("channel_not_found"), "{detail}");
    assert!(!detail.contains(SLACK_TOKEN), "{detail}");
}

#[test]
fn slack_rate_limits_and_outages_are_transient() {
    let reply =
        Reply::json(429, fixture("slack-ratelimited.jsonc")).with_header("Retry-After", "30");
    let (_, result) = slack_send(reply, &page());
    let Err(DeliveryError::Transient(detail)) = result else {
        panic!("{result:?}");
    };
    assert!(detail.contains("HTTP 429: ratelimited"), "{detail}");
    let reply = Reply::json(200, r#"{"ok":false,"error":"ratelimited"}"#.to_owned());
    let (_, result) = slack_send(reply, &page());
    assert!(
        matches!(result, Err(DeliveryError::Transient(_))),
        "{result:?}"
    );
    let (_, result) = slack_send(Reply::text(503, "upstream down"), &page());
    assert!(
        matches!(result, Err(DeliveryError::Transient(_))),
        "{result:?}"
    );
}

#[test]
fn slack_never_quotes_the_token() {
    // A proxy in front of the API that echoes the request it refused.
    let echo = format!("denied: Authorization: Bearer {SLACK_TOKEN}");
    let (_, result) = slack_send(Reply::text(403, &echo), &page());
    let Err(DeliveryError::Permanent(detail)) = result else {
        panic!("{result:?}");
    };
    assert!(detail.contains("HTTP 403"), "{detail}");
    assert!(!detail.contains("pdFZKVeTuE8sk7oOcBrzbqgy"), "{detail}");
}

#[test]
fn slack_without_a_token_sends_nothing() {
    let stand_in = StandIn::start(slack_check, Reply::empty(200));
    let result = notifier(Some(stand_in.url("/api"))).send(
        &Destination::SlackBot {
            channel: "C0123ABC".into(),
            token: " ".into(),
        },
        &page(),
        now(),
    );
    assert!(
        matches!(result, Err(DeliveryError::Permanent(_))),
        "{result:?}"
    );
    assert!(stand_in.requests().is_empty());
}

// ---- Mattermost and Rocket.Chat ------------------------------------------------------

/// An incoming webhook post: a JSON POST with Markdown `text` and/or `attachments`
/// (each with a `fallback`, a `title`, short fields), never Slack `blocks`; `text`
/// within `max` characters.
fn webhook_faults(request: &Request, max: usize) -> Vec<String> {
    let mut faults = Vec::new();
    if request.path != "/hooks/xxx-generatedkey-xxx" {
        faults.push(format!("path {}", request.path));
    }
    let Some(body) = post_json(request, &mut faults) else {
        return faults;
    };
    if body.get("blocks").is_some() {
        faults.push("Slack blocks, which these servers ignore".to_owned());
    }
    if chars(&body["text"]) == 0 && body["attachments"].as_array().is_none() {
        faults.push("neither text nor attachments".to_owned());
    }
    if chars(&body["text"]) > max {
        faults.push(format!("text of {} characters", chars(&body["text"])));
    }
    for attachment in list(&body["attachments"]) {
        if chars(&attachment["fallback"]) == 0 {
            faults.push("attachment without fallback".to_owned());
        }
        for field in list(&attachment["fields"]) {
            if field["short"].as_bool().is_none() || chars(&field["title"]) == 0 {
                faults.push(format!("field {field}"));
            }
        }
    }
    faults
}

fn mattermost_check(request: &Request) -> Vec<String> {
    webhook_faults(request, 16_383)
}

fn rocketchat_check(request: &Request) -> Vec<String> {
    webhook_faults(request, 5_000)
}

#[test]
fn mattermost_gets_text_and_attachments() {
    let stand_in = StandIn::start(mattermost_check, Reply::text(200, "ok"));
    let to = Destination::Mattermost {
        url: stand_in.url("/hooks/xxx-generatedkey-xxx"),
    };
    assert_eq!(send(&to, &page()).as_deref(), Ok("HTTP 200"));
    let body = json(&stand_in.only_request()).expect("json");
    let attachment = &body["attachments"][0];
    assert_eq!(
        attachment["title_link"],
        "https://fireline.example/ui/incidents/INC-12"
    );
    let title = attachment["title"].as_str().unwrap_or_default();
    assert!(
        title.contains("\\[ack\\]\\(https://evil.example\\)"),
        "{title}"
    );
    assert!(!title.contains("@everyone"), "{title}");
    assert!(send(&to, &burst()).is_ok());
}

#[test]
fn mattermost_refusals_are_permanent_and_outages_transient() {
    let stand_in = StandIn::start(
        mattermost_check,
        Reply::json(400, fixture("mattermost-invalid-webhook.jsonc")),
    );
    let to = Destination::Mattermost {
        url: stand_in.url("/hooks/xxx-generatedkey-xxx"),
    };
    let Err(DeliveryError::Permanent(detail)) = send(&to, &page()) else {
        panic!("not permanent");
    };
    assert!(detail.contains("Invalid webhook."), "{detail}");
    assert!(!detail.contains("xxx-generatedkey-xxx"), "{detail}");
    let stand_in = StandIn::start(mattermost_check, Reply::text(502, "bad gateway"));
    let to = Destination::Mattermost {
        url: stand_in.url("/hooks/xxx-generatedkey-xxx"),
    };
    assert!(matches!(
        send(&to, &page()),
        Err(DeliveryError::Transient(_))
    ));
}

#[test]
fn rocket_chat_gets_text_and_attachments_and_its_success_is_read() {
    let stand_in = StandIn::start(
        rocketchat_check,
        Reply::json(200, fixture("rocketchat-success.jsonc")),
    );
    let to = Destination::RocketChat {
        url: stand_in.url("/hooks/xxx-generatedkey-xxx"),
    };
    assert_eq!(send(&to, &page()).as_deref(), Ok("HTTP 200"));
    assert!(send(&to, &burst()).is_ok(), "5,000-character text");
    let stand_in = StandIn::start(
        rocketchat_check,
        Reply::json(200, fixture("rocketchat-refused.jsonc")),
    );
    let to = Destination::RocketChat {
        url: stand_in.url("/hooks/xxx-generatedkey-xxx"),
    };
    let Err(DeliveryError::Permanent(detail)) = send(&to, &page()) else {
        panic!("success:false is not permanent");
    };
    assert!(detail.contains("Invalid integration"), "{detail}");
}

// ---- Microsoft Teams -----------------------------------------------------------------

/// A Workflows trigger: a JSON POST of `{"type":"message","attachments":[one Adaptive
/// Card]}`, the card `AdaptiveCard` 1.0–1.5 with a body, its buttons `Action.OpenUrl`
/// to http(s) URLs, the whole at most 28 KB.
fn teams_check(request: &Request) -> Vec<String> {
    let mut faults = Vec::new();
    if !request.path.starts_with("/workflows/") || !request.path.contains("sig=") {
        faults.push(format!("path {}", request.path));
    }
    if request.body.len() > 28 * 1024 {
        faults.push(format!("{} bytes", request.body.len()));
    }
    let Some(body) = post_json(request, &mut faults) else {
        return faults;
    };
    if body["type"] != "message" {
        faults.push("type is not message".to_owned());
    }
    let attachments = list(&body["attachments"]);
    if attachments.len() != 1 {
        faults.push(format!("{} attachments", attachments.len()));
    }
    for attachment in attachments {
        if attachment["contentType"] != "application/vnd.microsoft.card.adaptive" {
            faults.push(format!("contentType {}", attachment["contentType"]));
        }
        let card = &attachment["content"];
        if card["type"] != "AdaptiveCard" {
            faults.push("content is not an AdaptiveCard".to_owned());
        }
        let version = card["version"].as_str().unwrap_or_default();
        if !["1.0", "1.1", "1.2", "1.3", "1.4", "1.5"].contains(&version) {
            faults.push(format!("version {version:?}"));
        }
        if list(&card["body"]).is_empty() {
            faults.push("empty card body".to_owned());
        }
        let text = card.to_string();
        for (i, _) in text.match_indices("\"Action.") {
            if !text[i..].starts_with("\"Action.OpenUrl\"") {
                faults.push("an action other than Action.OpenUrl".to_owned());
            }
        }
    }
    faults
}

fn teams(stand_in: &StandIn) -> Destination {
    Destination::Teams {
        url: stand_in
            .url("/workflows/0c1f4e8a/triggers/manual/paths/invoke?api-version=1&sig=Q3ZzM2N3ZXQ"),
    }
}

#[test]
fn teams_gets_one_adaptive_card_and_answers_202() {
    let stand_in = StandIn::start(teams_check, Reply::empty(202));
    assert_eq!(send(&teams(&stand_in), &page()).as_deref(), Ok("HTTP 202"));
    let body = json(&stand_in.only_request()).expect("json");
    let text = body.to_string();
    assert!(text.contains("\"Action.OpenUrl\""), "{text}");
    assert!(text.contains("https://fireline.example/ack/12.alice.1772460000.c2ln"));
    assert!(send(&teams(&stand_in), &burst()).is_ok(), "28 KB");
}

#[test]
fn teams_throttling_is_transient_and_never_quotes_the_signature() {
    let stand_in = StandIn::start(
        teams_check,
        Reply::json(429, fixture("teams-workflow-throttled.jsonc")),
    );
    let Err(DeliveryError::Transient(detail)) = send(&teams(&stand_in), &page()) else {
        panic!("429 is not transient");
    };
    assert!(detail.contains("WorkflowRequestsThrottled"), "{detail}");
    assert!(!detail.contains("Q3ZzM2N3ZXQ"), "{detail}");
    let stand_in = StandIn::start(teams_check, Reply::text(404, "no such workflow"));
    assert!(matches!(
        send(&teams(&stand_in), &page()),
        Err(DeliveryError::Permanent(_))
    ));
}

// ---- Discord -------------------------------------------------------------------------

/// Execute Webhook: a JSON POST with `content` (≤ 2,000) or `embeds` (≤ 10; title ≤ 256,
/// description ≤ 4,096, ≤ 25 fields of ≤ 256/1,024, ≤ 6,000 in all), and
/// `allowed_mentions.parse` empty so nothing pings.
fn discord_check(request: &Request) -> Vec<String> {
    let mut faults = Vec::new();
    if request.path != "/api/webhooks/223704706495545344/3d89bb7572e0fb30d8128367b3b1b44f" {
        faults.push(format!("path {}", request.path));
    }
    let Some(body) = post_json(request, &mut faults) else {
        return faults;
    };
    if chars(&body["content"]) > 2000 {
        faults.push(format!("content of {}", chars(&body["content"])));
    }
    if body["allowed_mentions"]["parse"] != serde_json::json!([]) {
        faults.push("allowed_mentions.parse is not []".to_owned());
    }
    let embeds = list(&body["embeds"]);
    if chars(&body["content"]) == 0 && embeds.is_empty() {
        faults.push("neither content nor embeds".to_owned());
    }
    if embeds.len() > 10 {
        faults.push(format!("{} embeds", embeds.len()));
    }
    let mut total = 0;
    for embed in &embeds {
        let fields = list(&embed["fields"]);
        if chars(&embed["title"]) > 256 || chars(&embed["description"]) > 4096 {
            faults.push("embed title or description too long".to_owned());
        }
        if fields.len() > 25 {
            faults.push(format!("{} fields", fields.len()));
        }
        total += chars(&embed["title"]) + chars(&embed["description"]);
        for field in fields {
            if chars(&field["name"]) > 256 || chars(&field["value"]) > 1024 {
                faults.push("field too long".to_owned());
            }
            if chars(&field["value"]) == 0 {
                faults.push("empty field value".to_owned());
            }
            total += chars(&field["name"]) + chars(&field["value"]);
        }
    }
    if total > 6000 {
        faults.push(format!("{total} characters of embeds"));
    }
    faults
}

fn discord(stand_in: &StandIn) -> Destination {
    Destination::Discord {
        url: stand_in.url("/api/webhooks/223704706495545344/3d89bb7572e0fb30d8128367b3b1b44f"),
    }
}

#[test]
fn discord_gets_content_and_embeds_and_answers_204() {
    let stand_in = StandIn::start(discord_check, Reply::empty(204));
    assert_eq!(
        send(&discord(&stand_in), &page()).as_deref(),
        Ok("HTTP 204")
    );
    let body = json(&stand_in.only_request()).expect("json");
    assert_eq!(
        body["embeds"][0]["url"],
        "https://fireline.example/ui/incidents/INC-12"
    );
    assert!(send(&discord(&stand_in), &burst()).is_ok(), "every limit");
}

#[test]
fn discord_rate_limits_are_transient_and_say_when() {
    let stand_in = StandIn::start(
        discord_check,
        Reply::json(429, fixture("discord-rate-limited.jsonc")).with_header("Retry-After", "65"),
    );
    let Err(DeliveryError::Transient(detail)) = send(&discord(&stand_in), &page()) else {
        panic!("429 is not transient");
    };
    assert!(detail.contains("retry after 64.57 s"), "{detail}");
    assert!(
        !detail.contains("3d89bb7572e0fb30d8128367b3b1b44f"),
        "{detail}"
    );
    let stand_in = StandIn::start(
        discord_check,
        Reply::json(404, fixture("discord-unknown-webhook.jsonc")),
    );
    let Err(DeliveryError::Permanent(detail)) = send(&discord(&stand_in), &page()) else {
        panic!("404 is not permanent");
    };
    assert!(
        detail.contains("Unknown Webhook (Discord error 10015)"),
        "{detail}"
    );
}

// ---- Matrix --------------------------------------------------------------------------

/// `PUT /_matrix/client/v3/rooms/{roomId}/send/m.room.message/{txnId}` with the access
/// token as a bearer and an `m.text` content: `body`, and `formatted_body` in
/// `org.matrix.custom.html`, under the 65,536-byte event limit.
fn matrix_check(request: &Request) -> Vec<String> {
    let mut faults = Vec::new();
    if request.method != "PUT" {
        faults.push(format!("method {} (PUT expected)", request.method));
    }
    let prefix =
        "/_matrix/client/v3/rooms/%21VFRvyndKpzcLrVslQD%3Aexample.org/send/m.room.message/";
    match request.path.strip_prefix(prefix) {
        Some(txn) if !txn.is_empty() && !txn.contains('/') => {}
        _ => faults.push(format!("path {}", request.path)),
    }
    if request.header("authorization") != Some(&format!("Bearer {MATRIX_TOKEN}")) {
        faults.push("no Authorization: Bearer <access token>".to_owned());
    }
    if request.header("content-type") != Some("application/json") {
        faults.push("Content-Type is not application/json".to_owned());
    }
    if request.body.len() >= 65_536 {
        faults.push(format!("{} bytes", request.body.len()));
    }
    let body = match json(request) {
        Ok(body) => body,
        Err(e) => {
            faults.push(e);
            return faults;
        }
    };
    if body["msgtype"] != "m.text" || chars(&body["body"]) == 0 {
        faults.push("not an m.text with a body".to_owned());
    }
    if body["format"] != "org.matrix.custom.html" || chars(&body["formatted_body"]) == 0 {
        faults.push("no org.matrix.custom.html formatted_body".to_owned());
    }
    faults
}

fn matrix(stand_in: &StandIn) -> Destination {
    Destination::Matrix {
        homeserver: stand_in.url("/"),
        room: ROOM.into(),
        token: MATRIX_TOKEN.into(),
    }
}

#[test]
fn matrix_puts_the_message_and_a_retry_is_the_same_transaction() {
    let stand_in = StandIn::start(
        matrix_check,
        Reply::json(200, fixture("matrix-event-sent.jsonc")),
    );
    assert_eq!(
        send(&matrix(&stand_in), &page()).as_deref(),
        Ok("HTTP 200, event $YUwRidLecu:example.com")
    );
    assert!(send(&matrix(&stand_in), &page()).is_ok());
    let mut other = page();
    other.key.push_str("-next");
    assert!(send(&matrix(&stand_in), &other).is_ok());
    let paths: Vec<String> = stand_in.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths[0], paths[1], "a retry reuses the transaction id");
    assert_ne!(paths[0], paths[2], "another message has its own");
    let body = json(&stand_in.requests()[0]).expect("json");
    let html = body["formatted_body"].as_str().unwrap_or_default();
    assert!(html.contains("&lt;!channel&gt;"), "{html}");
    assert!(
        html.contains(
            "<a href=\"https://wiki.example/runbooks/checkout?step=1&amp;x=2\">Runbook</a>"
        ),
        "{html}"
    );
    assert!(send(&matrix(&stand_in), &burst()).is_ok(), "event size");
}

#[test]
fn matrix_token_and_room_refusals_are_permanent() {
    for (status, name, code) in [
        (401, "matrix-unknown-token.jsonc", "M_UNKNOWN_TOKEN"),
        (403, "matrix-forbidden.jsonc", "M_FORBIDDEN"),
    ] {
        let stand_in = StandIn::start(matrix_check, Reply::json(status, fixture(name)));
        let result = send(&matrix(&stand_in), &page());
        let Err(DeliveryError::Permanent(detail)) = result else {
            panic!("{code}: {result:?}");
        };
        assert!(detail.contains(code), "{detail}");
        assert!(!detail.contains(MATRIX_TOKEN), "{detail}");
    }
}

#[test]
fn matrix_rate_limits_are_transient() {
    let stand_in = StandIn::start(
        matrix_check,
        Reply::json(429, fixture("matrix-limit-exceeded.jsonc")),
    );
    let Err(DeliveryError::Transient(detail)) = send(&matrix(&stand_in), &page()) else {
        panic!("429 is not transient");
    };
    assert!(detail.contains("M_LIMIT_EXCEEDED"), "{detail}");
    assert!(detail.contains("retry after 2000 ms"), "{detail}");
}

#[test]
fn matrix_needs_a_room_id() {
    let stand_in = StandIn::start(
        matrix_check,
        Reply::json(200, fixture("matrix-event-sent.jsonc")),
    );
    let alias = Destination::Matrix {
        homeserver: stand_in.url(""),
        room: "#ops:example.org".into(),
        token: MATRIX_TOKEN.into(),
    };
    assert!(matches!(
        send(&alias, &page()),
        Err(DeliveryError::Permanent(_))
    ));
    assert!(stand_in.requests().is_empty());
}

// ---- The outbound check --------------------------------------------------------------

#[test]
fn roster_urls_and_homeservers_are_refused_on_loopback_by_default() {
    let stand_in = StandIn::start(|_| Vec::new(), Reply::empty(204));
    let strict = Notifier::new(None, Duration::from_secs(5)).expect("notifier");
    for to in [
        Destination::Mattermost {
            url: stand_in.url("/hooks/a"),
        },
        Destination::RocketChat {
            url: stand_in.url("/hooks/a/b"),
        },
        Destination::Teams {
            url: stand_in.url("/workflows/a"),
        },
        Destination::Discord {
            url: stand_in.url("/api/webhooks/1/t"),
        },
        Destination::Matrix {
            homeserver: stand_in.url(""),
            room: ROOM.into(),
            token: MATRIX_TOKEN.into(),
        },
    ] {
        let result = strict.send(&to, &page(), now());
        assert!(
            matches!(&result, Err(DeliveryError::Permanent(d)) if d.contains("loopback")),
            "{to:?}: {result:?}"
        );
    }
    assert!(stand_in.requests().is_empty(), "{:#?}", stand_in.requests());
}
