//! Alerts in: Alertmanager, PagerDuty Events v2 and generic JSON, through the inbox and
//! the processor, on both backends.

use crate::support::{kinds, App};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use fireline_core::policy::Policy;
use fireline_engine::AlertProcessor;
use fireline_http::auth::issue_integration;
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use serde_json::{json, Value};

backend_tests!(
    alertmanager_groups_dedups_and_auto_resolves,
    unknown_or_revoked_keys_get_404,
    bad_alert_payloads_are_refused_whole,
    pagerduty_events_trigger_acknowledge_and_resolve,
    routes_set_service_severity_and_thresholds_and_can_drop,
    refiring_reopens_a_recent_incident,
    maintenance_records_but_pages_nobody,
    a_missed_heartbeat_opens_an_incident_and_the_next_ping_resolves_it,
    alertmanager_alert_with_tab_in_summary_opens_an_incident,
    generic_alert_with_nul_characters_opens_an_incident,
    alerts_that_paged_nobody_are_shown_to_admins_and_can_be_redriven,
    an_alert_with_a_very_long_group_opens_an_incident,
    pagerduty_acknowledge_finds_a_key_with_control_characters,
    a_parked_heartbeat_alert_can_be_redriven_through_the_api,
    metrics_show_how_far_alert_processing_is_behind,
);

const FIRING: &str = include_str!("../fixtures/alertmanager-webhook-grouped.json");
const MIXED: &str = include_str!("../fixtures/alertmanager-webhook-mixed.json");

impl App {
    async fn integration(&self, service: &str) -> String {
        issue_integration(self.store.as_ref(), None, service, crate::support::start())
            .await
            .expect("integration")
            .0
    }

    async fn receive(&self, path: &str, body: &str) -> crate::support::Reply {
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))
            .expect("request");
        self.send(request).await
    }

    async fn process(&self) -> usize {
        let processor = AlertProcessor::new(
            self.store.clone(),
            self.policy.clone(),
            self.clock.clone(),
            "test",
            self.commands.clone(),
        );
        processor.drain().await.expect("processing succeeds")
    }

    async fn all(&self) -> Vec<Value> {
        let list = self
            .get("/api/v1/incidents?status=all", &self.viewer)
            .await
            .expect(StatusCode::OK)
            .body;
        list["incidents"].as_array().expect("array").clone()
    }
}

fn with_status(payload: &str, alert_statuses: &[&str]) -> String {
    let mut v: Value = serde_json::from_str(payload).expect("fixture JSON");
    let all_resolved = alert_statuses.iter().all(|s| *s == "resolved");
    v["status"] = json!(if all_resolved { "resolved" } else { "firing" });
    for (alert, status) in v["alerts"]
        .as_array_mut()
        .expect("alerts")
        .iter_mut()
        .zip(alert_statuses)
    {
        alert["status"] = json!(status);
        if *status == "resolved" {
            alert["endsAt"] = alert["startsAt"].clone();
        }
    }
    v.to_string()
}

