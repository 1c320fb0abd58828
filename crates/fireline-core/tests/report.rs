//! The response report's figures on hand-made incidents under the built-in policy
//! (SEV1: acknowledge 5m, resolve 4h; SEV3: acknowledge 1h, resolve 3d; SEV1 and SEV2 are
//! major).

use fireline_core::policy::Policy;
use fireline_core::report::{build, human_duration, IncidentFacts};
use fireline_core::ClockKind;
use fireline_core::IncidentId;
use jiff::{SignedDuration, Timestamp};

fn t(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn facts(n: u64, severity: &str, service: &str, declared: &str) -> IncidentFacts {
    IncidentFacts {
        id: IncidentId(n),
        severity: severity.into(),
        service: service.into(),
        declared_at: t(declared),
        acknowledged_at: None,
        resolved_at: None,
        first_update_at: None,
        updates: 0,
        updates_missed: 0,
        escalations: 0,
        breaches: vec![],
        postmortem_late: 0,
    }
}

fn after(at: &str, mins: i64) -> Option<Timestamp> {
    Some(t(at) + SignedDuration::from_mins(mins))
}

#[test]
fn figures_per_group_week_and_acknowledge_target() {
    let d1 = "2026-03-02T10:00:00Z"; // a Monday
    let d2 = "2026-03-04T10:00:00Z";
    let d3 = "2026-03-10T10:00:00Z"; // the next week
    let mut a = facts(1, "SEV1", "checkout", d1);
    a.acknowledged_at = after(d1, 2);
    a.resolved_at = after(d1, 60);
    a.first_update_at = after(d1, 10);
    a.updates = 3;
    a.updates_missed = 1;
    a.escalations = 1;
    let mut b = facts(2, "SEV1", "checkout", d2);
    b.acknowledged_at = after(d2, 12);
    b.resolved_at = after(d2, 300);
    b.breaches = vec![ClockKind::Acknowledge, ClockKind::Resolve];
    b.escalations = 2;
    b.postmortem_late = 1;
    let mut c = facts(3, "SEV3", "search", d3);
    c.acknowledged_at = after(d3, 20);
    let outside = facts(4, "SEV1", "checkout", "2026-04-20T10:00:00Z");

    let r = build(
        &Policy::builtin(),
        &[a, b, c, outside],
        t("2026-03-01T00:00:00Z"),
        t("2026-04-01T00:00:00Z"),
    );
    let all = &r.overall;
    assert_eq!(
        (all.count, all.open),
        (3, 1),
        "the April incident is outside"
    );
    assert_eq!(all.mtta_seconds, Some((2.0 + 12.0 + 20.0) * 60.0 / 3.0));
    assert_eq!(all.mttr_seconds, Some((60.0 + 300.0) * 60.0 / 2.0));
    assert_eq!(all.time_to_first_update_seconds, Some(600.0));
    assert_eq!(all.escalations_per_incident, Some(1.0));
    assert_eq!(
        all.cadence_compliance,
        Some(0.75),
        "3 updates on time, 1 missed"
    );
    assert_eq!(
        all.postmortem_on_time,
        Some(0.5),
        "two resolved SEV1s, one late"
    );

    let sev1 = &r.by_severity["SEV1"];
    let ack = sev1.clock_compliance["acknowledge"];
    assert_eq!((ack.met, ack.total, ack.share), (1, 2, Some(0.5)));
    let resolve = sev1.clock_compliance["resolve"];
    assert_eq!((resolve.met, resolve.total), (1, 2));
    // The open SEV3 has breached nothing yet: its clocks are not counted.
    assert!(r.by_severity["SEV3"].clock_compliance.is_empty());
    assert_eq!(r.by_service["checkout"].count, 2);
    assert_eq!(r.by_service["search"].count, 1);

    let weeks: Vec<(String, u64)> = r
        .weeks
        .iter()
        .map(|w| (w.start.to_string(), w.count))
        .collect();
    assert_eq!(
        weeks,
        [
            ("2026-03-02T00:00:00Z".to_owned(), 2),
            ("2026-03-09T00:00:00Z".to_owned(), 1)
        ]
    );
    // Against each incident's own target: SEV1's 5m makes 2m "≤ 50%" and 12m (2.4×)
    // "> 2×"; SEV3's 1h makes 20m "≤ 50%".
    let buckets: Vec<(&str, u64)> = r
        .ack_distribution
        .iter()
        .map(|b| (b.label.as_str(), b.count))
        .filter(|(_, n)| *n > 0)
        .collect();
    assert_eq!(buckets, [("≤ 50% of target", 2), ("> 2× target", 1)]);
}

#[test]
fn an_empty_period_has_no_means() {
    let r = build(
        &Policy::builtin(),
        &[],
        t("2026-03-01T00:00:00Z"),
        t("2026-04-01T00:00:00Z"),
    );
    assert_eq!(r.overall.count, 0);
    assert_eq!(r.overall.mtta_seconds, None);
    assert_eq!(r.overall.escalations_per_incident, None);
    assert!(r.weeks.is_empty());
}

#[test]
fn durations_read_as_people_say_them() {
    assert_eq!(human_duration(None), "–");
    assert_eq!(human_duration(Some(45.0)), "45s");
    assert_eq!(human_duration(Some(250.0)), "4m 10s");
    assert_eq!(human_duration(Some(7500.0)), "2h 5m");
    assert_eq!(human_duration(Some(273_600.0)), "3d 4h");
}

#[test]
fn teams_group_the_services_they_own() {
    let d = "2026-03-02T10:00:00Z";
    let teams = std::collections::BTreeMap::from([
        ("checkout".to_owned(), vec!["payments-team".to_owned()]),
        (
            "search".to_owned(),
            vec!["discovery".to_owned(), "payments-team".to_owned()],
        ),
    ]);
    let r = fireline_core::report::build_with_teams(
        &Policy::builtin(),
        &[
            facts(1, "SEV1", "checkout", d),
            facts(2, "SEV2", "search", d),
            facts(3, "SEV3", "unowned", d),
        ],
        t("2026-03-01T00:00:00Z"),
        t("2026-04-01T00:00:00Z"),
        &teams,
    );
    assert_eq!(r.by_team["payments-team"].count, 2);
    assert_eq!(r.by_team["discovery"].count, 1);
    assert_eq!(r.by_team.len(), 2, "an unowned service belongs to no team");
}

#[test]
fn a_group_reads_as_table_cells() {
    let d = "2026-03-02T10:00:00Z";
    let mut a = facts(1, "SEV1", "checkout", d);
    a.acknowledged_at = after(d, 2);
    a.resolved_at = after(d, 60);
    a.updates = 3;
    a.updates_missed = 1;
    a.escalations = 1;
    let r = build(
        &Policy::builtin(),
        &[a],
        t("2026-03-01T00:00:00Z"),
        t("2026-04-01T00:00:00Z"),
    );
    assert_eq!(
        fireline_core::report::cells(&r.overall),
        ["1", "0", "2m", "1h", "–", "100%", "100%", "75%", "1.00", "100%"]
    );
}
