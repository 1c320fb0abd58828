//! The on-call roster over the API: import, refusals that change nothing (an empty body,
//! a roster that would page nobody), who is on call at given instants, shift windows,
//! calendar feeds and their per-feed secrets, masked secrets and contact addresses.

use crate::support::{roster_fixture, roster_json, ts, App};
use axum::http::{Method, StatusCode};
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use serde_json::{json, Value};

backend_tests!(
    import_stores_the_roster_and_never_returns_secrets,
    a_bad_roster_is_refused_naming_the_field_and_nothing_changes,
    entries_are_checked_against_the_whole_roster,
    oncall_answers_who_is_on_call_at_an_instant,
    shifts_cover_a_bounded_window,
    calendar_feeds_are_rfc5545_and_take_a_query_token_only_there,
    roster_put_with_empty_body_keeps_the_roster,
    roster_put_with_empty_object_keeps_the_roster,
    roster_put_that_removes_everyone_or_paged_targets_needs_saying_so,
    viewers_and_responders_read_contacts_masked_admins_in_full,
    a_feed_secret_opens_only_its_feed,
    an_admin_token_in_a_feed_url_is_refused,
    rotating_feed_urls_cuts_the_old_ones,
    webhook_contacts_to_metadata_or_loopback_addresses_are_refused_when_written,
    channels_are_stored_with_the_roster_their_credentials_shown_to_admins_only,
);

async fn put(app: &App, path: &str, token: &str, body: Value) -> crate::support::Reply {
    app.call(Method::PUT, path, Some(token), Some(body)).await
}

/// A GET without an Authorization header.
async fn anonymous(app: &App, path: &str) -> crate::support::Reply {
    app.call(Method::GET, path, None, None).await
}

async fn delete(app: &App, path: &str, token: &str) -> crate::support::Reply {
    app.call(Method::DELETE, path, Some(token), None).await
}

async fn import_stores_the_roster_and_never_returns_secrets(db: &TestDatabase) {
    let app = App::new(db).await;
    let fixture = roster_fixture();
    let counts = put(&app, "/api/v1/roster", &app.admin, roster_json())
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(
        counts,
        json!({"people": fixture.people.len(), "teams": 7, "schedules": 8, "channels": 0})
    );
    assert_eq!(app.store.roster().await.expect("roster"), fixture);

    // bob's webhook secret is write-only: every read shows the mask.
    let roster = app
        .get("/api/v1/roster", &app.viewer)
        .await
        .expect(StatusCode::OK)
        .body;
    let people = app
        .get("/api/v1/people", &app.viewer)
        .await
        .expect(StatusCode::OK)
        .body;
    let bob = app
        .get("/api/v1/people/bob", &app.viewer)
        .await
        .expect(StatusCode::OK)
        .body;
    for body in [&roster, &people, &bob] {
        assert!(
            !body.to_string().contains("replace-me-bob"),
            "a secret was returned: {body}"
        );
    }
    assert_eq!(bob["contacts"][0]["kind"], "webhook");
    assert_eq!(bob["contacts"][0]["secret"], "****");
    assert_eq!(bob["contacts"][1]["secret"], Value::Null);
    assert_eq!(roster["people"]["bob"], bob);
    assert_eq!(
        roster["schedules"]["sre-primary"]["layers"][0]["shift"], "1w",
        "the file's text forms: {roster}"
    );
    assert_eq!(
        roster["schedules"]["sre-primary"]["layers"][0]["handoff"],
        "00:00"
    );

    // What GET shows an admin can be sent back: the mask keeps the stored secret.
    let roster = app
        .get("/api/v1/roster", &app.admin)
        .await
        .expect(StatusCode::OK)
        .body;
    let bob = app
        .get("/api/v1/people/bob", &app.admin)
        .await
        .expect(StatusCode::OK)
        .body;
    put(&app, "/api/v1/roster", &app.admin, roster.clone())
        .await
        .expect(StatusCode::OK);
    put(&app, "/api/v1/people/bob", &app.admin, bob.clone())
        .await
        .expect(StatusCode::OK);
    assert_eq!(app.store.roster().await.expect("roster"), fixture);

    // A mask where nothing is stored would store the mask itself: refused.
    let mut masked = bob.clone();
    masked["contacts"][0]["address"] = json!("https://pager.example.com/hooks/other");
    put(&app, "/api/v1/people/bob", &app.admin, masked)
        .await
        .expect_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("contacts[0].secret"),
        );
    assert_eq!(app.store.roster().await.expect("roster"), fixture);
}

