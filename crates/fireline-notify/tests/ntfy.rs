//! ntfy deliveries against a local stand-in that checks each publish against
//! <https://docs.ntfy.sh/publish/>: a POST to the topic's URL, the message as the body
//! (at most 4,096 bytes), and the documented headers in their documented formats. ntfy
//! topic URLs come from the roster, so loopback is allowed explicitly here, and refused
//! by default (last test).

mod stand_in;

use std::time::Duration;

use base64::Engine as _;
use fireline_notify::{Allow, Category, DeliveryError, Destination, Item, Message, Notifier};
use stand_in::{closed_port, fixture, Reply, Request, StandIn};

const TOPIC: &str = "/alice-pages-7f3kq9";
const TOKEN: &str = "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2";

fn now() -> jiff::Timestamp {
    "2026-03-02T14:00:00Z".parse().expect("timestamp")
}

fn notifier(timeout: Duration) -> Notifier {
    Notifier::new(None, timeout)
        .expect("notifier")
        .with_outbound(Allow::nothing().with(Category::Loopback))
}

fn page() -> Message {
    Message {
        key: "INC-12/c0:page:SEV1/alice/ntfy/0.0".into(),
        headline: "Paged: [SEV1] Checkout 5xx".into(),
        items: vec![Item {
            incident: "INC-12".into(),
            title: "Checkout returns 5xx".into(),
            severity: "SEV1".into(),
            service: "checkout-api".into(),
            status: "triggered".into(),
            reason: Some("declared SEV1".into()),
            incident_url: Some("https://fireline.example/ui/incidents/INC-12".into()),
            runbook_url: None,
            ack_url: Some(
                "https://fireline.example/ack/12.alice.1772460000.1772546400.c2ln".into(),
            ),
        }],
        text: None,
        urgent: true,
        confirm_url: None,
        unsubscribe_url: None,
    }
}

fn topic(stand_in: &StandIn, token: Option<&str>) -> Destination {
    Destination::Ntfy {
        url: stand_in.url(TOPIC),
        token: token.map(str::to_owned),
    }
}

/// Splits ntfy's action header into actions and their `key=value` (or positional)
/// parts, honouring quotes, as the docs' "Using a header" describes.
fn parse_actions(header: &str) -> Vec<Vec<(String, String)>> {
    let mut actions = Vec::new();
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let finish_part = |current: &mut String, parts: &mut Vec<String>| {
        parts.push(current.trim().to_owned());
        current.clear();
    };
    for c in header.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => current.push(c),
            (None, '"' | '\'') if current.trim().is_empty() || current.ends_with('=') => {
                quote = Some(c)
            }
            (None, ',') => finish_part(&mut current, &mut parts),
            (None, ';') => {
                finish_part(&mut current, &mut parts);
                actions.push(std::mem::take(&mut parts));
            }
            (None, c) => current.push(c),
        }
    }
    finish_part(&mut current, &mut parts);
    actions.push(parts);
    // Positional parts (action, label, url) get their names.
    actions
        .into_iter()
        .map(|parts| {
            parts
                .into_iter()
                .enumerate()
                .map(|(i, part)| match part.split_once('=') {
                    Some((k, v)) if !k.contains(['/', ':']) => (k.to_owned(), v.to_owned()),
                    _ => (["action", "label", "url"][i.min(2)].to_owned(), part),
                })
                .collect()
        })
        .collect()
}

/// RFC 2047 base64 encoded words decoded; plain ASCII as it is.
fn decode_header(value: &str) -> String {
    if !value.starts_with("=?") {
        return value.to_owned();
    }
    let mut bytes = Vec::new();
    for word in value.split(' ') {
        assert!(
            word.len() <= 75,
            "an encoded word is at most 75 characters: {word}"
        );
        let inner = word
            .strip_prefix("=?UTF-8?B?")
            .and_then(|w| w.strip_suffix("?="))
            .unwrap_or_else(|| panic!("not an RFC 2047 base64 word: {word}"));
        bytes.extend(
            base64::engine::general_purpose::STANDARD
                .decode(inner)
                .expect("base64"),
        );
    }
    String::from_utf8(bytes).expect("utf-8")
}

