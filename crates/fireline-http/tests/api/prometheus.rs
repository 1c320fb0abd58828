//! GET /metrics: the exposition names what an operator alerts on, and stays consistent
//! with what is stored.

use crate::support::App;
use axum::http::StatusCode;
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;

backend_tests!(
    metrics_expose_open_incidents_outbox_and_latency,
    a_metrics_token_guards_the_exposition,
    metrics_count_who_is_on_call_and_cannot_be_woken
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

/// Readiness: people on call this week whom no confirmed contact
/// can wake are counted, and confirming a test page takes them off the count.
async fn metrics_count_who_is_on_call_and_cannot_be_woken(db: &TestDatabase) {
    use fireline_core::oncall::verify::{address_digest, VerifiedContact};
    use fireline_core::oncall::{ContactKind, Roster};
    let app = App::new(db).await;
    let roster = Roster::from_toml_str(
        r#"
[people.ann]
name = "Ann"
contacts = [{ kind = "email", address = "ann@example.com" }]
[people.ben]
name = "Ben"
contacts = [{ kind = "sms", address = "+15551230002" }]
[schedules.primary]
name = "Primary"
time_zone = "UTC"
[[schedules.primary.layers]]
name = "daily"
participants = ["ann", "ben"]
shift = "1d"
start = "2026-01-05"
"#,
    )
    .expect("roster");
    app.store
        .replace_roster(&roster, crate::support::start())
        .await
        .expect("roster");
    let gauges = |text: &str| -> (String, String) {
        let find = |name: &str| {
            text.lines()
                .find(|l| l.starts_with(&format!("{name} ")))
                .unwrap_or_default()
                .to_owned()
        };
        (
            find("fireline_oncall_unready_people"),
            find("fireline_oncall_unready_shifts"),
        )
    };
    let before = app.get("/metrics", "").await.expect(StatusCode::OK);
    let text = before.body.as_str().expect("text").to_owned();
    // A 7-day window over a daily rotation of two: 8 shifts, all unproven.
    assert_eq!(
        gauges(&text),
        (
            "fireline_oncall_unready_people 2".to_owned(),
            "fireline_oncall_unready_shifts 8".to_owned()
        ),
        "{text}"
    );
    app.store
        .verify_contact(&VerifiedContact {
            person: "ben".into(),
            kind: ContactKind::Sms,
            address_digest: address_digest("+15551230002"),
            verified_at: crate::support::start(),
        })
        .await
        .expect("verify");
    let after = app.get("/metrics", "").await.expect(StatusCode::OK);
    let (people, _) = gauges(after.body.as_str().expect("text"));
    assert_eq!(people, "fireline_oncall_unready_people 1");
}
