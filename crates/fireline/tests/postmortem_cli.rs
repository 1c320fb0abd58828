//! Post-mortems and action items through the `fireline` binary against a real server,
//! on SQLite and PostgreSQL. The harness is `tests/cli.rs`'s.

use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_fireline");

/// Runs `fireline` with a clean environment for fireline's own variables.
fn fireline(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    for var in [
        "FIRELINE_URL",
        "FIRELINE_TOKEN",
        "FIRELINE_DB",
        "FIRELINE_CONFIG",
        "FIRELINE_LISTEN",
        "FIRELINE_DATA_DIR",
        "FIRELINE_LOG_FORMAT",
    ] {
        cmd.env_remove(var);
    }
    cmd.args(args)
        .envs(env.iter().copied())
        .output()
        .expect("fireline runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "expected success, got {:?}\nstdout: {}\nstderr: {}",
        o.status,
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

fn fails_with(o: Output, code: i32, needle: &str) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        stdout(&o),
        stderr(&o)
    );
    assert!(
        stderr(&o).contains(needle),
        "stderr should mention {needle:?}: {}",
        stderr(&o)
    );
    assert!(
        stderr(&o).starts_with("fireline: error: "),
        "errors are prefixed: {}",
        stderr(&o)
    );
}

fn token(db: &str, role: &str, name: &str) -> String {
    let out = ok(fireline(
        &[
            "--db", db, "token", "create", "--role", role, "--name", name,
        ],
        &[],
    ));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "the token alone on stdout: {out:?}");
    assert!(
        lines[0].starts_with("fl_") && lines[0].len() > 40,
        "{out:?}"
    );
    lines[0].to_owned()
}

/// A `fireline serve` child with JSON logs, its address, and its log lines so far.
struct Server {
    child: Child,
    url: String,
    logs: mpsc::Receiver<String>,
}

impl Server {
    fn start(db: &str) -> Server {
        Server::start_with(db, &[])
    }