async fn a_bad_roster_is_refused_naming_the_field_and_nothing_changes(db: &TestDatabase) {
    let app = App::new(db).await;
    app.import_roster().await;
    let before = app.store.roster().await.expect("roster");

    let mut bad = roster_json();
    bad["schedules"]["sre-primary"]["layers"][0]["participants"][2] = json!("carlo");
    bad["people"]["dave"]["time_zone"] = json!("Mars/Olympus");
    let reply = put(&app, "/api/v1/roster", &app.admin, bad)
        .await
        .expect_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("people.dave.time_zone"),
        );
    let message = reply.body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("2 problems"), "{message}");
    assert!(
        message.contains("schedules.sre-primary.layers[0].participants[2]: unknown person `carlo`"),
        "every problem is listed: {message}"
    );
    assert!(message.contains("Mars/Olympus"), "{message}");
    assert_eq!(app.store.roster().await.expect("roster"), before);

    // Shape errors are 400s naming the field, and change nothing either.
    let mut shape = roster_json();
    shape["schedules"]["sre-primary"]["layers"][0]["shift"] = json!("3x");
    put(&app, "/api/v1/roster", &app.admin, shape)
        .await
        .expect_error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            Some("schedules.sre-primary.layers[0].shift"),
        );
    let mut misspelt = roster_json();
    misspelt["teams"]["sre"]["memebers"] = json!([]);
    put(&app, "/api/v1/roster", &app.admin, misspelt)
        .await
        .expect_error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            Some("teams.sre.memebers"),
        );
    assert_eq!(app.store.roster().await.expect("roster"), before);
}

async fn entries_are_checked_against_the_whole_roster(db: &TestDatabase) {
    let app = App::new(db).await;
    app.import_roster().await;
    let before = app.store.roster().await.expect("roster");

    // References to people the roster lacks.
    put(
        &app,
        "/api/v1/teams/sre",
        &app.admin,
        json!({"name": "SRE", "members": ["alice", "bob", "zed"], "schedule": "sre-primary"}),
    )
    .await
    .expect_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("members[2]"),
    );
    let mut schedule = app
        .get("/api/v1/schedules/sre-primary", &app.viewer)
        .await
        .expect(StatusCode::OK)
        .body;
    schedule["overrides"] = json!([{"person": "zed", "start": "2026-03-02T00:00:00Z",
                                    "end": "2026-03-03T00:00:00Z"}]);
    put(&app, "/api/v1/schedules/sre-primary", &app.admin, schedule)
        .await
        .expect_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("overrides[0].person"),
        );
    put(
        &app,
        "/api/v1/teams/sre",
        &app.admin,
        json!({"id": "ops", "name": "SRE", "members": ["alice"]}),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("id"));
    put(
        &app,
        "/api/v1/people/Zed",
        &app.admin,
        json!({"name": "Zed", "contacts": [{"kind": "email", "address": "zed@example.com"}]}),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("id"));

    // A person still on a team and a schedule cannot go; the answer says where.
    let refused = delete(&app, "/api/v1/people/alice", &app.admin)
        .await
        .expect_error(StatusCode::CONFLICT, "conflict", None);
    let message = refused.body["error"]["message"]
        .as_str()
        .unwrap_or_default();
    for place in [
        "teams.sre.members[0]",
        "schedules.sre-primary.layers[0].participants[0]",
        "schedules.sre-secondary.layers[0].participants[3]",
    ] {
        assert!(message.contains(place), "{place} missing from: {message}");
    }
    // Nor a schedule a team pages through.
    delete(&app, "/api/v1/schedules/sre-primary", &app.admin)
        .await
        .expect_error(StatusCode::CONFLICT, "conflict", None);
    delete(&app, "/api/v1/people/nobody", &app.admin)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    assert_eq!(app.store.roster().await.expect("roster"), before);

    // Valid changes are stored, one entry at a time.
    let zed = put(
        &app,
        "/api/v1/people/zed",
        &app.admin,
        json!({"name": "Zed", "contacts": [{"kind": "email", "address": "zed@example.com"}]}),
    )
    .await
    .expect(StatusCode::OK)
    .body;
    assert_eq!(zed["id"], "zed");
    assert_eq!(zed["time_zone"], "UTC");
    put(
        &app,
        "/api/v1/teams/sre",
        &app.admin,
        json!({"name": "SRE", "members": ["alice", "zed"], "schedule": "sre-primary"}),
    )
    .await
    .expect(StatusCode::OK);
    let stored = app.store.roster().await.expect("roster");
    assert_eq!(stored.teams["sre"].members, ["alice", "zed"]);
    assert_eq!(stored.people["zed"].name, "Zed");
    delete(&app, "/api/v1/people/zed", &app.admin)
        .await
        .expect(StatusCode::CONFLICT);
    put(
        &app,
        "/api/v1/teams/sre",
        &app.admin,
        json!({"name": "SRE", "members": ["alice"], "schedule": "sre-primary"}),
    )
    .await
    .expect(StatusCode::OK);
    delete(&app, "/api/v1/people/zed", &app.admin)
        .await
        .expect(StatusCode::OK);
    app.get("/api/v1/people/zed", &app.viewer)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    delete(&app, "/api/v1/teams/team-data", &app.admin)
        .await
        .expect(StatusCode::OK);
    let teams = app
        .get("/api/v1/teams", &app.viewer)
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(teams["teams"].as_array().map(Vec::len), Some(6));
}

