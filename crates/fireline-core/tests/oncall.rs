//! On-call: rotations, layers, restrictions, overrides, daylight saving, resolving
//! policy targets, roster checks, coverage and iCalendar output, each checked against
//! instants a person could verify on a wall calendar.

use fireline_core::oncall::ical::{person_calendar, schedule_calendar};
use fireline_core::oncall::{
    coverage_gaps, unknown_targets, ContactKind, Handoff, Resolved, Roster, RosterError, Schedule,
    ShiftLength,
};
use fireline_core::policy::{Policy, Target};
use jiff::{SignedDuration, Timestamp};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn roster(text: &str) -> Roster {
    let roster = Roster::from_toml_str(text).unwrap_or_else(|e| panic!("{e}"));
    let problems = roster.check();
    assert!(problems.is_empty(), "roster should be clean: {problems:#?}");
    roster
}

/// People `a`…`z` as needed, each with an e-mail address, then `extra`.
fn with_people(ids: &[&str], extra: &str) -> String {
    let mut text = String::new();
    for id in ids {
        text.push_str(&format!(
            "[people.{id}]\nname = \"{id}\"\ncontacts = [{{ kind = \"email\", address = \"{id}@example.com\" }}]\n"
        ));
    }
    text + extra
}

fn schedule<'a>(roster: &'a Roster, id: &str) -> &'a Schedule {
    roster
        .schedules
        .get(id)
        .unwrap_or_else(|| panic!("schedule {id}"))
}

fn on_call(s: &Schedule, at: &str) -> Option<String> {
    s.on_call_at(ts(at)).map(|shift| shift.person)
}

const WEEKLY: &str = r#"
[schedules.sre-primary]
name = "SRE primary"
time_zone = "UTC"
[[schedules.sre-primary.layers]]
name = "weekly"
participants = ["alice", "bob", "carol"]
shift = "1w"
handoff = "00:00"
start = "2026-01-05"
"#;

#[test]
fn weekly_rotation_from_monday_midnight_utc_gives_one_person_per_week_in_order() {
    let r = roster(&with_people(&["alice", "bob", "carol"], WEEKLY));
    let s = schedule(&r, "sre-primary");
    assert_eq!(on_call(s, "2026-01-04T23:59:59Z"), None, "before the start");
    for (at, who) in [
        ("2026-01-05T00:00:00Z", "alice"),
        ("2026-01-11T23:59:59Z", "alice"),
        ("2026-01-12T00:00:00Z", "bob"),
        ("2026-01-19T12:00:00Z", "carol"),
        ("2026-01-26T00:00:00Z", "alice"),
        ("2026-12-28T09:00:00Z", "alice"), // week 51
    ] {
        let week = (ts(at).duration_since(ts("2026-01-05T00:00:00Z")).as_hours()) / (7 * 24);
        let expected = ["alice", "bob", "carol"][(week % 3) as usize];
        assert_eq!(expected, who, "test table is wrong at {at}");
        assert_eq!(on_call(s, at).as_deref(), Some(who), "at {at}");
    }
    let shift = s.on_call_at(ts("2026-01-14T10:00:00Z")).expect("bob");
    assert_eq!(
        (shift.start, shift.end, shift.layer.as_deref()),
        (
            ts("2026-01-12T00:00:00Z"),
            ts("2026-01-19T00:00:00Z"),
            Some("weekly")
        )
    );
}

#[test]
fn a_daily_0900_handoff_in_new_york_stays_at_0900_local_across_both_dst_changes() {
    let text = with_people(
        &["ann", "ben"],
        r#"
[schedules.ny]
name = "NY"
time_zone = "America/New_York"
[[schedules.ny.layers]]
name = "daily"
participants = ["ann", "ben"]
shift = "daily"
handoff = "09:00"
start = "2026-03-01"
"#,
    );
    let r = roster(&text);
    let s = schedule(&r, "ny");
    // 2026-03-08: clocks go forward (EST -5 → EDT -4); 2026-11-01: back.
    let march = s.layer_shifts(0, ts("2026-03-07T00:00:00Z"), ts("2026-03-10T00:00:00Z"));
    let starts: Vec<Timestamp> = march.iter().map(|s| s.start).collect();
    assert_eq!(
        starts,
        [
            ts("2026-03-07T00:00:00Z"), // clipped: the 03-06 shift
            ts("2026-03-07T14:00:00Z"), // 09:00 EST
            ts("2026-03-08T13:00:00Z"), // 09:00 EDT: a 23-hour shift before it
            ts("2026-03-09T13:00:00Z"),
        ]
    );
    // Day 6 after 03-01 is ann's (even), day 7 ben's.
    assert_eq!(march[1].person, "ann");
    assert_eq!(march[2].person, "ben");
    assert_eq!(march[1].end, ts("2026-03-08T13:00:00Z"));

    let nov = s.layer_shifts(0, ts("2026-10-31T12:00:00Z"), ts("2026-11-03T00:00:00Z"));
    let starts: Vec<Timestamp> = nov.iter().skip(1).map(|s| s.start).collect();
    assert_eq!(
        starts,
        [
            ts("2026-10-31T13:00:00Z"), // 09:00 EDT
            ts("2026-11-01T14:00:00Z"), // 09:00 EST: a 25-hour shift before it
            ts("2026-11-02T14:00:00Z"),
        ]
    );
    assert_eq!(on_call(s, "2026-11-01T13:30:00Z").as_deref(), Some("ann")); // 08:30 EST, still 10-31's shift
}

