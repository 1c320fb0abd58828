//! A local stand-in for a provider's API (ntfy, Pushover, Twilio and the chat providers
//! cannot be reached from tests): it records each request, checks it against the provider's documented shape,
//! and answers with the documented JSON from `tests/fixtures/`. A request that breaks the
//! documented shape is answered `400` with the list of what is wrong, so the delivery
//! fails and the test says why.
// Each test binary uses a part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// A header's value (the first, by case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("utf-8 body")
    }

    /// The body as `application/x-www-form-urlencoded` pairs.
    pub fn form(&self) -> Vec<(String, String)> {
        form_decode(&self.body_text())
    }

    /// One form field, which must appear at most once.
    pub fn field(&self, name: &str) -> Option<String> {
        let values: Vec<String> = self
            .form()
            .into_iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v)
            .collect();
        assert!(values.len() <= 1, "{name} sent {} times", values.len());
        values.into_iter().next()
    }

    /// HTTP Basic credentials, decoded.
    pub fn basic_auth(&self) -> Option<(String, String)> {
        use base64::Engine as _;
        let encoded = self.header("authorization")?.strip_prefix("Basic ")?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        Some((user.to_owned(), password.to_owned()))
    }
}

/// What the stand-in answers with.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    /// Wait this long before answering (to make the client time out).
    pub delay: Option<Duration>,
    /// The body's media type (none for an empty body).
    pub content_type: &'static str,
    /// More response headers (`Retry-After`).
    pub headers: Vec<(&'static str, &'static str)>,
}

impl Reply {
    pub fn json(status: u16, body: String) -> Reply {
        Reply {
            status,
            body,
            delay: None,
            content_type: "application/json",
            headers: Vec::new(),
        }
    }

    /// A plain-text answer (Mattermost's `ok`).
    pub fn text(status: u16, body: &str) -> Reply {
        Reply {
            content_type: "text/plain",
            ..Reply::json(status, body.to_owned())
        }
    }

    /// An answer without a body (Discord's 204, Teams' 202).
    pub fn empty(status: u16) -> Reply {
        Reply::json(status, String::new())
    }

    pub fn with_header(mut self, name: &'static str, value: &'static str) -> Reply {
        self.headers.push((name, value));
        self
    }
}

/// Checks a request against the provider's documentation: what is wrong, if anything.
pub type Check = fn(&Request) -> Vec<String>;

/// Records every request; answers each with `reply` (or 400 when `check` finds fault).
/// The accept loop runs until the test process ends.
pub struct StandIn {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl StandIn {
    pub fn start(check: Check, reply: Reply) -> StandIn {
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
                let faults = check(&request);
                recorded.lock().expect("lock").push(request);
                let (status, body, content_type, headers) = if faults.is_empty() {
                    (
                        reply.status,
                        reply.body.clone(),
                        reply.content_type,
                        reply.headers.clone(),
                    )
                } else {
                    let list = serde_json::to_string(&faults).expect("json");
                    let body = format!("{{\"stand_in_faults\":{list}}}");
                    (400, body, "application/json", Vec::new())
                };
                if let Some(delay) = reply.delay {
                    thread::sleep(delay);
                }
                let mut head = format!(
                    "HTTP/1.1 {status} Whatever\r\nContent-Length: {}\r\nConnection: close\r\n",
                    body.len()
                );
                if !body.is_empty() {
                    head.push_str(&format!("Content-Type: {content_type}\r\n"));
                }
                for (name, value) in headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(body.as_bytes());
            }
        });
        StandIn { addr, requests }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("lock").clone()
    }

    pub fn only_request(&self) -> Request {
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
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

/// `application/x-www-form-urlencoded` decoded (`+` is a space, `%XX` a byte).
pub fn form_decode(body: &str) -> Vec<(String, String)> {
    fn decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii");
                    out.push(u8::from_str_radix(hex, 16).expect("hex escape"));
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8(out).expect("utf-8 form value")
    }
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

/// A fixture from `tests/fixtures/`: lines starting with `//` (where it comes from) are
/// dropped, the rest is the body as the provider documents it.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let body: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect();
    let body = body.join("\n");
    serde_json::from_str::<serde_json::Value>(&body)
        .unwrap_or_else(|e| panic!("{path} is not JSON: {e}"));
    body
}

/// A port nothing listens on (connections are refused).
pub fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    addr
}