async fn alertmanager_groups_dedups_and_auto_resolves(db: &TestDatabase) {
    let app = App::new(db).await;
    let key = app.integration("storage").await;
    let url = format!("/api/v1/integrations/{key}/alertmanager");
    let reply = app.receive(&url, FIRING).await.expect(StatusCode::ACCEPTED);
    assert_eq!(reply.body, json!({"status": "accepted", "alerts": 3}));
    assert_eq!(app.process().await, 3);
    let incidents = app.all().await;
    assert_eq!(incidents.len(), 1, "one group, one incident: {incidents:?}");
    let id = incidents[0]["id"].as_str().expect("id").to_owned();
    let detail = app.incident(&id).await;
    assert_eq!(detail["incident"]["title"], "db-1 disk below 10% free");
    assert_eq!(
        detail["incident"]["severity"], "SEV3",
        "`severity: warning` maps through the policy"
    );
    assert_eq!(
        detail["incident"]["service"], "storage",
        "no service label: the integration's"
    );
    assert_eq!(
        kinds(&detail)
            .iter()
            .filter(|k| *k == "alert_attached")
            .count(),
        3
    );

    // Alertmanager repeats the notification: nothing new is recorded.
    app.receive(&url, FIRING).await.expect(StatusCode::ACCEPTED);
    app.process().await;
    assert_eq!(
        app.incident(&id).await["incident"]["version"],
        detail["incident"]["version"]
    );

    // One alert resolves: recorded; the incident stays open while two still fire.
    app.receive(&url, MIXED).await.expect(StatusCode::ACCEPTED);
    app.process().await;
    let after = app.incident(&id).await;
    assert_eq!(
        kinds(&after)
            .iter()
            .filter(|k| *k == "alert_resolved")
            .count(),
        1
    );
    assert_eq!(after["incident"]["status"], "investigating");

    // All resolve: the default policy resolves the incident.
    app.receive(
        &url,
        &with_status(FIRING, &["resolved", "resolved", "resolved"]),
    )
    .await
    .expect(StatusCode::ACCEPTED);
    app.process().await;
    let done = app.incident(&id).await;
    assert_eq!(done["incident"]["status"], "resolved");
    assert_eq!(
        done["timeline"]
            .as_array()
            .expect("timeline")
            .last()
            .expect("event")["data"]["summary"],
        "all alerts resolved"
    );
    assert_eq!(app.all().await.len(), 1, "still one incident");

    // The bearer form (Alertmanager's http_config.authorization) reaches the same place.
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/integrations/alertmanager")
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(FIRING))
        .expect("request");
    app.send(request).await.expect(StatusCode::ACCEPTED);
}

async fn unknown_or_revoked_keys_get_404(db: &TestDatabase) {
    let app = App::new(db).await;
    let key = app.integration("api").await;
    let record = app
        .store
        .list_integrations()
        .await
        .expect("list")
        .pop()
        .expect("one");
    app.store
        .revoke_integration(&record.id, crate::support::start())
        .await
        .expect("revoke");
    for k in ["fli_unknown", key.as_str()] {
        app.receive(&format!("/api/v1/integrations/{k}/alertmanager"), FIRING)
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found", None);
        app.receive(
            &format!("/api/v1/integrations/{k}/alerts"),
            r#"{"key":"a","summary":"s"}"#,
        )
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
        // Even a malformed body: the key is checked first and the answer tells nothing.
        app.receive(&format!("/api/v1/integrations/{k}/alertmanager"), "{")
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found", None);
        let pd = app.receive("/v2/enqueue", &json!({"routing_key": k, "event_action": "trigger", "payload": {"summary": "s", "source": "x", "severity": "info"}}).to_string()).await;
        assert_eq!(pd.status, StatusCode::NOT_FOUND);
        assert_eq!(pd.body["status"], "invalid event");
    }
    assert_eq!(app.process().await, 0);
    assert!(app.all().await.is_empty());
}

