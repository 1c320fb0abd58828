//! Post-mortems and action items through the API: draft, edit with history and 409,
//! stages, export, related incidents, action items and their refusals.

use crate::support::{kinds, App};
use axum::http::{Method, StatusCode};
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use serde_json::{json, Value};

backend_tests!(
    draft_is_written_from_the_timeline_and_edits_keep_history,
    stages_advance_in_order_on_the_timeline,
    export_is_markdown_or_escaped_html,
    action_items_are_added_changed_closed_with_a_note_and_listed_overdue,
    bad_input_names_the_field_and_changes_nothing,
);

/// Declares, acknowledges and resolves a SEV1 on `service` as alice; returns its id.
async fn resolved(app: &App, title: &str, service: &str) -> String {
    let id = app.declare(title, "sev1", service).await["incident"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.advance(3);
    app.post(
        &format!("/api/v1/incidents/{id}/acknowledge"),
        &app.alice,
        json!({}),
    )
    .await
    .expect(StatusCode::OK);
    app.advance(30);
    app.post(
        &format!("/api/v1/incidents/{id}/resolve"),
        &app.alice,
        json!({"summary": "rolled back"}),
    )
    .await
    .expect(StatusCode::OK);
    id
}

async fn put(app: &App, path: &str, token: &str, body: Value) -> crate::support::Reply {
    app.call(Method::PUT, path, Some(token), Some(body)).await
}

async fn draft_is_written_from_the_timeline_and_edits_keep_history(db: &TestDatabase) {
    let app = App::new(db).await;
    let earlier = resolved(&app, "Checkout slow", "checkout").await;
    resolved(&app, "Search down", "search").await;
    let id = resolved(&app, "Checkout 5xx", "checkout").await;
    let path = format!("/api/v1/incidents/{id}/postmortem");

    app.get(&path, &app.viewer)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    let drafted = app
        .post(&path, &app.alice, json!({}))
        .await
        .expect(StatusCode::CREATED)
        .body;
    assert_eq!(drafted["version"], 1);
    assert_eq!(drafted["phase"], "draft");
    assert_eq!(drafted["template"], "standard");
    assert_eq!(drafted["created_by"], "alice");
    let text = drafted["text"].as_str().expect("text");
    assert!(
        text.starts_with(&format!("# Post-mortem: {id} Checkout 5xx\n")),
        "{text}"
    );
    assert!(text.contains("| Time to acknowledge | 3m |"), "{text}");
    assert!(text.contains("| Time to resolve | 33m |"), "{text}");
    assert!(
        text.contains("**Answered by:** alice acknowledged at"),
        "{text}"
    );
    assert!(text.contains("| alice | resolved: rolled back |"), "{text}");
    assert!(
        text.contains("## Root cause\n\n_"),
        "prompts for people: {text}"
    );
    // Related: the earlier checkout incident, not the search one.
    let related: Vec<&str> = drafted["related"]
        .as_array()
        .expect("related")
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    assert_eq!(related, vec![earlier.as_str()]);
    assert!(text.contains(&format!("- **{earlier}**")), "{text}");
    assert_eq!(
        app.get(&format!("/api/v1/incidents/{id}/related"), &app.viewer)
            .await
            .expect(StatusCode::OK)
            .body["related"][0]["reasons"],
        json!(["same service"])
    );
    // SEV1 is major under the built-in policy: draft 2bd, review 5bd, publish 10bd.
    let stages: Vec<(&str, bool)> = drafted["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| (s["stage"].as_str().expect("stage"), s["due_at"].is_string()))
        .collect();
    assert_eq!(
        stages,
        vec![("draft", true), ("review", true), ("publish", true)]
    );

    app.post(&path, &app.alice, json!({})).await.expect_error(
        StatusCode::CONFLICT,
        "conflict",
        None,
    );

    app.advance(5);
    // Two lines more: an empty one and the sentence.
    let edited = format!("{text}\nRoot cause: a bad deploy.\n");
    let saved = put(
        &app,
        &path,
        &app.alice,
        json!({"text": edited, "expected_version": 1}),
    )
    .await
    .expect(StatusCode::OK)
    .body;
    assert_eq!(saved["version"], 2);
    assert_eq!(saved["updated_by"], "alice");
    // A second editor still on version 1 is refused and overwrites nothing.
    put(
        &app,
        &path,
        &app.admin,
        json!({"text": "mine", "expected_version": 1}),
    )
    .await
    .expect_error(StatusCode::CONFLICT, "conflict", None);
    put(
        &app,
        &path,
        &app.viewer,
        json!({"text": "x", "expected_version": 2}),
    )
    .await
    .expect_error(StatusCode::FORBIDDEN, "forbidden", Some("authorization"));
    let now = app
        .get(&path, &app.viewer)
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(now["version"], 2);
    assert_eq!(now["text"], edited);

    let history = app
        .get(&format!("{path}/history"), &app.viewer)
        .await
        .expect(StatusCode::OK)
        .body;
    let rows: Vec<(u64, &str, &str)> = history["revisions"]
        .as_array()
        .expect("revisions")
        .iter()
        .map(|r| {
            (
                r["version"].as_u64().expect("version"),
                r["actor"].as_str().expect("actor"),
                r["summary"].as_str().expect("summary"),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![(1, "alice", "drafted"), (2, "alice", "+2 −0 lines")]
    );
    assert_eq!(history["revisions"][0]["text"], text);
}

async fn stages_advance_in_order_on_the_timeline(db: &TestDatabase) {
    let app = App::new(db).await;
    let open = app.declare("Still open", "sev1", "api").await["incident"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let stages = |id: &str| format!("/api/v1/incidents/{id}/postmortem/stages");
    app.post(&stages(&open), &app.alice, json!({}))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    app.post(
        &format!("/api/v1/incidents/{open}/postmortem"),
        &app.alice,
        json!({}),
    )
    .await
    .expect(StatusCode::CREATED);
    let refused = app
        .post(&stages(&open), &app.alice, json!({}))
        .await
        .expect_error(StatusCode::CONFLICT, "conflict", None);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not resolved")),
        "{}",
        refused.body
    );

    let id = resolved(&app, "Checkout 5xx", "checkout").await;
    app.post(
        &format!("/api/v1/incidents/{id}/postmortem"),
        &app.alice,
        json!({"template": "agentic-flow"}),
    )
    .await
    .expect(StatusCode::CREATED);
    let version = app.incident(&id).await["incident"]["version"].clone();
    app.post(&stages(&id), &app.alice, json!({"stage": "publish"}))
        .await
        .expect_error(StatusCode::CONFLICT, "conflict", None);
    app.post(&stages(&id), &app.viewer, json!({}))
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden", Some("authorization"));
    assert_eq!(
        app.incident(&id).await["incident"]["version"],
        version,
        "refusals append nothing"
    );

    app.advance(60);
    let review = app
        .post(&stages(&id), &app.alice, json!({}))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(review["phase"], "review");
    assert!(review["stages"][0]["completed_at"].is_string());
    assert_eq!(review["stages"][0]["overdue"], false);
    let detail = app.incident(&id).await;
    assert_eq!(
        kinds(&detail).last().map(String::as_str),
        Some("postmortem_stage_completed")
    );
    let last = detail["timeline"]
        .as_array()
        .and_then(|t| t.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (last["actor"].as_str(), last["data"]["stage"].as_str()),
        (Some("alice"), Some("draft"))
    );

    app.post(&stages(&id), &app.alice, json!({"stage": "draft"}))
        .await
        .expect_error(StatusCode::CONFLICT, "conflict", None);
    assert_eq!(
        app.post(&stages(&id), &app.alice, json!({}))
            .await
            .expect(StatusCode::OK)
            .body["phase"],
        "review",
        "review done: publication is next"
    );
    let published = app
        .post(&stages(&id), &app.alice, json!({}))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(published["phase"], "published");
    app.post(&stages(&id), &app.alice, json!({}))
        .await
        .expect_error(StatusCode::CONFLICT, "conflict", None);
}

async fn export_is_markdown_or_escaped_html(db: &TestDatabase) {
    let app = App::new(db).await;
    let id = resolved(&app, "Checkout <script>alert(1)</script> & co", "checkout").await;
    let path = format!("/api/v1/incidents/{id}/postmortem");
    let text = app
        .post(&path, &app.alice, json!({}))
        .await
        .expect(StatusCode::CREATED)
        .body["text"]
        .clone();
    let md = app
        .get(&format!("{path}/export"), &app.viewer)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        md.header("content-type"),
        Some("text/markdown; charset=utf-8")
    );
    assert_eq!(md.body, text);
    let html = app
        .get(&format!("{path}/export?format=html"), &app.viewer)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        html.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let page = html.body.as_str().expect("a page");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"),
        "{page}"
    );
    assert!(!page.contains("<script"), "{page}");
    assert!(!page.contains("http"), "no external assets: {page}");
    app.get(&format!("{path}/export?format=pdf"), &app.viewer)
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("format"));
}

async fn action_items_are_added_changed_closed_with_a_note_and_listed_overdue(db: &TestDatabase) {
    let app = App::new(db).await;
    let id = resolved(&app, "Checkout 5xx", "checkout").await;
    // The clock starts 2027-01-15 08:00 UTC.
    let added = app
        .post(
            &format!("/api/v1/incidents/{id}/actions"),
            &app.alice,
            json!({"title": "Add canary deploys", "owner": "bob", "priority": "p1", "due": "2027-01-15"}),
        )
        .await
        .expect(StatusCode::CREATED)
        .body;
    assert_eq!(added["id"], "AI-1");
    assert_eq!(added["incident"], id);
    assert_eq!(added["priority"], "P1");
    assert_eq!(added["status"], "open");
    assert_eq!(added["overdue"], false);
    app.post(
        &format!("/api/v1/incidents/{id}/actions"),
        &app.alice,
        json!({"title": "Runbook", "owner": "carol", "priority": "P3", "due": "2027-02-01"}),
    )
    .await
    .expect(StatusCode::CREATED);
    let listed = |query: &'static str| {
        let app = &app;
        async move {
            app.get(&format!("/api/v1/actions{query}"), &app.viewer)
                .await
                .expect(StatusCode::OK)
                .body["action_items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|i| i["id"].as_str().expect("id").to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(listed("").await, vec!["AI-1", "AI-2"]);
    assert_eq!(listed("?owner=carol").await, vec!["AI-2"]);
    assert!(
        listed("?overdue=true").await.is_empty(),
        "due today is not overdue"
    );
    // The post-mortem lists its incident's items.
    let drafted = app
        .post(
            &format!("/api/v1/incidents/{id}/postmortem"),
            &app.alice,
            json!({}),
        )
        .await
        .expect(StatusCode::CREATED)
        .body;
    assert_eq!(drafted["action_items"].as_array().map(Vec::len), Some(2));
    assert!(drafted["text"]
        .as_str()
        .is_some_and(|t| t.contains("| AI-1 Add canary deploys | bob | P1 | 2027-01-15 | open |")));

    app.advance(24 * 60);
    assert_eq!(listed("?overdue=true").await, vec!["AI-1"]);
    let changed = app
        .call(
            Method::PATCH,
            "/api/v1/actions/AI-1",
            Some(&app.alice),
            Some(json!({"status": "in_progress", "owner": "dave"})),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(
        (changed["status"].as_str(), changed["owner"].as_str()),
        (Some("in_progress"), Some("dave"))
    );
    assert_eq!(changed["overdue"], true);

    let refused = app
        .post("/api/v1/actions/AI-1/close", &app.alice, json!({}))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("note"));
    assert!(refused.body["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("note")));
    assert_eq!(
        app.get("/api/v1/actions/1", &app.viewer)
            .await
            .expect(StatusCode::OK)
            .body["status"],
        "in_progress",
        "a refused close changes nothing"
    );
    let closed = app
        .post(
            "/api/v1/actions/AI-1/close",
            &app.alice,
            json!({"note": "canaries on since 4f2c"}),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(
        (closed["status"].as_str(), closed["note"].as_str()),
        (Some("done"), Some("canaries on since 4f2c"))
    );
    assert_eq!(closed["overdue"], false);
    app.post(
        "/api/v1/actions/AI-1/close",
        &app.alice,
        json!({"note": "again"}),
    )
    .await
    .expect_error(StatusCode::CONFLICT, "conflict", None);
    assert!(listed("?overdue=true").await.is_empty());
    assert_eq!(listed("").await, vec!["AI-2"], "open ones by default");
    assert_eq!(listed("?status=all").await, vec!["AI-1", "AI-2"]);
    app.post(
        "/api/v1/actions/AI-2/close",
        &app.alice,
        json!({"note": "not needed", "status": "wont_do"}),
    )
    .await
    .expect(StatusCode::OK);
    app.get("/api/v1/actions/AI-9", &app.viewer)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
}

async fn bad_input_names_the_field_and_changes_nothing(db: &TestDatabase) {
    let app = App::new(db).await;
    let id = resolved(&app, "Checkout 5xx", "checkout").await;
    let add = format!("/api/v1/incidents/{id}/actions");
    let good = json!({"title": "t", "owner": "bob", "priority": "P1", "due": "2027-02-01"});
    for (field, value, status, code) in [
        (
            "priority",
            json!("P9"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "due",
            json!("next week"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "title",
            json!("  "),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "owner",
            json!(""),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "due",
            json!(20270201),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
    ] {
        let mut body = good.clone();
        body[field] = value;
        app.post(&add, &app.alice, body)
            .await
            .expect_error(status, code, Some(field));
    }
    app.post(&add, &app.alice, json!({"title": "t", "owner": "bob", "priority": "P1", "due": "2027-02-01", "colour": "red"}))
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request", Some("colour"));
    app.post("/api/v1/incidents/INC-99/actions", &app.alice, good.clone())
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    assert_eq!(
        app.get("/api/v1/actions?status=all", &app.viewer)
            .await
            .expect(StatusCode::OK)
            .body["action_items"],
        json!([]),
        "nothing was created"
    );

    app.post(&add, &app.alice, good)
        .await
        .expect(StatusCode::CREATED);
    let before = app
        .get("/api/v1/actions/AI-1", &app.viewer)
        .await
        .expect(StatusCode::OK)
        .body;
    for (body, field) in [
        (json!({"status": "done"}), "status"),
        (json!({"title": "ok", "priority": "urgent"}), "priority"),
    ] {
        app.call(
            Method::PATCH,
            "/api/v1/actions/AI-1",
            Some(&app.alice),
            Some(body),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some(field));
    }
    app.get("/api/v1/actions/ACT-1", &app.viewer)
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request", Some("id"));
    assert_eq!(
        app.get("/api/v1/actions/AI-1", &app.viewer)
            .await
            .expect(StatusCode::OK)
            .body,
        before,
        "a refused update changes nothing"
    );

    let pm = format!("/api/v1/incidents/{id}/postmortem");
    app.post(&pm, &app.alice, json!({"template": "seed-9"}))
        .await
        .expect_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("template"),
        );
    app.get(&pm, &app.viewer)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    app.post(&pm, &app.alice, json!({}))
        .await
        .expect(StatusCode::CREATED);
    put(
        &app,
        &pm,
        &app.alice,
        json!({"text": " ", "expected_version": 1}),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("text"));
    put(&app, &pm, &app.alice, json!({"text": "x"}))
        .await
        .expect_error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            Some("expected_version"),
        );
    app.post(
        &format!("{pm}/stages"),
        &app.alice,
        json!({"stage": "retro"}),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("stage"));
    let after = app.get(&pm, &app.viewer).await.expect(StatusCode::OK).body;
    assert_eq!(
        (after["version"].as_u64(), after["phase"].as_str()),
        (Some(1), Some("draft"))
    );
}