#[test]
fn hour_based_shifts_advance_in_elapsed_hours_through_a_dst_change() {
    let text = with_people(
        &["ann", "ben"],
        r#"
[schedules.ny]
name = "NY"
time_zone = "America/New_York"
[[schedules.ny.layers]]
name = "halves"
participants = ["ann", "ben"]
shift = "12h"
handoff = "09:00"
start = "2026-03-07"
"#,
    );
    let r = roster(&text);
    let shifts =
        schedule(&r, "ny").layer_shifts(0, ts("2026-03-07T14:00:00Z"), ts("2026-03-09T02:00:00Z"));
    let starts: Vec<String> = shifts.iter().map(|s| s.start.to_string()).collect();
    assert_eq!(
        starts,
        [
            "2026-03-07T14:00:00Z",
            "2026-03-08T02:00:00Z",
            "2026-03-08T14:00:00Z", // 10:00 EDT: twelve hours, not "09:00 again"
        ]
    );
}

const BUSINESS: &str = r#"
[schedules.biz]
name = "Business hours"
time_zone = "Europe/Berlin"
[[schedules.biz.layers]]
name = "backstop"
participants = ["night"]
shift = "1w"
start = "2026-01-05"
[[schedules.biz.layers]]
name = "office"
participants = ["day"]
shift = "1w"
start = "2026-01-05"
restrictions = [{ days = ["mon", "tue", "wed", "thu", "fri"], from = "09:00", to = "17:00" }]
"#;

#[test]
fn restrictions_leave_nights_and_weekends_to_the_layer_below() {
    let r = roster(&with_people(&["day", "night"], BUSINESS));
    let s = schedule(&r, "biz");
    // Monday 2026-03-02; Berlin is UTC+1 until 29 March.
    let monday = s.shifts(ts("2026-03-02T00:00:00Z"), ts("2026-03-03T00:00:00Z"));
    let got: Vec<(String, String, String)> = monday
        .iter()
        .map(|s| (s.person.clone(), s.start.to_string(), s.end.to_string()))
        .collect();
    let want = [
        ("night", "2026-03-02T00:00:00Z", "2026-03-02T08:00:00Z"),
        ("day", "2026-03-02T08:00:00Z", "2026-03-02T16:00:00Z"),
        ("night", "2026-03-02T16:00:00Z", "2026-03-03T00:00:00Z"),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        on_call(s, "2026-03-07T12:00:00Z").as_deref(),
        Some("night"),
        "Saturday"
    );
    // After 29 March Berlin is UTC+2: office hours move an hour earlier in UTC.
    assert_eq!(on_call(s, "2026-03-30T07:30:00Z").as_deref(), Some("day"));
    assert_eq!(on_call(s, "2026-03-30T15:30:00Z").as_deref(), Some("night"));
}

