//! The HTTP edge against what an anonymous or careless client can send: label
//! sets, logs, security headers, acknowledge links, bodies, times and connections stay
//! bounded and honest.

use crate::support::{start, App, Reply};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use fireline_core::oncall::ack::ack_token;
use fireline_core::policy::Policy;
use fireline_core::{AccessRole, IncidentId};
use fireline_engine::{Clock, LivePolicy, ManualClock};
use fireline_http::auth::{issue_heartbeat, issue_integration, issue_token};
use fireline_http::AppState;
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use jiff::SignedDuration;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing::instrument::WithSubscriber;

backend_tests!(
    metrics_do_not_grow_with_invented_methods,
    heartbeat_keys_are_not_logged,
    sign_in_names_are_logged_truncated,
    html_pages_forbid_framing_and_no_response_is_sniffed,
    an_old_ack_link_does_not_acknowledge_a_reopened_incident,
    json_followed_by_garbage_is_refused,
    json_bodies_without_a_content_type_are_refused,
    oversized_bodies_are_refused_with_the_limit_that_applies,
    times_past_the_supported_range_are_called_out_of_range,
    half_sent_requests_are_disconnected,
    connections_beyond_the_cap_wait_for_a_free_one,
    anonymous_clients_cannot_make_the_server_read_alert_bodies,
    trickled_bodies_are_cut_off_at_the_body_deadline,
    bodies_being_read_share_a_byte_budget,
    graceful_shutdown_ends_event_streams_and_has_a_deadline,
    client_request_ids_are_bounded_and_cannot_fake_fields,
);

/// A small deterministic generator (xorshift), so failures replay.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn word(&mut self) -> String {
        let len = 3 + (self.next() % 10) as usize;
        (0..len)
            .map(|_| char::from(b'A' + (self.next() % 26) as u8))
            .collect()
    }
}

/// Request-duration series (one `_count` line each) whose method is `OTHER` or whose
/// route is `unmatched`: the ones invented requests could add to.
fn catch_all_series(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| l.starts_with("fireline_http_request_duration_seconds_count{"))
        .filter(|l| l.contains("method=\"OTHER\"") || l.contains("route=\"unmatched\""))
        .map(|l| l.split('}').next().unwrap_or(l).to_owned())
        .collect()
}

/// `n` requests with invented methods and paths, and standard methods on invented paths.
async fn invent(app: &App, rng: &mut Rng, n: usize) -> Vec<String> {
    let mut invented = Vec::new();
    for i in 0..n {
        let word = rng.word();
        let method = match i % 4 {
            0 => Method::GET,
            1 => Method::POST,
            _ => Method::from_bytes(format!("Q{word}").as_bytes()).expect("a method token"),
        };
        let path = match i % 3 {
            0 => format!("/nowhere/{word}"),
            1 => format!("/api/v1/incidents/INC-1/{word}"),
            _ => "/api/v1/incidents".to_owned(),
        };
        let request = Request::builder()
            .method(method)
            .uri(&path)
            .body(Body::empty())
            .expect("a request");
        let reply = app.send(request).await;
        assert!(reply.status.is_client_error(), "{path}: {}", reply.status);
        invented.push(word);
    }
    invented
}

async fn metrics_do_not_grow_with_invented_methods(db: &TestDatabase) {
    let app = App::new(db).await;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ db.store.backend().len() as u64);
    // A first round makes every catch-all series there is to make.
    invent(&app, &mut rng, 200).await;
    let exposition = |reply: Reply| reply.body.as_str().unwrap_or_default().to_owned();
    let before = exposition(app.get("/metrics", "").await.expect(StatusCode::OK));
    let words = invent(&app, &mut rng, 200).await;
    let after = exposition(app.get("/metrics", "").await.expect(StatusCode::OK));
    assert_eq!(
        catch_all_series(&before),
        catch_all_series(&after),
        "200 more invented requests added series"
    );
    assert!(
        catch_all_series(&after).len() <= 8,
        "a handful of catch-all series at most: {:?}",
        catch_all_series(&after)
    );
    for word in words {
        assert!(!after.contains(&word), "`{word}` reached a label");
    }
}

