//! The on-call commands as people use them: the real binary against a real server on a
//! real port, on SQLite and PostgreSQL. Import a roster, ask who is on call, show shifts,
//! and check a policy against a roster. The harness is `tests/support`; this file adds a
//! failure check with several needles and a raw GET as calendar apps make.

use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;
use serde_json::Value;
use std::io::{Read, Write};
use std::process::Output;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/oncall");
const DEFAULT_POLICY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/default.toml");

mod support;
use support::*;

backend_tests!(a_roster_is_imported_and_queried_through_the_cli);

/// Like the harness's `fails_with`, for several needles; returns stderr.
fn fails_with(o: Output, code: i32, needles: &[&str]) -> String {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        stdout(&o),
        stderr(&o)
    );
    let err = stderr(&o);
    assert!(
        err.starts_with("fireline: error: "),
        "errors are prefixed: {err}"
    );
    for needle in needles {
        assert!(
            err.contains(needle),
            "stderr should mention {needle:?}: {err}"
        );
    }
    err
}

fn json(o: Output) -> Value {
    let text = ok(o);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn fixture(name: &str) -> String {
    format!("{FIXTURES}/{name}")
}

/// Calendar feeds are fetched the way calendar apps do it.
impl Server {
    /// A plain GET with no headers but Host, as a calendar app subscribing to a URL does;
    /// returns the whole response (status line, headers, body).
    fn get_raw(&self, path: &str) -> String {
        self.get_raw_as(path, None)
    }

    /// A GET with `Authorization: Bearer <token>` when a token is given.
    fn get_raw_as(&self, path: &str, token: Option<&str>) -> String {
        let address = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).expect("connect");
        let authorization =
            token.map_or_else(String::new, |t| format!("Authorization: Bearer {t}\r\n"));
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {address}\r\n{authorization}Connection: close\r\n\r\n"
        )
        .expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        response
    }
}