/// `GET /api/v1/oncall` for sre-primary at `at`: (person, start, end, layer).
async fn sre_primary_at(app: &App, at: &str) -> Value {
    let body = app
        .get(
            &format!("/api/v1/oncall?schedule=sre-primary&at={at}"),
            &app.viewer,
        )
        .await
        .expect(StatusCode::OK)
        .body;
    let entries = body["oncall"].as_array().expect("oncall is an array");
    assert_eq!(entries.len(), 1, "{body}");
    assert_eq!(entries[0]["schedule"], "sre-primary");
    assert_eq!(entries[0]["time_zone"], "UTC");
    entries[0]["shift"].clone()
}

async fn oncall_answers_who_is_on_call_at_an_instant(db: &TestDatabase) {
    let app = App::new(db).await;
    app.import_roster().await;

    // Weekly from Monday 2026-01-05 00:00 UTC: alice, bob, carol, dave, alice, …
    let first = sre_primary_at(&app, "2026-01-05T00:00:00Z").await;
    assert_eq!(first["person"], "alice");
    assert_eq!(ts(&first["start"]).to_string(), "2026-01-05T00:00:00Z");
    assert_eq!(ts(&first["end"]).to_string(), "2026-01-12T00:00:00Z");
    assert_eq!(first["layer"], "weekly");
    assert_eq!(
        sre_primary_at(&app, "2026-01-11T23:59:59Z").await["person"],
        "alice"
    );
    assert_eq!(
        sre_primary_at(&app, "2026-01-12T00:00:00Z").await["person"],
        "bob",
        "the hand-off instant belongs to the next shift"
    );
    assert_eq!(
        sre_primary_at(&app, "2026-01-21T12:00:00%2B02:00").await["person"],
        "carol",
        "offsets are read as instants"
    );
    assert_eq!(
        sre_primary_at(&app, "2026-02-02T00:00:00Z").await["person"],
        "alice",
        "the rotation wraps"
    );
    assert_eq!(
        sre_primary_at(&app, "2026-01-04T23:59:59Z").await,
        Value::Null,
        "nobody before the layer starts"
    );

    // Every schedule, at the clock's now (2027-01-15, week 53 of the rotation: bob).
    let all = app
        .get("/api/v1/oncall", &app.viewer)
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(ts(&all["at"]), crate::support::start());
    let entries = all["oncall"].as_array().expect("array");
    assert_eq!(entries.len(), 8);
    let primary = entries
        .iter()
        .find(|e| e["schedule"] == "sre-primary")
        .expect("sre-primary listed");
    assert_eq!(primary["shift"]["person"], "bob");
    let secondary = entries
        .iter()
        .find(|e| e["schedule"] == "sre-secondary")
        .expect("sre-secondary listed");
    assert_eq!(secondary["shift"]["person"], "carol");

    app.get("/api/v1/oncall?schedule=nope", &app.viewer)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    app.get("/api/v1/oncall?at=yesterday", &app.viewer)
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request", Some("at"));
}