/// A subscriber writing the request log, as the server's text format would, into a buffer.
fn capture() -> (impl tracing::Subscriber + Send + Sync, Arc<Mutex<Vec<u8>>>) {
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let sink = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || Sink(sink.clone()))
        .finish();
    (subscriber, buffer)
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn text_of(buffer: &Arc<Mutex<Vec<u8>>>) -> String {
    String::from_utf8_lossy(&buffer.lock().expect("log buffer")).into_owned()
}

fn post_empty(path: &str) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .body(Body::empty())
        .expect("a request")
}

async fn heartbeat_keys_are_not_logged(db: &TestDatabase) {
    let app = App::new(db).await;
    let (integration_key, integration) =
        issue_integration(app.store.as_ref(), None, "backup", start())
            .await
            .expect("integration");
    let (heartbeat_key, _) = issue_heartbeat(
        app.store.as_ref(),
        &integration.id,
        "nightly",
        3600,
        0,
        start(),
    )
    .await
    .expect("heartbeat");
    let ack = ack_token(
        b"some secret",
        IncidentId(1),
        "alice",
        start(),
        start() + SignedDuration::from_hours(1),
    );
    let (subscriber, buffer) = capture();
    async {
        app.send(post_empty(&format!("/api/v1/heartbeats/{heartbeat_key}")))
            .await
            .expect(StatusCode::OK);
        // Unmatched paths with a key in them are logged too, redacted.
        app.send(post_empty(&format!(
            "/api/v1/heartbeats/{heartbeat_key}/extra"
        )))
        .await
        .expect(StatusCode::NOT_FOUND);
        app.send(post_empty(&format!("/ack/{ack}"))).await;
        app.send(
            Request::builder()
                .uri(format!("/ack/{ack}"))
                .body(Body::empty())
                .expect("a request"),
        )
        .await;
        app.send(post_empty(&format!(
            "/api/v1/integrations/{integration_key}/alertmanager"
        )))
        .await;
        app.send(post_empty(&format!("/nowhere/{}/x", app.admin)))
            .await
            .expect(StatusCode::NOT_FOUND);
    }
    .with_subscriber(subscriber)
    .await;
    let log = text_of(&buffer);
    assert!(
        log.contains("route=/api/v1/heartbeats/{key}"),
        "requests are logged by route template:\n{log}"
    );
    assert!(log.contains("route=/ack/{token}"), "{log}");
    assert!(log.contains("route=unmatched"), "{log}");
    for secret in [
        heartbeat_key.as_str(),
        &heartbeat_key[4..20],
        &ack,
        ack.split('.').next_back().unwrap_or("-"),
        &integration_key,
        &integration_key[4..20],
        &app.admin,
    ] {
        assert!(!log.contains(secret), "`{secret}` reached the log:\n{log}");
    }
}

async fn sign_in_names_are_logged_truncated(db: &TestDatabase) {
    let app = App::new(db).await;
    // As long as the form's body limit lets through.
    let name = format!("mallory{}", "x".repeat(60 * 1024));
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("name", &name)
        .append_pair("password", "wrong")
        .finish();
    let (subscriber, buffer) = capture();
    async {
        let reply = app
            .send(
                Request::builder()
                    .method(Method::POST)
                    .uri("/ui/signin")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(body))
                    .expect("a request"),
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    .with_subscriber(subscriber)
    .await;
    let log = text_of(&buffer);
    let line = log
        .lines()
        .find(|l| l.contains("UI sign-in refused"))
        .unwrap_or_else(|| panic!("the refusal is logged:\n{log}"));
    assert!(line.contains("name=mallory"), "{line}");
    assert!(
        line.contains("more bytes]"),
        "a marker says it was cut: {line}"
    );
    assert!(line.len() < 512, "{} bytes logged", line.len());
}

async fn html_pages_forbid_framing_and_no_response_is_sniffed(db: &TestDatabase) {
    let app = App::new(db).await;
    let ui = crate::support::request(Method::GET, "/ui/signin", None, None);
    for (path, reply) in [
        ("/status", app.get("/status", "").await),
        (
            "/ack/x",
            app.send(crate::support::request(
                Method::GET,
                "/ack/1.a.1.00",
                None,
                None,
            ))
            .await,
        ),
        ("/ui/signin", app.send(ui).await),
    ] {
        assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            reply.header("referrer-policy"),
            Some("no-referrer"),
            "{path}"
        );
        let csp = reply.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
    }
    for reply in [
        app.get("/status.json", "").await,
        app.get("/status/feed.atom", "").await,
        app.get("/health", "").await,
        app.get("/api/v1/incidents", "").await,
        app.get("/nowhere", "").await,
        app.get("/metrics", "").await,
    ] {
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{:?}",
            reply.headers
        );
    }
}

