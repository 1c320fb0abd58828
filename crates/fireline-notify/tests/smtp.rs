//! E-mail through a real SMTP server (Python's aiosmtpd, writing to a maildir), and the
//! classification of SMTP failures against scripted peers.
//!
//! aiosmtpd comes from PyPI (`pip install aiosmtpd`). Without it the real-server test
//! prints "skipped" — unless `CI` or `FIRELINE_TEST_SMTP` is set, when it fails.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use fireline_notify::{DeliveryError, Destination, Item, Message, Notifier, SmtpConfig, SmtpTls};
use jiff::Timestamp;

/// Kills the server when the test ends, however it ends.
struct SmtpServer {
    child: Child,
    port: u16,
    maildir: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpServer {
    /// Starts aiosmtpd on a free port, or returns `None` (after saying so) when it is not
    /// installed and the environment does not insist on it.
    fn start() -> Option<SmtpServer> {
        let available = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !available {
            let required = std::env::var_os("CI").is_some()
                || std::env::var_os("FIRELINE_TEST_SMTP").is_some();
            assert!(
                !required,
                "python3 with aiosmtpd is required (CI or FIRELINE_TEST_SMTP is set): \
                 install it with `pip install aiosmtpd`"
            );
            println!("skipped: python3 -c 'import aiosmtpd' failed; `pip install aiosmtpd` to run");
            return None;
        }

        let port = free_port();
        let dir = tempfile::tempdir().expect("tempdir");
        let maildir = dir.path().join("mail");
        let log = dir.path().join("aiosmtpd.log");
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("spawn python3 -m aiosmtpd");
        let mut server = SmtpServer {
            child,
            port,
            maildir,
            log,
            _dir: dir,
        };
        server.wait_until_listening();
        Some(server)
    }

    fn wait_until_listening(&mut self) {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("aiosmtpd exited with {status}: {}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen on {addr} within 10s: {}",
                self.log()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The one message in the maildir (aiosmtpd has stored it before answering 250, the
    /// short poll only absorbs file-system lag).
    fn only_mail(&self) -> String {
        let new = self.maildir.join("new");
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let files = files_in(&new);
            if !files.is_empty() {
                assert_eq!(files.len(), 1, "{files:?}");
                let raw = std::fs::read_to_string(&files[0]).expect("read mail");
                return raw.replace("\r\n", "\n");
            }
            assert!(
                Instant::now() < deadline,
                "no mail in {new:?}: {}",
                self.log()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

fn config(port: u16) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        tls: SmtpTls::None,
        username: None,
        password: None,
        from: "Fireline <fireline@example.com>".into(),
        timeout: Duration::from_secs(5),
    }
}

fn notifier(port: u16) -> Notifier {
    Notifier::new(Some(config(port)), Duration::from_secs(5)).expect("notifier")
}

fn now() -> Timestamp {
    "2026-03-02T14:00:00Z".parse().expect("timestamp")
}

/// Longer than a mail line, so the body is quoted-printable and the link must survive
/// soft line breaks.
const ACK_URL: &str = "https://fireline.example/ack/12.alice.1772460000.1772546400.0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

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
            ack_url: Some(ACK_URL.into()),
        }],
        text: Some("Repeats every 5m until acknowledged.".into()),
        urgent: true,
        confirm_url: None,
        unsubscribe_url: None,
    }
}

fn to_alice() -> Destination {
    Destination::Email {
        to: "alice@example.com".into(),
    }
}

/// Headers (unfolded) and the decoded body of a stored mail.
fn parse_mail(raw: &str) -> (Vec<(String, String)>, String) {
    let (head, body) = raw.split_once("\n\n").expect("header/body separator");
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
    }
    let encoding = header(&headers, "Content-Transfer-Encoding").unwrap_or("7bit");
    let body = match encoding.to_ascii_lowercase().as_str() {
        "7bit" | "8bit" => body.to_owned(),
        "quoted-printable" => decode_quoted_printable(body),
        other => panic!("unexpected transfer encoding {other}"),
    };
    (headers, body)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn decode_quoted_printable(text: &str) -> String {
    let text = text.replace("=\n", "");
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii");
            out.push(u8::from_str_radix(hex, 16).expect("hex escape"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("utf-8 body")
}

#[test]
fn a_page_arrives_through_a_real_smtp_server() {
    let Some(server) = SmtpServer::start() else {
        return;
    };
    let delivered = notifier(server.port)
        .send(&to_alice(), &page(), now())
        .expect("delivered");
    assert!(delivered.detail.starts_with("250"), "{delivered:?}");

    let raw = server.only_mail();
    let (headers, body) = parse_mail(&raw);
    assert_eq!(
        header(&headers, "Subject"),
        Some("Paged: [SEV1] Checkout 5xx"),
        "{raw}"
    );
    assert_eq!(
        header(&headers, "From"),
        Some("Fireline <fireline@example.com>"),
        "{raw}"
    );
    assert_eq!(header(&headers, "To"), Some("alice@example.com"), "{raw}");
    assert_eq!(
        header(&headers, "X-Fireline-Key"),
        Some("c0:page:INC-12:alice"),
        "{raw}"
    );
    // `now`, not the machine's clock, dates the mail.
    assert_eq!(
        header(&headers, "Date"),
        Some("Mon, 02 Mar 2026 14:00:00 +0000"),
        "{raw}"
    );
    for needle in [
        "INC-12: Checkout returns 5xx\n",
        "Severity: SEV1\n",
        "Service:  checkout-api\n",
        "Status:   triggered\n",
        "Reason:   declared SEV1\n",
        &format!("Acknowledge:\n{ACK_URL}\n"),
        "Runbook:  https://wiki.example/runbooks/checkout\n",
        "Incident: https://fireline.example/ui/incidents/INC-12\n",
        "Repeats every 5m until acknowledged.",
    ] {
        assert!(body.contains(needle), "{needle:?} not in body:\n{body}");
    }
}

#[test]
fn an_unreachable_smtp_server_is_transient() {
    let port = free_port();
    let error = notifier(port)
        .send(&to_alice(), &page(), now())
        .expect_err("nothing listens");
    assert!(matches!(error, DeliveryError::Transient(_)), "{error:?}");
}

#[test]
fn a_malformed_recipient_is_permanent() {
    let error = notifier(free_port())
        .send(
            &Destination::Email {
                to: "alice at example.com".into(),
            },
            &page(),
            now(),
        )
        .expect_err("refused");
    assert!(matches!(error, DeliveryError::Permanent(_)), "{error:?}");
}

/// A scripted SMTP peer: greets, then answers each command by its verb, with
/// `rcpt_reply` for RCPT TO.
fn scripted_peer(rcpt_reply: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let mut writer = stream.try_clone().expect("clone");
        let mut reader = BufReader::new(stream);
        let _ = writer.write_all(b"220 scripted ESMTP\r\n");
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let verb = line
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_ascii_uppercase();
            let reply = match verb.as_str() {
                "EHLO" | "HELO" => "250 scripted\r\n",
                "MAIL" | "RSET" | "NOOP" => "250 OK\r\n",
                "RCPT" => rcpt_reply,
                "QUIT" => "221 bye\r\n",
                _ => "502 not scripted\r\n",
            };
            let _ = writer.write_all(reply.as_bytes());
            if verb == "QUIT" {
                return;
            }
        }
    });
    port
}

#[test]
fn smtp_4xx_is_transient_and_5xx_permanent() {
    let port = scripted_peer("451 4.3.0 mailbox busy, try later\r\n");
    let error = notifier(port)
        .send(&to_alice(), &page(), now())
        .expect_err("refused");
    assert!(matches!(error, DeliveryError::Transient(_)), "{error:?}");
    assert!(error.detail().contains("451"), "{error}");

    let port = scripted_peer("550 5.1.1 no such user\r\n");
    let error = notifier(port)
        .send(&to_alice(), &page(), now())
        .expect_err("refused");
    assert!(matches!(error, DeliveryError::Permanent(_)), "{error:?}");
    assert!(error.detail().contains("550"), "{error}");
}
