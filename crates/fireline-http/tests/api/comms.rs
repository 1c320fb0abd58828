//! Updates from templates: preview (nothing stored), post (stored, cadence restarted),
//! public wording warnings and the incident channel's name.

use crate::support::{at, ts, App};
use axum::http::StatusCode;
use fireline_core::policy::{Policy, BUILTIN};
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use serde_json::json;

backend_tests!(
    templated_update_previews_then_posts_and_restarts_the_cadence,
    public_eta_is_warned_and_bad_templates_refused
);

/// The built-in policy (SEV1: internal every 15m, status page every 30m) speaking with
/// seed 001's templates.
fn agentic_templates() -> Policy {
    Policy::from_toml(&format!("{BUILTIN}\n[templates]\nset = \"agentic-flow\"\n"))
        .expect("valid policy")
}

async fn templated_update_previews_then_posts_and_restarts_the_cadence(db: &TestDatabase) {
    let app = App::new(db).await;
    app.policy.replace(agentic_templates());
    let declared = app.declare("Checkout failing", "SEV1", "checkout").await;
    assert_eq!(declared["channel_name"], "#inc-1", "{declared:#}");
    assert_eq!(ts(&declared["next_updates"]["internal"]), at(15));
    app.advance(5);

    let body = json!({
        "channel": "internal",
        "vars": {"impact": "half of checkouts fail", "next_steps": "roll back"},
        "text": "Paused deploys",
        "dry_run": true,
    });
    let preview = app
        .post("/api/v1/incidents/INC-1/updates", &app.alice, body.clone())
        .await
        .expect(StatusCode::OK)
        .body;
    // The test clock starts at 2027-01-15T08:00:00Z.
    let expected = "[08:05 UTC] STATUS: Investigating\n\
                    Current Impact: half of checkouts fail\n\
                    Actions Taken: Paused deploys\n\
                    Next Steps: roll back\n\
                    ETA: Unknown";
    assert_eq!(preview["text"], expected, "{preview:#}");
    assert_eq!(preview["dry_run"], true);
    // Nothing stored: same version, same timeline, the cadence still runs from declaration.
    let after_preview = app.incident("INC-1").await;
    assert_eq!(after_preview["incident"]["version"], 1);
    assert_eq!(ts(&after_preview["next_updates"]["internal"]), at(15));

    let mut post = body;
    post["dry_run"] = json!(false);
    let posted = app
        .post("/api/v1/incidents/INC-1/updates", &app.alice, post)
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(posted["dry_run"], false);
    assert_eq!(posted["text"], preview["text"]);
    let detail = app.incident("INC-1").await;
    let last = &detail["timeline"][1];
    assert_eq!(last["kind"], "update_posted");
    assert_eq!(
        last["data"]["text"], preview["text"],
        "the timeline keeps the text sent"
    );
    // The internal cadence restarted at +5m; the status page's did not.
    assert_eq!(ts(&detail["next_updates"]["internal"]), at(20));
    assert_eq!(ts(&detail["next_updates"]["status_page"]), at(30));
}

async fn public_eta_is_warned_and_bad_templates_refused(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("Checkout failing", "SEV1", "checkout").await;
    let public = app
        .post(
            "/api/v1/incidents/INC-1/updates",
            &app.alice,
            json!({"channel": "status_page", "text": "Rollback in progress. ETA 5 minutes.", "dry_run": true}),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(
        public["warnings"].as_array().map(Vec::len),
        Some(1),
        "{public:#}"
    );
    // The same words inside the company are not a public promise.
    let internal = app
        .post(
            "/api/v1/incidents/INC-1/updates",
            &app.alice,
            json!({"channel": "internal", "text": "Rollback in progress. ETA 5 minutes."}),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(internal["warnings"], json!([]));
    assert_eq!(internal["text"], "Rollback in progress. ETA 5 minutes.");
    app.post(
        "/api/v1/incidents/INC-1/updates",
        &app.alice,
        json!({"channel": "internal", "template": "sonnet", "text": "x"}),
    )
    .await
    .expect_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("template"),
    );
}