/// A router whose acknowledge links are signed with a key the test knows.
async fn app_with_ack_key(db: &TestDatabase, key: &[u8]) -> (Router, Arc<ManualClock>, String) {
    let clock = Arc::new(ManualClock::new(start()));
    let mut links = fireline_engine::paging::local_links();
    links.ack_secret = key.to_vec();
    let policy = LivePolicy::new(Policy::builtin());
    let pager = fireline_engine::Pager::new(db.store.clone(), links);
    let state = AppState {
        store: db.store.clone(),
        clock: clock.clone(),
        policy: policy.clone(),
        commands: fireline_engine::Commands::new(
            db.store.clone(),
            policy,
            clock.clone(),
            pager.clone(),
        ),
        inbox: fireline_http::receivers::inbox::InboxWriter::start(
            db.store.clone(),
            Arc::new(tokio::sync::Notify::new()),
        ),
        pager,
        metrics_token: None,
        runbooks: crate::support::runbooks(),
        signin_throttle: Arc::default(),
        outbound: fireline_notify::Allow::nothing(),
        twilio_auth_token: None,
        slack: None,
        web_push_key: None,
    };
    let (alice, _) = issue_token(
        db.store.as_ref(),
        Some("alice"),
        AccessRole::Responder,
        start(),
    )
    .await
    .expect("token");
    (fireline_http::router(state), clock, alice)
}

async fn an_old_ack_link_does_not_acknowledge_a_reopened_incident(db: &TestDatabase) {
    let key = b"test ack key";
    let (router, clock, alice) = app_with_ack_key(db, key).await;
    let call = |method: Method, path: String, body: Option<serde_json::Value>| {
        crate::support::send(
            router.clone(),
            crate::support::request(method, &path, Some(&alice), body),
        )
    };
    call(
        Method::POST,
        "/api/v1/incidents".into(),
        Some(json!({"title": "Checkout down", "severity": "SEV2", "service": "shop"})),
    )
    .await
    .expect(StatusCode::CREATED);
    let link = |issued: jiff::Timestamp| {
        ack_token(
            key,
            IncidentId(1),
            "bob",
            issued,
            issued + SignedDuration::from_hours(4),
        )
    };
    let first_episode = link(clock.now());
    clock.advance(SignedDuration::from_mins(5));
    call(
        Method::POST,
        "/api/v1/incidents/INC-1/resolve".into(),
        Some(json!({})),
    )
    .await
    .expect(StatusCode::OK);
    clock.advance(SignedDuration::from_mins(5));
    call(
        Method::POST,
        "/api/v1/incidents/INC-1/reopen".into(),
        Some(json!({})),
    )
    .await
    .expect(StatusCode::OK);
    clock.advance(SignedDuration::from_mins(1));

    let shown = call(Method::GET, format!("/ack/{first_episode}"), None).await;
    assert_eq!(shown.status, StatusCode::CONFLICT, "{}", shown.body);
    let page = shown.body.as_str().unwrap_or_default();
    assert!(page.contains("earlier episode"), "{page}");
    assert!(!page.contains("<form"), "no button: {page}");
    let pressed = call(Method::POST, format!("/ack/{first_episode}"), None).await;
    assert_eq!(pressed.status, StatusCode::CONFLICT, "{}", pressed.body);
    let detail = call(Method::GET, "/api/v1/incidents/INC-1".into(), None)
        .await
        .expect(StatusCode::OK);
    assert!(
        detail.body["incident"]["acknowledged_at"].is_null(),
        "the reopened incident is not acknowledged: {}",
        detail.body["incident"]
    );

    // A link sent for the reopened episode does acknowledge it.
    let current = link(clock.now());
    call(Method::POST, format!("/ack/{current}"), None)
        .await
        .expect(StatusCode::OK);
    let detail = call(Method::GET, "/api/v1/incidents/INC-1".into(), None)
        .await
        .expect(StatusCode::OK);
    assert!(
        !detail.body["incident"]["acknowledged_at"].is_null(),
        "{}",
        detail.body["incident"]
    );
}