async fn shifts_cover_a_bounded_window(db: &TestDatabase) {
    let app = App::new(db).await;
    app.import_roster().await;

    let four = app
        .get(
            "/api/v1/schedules/sre-primary/shifts?from=2026-01-05T00:00:00Z&to=2026-02-02T00:00:00Z",
            &app.viewer,
        )
        .await
        .expect(StatusCode::OK)
        .body;
    let people: Vec<&str> = four["shifts"]
        .as_array()
        .expect("shifts")
        .iter()
        .map(|s| s["person"].as_str().expect("person"))
        .collect();
    assert_eq!(people, ["alice", "bob", "carol", "dave"]);
    assert_eq!(
        ts(&four["shifts"][3]["end"]).to_string(),
        "2026-02-02T00:00:00Z"
    );

    // Default: from now, 14 days; shifts are clipped to the window.
    let default = app
        .get("/api/v1/schedules/sre-primary/shifts", &app.viewer)
        .await
        .expect(StatusCode::OK)
        .body;
    let now = crate::support::start();
    assert_eq!(ts(&default["from"]), now);
    assert_eq!(
        ts(&default["to"]),
        now + jiff::SignedDuration::from_hours(14 * 24)
    );
    let shifts = default["shifts"].as_array().expect("shifts");
    assert_eq!(ts(&shifts[0]["start"]), now);
    assert_eq!(ts(&shifts[shifts.len() - 1]["end"]), ts(&default["to"]));
    assert_eq!(shifts.len(), 3, "{default}");

    // 366 days is the limit.
    app.get(
        "/api/v1/schedules/sre-primary/shifts?from=2026-01-01T00:00:00Z&to=2027-01-02T00:00:00Z",
        &app.viewer,
    )
    .await
    .expect(StatusCode::OK);
    app.get(
        "/api/v1/schedules/sre-primary/shifts?from=2026-01-01T00:00:00Z&to=2027-01-02T00:00:01Z",
        &app.viewer,
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("to"));
    app.get(
        "/api/v1/schedules/sre-primary/shifts?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
        &app.viewer,
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("to"));
    app.get(
        "/api/v1/schedules/sre-primary/shifts?from=monday",
        &app.viewer,
    )
    .await
    .expect_error(StatusCode::BAD_REQUEST, "bad_request", Some("from"));
    app.get("/api/v1/schedules/nope/shifts", &app.viewer)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
}

/// The calendar's text, checking the response is one.
fn calendar_text(reply: crate::support::Reply) -> String {
    let reply = reply.expect(StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        Some("text/calendar; charset=utf-8")
    );
    let text = reply.body.as_str().expect("a text body").to_owned();
    assert!(
        text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"),
        "{text}"
    );
    assert!(text.ends_with("END:VCALENDAR\r\n"), "{text}");
    assert!(
        !text.replace("\r\n", "").contains('\n'),
        "every line ends in CRLF"
    );
    assert!(
        text.split("\r\n").all(|line| line.len() <= 75),
        "lines are folded at 75 octets"
    );
    text
}

fn lines_starting<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.split("\r\n")
        .filter_map(|l| l.strip_prefix(prefix))
        .collect()
}

async fn calendar_feeds_are_rfc5545_and_take_a_query_token_only_there(db: &TestDatabase) {
    let app = App::new(db).await;
    app.import_roster().await;

    // The feed's window: from the Monday on or before 30 days ago (2026-12-14, as now
    // is Friday 2027-01-15 08:00 UTC) to 90 days ahead.
    let text = calendar_text(
        app.get("/api/v1/schedules/sre-primary/calendar.ics", &app.viewer)
            .await,
    );
    let expected = app
        .get(
            "/api/v1/schedules/sre-primary/shifts?from=2026-12-14T00:00:00Z&to=2027-04-15T08:00:00Z",
            &app.viewer,
        )
        .await
        .expect(StatusCode::OK)
        .body;
    let expected = expected["shifts"].as_array().expect("shifts");
    assert_eq!(expected.len(), 18);
    assert_eq!(lines_starting(&text, "BEGIN:VEVENT").len(), expected.len());
    assert_eq!(lines_starting(&text, "END:VEVENT").len(), expected.len());
    let starts = lines_starting(&text, "DTSTART:");
    assert_eq!(starts.len(), expected.len());
    assert_eq!(starts[0], "20261214T000000Z");
    assert_eq!(starts[1], "20261221T000000Z");
    let uids = lines_starting(&text, "UID:");
    let mut unique = uids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), uids.len(), "one UID per shift");
    assert!(
        text.contains("SUMMARY:On call: SRE primary (alice)\r\n"),
        "{text}"
    );

    // A person's feed: only their shifts, across schedules (primary and secondary).
    let alice = calendar_text(
        app.get("/api/v1/people/alice/calendar.ics", &app.viewer)
            .await,
    );
    let summaries = lines_starting(&alice, "SUMMARY:");
    assert!(!summaries.is_empty());
    assert!(
        summaries.iter().all(|s| s.ends_with("(alice)")),
        "{summaries:?}"
    );
    assert!(summaries.iter().any(|s| s.contains("SRE primary")));
    assert!(summaries.iter().any(|s| s.contains("SRE secondary")));
    app.get("/api/v1/people/nobody/calendar.ics", &app.viewer)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);

    // Calendar apps cannot send headers: the feeds take their own secret as ?token=.
    for feed in [
        "/api/v1/schedules/sre-primary/calendar.ics",
        "/api/v1/people/alice/calendar.ics",
    ] {
        let url = feed_url(&app, feed).await;
        let by_query = calendar_text(anonymous(&app, &url).await);
        assert!(by_query.contains("BEGIN:VEVENT"));
        anonymous(&app, &format!("{feed}?token={}", app.viewer))
            .await
            .expect_error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                Some("authorization"),
            );
        anonymous(&app, &format!("{feed}?token=fl_{}", "0".repeat(64)))
            .await
            .expect_error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                Some("authorization"),
            );
        anonymous(&app, &format!("{feed}?token="))
            .await
            .expect_error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                Some("authorization"),
            );
        anonymous(&app, feed).await.expect_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            Some("authorization"),
        );
    }
    // … and nothing else does: neither a role token nor a feed secret.
    let secret = feed_url(&app, "/api/v1/people/alice/calendar.ics").await;
    let secret = secret.rsplit("token=").next().expect("a secret").to_owned();
    for path in [
        "/api/v1/roster",
        "/api/v1/people",
        "/api/v1/people/alice",
        "/api/v1/schedules/sre-primary",
        "/api/v1/schedules/sre-primary/shifts",
        "/api/v1/oncall",
        "/api/v1/incidents",
    ] {
        for token in [&app.viewer, &secret] {
            anonymous(&app, &format!("{path}?token={token}"))
                .await
                .expect_error(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    Some("authorization"),
                );
        }
    }
}

