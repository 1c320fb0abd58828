//! GET /metrics: the exposition names what an operator alerts on, and stays consistent
//! with what is stored.

use crate::support::App;
use axum::http::StatusCode;
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;

backend_tests!(
    metrics_expose_open_incidents_outbox_and_latency,
    a_metrics_token_guards_the_exposition
);

async fn a_metrics_token_guards_the_exposition(db: &TestDatabase) {
    let app = App::with_metrics_token(db, "scrape-secret").await;
    app.get("/metrics", "").await.expect_error(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        Some("authorization"),
    );
    app.get("/metrics", "wrong").await.expect_error(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        Some("authorization"),
    );
    // An API token is not the metrics token.
    app.get("/metrics", &app.admin.clone()).await.expect_error(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        Some("authorization"),
    );
    let text = app
        .get("/metrics", "scrape-secret")
        .await
        .expect(StatusCode::OK);
    assert!(text
        .body
        .as_str()
        .is_some_and(|t| t.contains("fireline_outbox_pending")));
}

async fn metrics_expose_open_incidents_outbox_and_latency(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("API down", "SEV1", "api").await;
    app.declare("API slow", "SEV2", "api").await;
    app.declare("Disk", "SEV2", "db").await;
    let reply = app.get("/metrics", "").await.expect(StatusCode::OK);
    assert!(reply
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/plain")));
    let text = reply.body.as_str().expect("text").to_owned();
    for line in [
        "fireline_open_incidents{severity=\"SEV1\"} 1",
        "fireline_open_incidents{severity=\"SEV2\"} 2",
        "fireline_open_incidents{severity=\"SEV4\"} 0",
        "fireline_outbox_pending 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in:\n{text}"
        );
    }
    // Requests are timed by route template, never by raw path.
    assert!(
        text.contains("fireline_http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/v1/incidents\""),
        "{text}"
    );
    assert!(!text.contains("INC-1"), "no raw ids in labels");
}