async fn json_followed_by_garbage_is_refused(db: &TestDatabase) {
    let app = App::new(db).await;
    let reply = app
        .post_raw(
            "/api/v1/incidents",
            &app.alice,
            Some("application/json"),
            r#"{"title": "t", "severity": "SEV2", "service": "s"} xyz"#.to_owned(),
        )
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request", None);
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("trailing")),
        "{}",
        reply.body
    );
    assert_eq!(app.incident_count().await, 0);
    // Trailing whitespace is fine.
    app.post_raw(
        "/api/v1/incidents",
        &app.alice,
        Some("application/json"),
        "{\"title\": \"t\", \"severity\": \"SEV2\", \"service\": \"s\"} \n".to_owned(),
    )
    .await
    .expect(StatusCode::CREATED);

    // Receivers too, including the slow path that names the field.
    let (key, _) = issue_integration(app.store.as_ref(), None, "api", start())
        .await
        .expect("integration");
    for (path, body) in [
        (
            format!("/api/v1/integrations/{key}/alerts"),
            format!("{} xyz", json!({"key": "k", "summary": "s"})),
        ),
        (
            "/v2/enqueue".to_owned(),
            format!(
                "{} {{}}",
                json!({"routing_key": key, "event_action": "trigger",
                       "payload": {"summary": "s", "source": "h", "severity": "critical"}})
            ),
        ),
    ] {
        let reply = receive(&app, &path, Some("application/json"), body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            reply.body
        );
        assert!(
            reply.body.to_string().contains("trailing"),
            "{}",
            reply.body
        );
    }
}

async fn receive(app: &App, path: &str, content_type: Option<&str>, body: String) -> Reply {
    let mut builder = Request::builder().method(Method::POST).uri(path);
    if let Some(ct) = content_type {
        builder = builder.header(header::CONTENT_TYPE, ct);
    }
    app.send(builder.body(Body::from(body)).expect("a request"))
        .await
}

async fn json_bodies_without_a_content_type_are_refused(db: &TestDatabase) {
    let app = App::new(db).await;
    app.post_raw(
        "/api/v1/incidents",
        &app.alice,
        None,
        json!({"title": "t", "severity": "SEV2", "service": "s"}).to_string(),
    )
    .await
    .expect_error(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        None,
    );
    assert_eq!(app.incident_count().await, 0);
    // An action without arguments needs neither body nor type.
    app.declare("t", "SEV2", "s").await;
    app.post_raw(
        "/api/v1/incidents/INC-1/acknowledge",
        &app.alice,
        None,
        String::new(),
    )
    .await
    .expect(StatusCode::OK);

    let (key, _) = issue_integration(app.store.as_ref(), None, "api", start())
        .await
        .expect("integration");
    let alert = json!({"key": "k", "summary": "s"}).to_string();
    receive(
        &app,
        &format!("/api/v1/integrations/{key}/alerts"),
        None,
        alert.clone(),
    )
    .await
    .expect_error(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        None,
    );
    receive(
        &app,
        &format!("/api/v1/integrations/{key}/alerts"),
        Some("text/plain"),
        alert.clone(),
    )
    .await
    .expect(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    receive(
        &app,
        &format!("/api/v1/integrations/{key}/alerts"),
        Some("application/json; charset=utf-8"),
        alert,
    )
    .await
    .expect(StatusCode::ACCEPTED);
}

async fn oversized_bodies_are_refused_with_the_limit_that_applies(db: &TestDatabase) {
    let app = App::new(db).await;
    let (key, _) = issue_integration(app.store.as_ref(), None, "api", start())
        .await
        .expect("integration");
    let path = format!("/api/v1/integrations/{key}/alerts");
    // Between the API's limit and the receivers': accepted by a receiver.
    let summary = "x".repeat(fireline_http::MAX_BODY_BYTES);
    let mid = json!({"key": "k", "summary": "s", "annotations": {"big": summary[..16 * 1024].to_owned(), "b2": summary[..16 * 1024].to_owned(), "b3": summary[..16 * 1024].to_owned(), "b4": summary[..16 * 1024].to_owned(), "b5": summary[..16 * 1024].to_owned()}});
    let mid = mid.to_string();
    assert!(mid.len() > fireline_http::MAX_BODY_BYTES);
    receive(&app, &path, Some("application/json"), mid)
        .await
        .expect(StatusCode::ACCEPTED);
    // Past the receivers' limit: the message states that limit.
    let huge = format!(
        "{{\"key\": \"k\", \"summary\": \"{}\"}}",
        "x".repeat(fireline_http::MAX_ALERT_BODY_BYTES)
    );
    let reply = receive(&app, &path, Some("application/json"), huge)
        .await
        .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", None);
    let message = reply.body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&fireline_http::MAX_ALERT_BODY_BYTES.to_string()),
        "{message}"
    );
    // And an API body past the API's: that one.
    let reply = app
        .post_raw(
            "/api/v1/incidents",
            &app.alice,
            Some("application/json"),
            json!({"title": summary, "severity": "SEV2", "service": "s"}).to_string(),
        )
        .await
        .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", None);
    let message = reply.body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&fireline_http::MAX_BODY_BYTES.to_string()),
        "{message}"
    );
}

