//! Every documented route checks the token and its role.

use crate::support::App;
use axum::http::{Method, StatusCode};
use fireline_core::AccessRole;
use fireline_engine::Clock;
use fireline_http::auth::issue_token;
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use serde_json::{json, Value};

backend_tests!(
    every_route_needs_a_valid_token,
    roles_limit_what_a_token_may_do,
    health_needs_no_token
);

/// Every (method, path template) in the OpenAPI document that API tokens authorize:
/// alert receivers (tag `receivers`) take integration keys and are tested in
/// `receivers.rs`.
pub fn documented_operations() -> Vec<(Method, String)> {
    let document =
        serde_json::to_value(fireline_http::openapi::document()).expect("the document is JSON");
    let paths = document["paths"].as_object().expect("paths is an object");
    let mut operations = Vec::new();
    for (path, item) in paths {
        for (key, operation) in item.as_object().expect("a path item is an object") {
            let tags = operation["tags"].as_array().cloned().unwrap_or_default();
            if tags.iter().any(|t| t == "receivers") {
                continue;
            }
            let method = match key.as_str() {
                "get" => Method::GET,
                "post" => Method::POST,
                "put" => Method::PUT,
                "patch" => Method::PATCH,
                "delete" => Method::DELETE,
                "head" => Method::HEAD,
                "options" => Method::OPTIONS,
                "trace" => Method::TRACE,
                _ => continue, // summary, parameters, …
            };
            operations.push((method, path.clone()));
        }
    }
    // Guards against a vacuous pass: the API has at least these many operations.
    assert!(
        operations.len() >= 17,
        "the document lists too few operations: {operations:?}"
    );
    operations
}

/// A concrete URL for a path template: incident `INC-1`, token `tok_x`, and roster
/// entries of the fixture roster (`alice`, `sre`, `sre-primary`).
pub fn concrete(path: &str) -> String {
    if path.starts_with("/api/v1/people/") {
        path.replace("{id}", "alice")
    } else if path.starts_with("/api/v1/teams/") {
        path.replace("{id}", "sre")
    } else if path.starts_with("/api/v1/schedules/") {
        path.replace("{id}", "sre-primary")
    } else if path.starts_with("/api/v1/tokens/") {
        path.replace("{id}", "tok_x")
    } else if path.starts_with("/api/v1/integrations/") {
        path.replace("{id}", "int_x")
    } else if path.starts_with("/api/v1/actions/") {
        path.replace("{id}", "AI-1")
    } else if path.starts_with("/api/v1/alerts/dead-letters/") {
        path.replace("{id}", "1")
    } else if path.starts_with("/api/v1/status/subscribers/") {
        path.replace("{id}", &"0".repeat(32))
    } else {
        path.replace("{id}", "INC-1")
    }
}

/// A body the route would accept, so that only authorization can refuse the request.
fn plausible_body(method: &Method, path: &str) -> Option<Value> {
    if *method != Method::POST {
        return None;
    }
    Some(match path.rsplit('/').next().unwrap_or_default() {
        "incidents" => json!({"title": "t", "severity": "sev3", "service": "s"}),
        "status" => json!({"status": "monitoring"}),
        "severity" => json!({"severity": "sev1"}),
        "notes" => json!({"text": "n"}),
        "roles" => json!({"role": "comms", "assignee": "carol"}),
        "updates" => json!({"channel": "internal", "text": "u"}),
        "escalate" => json!({"level": 1}),
        "actions" => json!({"title": "t", "owner": "bob", "priority": "P2", "due": "2027-02-01"}),
        "close" => json!({"note": "n"}),
        "tokens" => json!({"role": "viewer"}),
        "integrations" => json!({"service": "checkout"}),
        "heartbeats" => json!({"integration": "int_x", "name": "backup", "interval": "1h"}),
        _ => json!({}),
    })
}

/// Whether only admins may call it: tokens, integrations, heartbeat monitors, and every
/// change to the roster.
fn admin_only(method: &Method, template: &str) -> bool {
    let admin_area = [
        "/api/v1/tokens",
        "/api/v1/integrations",
        "/api/v1/heartbeats",
        "/api/v1/alerts/",
        "/api/v1/calendar-feeds/rotate",
        "/api/v1/status/subscribers",
    ]
    .iter()
    .any(|prefix| template.starts_with(prefix));
    let roster_area = [
        "/api/v1/roster",
        "/api/v1/people",
        "/api/v1/teams",
        "/api/v1/schedules",
    ]
    .iter()
    .any(|prefix| template.starts_with(prefix));
    admin_area || (roster_area && *method != Method::GET)
}

