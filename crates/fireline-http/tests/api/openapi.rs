//! The served OpenAPI document describes what the routes actually return.

use crate::authorization::{concrete, documented_operations};
use crate::support::{App, Reply};
use axum::http::{Method, StatusCode};
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use serde_json::{json, Value};
use std::collections::BTreeSet;

backend_tests!(openapi_document_matches_responses);

/// Every operation the tests drive.
const USED: &[(&str, &str)] = &[
    ("get", "/health"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/whoami"),
    ("get", "/api/v1/severities"),
    ("get", "/api/v1/policy"),
    ("get", "/api/v1/incidents"),
    ("post", "/api/v1/incidents"),
    ("get", "/api/v1/incidents/{id}"),
    ("post", "/api/v1/incidents/{id}/acknowledge"),
    ("post", "/api/v1/incidents/{id}/status"),
    ("post", "/api/v1/incidents/{id}/severity"),
    ("post", "/api/v1/incidents/{id}/notes"),
    ("post", "/api/v1/incidents/{id}/roles"),
    ("post", "/api/v1/incidents/{id}/resolve"),
    ("post", "/api/v1/incidents/{id}/reopen"),
    ("post", "/api/v1/incidents/{id}/updates"),
    ("post", "/api/v1/incidents/{id}/escalate"),
    ("get", "/api/v1/tokens"),
    ("post", "/api/v1/tokens"),
    ("delete", "/api/v1/tokens/{id}"),
    ("put", "/api/v1/roster"),
    ("get", "/api/v1/roster"),
    ("get", "/api/v1/people"),
    ("get", "/api/v1/people/{id}"),
    ("put", "/api/v1/people/{id}"),
    ("delete", "/api/v1/people/{id}"),
    ("get", "/api/v1/teams"),
    ("get", "/api/v1/teams/{id}"),
    ("put", "/api/v1/teams/{id}"),
    ("delete", "/api/v1/teams/{id}"),
    ("get", "/api/v1/schedules"),
    ("get", "/api/v1/schedules/{id}"),
    ("put", "/api/v1/schedules/{id}"),
    ("delete", "/api/v1/schedules/{id}"),
    ("get", "/api/v1/schedules/{id}/shifts"),
    ("get", "/api/v1/oncall"),
    ("get", "/api/v1/schedules/{id}/calendar.ics"),
    ("get", "/api/v1/people/{id}/calendar.ics"),
    ("post", "/api/v1/incidents/{id}/postmortem"),
    ("get", "/api/v1/incidents/{id}/postmortem"),
    ("put", "/api/v1/incidents/{id}/postmortem"),
    ("get", "/api/v1/incidents/{id}/postmortem/history"),
    ("post", "/api/v1/incidents/{id}/postmortem/stages"),
    ("get", "/api/v1/incidents/{id}/postmortem/export"),
    ("get", "/api/v1/incidents/{id}/related"),
    ("post", "/api/v1/incidents/{id}/actions"),
    ("get", "/api/v1/actions"),
    ("get", "/api/v1/actions/{id}"),
    ("patch", "/api/v1/actions/{id}"),
    ("post", "/api/v1/actions/{id}/close"),
];

/// Follows a `$ref` into `components`.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected $ref {reference}"));
            let target = &doc["components"]["schemas"][name];
            assert!(
                !target.is_null(),
                "{reference} is not in components.schemas"
            );
            resolve(doc, target)
        }
        None => schema,
    }
}

/// The properties a schema declares for `value`, and which of them are required:
/// `allOf` parts merged (as `#[serde(flatten)]` makes) and, of a `oneOf`, the one
/// alternative whose single-valued `enum` properties (a tag such as an event's `kind`)
/// match `value`.
fn properties(
    doc: &Value,
    schema: &Value,
    value: &Value,
) -> Option<(serde_json::Map<String, Value>, BTreeSet<String>)> {
    let schema = resolve(doc, schema);
    let mut found = schema["properties"]
        .as_object()
        .cloned()
        .map(|props| (props, required(schema)));
    let mut merge = |more: Option<(serde_json::Map<String, Value>, BTreeSet<String>)>| {
        if let Some((props, names)) = more {
            let (all, all_names) = found.get_or_insert_with(Default::default);
            all.extend(props);
            all_names.extend(names);
        }
    };
    for part in schema["allOf"].as_array().into_iter().flatten() {
        merge(properties(doc, part, value));
    }
    if let Some(alternatives) = schema["oneOf"].as_array() {
        let matching: Vec<&Value> = alternatives
            .iter()
            .filter(|alt| tags_match(doc, alt, value))
            .collect();
        if let [only] = matching.as_slice() {
            merge(properties(doc, only, value));
        } else if alternatives
            .iter()
            .any(|alt| tags(doc, alt).next().is_some())
        {
            panic!(
                "{} alternatives of a tagged oneOf match {value}",
                matching.len()
            );
        }
    }
    found
}

