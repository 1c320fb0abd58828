//! Status page subscribers end to end: `fireline serve` with a real SMTP server
//! (aiosmtpd, on loopback). A visitor subscribes on the status page, the confirmation
//! e-mail arrives, its link shows a button (and confirms nothing) until it is posted;
//! a status page update then reaches the confirmed subscribers with RFC 8058
//! `List-Unsubscribe` headers and nobody unconfirmed; the one-click POST to that header's
//! URL unsubscribes, and the next update is not sent to them.
//!
//! aiosmtpd must be importable by `python3`; `scripts/test` installs it. When it is
//! missing the test fails if `CI` or `FIRELINE_TEST_SMTP` is set and is skipped otherwise.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
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
        eprintln!("subscribers: test skipped: python3 cannot import aiosmtpd");
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

/// One received e-mail: headers unfolded, body decoded from quoted-printable.
#[derive(Debug, Clone)]
struct Mail {
    headers: String,
    body: String,
}

impl Mail {
    fn parse(raw: &str) -> Mail {
        let raw = raw.replace("\r\n", "\n");
        let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
        let headers = head.replace("\n ", " ").replace("\n\t", " ");
        let joined = body.replace("=\n", "");
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
        Mail {
            headers,
            body: String::from_utf8_lossy(&out).into_owned(),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
    }

    fn to(&self, address: &str) -> bool {
        self.header("To") == Some(address)
    }

    /// The first word of the body starting with `prefix`.
    fn link(&self, prefix: &str) -> String {
        self.body
            .split_whitespace()
            .find(|w| w.starts_with(prefix))
            .unwrap_or_else(|| panic!("a link {prefix}… in {self:?}"))
            .to_owned()
    }
}

fn mails(maildir: &Path) -> Vec<Mail> {
    std::fs::read_dir(maildir.join("new"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .map(|raw| Mail::parse(&raw))
                .collect()
        })
        .unwrap_or_default()
}

/// Waits (bounded) for a mail `wanted` picks; the server's log on failure.
fn wait_for(
    maildir: &Path,
    logs: &Mutex<Vec<String>>,
    what: &str,
    wanted: impl Fn(&Mail) -> bool,
) -> Mail {
    let begun = Instant::now();
    loop {
        if let Some(m) = mails(maildir).into_iter().find(|m| wanted(m)) {
            return m;
        }
        assert!(
            begun.elapsed() < DEADLINE,
            "no mail: {what}; server log:\n{}",
            logs.lock().expect("lock").join("\n")
        );
        // Polling the SMTP server's maildir.
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn token(db: &str) -> String {
    let out = Command::new(BIN)
        .args(["--db", db, "token", "create", "--role", "admin"])
        .env_remove("FIRELINE_CONFIG")
        .output()
        .expect("fireline runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// `fireline serve` on `port` sending mail through `smtp_port`, with the policy file
/// `policy` if any; its log lines so far.
fn serve(
    db: &str,
    port: u16,
    smtp_port: u16,
    policy: Option<&Path>,
) -> (Kill, Arc<Mutex<Vec<String>>>) {
    let mut command = Command::new(BIN);
    if let Some(policy) = policy {
        command.env("FIRELINE_POLICY", policy);
    }
    let mut child = command
        .args(["--db", db, "serve", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .env_remove("FIRELINE_CONFIG")
        .env("FIRELINE_SMTP_HOST", "127.0.0.1")
        .env("FIRELINE_SMTP_PORT", smtp_port.to_string())
        .env("FIRELINE_SMTP_TLS", "none")
        .env("FIRELINE_SMTP_FROM", "status@example.com")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let server = Kill(child);
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
    (server, logs)
}

/// The server under test, its mail and a client.
struct Rig {
    url: String,
    admin: String,
    agent: ureq::Agent,
    maildir: std::path::PathBuf,
    logs: Arc<Mutex<Vec<String>>>,
}

impl Rig {
    /// A POST of a form body to `path`: status and page.
    fn form(&self, path: &str, body: &str) -> (u16, String) {
        let mut reply = self
            .agent
            .post(&format!("{}{path}", self.url))
            .content_type("application/x-www-form-urlencoded")
            .send(body)
            .expect("POST");
        let status = reply.status().as_u16();
        (
            status,
            reply.body_mut().read_to_string().unwrap_or_default(),
        )
    }

    /// An API call as the admin: status and JSON.
    fn api(&self, path: &str, body: Option<Value>) -> (u16, Value) {
        let target = format!("{}{path}", self.url);
        let auth = format!("Bearer {}", self.admin);
        let mut reply = match body {
            None => self
                .agent
                .get(&target)
                .header("Authorization", &auth)
                .call(),
            Some(body) => self
                .agent
                .post(&target)
                .header("Authorization", &auth)
                .send_json(body),
        }
        .expect("API call");
        let status = reply.status().as_u16();
        (status, reply.body_mut().read_json().unwrap_or(Value::Null))
    }

    fn wait_for(&self, what: &str, wanted: impl Fn(&Mail) -> bool) -> Mail {
        wait_for(&self.maildir, &self.logs, what, wanted)
    }

    fn post_update(&self, id: &str, text: &str) {
        let (status, body) = self.api(
            &format!("/api/v1/incidents/{id}/updates"),
            Some(json!({"channel": "status_page", "text": text})),
        );
        assert_eq!(status, 200, "{body}");
    }

    /// Follows `who`'s confirmation link: the GET shows a button and confirms
    /// nothing, the POST confirms.
    fn confirm(&self, who: &str) {
        let address = format!("{who}@example.com");
        let mail = self.wait_for("a confirmation", |m| m.to(&address));
        assert_eq!(
            mail.header("Subject"),
            Some("Confirm your subscription to status updates")
        );
        let link = mail.link(&format!("{}/status/confirm/", self.url));
        let mut page = self.agent.get(&link).call().expect("GET confirm");
        assert_eq!(page.status(), 200);
        let html = page.body_mut().read_to_string().expect("html");
        assert!(html.contains("<form method=\"post\">"), "{html}");
        let (_, list) = self.api("/api/v1/status/subscribers", None);
        let mine = list["subscribers"]
            .as_array()
            .expect("list")
            .iter()
            .find(|s| s["address"] == address.as_str())
            .cloned()
            .expect("listed");
        assert!(
            mine["confirmed_at"].is_null(),
            "GET must not confirm: {mine}"
        );
        let (status, done) = self.form(link.trim_start_matches(&self.url), "");
        assert_eq!(status, 200, "{done}");
        assert!(done.contains("You will receive status updates"), "{done}");
    }
}

/// Checks the update mail to ann and returns its one-click unsubscribe URL.
fn one_click_url(rig: &Rig, to_ann: &Mail) -> String {
    assert_eq!(
        to_ann.header("Subject"),
        Some("checkout: Investigating"),
        "{to_ann:?}"
    );
    assert_eq!(
        to_ann.header("List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click"),
        "{to_ann:?}"
    );
    let unsubscribe = to_ann
        .header("List-Unsubscribe")
        .and_then(|h| h.strip_prefix('<'))
        .and_then(|h| h.strip_suffix('>'))
        .unwrap_or_else(|| panic!("a List-Unsubscribe header: {to_ann:?}"))
        .to_owned();
    assert!(
        unsubscribe.starts_with(&format!("{}/status/unsubscribe/", rig.url)),
        "{unsubscribe}"
    );
    assert!(to_ann.body.contains(&unsubscribe), "{to_ann:?}");
    assert!(
        !to_ann.body.contains("db-7"),
        "internal title leaked: {to_ann:?}"
    );
    unsubscribe
}

/// A rig around a server started now, with `policy` if any.
fn rig(dir: &Path, maildir: &Path, smtp_port: u16, policy: Option<&Path>) -> (Kill, Rig) {
    let db = format!("sqlite://{}", dir.join("fireline.db").display());
    let admin = token(&db);
    let port = free_port();
    let (server, logs) = serve(&db, port, smtp_port, policy);
    let rig = Rig {
        url: format!("http://127.0.0.1:{port}"),
        admin,
        agent: ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into(),
        maildir: maildir.to_owned(),
        logs,
    };
    (server, rig)
}

/// A maintenance window on checkout starting a few seconds from now, in real time:
/// ann (confirmed) hears of its start and its end by e-mail with the one-click headers,
/// ben (never confirmed) hears nothing, and nothing internal is said.
#[test]
fn a_confirmed_subscriber_hears_a_maintenance_window_start_and_end_by_mail() {
    if !aiosmtpd_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let maildir = dir.path().join("mail");
    let (_smtp, smtp_port) = start_smtp(&maildir);
    // Announced already (so its component is on the page to subscribe to), starting
    // long enough ahead for ann to confirm first: a subscriber who joins after a step
    // is not told it.
    let start = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(10);
    let end = start + jiff::SignedDuration::from_secs(3);
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            r#"{builtin}
[[maintenance]]
name = "ZZINTERNALZZ failover"
start = "{start}"
end = "{end}"
match = [{{ label = "team", equals = "ZZINTERNALZZ" }}]
title = "Checkout upgrade"
description = "Card payments may pause."
components = ["checkout"]
announce = "1h"
"#,
            builtin = fireline_core::policy::BUILTIN
        ),
    )
    .expect("policy written");
    let (_server, rig) = rig(dir.path(), &maildir, smtp_port, Some(&policy));
    for who in ["ann", "ben"] {
        let (status, page) = rig.form(
            "/status/subscribe",
            &format!("email={who}%40example.com&component=checkout"),
        );
        assert_eq!(status, 200, "{page}");
    }
    rig.confirm("ann");
    rig.wait_for("ben's confirmation", |m| m.to("ben@example.com"));

    let subject = |m: &Mail, s: &str| m.to("ann@example.com") && m.header("Subject") == Some(s);
    let started = rig.wait_for("the start", |m| {
        subject(m, "Maintenance in progress: Checkout upgrade")
    });
    assert_eq!(
        started.header("List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click"),
        "{started:?}"
    );
    let unsubscribe = started
        .header("List-Unsubscribe")
        .unwrap_or_else(|| panic!("a List-Unsubscribe header: {started:?}"));
    assert!(
        unsubscribe.starts_with(&format!("<{}/status/unsubscribe/", rig.url)),
        "{unsubscribe}"
    );
    assert!(
        started.body.contains("Card payments may pause."),
        "{started:?}"
    );
    rig.wait_for("the end", |m| {
        subject(m, "Maintenance completed: Checkout upgrade")
    });
    let all = mails(&rig.maildir);
    assert_eq!(
        all.iter().filter(|m| m.to("ben@example.com")).count(),
        1,
        "ben got his confirmation only"
    );
    for m in &all {
        assert!(
            !m.body.contains("ZZINTERNALZZ") && !m.headers.contains("ZZINTERNALZZ"),
            "internal text sent: {m:?}"
        );
    }
}

#[test]
fn a_subscriber_confirms_hears_updates_and_unsubscribes_in_one_click() {
    if !aiosmtpd_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let maildir = dir.path().join("mail");
    let (_smtp, smtp_port) = start_smtp(&maildir);
    let db = format!("sqlite://{}", dir.path().join("fireline.db").display());
    let admin = token(&db);
    let port = free_port();
    let (_server, logs) = serve(&db, port, smtp_port, None);
    let rig = Rig {
        url: format!("http://127.0.0.1:{port}"),
        admin,
        agent: ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into(),
        maildir,
        logs,
    };

    // The incident first, so its service is a component the form offers.
    let (status, declared) = rig.api(
        "/api/v1/incidents",
        Some(
            json!({"title": "Internal: db-7 disk full", "severity": "SEV2", "service": "checkout"}),
        ),
    );
    assert_eq!(status, 201, "{declared}");
    let id = declared["incident"]["id"].as_str().expect("id").to_owned();

    // Three visitors subscribe; ann and carol confirm, ben never does.
    for who in ["ann", "ben", "carol"] {
        let (status, page) = rig.form(
            "/status/subscribe",
            &format!("email={who}%40example.com&component=checkout"),
        );
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("Check your inbox"), "{page}");
    }
    rig.confirm("ann");
    rig.confirm("carol");
    rig.wait_for("ben's confirmation", |m| m.to("ben@example.com"));

    // A status page update reaches ann and carol, with the one-click headers.
    rig.post_update(&id, "Card payments are failing; we are on it.");
    let update = |m: &Mail| m.body.contains("Card payments are failing");
    let to_ann = rig.wait_for("ann's update", |m| m.to("ann@example.com") && update(m));
    rig.wait_for("carol's update", |m| m.to("carol@example.com") && update(m));
    let unsubscribe = one_click_url(&rig, &to_ann);
    // Ben never confirmed: his confirmation is all he got.
    let to_ben = mails(&rig.maildir)
        .into_iter()
        .filter(|m| m.to("ben@example.com"))
        .count();
    assert_eq!(to_ben, 1);

    // The mail client's one-click POST: no cookie, no CSRF token.
    let (status, page) = rig.form(
        unsubscribe.trim_start_matches(&rig.url),
        "List-Unsubscribe=One-Click",
    );
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("You are unsubscribed"), "{page}");

    // The next update reaches carol, and not ann.
    rig.post_update(&id, "A fix is rolling out.");
    rig.wait_for("carol's second update", |m| {
        m.to("carol@example.com") && m.body.contains("A fix is rolling out")
    });
    let to_ann = mails(&rig.maildir)
        .into_iter()
        .filter(|m| m.to("ann@example.com") && m.body.contains("A fix is rolling out"))
        .count();
    assert_eq!(to_ann, 0, "unsubscribed, ann still got the update");
}