async fn a_roster_is_imported_and_queried_through_the_cli(db: &TestDatabase) {
    let admin = token(&db.url, "admin", "root");
    let viewer = token(&db.url, "viewer", "val");
    let server = Server::start(&db.url);
    let as_admin = [
        ("FIRELINE_URL", server.url.as_str()),
        ("FIRELINE_TOKEN", admin.as_str()),
    ];
    let as_viewer = [
        ("FIRELINE_URL", server.url.as_str()),
        ("FIRELINE_TOKEN", viewer.as_str()),
    ];
    let yaml = fixture("business-hours.yaml");

    // Import: YAML by extension; viewers may not.
    fails_with(fireline(&["import", &yaml], &as_viewer), 5, &["admin"]);
    let imported = ok(fireline(&["import", &yaml], &as_admin));
    assert_eq!(
        imported,
        format!("imported 2 people, 1 team, 2 schedules from {yaml}\n")
    );

    // A roster with problems is refused locally, every problem with where and a hint,
    // and the server keeps what it has.
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[people.ann]\nname = \"Ann\"\ncontacts = [{ kind = \"email\", address = \"ann\" }]\n\n\
         [schedules.primary]\nname = \"P\"\ntime_zone = \"Mars/Base\"\n\
         [[schedules.primary.layers]]\nname = \"l\"\nparticipants = [\"ann\", \"carlo\"]\n\
         shift = \"1d\"\nstart = \"2026-01-05\"\n",
    )
    .expect("write");
    let bad = bad.display().to_string();
    fails_with(
        fireline(&["import", &bad], &as_admin),
        1,
        &[
            "3 problems",
            "people.ann.contacts[0].address",
            "schedules.primary.time_zone: unknown time zone `Mars/Base`",
            "schedules.primary.layers[0].participants[1]: unknown person `carlo`",
            "hint: ",
        ],
    );
    fails_with(
        fireline(&["import", &bad, "--dry-run"], &as_admin),
        1,
        &["3 problems"],
    );
    // An empty roster file would leave pages reaching nobody: refused before sending.
    let empty = dir.path().join("empty.toml");
    std::fs::write(&empty, "# nothing yet\n").expect("write");
    fails_with(
        fireline(&["import", &empty.display().to_string()], &as_admin),
        1,
        &["defines no people", "nothing was sent", "allow_empty=true"],
    );
    let people = json(fireline(&["person", "list", "--json"], &as_viewer));
    assert_eq!(people["people"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        ok(fireline(&["import", &yaml, "--dry-run"], &[])),
        format!("{yaml}: ok — 2 people, 1 team, 2 schedules (dry run: nothing sent)\n")
    );

    // Who is on call: Monday 2026-03-02 11:00 Berlin is business hours, day 56 of the
    // daily rotation (ann); week 8 of secondary (ben). Saturday has nobody on primary.
    let monday = json(fireline(
        &["oncall", "at", "2026-03-02T10:00:00Z", "--json"],
        &as_viewer,
    ));
    let entries = monday["oncall"].as_array().expect("oncall");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["schedule"], "primary");
    assert_eq!(entries[0]["shift"]["person"], "ann");
    assert_eq!(entries[0]["shift"]["start"], "2026-03-02T08:00:00Z");
    assert_eq!(entries[0]["shift"]["end"], "2026-03-02T16:00:00Z");
    assert_eq!(entries[0]["shift"]["layer"], "business hours");
    assert_eq!(entries[1]["shift"]["person"], "ben");
    let table = ok(fireline(
        &[
            "oncall",
            "at",
            "2026-03-07T12:00:00Z",
            "--schedule",
            "primary",
        ],
        &as_viewer,
    ));
    assert!(
        table.starts_with("on call at 2026-03-07 12:00Z\n"),
        "{table}"
    );
    assert!(table.contains("primary   nobody"), "{table}");
    assert!(
        !table.contains("secondary"),
        "--schedule keeps one: {table}"
    );
    // A usage error: clap's message and exit 2, as for every argument.
    let usage = fireline(&["oncall", "at", "next tuesday"], &as_viewer);
    assert_eq!(usage.status.code(), Some(2), "{}", stderr(&usage));
    assert!(stderr(&usage).contains("RFC 3339"), "{}", stderr(&usage));
    fails_with(
        fireline(&["oncall", "now", "--schedule", "nope"], &as_viewer),
        1,
        &["no schedule `nope`"],
    );
    let now = json(fireline(&["oncall", "now", "--json"], &as_viewer));
    let at: jiff::Timestamp = now["at"].as_str().expect("at").parse().expect("RFC 3339");
    let skew = jiff::Timestamp::now().duration_since(at).abs();
    assert!(
        skew < jiff::SignedDuration::from_mins(5),
        "now is now: {at}"
    );
    let now_table = ok(fireline(&["oncall", "now"], &as_viewer));
    assert!(now_table.contains("SCHEDULE"), "{now_table}");
    assert!(now_table.contains("secondary"), "{now_table}");

    // Shifts as a table, in UTC and the schedule's zone (CET before 29 March).
    let shifts = ok(fireline(
        &[
            "oncall",
            "show",
            "primary",
            "--from",
            "2026-03-02T00:00:00Z",
            "--to",
            "2026-03-04T00:00:00Z",
        ],
        &as_viewer,
    ));
    let lines: Vec<&str> = shifts.lines().collect();
    assert_eq!(lines.len(), 4, "{shifts}");
    assert!(
        lines[0].contains("times in UTC and Europe/Berlin"),
        "{shifts}"
    );
    assert!(lines[1].starts_with("PERSON"), "{shifts}");
    for (line, person, day) in [(lines[2], "ann", "02"), (lines[3], "ben", "03")] {
        assert!(line.starts_with(person), "{shifts}");
        assert!(line.contains(&format!("2026-03-{day} 08:00Z")), "{shifts}");
        assert!(line.contains(&format!("2026-03-{day} 16:00Z")), "{shifts}");
        assert!(
            line.contains(&format!("2026-03-{day} 09:00 CET")),
            "{shifts}"
        );
        assert!(
            line.contains(&format!("2026-03-{day} 17:00 CET")),
            "{shifts}"
        );
        assert!(line.ends_with("business hours"), "{shifts}");
    }
    let shifts_json = json(fireline(
        &["oncall", "show", "secondary", "--json"],
        &as_viewer,
    ));
    assert_eq!(shifts_json["schedule"], "secondary");
    fails_with(
        fireline(
            &[
                "oncall",
                "show",
                "primary",
                "--from",
                "2026-01-01T00:00:00Z",
                "--to",
                "2027-06-01T00:00:00Z",
            ],
            &as_viewer,
        ),
        1,
        &["to: ", "366 days"],
    );

    // People, teams, schedules; secrets never printed.
    let ann = ok(fireline(&["person", "show", "ann"], &as_viewer));
    assert!(ann.starts_with("Ann Lee (ann)\n"), "{ann}");
    assert!(ann.contains("secret ****"), "{ann}");
    let ann_json = ok(fireline(&["person", "show", "ann", "--json"], &as_viewer));
    for out in [&ann, &ann_json] {
        assert!(
            !out.contains("ann-webhook-secret"),
            "a secret was printed: {out}"
        );
    }
    let list = ok(fireline(&["person", "list"], &as_viewer));
    assert!(
        list.contains("ann  Ann Lee  Europe/Berlin  email, webhook"),
        "{list}"
    );
    let teams = ok(fireline(&["team", "list"], &as_viewer));
    assert!(teams.contains("engineering-leads"), "{teams}");
    assert!(teams.contains("ann, ben"), "{teams}");
    let teams_json = json(fireline(&["team", "list", "--json"], &as_viewer));
    assert_eq!(teams_json["teams"][0]["members"][1], "ben");
    let schedules = ok(fireline(&["schedule", "list"], &as_viewer));
    assert!(
        schedules.contains("business hours (1d: ann, ben)"),
        "{schedules}"
    );
    let schedules_json = json(fireline(&["schedule", "list", "--json"], &as_viewer));
    assert_eq!(
        schedules_json["schedules"].as_array().map(Vec::len),
        Some(2)
    );
    person_test_is_for_admins(&as_admin, &as_viewer);

    // A calendar app subscribes with the feed's own URL, whose ?token= is a secret for
    // that feed alone; neither it nor any token reaches the logs.
    let feeds = server.get_raw_as("/api/v1/calendar-feeds", Some(&viewer));
    assert!(feeds.starts_with("HTTP/1.1 200"), "{feeds}");
    let at = feeds
        .find("/api/v1/schedules/primary/calendar.ics?token=flc_")
        .expect("the primary schedule's feed URL");
    let url = &feeds[at..at + feeds[at..].find('"').expect("end of the URL")];
    let feed_secret = url.rsplit("token=").next().expect("a secret").to_owned();
    let feed = server.get_raw(url);
    assert!(feed.starts_with("HTTP/1.1 200"), "{feed}");
    assert!(feed.contains("BEGIN:VCALENDAR\r\n"), "{feed}");
    let by_token = server.get_raw(&format!(
        "/api/v1/schedules/primary/calendar.ics?token={viewer}"
    ));
    assert!(
        by_token.starts_with("HTTP/1.1 401"),
        "an API token in a feed URL is refused: {by_token}"
    );
    assert!(
        server
            .get_raw(&format!("/api/v1/people?token={feed_secret}"))
            .starts_with("HTTP/1.1 401"),
        "a feed secret opens nothing else"
    );
    let (_, logs) = server.terminate();
    assert!(
        logs.iter().any(|l| l.contains("calendar.ics")),
        "the feed request was logged: {logs:?}"
    );
    let secret = viewer.trim_start_matches("fl_");
    let feed_hex = feed_secret.trim_start_matches("flc_");
    for line in &logs {
        assert!(!line.contains(secret), "a token reached the logs: {line}");
        assert!(
            !line.contains(feed_hex),
            "a feed secret reached the logs: {line}"
        );
    }

    // policy check --roster: the business-hours schedule SEV1 pages leaves nights and
    // weekends uncovered; the round-the-clock secondary and the team are fine.
    let report = fails_with(
        fireline(&["policy", "check", DEFAULT_POLICY, "--roster", &yaml], &[]),
        1,
        &[
            "1 problem",
            "schedules.primary: nobody on call in ",
            "severities.SEV1.page",
            "hint: add a layer",
            "16:00Z – ",
        ],
    );
    assert!(!report.contains("schedules.secondary"), "{report}");
    assert!(!report.contains("engineering-leads"), "{report}");
    // A roster that lacks what the policy pages: each use named, with a hint.
    fails_with(
        fireline(
            &[
                "policy",
                "check",
                DEFAULT_POLICY,
                "--roster",
                &fixture("agentic-flow.toml"),
            ],
            &[],
        ),
        1,
        &[
            "severities.SEV1.page: target `schedule:primary` names a schedule the roster does not have",
            "escalation level 1",
            "`schedule:secondary`",
            "`team:engineering-leads` names a team",
            "hint: add it under [teams]",
        ],
    );
    // Without --roster the policy alone is checked, as before.
    assert!(ok(fireline(&["policy", "check", DEFAULT_POLICY], &[])).contains(": ok"));
}