/// The URL `GET /api/v1/calendar-feeds` gives for the feed at `path`, without the base
/// URL (the router is driven in-process).
async fn feed_url(app: &App, path: &str) -> String {
    let feeds = app
        .get("/api/v1/calendar-feeds", &app.viewer)
        .await
        .expect(StatusCode::OK)
        .body;
    let url = feeds["feeds"]
        .as_array()
        .expect("feeds")
        .iter()
        .filter_map(|f| f["url"].as_str())
        .find(|u| u.contains(&format!("{path}?token=flc_")))
        .unwrap_or_else(|| panic!("no feed URL for {path}: {feeds}"));
    url[url.find("/api/").expect("a path")..].to_owned()
}

/// `PUT /api/v1/roster` with a raw body.
async fn put_raw(app: &App, path: &str, body: &'static str) -> crate::support::Reply {
    app.send(
        axum::http::Request::builder()
            .method(Method::PUT)
            .uri(path)
            .header("authorization", format!("Bearer {}", app.admin))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body))
            .expect("a request"),
    )
    .await
}

async fn roster_put_with_empty_body_keeps_the_roster(db: &TestDatabase) {
    let app = App::new(db).await;
    app.import_roster().await;
    for body in ["", "  \n"] {
        let reply = put_raw(&app, "/api/v1/roster", body).await.expect_error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            Some("body"),
        );
        assert!(
            reply.body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("empty")),
            "{}",
            reply.body
        );
    }
    // Not even when the caller says an empty roster is fine: a body is still needed.
    put_raw(&app, "/api/v1/roster?allow_empty=true", "")
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request", Some("body"));
    assert_eq!(app.store.roster().await.expect("roster"), roster_fixture());
}

async fn roster_put_with_empty_object_keeps_the_roster(db: &TestDatabase) {
    let app = App::new(db).await;
    app.import_roster().await;
    put(&app, "/api/v1/roster", &app.admin, json!({}))
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request", Some("body"));
    assert_eq!(app.store.roster().await.expect("roster"), roster_fixture());
    assert_eq!(
        app.get("/api/v1/people", &app.admin).await.body["people"]
            .as_array()
            .map(Vec::len),
        Some(roster_fixture().people.len())
    );
}