    fn start_with(db: &str, extra: &[&str]) -> Server {
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
            .args(extra)
            .env_remove("FIRELINE_CONFIG")
            .env_remove("FIRELINE_POLICY")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("serve starts");
        let stderr = child.stderr.take().expect("stderr piped");
        let (tx, logs) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let url = loop {
            let line = logs
                .recv_timeout(Duration::from_secs(60))
                .expect("serve logs that it listens");
            let entry: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("log line is JSON ({e}): {line}"));
            if let Some(address) = entry["fields"]["message"]
                .as_str()
                .and_then(|m| m.strip_prefix("listening on "))
            {
                break address.to_owned();
            }
        };
        Server { child, url, logs }
    }

    /// Sends SIGTERM and returns the exit code and the remaining log lines.
    fn terminate(mut self) -> (Option<i32>, Vec<String>) {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(killed.success());
        let status = self.child.wait().expect("serve exits");
        // The reader thread ends at EOF, which comes once the process has exited.
        let rest: Vec<String> = self.logs.iter().collect();
        (status.code(), rest)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn a_postmortem_and_its_action_items_from_the_cli(db: &TestDatabase) {
    let alice = token(&db.url, "responder", "alice");
    let server = Server::start(&db.url);
    let env = [
        ("FIRELINE_URL", server.url.as_str()),
        ("FIRELINE_TOKEN", alice.as_str()),
    ];
    let run = |args: &[&str]| fireline(args, &env);
    let declared = ok(run(&[
        "incident",
        "declare",
        "--title",
        "Checkout <5xx>",
        "--severity",
        "sev1",
        "--service",
        "checkout",
    ]));
    assert_eq!(declared, "INC-1\n");
    ok(run(&["incident", "ack", "INC-1"]));
    ok(run(&[
        "incident",
        "status",
        "INC-1",
        "resolved",
        "--message",
        "rolled back",
    ]));

    let draft = ok(run(&[
        "postmortem",
        "draft",
        "INC-1",
        "--template",
        "production-agents",
    ]));
    assert!(
        draft.starts_with("# Postmortem: Checkout <5xx>\n"),
        "{draft}"
    );
    assert!(draft.contains("| alice | acknowledged |"), "{draft}");
    fails_with(
        run(&["postmortem", "draft", "INC-1"]),
        4,
        "already has a post-mortem",
    );

    // Edit from stdin-free file; a stale version is a conflict (exit 4).
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("pm.md");
    std::fs::write(&file, format!("{draft}\nRoot cause: a bad deploy.\n")).expect("write");
    let file = file.to_str().expect("utf-8 path");
    assert!(ok(run(&[
        "postmortem",
        "edit",
        "INC-1",
        "--file",
        file,
        "--expected-version",
        "1"
    ]))
    .contains("version 2"));
    fails_with(
        run(&[
            "postmortem",
            "edit",
            "INC-1",
            "--file",
            file,
            "--expected-version",
            "1",
        ]),
        4,
        "someone saved since",
    );
    let history = ok(run(&["postmortem", "history", "INC-1"]));
    assert_eq!(history.lines().count(), 2, "{history}");
    assert!(
        history
            .lines()
            .nth(1)
            .is_some_and(|l| l.contains("alice") && l.contains("+2")),
        "{history}"
    );

    assert!(ok(run(&["postmortem", "advance", "INC-1"])).contains("now review"));
    let shown: Value =
        serde_json::from_str(&ok(run(&["postmortem", "show", "INC-1", "--json"]))).expect("JSON");
    assert_eq!(shown["phase"], "review");
    assert_eq!(shown["version"], 2);
    let html = ok(run(&["postmortem", "export", "INC-1", "--format", "html"]));
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(
        html.contains("Checkout &lt;5xx&gt;") && !html.contains("<5xx>"),
        "{html}"
    );

    // Action items: one overdue (due in the past), one not.
    assert_eq!(
        ok(run(&[
            "action",
            "add",
            "INC-1",
            "--title",
            "Canary deploys",
            "--owner",
            "bob",
            "--priority",
            "P1",
            "--due",
            "2020-01-01",
        ])),
        "AI-1\n"
    );
    ok(run(&[
        "action",
        "add",
        "1",
        "--title",
        "Runbook",
        "--owner",
        "carol",
        "--priority",
        "p3",
        "--due",
        "2999-01-01",
    ]));
    fails_with(
        run(&[
            "action",
            "add",
            "INC-1",
            "--title",
            "x",
            "--owner",
            "bob",
            "--priority",
            "P7",
            "--due",
            "2999-01-01",
        ]),
        1,
        "priority",
    );
    let overdue = ok(run(&["action", "list", "--overdue"]));
    assert_eq!(overdue.lines().count(), 1, "{overdue}");
    assert!(
        overdue.starts_with("AI-1") && overdue.contains("OVERDUE"),
        "{overdue}"
    );
    let carol: Value =
        serde_json::from_str(&ok(run(&["action", "list", "--owner", "carol", "--json"])))
            .expect("JSON");
    assert_eq!(carol["action_items"][0]["id"], "AI-2");
    assert!(ok(run(&[
        "action",
        "update",
        "AI-1",
        "--status",
        "in_progress"
    ]))
    .contains("in_progress"));

    fails_with(run(&["action", "close", "AI-1"]), 1, "closing needs a note");
    assert!(ok(run(&["action", "close", "AI-1", "--note", "canaries on"])).contains("done"));
    assert_eq!(ok(run(&["action", "list", "--overdue"])), "");
    assert!(ok(run(&[
        "action",
        "close",
        "AI-2",
        "--wont-do",
        "--note",
        "not needed"
    ]))
    .contains("wont_do"));
    assert_eq!(ok(run(&["action", "list", "--all"])).lines().count(), 2);
    let _ = server.terminate();
}

backend_tests!(a_postmortem_and_its_action_items_from_the_cli);
