//! GET /api/v1/report: figures from what happened, the HTML page, and refusals.

use crate::support::App;
use axum::http::StatusCode;
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use serde_json::json;

backend_tests!(report_counts_what_happened, report_refuses_bad_periods);

async fn report_counts_what_happened(db: &TestDatabase) {
    let app = App::new(db).await;
    app.call(
        axum::http::Method::PUT,
        "/api/v1/roster",
        Some(&app.admin),
        Some(json!({
            "people": {"ann": {"name": "Ann", "contacts": [{"kind": "email", "address": "ann@example.com"}]}},
            "teams": {"platform": {"name": "Platform", "members": ["ann"], "services": ["api"]}}
        })),
    )
    .await
    .expect(StatusCode::OK);
    app.declare("API down", "SEV1", "api").await;
    app.advance(3);
    app.post("/api/v1/incidents/INC-1/acknowledge", &app.alice, json!({}))
        .await
        .expect(StatusCode::OK);
    app.advance(57);
    app.post("/api/v1/incidents/INC-1/resolve", &app.alice, json!({}))
        .await
        .expect(StatusCode::OK);
    app.declare("Search slow", "SEV3", "search").await;
    app.advance(1);

    let r = app
        .get("/api/v1/report?since=1d", &app.viewer)
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(r["overall"]["count"], 2, "{r:#}");
    assert_eq!(r["overall"]["open"], 1);
    assert_eq!(r["overall"]["mtta_seconds"], 180.0);
    assert_eq!(r["overall"]["mttr_seconds"], 3600.0);
    assert_eq!(
        r["by_severity"]["SEV1"]["clock_compliance"]["acknowledge"]["met"],
        1
    );
    assert_eq!(r["by_service"]["search"]["count"], 1);
    assert_eq!(
        r["by_team"]["platform"]["count"], 1,
        "the team owns `api` only"
    );
    assert_eq!(r["open_action_items"], 0);

    // A period before anything happened is empty.
    let before = app
        .get("/api/v1/report?since=30d&until=2d", &app.viewer)
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(before["overall"]["count"], 0, "{before:#}");

    let page = app
        .get("/api/v1/report?since=1d&format=html", &app.viewer)
        .await
        .expect(StatusCode::OK);
    assert!(page
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/html")));
    let html = page.body.as_str().expect("html text");
    assert!(html.contains("<svg") && html.contains("Time to acknowledge against target"));
    assert!(html.contains("service search"), "groups are listed");
}

async fn report_refuses_bad_periods(db: &TestDatabase) {
    let app = App::new(db).await;
    app.get("/api/v1/report?since=yesterday", &app.viewer)
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("since"));
    app.get("/api/v1/report?since=1d&until=2d", &app.viewer)
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("until"));
    app.get("/api/v1/report?format=pdf", &app.viewer)
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("format"));
    app.get("/api/v1/report?bogus=1", &app.viewer)
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request", Some("bogus"));
}