/// The names a schema requires.
fn required(schema: &Value) -> BTreeSet<String> {
    schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n.as_str().map(str::to_owned))
        .collect()
}

/// A schema's tags: properties that allow exactly one value (`enum: [x]`).
fn tags<'a>(doc: &'a Value, schema: &'a Value) -> impl Iterator<Item = (&'a String, &'a Value)> {
    resolve(doc, schema)["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(name, p)| match p["enum"].as_array().map(Vec::as_slice) {
            Some([only]) => Some((name, only)),
            _ => None,
        })
}

/// Whether `value` has every tag of the alternative `schema`, with its value.
fn tags_match(doc: &Value, schema: &Value, value: &Value) -> bool {
    let mut tags = tags(doc, schema).peekable();
    tags.peek().is_some() && tags.all(|(name, wanted)| &value[name] == wanted)
}

/// Whether a property's schema allows `null`.
fn nullable(doc: &Value, schema: &Value) -> bool {
    let schema = resolve(doc, schema);
    schema["nullable"] == true
        || schema["type"] == "null"
        || schema["type"]
            .as_array()
            .is_some_and(|types| types.iter().any(|t| t == "null"))
        || ["oneOf", "anyOf"].iter().any(|key| {
            schema[*key]
                .as_array()
                .is_some_and(|alts| alts.iter().any(|alt| nullable(doc, alt)))
        })
}

/// Checks `value` has exactly the properties `schema` declares, all the way down; a
/// property may be absent only when it is neither required nor nullable (a field left
/// out when empty, never sent as `null`). Returns how many objects were compared, so
/// callers can tell the check was not empty.
fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str) -> usize {
    let schema = resolve(doc, schema);
    if let Some((props, required)) = properties(doc, schema, value) {
        let object = value
            .as_object()
            .unwrap_or_else(|| panic!("{at}: the schema declares an object, got {value}"));
        let declared: BTreeSet<&str> = props
            .iter()
            .filter(|(name, sub)| {
                object.contains_key(*name) || required.contains(*name) || nullable(doc, sub)
            })
            .map(|(name, _)| name.as_str())
            .collect();
        let actual: BTreeSet<&str> = object.keys().map(String::as_str).collect();
        assert_eq!(actual, declared, "{at}: properties differ from the schema");
        for name in &required {
            assert!(!object[name].is_null(), "{at}.{name} is required but null");
        }
        let mut compared = 1;
        for (name, sub) in props.iter().filter(|(name, _)| object.contains_key(*name)) {
            compared += conforms(doc, sub, &object[name], &format!("{at}.{name}"));
        }
        return compared;
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        return array
            .iter()
            .enumerate()
            .map(|(i, item)| conforms(doc, items, item, &format!("{at}[{i}]")))
            .sum();
    }
    0
}

/// Checks `reply` against what the document declares for `method path` at its status.
fn check(doc: &Value, method: &str, path: &str, reply: &Reply) -> usize {
    let operation = &doc["paths"][path][method];
    assert!(!operation.is_null(), "{method} {path} is not documented");
    let response = &operation["responses"][reply.status.as_str()];
    assert!(
        !response.is_null(),
        "{method} {path} answered {} which the document does not list",
        reply.status
    );
    let schema = &response["content"]["application/json"]["schema"];
    assert!(
        !schema.is_null(),
        "{method} {path} {}: no JSON schema documented",
        reply.status
    );
    let compared = conforms(
        doc,
        schema,
        &reply.body,
        &format!("{method} {path} {}", reply.status),
    );
    assert!(
        compared > 0,
        "{method} {path} {}: nothing compared",
        reply.status
    );
    compared
}

