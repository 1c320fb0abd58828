//! The `fireline` binary as people use it: real processes, a real server on a real port,
//! on SQLite and PostgreSQL.

use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::Duration;

mod support;
use support::*;

async fn responder_drives_an_incident_through_the_cli(db: &TestDatabase) {
    let admin = token(&db.url, "admin", "root");
    let alice = token(&db.url, "responder", "alice");
    let viewer = token(&db.url, "viewer", "val");
    let server = Server::start(&db.url);
    let as_alice = [
        ("FIRELINE_URL", server.url.as_str()),
        ("FIRELINE_TOKEN", alice.as_str()),
    ];
    let as_viewer = [
        ("FIRELINE_URL", server.url.as_str()),
        ("FIRELINE_TOKEN", viewer.as_str()),
    ];

    let id = ok(fireline(
        &[
            "incident",
            "declare",
            "--title",
            "Checkout 5xx",
            "--severity",
            "sev2",
            "--service",
            "checkout",
        ],
        &as_alice,
    ));
    assert_eq!(id, "INC-1\n");
    assert!(ok(fireline(&["incident", "ack", "INC-1"], &as_alice)).contains("acknowledged"));
    let moved = ok(fireline(
        &[
            "incident",
            "status",
            "1",
            "identified",
            "--message",
            "bad deploy",
        ],
        &as_alice,
    ));
    assert!(moved.contains("investigating → identified"), "{moved}");
    assert!(ok(fireline(
        &["incident", "assign", "INC-1", "ic", "bob"],
        &as_alice
    ))
    .contains("bob is now commander"));
    ok(fireline(
        &["incident", "note", "INC-1", "rolled back"],
        &as_alice,
    ));

    fails_with(
        fireline(&["incident", "severity", "INC-1", "SEV9"], &as_alice),
        1,
        "unknown severity `SEV9`",
    );
    fails_with(
        fireline(&["incident", "ack", "INC-1"], &as_alice),
        4,
        "already acknowledged by alice",
    );
    fails_with(
        fireline(
            &["incident", "note", "INC-1", "x", "--expected-version", "2"],
            &as_alice,
        ),
        4,
        "version",
    );
    fails_with(
        fireline(&["incident", "show", "INC-x"], &as_alice),
        1,
        "INC-x",
    );
    fails_with(
        fireline(&["incident", "show", "INC-99"], &as_alice),
        1,
        "no incident INC-99",
    );
    fails_with(
        fireline(
            &[
                "incident",
                "declare",
                "--title",
                "t",
                "--severity",
                "SEV1",
                "--service",
                "s",
            ],
            &as_viewer,
        ),
        5,
        "responder",
    );
    fails_with(
        fireline(
            &["incident", "list"],
            &[
                ("FIRELINE_URL", server.url.as_str()),
                ("FIRELINE_TOKEN", "fl_wrong"),
            ],
        ),
        5,
        "invalid or revoked token",
    );
    fails_with(
        fireline(
            &["incident", "list"],
            &[
                ("FIRELINE_URL", "http://127.0.0.1:1"),
                ("FIRELINE_TOKEN", alice.as_str()),
            ],
        ),
        3,
        "cannot reach",
    );
    fails_with(
        fireline(
            &["incident", "list"],
            &[("FIRELINE_URL", server.url.as_str())],
        ),
        5,
        "FIRELINE_TOKEN",
    );

    let listed: Value =
        serde_json::from_str(&ok(fireline(&["incident", "list", "--json"], &as_viewer)))
            .expect("list JSON");
    assert_eq!(listed["incidents"][0]["id"], "INC-1");
    assert_eq!(listed["incidents"][0]["status"], "identified");
    let table = ok(fireline(&["incident", "list"], &as_viewer));
    assert!(
        table.starts_with("ID") && table.contains("INC-1") && table.contains("Checkout 5xx"),
        "{table}"
    );

    let shown: Value = serde_json::from_str(&ok(fireline(
        &["incident", "show", "INC-1", "--json"],
        &as_viewer,
    )))
    .expect("show JSON");
    let timeline = shown["timeline"].as_array().expect("timeline");
    let kinds: Vec<&str> = timeline
        .iter()
        .filter(|e| e["actor"] != "fireline")
        .map(|e| e["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(
        kinds,
        [
            "declared",
            "acknowledged",
            "status_changed",
            "role_assigned",
            "note_added"
        ]
    );
    // The engine runs inside `serve`: the default policy pages SEV2's on-call at once.
    let paged = timeline
        .iter()
        .find(|e| e["kind"] == "paged")
        .expect("the engine paged at declaration");
    assert_eq!(paged["actor"], "fireline");
    assert_eq!(paged["data"]["targets"][0], "schedule:primary");
    assert_eq!(shown["incident"]["roles"]["commander"], "bob");
    let human = ok(fireline(&["incident", "show", "INC-1"], &as_viewer));
    assert!(
        human.contains("Timeline (UTC)") && human.contains("note: rolled back"),
        "{human}"
    );

    // Revoking works at once, without a restart.
    let tokens: Value = serde_json::from_str(&ok(fireline(
        &["--db", &db.url, "token", "list", "--json"],
        &[],
    )))
    .expect("tokens JSON");
    let listing = tokens.to_string();
    assert!(
        !listing.contains(&alice) && !listing.contains("hash"),
        "token list never shows secrets"
    );
    let viewer_id = tokens
        .as_array()
        .expect("array")
        .iter()
        .find(|t| t["name"] == "val")
        .expect("val listed")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    ok(fireline(
        &["--db", &db.url, "token", "revoke", &viewer_id],
        &[],
    ));
    fails_with(
        fireline(&["incident", "list"], &as_viewer),
        5,
        "invalid or revoked token",
    );
    fails_with(
        fireline(&["--db", &db.url, "token", "revoke", "tok_nope"], &[]),
        1,
        "no token tok_nope",
    );
    fails_with(
        fireline(&["--db", &db.url, "token", "create", "--role", "root"], &[]),
        1,
        "unknown role `root`",
    );

    // SIGTERM: finish, close, exit 0; nothing secret in the logs.
    let (code, logs) = server.terminate();
    assert_eq!(code, Some(0), "logs: {logs:?}");
    assert!(
        logs.iter().any(|l| l.contains("SIGTERM received")),
        "{logs:?}"
    );
    assert!(logs.iter().any(|l| l.contains("\"stopped\"")), "{logs:?}");
    for secret in [&admin, &alice, &viewer] {
        assert!(
            !logs.iter().any(|l| l.contains(secret.as_str())),
            "a token was logged"
        );
    }

    // Restart on the same database: nothing lost, ids continue.
    let again = Server::start(&db.url);
    let env = [
        ("FIRELINE_URL", again.url.as_str()),
        ("FIRELINE_TOKEN", alice.as_str()),
    ];
    let after: Value = serde_json::from_str(&ok(fireline(
        &["incident", "show", "INC-1", "--json"],
        &env,
    )))
    .expect("show JSON");
    assert_eq!(after["timeline"], shown["timeline"]);
    assert_eq!(
        ok(fireline(
            &[
                "incident",
                "declare",
                "--title",
                "t2",
                "--severity",
                "SEV4",
                "--service",
                "s"
            ],
            &env
        )),
        "INC-2\n"
    );
    let (code, _) = again.terminate();
    assert_eq!(code, Some(0));
}

/// Updates rendered from the policy's templates, previewed then posted, and the public
/// status page: only status-page text is public, and an admin's override shows.
async fn updates_reach_the_status_page_and_overrides_show(db: &TestDatabase) {
    let admin = token(&db.url, "admin", "root");
    let alice = token(&db.url, "responder", "alice");
    let server = Server::start(&db.url);
    let as_alice = [
        ("FIRELINE_URL", server.url.as_str()),
        ("FIRELINE_TOKEN", alice.as_str()),
    ];
    let as_admin = [
        ("FIRELINE_URL", server.url.as_str()),
        ("FIRELINE_TOKEN", admin.as_str()),
    ];
    declare_checkout_502s(&as_alice);
    ok(fireline(
        &[
            "incident",
            "note",
            "INC-1",
            "internal-only-marker: db-7 is the suspect",
        ],
        &as_alice,
    ));
    let preview = ok(fireline(
        &[
            "incident",
            "update",
            "INC-1",
            "--channel",
            "status_page",
            "--dry-run",
            "--message",
            "We are investigating failed checkouts.",
        ],
        &as_alice,
    ));
    assert!(
        preview.contains("We are investigating failed checkouts."),
        "{preview}"
    );
    let page = |path: &str| public_page(&server.url, path);
    assert!(
        !page("/status").contains("We are investigating failed checkouts."),
        "a dry run posts nothing"
    );
    ok(fireline(
        &[
            "incident",
            "update",
            "INC-1",
            "--channel",
            "status_page",
            "--message",
            "We are investigating failed checkouts.",
        ],
        &as_alice,
    ));
    let html = page("/status");
    assert!(
        html.contains("We are investigating failed checkouts."),
        "{html}"
    );
    assert!(!html.contains("internal-only-marker"), "notes never leak");
    overrides_are_set_by_admins_until_cleared(&server.url, &as_alice, &as_admin);
}

/// A public page of the server at `url`, as text, whatever its status.
fn public_page(url: &str, path: &str) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    agent
        .get(&format!("{url}{path}"))
        .call()
        .expect("GET")
        .body_mut()
        .read_to_string()
        .expect("text")
}

