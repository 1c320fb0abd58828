//! Slack and generic webhooks against a real HTTP peer: a small receiver on 127.0.0.1
//! that records each request and answers with a chosen status. Loopback is refused by
//! default (`[outbound] allow`), so these tests allow it explicitly, and the tests at
//! the end check that it is refused without that.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use fireline_notify::{
    verify, Allow, Category, DeliveryError, Destination, Item, Message, Notifier, SignatureError,
    SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use jiff::{SignedDuration, Timestamp};

const TOLERANCE: SignedDuration = SignedDuration::from_secs(300);

#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn body_text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("utf-8 body")
    }
}

/// Records every request; answers each with `status` and `reply`. The accept loop runs
/// until the test process ends.
struct Receiver {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Receiver {
    fn start(status: u16, reply: &'static str) -> Receiver {
        Self::start_with(status, reply, &[])
    }

    fn start_with(status: u16, reply: &'static str, extra: &'static [(&str, &str)]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&requests);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Some(request) = read_request(&stream) else {
                    continue;
                };
                recorded.lock().expect("lock").push(request);
                let mut head = format!(
                    "HTTP/1.1 {status} Whatever\r\nContent-Length: {}\r\nContent-Type: text/plain\r\nConnection: close\r\n",
                    reply.len()
                );
                for (name, value) in extra {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        Receiver { addr, requests }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("lock").clone()
    }

    fn only_request(&self) -> Request {
        let requests = self.requests();
        assert_eq!(requests.len(), 1, "{requests:#?}");
        requests.into_iter().next().expect("one request")
    }
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.parse().expect("content-length"))
        .unwrap_or(0);
    assert!(
        !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding")),
        "this receiver only reads Content-Length bodies: {headers:?}"
    );
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

fn now() -> Timestamp {
    "2026-03-02T14:00:00Z".parse().expect("timestamp")
}

/// A notifier allowed to reach the local receivers.
fn notifier() -> Notifier {
    Notifier::new(None, Duration::from_secs(5))
        .expect("notifier")
        .with_outbound(Allow::nothing().with(Category::Loopback))
}

/// A notifier with the default outbound settings: public addresses only.
fn default_notifier() -> Notifier {
    Notifier::new(None, Duration::from_secs(5)).expect("notifier")
}

fn page() -> Message {
    Message {
        key: "c0:page:INC-12:alice".into(),
        headline: "Paged: [SEV1] Checkout 5xx".into(),
        items: vec![Item {
            incident: "INC-12".into(),
            title: "Checkout returns 5xx".into(),
            severity: "SEV1".into(),
            service: "checkout-api".into(),
            status: "triggered".into(),
            reason: Some("declared SEV1".into()),
            incident_url: Some("https://fireline.example/ui/incidents/INC-12".into()),
            runbook_url: Some("https://wiki.example/runbooks/checkout".into()),
            ack_url: Some("https://fireline.example/ack/INC-12/tok123".into()),
        }],
        text: None,
        urgent: true,
        confirm_url: None,
        unsubscribe_url: None,
    }
}

fn send(destination: &Destination) -> Result<fireline_notify::Delivered, DeliveryError> {
    notifier().send(destination, &page(), now())
}

fn webhook(url: String) -> Destination {
    Destination::Webhook {
        url,
        secret: Some("whsec_test".into()),
    }
}

#[test]
fn slack_gets_text_and_blocks_with_the_page() {
    let receiver = Receiver::start(200, "ok");
    let delivered = send(&Destination::Slack {
        url: receiver.url("/services/T000/B000/SECRET"),
    })
    .expect("delivered");
    assert_eq!(delivered.detail, "HTTP 200");

    let request = receiver.only_request();
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/services/T000/B000/SECRET");
    assert_eq!(request.header("content-type"), Some("application/json"));
    // Slack gets the JSON only; signature and key headers are for the generic webhook.
    for absent in ["idempotency-key", SIGNATURE_HEADER, TIMESTAMP_HEADER] {
        assert_eq!(request.header(absent), None, "{absent}");
    }
    let body: serde_json::Value = serde_json::from_slice(&request.body).expect("json");
    let text = body["text"].as_str().expect("text");
    assert!(text.contains("Checkout returns 5xx"), "{text}");
    let blocks = serde_json::to_string(&body["blocks"]).expect("blocks");
    assert!(
        body["blocks"].as_array().is_some_and(|b| b.len() >= 3),
        "{blocks}"
    );
    for needle in [
        "Paged: [SEV1] Checkout 5xx",
        "Checkout returns 5xx",
        "*Severity*\\nSEV1",
        "*Service*\\ncheckout-api",
        "*Status*\\ntriggered",
        "<https://fireline.example/ack/INC-12/tok123|Acknowledge>",
        "<https://wiki.example/runbooks/checkout|Runbook>",
        "<https://fireline.example/ui/incidents/INC-12|Open>",
    ] {
        assert!(blocks.contains(needle), "{needle} not in {blocks}");
    }
}

#[test]
fn webhook_is_signed_and_carries_the_idempotency_key() {
    let receiver = Receiver::start(202, "");
    let delivered = send(&webhook(receiver.url("/hooks/fireline?token=abc"))).expect("delivered");
    assert_eq!(delivered.detail, "HTTP 202");

    let request = receiver.only_request();
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/hooks/fireline?token=abc");
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.header("idempotency-key"),
        Some("c0:page:INC-12:alice")
    );
    let timestamp = request.header(TIMESTAMP_HEADER).expect("timestamp header");
    assert_eq!(timestamp, now().as_second().to_string());
    let signature = request.header(SIGNATURE_HEADER).expect("signature header");
    assert!(signature.starts_with("v1="), "{signature}");

