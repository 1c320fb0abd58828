//! Pushover deliveries against a local stand-in that checks each request against
//! <https://pushover.net/api>: a form POST to `/1/messages.json` with the documented
//! parameters and their limits (emergency priority needs `retry` of at least 30 seconds
//! and `expire` of at most 10,800), answered with the documented JSON.

mod stand_in;

use std::time::Duration;

use fireline_notify::{
    DeliveryError, Destination, Item, Message, Notifier, Providers, PushoverConfig,
};
use stand_in::{fixture, Reply, Request, StandIn};

/// Pushover's documentation's example application token and user key.
const APP_TOKEN: &str = "azGDORePK8gMaC0QOYAMyEEuzJnyUi";
const USER_KEY: &str = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG";
const ACK: &str = "https://fireline.example/ack/12.alice.1772460000.1772546400.c2ln";

fn now() -> jiff::Timestamp {
    "2026-03-02T14:00:00Z".parse().expect("timestamp")
}

/// A notifier whose Pushover API is the stand-in. Loopback is not allowed in
/// `[outbound]`: the API URL is the admin's, which the outbound check does not cover.
fn notifier(stand_in: &StandIn, timeout: Duration) -> Notifier {
    Notifier::new(None, timeout)
        .expect("notifier")
        .with_providers(Providers {
            pushover: Some(PushoverConfig {
                token: APP_TOKEN.into(),
                api_url: stand_in.url(""),
            }),
            twilio: None,
            slack: None,
            mattermost: None,
        })
        .expect("providers")
}

fn user() -> Destination {
    Destination::Pushover {
        user: USER_KEY.into(),
    }
}

fn item(n: u32) -> Item {
    Item {
        incident: format!("INC-{n}"),
        title: "Checkout returns 5xx".into(),
        severity: "SEV1".into(),
        service: "checkout-api".into(),
        status: "triggered".into(),
        reason: Some("declared SEV1".into()),
        incident_url: Some(format!("https://fireline.example/ui/incidents/INC-{n}")),
        runbook_url: None,
        ack_url: Some(ACK.into()),
    }
}

fn page() -> Message {
    Message {
        key: "INC-12/c0:page:SEV1/alice/pushover/0.0".into(),
        headline: "Paged: [SEV1] Checkout 5xx".into(),
        items: vec![item(12)],
        text: None,
        urgent: true,
        confirm_url: None,
        unsubscribe_url: None,
    }
}

const DOCUMENTED: [&str; 17] = [
    "token",
    "user",
    "message",
    "attachment",
    "attachment_base64",
    "attachment_type",
    "device",
    "html",
    "priority",
    "sound",
    "timestamp",
    "title",
    "ttl",
    "url",
    "url_title",
    "retry",
    "expire",
];