#[test]
fn a_restricted_layer_alone_leaves_gaps_and_overnight_windows_run_past_midnight() {
    let text = with_people(
        &["day", "owl"],
        r#"
[schedules.office]
name = "Office"
time_zone = "UTC"
[[schedules.office.layers]]
name = "office"
participants = ["day"]
shift = "1d"
start = "2026-01-05"
restrictions = [{ days = ["mon", "tue", "wed", "thu", "fri"], from = "09:00", to = "17:00" }]

[schedules.nights]
name = "Nights"
time_zone = "UTC"
[[schedules.nights.layers]]
name = "nights"
participants = ["owl"]
shift = "1w"
start = "2026-01-05"
restrictions = [{ days = ["fri"], from = "22:00", to = "06:00" }]
"#,
    );
    let r = roster(&text);
    let office = schedule(&r, "office");
    assert_eq!(
        office.gaps(ts("2026-03-06T00:00:00Z"), ts("2026-03-09T12:00:00Z")),
        [
            (ts("2026-03-06T00:00:00Z"), ts("2026-03-06T09:00:00Z")),
            (ts("2026-03-06T17:00:00Z"), ts("2026-03-09T09:00:00Z")),
        ]
    );
    assert_eq!(on_call(office, "2026-03-07T12:00:00Z"), None);
    let nights = schedule(&r, "nights");
    assert_eq!(
        on_call(nights, "2026-03-07T03:00:00Z").as_deref(),
        Some("owl"),
        "Saturday 03:00"
    );
    assert_eq!(on_call(nights, "2026-03-07T07:00:00Z"), None);
    let shift = nights.on_call_at(ts("2026-03-06T23:00:00Z")).expect("owl");
    assert_eq!(
        (shift.start, shift.end),
        (ts("2026-03-06T22:00:00Z"), ts("2026-03-07T06:00:00Z"))
    );
}

#[test]
fn overrides_beat_every_layer_and_handoffs_name_who_goes_and_who_comes() {
    let text = with_people(
        &["alice", "bob", "carol", "dave", "erin"],
        &format!(
            "{WEEKLY}{}",
            r#"
[[schedules.sre-primary.overrides]]
person = "dave"
start = "2026-03-02T00:00:00Z"
end = "2026-03-03T00:00:00Z"
[[schedules.sre-primary.overrides]]
person = "erin"
start = "2026-03-02T12:00:00Z"
end = "2026-03-02T13:00:00Z"
"#
        ),
    );
    let r = roster(&text);
    let s = schedule(&r, "sre-primary");
    // Week of 2026-02-23 is week 7 (bob), of 2026-03-02 week 8 (carol).
    assert_eq!(on_call(s, "2026-03-01T12:00:00Z").as_deref(), Some("bob"));
    let dave = s.on_call_at(ts("2026-03-02T06:00:00Z")).expect("dave");
    assert_eq!(
        (
            dave.person.as_str(),
            dave.layer.clone(),
            dave.start,
            dave.end
        ),
        (
            "dave",
            None,
            ts("2026-03-02T00:00:00Z"),
            ts("2026-03-02T12:00:00Z")
        )
    );
    assert_eq!(
        on_call(s, "2026-03-02T12:30:00Z").as_deref(),
        Some("erin"),
        "the later override wins"
    );
    assert_eq!(on_call(s, "2026-03-03T00:00:00Z").as_deref(), Some("carol"));

    let h = |at: &str, out: &str, inc: &str| Handoff {
        at: ts(at),
        outgoing: Some(out.to_owned()),
        incoming: Some(inc.to_owned()),
    };
    assert_eq!(
        s.handoffs(ts("2026-03-01T00:00:00Z"), ts("2026-03-03T00:00:00Z")),
        [
            h("2026-03-02T00:00:00Z", "bob", "dave"),
            h("2026-03-02T12:00:00Z", "dave", "erin"),
            h("2026-03-02T13:00:00Z", "erin", "dave"),
            h("2026-03-03T00:00:00Z", "dave", "carol"), // at `to`: included
        ]
    );
    assert_eq!(
        s.handoffs(ts("2026-03-02T00:00:00Z"), ts("2026-03-02T11:00:00Z")),
        [],
        "a change exactly at `from` is not in (from, to]"
    );
    // Handoffs to and from nobody, at the layer's start.
    assert_eq!(
        s.handoffs(ts("2026-01-01T00:00:00Z"), ts("2026-01-06T00:00:00Z")),
        [Handoff {
            at: ts("2026-01-05T00:00:00Z"),
            outgoing: None,
            incoming: Some("alice".to_owned()),
        }]
    );
}

#[test]
fn adjacent_segments_of_one_person_merge_into_one() {
    let text = with_people(
        &["alice", "bob", "carol"],
        &format!(
            "{WEEKLY}{}",
            r#"
[[schedules.sre-primary.overrides]]
person = "alice"
start = "2026-01-12T00:00:00Z"
end = "2026-01-13T00:00:00Z"
"#
        ),
    );
    let r = roster(&text);
    let s = schedule(&r, "sre-primary");
    let shifts = s.shifts(ts("2026-01-05T00:00:00Z"), ts("2026-01-26T00:00:00Z"));
    let got: Vec<(&str, String, String)> = shifts
        .iter()
        .map(|s| (s.person.as_str(), s.start.to_string(), s.end.to_string()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "alice",
                "2026-01-05T00:00:00Z".into(),
                "2026-01-13T00:00:00Z".into()
            ),
            (
                "bob",
                "2026-01-13T00:00:00Z".into(),
                "2026-01-19T00:00:00Z".into()
            ),
            (
                "carol",
                "2026-01-19T00:00:00Z".into(),
                "2026-01-26T00:00:00Z".into()
            ),
        ]
    );
    let alice = s.on_call_at(ts("2026-01-12T06:00:00Z")).expect("alice");
    assert_eq!(
        (alice.start, alice.end),
        (ts("2026-01-05T00:00:00Z"), ts("2026-01-13T00:00:00Z"))
    );
}

