//! The harness the binary's end-to-end tests share: run `fireline` with a clean
//! environment, read its output, and start a real `fireline serve` on a free port.
//! Each file under tests/ is its own crate and uses a different part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_fireline");

/// Runs `fireline` with a clean environment for fireline's own variables.
pub fn fireline(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    for var in [
        "FIRELINE_URL",
        "FIRELINE_TOKEN",
        "FIRELINE_DB",
        "FIRELINE_CONFIG",
        "FIRELINE_LISTEN",
        "FIRELINE_DATA_DIR",
        "FIRELINE_LOG_FORMAT",
        "FIRELINE_POLICY",
        "FIRELINE_RUNBOOKS",
    ] {
        cmd.env_remove(var);
    }
    cmd.args(args)
        .envs(env.iter().copied())
        .output()
        .expect("fireline runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "expected success, got {:?}\nstdout: {}\nstderr: {}",
        o.status,
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

pub fn fails_with(o: Output, code: i32, needle: &str) {
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

pub fn token(db: &str, role: &str, name: &str) -> String {
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
pub struct Server {
    pub child: Child,
    pub url: String,
    pub logs: mpsc::Receiver<String>,
}

impl Server {
    pub fn start(db: &str) -> Server {
        Server::start_with(db, &[])
    }

    pub fn start_with(db: &str, extra: &[&str]) -> Server {
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
            // The harness reads the info-level "listening on" line: a caller's filter must
            // not hide it.
            .env_remove("FIRELINE_LOG")
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
    pub fn terminate(mut self) -> (Option<i32>, Vec<String>) {
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
