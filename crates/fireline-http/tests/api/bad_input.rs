//! Refused requests: each answers the right status, code and field, and changes nothing.

use crate::support::{kinds, App, Reply};
use axum::http::{Method, StatusCode};
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use serde_json::{json, Value};
use std::future::Future;

backend_tests!(
    refused_declarations_store_nothing,
    refused_changes_store_nothing,
    unknown_routes_and_methods_answer_json
);

/// What must not change: the incident count and INC-1's version and timeline.
struct Snapshot {
    count: usize,
    detail: Value,
}

impl Snapshot {
    async fn take(app: &App) -> Snapshot {
        Snapshot {
            count: app.incident_count().await,
            detail: app.incident("INC-1").await,
        }
    }

    #[track_caller]
    fn assert_unchanged(&self, now: &Snapshot, after: &str) {
        assert_eq!(
            now.count, self.count,
            "incident count changed after {after}"
        );
        assert_eq!(
            now.detail["incident"]["version"], self.detail["incident"]["version"],
            "version changed after {after}"
        );
        assert_eq!(
            kinds(&now.detail),
            kinds(&self.detail),
            "timeline changed after {after}"
        );
        assert_eq!(now.detail, self.detail, "INC-1 changed after {after}");
    }
}

/// Sends `attempt` (a request not yet sent), checks its error, and checks nothing stored changed.
async fn refused(
    app: &App,
    what: &str,
    attempt: impl Future<Output = Reply>,
    status: StatusCode,
    code: &str,
    field: Option<&str>,
) {
    let before = Snapshot::take(app).await;
    let reply = attempt.await;
    assert_eq!(reply.status, status, "{what}: {}", reply.body);
    assert_eq!(reply.body["error"]["code"], code, "{what}: {}", reply.body);
    assert_eq!(
        reply.body["error"]["field"],
        field.map_or(Value::Null, |f| json!(f)),
        "{what}: {}",
        reply.body
    );
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{what}: {}",
        reply.body
    );
    let after = Snapshot::take(app).await;
    before.assert_unchanged(&after, what);
}

const INCIDENTS: &str = "/api/v1/incidents";

async fn refused_declarations_store_nothing(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("Existing", "sev2", "api").await;
    let declare = |body: Value| app.post(INCIDENTS, &app.alice, body);
    use StatusCode as S;

    refused(
        &app,
        "unknown severity",
        declare(json!({"title": "t", "severity": "sev9", "service": "s"})),
        S::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("severity"),
    )
    .await;
    refused(
        &app,
        "empty title",
        declare(json!({"title": "", "severity": "sev2", "service": "s"})),
        S::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("title"),
    )
    .await;
    refused(
        &app,
        "blank title",
        declare(json!({"title": "  \t ", "severity": "sev2", "service": "s"})),
        S::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("title"),
    )
    .await;
    refused(
        &app,
        "two-line title",
        declare(json!({"title": "a\nb", "severity": "sev2", "service": "s"})),
        S::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("title"),
    )
    .await;
    refused(
        &app,
        "blank service",
        declare(json!({"title": "t", "severity": "sev2", "service": " "})),
        S::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("service"),
    )
    .await;
    refused(
        &app,
        "unknown category",
        declare(json!({"title": "t", "severity": "sev2", "service": "s", "category": "nope"})),
        S::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("category"),
    )
    .await;
    refused(
        &app,
        "malformed JSON",
        app.post_raw(
            INCIDENTS,
            &app.alice,
            Some("application/json"),
            r#"{"title": "t", "#,
        ),
        S::BAD_REQUEST,
        "bad_request",
        None,
    )
    .await;
    refused(
        &app,
        "missing title",
        declare(json!({"severity": "sev2", "service": "s"})),
        S::BAD_REQUEST,
        "bad_request",
        Some("title"),
    )
    .await;
    refused(
        &app,
        "misspelt severity",
        declare(json!({"title": "t", "sevrity": "sev2", "service": "s"})),
        S::BAD_REQUEST,
        "bad_request",
        Some("sevrity"),
    )
    .await;
    refused(
        &app,
        "title of the wrong type",
        declare(json!({"title": 5, "severity": "sev2", "service": "s"})),
        S::BAD_REQUEST,
        "bad_request",
        Some("title"),
    )
    .await;
    refused(
        &app,
        "flags of the wrong type",
        declare(json!({"title": "t", "severity": "sev2", "service": "s", "flags": [1]})),
        S::BAD_REQUEST,
        "bad_request",
        Some("flags[0]"),
    )
    .await;
    refused(
        &app,
        "a JSON array",
        declare(json!(["t", "sev2", "s"])),
        S::BAD_REQUEST,
        "bad_request",
        None,
    )
    .await;
    refused(
        &app,
        "body over 64 KiB",
        declare(json!({"title": "t", "severity": "sev2", "service": "s",
                           "summary": "x".repeat(fireline_http::MAX_BODY_BYTES)})),
        S::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        None,
    )
    .await;
    refused(
        &app,
        "text/plain",
        app.post_raw(
            INCIDENTS,
            &app.alice,
            Some("text/plain"),
            json!({"title": "t", "severity": "sev2", "service": "s"}).to_string(),
        ),
        S::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        None,
    )
    .await;
    refused(
        &app,
        "no body",
        app.post_raw(INCIDENTS, &app.alice, None, ""),
        S::BAD_REQUEST,
        "bad_request",
        Some("title"),
    )
    .await;
    assert_eq!(app.incident_count().await, 1);

    // The same declaration, well formed, is accepted: the refusals were about the input.
    declare(json!({"title": "t", "severity": "sev2", "service": "s"}))
        .await
        .expect(S::CREATED);
    // JSON with a charset, or a +json type, is JSON.
    app.post_raw(
        INCIDENTS,
        &app.alice,
        Some("application/json; charset=utf-8"),
        json!({"title": "t", "severity": "sev2", "service": "s"}).to_string(),
    )
    .await
    .expect(S::CREATED);
    assert_eq!(app.incident_count().await, 3);
}