const TEAMS: &str = r#"
[teams.sre]
name = "SRE"
members = ["alice", "bob"]
schedule = "sre-primary"
[teams.dba]
name = "Databases"
members = ["carol", "alice", "carol"]
"#;

#[test]
fn targets_resolve_to_people_with_the_path_taken() {
    let r = roster(&with_people(
        &["alice", "bob", "carol"],
        &format!("{WEEKLY}{TEAMS}"),
    ));
    let at = ts("2026-01-13T00:00:00Z"); // bob's week
    let resolve = |t: &str| r.resolve(&t.parse::<Target>().expect("target"), at);
    let one = |person: &str, via: &str| {
        vec![Resolved {
            person: person.to_owned(),
            via: via.to_owned(),
        }]
    };
    assert_eq!(
        resolve("schedule:sre-primary"),
        one("bob", "schedule:sre-primary")
    );
    assert_eq!(resolve("person:carol"), one("carol", "person:carol"));
    assert_eq!(
        resolve("team:sre"),
        one("bob", "team:sre/schedule:sre-primary")
    );
    let dba: Vec<(String, String)> = resolve("team:dba")
        .into_iter()
        .map(|r| (r.person, r.via))
        .collect();
    assert_eq!(
        dba,
        [
            ("carol".to_owned(), "team:dba".to_owned()),
            ("alice".to_owned(), "team:dba".to_owned()),
        ],
        "all members, once each"
    );
    for nobody in [
        "schedule:nope",
        "person:nope",
        "team:nope",
        "channel:#incidents",
    ] {
        assert_eq!(resolve(nobody), [], "{nobody}");
    }
    // Before the rotation starts the schedule (and the team through it) has nobody.
    let early = ts("2025-12-01T00:00:00Z");
    assert_eq!(r.resolve(&Target::Team("sre".into()), early), []);
}

#[test]
fn check_finds_each_problem_where_it_is() {
    let text = r#"
[people.alice]
name = "Alice"
time_zone = "Mars/Olympus"
contacts = [
  { kind = "email", address = "alice.example.com" },
  { kind = "slack", address = "hooks.slack.com/services/x" },
  { kind = "email", address = "alice@example.com", secret = "s" },
]
rules = [{ kind = "webhook", after = "0m" }, { kind = "email", after = "5m" }, { kind = "email", after = "5m" }]
[people.Bob]
name = "Bob"
[teams.sre]
name = "SRE"
members = ["alice", "zed"]
schedule = "missing"
[schedules.s]
name = "S"
time_zone = "+02:00"
[[schedules.s.layers]]
name = "a"
participants = ["alice", "ghost"]
shift = "0d"
start = "2026-01-05"
time_zone = "Nowhere/City"
[[schedules.s.layers]]
name = "b"
participants = []
shift = "1w"
start = "2026-01-05"
[[schedules.s.overrides]]
person = "casper"
start = "2026-03-02T00:00:00Z"
end = "2026-03-01T00:00:00Z"
"#;
    let r = Roster::from_toml_str(text).unwrap_or_else(|e| panic!("{e}"));
    let problems = r.check();
    let expect = [
        ("people.alice.time_zone", "unknown time zone `Mars/Olympus`"),
        ("people.alice.contacts[0].address", "not an e-mail address"),
        ("people.alice.contacts[1].address", "not an http(s) URL"),
        ("people.alice.contacts[2].secret", "only used by webhooks"),
        ("people.alice.rules[0].kind", "no webhook contact"),
        ("people.alice.rules[2]", "listed twice"),
        ("people.Bob", "not a valid id"),
        ("people.Bob.contacts", "no contacts"),
        ("teams.sre.members[1]", "unknown person `zed`"),
        ("teams.sre.schedule", "unknown schedule `missing`"),
        ("schedules.s.time_zone", "unknown time zone `+02:00`"),
        (
            "schedules.s.layers[0].participants[1]",
            "unknown person `ghost`",
        ),
        ("schedules.s.layers[0].shift", "zero"),
        ("schedules.s.layers[0].time_zone", "Nowhere/City"),
        ("schedules.s.layers[1].participants", "no participants"),
        ("schedules.s.overrides[0].person", "unknown person `casper`"),
        ("schedules.s.overrides[0].end", "before it starts"),
    ];
    for (at, message) in expect {
        assert!(
            problems
                .iter()
                .any(|p| p.at == at && p.message.contains(message) && !p.hint.is_empty()),
            "expected `{at}: …{message}…` in {problems:#?}"
        );
    }
    assert_eq!(problems.len(), expect.len(), "nothing else: {problems:#?}");
}