async fn times_past_the_supported_range_are_called_out_of_range(db: &TestDatabase) {
    let app = App::new(db).await;
    let (key, _) = issue_integration(app.store.as_ref(), None, "api", start())
        .await
        .expect("integration");
    let path = format!("/api/v1/integrations/{key}/alerts");
    let send = |started_at: &str| {
        receive(
            &app,
            &path,
            Some("application/json"),
            json!({"key": "k", "summary": "s", "started_at": started_at}).to_string(),
        )
    };
    let reply = send("9999-12-31T23:59:59Z").await.expect_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("started_at"),
    );
    let message = reply.body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("out of range (latest supported: 9999-"),
        "{message}"
    );
    assert!(!message.contains("not an RFC 3339"), "{message}");
    let reply = send("yesterday").await.expect_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("started_at"),
    );
    let message = reply.body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("not an RFC 3339"), "{message}");
}

/// Serves `app` on a local port with `options`; the sender stops it.
async fn serve(
    app: &App,
    options: fireline_http::ServeOptions,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(fireline_http::serve_with(
        listener,
        app.router.clone(),
        async move {
            let _ = stopped.await;
        },
        options,
    ));
    (addr, stop, server)
}

/// Reads until the server closes the connection, within `bound`: what it sent.
async fn until_closed(stream: &mut TcpStream, bound: Duration) -> Vec<u8> {
    let mut got = Vec::new();
    match tokio::time::timeout(bound, stream.read_to_end(&mut got)).await {
        Ok(_) => got,
        Err(_) => panic!("the connection was still open after {bound:?}"),
    }
}

async fn get_health(addr: std::net::SocketAddr) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(addr).await?;
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await?;
    let mut got = Vec::new();
    stream.read_to_end(&mut got).await?;
    Ok(got)
}

async fn half_sent_requests_are_disconnected(db: &TestDatabase) {
    let app = App::new(db).await;
    let timeout = Duration::from_millis(300);
    let (addr, stop, server) = serve(
        &app,
        fireline_http::ServeOptions {
            header_read_timeout: timeout,
            ..fireline_http::ServeOptions::default()
        },
    )
    .await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"GET /health HTT")
        .await
        .expect("half a request line");
    let begun = std::time::Instant::now();
    until_closed(&mut stream, Duration::from_secs(10)).await;
    assert!(
        begun.elapsed() >= timeout / 2,
        "closed after {:?}, before the timeout",
        begun.elapsed()
    );
    // Half the headers, too.
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow:")
        .await
        .expect("half the headers");
    until_closed(&mut stream, Duration::from_secs(10)).await;
    // A whole request is still served.
    let answer = get_health(addr).await.expect("a whole request");
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    stop.send(()).expect("the server runs");
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("the server stops")
        .expect("no panic")
        .expect("serve ends cleanly");
}

async fn connections_beyond_the_cap_wait_for_a_free_one(db: &TestDatabase) {
    let app = App::new(db).await;
    let (addr, stop, server) = serve(
        &app,
        fireline_http::ServeOptions {
            max_connections: 1,
            header_read_timeout: Duration::from_secs(60),
            ..fireline_http::ServeOptions::default()
        },
    )
    .await;
    // One idle connection holds the only slot.
    let mut holder = TcpStream::connect(addr).await.expect("connect");
    holder.write_all(b"GET /he").await.expect("partial");
    // A second client connects (the kernel's backlog) but is not served meanwhile.
    let mut waiting = tokio::spawn(get_health(addr));
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut waiting)
            .await
            .is_err(),
        "served beyond the cap"
    );
    // The slot frees: the waiting client is served.
    drop(holder);
    let answer = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("served once a slot is free")
        .expect("no panic")
        .expect("an answer");
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    stop.send(()).expect("the server runs");
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("the server stops")
        .expect("no panic")
        .expect("serve ends cleanly");
}

