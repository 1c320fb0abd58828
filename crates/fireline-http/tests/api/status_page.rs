//! The public status page: no token, and nothing but status-page updates leaks.

use crate::support::App;
use axum::http::{Method, StatusCode};
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use serde_json::json;

backend_tests!(only_status_page_updates_are_public);

async fn only_status_page_updates_are_public(db: &TestDatabase) {
    let app = App::new(db).await;
    let secret = "SECRET-MARKER-7f3a";
    app.post(
        "/api/v1/incidents",
        &app.alice,
        json!({"title": format!("db creds {secret}"), "severity": "SEV1", "service": "checkout",
               "summary": format!("summary {secret}")}),
    )
    .await
    .expect(StatusCode::CREATED);
    let path = "/api/v1/incidents/INC-1";
    app.post(
        &format!("{path}/notes"),
        &app.alice,
        json!({"text": format!("note {secret}")}),
    )
    .await
    .expect(StatusCode::OK);
    for channel in ["internal", "customer"] {
        app.post(
            &format!("{path}/updates"),
            &app.alice,
            json!({"channel": channel, "text": format!("{channel} {secret}")}),
        )
        .await
        .expect(StatusCode::OK);
    }
    app.post(
        &format!("{path}/status"),
        &app.alice,
        json!({"status": "identified", "message": format!("status {secret}")}),
    )
    .await
    .expect(StatusCode::OK);
    app.post(
        &format!("{path}/updates"),
        &app.alice,
        json!({"channel": "status_page", "text": "We are fixing <checkout> & payments."}),
    )
    .await
    .expect(StatusCode::OK);

    let json_body = app
        .call(Method::GET, "/status.json", None, None)
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(json_body["overall"], "major_outage", "{json_body:#}");
    assert_eq!(json_body["components"][0]["name"], "checkout");
    assert_eq!(json_body["components"][0]["status"], "major_outage");
    assert_eq!(
        json_body["components"][0]["history"]
            .as_array()
            .map(Vec::len),
        Some(90)
    );
    let updates = &json_body["incidents"][0]["updates"];
    assert_eq!(updates.as_array().map(Vec::len), Some(1));
    assert_eq!(updates[0]["status"], "Identified");
    assert_eq!(updates[0]["text"], "We are fixing <checkout> & payments.");
    assert!(!json_body.to_string().contains(secret), "{json_body:#}");
    assert!(!json_body.to_string().contains("alice"));

    for (route, public) in [
        ("/status", "We are fixing &lt;checkout&gt; &amp; payments."),
        (
            "/status/feed.atom",
            "We are fixing &lt;checkout&gt; &amp; payments.",
        ),
    ] {
        let reply = app
            .call(Method::GET, route, None, None)
            .await
            .expect(StatusCode::OK);
        let text = reply.body.as_str().unwrap_or_default().to_owned();
        assert!(text.contains(public), "{route}: {text}");
        assert!(!text.contains(secret), "{route} leaks: {text}");
        assert!(!text.contains("alice"), "{route} names a person");
        assert!(!text.contains("<script"), "{route} has script");
    }
    let feed = app
        .call(Method::GET, "/status/feed.atom", None, None)
        .await
        .body;
    let feed = feed.as_str().unwrap_or_default();
    assert!(feed.starts_with("<?xml"));
    for element in [
        "<feed xmlns=\"http://www.w3.org/2005/Atom\">",
        "<id>urn:fireline:status</id>",
        "<updated>",
        "<entry><id>urn:fireline:status:INC-1:",
    ] {
        assert!(feed.contains(element), "{element} missing: {feed}");
    }
    assert_eq!(feed.matches("<entry>").count(), 1);
}