async fn refused_changes_store_nothing(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("Existing", "sev2", "api").await;
    app.post("/api/v1/incidents/INC-1/acknowledge", &app.alice, json!({}))
        .await
        .expect(StatusCode::OK);
    let post = |path: &'static str, body: Value| app.post(path, &app.alice, body);
    use StatusCode as S;

    refused(
        &app,
        "unknown status",
        post(
            "/api/v1/incidents/INC-1/status",
            json!({"status": "paused"}),
        ),
        S::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("status"),
    )
    .await;
    refused(
        &app,
        "unknown severity",
        post(
            "/api/v1/incidents/INC-1/severity",
            json!({"severity": "p0"}),
        ),
        S::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("severity"),
    )
    .await;
    refused(
        &app,
        "blank note",
        post("/api/v1/incidents/INC-1/notes", json!({"text": "   "})),
        S::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("text"),
    )
    .await;
    refused(
        &app,
        "unknown role",
        post(
            "/api/v1/incidents/INC-1/roles",
            json!({"role": "mascot", "assignee": "bob"}),
        ),
        S::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("role"),
    )
    .await;
    refused(
        &app,
        "unknown channel",
        post(
            "/api/v1/incidents/INC-1/updates",
            json!({"channel": "carrier-pigeon", "text": "hi"}),
        ),
        S::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("channel"),
    )
    .await;
    refused(
        &app,
        "malformed id",
        app.get("/api/v1/incidents/INC-x", &app.viewer),
        S::BAD_REQUEST,
        "bad_request",
        Some("id"),
    )
    .await;
    refused(
        &app,
        "note on a malformed id",
        post("/api/v1/incidents/INC-x/notes", json!({"text": "n"})),
        S::BAD_REQUEST,
        "bad_request",
        Some("id"),
    )
    .await;
    refused(
        &app,
        "unknown incident",
        app.get("/api/v1/incidents/INC-999", &app.viewer),
        S::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    refused(
        &app,
        "note on an unknown incident",
        post("/api/v1/incidents/INC-999/notes", json!({"text": "n"})),
        S::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    refused(
        &app,
        "malformed JSON",
        app.post_raw(
            "/api/v1/incidents/INC-1/notes",
            &app.alice,
            Some("application/json"),
            "{text: n}",
        ),
        S::BAD_REQUEST,
        "bad_request",
        None,
    )
    .await;
    refused(
        &app,
        "missing text",
        post("/api/v1/incidents/INC-1/notes", json!({})),
        S::BAD_REQUEST,
        "bad_request",
        Some("text"),
    )
    .await;
    refused(
        &app,
        "expected_version of the wrong type",
        post(
            "/api/v1/incidents/INC-1/notes",
            json!({"text": "n", "expected_version": "2"}),
        ),
        S::BAD_REQUEST,
        "bad_request",
        Some("expected_version"),
    )
    .await;
    refused(
        &app,
        "misspelt field on an optional body",
        post("/api/v1/incidents/INC-1/resolve", json!({"sumary": "x"})),
        S::BAD_REQUEST,
        "bad_request",
        Some("sumary"),
    )
    .await;
    refused(
        &app,
        "note over 64 KiB",
        post(
            "/api/v1/incidents/INC-1/notes",
            json!({"text": "x".repeat(fireline_http::MAX_BODY_BYTES + 1)}),
        ),
        S::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        None,
    )
    .await;
    refused(
        &app,
        "note as text/plain",
        app.post_raw(
            "/api/v1/incidents/INC-1/notes",
            &app.alice,
            Some("text/plain"),
            "hello",
        ),
        S::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        None,
    )
    .await;
    refused(
        &app,
        "acknowledging twice",
        post("/api/v1/incidents/INC-1/acknowledge", json!({})),
        S::CONFLICT,
        "conflict",
        None,
    )
    .await;
    refused(
        &app,
        "the status it already has",
        post(
            "/api/v1/incidents/INC-1/status",
            json!({"status": "investigating"}),
        ),
        S::CONFLICT,
        "conflict",
        None,
    )
    .await;
    refused(
        &app,
        "the severity it already has",
        post(
            "/api/v1/incidents/INC-1/severity",
            json!({"severity": "Sev2"}),
        ),
        S::CONFLICT,
        "conflict",
        None,
    )
    .await;
    refused(
        &app,
        "reopening an open incident",
        post("/api/v1/incidents/INC-1/reopen", json!({})),
        S::CONFLICT,
        "conflict",
        None,
    )
    .await;
    refused(
        &app,
        "stale expected_version",
        post(
            "/api/v1/incidents/INC-1/notes",
            json!({"text": "n", "expected_version": 1}),
        ),
        S::CONFLICT,
        "conflict",
        None,
    )
    .await;
    refused(
        &app,
        "future expected_version",
        post(
            "/api/v1/incidents/INC-1/status",
            json!({"status": "monitoring", "expected_version": 3}),
        ),
        S::CONFLICT,
        "conflict",
        None,
    )
    .await;
    assert_eq!(
        kinds(&app.incident("INC-1").await),
        ["declared", "acknowledged"]
    );

    // The current expected_version is accepted.
    let noted = post(
        "/api/v1/incidents/INC-1/notes",
        json!({"text": "n", "expected_version": 2}),
    )
    .await
    .expect(S::OK)
    .body;
    assert_eq!(noted["incident"]["version"], 3);

    // A resolved incident refuses changes but takes notes.
    post("/api/v1/incidents/INC-1/resolve", json!({}))
        .await
        .expect(S::OK);
    refused(
        &app,
        "acknowledging a resolved incident",
        post("/api/v1/incidents/INC-1/acknowledge", json!({})),
        S::CONFLICT,
        "conflict",
        None,
    )
    .await;
    refused(
        &app,
        "resolving twice",
        post("/api/v1/incidents/INC-1/resolve", json!({})),
        S::CONFLICT,
        "conflict",
        None,
    )
    .await;
    post("/api/v1/incidents/INC-1/notes", json!({"text": "after"}))
        .await
        .expect(S::OK);
}

async fn unknown_routes_and_methods_answer_json(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("Existing", "sev2", "api").await;
    use StatusCode as S;

    let cases = [
        (Method::GET, "/api/v1/nope", S::NOT_FOUND, "not_found"),
        (Method::GET, "/api/v2/incidents", S::NOT_FOUND, "not_found"),
        (
            Method::POST,
            "/api/v1/incidents/INC-1/explode",
            S::NOT_FOUND,
            "not_found",
        ),
        (
            Method::DELETE,
            "/api/v1/incidents",
            S::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            Method::PUT,
            "/api/v1/incidents/INC-1",
            S::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            Method::GET,
            "/api/v1/incidents/INC-1/notes",
            S::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            Method::POST,
            "/health",
            S::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ];
    for (method, path, status, code) in cases {
        let before = Snapshot::take(&app).await;
        let reply = app
            .call(method.clone(), path, Some(&app.admin), Some(json!({})))
            .await;
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.body);
        assert_eq!(reply.body["error"]["code"], code, "{method} {path}");
        assert!(
            reply
                .header("content-type")
                .is_some_and(|ct| ct.starts_with("application/json")),
            "{method} {path} answers JSON: {:?}",
            reply.header("content-type")
        );
        before.assert_unchanged(&Snapshot::take(&app).await, path);
    }
}
