//! The real server on a real socket: serves HTTP/1.1 and shuts down gracefully.

use crate::support::App;
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

backend_tests!(serves_on_a_socket_and_shuts_down_gracefully);

/// A response as read off the wire.
#[derive(Debug)]
struct RawResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl RawResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 exchange on a fresh connection (`Connection: close`).
async fn exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> std::io::Result<RawResponse> {
    let mut stream = TcpStream::connect(addr).await?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Length: {}\r\n",
        body.len()
    );
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream.write_all(request.as_bytes()).await?;

    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = std::str::from_utf8(&raw[..split]).expect("an ASCII head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("a status line");
    let mut parts = status_line.splitn(3, ' ');
    assert_eq!(parts.next(), Some("HTTP/1.1"), "{status_line}");
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            let (name, value) = line.split_once(':').expect("a header line");
            (name.trim().to_owned(), value.trim().to_owned())
        })
        .collect();
    let response = RawResponse {
        status,
        headers,
        body: Value::Null,
    };
    assert_eq!(
        response.header("transfer-encoding"),
        None,
        "JSON responses carry a Content-Length"
    );
    let length: usize = response
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .expect("a Content-Length");
    let content = &raw[split + 4..];
    assert_eq!(content.len(), length, "the body is as long as announced");
    let body = if content.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(content).expect("a JSON body")
    };
    Ok(RawResponse { body, ..response })
}

async fn serves_on_a_socket_and_shuts_down_gracefully(db: &TestDatabase) {
    let app = App::new(db).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(fireline_http::serve(
        listener,
        app.router.clone(),
        async move {
            let _ = stopped.await;
        },
    ));

    // Up when /health answers; bounded, so a server that never comes up fails the test.
    let mut health = None;
    for _ in 0..100 {
        match exchange(addr, "GET", "/health", None, None).await {
            Ok(response) => {
                health = Some(response);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    let health = health.expect("the server answers /health");
    assert_eq!(health.status, 200, "{:?}", health.body);
    assert_eq!(health.body["status"], "ok");
    assert_eq!(health.body["database"], db.store.backend());
    assert!(
        health
            .header("x-request-id")
            .is_some_and(|id| !id.is_empty()),
        "every response carries a request id: {:?}",
        health.headers
    );

    // A real write over the wire.
    let declared = exchange(
        addr,
        "POST",
        "/api/v1/incidents",
        Some(&app.alice),
        Some(&json!({"title": "Over the wire", "severity": "sev3", "service": "net"})),
    )
    .await
    .expect("declare");
    assert_eq!(declared.status, 201, "{}", declared.body);
    assert_eq!(declared.header("location"), Some("/api/v1/incidents/INC-1"));
    assert_eq!(declared.body["incident"]["declared_by"], "alice");

    // Two requests get different ids.
    let first = exchange(
        addr,
        "GET",
        "/api/v1/incidents/INC-1",
        Some(&app.viewer),
        None,
    )
    .await
    .expect("show");
    assert_eq!(first.status, 200);
    assert_eq!(first.body["incident"]["title"], "Over the wire");
    assert_ne!(first.header("x-request-id"), health.header("x-request-id"));

    // Refusals look the same over the wire.
    let refused = exchange(addr, "GET", "/api/v1/incidents", None, None)
        .await
        .expect("list");
    assert_eq!(refused.status, 401);
    assert_eq!(refused.body["error"]["code"], "unauthorized");
    assert_eq!(refused.header("www-authenticate"), Some("Bearer"));

    // Stop: the serve task ends cleanly, and the port no longer accepts.
    stop.send(()).expect("the server is listening for shutdown");
    let result = tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("the server stops within 30s")
        .expect("the serve task does not panic");
    assert!(result.is_ok(), "serve ended with {result:?}");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "nothing listens after shutdown"
    );

    // What it stored is still there.
    assert_eq!(
        app.incident("INC-1").await["incident"]["title"],
        "Over the wire"
    );
}
