//! The on-call roster over the API: import, refusals that change nothing, who is on call
//! at given instants, shift windows, calendar feeds and their `?token=`, masked secrets.

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
    calendar_feeds_are_rfc5545_and_take_a_query_token_only_there
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
        json!({"people": fixture.people.len(), "teams": 7, "schedules": 8})
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

    // What GET shows can be sent back: the mask keeps the stored secret.
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

    // Calendar apps cannot send headers: the feeds take the token as ?token=.
    for feed in [
        "/api/v1/schedules/sre-primary/calendar.ics",
        "/api/v1/people/alice/calendar.ics",
    ] {
        let by_query =
            calendar_text(anonymous(&app, &format!("{feed}?token={}", app.viewer)).await);
        assert!(by_query.contains("BEGIN:VEVENT"));
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
    // … and nothing else does.
    for path in [
        "/api/v1/roster",
        "/api/v1/people",
        "/api/v1/people/alice",
        "/api/v1/schedules/sre-primary",
        "/api/v1/schedules/sre-primary/shifts",
        "/api/v1/oncall",
        "/api/v1/incidents",
    ] {
        anonymous(&app, &format!("{path}?token={}", app.viewer))
            .await
            .expect_error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                Some("authorization"),
            );
    }
}
