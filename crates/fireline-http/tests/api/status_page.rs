//! The public status page: no token, and nothing but status-page updates leaks.

use crate::support::App;
use axum::http::{Method, StatusCode};
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use serde_json::json;

backend_tests!(
    scheduled_maintenance_shows_its_public_fields_only,
    only_status_page_updates_are_public,
    an_override_holds_until_it_lapses,
    a_quiet_status_page_says_all_is_well
);

async fn a_quiet_status_page_says_all_is_well(db: &TestDatabase) {
    let app = App::new(db).await;
    let page = app
        .call(Method::GET, "/status", None, None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = page.body.as_str().unwrap_or_default();
    assert!(html.starts_with("<!doctype html>"), "{html}");
    for text in [
        "<h1 class=\"operational\">All systems operational</h1>",
        "<h2>Components</h2>\n<h2>Incidents</h2>\n<p>No incidents reported.</p>",
        "<p><small>Updated 2027-01-15 08:00 UTC.",
    ] {
        assert!(html.contains(text), "{text} missing: {html}");
    }
    assert!(!html.contains("Maintenance"), "{html}");
    let feed = app
        .call(Method::GET, "/status/feed.atom", None, None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        feed.header("content-type"),
        Some("application/atom+xml; charset=utf-8")
    );
    let xml = feed.body.as_str().unwrap_or_default();
    assert!(
        xml.contains("<updated>2027-01-15T08:00:00Z</updated>"),
        "{xml}"
    );
    assert!(!xml.contains("<entry>"), "{xml}");
    assert!(xml.trim_end().ends_with("</feed>"), "{xml}");
}

async fn component(app: &App, name: &str) -> String {
    let page = app
        .call(axum::http::Method::GET, "/status.json", None, None)
        .await;
    page.body["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["name"] == name)
        .map(|c| c["status"].as_str().expect("status").to_owned())
        .unwrap_or_else(|| panic!("no component {name}: {:#}", page.body))
}

async fn an_override_holds_until_it_lapses(db: &TestDatabase) {
    let app = App::new(db).await;
    app.declare("Checkout errors", "SEV2", "checkout").await;
    assert_eq!(component(&app, "checkout").await, "partial_outage");
    let until = (fireline_engine::Clock::now(app.clock.as_ref())
        + jiff::SignedDuration::from_mins(30))
    .to_string();
    let set = app
        .call(
            axum::http::Method::PUT,
            "/api/v1/status/components/checkout",
            Some(&app.admin),
            Some(
                json!({"status": "major_outage", "until": until, "note": "card payments failing"}),
            ),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(set.body["set_by"], "root-admin");
    assert_eq!(component(&app, "checkout").await, "major_outage");
    // The team's note is not public.
    let html = app
        .call(axum::http::Method::GET, "/status", None, None)
        .await;
    assert!(!html
        .body
        .as_str()
        .expect("html")
        .contains("card payments failing"));
    // A component no incident names yet can be set too.
    app.call(
        axum::http::Method::PUT,
        "/api/v1/status/components/search",
        Some(&app.admin),
        Some(json!({"status": "maintenance"})),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(component(&app, "search").await, "maintenance");

    app.advance(31);
    assert_eq!(
        component(&app, "checkout").await,
        "partial_outage",
        "lapsed"
    );
    app.call(
        axum::http::Method::DELETE,
        "/api/v1/status/components/search",
        Some(&app.admin),
        None,
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    app.call(
        axum::http::Method::DELETE,
        "/api/v1/status/components/search",
        Some(&app.admin),
        None,
    )
    .await
    .expect(StatusCode::NOT_FOUND);

    // Bad input names the field; responders may not set it.
    app.call(
        axum::http::Method::PUT,
        "/api/v1/status/components/checkout",
        Some(&app.admin),
        Some(json!({"status": "on fire"})),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("status"));
    app.call(
        axum::http::Method::PUT,
        "/api/v1/status/components/checkout",
        Some(&app.admin),
        Some(json!({"status": "degraded", "until": "2020-01-01T00:00:00Z"})),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("until"));
    app.call(
        axum::http::Method::PUT,
        "/api/v1/status/components/checkout",
        Some(&app.alice),
        Some(json!({"status": "degraded"})),
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    assert_eq!(
        component(&app, "checkout").await,
        "partial_outage",
        "nothing changed"
    );
}

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
    assert!(
        feed.contains(
            "<title>checkout – Identified</title><updated>2027-01-15T08:00:00Z</updated>\
             <link href=\"/status\"/><content type=\"text\">We are fixing &lt;checkout&gt; \
             &amp; payments.</content></entry>"
        ),
        "{feed}"
    );
    assert!(feed.trim_end().ends_with("</feed>"), "{feed}");
    // The page, rendered from its template: overall status, component, the update.
    let page = app.call(Method::GET, "/status", None, None).await.body;
    let page = page.as_str().unwrap_or_default();
    for element in [
        "<h1 class=\"major_outage\">Major outage</h1>",
        "<strong>checkout</strong><span class=\"major_outage\">Major outage</span>",
        "<div class=\"bars\" title=\"90 days\"><span class=\"operational\" title=\"",
        "<h3>checkout – Identified</h3>",
        "<article><strong>Identified</strong> <time datetime=\"2027-01-15T08:00:00Z\">\
         2027-01-15 08:00 UTC</time><p>We are fixing &lt;checkout&gt; &amp; payments.</p></article>",
        "<link rel=\"alternate\" type=\"application/atom+xml\" href=\"/status/feed.atom\">",
    ] {
        assert!(page.contains(element), "{element} missing: {page}");
    }
    assert!(!page.contains("No incidents reported."));
    assert!(page.trim_end().ends_with("</html>"));
}

/// In every field of a maintenance window customers must never see.
const MARKER: &str = "ZZINTERNALZZ";

/// The built-in policy with windows around `now`: one in progress on checkout (its
/// component from its matcher), one scheduled on search, one completed on everything,
/// one internal, one not yet announced. Names and matchers hold the marker.
fn maintenance_policy(now: jiff::Timestamp) -> fireline_core::policy::Policy {
    let h = |n: i64| now + jiff::SignedDuration::from_hours(n);
    let text = format!(
        r#"{builtin}
[[maintenance]]
name = "{MARKER} checkout"
start = "{a0}"
end = "{a1}"
match = [{{ label = "service", equals = "checkout" }}, {{ label = "team", equals = "{MARKER}" }}]
title = "Checkout upgrade"
description = "Card payments may pause for a minute."

[[maintenance]]
name = "{MARKER} search"
start = "{b0}"
end = "{b1}"
title = "Search reindex"
components = ["search"]

[[maintenance]]
name = "{MARKER} network"
start = "{c0}"
end = "{c1}"
title = "Network maintenance"
description = "All services were briefly slower."

[[maintenance]]
name = "{MARKER} internal only"
start = "{a0}"
end = "{a1}"

[[maintenance]]
name = "{MARKER} later"
start = "{d0}"
end = "{d1}"
title = "{MARKER} not yet announced"
announce = "1d"
"#,
        builtin = fireline_core::policy::BUILTIN,
        a0 = h(-1),
        a1 = h(1),
        b0 = h(48),
        b1 = h(50),
        c0 = h(-72),
        c1 = h(-70),
        d0 = h(24 * 30),
        d1 = h(24 * 30 + 1),
    );
    fireline_core::policy::Policy::from_toml(&text).unwrap_or_else(|p| panic!("valid: {p:#?}"))
}

async fn scheduled_maintenance_shows_its_public_fields_only(db: &TestDatabase) {
    let app = App::new(db).await;
    let now = fireline_engine::Clock::now(app.clock.as_ref());
    app.policy.replace(maintenance_policy(now));
    let json = app
        .call(Method::GET, "/status.json", None, None)
        .await
        .expect(StatusCode::OK)
        .body;
    let shown: Vec<(String, String, String)> = json["maintenance"]
        .as_array()
        .expect("maintenance")
        .iter()
        .map(|m| {
            (
                m["status"].as_str().unwrap_or_default().to_owned(),
                m["title"].as_str().unwrap_or_default().to_owned(),
                m["components"].to_string(),
            )
        })
        .collect();
    let row = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(
        shown,
        [
            row("in_progress", "Checkout upgrade", r#"["checkout"]"#),
            row("scheduled", "Search reindex", r#"["search"]"#),
            row("completed", "Network maintenance", "[]"),
        ],
        "{json:#}"
    );
    assert_eq!(json["maintenance"][0]["active"], true);
    assert_eq!(
        json["maintenance"][0]["description"],
        "Card payments may pause for a minute."
    );
    // A window in progress puts its component under maintenance; a scheduled one's is
    // listed, as it is.
    assert_eq!(component(&app, "checkout").await, "maintenance");
    assert_eq!(component(&app, "search").await, "operational");
    assert_eq!(json["overall"], "maintenance");

    let html = app
        .call(Method::GET, "/status", None, None)
        .await
        .expect(StatusCode::OK)
        .body
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let scheduled = html.find("<h2>Scheduled maintenance</h2>").expect(&html);
    let past = html.find("<h2>Past maintenance</h2>").expect(&html);
    let (upcoming, over) = (&html[scheduled..past], &html[past..]);
    for text in [
        "<strong class=\"in_progress\">In progress</strong> Checkout upgrade",
        "<small>Affects: checkout</small><p>Card payments may pause for a minute.</p>",
        "<strong class=\"scheduled\">Scheduled</strong> Search reindex",
    ] {
        assert!(upcoming.contains(text), "{text} missing: {html}");
    }
    for text in [
        "<strong class=\"completed\">Completed</strong> Network maintenance",
        "Affects: all components",
    ] {
        assert!(over.contains(text), "{text} missing: {html}");
    }
    let feed = app
        .call(Method::GET, "/status/feed.atom", None, None)
        .await
        .expect(StatusCode::OK)
        .body
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for title in [
        "<title>Maintenance in progress: Checkout upgrade</title>",
        "<title>Scheduled maintenance: Checkout upgrade</title>",
        "<title>Scheduled maintenance: Search reindex</title>",
        "<title>Maintenance completed: Network maintenance</title>",
    ] {
        assert!(feed.contains(title), "{title} missing: {feed}");
    }
    assert!(!feed.contains("Maintenance in progress: Search"), "{feed}");
    for (what, body) in [("json", json.to_string()), ("html", html), ("feed", feed)] {
        assert!(
            !body.contains(MARKER),
            "internal text in the {what}: {body}"
        );
    }

    // Two hours on, the checkout window is completed too and its component back.
    app.advance(120);
    let json = app.call(Method::GET, "/status.json", None, None).await.body;
    let statuses: Vec<&str> = json["maintenance"]
        .as_array()
        .expect("maintenance")
        .iter()
        .map(|m| m["status"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        statuses,
        ["scheduled", "completed", "completed"],
        "{json:#}"
    );
    assert_eq!(json["maintenance"][1]["title"], "Checkout upgrade");
    assert_eq!(json["overall"], "operational");
}