#[test]
fn syntax_errors_say_where_and_what() {
    let bad_shift = r#"
[schedules.s]
name = "S"
time_zone = "UTC"
[[schedules.s.layers]]
name = "a"
participants = ["x"]
shift = "3 fortnights"
start = "2026-01-05"
"#;
    let Err(RosterError::Syntax { location, message }) = Roster::from_toml_str(bad_shift) else {
        panic!("a bad shift length must not parse");
    };
    assert_eq!(location, "line 8, column 9");
    assert!(message.contains("not a shift length"), "{message}");

    let typo = "[people.a]\nname = \"A\"\ncontact = []\n";
    let err = Roster::from_toml_str(typo).expect_err("unknown field");
    assert!(err.to_string().contains("contact"), "{err}");
    assert!(Roster::from_toml_str(
        "[people.a]\nname = \"A\"\n[[schedules.s.layers]]\nhandoff = \"9am\""
    )
    .is_err());
}

#[test]
fn shift_lengths_read_and_print_as_written() {
    for (text, len, shown) in [
        ("12h", ShiftLength::Hours(12), "12h"),
        ("1d", ShiftLength::Days(1), "1d"),
        ("daily", ShiftLength::Days(1), "1d"),
        ("weekly", ShiftLength::Weeks(1), "1w"),
        ("2W", ShiftLength::Weeks(2), "2w"),
    ] {
        assert_eq!(text.parse::<ShiftLength>(), Ok(len), "{text}");
        assert_eq!(len.to_string(), shown);
    }
    for bad in ["", "w", "1", "1.5d", "-1d", "1m", "fortnightly"] {
        assert!(bad.parse::<ShiftLength>().is_err(), "{bad:?}");
    }
}

#[test]
fn notification_rules_default_to_every_contact_at_once() {
    let text = r#"
[people.a]
name = "A"
contacts = [{ kind = "email", address = "a@example.com" }, { kind = "slack", address = "https://hooks.slack.com/x" }, { kind = "email", address = "a2@example.com" }]
[people.b]
name = "B"
contacts = [{ kind = "slack", address = "https://hooks.slack.com/y" }, { kind = "email", address = "b@example.com" }]
rules = [{ kind = "slack", after = "0m" }, { kind = "email", after = "5m" }]
"#;
    let r = roster(text);
    let rules = |id: &str| -> Vec<(ContactKind, SignedDuration)> {
        r.people[id]
            .effective_rules()
            .iter()
            .map(|rule| (rule.kind, rule.after))
            .collect()
    };
    assert_eq!(
        rules("a"),
        [
            (ContactKind::Email, SignedDuration::ZERO),
            (ContactKind::Slack, SignedDuration::ZERO)
        ]
    );
    assert_eq!(
        rules("b"),
        [
            (ContactKind::Slack, SignedDuration::ZERO),
            (ContactKind::Email, SignedDuration::from_mins(5))
        ]
    );
    assert_eq!(r.people["a"].contacts_of(ContactKind::Email).count(), 2);
}

#[test]
fn a_roster_survives_json_and_back_unchanged() {
    let text = with_people(
        &["alice", "bob", "carol", "day", "night"],
        &format!("{WEEKLY}{TEAMS}{BUSINESS}"),
    )
    .replace(
        "[people.alice]\nname = \"alice\"\ncontacts = [{ kind = \"email\", address = \"alice@example.com\" }]",
        "[people.alice]\nname = \"alice\"\ntime_zone = \"Europe/Berlin\"\ncontacts = [{ kind = \"webhook\", address = \"https://x.example.com/h\", secret = \"k\" }]\nrules = [{ kind = \"webhook\", after = \"1h 30m\" }]",
    );
    let r = roster(&text);
    assert_eq!(
        r.people["alice"].rules[0].after,
        SignedDuration::from_mins(90)
    );
    let json = serde_json::to_string(&r).expect("serialise");
    let back: Roster = serde_json::from_str(&json).expect("deserialise");
    assert_eq!(back, r);
    // Each entry alone, as the store keeps them.
    for s in r.schedules.values() {
        let one: Schedule =
            serde_json::from_str(&serde_json::to_string(s).expect("json")).expect("back");
        assert_eq!(&one, s);
    }
    assert!(json.contains("\"after\":\"1h 30m\""), "{json}");
    assert!(json.contains("\"from\":\"09:00\""), "{json}");
    // A secret never reaches a debug log.
    assert!(!format!("{:?}", r.people["alice"]).contains("\"k\""));
}

