//! Post-mortems and action items through the `fireline` binary against a real server,
//! on SQLite and PostgreSQL. The harness is `tests/support`.

use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use serde_json::Value;

mod support;
use support::*;

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
