//! Concurrent writers on one incident: nothing lost, nothing applied twice.

use crate::support::{request, send, App, Reply};
use axum::http::{Method, StatusCode};
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use serde_json::{json, Value};
use std::collections::BTreeSet;

backend_tests!(
    concurrent_notes_are_all_kept,
    concurrent_acknowledgements_apply_once
);

/// Sends `bodies` to `path` at once, each from its own task on the multi-threaded
/// runtime, through its own clone of the router.
async fn all_at_once(app: &App, path: &str, bodies: Vec<Option<Value>>) -> Vec<Reply> {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(bodies.len()));
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let router = app.router.clone();
            let req = request(Method::POST, path, Some(&app.alice), body);
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                send(router, req).await
            })
        })
        .collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.expect("the request task does not panic"));
    }
    replies
}

async fn concurrent_notes_are_all_kept(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("Busy", "sev2", "api").await;
    const NOTES: usize = 10;

    let bodies = (0..NOTES)
        .map(|i| Some(json!({"text": format!("note {i}")})))
        .collect();
    let replies = all_at_once(&app, "/api/v1/incidents/INC-1/notes", bodies).await;
    for reply in &replies {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }

    let detail = app.incident("INC-1").await;
    let timeline = detail["timeline"].as_array().expect("timeline");
    assert_eq!(timeline.len(), NOTES + 1, "{detail}");
    assert_eq!(detail["incident"]["version"], NOTES + 1);
    let seqs: Vec<u64> = timeline
        .iter()
        .map(|e| e["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(seqs, (1..=NOTES as u64 + 1).collect::<Vec<_>>(), "no gaps");
    let texts: BTreeSet<String> = timeline[1..]
        .iter()
        .map(|e| {
            assert_eq!(e["kind"], "note_added");
            e["data"]["text"].as_str().expect("text").to_owned()
        })
        .collect();
    let expected: BTreeSet<String> = (0..NOTES).map(|i| format!("note {i}")).collect();
    assert_eq!(texts, expected, "every note exactly once");

    // Each reply showed the timeline up to and including its own note.
    for reply in &replies {
        let version = reply.body["incident"]["version"].as_u64().expect("version");
        let own = reply.body["timeline"]
            .as_array()
            .expect("timeline")
            .last()
            .expect("an event");
        assert_eq!(own["seq"].as_u64(), Some(version));
        assert_eq!(own["kind"], "note_added");
    }
}

async fn concurrent_acknowledgements_apply_once(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("Contested", "sev1", "api").await;

    let replies = all_at_once(&app, "/api/v1/incidents/INC-1/acknowledge", vec![None; 5]).await;
    let ok = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    let conflicts = replies
        .iter()
        .filter(|r| r.status == StatusCode::CONFLICT && r.body["error"]["code"] == "conflict")
        .count();
    assert_eq!(
        (ok, conflicts),
        (1, 4),
        "{:?}",
        replies
            .iter()
            .map(|r| (r.status, &r.body))
            .collect::<Vec<_>>()
    );

    let detail = app.incident("INC-1").await;
    assert_eq!(crate::support::kinds(&detail), ["declared", "acknowledged"]);
    assert_eq!(detail["incident"]["version"], 2);
}
