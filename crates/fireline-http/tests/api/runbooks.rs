//! Runbooks as checklists: attach by hand, check steps off with output, progress and
//! phases in the detail; bad input changes nothing.

use crate::support::{kinds, App};
use axum::http::StatusCode;
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use serde_json::json;

backend_tests!(
    attach_check_and_uncheck_steps,
    bad_runbook_input_changes_nothing,
    phases_show_windows_and_overdue
);

const STEP: &str = "investigation.check-pod-status";

async fn attach_check_and_uncheck_steps(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("Agents down", "SEV1", "agents").await;
    assert!(app.incident("INC-1").await["checklist"].is_null());

    let attached = app
        .post(
            "/api/v1/incidents/INC-1/runbook",
            &app.alice,
            json!({"runbook": "agent-down"}),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    let checklist = &attached["checklist"];
    assert_eq!(checklist["runbook"], "agent-down");
    let total = checklist["total"].as_u64().expect("total");
    assert_eq!(total, 20);
    assert_eq!(checklist["progress"], "0 of 20 steps");
    let step = &checklist["steps"].as_array().expect("steps")[4];
    assert_eq!(step["id"], STEP);
    assert_eq!(step["command"], "kubectl get pods -n production-agents\n# Look for: CrashLoopBackOff, Error, ImagePullBackOff");
    let event = attached["timeline"]
        .as_array()
        .expect("timeline")
        .last()
        .cloned()
        .expect("event");
    assert_eq!(event["kind"], "runbook_attached");
    assert_eq!(event["data"]["steps"].as_array().map(Vec::len), Some(20));

    let checked = app
        .post(
            &format!("/api/v1/incidents/INC-1/checklist/{STEP}"),
            &app.alice,
            json!({"done": true, "output": "agent-7f9  0/1  CrashLoopBackOff"}),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(checked["checklist"]["progress"], "1 of 20 steps");
    assert_eq!(checked["checklist"]["steps"][4]["done"], true);
    assert_eq!(
        checked["checklist"]["steps"][4]["output"],
        "agent-7f9  0/1  CrashLoopBackOff"
    );
    // An empty body checks a step.
    app.post(
        "/api/v1/incidents/INC-1/checklist/symptoms.alert-agentdown-firing",
        &app.alice,
        json!({}),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(app.incident("INC-1").await["checklist"]["done"], 2);

    let unchecked = app
        .post(
            &format!("/api/v1/incidents/INC-1/checklist/{STEP}"),
            &app.alice,
            json!({"done": false}),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(unchecked["checklist"]["progress"], "1 of 20 steps");
    assert_eq!(unchecked["checklist"]["steps"][4]["done"], false);
    assert!(unchecked["checklist"]["steps"][4]["output"].is_null());
    assert_eq!(
        kinds(&unchecked)[1..],
        [
            "runbook_attached",
            "checklist_step_checked",
            "checklist_step_checked",
            "checklist_step_checked"
        ]
    );
    // Unchecking what is not checked is a conflict, not a silent no-op.
    app.post(
        &format!("/api/v1/incidents/INC-1/checklist/{STEP}"),
        &app.alice,
        json!({"done": false}),
    )
    .await
    .expect_error(StatusCode::CONFLICT, "conflict", None);

    // Viewers read but do not act.
    app.post(
        &format!("/api/v1/incidents/INC-1/checklist/{STEP}"),
        &app.viewer,
        json!({}),
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    app.post(
        "/api/v1/incidents/INC-1/runbook",
        &app.viewer,
        json!({"runbook": "agent-down"}),
    )
    .await
    .expect(StatusCode::FORBIDDEN);
}

async fn bad_runbook_input_changes_nothing(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("Agents down", "SEV1", "agents").await;
    // No runbook yet: no step can be checked.
    app.post(
        &format!("/api/v1/incidents/INC-1/checklist/{STEP}"),
        &app.alice,
        json!({}),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("step"));
    app.post(
        "/api/v1/incidents/INC-1/runbook",
        &app.alice,
        json!({"runbook": "no-such-runbook"}),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("runbook"));
    let before = app.incident("INC-1").await;
    assert_eq!(before["incident"]["version"], 1);

    app.post(
        "/api/v1/incidents/INC-1/runbook",
        &app.alice,
        json!({"runbook": "agent-down"}),
    )
    .await
    .expect(StatusCode::OK);
    app.post(
        "/api/v1/incidents/INC-1/checklist/investigation.no-such-step",
        &app.alice,
        json!({}),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("step"));
    app.post(
        &format!("/api/v1/incidents/INC-1/checklist/{STEP}"),
        &app.alice,
        json!({"done": "yes"}),
    )
    .await
    .expect_error(StatusCode::BAD_REQUEST, "bad_request", Some("done"));
    app.post(
        "/api/v1/incidents/INC-1/runbook",
        &app.alice,
        json!({"runbook": "agent-down"}),
    )
    .await
    .expect(StatusCode::CONFLICT);
    let after = app.incident("INC-1").await;
    assert_eq!(
        after["incident"]["version"], 2,
        "only the attach was recorded"
    );
    assert_eq!(after["checklist"]["done"], 0);
}

async fn phases_show_windows_and_overdue(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("Agents down", "SEV1", "agents").await;
    app.post(
        "/api/v1/incidents/INC-1/runbook",
        &app.alice,
        json!({"runbook": "general-incident-response-checklist"}),
    )
    .await
    .expect(StatusCode::OK);
    let phases = |detail: &serde_json::Value| -> Vec<bool> {
        detail["checklist"]["phases"]
            .as_array()
            .expect("phases")
            .iter()
            .map(|p| p["overdue"].as_bool().expect("overdue"))
            .collect()
    };
    let now = app.incident("INC-1").await;
    assert_eq!(phases(&now), [false; 5]);
    assert_eq!(
        now["checklist"]["phases"][1]["starts_at"],
        json!(crate::support::at(5))
    );
    assert_eq!(
        now["checklist"]["phases"][1]["ends_at"],
        json!(crate::support::at(15))
    );
    app.advance(6);
    assert_eq!(
        phases(&app.incident("INC-1").await),
        [true, false, false, false, false]
    );
    for step in [
        "alert-received-via-pagerduty-slack",
        "incident-acknowledged",
        "incident-commander-assigned",
        "severity-assessed",
        "stakeholders-notified",
    ] {
        app.post(
            &format!("/api/v1/incidents/INC-1/checklist/phase-1-detection-acknowledgment.{step}"),
            &app.alice,
            json!({}),
        )
        .await
        .expect(StatusCode::OK);
    }
    app.advance(10);
    assert_eq!(
        phases(&app.incident("INC-1").await),
        [false, true, false, false, false]
    );
}
