//! A page by e-mail, end to end: `fireline serve` with a roster pages whoever is on call
//! through a real SMTP server (aiosmtpd from PyPI, started here on loopback); the mail
//! carries the incident and an acknowledge link; following the link shows the incident
//! (without acting), posting it acknowledges as the person paged, and escalation stops.
//!
//! aiosmtpd must be importable by `python3`; `scripts/test` installs it. When it is
//! missing the test fails if `CI` or `FIRELINE_TEST_SMTP` is set and is skipped otherwise.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_fireline");
const DEADLINE: Duration = Duration::from_secs(30);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn aiosmtpd_available() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none() && std::env::var_os("FIRELINE_TEST_SMTP").is_none(),
            "aiosmtpd is not installed: run ./scripts/test (it installs it) or pip install aiosmtpd"
        );
        eprintln!("paging: test skipped: python3 cannot import aiosmtpd (pip install aiosmtpd)");
    }
    found
}

/// A child process killed on drop.
struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// aiosmtpd writing every message it accepts to `maildir`.
fn start_smtp(maildir: &Path) -> (Kill, u16) {
    let port = free_port();
    let child = Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("aiosmtpd starts");
    let child = Kill(child);
    let begun = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(begun.elapsed() < DEADLINE, "aiosmtpd did not listen");
        // Polling an external process until it is up.
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, port)
}

fn fireline_line(args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("FIRELINE_CONFIG")
        .output()
        .expect("fireline runs");
    assert!(
        out.status.success(),
        "`fireline {}`: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Decodes quoted-printable (soft breaks and `=XX`), as a mail client would.
fn unquote(body: &str) -> String {
    let joined = body.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn mails(maildir: &Path) -> Vec<String> {
    std::fs::read_dir(maildir.join("new"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_by_email_carries_a_link_that_acknowledges() {
    if !aiosmtpd_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let maildir: PathBuf = dir.path().join("mail");
    let (_smtp, smtp_port) = start_smtp(&maildir);
    let db = format!("sqlite://{}", dir.path().join("fireline.db").display());
    let admin = fireline_line(&["--db", &db, "token", "create", "--role", "admin"]);

    // The roster: alice is on call on `primary`, which the default policy pages for SEV1.
    {
        let store = fireline_store::open(&db).await.expect("store");
        let roster = fireline_core::oncall::Roster::from_toml_str(
            r#"
[people.alice]
name = "Alice Ng"
contacts = [{ kind = "email", address = "alice@example.com" }]
[schedules.primary]
name = "Primary"
time_zone = "UTC"
[[schedules.primary.layers]]
name = "weekly"
participants = ["alice"]
shift = "1w"
handoff = "00:00"
start = "2026-01-05"
"#,
        )
        .expect("roster");
        store
            .replace_roster(&roster, jiff::Timestamp::now())
            .await
            .expect("roster stored");
        store.close().await;
    }

    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(BIN)
        .args(["--db", &db, "serve", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .env_remove("FIRELINE_CONFIG")
        .env("FIRELINE_SMTP_HOST", "127.0.0.1")
        .env("FIRELINE_SMTP_PORT", smtp_port.to_string())
        .env("FIRELINE_SMTP_TLS", "none")
        .env("FIRELINE_SMTP_FROM", "fireline@example.com")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let _server = Kill(child);
    let logs = Arc::new(Mutex::new(Vec::<String>::new()));
    let (tx, rx) = mpsc::channel();
    {
        let logs = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                logs.lock().expect("lock").push(line.clone());
                let _ = tx.send(line);
            }
        });
    }
    loop {
        let line = rx
            .recv_timeout(DEADLINE)
            .expect("serve logs that it listens");
        if line.contains("listening on") {
            break;
        }
    }

    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let mut response = agent
        .post(&format!("{url}/api/v1/incidents"))
        .header("Authorization", &format!("Bearer {admin}"))
        .send_json(
            json!({"title": "Checkout returns 502", "severity": "SEV1", "service": "checkout"}),
        )
        .expect("declare");
    assert_eq!(
        response.status(),
        201,
        "{:?}",
        response.body_mut().read_to_string()
    );
    let declared: Value = response.body_mut().read_json().expect("json");
    let id = declared["incident"]["id"].as_str().expect("id").to_owned();

    let begun = Instant::now();
    let mail = loop {
        if let Some(m) = mails(&maildir).into_iter().next() {
            break unquote(&m);
        }
        assert!(
            begun.elapsed() < DEADLINE,
            "no mail arrived; server log:\n{}",
            logs.lock().expect("lock").join("\n")
        );
        // Polling the SMTP server's maildir.
        std::thread::sleep(Duration::from_millis(100));
    };
    let subject = mail
        .lines()
        .find_map(|l| l.strip_prefix("Subject: "))
        .expect("a subject");
    assert!(
        subject.contains("[SEV1]") && subject.contains("Checkout returns 502"),
        "{subject}"
    );
    assert!(mail.contains("To: alice@example.com"), "{mail}");
    assert!(mail.contains("checkout"), "the service: {mail}");
    let link = mail
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{url}/ack/")))
        .unwrap_or_else(|| panic!("an acknowledge link to {url}: {mail}"))
        .trim_end_matches(['>', ')', '.'])
        .to_owned();

    // Opening the link shows the incident and acts on nothing.
    let mut page = agent.get(&link).call().expect("GET link");
    assert_eq!(page.status(), 200);
    let html = page.body_mut().read_to_string().expect("html");
    assert!(
        html.contains("Checkout returns 502") && html.contains("<form method=\"post\">"),
        "{html}"
    );
    let incident = |agent: &ureq::Agent| -> Value {
        agent
            .get(&format!("{url}/api/v1/incidents/{id}"))
            .header("Authorization", &format!("Bearer {admin}"))
            .call()
            .expect("show")
            .body_mut()
            .read_json()
            .expect("json")
    };
    assert!(
        incident(&agent)["incident"]["acknowledged_at"].is_null(),
        "GET must not acknowledge"
    );

    // A tampered link does nothing.
    let mut tampered = link.clone();
    let last = tampered.pop().expect("a character");
    tampered.push(if last == '0' { '1' } else { '0' });
    assert_eq!(
        agent.post(&tampered).send_empty().expect("POST").status(),
        403
    );

    // Posting it acknowledges, as alice.
    let mut done = agent.post(&link).send_empty().expect("POST link");
    assert_eq!(done.status(), 200, "{:?}", done.body_mut().read_to_string());
    let after = incident(&agent);
    assert_eq!(after["incident"]["acknowledged_by"], "alice", "{after:#}");
    let kinds: Vec<&str> = after["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"notified"), "{kinds:?}");
    let paged = after["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .find(|e| e["kind"] == "paged")
        .expect("paged");
    assert_eq!(
        paged["data"]["recipients"][0]["person"], "alice",
        "{paged:#}"
    );
    assert_eq!(paged["data"]["recipients"][0]["via"], "schedule:primary");
    // The link is a secret: never in the log.
    let token = link.rsplit('/').next().expect("token");
    assert!(
        !logs.lock().expect("lock").iter().any(|l| l.contains(token)),
        "the acknowledge token was logged"
    );
}
