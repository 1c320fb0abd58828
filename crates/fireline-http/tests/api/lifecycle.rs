//! An incident from declaration to reopening, through the API.

use crate::support::{at, kinds, ts, App};
use axum::http::{Method, StatusCode};
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use serde_json::{json, Value};

backend_tests!(
    incident_lifecycle,
    incident_ids_accept_the_bare_number,
    a_manual_escalation_says_why,
);

async fn incident_lifecycle(db: &TestDatabase) {
    let app = App::new(db).await;

    // Declared at minute 0.
    let declared = app
        .post(
            "/api/v1/incidents",
            &app.alice,
            json!({"title": "Checkout errors", "severity": "sev2", "service": "checkout"}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(declared.header("location"), Some("/api/v1/incidents/INC-1"));
    let incident = &declared.body["incident"];
    assert_eq!(incident["id"], "INC-1");
    assert_eq!(incident["number"], 1);
    assert_eq!(incident["title"], "Checkout errors");
    assert_eq!(incident["service"], "checkout");
    assert_eq!(incident["severity"], "SEV2", "severity in canonical case");
    assert_eq!(incident["status"], "investigating");
    assert_eq!(incident["declared_by"], "alice");
    assert_eq!(ts(&incident["declared_at"]), at(0));
    assert_eq!(incident["acknowledged_at"], Value::Null);
    assert_eq!(incident["version"], 1);
    let timeline = &declared.body["timeline"];
    assert_eq!(timeline.as_array().map(Vec::len), Some(1));
    assert_eq!(timeline[0]["kind"], "declared");
    assert_eq!(timeline[0]["actor"], "alice");
    assert_eq!(timeline[0]["seq"], 1);
    assert_eq!(ts(&timeline[0]["at"]), at(0));
    assert_eq!(timeline[0]["data"]["title"], "Checkout errors");

    // The Location header leads to the incident.
    let location = declared.header("location").expect("Location").to_owned();
    let shown = app.get(&location, &app.viewer).await.expect(StatusCode::OK);
    assert_eq!(shown.body, declared.body, "GET shows what POST returned");

    // Acknowledged at minute 1, with no body at all.
    app.advance(1);
    let acked = app
        .call(
            Method::POST,
            "/api/v1/incidents/INC-1/acknowledge",
            Some(&app.alice),
            None,
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(acked["incident"]["acknowledged_by"], "alice");
    assert_eq!(ts(&acked["incident"]["acknowledged_at"]), at(1));
    assert_eq!(acked["incident"]["version"], 2);

    // Identified at minute 3.
    app.advance(2);
    let identified = app
        .post(
            "/api/v1/incidents/INC-1/status",
            &app.alice,
            json!({"status": "identified", "message": "bad deploy"}),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(identified["incident"]["status"], "identified");

    // Escalated at minute 4.
    app.advance(1);
    let escalated = app
        .post(
            "/api/v1/incidents/INC-1/severity",
            &app.alice,
            json!({"severity": "SEV1", "reason": "all regions"}),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(escalated["incident"]["severity"], "SEV1");

    // A note at minute 5.
    app.advance(1);
    app.post(
        "/api/v1/incidents/INC-1/notes",
        &app.alice,
        json!({"text": "rolling back"}),
    )
    .await
    .expect(StatusCode::OK);

    // Bob commands from minute 7.
    app.advance(2);
    let assigned = app
        .post(
            "/api/v1/incidents/INC-1/roles",
            &app.alice,
            json!({"role": "ic", "assignee": "bob"}),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(assigned["incident"]["roles"], json!({"commander": "bob"}));

    // Resolved at minute 10.
    app.advance(3);
    let resolved = app
        .call(
            Method::POST,
            "/api/v1/incidents/INC-1/resolve",
            Some(&app.alice),
            Some(json!({"summary": "rolled back"})),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(resolved["incident"]["status"], "resolved");
    assert_eq!(ts(&resolved["incident"]["resolved_at"]), at(10));

    // Reopened at minute 15: investigating again, unacknowledged, not resolved.
    app.advance(5);
    let reopened = app
        .call(
            Method::POST,
            "/api/v1/incidents/INC-1/reopen",
            Some(&app.alice),
            None,
        )
        .await
        .expect(StatusCode::OK)
        .body;
    let incident = &reopened["incident"];
    assert_eq!(incident["status"], "investigating");
    assert_eq!(incident["acknowledged_at"], Value::Null);
    assert_eq!(incident["acknowledged_by"], Value::Null);
    assert_eq!(incident["resolved_at"], Value::Null);
    assert_eq!(incident["severity"], "SEV1", "reopening keeps the severity");
    assert_eq!(
        incident["roles"],
        json!({"commander": "bob"}),
        "and the roles"
    );

    // The whole story, in order, with the clock's times.
    let detail = app.incident("INC-1").await;
    assert_eq!(detail, reopened, "GET shows what the last change returned");
    assert_eq!(
        kinds(&detail),
        [
            "declared",
            "acknowledged",
            "status_changed",
            "severity_changed",
            "note_added",
            "role_assigned",
            "resolved",
            "reopened",
        ]
    );
    let timeline = detail["timeline"].as_array().expect("timeline");
    assert_eq!(detail["incident"]["version"], timeline.len());
    let minutes = [0, 1, 3, 4, 5, 7, 10, 15];
    for (i, (event, minute)) in timeline.iter().zip(minutes).enumerate() {
        assert_eq!(event["seq"], i + 1, "event {i}: {event}");
        assert_eq!(ts(&event["at"]), at(minute), "event {i}: {event}");
        assert_eq!(event["actor"], "alice", "event {i}: {event}");
    }
    assert_eq!(ts(&detail["incident"]["updated_at"]), at(15));
    assert_eq!(
        timeline[2]["data"],
        json!({"from": "investigating", "to": "identified", "message": "bad deploy"})
    );
    assert_eq!(
        timeline[3]["data"],
        json!({"from": "SEV2", "to": "SEV1", "reason": "all regions"})
    );
    assert_eq!(timeline[4]["data"], json!({"text": "rolling back"}));
    assert_eq!(
        timeline[5]["data"],
        json!({"role": "commander", "assignee": "bob"})
    );
    assert_eq!(timeline[6]["data"], json!({"summary": "rolled back"}));

    // Event ids are unique.
    let mut event_ids: Vec<i64> = timeline
        .iter()
        .map(|e| e["id"].as_i64().expect("event id"))
        .collect();
    event_ids.sort_unstable();
    event_ids.dedup();
    assert_eq!(event_ids.len(), timeline.len());

    // The list agrees with the detail.
    let list = app
        .get("/api/v1/incidents", &app.viewer)
        .await
        .expect(StatusCode::OK)
        .body;
    let summary = &list["incidents"][0];
    assert_eq!(summary["id"], "INC-1");
    assert_eq!(summary["status"], "investigating");
    assert_eq!(summary["severity"], "SEV1");
    assert_eq!(summary["version"], 8);
    assert_eq!(ts(&summary["updated_at"]), at(15));
}

async fn incident_ids_accept_the_bare_number(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("Queue backlog", "sev3", "queue").await;
    let by_number = app.incident("1").await;
    assert_eq!(by_number["incident"]["id"], "INC-1");
    app.post(
        "/api/v1/incidents/1/notes",
        &app.alice,
        json!({"text": "by number"}),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(app.incident("INC-1").await["incident"]["version"], 2);
}

/// Regression: `incident escalate` could not say why; the reason now reaches the
/// escalation (its page's wording and the timeline), and a bad one is refused by name.
async fn a_manual_escalation_says_why(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("Checkout errors", "SEV2", "checkout").await;
    let bad = app
        .post(
            "/api/v1/incidents/INC-1/escalate",
            &app.alice,
            json!({"level": 1, "reason": "bell\u{7}"}),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["error"]["field"], "reason", "{}", bad.body);
    let escalated = app
        .post(
            "/api/v1/incidents/INC-1/escalate",
            &app.alice,
            json!({"level": 1, "reason": "the database team is needed"}),
        )
        .await
        .expect(StatusCode::OK);
    let reasons: Vec<&str> = escalated.body["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|e| e["kind"] == "escalated")
        .filter_map(|e| e["data"]["reason"].as_str())
        .collect();
    assert_eq!(
        reasons,
        ["escalated by hand by alice: the database team is needed"],
        "one escalation, with its reason, and nothing from the refused one"
    );
}