/// Everything <https://docs.ntfy.sh/publish/> asks of a publish by header.
fn check(request: &Request) -> Vec<String> {
    let mut faults = Vec::new();
    if !matches!(request.method.as_str(), "POST" | "PUT") {
        faults.push(format!("publishing is PUT or POST, not {}", request.method));
    }
    if request.path != TOPIC {
        faults.push(format!(
            "published to {} instead of the topic",
            request.path
        ));
    }
    if let Some(ct) = request.header("content-type") {
        if !ct.starts_with("text/plain") {
            faults.push(format!(
                "Content-Type {ct}: text/markdown would switch on Markdown"
            ));
        }
    }
    if request.body.is_empty() || request.body.len() > 4096 {
        faults.push(format!("body of {} bytes (1 to 4,096)", request.body.len()));
    }
    for (name, value) in &request.headers {
        if !value.is_ascii() {
            faults.push(format!("{name} is not ASCII: RFC 2047 encode it"));
        }
    }
    match request.header("priority") {
        Some(
            "1" | "2" | "3" | "4" | "5" | "min" | "low" | "default" | "high" | "max" | "urgent",
        ) => {}
        other => faults.push(format!(
            "Priority {other:?} is not one of ntfy's priorities"
        )),
    }
    if let Some(tags) = request.header("tags") {
        if decode_header(tags).split(',').any(|t| t.trim().is_empty()) {
            faults.push(format!("Tags {tags:?} has an empty tag"));
        }
    }
    if let Some(click) = request.header("click") {
        if !click.starts_with("https://") && !click.starts_with("http://") {
            faults.push(format!("Click {click:?} is not a URL"));
        }
    }
    if let Some(header) = request.header("actions") {
        let actions = parse_actions(&decode_header(header));
        if actions.len() > 3 {
            faults.push("more than three actions".to_owned());
        }
        for action in actions {
            let get = |key: &str| {
                action
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v.as_str())
            };
            match get("action") {
                Some("view" | "http") => {
                    if !get("url").is_some_and(|u| u.starts_with("http")) {
                        faults.push(format!("action without a URL: {action:?}"));
                    }
                }
                Some("broadcast") => {}
                other => faults.push(format!("unknown action {other:?}")),
            }
            if get("label").is_none_or(str::is_empty) {
                faults.push(format!("action without a label: {action:?}"));
            }
            if !matches!(
                get("method"),
                None | Some("GET" | "POST" | "PUT" | "DELETE")
            ) {
                faults.push(format!("bad method in {action:?}"));
            }
            if !matches!(get("clear"), None | Some("true" | "false")) {
                faults.push(format!("clear is true or false: {action:?}"));
            }
        }
    }
    if let Some(auth) = request.header("authorization") {
        if !auth.starts_with("Bearer ") && !auth.starts_with("Basic ") {
            faults.push("Authorization is Bearer (access token) or Basic".to_owned());
        }
    }
    faults
}

fn published() -> Reply {
    Reply::json(200, fixture("ntfy-published.jsonc"))
}

#[test]
fn an_ntfy_page_rings_urgently_with_acknowledge_and_open_buttons() {
    let stand_in = StandIn::start(check, published());
    let delivered = notifier(Duration::from_secs(5))
        .send(&topic(&stand_in, Some(TOKEN)), &page(), now())
        .expect("delivered");
    assert_eq!(delivered.detail, "HTTP 200, ntfy message hwQ2YpKdmg");

    let request = stand_in.only_request();
    assert_eq!(request.header("title"), Some("Paged: [SEV1] Checkout 5xx"));
    assert_eq!(request.header("priority"), Some("5"));
    assert_eq!(request.header("tags"), Some("rotating_light,SEV1"));
    assert_eq!(
        request.header("click"),
        Some("https://fireline.example/ui/incidents/INC-12")
    );
    assert_eq!(
        request.header("authorization"),
        Some(&*format!("Bearer {TOKEN}"))
    );
    assert_eq!(
        request.header("x-fireline-key"),
        Some("INC-12/c0:page:SEV1/alice/ntfy/0.0")
    );
    let actions = parse_actions(request.header("actions").expect("actions"));
    let pairs = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    assert_eq!(
        actions,
        vec![
            pairs(&[
                ("action", "http"),
                ("label", "Acknowledge"),
                (
                    "url",
                    "https://fireline.example/ack/12.alice.1772460000.1772546400.c2ln"
                ),
                ("method", "POST"),
                ("clear", "true"),
            ]),
            pairs(&[
                ("action", "view"),
                ("label", "Open"),
                ("url", "https://fireline.example/ui/incidents/INC-12"),
            ]),
        ]
    );
    let body = request.body_text();
    assert!(
        body.starts_with("INC-12 [SEV1] Checkout returns 5xx\n"),
        "{body}"
    );
    assert!(body.contains("checkout-api · triggered"), "{body}");
    assert!(body.contains("declared SEV1"), "{body}");
}