const POLICY: &str = r#"
name = "coverage"
[severities.SEV1]
name = "Critical"
rank = 1
page = ["schedule:office", "channel:#incidents", "person:ghost"]
[severities.SEV1.clocks]
acknowledge = "5m"
[[escalation]]
name = "On-call SRE"
targets = ["team:sre", "team:nobody-here"]
triggers = [{ when = "manual" }]
"#;

#[test]
fn coverage_gaps_find_when_a_business_hours_schedule_the_policy_pages_has_nobody() {
    let text = with_people(
        &["day"],
        r#"
[teams.sre]
name = "SRE"
members = ["day"]
schedule = "office"
[schedules.office]
name = "Office"
time_zone = "UTC"
[[schedules.office.layers]]
name = "office"
participants = ["day"]
shift = "1w"
start = "2026-01-05"
restrictions = [{ days = ["mon", "tue", "wed", "thu", "fri"], from = "09:00", to = "17:00" }]
"#,
    );
    let r = roster(&text);
    let policy = Policy::from_toml(POLICY).unwrap_or_else(|p| panic!("{p:#?}"));
    let gaps = coverage_gaps(
        &r,
        &policy,
        ts("2026-03-06T00:00:00Z"),
        ts("2026-03-10T00:00:00Z"),
    );
    let got: Vec<(&str, String, String)> = gaps
        .iter()
        .map(|g| (g.schedule.as_str(), g.start.to_string(), g.end.to_string()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "office",
                "2026-03-06T00:00:00Z".into(),
                "2026-03-06T09:00:00Z".into()
            ),
            (
                "office",
                "2026-03-06T17:00:00Z".into(),
                "2026-03-09T09:00:00Z".into()
            ),
            (
                "office",
                "2026-03-09T17:00:00Z".into(),
                "2026-03-10T00:00:00Z".into()
            ),
        ]
    );
    assert_eq!(
        gaps[0].used_by,
        "severities.SEV1.page; escalation level 1 (On-call SRE) via team:sre"
    );
    let unknown: Vec<(String, String)> = unknown_targets(&r, &policy)
        .into_iter()
        .map(|u| (u.target.to_string(), u.used_by))
        .collect();
    assert_eq!(
        unknown,
        [
            // A channel the roster gives no destination reaches nobody either.
            (
                "channel:#incidents".to_owned(),
                "severities.SEV1.page".to_owned()
            ),
            ("person:ghost".to_owned(), "severities.SEV1.page".to_owned()),
            (
                "team:nobody-here".to_owned(),
                "escalation level 1 (On-call SRE)".to_owned()
            ),
        ]
    );
}