/// Responders cannot override a component's status; admins can, until they clear it.
fn overrides_are_set_by_admins_until_cleared(
    url: &str,
    as_responder: &[(&str, &str)],
    as_admin: &[(&str, &str)],
) {
    fails_with(
        fireline(&["status", "set", "checkout", "major_outage"], as_responder),
        5,
        "admin",
    );
    let set = ok(fireline(
        &[
            "status",
            "set",
            "checkout",
            "major_outage",
            "--note",
            "payments down",
        ],
        as_admin,
    ));
    assert!(set.contains("major_outage until cleared"), "{set}");
    let json: Value = serde_json::from_str(&public_page(url, "/status.json")).expect("json");
    let checkout = json["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["name"] == "checkout")
        .expect("checkout")
        .clone();
    assert_eq!(checkout["status"], "major_outage", "{json:#}");
    ok(fireline(&["status", "clear", "checkout"], as_admin));
    fails_with(
        fireline(&["status", "clear", "checkout"], as_admin),
        1,
        "no override",
    );
    fails_with(
        fireline(&["status", "set", "checkout", "on_fire"], as_admin),
        1,
        "status",
    );
}

backend_tests!(
    responder_drives_an_incident_through_the_cli,
    updates_reach_the_status_page_and_overrides_show,
    incident_escalate_says_why
);

/// Declares INC-1, a SEV2 on checkout, as the caller `env` names.
fn declare_checkout_502s(env: &[(&str, &str)]) {
    ok(fireline(
        &[
            "incident",
            "declare",
            "--title",
            "Checkout 502s",
            "--severity",
            "SEV2",
            "--service",
            "checkout",
        ],
        env,
    ));
}

/// Regression: `incident escalate` had no `--reason`.
async fn incident_escalate_says_why(db: &TestDatabase) {
    let alice = token(&db.url, "responder", "alice");
    let server = Server::start(&db.url);
    let env = [
        ("FIRELINE_URL", server.url.as_str()),
        ("FIRELINE_TOKEN", alice.as_str()),
    ];
    declare_checkout_502s(&env);
    ok(fireline(
        &[
            "incident",
            "escalate",
            "INC-1",
            "--level",
            "1",
            "--reason",
            "db team needed",
        ],
        &env,
    ));
    let shown = ok(fireline(&["incident", "show", "INC-1"], &env));
    assert!(
        shown.contains("db team needed"),
        "the reason is on the timeline: {shown}"
    );
    server.terminate();
}

fn hup(server: &Server) {
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .expect("kill runs")
        .success());
}