/// `fireline person show` of nobody, and `fireline person test`: only admins may send
/// test pages, and only to contacts the person has.
fn person_test_is_for_admins(as_admin: &[(&str, &str)], as_viewer: &[(&str, &str)]) {
    fails_with(
        fireline(&["person", "show", "zed"], as_viewer),
        1,
        &["no person `zed`"],
    );
    // A test page to each of ann's e-mail contacts; only admins may send one.
    let tested = ok(fireline(
        &["person", "test", "ann", "--kind", "email"],
        as_admin,
    ));
    assert!(
        tested.starts_with("test page sent to ann by email a…@")
            && tested.contains("a confirmed contact counts as verified"),
        "{tested}"
    );
    fails_with(
        fireline(&["person", "test", "ann"], as_viewer),
        5,
        &["admin"],
    );
    fails_with(
        fireline(&["person", "test", "ann", "--kind", "sms"], as_admin),
        1,
        &["Ann Lee has no sms contact"],
    );
}

#[test]
fn policy_check_warns_about_whoever_is_on_call_and_cannot_be_woken() {
    let dir = tempfile::tempdir().expect("tempdir");
    let roster = dir.path().join("roster.toml");
    std::fs::write(
        &roster,
        "[people.ann]\nname = \"Ann Lee\"\ncontacts = [{ kind = \"email\", address = \"ann@example.com\" }]\n\
         [people.ben]\nname = \"Ben Ode\"\ncontacts = [{ kind = \"sms\", address = \"+15551230002\" }]\n\
         [schedules.primary]\nname = \"P\"\ntime_zone = \"UTC\"\n\
         [[schedules.primary.layers]]\nname = \"l\"\nparticipants = [\"ann\", \"ben\"]\n\
         shift = \"1d\"\nstart = \"2026-01-05\"\n",
    )
    .expect("write");
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "name = \"p\"\n[severities.SEV1]\nname = \"Critical\"\nrank = 1\npage = [\"schedule:primary\"]\n\
         [[escalation]]\nname = \"again\"\ntargets = [\"schedule:primary\"]\n\
         triggers = [{ when = \"not_acknowledged\", after = \"5m\" }]\n",
    )
    .expect("write");
    let o = fireline(
        &[
            "policy",
            "check",
            &policy.display().to_string(),
            "--roster",
            &roster.display().to_string(),
        ],
        &[],
    );
    assert!(
        o.status.success(),
        "a warning, not an error: {}",
        stderr(&o)
    );
    let err = stderr(&o);
    assert!(
        err.contains("1 person is on call in the next 7 days and nothing can wake them at night")
            && err.contains("people.ann: Ann Lee has no contact that can wake them")
            && err.contains("Wake me up"),
        "{err}"
    );
    assert!(
        !err.contains("people.ben"),
        "an SMS number can wake ben: {err}"
    );
}

#[test]
fn on_call_commands_have_help_with_examples() {
    for args in [
        vec!["import", "--help"],
        vec!["oncall", "now", "--help"],
        vec!["oncall", "at", "--help"],
        vec!["oncall", "show", "--help"],
        vec!["person", "list", "--help"],
        vec!["person", "show", "--help"],
        vec!["team", "list", "--help"],
        vec!["schedule", "list", "--help"],
        vec!["policy", "check", "--help"],
    ] {
        let out = ok(fireline(&args, &[]));
        assert!(
            out.contains("Example"),
            "`fireline {}` shows examples:\n{out}",
            args.join(" ")
        );
    }
}

/// `policy check --roster` with a roster that gives a channel the preset pages no
/// destination: the channel is named, with how to give it one.
#[test]
fn a_paged_channel_without_a_destination_is_named_with_how_to_give_it_one() {
    fails_with(
        fireline(
            &[
                "policy",
                "check",
                concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/agentic-flow.toml"),
                "--roster",
                &fixture("agentic-flow.toml"),
            ],
            &[],
        ),
        1,
        &[
            "severities.SEV1.page: target `channel:#incidents` names a channel the roster does not have",
            "hint: give it a destination under [channels.incidents] in the roster",
        ],
    );
}
