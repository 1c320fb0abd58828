//! A real Prometheus Alertmanager notifying a real `fireline serve`, through each of the
//! three ways it can reach us: its webhook with the integration key in the URL, its
//! webhook with the key as a bearer token, and its PagerDuty (Events API v2) notifier.
//!
//! Alertmanager is found through `FIRELINE_TEST_ALERTMANAGER` (set by `scripts/test`,
//! which installs Debian's `prometheus-alertmanager` when missing), else on `PATH`. When it
//! is missing the tests fail if `CI` or `FIRELINE_TEST_ALERTMANAGER` is set, and are
//! skipped (with a line saying so) otherwise.
//!
//! Alertmanager batches: with `group_wait: 0s` a new group is sent at once, but any change
//! to a group already sent waits for the next `group_interval` tick (1 s here). So every
//! expectation is polled against fireline's API with a bounded deadline.

use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_fireline");

/// How long any one expectation may take to come true. Alertmanager needs at most a
/// `group_interval` (1 s) plus its retry back-off; this is generous on a loaded machine.
const DEADLINE: Duration = Duration::from_secs(30);

/// The service the integration belongs to.
const SERVICE: &str = "storage";

/// Where the Alertmanager binary is, or `None` (after saying so) to skip.
fn alertmanager_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("FIRELINE_TEST_ALERTMANAGER").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "FIRELINE_TEST_ALERTMANAGER is {} but no such file exists: install \
             prometheus-alertmanager (scripts/test does) or point the variable at the binary",
            path.display()
        );
        return Some(path);
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .flat_map(|dir| ["prometheus-alertmanager", "alertmanager"].map(|name| dir.join(name)))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "Prometheus Alertmanager is not installed and CI is set: run ./scripts/test, \
             which installs it, or set FIRELINE_TEST_ALERTMANAGER to its binary"
        );
        eprintln!(
            "alertmanager: test skipped: no prometheus-alertmanager or alertmanager on PATH \
             (./scripts/test installs it; set CI or FIRELINE_TEST_ALERTMANAGER to make this fatal)"
        );
    }
    found
}

/// Runs a `fireline` command to completion and returns its stdout, which must be one line.
fn fireline_line(args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("FIRELINE_CONFIG")
        .env_remove("FIRELINE_DB")
        .output()
        .expect("fireline runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "`fireline {}` failed ({:?}): {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout.trim();
    assert!(
        !line.is_empty() && !line.contains('\n'),
        "one line expected: {stdout:?}"
    );
    line.to_owned()
}

/// `fireline serve` on a free port with JSON logs, which are kept for diagnostics.
struct Fireline {
    child: Child,
    url: String,
    logs: Arc<Mutex<Vec<String>>>,
}

impl Fireline {
    fn start(db: &str) -> Fireline {
        let mut child = Command::new(BIN)
            .args([
                "--db",
                db,
                "--log-format",
                "json",
                "serve",
                "--listen",
                "127.0.0.1:0",
            ])
            .env_remove("FIRELINE_CONFIG")
            .env_remove("FIRELINE_POLICY")
            .env_remove("FIRELINE_LISTEN")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("fireline serve starts");
        let stderr = child.stderr.take().expect("stderr piped");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, lines) = mpsc::channel();
        let kept = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                kept.lock().expect("log lock").push(line.clone());
                // Nobody listens once the address is known.
                let _ = tx.send(line);
            }
        });
        let url = loop {
            let line = lines
                .recv_timeout(Duration::from_secs(60))
                .expect("fireline serve logs the address it listens on");
            let entry: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("log line is JSON ({e}): {line}"));
            if let Some(address) = entry["fields"]["message"]
                .as_str()
                .and_then(|m| m.strip_prefix("listening on "))
            {
                break address.to_owned();
            }
        };
        Fireline { child, url, logs }
    }

    fn logs(&self) -> Vec<String> {
        self.logs.lock().expect("log lock").clone()
    }
}