/// Waits (bounded) for a log line containing `needle`.
fn wait_for_log(server: &Server, needle: &str) -> String {
    loop {
        let line = server
            .logs
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no log line with {needle:?}"));
        if line.contains(needle) {
            return line;
        }
    }
}

#[test]
fn serve_loads_a_policy_file_and_reloads_it_on_sighup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("f.db").display());
    let policy_path = dir.path().join("team.toml");
    let default = include_str!("../../../policies/default.toml");
    std::fs::write(
        &policy_path,
        default.replace("name = \"default\"", "name = \"team-a\""),
    )
    .expect("write policy");
    let token = token(&db, "viewer", "v");
    let server = Server::start_with(&db, &["--policy", policy_path.to_str().expect("utf8")]);
    let env = [
        ("FIRELINE_URL", server.url.as_str()),
        ("FIRELINE_TOKEN", token.as_str()),
    ];
    let shown: Value =
        serde_json::from_str(&ok(fireline(&["policy", "show", "--json"], &env))).expect("JSON");
    assert!(
        shown["label"]
            .as_str()
            .expect("label")
            .starts_with("team-a@"),
        "{shown}"
    );
    assert_eq!(
        shown["severities"],
        serde_json::json!(["SEV1", "SEV2", "SEV3", "SEV4"])
    );

    // A good edit is taken on SIGHUP, without a restart.
    std::fs::write(
        &policy_path,
        default.replace("name = \"default\"", "name = \"team-b\""),
    )
    .expect("write policy");
    hup(&server);
    wait_for_log(&server, "policy reloaded");
    let shown: Value =
        serde_json::from_str(&ok(fireline(&["policy", "show", "--json"], &env))).expect("JSON");
    assert!(
        shown["label"]
            .as_str()
            .expect("label")
            .starts_with("team-b@"),
        "{shown}"
    );

    // A broken edit is refused and the policy in force stays.
    std::fs::write(
        &policy_path,
        "name = \"broken\"\n[severities.X]\nname = \"x\"\nrank = 0\n",
    )
    .expect("write policy");
    hup(&server);
    wait_for_log(&server, "policy reload refused");
    let shown: Value =
        serde_json::from_str(&ok(fireline(&["policy", "show", "--json"], &env))).expect("JSON");
    assert!(
        shown["label"]
            .as_str()
            .expect("label")
            .starts_with("team-b@"),
        "{shown}"
    );
    let (code, _) = server.terminate();
    assert_eq!(code, Some(0));

    // A broken policy stops `serve` before it listens, with the problems listed.
    let out = fireline(
        &[
            "--db",
            &db,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--policy",
            policy_path.to_str().expect("utf8"),
        ],
        &[],
    );
    fails_with(out, 1, "severities.X.rank: rank 0 is not positive");
}