async fn openapi_document_matches_responses(db: &TestDatabase) {
    let app = App::new(db).await;

    let served = app
        .get("/api/v1/openapi.json", &app.viewer)
        .await
        .expect(StatusCode::OK);
    assert!(served
        .header("content-type")
        .is_some_and(|ct| ct.starts_with("application/json")));
    let doc = served.body;
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "openapi: {}",
        doc["openapi"]
    );
    assert_eq!(
        doc,
        serde_json::to_value(fireline_http::openapi::document()).expect("JSON"),
        "the served document is the library's"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );

    // Every operation the tests use is documented.
    let documented: BTreeSet<(String, String)> = documented_operations()
        .into_iter()
        .map(|(m, p)| (m.as_str().to_ascii_lowercase(), p))
        .collect();
    for (method, path) in USED {
        assert!(
            documented.contains(&((*method).to_owned(), (*path).to_owned())),
            "{method} {path} is not in the document: {documented:?}"
        );
    }

    // Each documented route answers its documented schema.
    let mut compared = 0;
    let mut drive = |method: &str, path: &str, reply: Reply| {
        compared += check(&doc, method, path, &reply);
        reply
    };

    let declared = app
        .post(
            "/api/v1/incidents",
            &app.alice,
            json!({"title": "Doc", "severity": "sev2", "service": "api", "summary": "s",
                   "flags": ["security"]}),
        )
        .await;
    drive(
        "post",
        "/api/v1/incidents",
        declared.expect(StatusCode::CREATED),
    );
    for (action, body) in [
        ("acknowledge", json!({})),
        ("status", json!({"status": "monitoring", "message": "m"})),
        ("severity", json!({"severity": "sev1"})),
        ("notes", json!({"text": "n"})),
        ("roles", json!({"role": "sme", "assignee": "bob"})),
        ("updates", json!({"channel": "internal", "text": "u"})),
        ("escalate", json!({"level": 1})),
        ("resolve", json!({"summary": "done"})),
        ("reopen", json!({"reason": "again"})),
    ] {
        let path = format!("/api/v1/incidents/{{id}}/{action}");
        let reply = app.post(&concrete(&path), &app.alice, body).await;
        drive("post", &path, reply.expect(StatusCode::OK));
    }
    let detail = drive(
        "get",
        "/api/v1/incidents/{id}",
        app.get("/api/v1/incidents/INC-1", &app.viewer).await,
    );
    assert_eq!(detail.body["timeline"].as_array().map(Vec::len), Some(10));
    let list = drive(
        "get",
        "/api/v1/incidents",
        app.get("/api/v1/incidents?status=all", &app.viewer).await,
    );
    assert_eq!(list.body["incidents"].as_array().map(Vec::len), Some(1));
    drive(
        "get",
        "/api/v1/whoami",
        app.get("/api/v1/whoami", &app.viewer).await,
    );
    drive(
        "get",
        "/api/v1/severities",
        app.get("/api/v1/severities", &app.viewer).await,
    );
    drive(
        "get",
        "/api/v1/policy",
        app.get("/api/v1/policy", &app.viewer).await,
    );
    drive(
        "get",
        "/health",
        app.call(Method::GET, "/health", None, None).await,
    );
    // Post-mortem and action items: INC-1 was reopened above, so resolve it again.
    app.post("/api/v1/incidents/INC-1/resolve", &app.alice, json!({}))
        .await
        .expect(StatusCode::OK);
    let pm = drive(
        "post",
        "/api/v1/incidents/{id}/postmortem",
        app.post("/api/v1/incidents/INC-1/postmortem", &app.alice, json!({}))
            .await
            .expect(StatusCode::CREATED),
    );
    let text = pm.body["text"].as_str().expect("text").to_owned();
    drive(
        "put",
        "/api/v1/incidents/{id}/postmortem",
        app.call(
            Method::PUT,
            "/api/v1/incidents/INC-1/postmortem",
            Some(&app.alice),
            Some(json!({"text": format!("{text}\nmore"), "expected_version": 1})),
        )
        .await
        .expect(StatusCode::OK),
    );
    drive(
        "post",
        "/api/v1/incidents/{id}/actions",
        app.post(
            "/api/v1/incidents/INC-1/actions",
            &app.alice,
            json!({"title": "t", "owner": "bob", "priority": "P1", "due": "2027-02-01"}),
        )
        .await
        .expect(StatusCode::CREATED),
    );
    drive(
        "post",
        "/api/v1/incidents/{id}/postmortem/stages",
        app.post(
            "/api/v1/incidents/INC-1/postmortem/stages",
            &app.alice,
            json!({}),
        )
        .await
        .expect(StatusCode::OK),
    );
    let shown = drive(
        "get",
        "/api/v1/incidents/{id}/postmortem",
        app.get("/api/v1/incidents/INC-1/postmortem", &app.viewer)
            .await,
    );
    assert_eq!(shown.body["action_items"].as_array().map(Vec::len), Some(1));
    drive(
        "get",
        "/api/v1/incidents/{id}/postmortem/history",
        app.get("/api/v1/incidents/INC-1/postmortem/history", &app.viewer)
            .await,
    );
    drive(
        "get",
        "/api/v1/incidents/{id}/related",
        app.get("/api/v1/incidents/INC-1/related", &app.viewer)
            .await,
    );
    drive(
        "patch",
        "/api/v1/actions/{id}",
        app.call(
            Method::PATCH,
            "/api/v1/actions/AI-1",
            Some(&app.alice),
            Some(json!({"status": "in_progress"})),
        )
        .await
        .expect(StatusCode::OK),
    );
    drive(
        "post",
        "/api/v1/actions/{id}/close",
        app.post(
            "/api/v1/actions/AI-1/close",
            &app.alice,
            json!({"note": "n"}),
        )
        .await
        .expect(StatusCode::OK),
    );
    drive(
        "get",
        "/api/v1/actions/{id}",
        app.get("/api/v1/actions/AI-1", &app.viewer).await,
    );
    drive(
        "get",
        "/api/v1/actions",
        app.get("/api/v1/actions?status=all", &app.viewer).await,
    );
    let export = app
        .get(
            "/api/v1/incidents/INC-1/postmortem/export?format=html",
            &app.viewer,
        )
        .await
        .expect(StatusCode::OK);
    let documented = &doc["paths"]["/api/v1/incidents/{id}/postmortem/export"]["get"]["responses"]
        ["200"]["content"];
    for content_type in ["text/markdown", "text/html"] {
        assert!(
            !documented[content_type].is_null(),
            "export documents {content_type}: {documented}"
        );
    }
    assert!(export
        .header("content-type")
        .is_some_and(|ct| ct.starts_with("text/html")));
    // Open again, as the error cases below expect.
    app.post("/api/v1/incidents/INC-1/reopen", &app.alice, json!({}))
        .await
        .expect(StatusCode::OK);

    let created = drive(
        "post",
        "/api/v1/tokens",
        app.post(
            "/api/v1/tokens",
            &app.admin,
            json!({"role": "viewer", "name": "d"}),
        )
        .await
        .expect(StatusCode::CREATED),
    );
    drive(
        "get",
        "/api/v1/tokens",
        app.get("/api/v1/tokens", &app.admin).await,
    );
    let id = created.body["id"].as_str().expect("token id");
    drive(
        "delete",
        "/api/v1/tokens/{id}",
        app.call(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            Some(&app.admin),
            None,
        )
        .await
        .expect(StatusCode::OK),
    );

    // The on-call roster.
    let put =
        |path: &'static str, body: Value| app.call(Method::PUT, path, Some(&app.admin), Some(body));
    drive(
        "put",
        "/api/v1/roster",
        put("/api/v1/roster", crate::support::roster_json())
            .await
            .expect(StatusCode::OK),
    );
    for path in [
        "/api/v1/roster",
        "/api/v1/people",
        "/api/v1/teams",
        "/api/v1/schedules",
        "/api/v1/oncall",
        "/api/v1/people/{id}",
        "/api/v1/teams/{id}",
        "/api/v1/schedules/{id}",
        "/api/v1/schedules/{id}/shifts",
        "/api/v1/calendar-feeds",
    ] {
        let reply = app.get(&concrete(path), &app.viewer).await;
        drive("get", path, reply.expect(StatusCode::OK));
    }
    // Admins read addresses in full, so what they read can be sent back.
    let person = app.get("/api/v1/people/bob", &app.admin).await.body;
    drive(
        "put",
        "/api/v1/people/{id}",
        put("/api/v1/people/bob", person)
            .await
            .expect(StatusCode::OK),
    );
    let team = app.get("/api/v1/teams/team-ml", &app.viewer).await.body;
    drive(
        "put",
        "/api/v1/teams/{id}",
        put("/api/v1/teams/team-ml", team)
            .await
            .expect(StatusCode::OK),
    );
    let schedule = app
        .get("/api/v1/schedules/sre-primary", &app.viewer)
        .await
        .body;
    drive(
        "put",
        "/api/v1/schedules/{id}",
        put("/api/v1/schedules/sre-primary", schedule)
            .await
            .expect(StatusCode::OK),
    );
    drive(
        "delete",
        "/api/v1/teams/{id}",
        app.call(
            Method::DELETE,
            "/api/v1/teams/team-ml",
            Some(&app.admin),
            None,
        )
        .await
        .expect(StatusCode::OK),
    );
    drive(
        "delete",
        "/api/v1/schedules/{id}",
        app.call(
            Method::DELETE,
            "/api/v1/schedules/reasoningbank-owner",
            Some(&app.admin),
            None,
        )
        .await
        .expect(StatusCode::OK),
    );
    drive(
        "delete",
        "/api/v1/people/{id}",
        app.call(Method::DELETE, "/api/v1/people/cto", Some(&app.admin), None)
            .await
            .expect(StatusCode::OK),
    );
    drive(
        "delete",
        "/api/v1/people/{id}",
        app.call(
            Method::DELETE,
            "/api/v1/people/alice",
            Some(&app.admin),
            None,
        )
        .await
        .expect(StatusCode::CONFLICT),
    );
    drive(
        "put",
        "/api/v1/roster",
        put(
            "/api/v1/roster",
            json!({"teams": {"t": {"name": "T", "members": ["x"]}}}),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY),
    );
    drive(
        "get",
        "/api/v1/schedules/{id}/shifts",
        app.get(
            "/api/v1/schedules/sre-primary/shifts?to=2000-01-01T00:00:00Z",
            &app.viewer,
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY),
    );
    // Calendar feeds are documented as text/calendar, with the query token.
    for feed in [
        "/api/v1/schedules/{id}/calendar.ics",
        "/api/v1/people/{id}/calendar.ics",
    ] {
        let operation = &doc["paths"][feed]["get"];
        assert!(
            !operation["responses"]["200"]["content"]["text/calendar"].is_null(),
            "{feed}: {operation}"
        );
        assert!(
            operation["parameters"].as_array().is_some_and(|ps| ps
                .iter()
                .any(|p| p["name"] == "token" && p["in"] == "query")),
            "{feed} documents ?token=: {operation}"
        );
        let reply = app
            .get(&concrete(feed), &app.viewer)
            .await
            .expect(StatusCode::OK);
        assert!(reply
            .header("content-type")
            .is_some_and(|ct| ct.starts_with("text/calendar")));
    }

    // Errors have the ErrorBody shape wherever they come from.
    let errors = [
        (
            "get",
            "/api/v1/incidents",
            app.call(Method::GET, "/api/v1/incidents", None, None).await,
        ),
        (
            "post",
            "/api/v1/incidents",
            app.post("/api/v1/incidents", &app.viewer, json!({})).await,
        ),
        (
            "post",
            "/api/v1/incidents",
            app.post("/api/v1/incidents", &app.alice, json!({"title": 1}))
                .await,
        ),
        (
            "post",
            "/api/v1/incidents",
            app.post(
                "/api/v1/incidents",
                &app.alice,
                json!({"title": "t", "severity": "x", "service": "s"}),
            )
            .await,
        ),
        (
            "get",
            "/api/v1/incidents/{id}",
            app.get("/api/v1/incidents/INC-404", &app.viewer).await,
        ),
        (
            "post",
            "/api/v1/incidents/{id}/reopen",
            app.post("/api/v1/incidents/INC-1/reopen", &app.alice, json!({}))
                .await,
        ),
        (
            "post",
            "/api/v1/incidents",
            app.post(
                "/api/v1/incidents",
                &app.alice,
                json!({"title": "x".repeat(fireline_http::MAX_BODY_BYTES)}),
            )
            .await,
        ),
    ];
    let mut statuses = BTreeSet::new();
    for (method, path, reply) in errors {
        statuses.insert(reply.status.as_u16());
        assert!(reply.body["error"]["code"].is_string(), "{}", reply.body);
        drive(method, path, reply);
    }
    assert_eq!(
        statuses,
        BTreeSet::from([400, 401, 403, 404, 409, 413, 422]),
        "the error cases cover these statuses"
    );
    assert!(compared >= 40, "compared only {compared} objects");
}
