//! GET /api/v1/incidents: filters, ordering and refusals.

use crate::support::{App, Reply};
use axum::http::StatusCode;
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use serde_json::json;

backend_tests!(list_filters, list_refuses_bad_queries);

/// INC-1 sev1 api (open), INC-2 sev2 db (resolved), INC-3 sev2 api (open).
async fn three_incidents(app: &App) {
    app.declare("API down", "sev1", "api").await;
    app.advance(1);
    app.declare("DB slow", "sev2", "db").await;
    app.advance(1);
    app.declare("API slow", "sev2", "api").await;
    app.advance(1);
    app.post("/api/v1/incidents/INC-2/resolve", &app.alice, json!({}))
        .await
        .expect(StatusCode::OK);
}

async fn list_filters(db: &TestDatabase) {
    let app = App::new(db).await;
    assert!(app.listed("").await.is_empty(), "nothing declared yet");
    three_incidents(&app).await;

    // Open only by default (and explicitly), newest first.
    assert_eq!(app.listed("").await, ["INC-3", "INC-1"]);
    assert_eq!(app.listed("?status=open").await, ["INC-3", "INC-1"]);
    // All: open first, then resolved.
    assert_eq!(app.listed("?status=all").await, ["INC-3", "INC-1", "INC-2"]);
    assert_eq!(app.listed("?status=resolved").await, ["INC-2"]);

    // Severity, any case.
    assert_eq!(app.listed("?severity=sev1").await, ["INC-1"]);
    assert_eq!(app.listed("?severity=SEV1").await, ["INC-1"]);
    assert_eq!(
        app.listed("?severity=Sev2&status=all").await,
        ["INC-3", "INC-2"]
    );
    assert!(app.listed("?severity=sev4").await.is_empty());

    // Service.
    assert_eq!(app.listed("?service=api").await, ["INC-3", "INC-1"]);
    assert_eq!(app.listed("?service=db&status=all").await, ["INC-2"]);
    assert!(app.listed("?service=nope").await.is_empty());

    // Limit keeps the first ones.
    assert_eq!(app.listed("?limit=1").await, ["INC-3"]);
    assert_eq!(app.listed("?status=all&limit=2").await, ["INC-3", "INC-1"]);
    assert_eq!(
        app.listed("?status=all&limit=1000").await,
        ["INC-3", "INC-1", "INC-2"]
    );

    // Filters combine.
    assert_eq!(
        app.listed("?status=all&service=api&severity=sev2").await,
        ["INC-3"]
    );

    // A summary carries the incident's state.
    let list = app
        .get("/api/v1/incidents?status=resolved", &app.viewer)
        .await
        .expect(StatusCode::OK)
        .body;
    let inc2 = &list["incidents"][0];
    assert_eq!(inc2["status"], "resolved");
    assert_eq!(inc2["severity"], "SEV2");
    assert_eq!(inc2["service"], "db");
    assert_eq!(inc2["title"], "DB slow");
    assert_eq!(inc2["declared_by"], "alice");
    assert_eq!(inc2["version"], 2);
}

async fn list(app: &App, query: &str) -> Reply {
    app.get(&format!("/api/v1/incidents{query}"), &app.viewer)
        .await
}

async fn list_refuses_bad_queries(db: &TestDatabase) {
    let app = App::new(db).await;
    three_incidents(&app).await;
    list(&app, "?status=closed").await.expect_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("status"),
    );
    list(&app, "?severity=sev9").await.expect_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("severity"),
    );
    list(&app, "?limit=0").await.expect_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("limit"),
    );
    list(&app, "?limit=1001").await.expect_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("limit"),
    );
    list(&app, "?limit=abc").await.expect_error(
        StatusCode::BAD_REQUEST,
        "bad_request",
        Some("limit"),
    );
    list(&app, "?limit=-1").await.expect_error(
        StatusCode::BAD_REQUEST,
        "bad_request",
        Some("limit"),
    );
    list(&app, "?sevrity=sev1").await.expect_error(
        StatusCode::BAD_REQUEST,
        "bad_request",
        Some("sevrity"),
    );
    list(&app, "?status=all&page=2").await.expect_error(
        StatusCode::BAD_REQUEST,
        "bad_request",
        Some("page"),
    );
}