async fn roster_put_that_removes_everyone_or_paged_targets_needs_saying_so(db: &TestDatabase) {
    let app = App::new(db).await;
    app.import_roster().await;

    // Explicitly empty sections: refused naming `people`, unless asked for by name.
    let empty = json!({"people": {}, "teams": {}, "schedules": {}});
    let reply = put(&app, "/api/v1/roster", &app.admin, empty.clone())
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("people"));
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("allow_empty=true")),
        "{}",
        reply.body
    );
    assert_eq!(app.store.roster().await.expect("roster"), roster_fixture());

    // A roster that drops someone the policy in force pages (the CTO, at escalation
    // level 4 of the agentic-flow policy) is refused naming them.
    let policy = fireline_core::policy::Policy::from_toml(include_str!(
        "../../../../policies/agentic-flow.toml"
    ))
    .unwrap_or_else(|p| panic!("{p:#?}"));
    app.policy.replace(policy);
    let mut without_cto = roster_json();
    without_cto["people"]
        .as_object_mut()
        .expect("people")
        .remove("cto");
    let reply = put(&app, "/api/v1/roster", &app.admin, without_cto.clone())
        .await
        .expect_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("people.cto"),
        );
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("person:cto") && m.contains("allow_unknown_targets")),
        "{}",
        reply.body
    );
    assert_eq!(app.store.roster().await.expect("roster"), roster_fixture());
    put(
        &app,
        "/api/v1/roster?allow_unknown_targets=true",
        &app.admin,
        without_cto,
    )
    .await
    .expect(StatusCode::OK);
    assert!(!app
        .store
        .roster()
        .await
        .expect("roster")
        .people
        .contains_key("cto"));

    // Said so: emptied.
    let counts = put(&app, "/api/v1/roster?allow_empty=true", &app.admin, empty)
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(
        counts,
        json!({"people": 0, "teams": 0, "schedules": 0, "channels": 0})
    );
    // From an empty roster, a first import is the usual way in and needs no flag.
    put(&app, "/api/v1/roster", &app.admin, roster_json())
        .await
        .expect(StatusCode::OK);
}

/// Every contact address of the fixture, and the webhook secret.
fn contact_texts() -> Vec<String> {
    let mut texts: Vec<String> = roster_fixture()
        .people
        .values()
        .flat_map(|p| p.contacts.iter().map(|c| c.address.clone()))
        .collect();
    texts.push("replace-me-bob".to_owned());
    texts
}

async fn viewers_and_responders_read_contacts_masked_admins_in_full(db: &TestDatabase) {
    let app = App::new(db).await;
    app.import_roster().await;
    let routes = ["/api/v1/people", "/api/v1/people/bob", "/api/v1/roster"];
    for (who, token) in [("viewer", &app.viewer), ("responder", &app.alice)] {
        for route in routes {
            let body = app.get(route, token).await.expect(StatusCode::OK).body;
            let text = body.to_string();
            for address in contact_texts() {
                assert!(
                    !text.contains(&address),
                    "{who} read {address} on {route}: {text}"
                );
            }
            // Still told how bob is reached.
            assert!(text.contains("\"webhook\""), "{who} {route}: {text}");
            assert!(
                text.contains("https://pager.example.com/…"),
                "{who} {route}: {text}"
            );
            assert!(text.contains("b…@example.com"), "{who} {route}: {text}");
        }
    }
    // The responder token is named `alice`, but a token's name is not a person: alice's
    // own addresses stay masked for it (only her UI session, signed in as user `alice`,
    // reads them).
    let alice = app
        .get("/api/v1/people/alice", &app.alice)
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(
        alice["contacts"][0]["address"],
        "https://hooks.example.com/…"
    );
    assert_eq!(alice["contacts"][1]["address"], "a…@example.com");

    for route in routes {
        let text = app
            .get(route, &app.admin)
            .await
            .expect(StatusCode::OK)
            .body
            .to_string();
        assert!(
            text.contains("https://pager.example.com/hooks/bob"),
            "{text}"
        );
        assert!(text.contains("bob@example.com"), "{text}");
        assert!(!text.contains("replace-me-bob"), "{text}");
        assert!(!text.contains('…'), "admins read addresses in full: {text}");
    }

    // A masked address sent back is refused, not stored as the address.
    let masked = app
        .get("/api/v1/people/bob", &app.viewer)
        .await
        .expect(StatusCode::OK)
        .body;
    put(&app, "/api/v1/people/bob", &app.admin, masked)
        .await
        .expect_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("contacts[0].address"),
        );
    let masked_roster = app
        .get("/api/v1/roster", &app.viewer)
        .await
        .expect(StatusCode::OK)
        .body;
    put(&app, "/api/v1/roster", &app.admin, masked_roster)
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.store.roster().await.expect("roster"), roster_fixture());
}