/// Reads until `marker` has arrived (or the server closes), within `bound`: what it sent.
async fn read_until(stream: &mut TcpStream, marker: &[u8], bound: Duration) -> Vec<u8> {
    let mut got = Vec::new();
    let read = async {
        let mut chunk = [0u8; 4096];
        while !got.windows(marker.len()).any(|w| w == marker) {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&chunk[..n]),
            }
        }
    };
    if tokio::time::timeout(bound, read).await.is_err() {
        panic!(
            "`{}` did not arrive within {bound:?}",
            String::from_utf8_lossy(marker)
        );
    }
    got
}

/// A request head for a JSON body of `length` bytes, with more `headers` lines.
fn head(path: &str, length: usize, headers: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\n{headers}\r\n"
    )
}

/// The status line of what the server sent.
fn status_line(answer: &[u8]) -> String {
    String::from_utf8_lossy(answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

async fn stop_server(
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
) {
    stop.send(()).expect("the server runs");
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("the server stops")
        .expect("no panic")
        .expect("serve ends cleanly");
}

/// Finding: an unknown key could make the server read (and hold) an 8 MiB body. The key
/// is checked first: the answer comes while the client has sent almost none of its body.
async fn anonymous_clients_cannot_make_the_server_read_alert_bodies(db: &TestDatabase) {
    let app = App::new(db).await;
    let (addr, stop, server) = serve(&app, fireline_http::ServeOptions::default()).await;
    let bogus = format!("fli_{}", "0".repeat(64));
    let big = fireline_http::MAX_ALERT_BODY_BYTES;
    for (path, headers) in [
        (
            format!("/api/v1/integrations/{bogus}/alerts"),
            String::new(),
        ),
        (
            format!("/api/v1/integrations/{bogus}/alertmanager"),
            String::new(),
        ),
        (
            "/api/v1/integrations/alertmanager".to_owned(),
            format!("Authorization: Bearer {bogus}\r\n"),
        ),
        (
            "/api/v1/integrations/alertmanager".to_owned(),
            String::new(),
        ),
    ] {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(head(&path, big, &headers).as_bytes())
            .await
            .expect("head");
        stream
            .write_all(b"{\"key\": \"k\", ")
            .await
            .expect("a little");
        // 8 MiB announced, 11 bytes sent: answered all the same.
        let answer = until_closed(&mut stream, Duration::from_secs(10)).await;
        assert!(
            answer.starts_with(b"HTTP/1.1 404"),
            "{path}: {}",
            String::from_utf8_lossy(&answer)
        );
    }
    // PagerDuty's key is in the body, which is read: only up to PagerDuty's own limit,
    // and a longer one is refused before it is read.
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(
            head(
                "/v2/enqueue",
                fireline_http::MAX_PAGERDUTY_BODY_BYTES + 1,
                "",
            )
            .as_bytes(),
        )
        .await
        .expect("head");
    let answer = until_closed(&mut stream, Duration::from_secs(10)).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 413"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert!(
        String::from_utf8_lossy(&answer)
            .contains(&fireline_http::MAX_PAGERDUTY_BODY_BYTES.to_string()),
        "the limit is stated"
    );
    stop_server(stop, server).await;
}

/// Sends `body` one byte per `every` from a task of its own, until the server closes.
fn trickle(mut writer: tokio::net::tcp::OwnedWriteHalf, body: Vec<u8>, every: Duration) {
    tokio::spawn(async move {
        for byte in body {
            if writer.write_all(&[byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(every).await;
        }
    });
}

/// Finding: a body trickled one byte every 5 s held its connection open indefinitely.
async fn trickled_bodies_are_cut_off_at_the_body_deadline(db: &TestDatabase) {
    let app = App::new(db).await;
    let deadline = Duration::from_millis(400);
    let (addr, stop, server) = serve(
        &app,
        fireline_http::ServeOptions {
            body_read_timeout: deadline,
            ..fireline_http::ServeOptions::default()
        },
    )
    .await;
    let (key, _) = issue_integration(app.store.as_ref(), None, "api", start())
        .await
        .expect("integration");
    let alert = json!({"key": "k", "summary": "s"}).to_string();
    let incident = json!({"title": "t", "severity": "SEV2", "service": "s"}).to_string();
    for (path, headers, body) in [
        (
            format!("/api/v1/integrations/{key}/alerts"),
            String::new(),
            alert,
        ),
        (
            "/api/v1/incidents".to_owned(),
            format!("Authorization: Bearer {}\r\n", app.alice),
            incident,
        ),
    ] {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let (mut reader, mut writer) = stream.into_split();
        writer
            .write_all(head(&path, body.len(), &headers).as_bytes())
            .await
            .expect("head");
        let begun = std::time::Instant::now();
        // 50 bytes a second would take a second or more: longer than the deadline.
        trickle(writer, body.into_bytes(), Duration::from_millis(20));
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut answer))
            .await
            .unwrap_or_else(|_| panic!("{path}: still open 10 s after a {deadline:?} deadline"))
            .expect("read");
        assert!(
            answer.starts_with(b"HTTP/1.1 408"),
            "{path}: {}",
            String::from_utf8_lossy(&answer)
        );
        assert!(
            String::from_utf8_lossy(&answer).contains("request_timeout"),
            "{}",
            String::from_utf8_lossy(&answer)
        );
        assert!(
            begun.elapsed() >= deadline / 2,
            "cut off after {:?}",
            begun.elapsed()
        );
    }
    assert_eq!(app.incident_count().await, 0);
    stop_server(stop, server).await;
}

/// Finding: authenticated large bodies, in numbers, could still exhaust memory. Bodies
/// being read share one budget: past it, a body waits (until its deadline) for room.
async fn bodies_being_read_share_a_byte_budget(db: &TestDatabase) {
    let app = App::new(db).await;
    let (addr, stop, server) = serve(
        &app,
        fireline_http::ServeOptions {
            // Raised to the largest body a route accepts: one alert body fills it.
            body_budget_bytes: 1,
            ..fireline_http::ServeOptions::default()
        },
    )
    .await;
    let (key, _) = issue_integration(app.store.as_ref(), None, "api", start())
        .await
        .expect("integration");
    let mut holder = TcpStream::connect(addr).await.expect("connect");
    holder
        .write_all(
            head(
                &format!("/api/v1/integrations/{key}/alerts"),
                fireline_http::MAX_ALERT_BODY_BYTES,
                "Expect: 100-continue\r\n",
            )
            .as_bytes(),
        )
        .await
        .expect("head");
    // The server asks for the body once it has taken the budget for it.
    let answer = read_until(&mut holder, b"\r\n\r\n", Duration::from_secs(10)).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 100"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    holder.write_all(b"{\"key\": ").await.expect("a little");
    // Another body, however small, waits while the budget is spent…
    let incident = json!({"title": "t", "severity": "SEV2", "service": "s"}).to_string();
    let request = format!(
        "{}{incident}",
        head(
            "/api/v1/incidents",
            incident.len(),
            &format!(
                "Authorization: Bearer {}\r\nConnection: close\r\n",
                app.alice
            ),
        )
    );
    let mut waiting = tokio::spawn(async move {
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(request.as_bytes()).await?;
        let mut got = Vec::new();
        stream.read_to_end(&mut got).await?;
        std::io::Result::Ok(got)
    });
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut waiting)
            .await
            .is_err(),
        "read past the budget"
    );
    // …and is read once the holder goes.
    drop(holder);
    let answer = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("read once the budget frees")
        .expect("no panic")
        .expect("an answer");
    assert!(
        answer.starts_with(b"HTTP/1.1 201"),
        "{}",
        status_line(&answer)
    );
    stop_server(stop, server).await;
}