#[test]
fn config_layers_file_then_env_then_flags_and_masks_secrets() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("fireline.toml"),
        "db = \"postgres://app:hunter2@db.internal/fl\"\nurl = \"http://from-file:1\"\nlog_format = \"json\"\n",
    )
    .expect("write config");
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["config", "show", "--json", "--log-format", "text"])
        .env("FIRELINE_URL", "http://from-env:2")
        .env("FIRELINE_TOKEN", "fl_supersecret")
        .env_remove("FIRELINE_DB")
        .env_remove("FIRELINE_CONFIG")
        .output()
        .expect("runs");
    let text = ok(out);
    assert!(
        !text.contains("hunter2") && !text.contains("supersecret"),
        "secrets masked: {text}"
    );
    let v: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(v["db"]["value"], "postgres://app:****@db.internal/fl");
    assert_eq!(v["db"]["source"], "file");
    assert_eq!(v["url"]["value"], "http://from-env:2");
    assert_eq!(v["url"]["source"], "env");
    assert_eq!(v["log_format"]["value"], "text");
    assert_eq!(v["log_format"]["source"], "flag");
    assert_eq!(v["listen"]["source"], "default");
    assert_eq!(v["token"]["source"], "env");

    std::fs::write(dir.path().join("bad.toml"), "colour = \"red\"\n").expect("write");
    fails_with(
        fireline(
            &[
                "--config",
                dir.path().join("bad.toml").to_str().expect("utf8"),
                "config",
                "show",
            ],
            &[],
        ),
        1,
        "unknown field `colour`",
    );
    fails_with(
        fireline(&["--db", "mysql://x", "token", "list"], &[]),
        1,
        "expected sqlite://PATH or postgres://",
    );
}

/// Regression: `config show` printed no `policy` (nor `runbooks`) line, and ignored
/// `FIRELINE_POLICY`, `FIRELINE_RUNBOOKS` and `FIRELINE_LISTEN`, so it did not say what
/// `serve` would run with.
#[test]
fn config_show_tells_the_policy_and_runbooks_serve_would_use() {
    let unset = ok(fireline(&["config", "show"], &[]));
    assert!(
        unset.contains("# policy is not set: serve runs the built-in policies/default.toml"),
        "{unset}"
    );
    assert!(unset.contains("# runbooks is not set"), "{unset}");

    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("fireline.toml");
    std::fs::write(
        &config,
        "policy = \"policies/team.toml\"\nrunbooks = \"runbooks/team\"\n",
    )
    .expect("write config");
    let config = config.to_str().expect("utf8");
    let from_file = ok(fireline(&["--config", config, "config", "show"], &[]));
    let line = |text: &str, key: &str| -> String {
        text.lines()
            .find(|l| l.starts_with(&format!("{key:<10} = ")))
            .unwrap_or_else(|| panic!("a {key} line: {text}"))
            .to_owned()
    };
    let policy = line(&from_file, "policy");
    assert!(
        policy.contains("\"policies/team.toml\"") && policy.ends_with("# file"),
        "{policy}"
    );
    let runbooks = line(&from_file, "runbooks");
    assert!(
        runbooks.contains("\"runbooks/team\"") && runbooks.ends_with("# file"),
        "{runbooks}"
    );

    let env = [
        ("FIRELINE_POLICY", "/etc/fireline/policy.toml"),
        ("FIRELINE_RUNBOOKS", "/srv/runbooks"),
        ("FIRELINE_LISTEN", "0.0.0.0:9090"),
    ];
    let from_env = ok(fireline(&["--config", config, "config", "show"], &env));
    let policy = line(&from_env, "policy");
    assert!(
        policy.contains("\"/etc/fireline/policy.toml\"") && policy.ends_with("# env"),
        "the variable wins over the file: {policy}"
    );
    assert!(line(&from_env, "runbooks").ends_with("# env"), "{from_env}");
    assert!(
        line(&from_env, "listen").contains("\"0.0.0.0:9090\""),
        "{from_env}"
    );
    let json: Value = serde_json::from_str(&ok(fireline(
        &["--config", config, "config", "show", "--json"],
        &env,
    )))
    .expect("JSON");
    assert_eq!(json["policy"]["value"], "/etc/fireline/policy.toml");
    assert_eq!(json["policy"]["source"], "env");
    assert_eq!(json["runbooks"]["source"], "env");
    assert_eq!(json["listen"]["source"], "env");
}