#[test]
fn ical_has_one_stable_event_per_shift_in_utc_with_crlf_folding_and_escaping() {
    let r = roster(&with_people(&["alice", "bob", "carol"], WEEKLY));
    let s = schedule(&r, "sre-primary");
    let shifts = s.shifts(ts("2026-01-05T00:00:00Z"), ts("2026-01-19T00:00:00Z"));
    let title =
        "SRE; primary, on call \\ a very long calendar title that needs folding past 75 octets";
    let cal = schedule_calendar(s, &shifts, ts("2026-01-01T10:00:00Z"), title);
    assert!(
        cal.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"),
        "{cal}"
    );
    assert!(cal.ends_with("END:VCALENDAR\r\n"));
    assert!(
        !cal.replace("\r\n", "").contains('\n'),
        "bare LF in {cal:?}"
    );
    for line in cal.split("\r\n") {
        assert!(line.len() <= 75, "{line:?} is longer than 75 octets");
    }
    let unfolded = cal.replace("\r\n ", "");
    assert!(unfolded.contains(
        "X-WR-CALNAME:SRE\\; primary\\, on call \\\\ a very long calendar title that needs folding past 75 octets\r\n"
    ), "{unfolded}");
    assert_eq!(unfolded.matches("BEGIN:VEVENT").count(), 2);
    assert!(unfolded.contains("DTSTAMP:20260101T100000Z\r\n"));
    assert!(unfolded.contains("DTSTART:20260105T000000Z\r\nDTEND:20260112T000000Z\r\n"));
    assert!(unfolded.contains("SUMMARY:On call: SRE primary (alice)\r\n"));
    assert!(unfolded.contains("SUMMARY:On call: SRE primary (bob)\r\n"));

    let uids = |cal: &str| -> Vec<String> {
        cal.replace("\r\n ", "")
            .lines()
            .filter_map(|l| l.strip_prefix("UID:").map(str::to_owned))
            .collect()
    };
    let again = schedule_calendar(s, &shifts, ts("2026-01-02T10:00:00Z"), title);
    assert_eq!(uids(&cal), uids(&again), "UIDs survive regeneration");
    assert_ne!(uids(&cal)[0], uids(&cal)[1]);

    let alice = &r.people["alice"];
    let mine = person_calendar(
        alice,
        &[(s, shifts.clone())],
        ts("2026-01-01T10:00:00Z"),
        "Mine",
    );
    assert_eq!(uids(&mine), uids(&cal)[..1], "only alice's shift, same UID");
}

#[test]
fn the_agentic_flow_roster_is_clean_and_its_primary_and_secondary_differ() {
    let r = roster(include_str!("../../../examples/oncall/agentic-flow.toml"));
    let primary = schedule(&r, "sre-primary");
    let secondary = schedule(&r, "sre-secondary");
    let mut at = ts("2026-01-05T00:00:00Z");
    for _ in 0..40 {
        let p = primary.on_call_at(at).map(|s| s.person);
        let s = secondary.on_call_at(at).map(|s| s.person);
        assert!(p.is_some() && s.is_some(), "both staffed at {at}");
        assert_ne!(p, s, "primary and secondary are one person at {at}");
        at += SignedDuration::from_hours(24 * 5 + 7);
    }
    let week = primary
        .on_call_at(ts("2026-01-07T12:00:00Z"))
        .expect("on call");
    assert_eq!(
        (week.start, week.end),
        (ts("2026-01-05T00:00:00Z"), ts("2026-01-12T00:00:00Z")),
        "weeks start Monday 00:00 UTC"
    );
    for (team, component) in [
        ("team-performance", "agent-booster"),
        ("team-ml", "reasoningbank"),
        ("team-infrastructure", "multi-model-router"),
        ("team-networking", "quic-transport"),
        ("team-data", "agentdb"),
        ("team-orchestration", "swarm-coordination"),
    ] {
        let owner = format!("{component}-owner");
        assert_eq!(r.teams[team].schedule.as_deref(), Some(owner.as_str()));
        let layer = &schedule(&r, &owner).layers[0];
        assert_eq!(layer.shift, ShiftLength::Weeks(2), "{owner}");
        let who = r.resolve(&Target::Team(team.to_owned()), ts("2026-02-01T00:00:00Z"));
        assert_eq!(who.len(), 1, "{team} resolves to its owner on call");
        assert_eq!(who[0].via, format!("team:{team}/schedule:{owner}"));
    }
}

/// Regression: every "Open" link in a page led to the JSON API, a 401 in a
/// browser. The incident link is the web UI's incident page; the acknowledge link is the
/// signed `/ack/…` page, which needs no sign-in, for that person and incident only.
#[test]
fn page_links_open_the_ui_incident_page_and_a_signed_acknowledge_link() {
    use fireline_core::oncall::ack::verify_ack_token;
    use fireline_core::oncall::notify::{address, Links};
    use fireline_core::{EventData, Incident, IncidentId, NewEvent, RecordedEvent};

    let r = roster(&with_people(&["alice", "bob", "carol"], WEEKLY));
    let at = ts("2026-01-07T12:00:00Z");
    let declared = RecordedEvent {
        id: 1,
        seq: 1,
        at,
        actor: "alertmanager".into(),
        data: EventData::Declared {
            title: "Checkout returns 502".into(),
            severity: "SEV1".into(),
            service: "checkout".into(),
            summary: None,
            category: None,
            flags: vec![],
            policy: None,
        },
    };
    let incident = Incident::fold(IncidentId(12), &[declared]).expect("folds");
    let mut events = vec![NewEvent {
        at,
        actor: "system".into(),
        data: EventData::Paged {
            key: "c0:page:SEV1".into(),
            severity: "SEV1".into(),
            targets: vec!["schedule:sre-primary".into()],
            recipients: vec![],
            unreached: vec![],
        },
    }];
    let secret = b"0123456789abcdef0123456789abcdef".to_vec();
    let links = Links {
        base_url: "https://fireline.example".into(),
        ack_secret: secret.clone(),
        ack_valid: SignedDuration::from_hours(24),
    };
    let out = address(&r, &incident, &mut events, &links, None, |_| None);
    assert_eq!(out.len(), 1, "alice is on call that week: {out:#?}");
    let item = &out[0].notice.items[0];
    assert_eq!(
        item.incident_url.as_deref(),
        Some("https://fireline.example/ui/incidents/INC-12"),
        "the web UI's incident page, not the API"
    );
    let token = item
        .ack_url
        .as_deref()
        .and_then(|u| u.strip_prefix("https://fireline.example/ack/"))
        .unwrap_or_else(|| panic!("a signed acknowledge link: {item:#?}"));
    let link = verify_ack_token(&secret, token, at).expect("a genuine link");
    assert_eq!(
        (link.incident, link.person.as_str()),
        (IncidentId(12), "alice")
    );
    for url in [&item.incident_url, &item.ack_url] {
        assert!(
            !url.as_deref().unwrap_or_default().contains("/api/"),
            "no message links to the API: {url:?}"
        );
    }
}

