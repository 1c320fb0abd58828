//! Web Push messages checked by an independent implementation: tests/python/webpush_check.py
//! plays the browser with PyPI's http-ece (RFC 8188/8291 decryption) and cryptography
//! (the VAPID ES256 signature). It makes the subscription's keys, so only the private key
//! it generated can read what fireline encrypted.
//!
//! The packages come from tests/python/requirements.lock (scripts/test installs them into
//! target/test-python and puts it first on PATH). Without them the test prints "skipped"
//! — unless `CI`, `FIRELINE_TEST_WEBPUSH` or `FIRELINE_TEST_VENV` (set by scripts/test) is
//! set, when it fails.

mod stand_in;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use fireline_notify::webpush::{self, Endpoints, Subscription, Urgency, VapidKey, MAX_PAYLOAD};
use fireline_notify::{
    Allow, Category, DeliveryError, Item, Message, Notifier, PushError, WebPushConfig,
};
use jiff::Timestamp;
use serde_json::{json, Value};
use stand_in::{Reply, Request, StandIn};

const SUBJECT: &str = "mailto:oncall@example.com";

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/webpush_check.py")
}

/// Whether `python3` can import the checker's packages; panics when the environment
/// insists on them.
fn python_ready() -> bool {
    let available = Command::new("python3")
        .args(["-c", "import http_ece, cryptography"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !available {
        let required = ["CI", "FIRELINE_TEST_WEBPUSH", "FIRELINE_TEST_VENV"]
            .iter()
            .any(|name| std::env::var_os(name).is_some());
        assert!(
            !required,
            "python3 with http-ece and cryptography is required (CI, FIRELINE_TEST_WEBPUSH or \
             FIRELINE_TEST_VENV is set): install tests/python/requirements.lock as scripts/test \
             does, or `pip install http-ece cryptography`"
        );
        println!("skipped: python3 -c 'import http_ece, cryptography' failed");
    }
    available
}

/// Runs the checker with `command`, feeding it `input`; its stdout as JSON.
fn run(command: &str, input: &Value) -> Value {
    match try_run(command, input) {
        Ok(output) => output,
        Err(error) => panic!("{error}"),
    }
}

/// Runs the checker; its stdout as JSON, or why it failed.
fn try_run(command: &str, input: &Value) -> Result<Value, String> {
    let mut child = Command::new("python3")
        .arg(script())
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python3 webpush_check.py");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("write stdin");
    let output = child.wait_with_output().expect("webpush_check.py output");
    if !output.status.success() {
        return Err(format!(
            "webpush_check.py {command} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(serde_json::from_slice(&output.stdout).expect("webpush_check.py prints JSON"))
}

/// A browser's subscription (checked as fireline checks real ones) and its private key.
fn browser() -> (Subscription, Value, String) {
    let keys = run("keys", &Value::Null);
    let json = keys["subscription"].to_string();
    let subscription = Subscription::parse(&json, Endpoints::HttpsOnly).expect("valid");
    let private = keys["private_key"]
        .as_str()
        .expect("private_key")
        .to_owned();
    (subscription, keys["subscription"].clone(), private)
}

fn now() -> Timestamp {
    "2026-03-02T14:00:00Z".parse().expect("timestamp")
}

fn page() -> Message {
    Message {
        key: "c0:page:INC-12:alice".into(),
        headline: "Paged: [SEV1] Checkout 5xx".into(),
        items: vec![Item {
            incident: "INC-12".into(),
            title: "Checkout returns 5xx — «ünïcode»".into(),
            severity: "SEV1".into(),
            service: "checkout-api".into(),
            status: "triggered".into(),
            reason: Some("declared SEV1".into()),
            incident_url: Some("https://fireline.example/ui/incidents/INC-12".into()),
            runbook_url: None,
            ack_url: Some("https://fireline.example/ack/12.alice.sig".into()),
        }],
        text: Some("Repeats every 5m until acknowledged.".into()),
        urgent: true,
        confirm_url: None,
        unsubscribe_url: None,
    }
}

/// Encrypts and signs `payload` for a fresh browser, has the checker decrypt and verify
/// it, and returns the plaintext it read and the claims it verified.
fn through_the_checker(key: &VapidKey, payload: &[u8]) -> (Vec<u8>, Value) {
    let checked = run("check", &checker_input(key, payload, |_| {}));
    let plaintext = URL_SAFE_NO_PAD
        .decode(checked["plaintext"].as_str().expect("plaintext"))
        .expect("base64url");
    assert_eq!(checked["jwt_header"], json!({"typ": "JWT", "alg": "ES256"}));
    (plaintext, checked["claims"].clone())
}

/// The checker's input for `payload` sent to a fresh browser, after `tamper` changed the
/// request.
fn checker_input(
    key: &VapidKey,
    payload: &[u8],
    tamper: impl FnOnce(&mut webpush::PushRequest),
) -> Value {
    let (subscription, subscription_json, private) = browser();
    let mut push = webpush::request(
        key,
        SUBJECT,
        &subscription,
        payload,
        Urgency::High,
        3600,
        Some("INC-12"),
        now(),
    )
    .expect("request");
    assert_eq!(push.url, subscription.endpoint);
    tamper(&mut push);
    let headers: serde_json::Map<String, Value> = push
        .headers
        .iter()
        .map(|(name, value)| ((*name).to_owned(), Value::from(value.as_str())))
        .collect();
    json!({
        "private_key": private,
        "subscription": subscription_json,
        "subject": SUBJECT,
        "now": now().as_second(),
        "headers": headers,
        "body": URL_SAFE_NO_PAD.encode(&push.body),
    })
}

#[test]
fn python_decrypts_the_payload_and_verifies_the_vapid_token() {
    if !python_ready() {
        return;
    }
    let key = VapidKey::generate().expect("key");
    let payload = webpush::notification_payload(&page());
    let (plaintext, claims) = through_the_checker(&key, &payload);
    assert_eq!(plaintext, payload);
    let notification: Value = serde_json::from_slice(&plaintext).expect("JSON");
    assert_eq!(notification["incident"], "INC-12");
    assert_eq!(
        notification["ack_url"],
        "https://fireline.example/ack/12.alice.sig"
    );
    assert_eq!(notification["urgent"], true);
    assert_eq!(
        claims,
        json!({
            "aud": "https://push.example.net",
            "exp": now().as_second() + 12 * 3600,
            "sub": SUBJECT,
        })
    );
}

#[test]
fn python_reads_the_largest_payload_and_awkward_bytes() {
    if !python_ready() {
        return;
    }
    // A key restored from the settings table signs as the generated one did.
    let key = VapidKey::from_private_key(&VapidKey::generate().expect("key").private_key())
        .expect("import");
    let largest: Vec<u8> = (0..MAX_PAYLOAD).map(|i| (i % 251) as u8).collect();
    for payload in [
        largest,
        Vec::new(),
        // Trailing zeros and a 0x02 must not be mistaken for padding or the delimiter.
        b"ends in padding-like bytes\x02\x00\x00".to_vec(),
    ] {
        let (plaintext, _) = through_the_checker(&key, &payload);
        assert_eq!(plaintext, payload);
    }
}

#[test]
fn the_checker_refuses_tampered_messages() {
    if !python_ready() {
        return;
    }
    let key = VapidKey::generate().expect("key");
    let other = VapidKey::generate().expect("key");
    let flip_body = |push: &mut webpush::PushRequest| {
        if let Some(last) = push.body.last_mut() {
            *last ^= 1;
        }
    };
    // The token of another key, presented with this key's public key.
    let swap_key = |push: &mut webpush::PushRequest| {
        for (name, value) in &mut push.headers {
            if *name == "Authorization" {
                *value = value.replace(&key.public_key(), &other.public_key());
            }
        }
    };
    for (what, input, expected) in [
        (
            "body",
            checker_input(&key, b"page", flip_body),
            "InvalidTag",
        ),
        (
            "key",
            checker_input(&key, b"page", swap_key),
            "does not verify",
        ),
    ] {
        let error = try_run("check", &input).expect_err(what);
        assert!(error.contains(expected), "{what}: {error}");
    }
}

/// What RFC 8030 §5 and RFC 8291/8292 ask of a push message's request.
fn rfc8030(request: &Request) -> Vec<String> {
    let mut faults = Vec::new();
    if request.method != "POST" {
        faults.push(format!("method {}", request.method));
    }
    for (name, want) in [
        ("content-encoding", Some("aes128gcm")),
        ("content-type", Some("application/octet-stream")),
        ("urgency", Some("high")),
        ("ttl", None),
        ("authorization", None),
    ] {
        match (request.header(name), want) {
            (None, _) => faults.push(format!("no {name} header")),
            (Some(v), Some(w)) if v != w => faults.push(format!("{name}: {v}")),
            _ => {}
        }
    }
    if !request
        .header("authorization")
        .is_some_and(|a| a.starts_with("vapid t=") && a.contains(", k="))
    {
        faults.push("Authorization is not `vapid t=…, k=…`".to_owned());
    }
    if request
        .header("ttl")
        .and_then(|t| t.parse::<u32>().ok())
        .is_none()
    {
        faults.push("TTL is not a number of seconds".to_owned());
    }
    faults
}

fn pushing_notifier(key: &VapidKey) -> Notifier {
    Notifier::new(None, std::time::Duration::from_secs(5))
        .expect("notifier")
        .with_outbound(Allow::nothing().with(Category::Loopback))
        .with_web_push(WebPushConfig {
            key: key.clone(),
            subject: SUBJECT.to_owned(),
        })
        .expect("web push")
}

/// A fresh browser whose endpoint is `service`'s `/push/<name>`.
fn browser_at(service: &StandIn, name: &str) -> (Subscription, Value, String) {
    let (_, mut json, private) = browser();
    json["endpoint"] = Value::from(service.url(&format!("/push/{name}")));
    let subscription = Subscription::parse(&json.to_string(), Endpoints::AllowHttp).expect("ok");
    (subscription, json, private)
}

#[test]
fn the_notifier_pushes_a_page_that_python_decrypts() {
    if !python_ready() {
        return;
    }
    let service = StandIn::start(rfc8030, Reply::json(201, String::new()));
    let key = VapidKey::generate().expect("key");
    let (subscription, json, private) = browser_at(&service, "phone");
    let delivered = pushing_notifier(&key)
        .send_push(&subscription, &page(), now())
        .expect("pushed");
    assert_eq!(delivered.detail, "HTTP 201");
    let request = service.only_request();
    assert_eq!(request.path, "/push/phone");
    assert_eq!(
        request.header("topic"),
        Some("INC-12"),
        "a newer page replaces it"
    );
    let headers: serde_json::Map<String, Value> = ["Content-Encoding", "Authorization"]
        .iter()
        .map(|name| {
            let value = request.header(name).expect("header");
            ((*name).to_owned(), Value::from(value))
        })
        .collect();
    let checked = run(
        "check",
        &json!({
            "private_key": private,
            "subscription": json,
            "subject": SUBJECT,
            "now": now().as_second(),
            "headers": headers,
            "body": URL_SAFE_NO_PAD.encode(&request.body),
        }),
    );
    let plaintext = URL_SAFE_NO_PAD
        .decode(checked["plaintext"].as_str().expect("plaintext"))
        .expect("base64url");
    let shown: Value = serde_json::from_slice(&plaintext).expect("JSON");
    assert_eq!(shown["title"], "Paged: [SEV1] Checkout 5xx");
    assert_eq!(
        shown["ack_url"],
        "https://fireline.example/ack/12.alice.sig"
    );
    assert_eq!(
        checked["claims"]["aud"],
        format!("http://{}", service.addr),
        "the token is for the push service's origin"
    );
}

#[test]
fn a_gone_subscription_is_told_apart_from_other_refusals() {
    let key = VapidKey::generate().expect("key");
    let keys = json!({
        "p256dh": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
        "auth": "BTBZMqHH6r4Tts7J_aSIgg"
    });
    for (status, gone, transient) in [
        (410, true, false),
        (404, true, false),
        (500, false, true),
        (400, false, false),
    ] {
        let service = StandIn::start(|_| Vec::new(), Reply::json(status, String::new()));
        let subscription = Subscription::parse(
            &json!({"endpoint": service.url("/push/x"), "keys": keys}).to_string(),
            Endpoints::AllowHttp,
        )
        .expect("subscription");
        match pushing_notifier(&key).send_push(&subscription, &page(), now()) {
            Err(PushError::Gone(detail)) => {
                assert!(gone, "{status}: {detail}");
                assert!(detail.contains(&format!("HTTP {status}")), "{detail}");
                assert!(
                    !detail.contains("/push/x"),
                    "the endpoint is a secret: {detail}"
                );
            }
            Err(PushError::Failed(e)) => {
                assert!(!gone, "{status}: {e}");
                assert_eq!(e.is_transient(), transient, "{status}: {e}");
            }
            Ok(d) => panic!("{status} delivered: {d:?}"),
        }
    }
    // Without an allowance, a push service on a private address is refused, and
    // without Web Push set up nothing is sent.
    let service = StandIn::start(|_| Vec::new(), Reply::json(201, String::new()));
    let subscription = Subscription::parse(
        &json!({"endpoint": service.url("/push/x"), "keys": keys}).to_string(),
        Endpoints::AllowHttp,
    )
    .expect("subscription");
    let strict = Notifier::new(None, std::time::Duration::from_secs(5))
        .expect("notifier")
        .with_web_push(WebPushConfig {
            key: key.clone(),
            subject: SUBJECT.to_owned(),
        })
        .expect("web push");
    assert!(matches!(
        strict.send_push(&subscription, &page(), now()),
        Err(PushError::Failed(DeliveryError::Permanent(_)))
    ));
    let unset = Notifier::new(None, std::time::Duration::from_secs(5)).expect("notifier");
    assert!(matches!(
        unset.send_push(&subscription, &page(), now()),
        Err(PushError::Failed(DeliveryError::Permanent(m))) if m.contains("not set up")
    ));
    assert!(service.requests().is_empty());
    assert!(
        Notifier::new(None, std::time::Duration::from_secs(5))
            .expect("notifier")
            .with_web_push(WebPushConfig {
                key,
                subject: "oncall@example.com".to_owned(),
            })
            .is_err(),
        "a subject that is neither mailto: nor https: is refused at start-up"
    );
}