async fn bad_alert_payloads_are_refused_whole(db: &TestDatabase) {
    let app = App::new(db).await;
    let key = app.integration("api").await;
    let url = format!("/api/v1/integrations/{key}/alertmanager");
    let mut v: Value = serde_json::from_str(FIRING).expect("fixture");
    let variant = |f: &dyn Fn(&mut Value)| {
        let mut copy = v.clone();
        f(&mut copy);
        copy.to_string()
    };
    let cases: Vec<(String, StatusCode, &str, Option<&str>)> = vec![
        (
            variant(&|p| p["version"] = json!("3")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("version"),
        ),
        (
            variant(&|p| p["alerts"][1]["labels"] = json!({})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("alerts[1].labels"),
        ),
        (
            variant(&|p| p["alerts"][0]["status"] = json!("burning")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("alerts[0].status"),
        ),
        (
            variant(&|p| p["alerts"][2]["startsAt"] = json!("1970-01-02T00:00:00Z")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("alerts[2].startsAt"),
        ),
        (
            variant(&|p| p["alerts"][0]["startsAt"] = json!("yesterday")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("alerts[0].startsAt"),
        ),
        (
            variant(&|p| p["alerts"][0]["endsAt"] = json!("2026-11-22T22:00:00Z")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("alerts[0].endsAt"),
        ),
        (
            variant(&|p| {
                let labels: serde_json::Map<String, Value> =
                    (0..5000).map(|i| (format!("l{i}"), json!("v"))).collect();
                p["alerts"][0]["labels"] = Value::Object(labels);
            }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("alerts[0].labels"),
        ),
        (
            variant(&|p| {
                p.as_object_mut().expect("object").remove("alerts");
            }),
            StatusCode::BAD_REQUEST,
            "bad_request",
            Some("alerts"),
        ),
        (
            "{\"version\": ".to_owned(),
            StatusCode::BAD_REQUEST,
            "bad_request",
            Some("version"),
        ),
        (
            "[1,2]".to_owned(),
            StatusCode::BAD_REQUEST,
            "bad_request",
            None,
        ),
    ];
    for (body, status, code, field) in cases {
        app.receive(&url, &body)
            .await
            .expect_error(status, code, field);
    }
    let huge = "x".repeat(fireline_http::MAX_ALERT_BODY_BYTES + 1);
    app.receive(&url, &huge).await.expect_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        None,
    );
    let generic = format!("/api/v1/integrations/{key}/alerts");
    app.receive(&generic, r#"{"key":"","summary":"s"}"#)
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("key"));
    app.receive(&generic, r#"{"key":"k","summary":"s","colour":"red"}"#)
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request", Some("colour"));
    v["alerts"] = json!([]);
    app.receive(&url, &v.to_string())
        .await
        .expect(StatusCode::ACCEPTED);
    assert_eq!(app.process().await, 0, "nothing was stored half-way");
    assert!(app.all().await.is_empty());
}

async fn pagerduty_events_trigger_acknowledge_and_resolve(db: &TestDatabase) {
    let app = App::new(db).await;
    let key = app.integration("api").await;
    let event = |action: &str, dedup: Option<&str>| {
        let mut e = json!({"routing_key": key, "event_action": action,
            "payload": {"summary": "NullPointerException in checkout", "source": "api-7", "severity": "critical", "component": "checkout"}});
        if let Some(d) = dedup {
            e["dedup_key"] = json!(d);
        }
        e.to_string()
    };
    let reply = app
        .receive("/v2/enqueue", &event("trigger", Some("npe-1")))
        .await
        .expect(StatusCode::ACCEPTED);
    assert_eq!(
        reply.body,
        json!({"status": "success", "message": "Event processed", "dedup_key": "npe-1"})
    );
    let generated = app
        .receive("/v2/enqueue", &event("trigger", None))
        .await
        .expect(StatusCode::ACCEPTED);
    assert!(
        generated.body["dedup_key"]
            .as_str()
            .is_some_and(|k| !k.is_empty()),
        "a key is made up when none is sent"
    );
    app.process().await;
    let incidents = app.all().await;
    assert_eq!(incidents.len(), 2);
    let npe = incidents
        .iter()
        .find(|i| i["id"] == "INC-1")
        .expect("INC-1");
    assert_eq!(
        npe["severity"], "SEV1",
        "critical maps to SEV1 in the default policy"
    );
    assert_eq!(
        npe["service"], "checkout",
        "PagerDuty's component is the service"
    );

    app.receive("/v2/enqueue", &event("acknowledge", Some("npe-1")))
        .await
        .expect(StatusCode::ACCEPTED);
    let acked = app.incident("INC-1").await;
    assert_eq!(acked["incident"]["acknowledged_by"], "integration:api");
    app.receive("/v2/enqueue", &event("resolve", Some("npe-1")))
        .await
        .expect(StatusCode::ACCEPTED);
    app.process().await;
    assert_eq!(
        app.incident("INC-1").await["incident"]["status"],
        "resolved"
    );

    let bad = app
        .receive(
            "/v2/enqueue",
            &json!({"routing_key": key, "event_action": "explode"}).to_string(),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["status"], "invalid event");
    assert!(bad.body["errors"][0]
        .as_str()
        .expect("error")
        .contains("event_action"));
    let no_key = app
        .receive(
            "/v2/enqueue",
            &json!({"routing_key": key, "event_action": "resolve"}).to_string(),
        )
        .await;
    assert_eq!(no_key.status, StatusCode::BAD_REQUEST);
    assert!(no_key.body["errors"][0]
        .as_str()
        .expect("error")
        .contains("dedup_key"));
}

const ROUTED: &str = r#"
[alerts]
default_severity = "SEV4"
[[routes]]
name = "noise"
match = [{ label = "alertname", regex = "Watchdog|InfoInhibitor" }]
drop = true
[[routes]]
name = "latency"
match = [{ label = "alertname", equals = "HighLatency" }, { label = "team", absent = true }]
service = "agent-booster"
runbook = "high-latency"
targets = ["schedule:booster-oncall"]
group_by = ["alertname"]
thresholds = [
  { value = "annotation:p95_ms", divide_by = "label:slo_ms", above = 10.0, severity = "SEV2" },
  { value = "annotation:p95_ms", divide_by = "label:slo_ms", above = 2.0, severity = "SEV3" },
]
"#;

fn routed_policy() -> Policy {
    let text = format!(
        "{}\n{ROUTED}",
        fireline_core::policy::BUILTIN
            .split("[alerts]")
            .next()
            .expect("builtin")
            .to_owned()
            + &fireline_core::policy::BUILTIN[fireline_core::policy::BUILTIN
                .find("[[escalation]]")
                .expect("levels")..]
    );
    Policy::from_toml(&text).unwrap_or_else(|p| panic!("{p:#?}"))
}

async fn routes_set_service_severity_and_thresholds_and_can_drop(db: &TestDatabase) {
    let app = App::new(db).await;
    app.policy.replace(routed_policy());
    let key = app.integration("api").await;
    let send = |id: &str, labels: Value, annotations: Value| {
        json!({"key": id, "summary": format!("alert {id}"), "labels": labels, "annotations": annotations}).to_string()
    };
    let url = format!("/api/v1/integrations/{key}/alerts");
    app.receive(
        &url,
        &send("w", json!({"alertname": "Watchdog"}), json!({})),
    )
    .await
    .expect(StatusCode::ACCEPTED);
    app.receive(
        &url,
        &send(
            "l1",
            json!({"alertname": "HighLatency", "slo_ms": "5"}),
            json!({"p95_ms": "60"}),
        ),
    )
    .await
    .expect(StatusCode::ACCEPTED);
    app.receive(
        &url,
        &send(
            "l2",
            json!({"alertname": "HighLatency", "slo_ms": "5", "region": "eu"}),
            json!({"p95_ms": "12"}),
        ),
    )
    .await
    .expect(StatusCode::ACCEPTED);
    app.receive(&url, &send("x", json!({"alertname": "Other"}), json!({})))
        .await
        .expect(StatusCode::ACCEPTED);
    app.process().await;
    let incidents = app.all().await;
    let titles: Vec<&str> = incidents
        .iter()
        .map(|i| i["title"].as_str().expect("title"))
        .collect();
    assert!(!titles.contains(&"alert w"), "dropped: {titles:?}");
    assert_eq!(
        incidents.len(),
        2,
        "l1 and l2 group by alertname; x on its own: {titles:?}"
    );
    let latency = incidents
        .iter()
        .find(|i| i["title"] == "alert l1")
        .expect("latency incident");
    assert_eq!(latency["service"], "agent-booster");
    assert_eq!(
        latency["severity"], "SEV2",
        "p95 60ms over a 5ms SLO is 12×: over 10× is SEV2"
    );
    let detail = app.incident(latency["id"].as_str().expect("id")).await;
    let attached: Vec<&Value> = detail["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|e| e["kind"] == "alert_attached")
        .collect();
    assert_eq!(attached.len(), 2);
    assert_eq!(attached[0]["data"]["runbook"], "high-latency");
    assert_eq!(attached[1]["data"]["reason"], "joined its group");
    let other = incidents
        .iter()
        .find(|i| i["title"] == "alert x")
        .expect("other");
    assert_eq!(other["severity"], "SEV4", "no route sets it: the default");
}

async fn refiring_reopens_a_recent_incident(db: &TestDatabase) {
    let app = App::new(db).await;
    let key = app.integration("api").await;
    let url = format!("/api/v1/integrations/{key}/alerts");
    let fire = r#"{"key":"k1","summary":"queue backed up"}"#;
    let resolve = r#"{"key":"k1","summary":"queue backed up","status":"resolved"}"#;
    app.receive(&url, fire).await.expect(StatusCode::ACCEPTED);
    app.process().await;
    app.advance(5);
    app.receive(&url, resolve)
        .await
        .expect(StatusCode::ACCEPTED);
    app.process().await;
    assert_eq!(
        app.incident("INC-1").await["incident"]["status"],
        "resolved"
    );
    app.advance(10);
    app.receive(&url, fire).await.expect(StatusCode::ACCEPTED);
    app.process().await;
    let detail = app.incident("INC-1").await;
    assert_eq!(
        detail["incident"]["status"], "investigating",
        "reopened within the hour"
    );
    assert!(kinds(&detail).contains(&"reopened".to_owned()));
    // Resolved again, and firing two hours later: a new incident.
    app.receive(&url, resolve)
        .await
        .expect(StatusCode::ACCEPTED);
    app.process().await;
    app.advance(120);
    app.receive(&url, fire).await.expect(StatusCode::ACCEPTED);
    app.process().await;
    assert_eq!(app.all().await.len(), 2);
    assert_eq!(
        app.incident("INC-2").await["incident"]["title"],
        "queue backed up"
    );
}

async fn maintenance_records_but_pages_nobody(db: &TestDatabase) {
    let app = App::new(db).await;
    let start = crate::support::start();
    let text = format!(
        "{}\n[[maintenance]]\nname = \"db upgrade\"\nstart = \"{}\"\nend = \"{}\"\nmatch = [{{ label = \"service\", equals = \"db\" }}]\n",
        fireline_core::policy::BUILTIN,
        start,
        start + jiff::SignedDuration::from_hours(2)
    );
    let policy = Policy::from_toml(&text).unwrap_or_else(|p| panic!("{p:#?}"));
    app.policy.replace(policy.clone());
    let key = app.integration("api").await;
    let url = format!("/api/v1/integrations/{key}/alerts");
    app.receive(
        &url,
        r#"{"key":"db","summary":"replica lag","severity":"critical","labels":{"service":"db"}}"#,
    )
    .await
    .expect(StatusCode::ACCEPTED);
    app.receive(
        &url,
        r#"{"key":"api","summary":"5xx","severity":"critical","labels":{"service":"api"}}"#,
    )
    .await
    .expect(StatusCode::ACCEPTED);
    app.process().await;
    let events = |id: u64| {
        let store = app.store.clone();
        async move {
            store
                .events(fireline_core::IncidentId(id))
                .await
                .expect("events")
        }
    };
    let quiet = events(1).await;
    let loud = events(2).await;
    let due = |log: &[fireline_core::RecordedEvent]| {
        fireline_core::plan::pending(&policy, log)
            .into_iter()
            .map(|a| a.event.kind().to_owned())
            .collect::<Vec<_>>()
    };
    let paged = |log: &[fireline_core::RecordedEvent]| log.iter().any(|e| e.data.kind() == "paged");
    assert!(
        !paged(&quiet) && !due(&quiet).contains(&"paged".to_owned()),
        "in maintenance: recorded, no page now or later: {:?}",
        due(&quiet)
    );
    // The page is fired as the alert is processed, not left for the engine.
    assert!(paged(&loud), "outside it: paged");
    assert_eq!(
        app.incident("INC-1").await["incident"]["flags"],
        json!(["maintenance"])
    );
}

async fn a_missed_heartbeat_opens_an_incident_and_the_next_ping_resolves_it(db: &TestDatabase) {
    let app = App::new(db).await;
    app.integration("backups").await;
    let integration = app
        .store
        .list_integrations()
        .await
        .expect("list")
        .pop()
        .expect("one")
        .id;
    let created = app
        .post("/api/v1/heartbeats", &app.admin, json!({"integration": integration, "name": "nightly-backup", "interval": "1h", "grace": "10m"}))
        .await
        .expect(StatusCode::CREATED)
        .body;
    let key = created["key"].as_str().expect("key").to_owned();
    assert!(key.starts_with("flh_"));
    assert_eq!(created["state"], "waiting");
    app.post(
        "/api/v1/heartbeats",
        &app.admin,
        json!({"integration": "int_nope", "name": "x", "interval": "1h"}),
    )
    .await
    .expect_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("integration"),
    );
    app.post(
        "/api/v1/heartbeats",
        &app.admin,
        json!({"integration": integration, "name": "x", "interval": "soon"}),
    )
    .await
    .expect_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("interval"),
    );

    let ping = format!("/api/v1/heartbeats/{key}");
    let up = app.receive(&ping, "").await.expect(StatusCode::OK).body;
    assert_eq!(up["state"], "up");
    app.receive("/api/v1/heartbeats/flh_nope", "")
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);

    // Within interval + grace nothing happens; past it, one alert and one incident.
    app.advance(69);
    app.process().await;
    assert!(app.all().await.is_empty(), "not late yet");
    app.advance(2);
    app.process().await;
    app.process().await;
    let incidents = app.all().await;
    assert_eq!(
        incidents.len(),
        1,
        "one outage, one incident: {incidents:?}"
    );
    assert_eq!(incidents[0]["service"], "backups");
    assert!(incidents[0]["title"]
        .as_str()
        .expect("title")
        .contains("nightly-backup"));
    let listed = app
        .get("/api/v1/heartbeats", &app.admin)
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(listed["heartbeats"][0]["state"], "down");

    // The job runs again: the alert resolves, and so does the incident.
    app.advance(5);
    app.receive(&ping, "").await.expect(StatusCode::OK);
    app.process().await;
    let id = incidents[0]["id"].as_str().expect("id");
    assert_eq!(app.incident(id).await["incident"]["status"], "resolved");
}

/// Regression: a summary with a tab (or DEL, ESC, NUL) was answered 202 and
/// then dropped by the processor ("title: must be a single line"): no incident, no page.
async fn alertmanager_alert_with_tab_in_summary_opens_an_incident(db: &TestDatabase) {
    let app = App::new(db).await;
    let key = app.integration("db").await;
    let mut payload: Value = serde_json::from_str(FIRING).expect("fixture");
    payload["alerts"] = json!([payload["alerts"][0].clone()]);
    payload["alerts"][0]["annotations"]["summary"] = json!("Instance db1\tdown\u{1b}[0m\u{7f}");
    app.receive(
        &format!("/api/v1/integrations/{key}/alertmanager"),
        &payload.to_string(),
    )
    .await
    .expect(StatusCode::ACCEPTED);
    assert_eq!(app.process().await, 1);
    let all = app.all().await;
    assert_eq!(
        all.len(),
        1,
        "the accepted alert opened an incident: {all:?}"
    );
    assert_eq!(all[0]["title"], "Instance db1 down\u{FFFD}[0m\u{FFFD}");
}

/// Regression: on PostgreSQL an alert with NUL characters was answered 202,
/// then failed every processing attempt ("invalid byte sequence … 0x00") and held back
/// the real alert claimed after it.
async fn generic_alert_with_nul_characters_opens_an_incident(db: &TestDatabase) {
    let app = App::new(db).await;
    let key = app.integration("api").await;
    app.receive(
        &format!("/api/v1/integrations/{key}/alerts"),
        r#"{"key":"k\u0000","summary":"s\u0000","labels":{"a\u0000":"b\u0000"}}"#,
    )
    .await
    .expect(StatusCode::ACCEPTED);
    app.receive(
        &format!("/api/v1/integrations/{key}/alerts"),
        r#"{"key":"real","summary":"Checkout down","severity":"critical"}"#,
    )
    .await
    .expect(StatusCode::ACCEPTED);
    assert_eq!(app.process().await, 2);
    let mut titles: Vec<String> = app
        .all()
        .await
        .iter()
        .map(|i| i["title"].as_str().expect("title").to_owned())
        .collect();
    titles.sort();
    assert_eq!(titles, ["Checkout down", "s"]);
    assert_eq!(db.store.dead_letter_count().await.expect("count"), 0);
}

/// The invariant, as an admin sees it: alerts that joined no incident are listed
/// with the reason, payloads that kept failing are listed, re-drivable and counted in
/// `/metrics`; none of it is shown to other roles.
async fn alerts_that_paged_nobody_are_shown_to_admins_and_can_be_redriven(db: &TestDatabase) {
    let app = App::new(db).await;
    let key = app.integration("api").await;
    app.receive(
        &format!("/api/v1/integrations/{key}/alerts"),
        r#"{"key":"never-fired","summary":"Was fine","status":"resolved"}"#,
    )
    .await
    .expect(StatusCode::ACCEPTED);
    app.process().await;
    let dropped = app
        .get("/api/v1/alerts/dropped", &app.admin)
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(dropped["dropped"][0]["dedup_key"], "never-fired");
    assert!(dropped["dropped"][0]["reason"]
        .as_str()
        .expect("reason")
        .contains("resolved"));

    // A payload that cannot be processed, as damage would leave it.
    let integration = db.store.list_integrations().await.expect("list")[0]
        .id
        .clone();
    db.store
        .enqueue_alerts_batch(&[(
            integration.clone(),
            crate::support::start(),
            fireline_store::AlertBatch::raw("not json"),
        )])
        .await
        .expect("enqueue");
    app.process().await;
    let dead = app
        .get("/api/v1/alerts/dead-letters", &app.admin)
        .await
        .expect(StatusCode::OK)
        .body;
    let letters = dead["dead_letters"].as_array().expect("array");
    assert_eq!(letters.len(), 1);
    assert!(letters[0]["last_error"]
        .as_str()
        .expect("error")
        .contains("do not decode"));
    let id = letters[0]["id"].as_i64().expect("id");
    let metrics = app.get("/metrics", "").await.expect(StatusCode::OK);
    let text = metrics.body.as_str().expect("text");
    assert!(text.contains("fireline_inbox_dead_letters 1"), "{text}");

    for token in [&app.viewer, &app.alice] {
        app.get("/api/v1/alerts/dropped", token)
            .await
            .expect(StatusCode::FORBIDDEN);
        app.get("/api/v1/alerts/dead-letters", token)
            .await
            .expect(StatusCode::FORBIDDEN);
        app.post(
            &format!("/api/v1/alerts/dead-letters/{id}/redrive"),
            token,
            json!({}),
        )
        .await
        .expect(StatusCode::FORBIDDEN);
    }
    app.post(
        &format!("/api/v1/alerts/dead-letters/{id}/redrive"),
        &app.admin,
        json!({}),
    )
    .await
    .expect(StatusCode::OK);
    app.post(
        &format!("/api/v1/alerts/dead-letters/{id}/redrive"),
        &app.admin,
        json!({}),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    // Still broken: parked again at once; then discarded.
    app.process().await;
    app.call(
        Method::DELETE,
        &format!("/api/v1/alerts/dead-letters/{id}"),
        Some(&app.admin),
        None,
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(db.store.dead_letter_count().await.expect("count"), 0);
}

/// Regression: on PostgreSQL a group key over about 2.7 KB cannot be indexed,
/// so such an alert was accepted and then parked for ever. Long group keys are kept as
/// their start and a digest; two alerts of one long group still join one incident.
async fn an_alert_with_a_very_long_group_opens_an_incident(db: &TestDatabase) {
    let app = App::new(db).await;
    let key = app.integration("api").await;
    let group = "g".repeat(6_000);
    for (k, summary) in [("a", "first"), ("b", "second")] {
        app.receive(
            &format!("/api/v1/integrations/{key}/alerts"),
            &json!({"key": k, "summary": summary, "group": group}).to_string(),
        )
        .await
        .expect(StatusCode::ACCEPTED);
    }
    app.process().await;
    assert_eq!(db.store.dead_letter_count().await.expect("count"), 0);
    let all = app.all().await;
    assert_eq!(all.len(), 1, "both joined one incident: {all:?}");
}

/// Regression: a PagerDuty `trigger` whose key held an ESC opened an incident,
/// but the `acknowledge` with the same key looked the raw key up and acknowledged
/// nothing (and a NUL in it was a 500 on PostgreSQL).
async fn pagerduty_acknowledge_finds_a_key_with_control_characters(db: &TestDatabase) {
    let app = App::new(db).await;
    let key = app.integration("api").await;
    let event = |action: &str, dedup: &str| {
        json!({"routing_key": key, "event_action": action, "dedup_key": dedup,
            "payload": {"summary": "Disk full", "source": "db-1", "severity": "critical"}})
        .to_string()
    };
    app.receive("/v2/enqueue", &event("trigger", "disk\u{1b}1"))
        .await
        .expect(StatusCode::ACCEPTED);
    app.process().await;
    app.receive("/v2/enqueue", &event("acknowledge", "disk\u{1b}1"))
        .await
        .expect(StatusCode::ACCEPTED);
    app.receive("/v2/enqueue", &event("acknowledge", "disk\u{0}\u{1b}1"))
        .await
        .expect(StatusCode::ACCEPTED);
    let incident = app.incident("INC-1").await;
    assert!(
        incident["incident"]["acknowledged_at"].is_string(),
        "{incident}"
    );
}

/// On SQLite, heartbeat alerts are queued in the main file and their inbox ids are
/// negative; the API refused every id below 1, so such a dead letter could be listed but
/// never re-driven or discarded.
async fn a_parked_heartbeat_alert_can_be_redriven_through_the_api(db: &TestDatabase) {
    let app = App::new(db).await;
    // A parked item in the database's own inbox table, as a heartbeat alert leaves it.
    db.execute_raw(
        "INSERT INTO alert_inbox (integration, received_at_us, alerts, attempts, last_error, \
         dead_at_us) VALUES ('int_hb', 1, '[]', 8, 'stuck', 2)",
    )
    .await;
    let dead = app
        .get("/api/v1/alerts/dead-letters", &app.admin)
        .await
        .expect(StatusCode::OK)
        .body;
    let id = dead["dead_letters"][0]["id"].as_i64().expect("an id");
    app.post(
        &format!("/api/v1/alerts/dead-letters/{id}/redrive"),
        &app.admin,
        json!({}),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(db.store.dead_letter_count().await.expect("count"), 0);
    app.call(
        Method::DELETE,
        "/api/v1/alerts/dead-letters/-3",
        Some(&app.admin),
        None,
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found", None);
}

/// `/metrics` tells how many accepted payloads wait and how long the oldest has: the
/// backlog an operator alerts on before pages run late.
async fn metrics_show_how_far_alert_processing_is_behind(db: &TestDatabase) {
    let app = App::new(db).await;
    let key = app.integration("api").await;
    let url = format!("/api/v1/integrations/{key}/alerts");
    for id in ["a", "b"] {
        app.receive(&url, &format!(r#"{{"key":"{id}","summary":"{id} down"}}"#))
            .await
            .expect(StatusCode::ACCEPTED);
    }
    app.advance(2);
    let gauges = |text: &str| {
        let value = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{name} ")))
                .unwrap_or_else(|| panic!("{name} in {text}"))
                .to_owned()
        };
        (
            value("fireline_inbox_backlog"),
            value("fireline_inbox_backlog_age_seconds"),
        )
    };
    let metrics = app.get("/metrics", "").await.expect(StatusCode::OK);
    assert_eq!(
        gauges(metrics.body.as_str().expect("text")),
        ("2".to_owned(), "120.000".to_owned()),
        "two payloads, the oldest accepted two minutes ago"
    );
    app.process().await;
    let metrics = app.get("/metrics", "").await.expect(StatusCode::OK);
    assert_eq!(
        gauges(metrics.body.as_str().expect("text")),
        ("0".to_owned(), "0.000".to_owned())
    );
}
