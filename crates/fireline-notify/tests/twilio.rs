//! Twilio SMS and calls against a local stand-in that checks each request against
//! Twilio's documentation (a form POST to the account's `Messages.json` or `Calls.json`
//! with HTTP Basic authentication, `To`/`From` and `Body` or well-formed `Twiml`),
//! answered with the documented JSON; and Twilio's request signature against the
//! example Twilio publishes.

mod stand_in;

use std::time::Duration;

use fireline_notify::{
    twilio_signature, verify_twilio_signature, DeliveryError, Destination, Item, Message, Notifier,
    Providers, TwilioConfig,
};
use stand_in::{closed_port, fixture, Reply, Request, StandIn};

const SID: &str = "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX";
const AUTH_TOKEN: &str = "fireline-test-auth-token";
const FROM: &str = "+15005550006";
const TO: &str = "+15551234567";
const ACK: &str = "https://fireline.example/ack/12.alice.1772460000.1772546400.c2ln";

fn now() -> jiff::Timestamp {
    "2026-03-02T14:00:00Z".parse().expect("timestamp")
}

fn config(api_url: String) -> TwilioConfig {
    TwilioConfig {
        account_sid: SID.into(),
        auth_token: AUTH_TOKEN.into(),
        from: FROM.into(),
        api_url,
    }
}

/// A notifier whose Twilio API is the stand-in (the admin's URL: no `[outbound]`
/// allowance needed).
fn notifier(api_url: String, timeout: Duration) -> Notifier {
    Notifier::new(None, timeout)
        .expect("notifier")
        .with_providers(Providers {
            pushover: None,
            twilio: Some(config(api_url)),
            slack: None,
            mattermost: None,
        })
        .expect("providers")
}

fn send(stand_in: &StandIn, to: &Destination, message: &Message) -> Result<String, DeliveryError> {
    notifier(stand_in.url(""), Duration::from_secs(5))
        .send(to, message, now())
        .map(|d| d.detail)
}

fn sms() -> Destination {
    Destination::Sms { to: TO.into() }
}

fn voice() -> Destination {
    Destination::Voice { to: TO.into() }
}

fn item(n: u32, title: &str) -> Item {
    Item {
        incident: format!("INC-{n}"),
        title: title.into(),
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
        key: "INC-12/c0:page:SEV1/alice/sms/0.0".into(),
        headline: "Paged: [SEV1] Checkout 5xx".into(),
        items: vec![item(12, "Checkout 5xx")],
        text: None,
        urgent: true,
        confirm_url: None,
        unsubscribe_url: None,
    }
}