/// Regression: `integration create` printed `<fireline>/api/v1/integrations/<key>/…`;
/// it now prints the receiver's URL on the server the CLI talks to. stdout is not a
/// terminal here, so the key stays out of stderr and is printed alone on stdout.
#[test]
fn integration_create_prints_the_receiver_url_on_the_cli_s_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("f.db").display());
    let out = fireline(
        &[
            "--db",
            &db,
            "--url",
            "http://fireline.example:9000/",
            "integration",
            "create",
            "--service",
            "checkout",
        ],
        &[],
    );
    let err = stderr(&out);
    let key = ok(out).trim().to_owned();
    assert!(key.starts_with("fli_"), "the key alone on stdout: {key:?}");
    assert!(
        err.contains(
            "Alertmanager: url: http://fireline.example:9000/api/v1/integrations/<key>/alertmanager"
        ),
        "{err}"
    );
    assert!(
        !err.contains(&key),
        "the key is not repeated on stderr: {err}"
    );
}

/// Regression: `heartbeat create` printed `<fireline>/api/v1/heartbeats/<key>`; it now
/// prints the ping URL on the server the CLI talks to (the key as for integrations).
#[test]
fn heartbeat_create_prints_the_ping_url_on_the_cli_s_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("f.db").display());
    let base = ["--db", &db, "--url", "http://fireline.example:9000"];
    let integration = fireline(
        &[&base[..], &["integration", "create", "--service", "backup"]].concat(),
        &[],
    );
    assert!(integration.status.success(), "{}", stderr(&integration));
    let id = fireline(
        &[&base[..], &["integration", "list", "--json"]].concat(),
        &[],
    );
    let listed: serde_json::Value = serde_json::from_str(&ok(id)).expect("JSON");
    let id = listed[0]["id"].as_str().expect("an id").to_owned();
    let out = fireline(
        &[
            &base[..],
            &[
                "heartbeat",
                "create",
                "--integration",
                &id,
                "--name",
                "nightly",
                "--interval",
                "24h",
                "--grace",
                "1h",
            ],
        ]
        .concat(),
        &[],
    );
    let err = stderr(&out);
    let key = ok(out).trim().to_owned();
    assert!(
        err.contains("ping: POST http://fireline.example:9000/api/v1/heartbeats/<key>"),
        "{err}"
    );
    assert!(
        !err.contains(&key),
        "the key is not repeated on stderr: {err}"
    );
}

#[test]
fn help_and_version_are_there_for_every_command() {
    assert!(ok(fireline(&["--version"], &[])).starts_with("fireline "));
    for args in [
        vec!["help"],
        vec!["serve", "--help"],
        vec!["token", "create", "--help"],
        vec!["incident", "declare", "--help"],
        vec!["incident", "ack", "--help"],
        vec!["incident", "list", "--help"],
        vec!["incident", "show", "--help"],
    ] {
        let out = ok(fireline(&args, &[]));
        assert!(
            out.contains("Example"),
            "`fireline {}` shows examples:\n{out}",
            args.join(" ")
        );
    }
    let serve = ok(fireline(&["serve", "--help"], &[]));
    assert!(
        serve.starts_with(
            "Run the server: migrations, API and web UI, engine, alert processing and paging\n"
        ),
        "serve --help says what it runs: {serve}"
    );
    let usage = fireline(&["incident", "declare", "--title", "x"], &[]);
    assert_eq!(usage.status.code(), Some(2), "usage errors exit 2");
}

/// Regression: `policy check` warns, with each location and a hint, when a
/// paging severity has no step for "still not acknowledged" and when no alert can open
/// the most severe level; warnings leave the exit code 0 (errors exit 1).
#[test]
fn policy_check_warns_about_unfollowed_pages_and_unreachable_alerts_and_exits_0() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("team.toml");
    let policy = r#"