async fn a_feed_secret_opens_only_its_feed(db: &TestDatabase) {
    let app = App::new(db).await;
    app.import_roster().await;
    let feeds = app
        .get("/api/v1/calendar-feeds", &app.viewer)
        .await
        .expect(StatusCode::OK)
        .body;
    let listed = feeds["feeds"].as_array().expect("feeds");
    let fixture = roster_fixture();
    assert_eq!(
        listed.len(),
        fixture.schedules.len() + fixture.people.len(),
        "{feeds}"
    );
    assert_eq!(listed[0]["kind"], "schedule");
    assert!(listed[0]["url"]
        .as_str()
        .is_some_and(|u| u.starts_with("http") && u.contains("/calendar.ics?token=flc_")));

    let primary = feed_url(&app, "/api/v1/schedules/sre-primary/calendar.ics").await;
    let secret = primary
        .rsplit("token=")
        .next()
        .expect("a secret")
        .to_owned();
    calendar_text(anonymous(&app, &primary).await);
    // The same secret on another feed, or a variation of it, opens nothing.
    for other in [
        format!("/api/v1/schedules/sre-secondary/calendar.ics?token={secret}"),
        format!("/api/v1/people/alice/calendar.ics?token={secret}"),
        format!(
            "/api/v1/schedules/sre-primary/calendar.ics?token={}0",
            &secret
        ),
        format!(
            "/api/v1/schedules/sre-primary/calendar.ics?token={}",
            &secret[..secret.len() - 2]
        ),
    ] {
        let reply = anonymous(&app, &other).await.expect_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            Some("authorization"),
        );
        assert!(
            reply.body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("/api/v1/calendar-feeds")),
            "says where the URL is: {}",
            reply.body
        );
    }
    // Nor does it authorize anything as a bearer token.
    app.get("/api/v1/schedules/sre-primary/shifts", &secret)
        .await
        .expect(StatusCode::UNAUTHORIZED);
    app.get("/api/v1/schedules/sre-primary/calendar.ics", &secret)
        .await
        .expect(StatusCode::UNAUTHORIZED);
    // A feed URL for a schedule that does not exist would need its own secret: 401, not
    // a 404 that tells which ids exist.
    anonymous(
        &app,
        &format!("/api/v1/schedules/nope/calendar.ics?token={secret}"),
    )
    .await
    .expect(StatusCode::UNAUTHORIZED);
    // Anonymous callers cannot list feed URLs.
    anonymous(&app, "/api/v1/calendar-feeds")
        .await
        .expect(StatusCode::UNAUTHORIZED);
}

async fn an_admin_token_in_a_feed_url_is_refused(db: &TestDatabase) {
    let app = App::new(db).await;
    app.import_roster().await;
    for token in [&app.admin, &app.alice, &app.viewer] {
        for feed in [
            "/api/v1/schedules/sre-primary/calendar.ics",
            "/api/v1/people/alice/calendar.ics",
        ] {
            let reply = anonymous(&app, &format!("{feed}?token={token}"))
                .await
                .expect_error(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    Some("authorization"),
                );
            let message = reply.body["error"]["message"].as_str().unwrap_or_default();
            assert!(
                message.contains("API token") && message.contains("/api/v1/calendar-feeds"),
                "says why and how to get a feed URL: {message}"
            );
        }
    }
    // In the Authorization header, a token still reads the feed like any route.
    calendar_text(
        app.get("/api/v1/schedules/sre-primary/calendar.ics", &app.admin)
            .await,
    );
}

async fn rotating_feed_urls_cuts_the_old_ones(db: &TestDatabase) {
    let app = App::new(db).await;
    app.import_roster().await;
    let before = feed_url(&app, "/api/v1/people/alice/calendar.ics").await;
    calendar_text(anonymous(&app, &before).await);
    assert_eq!(
        feed_url(&app, "/api/v1/people/alice/calendar.ics").await,
        before,
        "URLs are stable until rotated"
    );
    for token in [&app.viewer, &app.alice] {
        app.post("/api/v1/calendar-feeds/rotate", token, json!({}))
            .await
            .expect_error(StatusCode::FORBIDDEN, "forbidden", Some("authorization"));
    }
    let rotated = app
        .post("/api/v1/calendar-feeds/rotate", &app.admin, json!({}))
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(!rotated
        .to_string()
        .contains(before.rsplit("token=").next().expect("secret")));
    anonymous(&app, &before)
        .await
        .expect(StatusCode::UNAUTHORIZED);
    let after = feed_url(&app, "/api/v1/people/alice/calendar.ics").await;
    assert_ne!(after, before);
    calendar_text(anonymous(&app, &after).await);
}