    let body = &request.body;
    let check = |secret: &str, body: &[u8], at: Timestamp| {
        verify(secret, timestamp, signature, body, at, TOLERANCE)
    };
    assert_eq!(check("whsec_test", body, now()), Ok(()));
    assert_eq!(
        check("whsec_test", body, now() + SignedDuration::from_secs(299)),
        Ok(())
    );

    let mut tampered = body.clone();
    let at = request.body_text().find("SEV1").expect("severity in body");
    tampered[at + 3] = b'2';
    assert_eq!(
        check("whsec_test", &tampered, now()),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(check("wrong", body, now()), Err(SignatureError::Mismatch));
    assert_eq!(
        check("whsec_test", body, now() + SignedDuration::from_mins(10)),
        Err(SignatureError::OutsideTolerance { age_seconds: 600 })
    );

    let json: serde_json::Value = serde_json::from_slice(body).expect("json");
    assert_eq!(json["version"], 1);
    assert_eq!(json["key"], "c0:page:INC-12:alice");
    assert_eq!(json["headline"], "Paged: [SEV1] Checkout 5xx");
    assert_eq!(json["items"][0]["incident"], "INC-12");
    assert_eq!(json["items"][0]["severity"], "SEV1");
    assert_eq!(
        json["items"][0]["ack_url"],
        "https://fireline.example/ack/INC-12/tok123"
    );
}

#[test]
fn webhook_without_secret_is_unsigned() {
    let receiver = Receiver::start(200, "");
    send(&Destination::Webhook {
        url: receiver.url("/in"),
        secret: None,
    })
    .expect("delivered");
    let request = receiver.only_request();
    assert_eq!(
        request.header("idempotency-key"),
        Some("c0:page:INC-12:alice")
    );
    assert_eq!(request.header(SIGNATURE_HEADER), None);
    assert_eq!(request.header(TIMESTAMP_HEADER), None);
}

#[test]
fn status_codes_are_classified() {
    for (status, transient) in [
        (500, true),
        (503, true),
        (429, true),
        (408, true),
        (404, false),
        (400, false),
        (401, false),
        (410, false),
    ] {
        let receiver = Receiver::start(status, "nope");
        let error = send(&webhook(receiver.url("/in"))).expect_err("refused");
        assert_eq!(error.is_transient(), transient, "{status}: {error:?}");
        assert!(
            error.detail().contains(&format!("HTTP {status}")),
            "{error}"
        );
        assert_eq!(receiver.requests().len(), 1, "{status}: one attempt only");
    }
}

#[test]
fn slack_errors_quote_the_reply_but_never_the_url() {
    let receiver = Receiver::start(403, "invalid_token");
    let error = send(&Destination::Slack {
        url: receiver.url("/services/T000/B000/SECRET"),
    })
    .expect_err("refused");
    assert!(matches!(error, DeliveryError::Permanent(_)), "{error:?}");
    let text = error.to_string();
    assert!(text.contains("invalid_token"), "{text}");
    assert!(text.contains(&receiver.addr.to_string()), "{text}");
    assert!(!text.contains("SECRET"), "{text}");
    assert!(!text.contains("/services"), "{text}");

    let receiver = Receiver::start(500, "oops");
    let error = send(&Destination::Slack {
        url: receiver.url("/services/T000/B000/SECRET"),
    })
    .expect_err("refused");
    assert!(matches!(error, DeliveryError::Transient(_)), "{error:?}");
    assert!(!error.to_string().contains("SECRET"), "{error}");
}

/// Finding: up to 200 characters of a receiver's error reached incident timelines, and
/// Express's default 404 quotes the request's path: the webhook URL's secret.
#[test]
fn webhook_errors_never_quote_the_urls_path_or_query() {
    let receiver = Receiver::start(404, "Cannot POST /hooks/s3cr3t?token=abc");
    let error = send(&webhook(receiver.url("/hooks/s3cr3t?token=abc"))).expect_err("refused");
    assert!(matches!(error, DeliveryError::Permanent(_)), "{error:?}");
    let text = error.to_string();
    assert!(text.contains("HTTP 404"), "{text}");
    assert!(
        text.contains("Cannot POST"),
        "the rest is still quoted: {text}"
    );
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(!text.contains("abc"), "{text}");

    // Quoted in pieces, percent-decoded, JSON-escaped, or with credentials in the URL.
    let receiver = Receiver::start(
        400,
        r#"{"error":"no hook \/hooks\/a1b2c3d4e5f6g7h8 for key=p@ss word (user bob)"}"#,
    );
    let url = receiver
        .url("/hooks/a1b2c3d4e5f6g7h8?key=p%40ss+word")
        .replace("http://", "http://bob:hunter22@");
    let error = send(&webhook(url)).expect_err("refused");
    let text = error.to_string();
    assert!(text.contains("HTTP 400: {\"error\":\"no hook"), "{text}");
    for secret in ["a1b2c3d4e5f6g7h8", "p@ss word", "hunter22", "/hooks"] {
        assert!(!text.contains(secret), "`{secret}` quoted: {text}");
    }
    assert!(text.contains(&receiver.addr.to_string()), "{text}");
}

#[test]
fn redirects_are_not_followed() {
    let receiver = Receiver::start_with(302, "", &[("Location", "/elsewhere")]);
    let error = send(&webhook(receiver.url("/in"))).expect_err("refused");
    assert!(matches!(error, DeliveryError::Permanent(_)), "{error:?}");
    assert_eq!(receiver.requests().len(), 1);
}

#[test]
fn connection_refused_is_transient() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let error = send(&webhook(format!("http://{addr}/in"))).expect_err("refused");
    assert!(matches!(error, DeliveryError::Transient(_)), "{error:?}");
    let error = send(&Destination::Slack {
        url: format!("http://{addr}/services/SECRET"),
    })
    .expect_err("refused");
    assert!(matches!(error, DeliveryError::Transient(_)), "{error:?}");
    assert!(!error.to_string().contains("SECRET"), "{error}");
}