fn e164(number: &str) -> bool {
    number
        .strip_prefix('+')
        .is_some_and(|d| (7..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
}

/// Well-formed TwiML of the verbs fireline uses: every tag closed in order, every `&`
/// an entity, `<Gather>` posting one digit to an absolute URL.
fn twiml_faults(twiml: &str) -> Vec<String> {
    let mut faults = Vec::new();
    let rest = twiml
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        .unwrap_or(twiml);
    let mut stack: Vec<String> = Vec::new();
    let mut text = rest;
    while let Some(open) = text.find('<') {
        let content = &text[..open];
        for (i, _) in content.match_indices('&') {
            if !["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                .iter()
                .any(|e| content[i..].starts_with(e))
            {
                faults.push(format!("bare & in {content:?}"));
            }
        }
        let Some(close) = text[open..].find('>') else {
            faults.push("unclosed tag".to_owned());
            break;
        };
        let tag = &text[open + 1..open + close];
        text = &text[open + close + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            if stack.pop().as_deref() != Some(name) {
                faults.push(format!("</{name}> closes nothing open"));
            }
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let name = tag.split_whitespace().next().unwrap_or_default();
        if !["Response", "Say", "Gather", "Pause"].contains(&name) {
            faults.push(format!("<{name}> is not a verb fireline uses"));
        }
        if name == "Gather" {
            for needed in ["numDigits=\"1\"", "method=\"POST\"", "action=\"https://"] {
                if !tag.contains(needed) {
                    faults.push(format!("<Gather> without {needed}"));
                }
            }
        }
        if !self_closing {
            stack.push(name.to_owned());
        }
    }
    if !stack.is_empty() || !text.trim().is_empty() {
        faults.push(format!("unclosed {stack:?}"));
    }
    faults
}

/// Everything Twilio's Message and Call create operations ask of a request.
fn check(request: &Request) -> Vec<String> {
    let mut faults = Vec::new();
    let messages = format!("/2010-04-01/Accounts/{SID}/Messages.json");
    let calls = format!("/2010-04-01/Accounts/{SID}/Calls.json");
    if request.method != "POST" || (request.path != messages && request.path != calls) {
        faults.push(format!(
            "{} {} is no create operation",
            request.method, request.path
        ));
    }
    if request.header("content-type") != Some("application/x-www-form-urlencoded") {
        faults.push(format!("Content-Type {:?}", request.header("content-type")));
    }
    if request.basic_auth() != Some((SID.to_owned(), AUTH_TOKEN.to_owned())) {
        faults.push("HTTP Basic is the account SID and auth token".to_owned());
    }
    if !request.field("To").is_some_and(|t| e164(&t)) {
        faults.push("To is an E.164 number".to_owned());
    }
    if request.field("From").as_deref() != Some(FROM) {
        faults.push("From is the configured number".to_owned());
    }
    let allowed: &[&str] = if request.path == messages {
        &["To", "From", "Body"]
    } else {
        &["To", "From", "Twiml"]
    };
    for (name, _) in request.form() {
        if !allowed.contains(&name.as_str()) {
            faults.push(format!("{name} was not expected"));
        }
    }
    if request.path == messages {
        match request.field("Body") {
            Some(body) if !body.trim().is_empty() && body.chars().count() <= 1600 => {}
            _ => faults.push("Body is required, at most 1,600 characters".to_owned()),
        }
    } else {
        match request.field("Twiml") {
            Some(twiml) if twiml.chars().count() <= 4000 => faults.extend(twiml_faults(&twiml)),
            _ => faults.push("Twiml is required, at most 4,000 characters".to_owned()),
        }
    }
    faults
}

#[test]
fn an_sms_page_says_what_happened_and_how_to_acknowledge() {
    let stand_in = StandIn::start(
        check,
        Reply::json(201, fixture("twilio-message-created.jsonc")),
    );
    let detail = send(&stand_in, &sms(), &page()).expect("delivered");
    assert_eq!(
        detail,
        "HTTP 201, SMXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX queued"
    );
    let request = stand_in.only_request();
    assert_eq!(request.field("To").as_deref(), Some(TO));
    assert_eq!(
        request.field("Body").as_deref(),
        Some(
            "[SEV1] INC-12 Checkout 5xx — reply ACK 12 to acknowledge. \
             https://fireline.example/ui/incidents/INC-12"
        )
    );
}

#[test]
fn an_sms_bundle_lists_the_incidents_and_a_notice_its_headline() {
    let stand_in = StandIn::start(
        check,
        Reply::json(201, fixture("twilio-message-created.jsonc")),
    );
    let mut bundle = page();
    bundle.headline = "2 pages for you".into();
    bundle.items = vec![item(12, "Checkout 5xx"), item(13, "Payments slow")];
    send(&stand_in, &sms(), &bundle).expect("delivered");
    let notice = Message {
        key: "handoff-1".into(),
        headline: "Hand-off: you are now on call for SRE primary".into(),
        ..Message::default()
    };
    send(&stand_in, &sms(), &notice).expect("delivered");
    let bodies: Vec<String> = stand_in
        .requests()
        .iter()
        .map(|r| r.field("Body").expect("Body"))
        .collect();
    assert_eq!(
        bodies,
        [
            "2 pages for you: [SEV1] INC-12 Checkout 5xx; [SEV1] INC-13 Payments slow \
             — reply ACK <number> to acknowledge, e.g. ACK 12.",
            "Hand-off: you are now on call for SRE primary",
        ]
    );
}

#[test]
fn a_voice_page_reads_the_incident_and_gathers_one_key_for_the_acknowledge_link() {
    let stand_in = StandIn::start(
        check,
        Reply::json(201, fixture("twilio-call-created.jsonc")),
    );
    let mut message = page();
    message.items[0].title = "Checkout <5xx> & \"retries\"".into();
    let detail = send(&stand_in, &voice(), &message).expect("delivered");
    assert_eq!(
        detail,
        "HTTP 201, CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX queued"
    );
    let twiml = stand_in.only_request().field("Twiml").expect("Twiml");
    let gather = format!(
        "<Gather numDigits=\"1\" action=\"{ACK}/voice\" method=\"POST\"><Say>Fireline page. \
         SEV1 incident 12: Checkout &lt;5xx&gt; &amp; &quot;retries&quot;. Service \
         checkout-api. Press 1 to acknowledge.</Say></Gather>"
    );
    assert_eq!(
        twiml,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>{gather}{gather}\
             <Say>Goodbye</Say></Response>"
        )
    );
}

#[test]
fn a_voice_notice_without_an_acknowledge_link_is_read_out_with_nothing_to_press() {
    let stand_in = StandIn::start(
        check,
        Reply::json(201, fixture("twilio-call-created.jsonc")),
    );
    let mut reminder = page();
    reminder.urgent = false;
    reminder.items[0].ack_url = None;
    send(&stand_in, &voice(), &reminder).expect("delivered");
    let twiml = stand_in.only_request().field("Twiml").expect("Twiml");
    assert!(
        !twiml.contains("Gather") && !twiml.contains("Press 1"),
        "{twiml}"
    );
    assert!(
        twiml
            .contains("<Say>Fireline. SEV1 incident 12: Checkout 5xx. Service checkout-api.</Say>"),
        "{twiml}"
    );
    assert!(twiml.ends_with("<Say>Goodbye</Say></Response>"), "{twiml}");
}

#[test]
fn twilio_refusing_the_number_is_permanent_with_twilios_message_and_the_numbers_masked() {
    let stand_in = StandIn::start(check, Reply::json(400, fixture("twilio-invalid-to.jsonc")));
    let error = send(&stand_in, &sms(), &page()).expect_err("refused");
    assert!(matches!(error, DeliveryError::Permanent(_)), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains(
            "HTTP 400: The 'To' number …4567 is not a valid phone number. \
             (Twilio error 21211, https://www.twilio.com/docs/errors/21211)"
        ),
        "{text}"
    );
    for secret in [AUTH_TOKEN, "5551234567", SID] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

#[test]
fn twilio_refusing_the_credentials_is_permanent_and_never_quotes_them() {
    let stand_in = StandIn::start(
        check,
        Reply::json(401, fixture("twilio-authenticate.jsonc")),
    );
    let error = send(&stand_in, &voice(), &page()).expect_err("refused");
    assert!(matches!(error, DeliveryError::Permanent(_)), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains("HTTP 401: Authenticate (Twilio error 20003"),
        "{text}"
    );
    assert!(!text.contains(AUTH_TOKEN), "{text}");
}

#[test]
fn twilio_server_errors_rate_limits_timeouts_and_refused_connections_are_transient() {
    let stand_in = StandIn::start(
        check,
        Reply::json(500, fixture("twilio-internal-error.jsonc")),
    );
    let error = send(&stand_in, &sms(), &page()).expect_err("failed");
    assert!(error.is_transient(), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("An internal server error has occurred"),
        "{error}"
    );
    let limited = StandIn::start(
        check,
        Reply::json(
            429,
            r#"{"code":20429,"message":"Too Many Requests","status":429}"#.into(),
        ),
    );
    assert!(send(&limited, &voice(), &page())
        .expect_err("failed")
        .is_transient());
    let slow = StandIn::start(
        check,
        Reply {
            delay: Some(Duration::from_secs(3)),
            ..Reply::json(201, fixture("twilio-message-created.jsonc"))
        },
    );
    let error = notifier(slow.url(""), Duration::from_millis(300))
        .send(&sms(), &page(), now())
        .expect_err("timed out");
    assert!(error.is_transient(), "{error:?}");
    let error = notifier(format!("http://{}", closed_port()), Duration::from_secs(5))
        .send(&sms(), &page(), now())
        .expect_err("refused");
    assert!(error.is_transient(), "{error:?}");
    assert!(!error.to_string().contains(AUTH_TOKEN), "{error}");
}

#[test]
fn sms_and_calls_without_twilio_configured_are_permanent_and_say_what_to_set() {
    let notifier = Notifier::new(None, Duration::from_secs(1)).expect("notifier");
    for (destination, says) in [
        (sms(), "SMS is not configured: set [twilio]"),
        (voice(), "voice calls are not configured: set [twilio]"),
    ] {
        let error = notifier
            .send(&destination, &page(), now())
            .expect_err("not configured");
        assert!(matches!(error, DeliveryError::Permanent(_)), "{error:?}");
        assert!(error.to_string().contains(says), "{error}");
    }
}

#[test]
fn a_number_not_in_e164_form_is_refused_before_sending_showing_its_last_four_digits() {
    let stand_in = StandIn::start(
        check,
        Reply::json(201, fixture("twilio-message-created.jsonc")),
    );
    let error = send(
        &stand_in,
        &Destination::Sms {
            to: "0555 123 4567".into(),
        },
        &page(),
    )
    .expect_err("refused");
    assert!(matches!(error, DeliveryError::Permanent(_)), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains("…4567") && !text.contains("555 123"),
        "{text}"
    );
    assert!(stand_in.requests().is_empty());
}

#[test]
fn debug_shows_neither_the_auth_token_nor_whole_numbers() {
    let shown = format!(
        "{:?} {:?} {:?} {:?}",
        config("https://api.twilio.com".into()),
        sms(),
        voice(),
        notifier("https://api.twilio.com".into(), Duration::from_secs(1)),
    );
    assert!(!shown.contains(AUTH_TOKEN), "{shown}");
    assert!(
        !shown.contains("5551234567") && shown.contains("…4567"),
        "{shown}"
    );
    assert!(shown.contains("twilio: true"), "{shown}");
}

fn pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Twilio's own example (https://www.twilio.com/docs/usage/security#validating-requests:
/// the request to `https://mycompany.com/myapp.php?foo=1&bar=2` with the `<Gather>`
/// digits; the signature for auth token `12345` as twilio-php's request validation
/// guide states it).
#[test]
fn the_twilio_signature_matches_twilios_published_example() {
    let params = pairs(&[
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675309"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
    ]);
    let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    assert_eq!(
        twilio_signature("12345", url, &params),
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    );
    assert!(verify_twilio_signature(
        "12345",
        url,
        &params,
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    ));
    // Order of the parameters as sent does not matter; their values and the URL do.
    let mut shuffled = params.clone();
    shuffled.reverse();
    assert!(verify_twilio_signature(
        "12345",
        url,
        &shuffled,
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    ));
    let mut tampered = params.clone();
    tampered[2].1 = "1".into();
    assert!(!verify_twilio_signature(
        "12345",
        url,
        &tampered,
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    ));
    assert!(!verify_twilio_signature(
        "12345",
        "https://mycompany.com/myapp.php?foo=1&bar=3",
        &params,
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    ));
    assert!(!verify_twilio_signature(
        "54321",
        url,
        &params,
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    ));
    assert!(!verify_twilio_signature(
        "12345",
        url,
        &params,
        "not base64!"
    ));
    assert!(!verify_twilio_signature("", url, &params, ""));
}

/// A second vector, of the shape fireline receives (an SMS reply with non-ASCII text),
/// computed independently with Python's standard library:
/// `base64.b64encode(hmac.new(b"fireline-test-auth-token", (url + "".join(k + v for k, v
/// in sorted(params))).encode(), hashlib.sha1).digest())`.
#[test]
fn the_twilio_signature_matches_an_independent_implementation() {
    let params = pairs(&[
        ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
        ("From", "+15551230001"),
        ("To", "+15005550006"),
        ("Body", "ack inc-12 — merci"),
    ]);
    assert_eq!(
        twilio_signature(
            AUTH_TOKEN,
            "https://fireline.example/hooks/twilio/sms",
            &params
        ),
        "xMoX0I9RRCMKPyb5E5K9jGj4Y6A="
    );
}