name = "team"
[severities.SEV1]
name = "Critical"
rank = 1
page = ["schedule:primary"]
[severities.SEV1.clocks]
acknowledge = "5m"
[severities.SEV2]
name = "Ticket"
rank = 2
"#;
    std::fs::write(&path, policy).expect("write policy");
    let out = fireline(&["policy", "check", path.to_str().expect("utf8")], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(": ok — policy team@") && stdout(&out).contains(", 2 warnings"),
        "{}",
        stdout(&out)
    );
    let warned = stderr(&out);
    assert!(
        warned.starts_with("fireline: warning: ") && warned.contains("team.toml: 2 warnings"),
        "{warned}"
    );
    for needle in [
        "  severities.SEV1.page: SEV1 pages people, but no escalation level pages anyone else when nobody acknowledges",
        r#"hint: add a level (e.g. the secondary on-call) with triggers = [{ when = "not_acknowledged", after = "5m", severities = ["SEV1"] }]"#,
        "  alerts: no alert can open SEV1 (Critical): no source severity word maps to it and no route sets it (an alert saying `critical` opens SEV2)",
        r#"hint: map the words Alertmanager, PagerDuty and the generic receiver send: [alerts] severity_map = { critical = "SEV1""#,
    ] {
        assert!(warned.contains(needle), "{needle:?} in\n{warned}");
    }

    // Following both hints leaves nothing to warn about.
    std::fs::write(
        &path,
        format!(
            "{policy}
[alerts]
severity_map = {{ critical = \"SEV1\", warning = \"SEV2\" }}

[[escalation]]
name = \"Secondary\"
targets = [\"schedule:secondary\"]
triggers = [{{ when = \"not_acknowledged\", after = \"5m\", severities = [\"SEV1\"] }}]
"
        ),
    )
    .expect("write policy");
    let out = fireline(&["policy", "check", path.to_str().expect("utf8")], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    assert!(!stdout(&out).contains("warning"), "{}", stdout(&out));

    // An error still exits 1, warnings or not.
    std::fs::write(&path, policy.replace("rank = 2", "rank = 1")).expect("write policy");
    fails_with(
        fireline(&["policy", "check", path.to_str().expect("utf8")], &[]),
        1,
        "rank 1 is also used by SEV1",
    );
}

/// Regression: output into a pipe that closed early (`| head`) ends quietly with success
/// instead of a panic.
#[test]
fn a_closed_pipe_is_not_an_error() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let mut child = Command::new(BIN)
        .args(["policy", "simulate", "--json", "--policy"])
        .arg(format!("{root}/policies/default.toml"))
        .arg("--scenario")
        .arg(format!("{root}/policies/default.scenario.yaml"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    // Close the reading end at once: the program's first write meets a closed pipe.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("exits");
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "nothing on stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Polls `check` on the incident list (the alert processor runs asynchronously) for up
/// to 10 s.
fn wait_for_incidents(env: &[(&str, &str)], check: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..200 {
        let list: Value = serde_json::from_str(&ok(fireline(
            &["incident", "list", "--status", "all", "--json"],
            env,
        )))
        .expect("JSON");
        if check(&list) {
            return list;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the incident list never reached the expected state");
}

#[test]
fn alerts_sent_with_the_cli_open_and_resolve_incidents() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("f.db").display());
    let viewer = token(&db, "viewer", "v");
    let key = ok(fireline(
        &[
            "--db",
            &db,
            "integration",
            "create",
            "--service",
            "backups",
            "--name",
            "cron",
        ],
        &[],
    ));
    let key = key.trim().to_owned();
    assert!(key.starts_with("fli_"), "the key alone on stdout: {key:?}");
    let listed = ok(fireline(
        &["--db", &db, "integration", "list", "--json"],
        &[],
    ));
    assert!(!listed.contains(&key), "keys are never listed");
    let server = Server::start(&db);
    let env = [
        ("FIRELINE_URL", server.url.as_str()),
        ("FIRELINE_TOKEN", viewer.as_str()),
    ];
    let send = |extra: &[&str]| {
        let mut args = vec![
            "alert",
            "send",
            "--key",
            key.as_str(),
            "--id",
            "backup-db1",
            "--summary",
            "db1 backup failed",
            "--severity",
            "warning",
            "--label",
            "host=db1",
        ];
        args.extend_from_slice(extra);
        fireline(&args, &[("FIRELINE_URL", server.url.as_str())])
    };
    assert!(ok(send(&[])).contains("accepted"));
    let list = wait_for_incidents(&env, |l| {
        l["incidents"].as_array().is_some_and(|a| a.len() == 1)
    });
    assert_eq!(
        list["incidents"][0]["severity"], "SEV3",
        "warning maps to SEV3 in the default policy"
    );
    assert_eq!(list["incidents"][0]["service"], "backups");
    ok(send(&["--resolve"]));
    wait_for_incidents(&env, |l| l["incidents"][0]["status"] == "resolved");
    fails_with(
        fireline(
            &[
                "alert",
                "send",
                "--key",
                "fli_wrong",
                "--id",
                "x",
                "--summary",
                "s",
            ],
            &[("FIRELINE_URL", server.url.as_str())],
        ),
        1,
        "unknown integration key",
    );
    fails_with(send(&["--label", "novalue"]), 1, "KEY=VALUE");
    let (_, logs) = server.terminate();
    assert!(
        !logs.iter().any(|l| l.contains(&key)),
        "integration keys are never logged"
    );
}

/// Runbooks end to end: the server reads the shipped runbooks; an alert whose route names
/// a runbook opens an incident that follows it; a responder attaches another by hand,
/// checks steps off with output, and progress shows in `incident show`.
#[test]
fn runbooks_follow_incidents_from_routes_and_by_hand() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("f.db").display());
    let root = env!("CARGO_MANIFEST_DIR");
    let policy_path = agent_down_policy(dir.path());
    let alice = token(&db, "responder", "alice");
    let key = ok(fireline(
        &["--db", &db, "integration", "create", "--service", "agents"],
        &[],
    ))
    .trim()
    .to_owned();
    let server = Server::start_with(
        &db,
        &[
            "--policy",
            policy_path.to_str().expect("utf8"),
            "--runbooks",
            &format!("{root}/../../runbooks/examples"),
        ],
    );
    let env = [
        ("FIRELINE_URL", server.url.as_str()),
        ("FIRELINE_TOKEN", alice.as_str()),
    ];
    ok(fireline(
        &[
            "alert",
            "send",
            "--key",
            &key,
            "--id",
            "agent-1",
            "--summary",
            "agent 1 down",
            "--severity",
            "critical",
            "--label",
            "alertname=AgentDown",
        ],
        &env,
    ));
    wait_for_incidents(&env, |list| {
        list["incidents"].as_array().is_some_and(|a| a.len() == 1)
    });
    let show = |id: &str| -> Value {
        serde_json::from_str(&ok(fireline(&["incident", "show", id, "--json"], &env)))
            .expect("JSON")
    };
    let routed = show("INC-1");
    let checklist = &routed["checklist"];
    assert_eq!(checklist["runbook"], "agent-down", "{routed:#}");
    let total = checklist["total"].as_u64().expect("total");
    assert!(total >= 5, "the seed's steps: {checklist:#}");
    assert_eq!(checklist["done"], 0);

    // By hand, on a declared incident, then a step checked off with its output.
    ok(fireline(
        &[
            "incident",
            "declare",
            "--title",
            "Redis evicting",
            "--severity",
            "SEV2",
            "--service",
            "cache",
        ],
        &env,
    ));
    ok(fireline(
        &["incident", "runbook", "INC-2", "redis-failure"],
        &env,
    ));
    let attached = show("INC-2");
    let step = attached["checklist"]["steps"][0]["id"]
        .as_str()
        .expect("a step id")
        .to_owned();
    ok(fireline(
        &[
            "incident",
            "step",
            "INC-2",
            &step,
            "--output",
            "used_memory:1.9G",
        ],
        &env,
    ));
    let after = show("INC-2");
    assert_eq!(after["checklist"]["done"], 1, "{after:#}");
    assert_eq!(after["checklist"]["steps"][0]["output"], "used_memory:1.9G");
    let human = ok(fireline(&["incident", "show", "INC-2"], &env));
    assert!(
        human.contains(&format!("1 of {}", after["checklist"]["total"])),
        "progress shown: {human}"
    );
    // An unknown runbook or step is refused, naming it, and nothing changes.
    fails_with(
        fireline(&["incident", "runbook", "INC-2", "no-such-runbook"], &env),
        1,
        "runbook",
    );
    fails_with(
        fireline(&["incident", "step", "INC-2", "no.such-step"], &env),
        1,
        "step",
    );
    assert_eq!(show("INC-2")["checklist"]["done"], 1);
}

/// The default policy plus a route that sends `AgentDown` alerts to the `agent-down`
/// runbook, written to `dir`.
fn agent_down_policy(dir: &std::path::Path) -> std::path::PathBuf {
    let policy = format!(
        "{}\n{}",
        include_str!("../../../policies/default.toml"),
        r#"
[[routes]]
name = "agents"
match = [{ label = "alertname", equals = "AgentDown" }]
runbook = "agent-down"
"#
    );
    let path = dir.join("policy.toml");
    std::fs::write(&path, policy).expect("policy");
    path
}

/// Runs `fireline` with `input` on stdin.
fn fireline_stdin(args: &[&str], input: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(BIN)
        .args(args)
        .env_remove("FIRELINE_DB")
        .env_remove("FIRELINE_CONFIG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("fireline runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("fireline ends")
}

#[test]
fn first_start_prints_a_one_time_set_up_link_for_the_first_admin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("f.db").display());
    let server = Server::start(&db);
    let line = wait_for_log(&server, "/ui/setup?code=");
    let prefix = format!("open {}/ui/setup?code=", server.url);
    let code = line
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("expected {prefix}…, got {line}"))
        .to_owned();
    assert!(code.len() >= 32, "{line}");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let setup = |code: &str, name: &str| {
        agent
            .post(&format!("{}/ui/setup", server.url))
            .content_type("application/x-www-form-urlencoded")
            .send(format!(
                "code={code}&name={name}&password=a+long+passphrase&confirm=a+long+passphrase"
            ))
            .expect("POST /ui/setup")
    };
    let wrong = setup("0000", "mallory");
    assert_eq!(wrong.status().as_u16(), 403, "a wrong code creates nobody");
    let first = setup(&code, "root");
    assert_eq!(first.status().as_u16(), 303);
    let cookie = first
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(cookie.starts_with("fireline_session=u:root:"), "{cookie}");
    assert_eq!(
        setup(&code, "again").status().as_u16(),
        403,
        "the code works once"
    );
    let users: Value =
        serde_json::from_str(&ok(fireline(&["--db", &db, "user", "list", "--json"], &[])))
            .expect("JSON");
    let users = users.as_array().expect("an array");
    assert_eq!(users.len(), 1, "{users:?}");
    assert_eq!(
        (users[0]["name"].as_str(), users[0]["role"].as_str()),
        (Some("root"), Some("admin"))
    );
    assert!(
        ok(fireline(&["--db", &db, "token", "list", "--json"], &[])).trim() == "[]",
        "no token is made behind the admin's back"
    );
    let (_, rest) = server.terminate();

    // Once a user exists, a restart prints no link.
    let server = Server::start(&db);
    let (_, rest_again) = server.terminate();
    assert!(
        !rest.iter().chain(&rest_again).any(|l| l.contains("code=")),
        "{rest_again:?}"
    );
}

#[test]
fn users_are_made_from_the_cli_with_checked_passwords() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("f.db").display());
    let created = fireline_stdin(
        &[
            "--db",
            &db,
            "user",
            "create",
            "alice",
            "--role",
            "responder",
            "--password-stdin",
        ],
        "a long passphrase\n",
    );
    assert!(created.status.success(), "{}", stderr(&created));
    assert!(stdout(&created).contains("created user alice (role responder)"));

    // Each refused create names the problem and exits 1.
    for (name, password, problem) in [
        ("bob", "short", "at least 10 characters"),
        ("alice", "another long one", "already exists"),
        ("Bob Smith", "another long one", "name:"),
    ] {
        let refused = fireline_stdin(
            &[
                "--db",
                &db,
                "user",
                "create",
                name,
                "--role",
                "viewer",
                "--password-stdin",
            ],
            &format!("{password}\n"),
        );
        assert_eq!(refused.status.code(), Some(1), "{name}");
        assert!(
            stderr(&refused).contains(problem),
            "{name}: {}",
            stderr(&refused)
        );
    }
    // No terminal and no --password-stdin: refused before anything is written.
    fails_with(
        fireline(
            &["--db", &db, "user", "create", "carol", "--role", "viewer"],
            &[],
        ),
        1,
        "--password-stdin",
    );

    ok(fireline(&["--db", &db, "user", "disable", "alice"], &[]));
    let users: Value =
        serde_json::from_str(&ok(fireline(&["--db", &db, "user", "list", "--json"], &[])))
            .expect("JSON");
    let users = users.as_array().expect("array");
    assert_eq!(users.len(), 1, "only alice was created: {users:?}");
    assert!(users[0]["disabled_at"].is_string(), "{users:?}");
    assert!(users[0].get("password_hash").is_none(), "never the hash");
    fails_with(
        fireline(&["--db", &db, "user", "disable", "nobody"], &[]),
        1,
        "no user nobody",
    );
}
