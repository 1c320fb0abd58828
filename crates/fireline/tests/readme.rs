//! The README's examples, run as written: a newcomer copies them, so they must work.
//!
//! The "First steps" walkthrough runs line by line against a real `fireline serve`
//! (the user's password piped in, since the README's `user create` asks at a terminal;
//! `fl_…` in its `export` line is the token the line before printed), and the policy
//! examples run against the files they name. Every line must exit 0.

mod support;
use support::*;

use std::io::Write;
use std::process::{Command, Stdio};

const README: &str = include_str!("../../../README.md");

/// The `sh` blocks of the README, in order.
fn sh_blocks() -> Vec<Vec<String>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in README.lines() {
        match (&mut current, line.trim_start()) {
            (None, l) if l.starts_with("```sh") => current = Some(Vec::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), _) => block.push(line.to_owned()),
            _ => {}
        }
    }
    blocks
}

/// The block whose commands contain `needle`.
fn block_with(needle: &str) -> Vec<String> {
    sh_blocks()
        .into_iter()
        .find(|b| b.iter().any(|l| l.contains(needle)))
        .unwrap_or_else(|| panic!("the README has a block with {needle:?}"))
}

/// A shell line's words: quotes ('…', "…") group, a `#` outside them starts a comment.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '#') if !in_word => break,
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(word);
    }
    out
}

/// Runs one README command line as written, with `env` and, for `user create`, the
/// password on stdin. Returns its stdout.
fn run(line: &str, env: &[(String, String)], db: &str) -> String {
    let mut args = words(line);
    assert_eq!(args.remove(0), "fireline", "{line}");
    let interactive = args.starts_with(&["user".to_owned(), "create".to_owned()]);
    if interactive {
        args.push("--password-stdin".to_owned());
    }
    let mut cmd = Command::new(BIN);
    cmd.env_remove("FIRELINE_CONFIG")
        .env_remove("FIRELINE_POLICY")
        .env_remove("FIRELINE_RUNBOOKS")
        .env("FIRELINE_DB", db)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("fireline runs");
    if let Some(mut stdin) = child.stdin.take() {
        if interactive {
            stdin
                .write_all(b"a long enough password\n")
                .expect("password");
        }
    }
    let out = child.wait_with_output().expect("fireline ends");
    assert!(
        out.status.success(),
        "README line failed: {line}\nstdout: {}\nstderr: {}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

#[test]
fn the_first_steps_walkthrough_runs_as_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("readme.db").display());
    let server = Server::start(&db);
    let mut env: Vec<(String, String)> = Vec::new();
    let mut last_out = String::new();
    let mut ran = 0;
    for line in block_with("fireline incident declare") {
        let line = line.trim();
        if let Some(exports) = line.strip_prefix("export ") {
            for pair in words(exports) {
                let (name, value) = pair.split_once('=').expect("NAME=value");
                let value = match name {
                    // The README's address and token stand for the reader's.
                    "FIRELINE_URL" => server.url.clone(),
                    "FIRELINE_TOKEN" => last_out.trim().to_owned(),
                    _ => value.to_owned(),
                };
                env.push((name.to_owned(), value));
            }
        } else if line.starts_with("fireline ") {
            last_out = run(line, &env, &db);
            ran += 1;
        }
    }
    assert!(ran >= 10, "the walkthrough's commands ran ({ran})");
    let shown: serde_json::Value = serde_json::from_str(&last_out).expect("show --json");
    assert_eq!(shown["incident"]["status"], "resolved", "{shown}");
    server.terminate();
}

#[test]
fn the_policy_examples_run_as_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("readme.db").display());
    let block = block_with("fireline policy check policies/default.toml");
    let mut ran = 0;
    for line in block.iter().map(|l| l.trim()) {
        // `serve` runs until stopped and names the reader's own file.
        if line.starts_with("fireline policy ") {
            run(line, &[], &db);
            ran += 1;
        }
    }
    assert_eq!(ran, 2, "check and simulate");
}

#[test]
fn words_are_split_as_a_shell_would() {
    assert_eq!(
        words(r#"fireline incident note INC-1 "rolled back to 4f2b"  # a note"#),
        [
            "fireline",
            "incident",
            "note",
            "INC-1",
            "rolled back to 4f2b"
        ]
    );
    assert_eq!(
        words("fireline x --var impact='checkout fails' --flag"),
        ["fireline", "x", "--var", "impact=checkout fails", "--flag"]
    );
}