/// Regression: admins could point webhook contacts at link-local and metadata addresses
/// (169.254.169.254). Deliveries refuse them now; writing one is refused too, naming
/// the field, and nothing stored changes.
async fn webhook_contacts_to_metadata_or_loopback_addresses_are_refused_when_written(
    db: &TestDatabase,
) {
    let app = App::new(db).await;
    app.import_roster().await;
    let before = app.store.roster().await.expect("roster");
    for address in [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:8080/hook",
        "https://localhost/hook",
        "http://[::ffff:10.0.0.1]/hook",
    ] {
        let person = json!({
            "name": "Mallory",
            "contacts": [{"kind": "webhook", "address": address}]
        });
        put(&app, "/api/v1/people/mallory", &app.admin, person)
            .await
            .expect_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                Some("contacts[0].address"),
            );
        let mut roster = crate::support::roster_json();
        roster["people"]["mallory"] = json!({
            "name": "Mallory",
            "contacts": [{"kind": "slack", "address": address}]
        });
        put(&app, "/api/v1/roster", &app.admin, roster)
            .await
            .expect_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                Some("people.mallory.contacts[0].address"),
            );
    }
    assert_eq!(app.store.roster().await.expect("roster"), before);
    // A public address is fine.
    put(
        &app,
        "/api/v1/people/mallory",
        &app.admin,
        json!({"name": "Mallory", "contacts": [{"kind": "webhook", "address": "https://hooks.example.com/x"}]}),
    )
    .await
    .expect(StatusCode::OK);
}

async fn channels_are_stored_with_the_roster_their_credentials_shown_to_admins_only(
    db: &TestDatabase,
) {
    let app = App::new(db).await;
    let mut roster = roster_json();
    roster["channels"] = json!({
        "incidents": {
            "kind": "slack",
            "address": "https://hooks.slack.com/services/T0/B0/secretpath",
            "updates": ["internal"],
            "events": true
        },
        "exec": {
            "name": "#exec-briefing",
            "kind": "slack_bot",
            "address": "C0123ABCDEF",
            "secret": "xoxb-bot-token"
        }
    });
    let stored = put(&app, "/api/v1/roster", &app.admin, roster.clone())
        .await
        .expect(StatusCode::OK);
    assert_eq!(stored.body["channels"], 2, "{}", stored.body);

    let admin = app
        .get("/api/v1/roster", &app.admin)
        .await
        .expect(StatusCode::OK);
    let channels = &admin.body["channels"];
    assert_eq!(
        channels["incidents"]["address"],
        "https://hooks.slack.com/services/T0/B0/secretpath"
    );
    assert_eq!(channels["incidents"]["updates"], json!(["internal"]));
    assert_eq!(channels["incidents"]["events"], true);
    assert_eq!(channels["exec"]["secret"], "****", "secrets are write-only");
    assert_eq!(channels["exec"]["name"], "#exec-briefing");
    let viewer = app
        .get("/api/v1/roster", &app.viewer)
        .await
        .expect(StatusCode::OK);
    let text = viewer.body.to_string();
    assert!(
        !text.contains("secretpath") && !text.contains("xoxb-bot-token"),
        "a webhook URL is a credential: {text}"
    );
    assert_eq!(
        viewer.body["channels"]["incidents"]["address"],
        "https://hooks.slack.com/…"
    );

    // What GET showed an admin, sent back, keeps the stored token.
    let mut again = admin.body.clone();
    again
        .as_object_mut()
        .expect("object")
        .retain(|k, _| ["people", "teams", "schedules", "channels"].contains(&k.as_str()));
    put(&app, "/api/v1/roster", &app.admin, again)
        .await
        .expect(StatusCode::OK);
    let kept = app.store.roster().await.expect("roster");
    assert_eq!(
        kept.channels["exec"].secret.as_deref(),
        Some("xoxb-bot-token")
    );

    // A channel that could not work, or that would call inside, is refused naming it,
    // and nothing changes.
    for (channel, field) in [
        (
            json!({"kind": "slack_bot", "address": "C0123ABCDEF"}),
            "channels.bad.secret",
        ),
        (
            json!({"kind": "discord", "address": "http://169.254.169.254/latest"}),
            "channels.bad.address",
        ),
        (
            json!({"kind": "matrix", "address": "http://127.0.0.1:8008/#/!r:x.org", "secret": "t"}),
            "channels.bad.address",
        ),
        (
            json!({"kind": "sms", "address": "+15551234567"}),
            "channels.bad.kind",
        ),
    ] {
        let mut bad = roster.clone();
        bad["channels"]["bad"] = channel;
        put(&app, "/api/v1/roster", &app.admin, bad)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some(field));
    }
    assert_eq!(app.store.roster().await.expect("roster"), kept);
}