#[test]
fn subscribed_devices_become_one_push_contact_that_default_and_explicit_rules_reach() {
    let r = roster(&with_people(
        &["alice", "bob"],
        "[[people.bob.rules]]\nkind = \"email\"\nafter = \"0m\"\n\
         [[people.bob.rules]]\nkind = \"push\"\nafter = \"5m\"\n",
    ));
    let devices: std::collections::BTreeSet<String> = ["alice", "bob", "ghost"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    let paged = r
        .clone()
        .with_push_devices(&devices)
        .with_push_devices(&devices);
    let alice = &paged.people["alice"];
    assert_eq!(
        alice
            .contacts_of(ContactKind::Push)
            .map(|c| c.address.as_str())
            .collect::<Vec<_>>(),
        [fireline_core::oncall::PUSH_DEVICES],
        "one push contact however often applied"
    );
    // Without rules, every contact at once: e-mail and push.
    let kinds: Vec<(ContactKind, SignedDuration)> = alice
        .effective_rules()
        .iter()
        .map(|rule| (rule.kind, rule.after))
        .collect();
    assert_eq!(
        kinds,
        [
            (ContactKind::Email, SignedDuration::ZERO),
            (ContactKind::Push, SignedDuration::ZERO)
        ]
    );
    // Bob's own rules say push after five minutes; now they have something to reach.
    assert_eq!(
        paged.people["bob"].contacts_of(ContactKind::Push).count(),
        1
    );
    assert!(
        !paged.people.contains_key("ghost"),
        "devices of no roster person add nobody"
    );
    // Without devices nothing changes.
    assert_eq!(r.clone().with_push_devices(&Default::default()), r);
}

#[test]
fn a_persons_own_bundling_window_reads_as_written_and_is_bounded() {
    let ok = roster(&with_people(&["alice"], "")).people["alice"].bundle;
    assert_eq!(ok, None, "unset: the server's default");
    let text = "[people.alice]\nname = \"A\"\nbundle = \"5m\"\n\
                contacts = [{ kind = \"email\", address = \"a@example.com\" }]\n";
    let r = Roster::from_toml_str(text).expect("reads");
    assert_eq!(r.people["alice"].bundle, Some(SignedDuration::from_mins(5)));
    assert!(r.check().is_empty());
    let long = Roster::from_toml_str(&text.replace("5m", "2h")).expect("reads");
    let problems = long.check();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].at, "people.alice.bundle");
    let bad = Roster::from_toml_str(&text.replace("5m", "soon"));
    assert!(bad.is_err_and(|e| e.to_string().contains("not a duration")));
}

#[test]
fn the_chat_docs_roster_example_reads_and_checks_clean() {
    let doc = include_str!("../../../docs/chat.md");
    let start = doc.find("```toml\n").expect("a TOML example") + "```toml\n".len();
    let end = start + doc[start..].find("```").expect("the example ends");
    let r = roster(&doc[start..end]);
    assert!(r.check().is_empty(), "{:#?}", r.check());
    assert_eq!(
        r.channels.keys().map(String::as_str).collect::<Vec<_>>(),
        ["exec", "incidents", "sre-room"]
    );
    assert_eq!(
        r.channel("#exec-briefing").map(|c| c.id.as_str()),
        Some("exec")
    );
}