fn key_shaped(value: &str) -> bool {
    value.len() == 30 && value.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Everything <https://pushover.net/api> asks of a message.
fn check(request: &Request) -> Vec<String> {
    let mut faults = Vec::new();
    if request.method != "POST" || request.path != "/1/messages.json" {
        faults.push(format!(
            "{} {} is not POST /1/messages.json",
            request.method, request.path
        ));
    }
    if request.header("content-type") != Some("application/x-www-form-urlencoded") {
        faults.push(format!("Content-Type {:?}", request.header("content-type")));
    }
    for (name, _) in request.form() {
        if !DOCUMENTED.contains(&name.as_str()) && name != "callback" {
            faults.push(format!("{name} is not a Pushover parameter"));
        }
    }
    let field = |name| request.field(name);
    let length = |name| field(name).map_or(0, |v: String| v.chars().count());
    if !field("token").is_some_and(|t| key_shaped(&t)) {
        faults.push("token is 30 letters and digits".to_owned());
    }
    if !field("user").is_some_and(|u| key_shaped(&u)) {
        faults.push("user is 30 letters and digits".to_owned());
    }
    if field("message").is_none_or(|m| m.trim().is_empty()) || length("message") > 1024 {
        faults.push("message is required, at most 1,024 characters".to_owned());
    }
    for (name, max) in [("title", 250), ("url", 512), ("url_title", 100)] {
        if length(name) > max {
            faults.push(format!("{name} is at most {max} characters"));
        }
    }
    if field("url_title").is_some() && field("url").is_none() {
        faults.push("url_title without url".to_owned());
    }
    let number = |name| field(name).map(|v: String| v.parse::<i64>());
    match number("priority") {
        None | Some(Ok(-2..=1)) => {
            if field("retry").is_some() || field("expire").is_some() || field("callback").is_some()
            {
                faults.push("retry, expire and callback are for priority 2".to_owned());
            }
        }
        Some(Ok(2)) => {
            if !matches!(number("retry"), Some(Ok(30..))) {
                faults.push("priority 2 needs retry of at least 30 seconds".to_owned());
            }
            if !matches!(number("expire"), Some(Ok(1..=10_800))) {
                faults.push("priority 2 needs expire of at most 10,800 seconds".to_owned());
            }
            if let Some(callback) = field("callback") {
                if !callback.starts_with("https://") && !callback.starts_with("http://") {
                    faults.push("callback is an http(s) URL".to_owned());
                }
            }
        }
        other => faults.push(format!("priority {other:?} is not -2 to 2")),
    }
    faults
}

fn accepted(fixture_name: &str) -> Reply {
    Reply::json(200, fixture(fixture_name))
}

#[test]
fn a_pushover_page_is_an_emergency_whose_acknowledgement_calls_back() {
    let stand_in = StandIn::start(check, accepted("pushover-emergency-ok.jsonc"));
    let delivered = notifier(&stand_in, Duration::from_secs(5))
        .send(&user(), &page(), now())
        .expect("delivered");
    assert_eq!(
        delivered.detail,
        "HTTP 200, request 647d2300-702c-4b38-8b2f-d56326ae460b, receipt rLqVuqTRh62UzxtmqiaLzQmVcPgiCy"
    );
    let request = stand_in.only_request();
    let field = |name| request.field(name);
    assert_eq!(field("token").as_deref(), Some(APP_TOKEN));
    assert_eq!(field("user").as_deref(), Some(USER_KEY));
    assert_eq!(
        field("title").as_deref(),
        Some("Paged: [SEV1] Checkout 5xx")
    );
    assert_eq!(
        field("message").as_deref(),
        Some("INC-12 [SEV1] Checkout returns 5xx (checkout-api, triggered)\ndeclared SEV1")
    );
    assert_eq!(
        field("url").as_deref(),
        Some("https://fireline.example/ui/incidents/INC-12")
    );
    assert_eq!(field("url_title").as_deref(), Some("Open INC-12"));
    assert_eq!(field("priority").as_deref(), Some("2"));
    assert_eq!(field("retry").as_deref(), Some("60"));
    assert_eq!(field("expire").as_deref(), Some("3600"));
    assert_eq!(field("callback"), Some(format!("{ACK}/pushover")));
}

#[test]
fn a_pushover_notice_is_normal_priority_without_retries() {
    let stand_in = StandIn::start(check, accepted("pushover-ok.jsonc"));
    let mut reminder = page();
    reminder.urgent = false;
    let delivered = notifier(&stand_in, Duration::from_secs(5))
        .send(&user(), &reminder, now())
        .expect("delivered");
    assert_eq!(
        delivered.detail,
        "HTTP 200, request 647d2300-702c-4b38-8b2f-d56326ae460b"
    );
    let request = stand_in.only_request();
    assert_eq!(request.field("priority").as_deref(), Some("0"));
    for absent in ["retry", "expire", "callback"] {
        assert_eq!(request.field(absent), None, "{absent}");
    }
}

#[test]
fn an_urgent_pushover_bundle_repeats_but_calls_back_for_no_single_incident() {
    let stand_in = StandIn::start(check, accepted("pushover-emergency-ok.jsonc"));
    let mut bundle = page();
    bundle.headline = "2 pages for you".into();
    bundle.items = vec![item(12), item(13)];
    notifier(&stand_in, Duration::from_secs(5))
        .send(&user(), &bundle, now())
        .expect("delivered");
    let request = stand_in.only_request();
    assert_eq!(request.field("priority").as_deref(), Some("2"));
    assert_eq!(request.field("callback"), None);
    assert_eq!(
        request.field("url_title").as_deref(),
        Some("Open in Fireline")
    );
    let message = request.field("message").expect("message");
    assert!(
        message.contains("INC-12") && message.contains("INC-13"),
        "{message}"
    );
}

#[test]
fn a_pushover_test_page_calls_back_its_confirm_link() {
    let stand_in = StandIn::start(check, accepted("pushover-emergency-ok.jsonc"));
    let mut test = page();
    test.headline = "Test page from fireline".into();
    test.items = Vec::new();
    test.confirm_url = Some("https://fireline.example/ack/t.alice.sig".into());
    notifier(&stand_in, Duration::from_secs(5))
        .send(&user(), &test, now())
        .expect("delivered");
    let request = stand_in.only_request();
    assert_eq!(
        request.field("priority").as_deref(),
        Some("2"),
        "as loud as a page"
    );
    assert_eq!(
        request.field("callback").as_deref(),
        Some("https://fireline.example/ack/t.alice.sig/pushover"),
        "acknowledging it in Pushover confirms the contact"
    );
}

#[test]
fn pushover_refusing_the_user_is_permanent_with_its_errors_and_no_credentials() {
    let stand_in = StandIn::start(
        check,
        Reply::json(400, fixture("pushover-invalid-user.jsonc")),
    );
    let error = notifier(&stand_in, Duration::from_secs(5))
        .send(&user(), &page(), now())
        .expect_err("refused");
    assert!(matches!(error, DeliveryError::Permanent(_)), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains(
            "HTTP 400: user identifier is invalid (request 5042853c-402d-4a18-abcb-168734a801de)"
        ),
        "{text}"
    );
    assert!(
        !text.contains(APP_TOKEN) && !text.contains(USER_KEY),
        "{text}"
    );
}

#[test]
fn pushover_server_errors_and_timeouts_are_transient() {
    let stand_in = StandIn::start(check, Reply::json(500, "{}".into()));
    let error = notifier(&stand_in, Duration::from_secs(5))
        .send(&user(), &page(), now())
        .expect_err("failed");
    assert!(error.is_transient(), "{error:?}");
    let slow = StandIn::start(
        check,
        Reply {
            delay: Some(Duration::from_secs(3)),
            ..accepted("pushover-ok.jsonc")
        },
    );
    let error = notifier(&slow, Duration::from_millis(300))
        .send(&user(), &page(), now())
        .expect_err("timed out");
    assert!(error.is_transient(), "{error:?}");
    assert!(!error.to_string().contains(APP_TOKEN), "{error}");
}

#[test]
fn pushover_without_configuration_is_permanent_and_says_what_to_set() {
    let error = Notifier::new(None, Duration::from_secs(1))
        .expect("notifier")
        .send(&user(), &page(), now())
        .expect_err("not configured");
    assert!(matches!(error, DeliveryError::Permanent(_)), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("Pushover is not configured: set [pushover] token"),
        "{error}"
    );
}

#[test]
fn the_pushover_token_and_user_key_stay_out_of_debug_output() {
    let stand_in = StandIn::start(check, accepted("pushover-ok.jsonc"));
    let shown = format!(
        "{:?} {:?}",
        notifier(&stand_in, Duration::from_secs(1)),
        user()
    );
    assert!(shown.contains("pushover: true"), "{shown}");
    assert!(
        !shown.contains(APP_TOKEN) && !shown.contains(USER_KEY),
        "{shown}"
    );
    let config = format!("{:?}", PushoverConfig::new(APP_TOKEN));
    assert!(!config.contains(APP_TOKEN), "{config}");
}