async fn every_route_needs_a_valid_token(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("Existing", "sev2", "api").await;
    app.import_roster().await;

    // A token that worked until it was revoked.
    let (revoked, record) = issue_token(
        app.store.as_ref(),
        Some("carol"),
        AccessRole::Admin,
        app.clock.now(),
    )
    .await
    .expect("issue");
    app.get("/api/v1/whoami", &revoked)
        .await
        .expect(StatusCode::OK);
    app.store
        .revoke_token(&record.id, app.clock.now())
        .await
        .expect("revoke");
    let tokens_before = app.store.list_tokens().await.expect("tokens").len();

    let wrong = format!("fl_{}", "0".repeat(64));
    let mut checked = 0;
    for (method, template) in documented_operations() {
        // Health is public; /metrics is open unless a metrics token is configured
        // (tests/api/prometheus.rs checks it with one).
        // The status page (HTML, JSON, Atom) is public by design, like /health.
        if template == "/health"
            || template == "/metrics"
            || template == "/status"
            || template == "/status.json"
            || template == "/status/feed.atom"
        {
            continue;
        }
        let path = concrete(&template);
        let body = plausible_body(&method, &template);
        let attempts: [(&str, Option<String>); 5] = [
            ("no token", None),
            ("a wrong token", Some(format!("Bearer {wrong}"))),
            ("a revoked token", Some(format!("Bearer {revoked}"))),
            ("another scheme", Some(format!("Basic {}", app.admin))),
            ("an empty bearer", Some("Bearer ".to_owned())),
        ];
        for (what, authorization) in attempts {
            let mut request = crate::support::request(method.clone(), &path, None, body.clone());
            if let Some(value) = authorization {
                request.headers_mut().insert(
                    axum::http::header::AUTHORIZATION,
                    value.parse().expect("a header value"),
                );
            }
            let reply = app.send(request).await;
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} with {what}: {}",
                reply.body
            );
            assert_eq!(
                reply.body["error"]["code"], "unauthorized",
                "{method} {path} with {what}"
            );
            assert_eq!(
                reply.header("www-authenticate"),
                Some("Bearer"),
                "{method} {path} with {what}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 16 * 5, "checked only {checked} requests");

    // Nothing got through.
    assert_eq!(
        app.store.roster().await.expect("roster"),
        crate::support::roster_fixture()
    );
    let detail = app.incident("INC-1").await;
    assert_eq!(detail["incident"]["version"], 1);
    assert_eq!(app.incident_count().await, 1);
    assert_eq!(
        app.store.list_tokens().await.expect("tokens").len(),
        tokens_before
    );
}

async fn roles_limit_what_a_token_may_do(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("Existing", "sev2", "api").await;
    app.import_roster().await;
    // A post-mortem and an action item, so that viewers' reads of them succeed.
    app.post("/api/v1/incidents/INC-1/postmortem", &app.alice, json!({}))
        .await
        .expect(StatusCode::CREATED);
    app.post(
        "/api/v1/incidents/INC-1/actions",
        &app.alice,
        plausible_body(&Method::POST, "/api/v1/incidents/{id}/actions").unwrap_or_default(),
    )
    .await
    .expect(StatusCode::CREATED);
    let postmortem_before = app
        .get("/api/v1/incidents/INC-1/postmortem", &app.viewer)
        .await
        .expect(StatusCode::OK)
        .body;
    let tokens_before = app.store.list_tokens().await.expect("tokens").len();

    let mut writes = 0;
    for (method, template) in documented_operations() {
        let path = concrete(&template);
        let body = plausible_body(&method, &template);
        let is_admin_only = admin_only(&method, &template);

        let as_viewer = app
            .call(method.clone(), &path, Some(&app.viewer), body.clone())
            .await;
        if method == Method::GET && !is_admin_only {
            // Viewers read everything but the admin areas: proof the routes work at all.
            assert_eq!(
                as_viewer.status,
                StatusCode::OK,
                "viewer {method} {path}: {}",
                as_viewer.body
            );
        } else {
            writes += 1;
            assert_eq!(
                as_viewer.status,
                StatusCode::FORBIDDEN,
                "viewer {method} {path}: {}",
                as_viewer.body
            );
            assert_eq!(as_viewer.body["error"]["code"], "forbidden");
        }

        if is_admin_only {
            let as_responder = app
                .call(method.clone(), &path, Some(&app.alice), body.clone())
                .await;
            assert_eq!(
                as_responder.status,
                StatusCode::FORBIDDEN,
                "responder {method} {path}: {}",
                as_responder.body
            );
            assert_eq!(as_responder.body["error"]["code"], "forbidden");
            assert_eq!(as_responder.body["error"]["field"], "authorization");
        }
    }
    // POST incidents, 9 incident actions, POST and GET tokens, DELETE token; PUT roster,
    // PUT and DELETE of a person, team and schedule; the post-mortem writes: draft, edit,
    // stages, add, change and close an action item.
    assert!(writes >= 26, "checked only {writes} refusals");

    // Nothing changed.
    assert_eq!(
        app.store.roster().await.expect("roster"),
        crate::support::roster_fixture()
    );
    assert_eq!(app.incident("INC-1").await["incident"]["version"], 1);
    assert_eq!(
        app.get("/api/v1/incidents/INC-1/postmortem", &app.viewer)
            .await
            .expect(StatusCode::OK)
            .body,
        postmortem_before,
        "the post-mortem and its action item are as they were"
    );
    assert_eq!(app.incident_count().await, 1);
    assert_eq!(
        app.store.list_tokens().await.expect("tokens").len(),
        tokens_before
    );

    // The same requests from a responder do change things, and admins pass every check.
    app.post(
        "/api/v1/incidents/INC-1/notes",
        &app.alice,
        json!({"text": "n"}),
    )
    .await
    .expect(StatusCode::OK);
    app.post(
        "/api/v1/incidents/INC-1/notes",
        &app.admin,
        json!({"text": "m"}),
    )
    .await
    .expect(StatusCode::OK);
    app.get("/api/v1/tokens", &app.admin)
        .await
        .expect(StatusCode::OK);
}

async fn health_needs_no_token(db: &TestDatabase) {
    let app = App::new(db).await;
    let health = app
        .call(Method::GET, "/health", None, None)
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["database"], db.store.backend());
    assert!(health["version"].as_str().is_some_and(|v| !v.is_empty()));
    // A bad token does not break it either.
    app.call(Method::GET, "/health", Some("fl_nope"), None)
        .await
        .expect(StatusCode::OK);
}