/// A UI session cookie for `token`.
async fn session_cookie(app: &App, token: &str) -> String {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("token", token)
        .finish();
    let reply = app
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/ui/signin")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .expect("a request"),
        )
        .await
        .expect(StatusCode::SEE_OTHER);
    let set = reply.header("set-cookie").expect("a session cookie");
    set.split(';').next().expect("name=value").to_owned()
}

/// An open `/ui/events` stream on `addr`, its head read.
async fn open_event_stream(addr: std::net::SocketAddr, cookie: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(
            format!("GET /ui/events HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\r\n").as_bytes(),
        )
        .await
        .expect("request");
    let answer = read_until(&mut stream, b"\r\n\r\n", Duration::from_secs(10)).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    stream
}

/// Finding: after SIGTERM, one open event stream or one slow upload kept the process
/// alive for as long as the client liked.
async fn graceful_shutdown_ends_event_streams_and_has_a_deadline(db: &TestDatabase) {
    let app = App::new(db).await;
    let cookie = session_cookie(&app, &app.viewer).await;
    // An open event stream ends on shutdown: no waiting for the (long) drain deadline.
    let (addr, stop, server) = serve(
        &app,
        fireline_http::ServeOptions {
            drain_timeout: Duration::from_secs(600),
            ..fireline_http::ServeOptions::default()
        },
    )
    .await;
    let mut events = open_event_stream(addr, &cookie).await;
    let begun = std::time::Instant::now();
    stop_server(stop, server).await;
    assert!(
        begun.elapsed() < Duration::from_secs(30),
        "stopped after {:?}",
        begun.elapsed()
    );
    until_closed(&mut events, Duration::from_secs(10)).await;

    // A request whose body is half sent is given the drain deadline, then closed.
    let drain = Duration::from_millis(300);
    let (addr, stop, server) = serve(
        &app,
        fireline_http::ServeOptions {
            drain_timeout: drain,
            ..fireline_http::ServeOptions::default()
        },
    )
    .await;
    let (key, _) = issue_integration(app.store.as_ref(), None, "api", start())
        .await
        .expect("integration");
    let mut events = open_event_stream(addr, &cookie).await;
    let mut upload = TcpStream::connect(addr).await.expect("connect");
    upload
        .write_all(
            head(
                &format!("/api/v1/integrations/{key}/alerts"),
                1000,
                "Expect: 100-continue\r\n",
            )
            .as_bytes(),
        )
        .await
        .expect("head");
    // In its handler, reading the body.
    read_until(&mut upload, b"\r\n\r\n", Duration::from_secs(10)).await;
    upload.write_all(b"{\"key\": ").await.expect("a little");
    let begun = std::time::Instant::now();
    stop.send(()).expect("the server runs");
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("serve returns soon after the drain deadline")
        .expect("no panic")
        .expect("serve ends cleanly");
    assert!(
        begun.elapsed() >= drain / 2,
        "returned after {:?}, before the deadline",
        begun.elapsed()
    );
    until_closed(&mut upload, Duration::from_secs(10)).await;
    until_closed(&mut events, Duration::from_secs(10)).await;
}