impl Drop for Fireline {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An Alertmanager process on a free loopback port, logging to a file.
struct Alertmanager {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Alertmanager {
    /// Starts Alertmanager with `config` and waits until `/-/ready` answers 200. The free
    /// port is found by binding port 0 and letting it go; should another process take it
    /// in between, Alertmanager exits and we try again on another port.
    fn start(binary: &Path, dir: &Path, config: &Path, agent: &ureq::Agent) -> Alertmanager {
        for attempt in 1..=3 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let log = dir.join(format!("alertmanager-{attempt}.log"));
            let storage = dir.join(format!("alertmanager-data-{attempt}"));
            let mut child = Command::new(binary)
                .arg(format!("--config.file={}", config.display()))
                .arg(format!("--storage.path={}", storage.display()))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                // Empty: no gossip port (it would bind 0.0.0.0:9094).
                .arg("--cluster.listen-address=")
                .arg("--log.level=debug")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("alertmanager log file"))
                .spawn()
                .unwrap_or_else(|e| panic!("{} does not start: {e}", binary.display()));
            let url = format!("http://127.0.0.1:{port}");
            let started = Instant::now();
            loop {
                if let Some(status) = child.try_wait().expect("alertmanager status") {
                    let text = std::fs::read_to_string(&log).unwrap_or_default();
                    if text.contains("address already in use") && attempt < 3 {
                        break;
                    }
                    panic!("Alertmanager exited ({status}) before it was ready:\n{text}");
                }
                let ready = agent
                    .get(&format!("{url}/-/ready"))
                    .call()
                    .is_ok_and(|r| r.status() == 200);
                if ready {
                    return Alertmanager { child, url, log };
                }
                if started.elapsed() > DEADLINE {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "Alertmanager not ready within {DEADLINE:?}:\n{}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    );
                }
                // Polling an external process until it is up.
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        unreachable!("the last attempt panics or returns")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Alertmanager's configuration: group by alertname, send new groups at once and changes
/// every second; the root route uses the webhook with the key in the URL, `via=bearer`
/// the webhook with the key as a bearer token, `via=pagerduty` the PagerDuty notifier.
fn alertmanager_config(fireline: &str, key: &str) -> String {
    format!(
        r#"global:
  resolve_timeout: 5m
route:
  receiver: keyed
  group_by: ['alertname']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - receiver: bearer
      matchers: ['via="bearer"']
    - receiver: pagerduty
      matchers: ['via="pagerduty"']
receivers:
  - name: keyed
    webhook_configs:
      - url: '{fireline}/api/v1/integrations/{key}/alertmanager'
        send_resolved: true
  - name: bearer
    webhook_configs:
      - url: '{fireline}/api/v1/integrations/alertmanager'
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: '{key}'
  - name: pagerduty
    pagerduty_configs:
      - routing_key: '{key}'
        url: '{fireline}/v2/enqueue'
        send_resolved: true
        severity: '{{{{ .CommonLabels.severity }}}}'
        component: '{{{{ .CommonLabels.service }}}}'
"#
    )
}

/// Fireline and Alertmanager wired together, with a viewer token and an integration key.
/// Fields drop in order: Alertmanager stops first, then fireline, then the files go.
struct Rig {
    alertmanager: Alertmanager,
    fireline: Fireline,
    _dir: tempfile::TempDir,
    agent: ureq::Agent,
    viewer: String,
    key: String,
    /// When the test's alerts started firing (whole seconds).
    started: Timestamp,
}

impl Rig {
    /// Starts both, or returns `None` when Alertmanager is missing and that is allowed.
    fn start() -> Option<Rig> {
        let binary = alertmanager_binary()?;
        let dir = tempfile::tempdir().expect("tempdir");
        let db = format!("sqlite://{}", dir.path().join("fireline.db").display());
        let viewer = fireline_line(&[
            "--db", &db, "token", "create", "--role", "viewer", "--name", "watcher",
        ]);
        let key = fireline_line(&[
            "--db",
            &db,
            "integration",
            "create",
            "--service",
            SERVICE,
            "--name",
            "alertmanager",
        ]);
        assert!(key.starts_with("fli_"), "an integration key: {key:?}");
        let fireline = Fireline::start(&db);
        let config = dir.path().join("alertmanager.yml");
        std::fs::write(&config, alertmanager_config(&fireline.url, &key))
            .expect("write alertmanager.yml");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        let alertmanager = Alertmanager::start(&binary, dir.path(), &config, &agent);
        let now = Timestamp::now();
        let started = Timestamp::from_second(now.as_second() - 60).expect("a time");
        Some(Rig {
            alertmanager,
            fireline,
            _dir: dir,
            agent,
            viewer,
            key,
            started,
        })
    }

    /// Logs of both processes, for failure messages.
    fn diagnostics(&self) -> String {
        format!(
            "--- fireline log ---\n{}\n--- alertmanager log ---\n{}",
            self.fireline.logs().join("\n"),
            self.alertmanager.log()
        )
    }

    /// Posts alerts to Alertmanager's API: firing, or resolved with `endsAt` in the past.
    fn post_alerts(&self, alerts: &[TestAlert], resolved: bool) {
        let ends_at = resolved.then(|| {
            Timestamp::now()
                .checked_sub(SignedDuration::from_secs(1))
                .expect("a time")
        });
        let body: Vec<Value> = alerts
            .iter()
            .map(|a| {
                let mut v = json!({
                    "labels": a.labels(),
                    "annotations": { "summary": a.summary },
                    "startsAt": self.started.to_string(),
                    "generatorURL": a.link(),
                });
                if let Some(t) = ends_at {
                    v["endsAt"] = json!(t.to_string());
                }
                v
            })
            .collect();
        let mut response = self
            .agent
            .post(&format!("{}/api/v2/alerts", self.alertmanager.url))
            .send_json(&body)
            .expect("Alertmanager answers");
        let status = response.status();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        assert_eq!(status, 200, "Alertmanager refused the alerts: {text}");
    }

    fn get(&self, path: &str) -> Value {
        let mut response = self
            .agent
            .get(&format!("{}{path}", self.fireline.url))
            .header("Authorization", &format!("Bearer {}", self.viewer))
            .call()
            .expect("fireline answers");
        let status = response.status();
        let body: Value = response.body_mut().read_json().expect("a JSON body");
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    fn incidents(&self) -> Vec<Value> {
        self.get("/api/v1/incidents?status=all")["incidents"]
            .as_array()
            .expect("incidents")
            .clone()
    }

    fn incident(&self, id: &str) -> Value {
        self.get(&format!("/api/v1/incidents/{id}"))
    }

    /// Polls `probe` until it yields, for at most [`DEADLINE`]; fails with both logs.
    fn wait_for<T>(&self, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
        let begun = Instant::now();
        loop {
            if let Some(found) = probe() {
                eprintln!("alertmanager: {what}: after {:?}", begun.elapsed());
                return found;
            }
            if begun.elapsed() > DEADLINE {
                panic!(
                    "{what}: not so within {DEADLINE:?}\nincidents: {:#?}\n{}",
                    self.incidents(),
                    self.diagnostics()
                );
            }
            // Polling fireline's API while Alertmanager batches.
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until exactly `count` incidents exist and every one of them satisfies `done`
    /// (on its detail), then returns the details in id order.
    fn wait_for_incidents(
        &self,
        what: &str,
        count: usize,
        done: impl Fn(&Value) -> bool,
    ) -> Vec<Value> {
        self.wait_for(what, || {
            let list = self.incidents();
            if list.len() != count {
                return None;
            }
            let mut details: Vec<Value> = list
                .iter()
                .map(|i| self.incident(i["id"].as_str().expect("id")))
                .collect();
            details.sort_by_key(|d| d["incident"]["number"].as_u64());
            details.iter().all(&done).then_some(details)
        })
    }

    /// Stops both and checks fireline never logged the integration key (it travels in
    /// a URL path and in an Authorization header).
    fn finish(self) {
        let logs = self.fireline.logs();
        assert!(
            !logs.iter().any(|l| l.contains(&self.key)),
            "the integration key was logged:\n{}",
            logs.join("\n")
        );
        let log = self.alertmanager.log();
        let failures: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("level=error") || l.contains("level=warn"))
            .collect();
        assert!(
            failures.is_empty(),
            "Alertmanager reported failures:\n{}",
            failures.join("\n")
        );
    }
}

/// An alert as the test posts it.
struct TestAlert {
    alertname: &'static str,
    instance: &'static str,
    severity: &'static str,
    summary: &'static str,
    extra: &'static [(&'static str, &'static str)],
}

impl TestAlert {
    fn labels(&self) -> Value {
        let mut labels = json!({
            "alertname": self.alertname,
            "instance": self.instance,
            "severity": self.severity,
        });
        for (k, v) in self.extra {
            labels[*k] = json!(v);
        }
        labels
    }

    fn link(&self) -> String {
        format!("http://prometheus.example/graph?g0.expr={}", self.alertname)
    }
}

fn events<'a>(detail: &'a Value, kind: &str) -> Vec<&'a Value> {
    detail["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|e| e["kind"] == kind)
        .collect()
}

fn status(detail: &Value) -> &str {
    detail["incident"]["status"].as_str().expect("status")
}

fn title(detail: &Value) -> &str {
    detail["incident"]["title"].as_str().expect("title")
}

const DISK_1: TestAlert = TestAlert {
    alertname: "DiskFull",
    instance: "db-1",
    severity: "warning",
    summary: "db-1 disk below 10% free",
    extra: &[],
};
const DISK_2: TestAlert = TestAlert {
    alertname: "DiskFull",
    instance: "db-2",
    severity: "warning",
    summary: "db-2 disk below 10% free",
    extra: &[],
};
const LATENCY: TestAlert = TestAlert {
    alertname: "HighLatency",
    instance: "api-1",
    severity: "critical",
    summary: "api-1 p99 latency above 2s",
    extra: &[("service", "checkout")],
};

#[test]
fn webhook_with_the_key_in_the_url_groups_by_alertname_and_auto_resolves() {
    let Some(rig) = Rig::start() else { return };
    rig.post_alerts(&[DISK_1, DISK_2, LATENCY], false);

    // Two groups, two incidents; both DiskFull alerts in one, however Alertmanager split
    // them between its first notification and the next tick.
    let opened = rig.wait_for_incidents("two incidents, DiskFull holding both alerts", 2, |d| {
        let want = if title(d).contains("disk") { 2 } else { 1 };
        events(d, "alert_attached").len() == want
    });
    let (disk, latency) = if title(&opened[0]).contains("disk") {
        (&opened[0], &opened[1])
    } else {
        (&opened[1], &opened[0])
    };
    assert!(
        [DISK_1.summary, DISK_2.summary].contains(&title(disk)),
        "the title is an alert's summary: {disk:#}"
    );
    assert_eq!(
        disk["incident"]["severity"], "SEV3",
        "warning maps to SEV3: {disk:#}"
    );
    assert_eq!(
        disk["incident"]["service"], SERVICE,
        "no service label: the integration's"
    );
    let attached = events(disk, "alert_attached");
    let mut instances: Vec<&str> = attached
        .iter()
        .map(|e| e["data"]["labels"]["instance"].as_str().expect("instance"))
        .collect();
    instances.sort_unstable();
    assert_eq!(instances, ["db-1", "db-2"]);
    for e in &attached {
        assert_eq!(e["data"]["integration"], attached[0]["data"]["integration"]);
        assert!(
            e["data"]["group"]
                .as_str()
                .expect("group")
                .ends_with(r#"/group:{}:{alertname="DiskFull"}"#),
            "grouped by Alertmanager's group key: {e:#}"
        );
        assert_eq!(e["data"]["link"], DISK_1.link());
        assert_eq!(e["data"]["starts_at"], rig.started.to_string());
    }
    assert_eq!(title(latency), LATENCY.summary);
    assert_eq!(latency["incident"]["severity"], "SEV1", "critical → SEV1");
    assert_eq!(
        latency["incident"]["service"], "checkout",
        "the service label wins"
    );

    // One DiskFull alert resolves: recorded, but its incident stays open.
    rig.post_alerts(&[DISK_1], true);
    rig.wait_for_incidents("db-1 resolved, DiskFull still open", 2, |d| {
        !title(d).contains("disk")
            || (events(d, "alert_resolved").len() == 1 && status(d) != "resolved")
    });

    // The rest resolve: both incidents resolve, and nothing new was opened.
    rig.post_alerts(&[DISK_2, LATENCY], true);
    let done = rig.wait_for_incidents("both incidents resolved", 2, |d| status(d) == "resolved");
    for d in &done {
        let want = if title(d).contains("disk") { 2 } else { 1 };
        assert_eq!(events(d, "alert_resolved").len(), want, "{d:#}");
        assert_eq!(events(d, "alert_attached").len(), want, "no repeats: {d:#}");
        assert!(d["incident"]["resolved_at"].is_string(), "{d:#}");
    }
    rig.finish();
}

#[test]
fn webhook_with_the_key_as_a_bearer_token_opens_and_resolves() {
    let Some(rig) = Rig::start() else { return };
    let backlog = TestAlert {
        alertname: "QueueBacklog",
        instance: "worker-3",
        severity: "error",
        summary: "jobs queue backlog above 10k",
        extra: &[("via", "bearer")],
    };
    rig.post_alerts(std::slice::from_ref(&backlog), false);
    let opened = rig.wait_for_incidents("an incident through the bearer route", 1, |d| {
        events(d, "alert_attached").len() == 1
    });
    let incident = &opened[0];
    assert_eq!(title(incident), backlog.summary);
    assert_eq!(incident["incident"]["severity"], "SEV2", "error → SEV2");
    let attached = events(incident, "alert_attached")[0];
    assert!(
        attached["data"]["group"]
            .as_str()
            .expect("group")
            .ends_with(r#"/group:{}/{via="bearer"}:{alertname="QueueBacklog"}"#),
        "it came through the bearer route: {attached:#}"
    );

    rig.post_alerts(&[backlog], true);
    let done = rig.wait_for_incidents("the bearer incident resolved", 1, |d| {
        status(d) == "resolved"
    });
    assert_eq!(events(&done[0], "alert_resolved").len(), 1, "{:#}", done[0]);
    rig.finish();
}

#[test]
fn pagerduty_notifier_opens_and_resolves() {
    let Some(rig) = Rig::start() else { return };
    let cert = TestAlert {
        alertname: "CertExpiring",
        instance: "lb-1",
        severity: "critical",
        summary: "TLS certificate expires in 3 days",
        extra: &[("via", "pagerduty"), ("service", "edge")],
    };
    rig.post_alerts(std::slice::from_ref(&cert), false);
    let opened = rig.wait_for_incidents("an incident through PagerDuty", 1, |d| {
        events(d, "alert_attached").len() == 1
    });
    let incident = &opened[0];
    // Alertmanager's default PagerDuty description: "[FIRING:1] <group labels> (<others>)".
    assert!(
        title(incident).starts_with("[FIRING:1] CertExpiring"),
        "the description is the summary: {incident:#}"
    );
    assert_eq!(
        incident["incident"]["severity"], "SEV1",
        "the configured severity (critical) → SEV1: {incident:#}"
    );
    assert_eq!(
        incident["incident"]["service"], "edge",
        "the configured component is the service: {incident:#}"
    );
    let attached = events(incident, "alert_attached")[0];
    assert_eq!(attached["data"]["labels"]["severity"], "critical");

    rig.post_alerts(&[cert], true);
    let done = rig.wait_for_incidents("the PagerDuty incident resolved", 1, |d| {
        status(d) == "resolved"
    });
    assert_eq!(events(&done[0], "alert_resolved").len(), 1, "{:#}", done[0]);
    rig.finish();
}