#[test]
fn a_silent_peer_times_out_as_transient() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    // Accepts and reads, never answers; holds the connection past the client's timeout.
    thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            let _request = read_request(&stream);
            thread::sleep(Duration::from_secs(5));
        }
    });
    let notifier = Notifier::new(None, Duration::from_millis(300))
        .expect("notifier")
        .with_outbound(Allow::nothing().with(Category::Loopback));
    let started = std::time::Instant::now();
    let error = notifier
        .send(&webhook(format!("http://{addr}/in")), &page(), now())
        .expect_err("timed out");
    assert!(matches!(error, DeliveryError::Transient(_)), "{error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn an_empty_secret_is_refused_before_sending() {
    let receiver = Receiver::start(200, "");
    let error = send(&Destination::Webhook {
        url: receiver.url("/in"),
        secret: Some(String::new()),
    })
    .expect_err("refused");
    assert!(matches!(error, DeliveryError::Permanent(_)), "{error:?}");
    assert!(receiver.requests().is_empty());
}

/// Asserts `error` is a permanent refusal naming `host` and `category`, and quoting
/// nothing of the URL's path or query.
fn assert_refused(error: &DeliveryError, host: &str, category: &str) {
    assert!(matches!(error, DeliveryError::Permanent(_)), "{error:?}");
    let text = error.to_string();
    assert!(text.contains("refused"), "{text}");
    assert!(text.contains(host), "{host} not in {text}");
    assert!(text.contains(category), "{category} not in {text}");
    for secret in ["SECRET", "token", "hooks", "services", "meta-data"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

#[test]
fn webhook_to_loopback_is_refused_by_default() {
    let receiver = Receiver::start(200, "");
    let error = default_notifier()
        .send(
            &webhook(receiver.url("/hooks/SECRET?token=abc")),
            &page(),
            now(),
        )
        .expect_err("refused");
    assert_refused(&error, "127.0.0.1", "loopback");
    let error = default_notifier()
        .send(
            &Destination::Slack {
                url: receiver.url("/services/T/B/SECRET"),
            },
            &page(),
            now(),
        )
        .expect_err("refused");
    assert_refused(&error, "127.0.0.1", "loopback");
    assert!(receiver.requests().is_empty(), "nothing was sent");
}

#[test]
fn webhook_to_loopback_is_delivered_when_loopback_is_allowed() {
    let receiver = Receiver::start(200, "");
    let allowed = default_notifier().with_outbound(Allow::nothing().with(Category::Loopback));
    allowed
        .send(&webhook(receiver.url("/in")), &page(), now())
        .expect("delivered");
    // A range allows as well as a category does.
    let by_range =
        default_notifier().with_outbound(Allow::parse(["127.0.0.0/8"]).expect("valid allow list"));
    by_range
        .send(&webhook(receiver.url("/in")), &page(), now())
        .expect("delivered");
    assert_eq!(receiver.requests().len(), 2);
    // Allowing something else does not allow loopback.
    let private = default_notifier().with_outbound(Allow::nothing().with(Category::Private));
    let error = private
        .send(&webhook(receiver.url("/in")), &page(), now())
        .expect_err("refused");
    assert_refused(&error, "127.0.0.1", "loopback");
    assert_eq!(receiver.requests().len(), 2);
}

#[test]
fn webhook_to_a_name_resolving_to_loopback_is_refused() {
    let receiver = Receiver::start(200, "");
    let url = format!("http://localhost:{}/hooks/SECRET", receiver.addr.port());
    let error = default_notifier()
        .send(&webhook(url), &page(), now())
        .expect_err("refused");
    // Checked on what the name resolved to, at connection time.
    assert_refused(&error, "localhost resolves to", "loopback");
    assert!(receiver.requests().is_empty(), "nothing was sent");
}

#[test]
fn webhook_to_metadata_address_is_refused() {
    for url in [
        "http://169.254.169.254/latest/meta-data/iam/SECRET",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://[fe80::a9fe:a9fe]/latest/meta-data/",
    ] {
        let started = std::time::Instant::now();
        let error = default_notifier()
            .send(&webhook(url.to_owned()), &page(), now())
            .expect_err("refused");
        assert_refused(&error, "link-local", "link_local");
        // Refused before connecting: no timeout waited out.
        assert!(started.elapsed() < Duration::from_secs(2), "{url}");
    }
}

#[test]
fn webhook_to_ipv4_mapped_loopback_is_refused() {
    let receiver = Receiver::start(200, "");
    let url = format!(
        "http://[::ffff:127.0.0.1]:{}/hooks/SECRET",
        receiver.addr.port()
    );
    let error = default_notifier()
        .send(&webhook(url), &page(), now())
        .expect_err("refused");
    assert_refused(&error, "::ffff:127.0.0.1", "loopback");
    let error = default_notifier()
        .send(
            &webhook(format!("http://0.0.0.0:{}/in", receiver.addr.port())),
            &page(),
            now(),
        )
        .expect_err("refused");
    assert_refused(&error, "0.0.0.0", "unspecified");
    assert!(receiver.requests().is_empty(), "nothing was sent");
}

#[test]
fn slack_to_private_address_is_refused() {
    for (url, category) in [
        ("http://10.0.0.1/services/T/B/SECRET", "private"),
        ("http://192.168.1.1/services/T/B/SECRET", "private"),
        ("http://172.16.0.1/services/T/B/SECRET", "private"),
        ("http://100.64.0.1/services/T/B/SECRET", "cgnat"),
        ("http://[fd00::1]/services/T/B/SECRET", "private"),
    ] {
        let error = default_notifier()
            .send(
                &Destination::Slack {
                    url: url.to_owned(),
                },
                &page(),
                now(),
            )
            .expect_err("refused");
        assert_refused(&error, "slack to", category);
    }
}

#[test]
fn redirect_to_metadata_address_is_not_followed() {
    let receiver = Receiver::start_with(
        307,
        "",
        &[("Location", "http://169.254.169.254/latest/meta-data/")],
    );
    let error = send(&webhook(receiver.url("/in"))).expect_err("refused");
    assert!(matches!(error, DeliveryError::Permanent(_)), "{error:?}");
    assert!(error.to_string().contains("HTTP 307"), "{error}");
    assert_eq!(receiver.requests().len(), 1);
}