#[test]
fn an_ntfy_notice_rings_at_default_priority_without_buttons() {
    let stand_in = StandIn::start(check, published());
    let notice = Message {
        key: "handoff-1".into(),
        headline: "Hand-off: you are now on call for SRE primary".into(),
        items: vec![],
        text: Some("DB failover planned at 14:00".into()),
        urgent: false,
        confirm_url: None,
        unsubscribe_url: None,
    };
    notifier(Duration::from_secs(5))
        .send(&topic(&stand_in, None), &notice, now())
        .expect("delivered");
    let request = stand_in.only_request();
    assert_eq!(request.header("priority"), Some("3"));
    assert_eq!(request.header("tags"), Some("bell"));
    for absent in ["click", "actions", "authorization"] {
        assert_eq!(request.header(absent), None, "{absent}");
    }
    assert_eq!(request.body_text(), "DB failover planned at 14:00");
}

#[test]
fn a_non_ascii_title_is_sent_rfc_2047_encoded() {
    let stand_in = StandIn::start(check, published());
    let mut message = page();
    message.headline =
        "Alerte : paiement refusé — 🇩🇪 Zahlungen schlagen fehl, bitte sofort prüfen".into();
    message.items[0].severity = "Sévère".into();
    notifier(Duration::from_secs(5))
        .send(&topic(&stand_in, None), &message, now())
        .expect("delivered");
    let request = stand_in.only_request();
    let title = request.header("title").expect("title");
    assert!(title.starts_with("=?UTF-8?B?"), "{title}");
    assert_eq!(decode_header(title), message.headline);
    assert_eq!(
        decode_header(request.header("tags").expect("tags")),
        "rotating_light,Sévère"
    );
}

#[test]
fn ntfy_refusing_the_token_is_permanent_and_quotes_ntfy_not_the_secrets() {
    let stand_in = StandIn::start(check, Reply::json(401, fixture("ntfy-unauthorized.jsonc")));
    let error = notifier(Duration::from_secs(5))
        .send(&topic(&stand_in, Some(TOKEN)), &page(), now())
        .expect_err("refused");
    assert!(matches!(error, DeliveryError::Permanent(_)), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains(&format!(
            "ntfy to {}: HTTP 401: unauthorized (ntfy error 40101",
            stand_in.addr
        )),
        "{text}"
    );
    for secret in [TOKEN, "alice-pages", "7f3kq9"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let shown = format!("{:?}", topic(&stand_in, Some(TOKEN)));
    assert!(
        !shown.contains("alice-pages") && !shown.contains(TOKEN),
        "{shown}"
    );
}

#[test]
fn ntfy_server_errors_rate_limits_and_timeouts_are_transient() {
    for status in [500, 502, 429, 408] {
        let stand_in = StandIn::start(
            check,
            Reply::json(
                status,
                r#"{"code":42901,"http":429,"error":"limit reached"}"#.into(),
            ),
        );
        let error = notifier(Duration::from_secs(5))
            .send(&topic(&stand_in, None), &page(), now())
            .expect_err("failed");
        assert!(error.is_transient(), "{status}: {error:?}");
    }
    let slow = StandIn::start(
        check,
        Reply {
            delay: Some(Duration::from_secs(3)),
            ..published()
        },
    );
    let started = std::time::Instant::now();
    let error = notifier(Duration::from_millis(300))
        .send(&topic(&slow, None), &page(), now())
        .expect_err("timed out");
    assert!(matches!(error, DeliveryError::Transient(_)), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    let closed = Destination::Ntfy {
        url: format!("http://{}{TOPIC}", closed_port()),
        token: None,
    };
    let error = notifier(Duration::from_secs(5))
        .send(&closed, &page(), now())
        .expect_err("refused");
    assert!(error.is_transient(), "{error:?}");
}

#[test]
fn an_empty_ntfy_token_is_refused_before_sending() {
    let stand_in = StandIn::start(check, published());
    let error = notifier(Duration::from_secs(5))
        .send(&topic(&stand_in, Some(" ")), &page(), now())
        .expect_err("refused");
    assert!(matches!(error, DeliveryError::Permanent(_)), "{error:?}");
    assert!(stand_in.requests().is_empty());
}

#[test]
fn an_ntfy_topic_on_loopback_is_refused_by_default() {
    let stand_in = StandIn::start(check, published());
    let error = Notifier::new(None, Duration::from_secs(5))
        .expect("notifier")
        .send(&topic(&stand_in, Some(TOKEN)), &page(), now())
        .expect_err("refused");
    assert!(matches!(error, DeliveryError::Permanent(_)), "{error:?}");
    let text = error.to_string();
    assert!(text.contains("loopback"), "{text}");
    assert!(!text.contains("alice-pages"), "{text}");
    assert!(stand_in.requests().is_empty(), "nothing was sent");
}