/// Finding: a client's `x-request-id` was logged whole (60 KB lines) and could carry
/// spaces that pass for other fields.
async fn client_request_ids_are_bounded_and_cannot_fake_fields(db: &TestDatabase) {
    let app = App::new(db).await;
    let health = |id: &str| {
        Request::builder()
            .uri("/health")
            .header("x-request-id", id)
            .body(Body::empty())
            .expect("a request")
    };
    let long = "a".repeat(60_000);
    let forged = "abc route=/api/v1/tokens status=200";
    for (sent, kept) in [
        (long.as_str(), false),
        (forged, false),
        (&"b".repeat(65)[..], false),
        ("abc\tdef", false),
        ("Abc-123_x.Y", true),
        (&"c".repeat(64)[..], true),
    ] {
        let (subscriber, buffer) = capture();
        let reply = app.send(health(sent)).with_subscriber(subscriber).await;
        assert_eq!(reply.status, StatusCode::OK);
        let used = reply.header("x-request-id").expect("an id").to_owned();
        let log = text_of(&buffer);
        let line = log
            .lines()
            .find(|l| l.contains("route=/health"))
            .unwrap_or_else(|| panic!("the request is logged:\n{log}"));
        assert!(line.contains(&format!("request_id={used}")), "{line}");
        if kept {
            assert_eq!(used, sent);
        } else {
            assert_ne!(used, sent);
            assert_eq!(used.len(), 36, "a generated UUID: {used}");
            assert!(!line.contains("route=/api/v1/tokens"), "{line}");
            assert!(line.len() < 1024, "{} bytes logged", line.len());
        }
    }
}
