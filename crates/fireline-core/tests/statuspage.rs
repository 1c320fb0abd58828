//! Status page arithmetic: component status from incidents, overrides, uptime per day.

use fireline_core::statuspage::{
    component_status, effective_status, uptime_history, ComponentStatus as C, IncidentSpan,
};
use fireline_core::Status;
use jiff::{SignedDuration, Timestamp};

fn t(hours: i64, minutes: i64) -> Timestamp {
    // 2026-03-02T00:00:00Z
    Timestamp::from_second(1_772_409_600).expect("valid")
        + SignedDuration::from_mins(hours * 60 + minutes)
}

fn span(
    service: &str,
    rank: u32,
    status: Status,
    start: Timestamp,
    end: Option<Timestamp>,
) -> IncidentSpan {
    IncidentSpan {
        service: service.into(),
        rank,
        status,
        maintenance: false,
        start,
        end,
    }
}

#[test]
fn status_is_the_worst_open_incident() {
    let open = |rank, status| span("api", rank, status, t(1, 0), None);
    assert_eq!(component_status("api", &[]), C::Operational);
    assert_eq!(
        component_status("api", &[open(1, Status::Investigating)]),
        C::MajorOutage
    );
    assert_eq!(
        component_status("api", &[open(2, Status::Identified)]),
        C::PartialOutage
    );
    assert_eq!(
        component_status("api", &[open(3, Status::Investigating)]),
        C::Degraded
    );
    // A fix is out: at most degraded.
    assert_eq!(
        component_status("api", &[open(1, Status::Monitoring)]),
        C::Degraded
    );
    assert_eq!(
        component_status(
            "api",
            &[
                open(3, Status::Investigating),
                open(2, Status::Investigating)
            ]
        ),
        C::PartialOutage
    );
    // Resolved incidents and other services do not count.
    let resolved = span("api", 1, Status::Resolved, t(1, 0), Some(t(2, 0)));
    assert_eq!(component_status("api", &[resolved]), C::Operational);
    assert_eq!(
        component_status("web", &[open(1, Status::Investigating)]),
        C::Operational
    );
    let mut maint = open(1, Status::Investigating);
    maint.maintenance = true;
    assert_eq!(component_status("api", &[maint]), C::Maintenance);
}

#[test]
fn an_override_holds_until_it_expires() {
    let until = Some(t(2, 0));
    assert_eq!(
        effective_status(C::Operational, Some((C::Maintenance, until)), t(1, 0)),
        C::Maintenance
    );
    assert_eq!(
        effective_status(C::Operational, Some((C::Maintenance, until)), t(2, 0)),
        C::Operational
    );
    assert_eq!(
        effective_status(C::MajorOutage, Some((C::Degraded, None)), t(90, 0)),
        C::Degraded
    );
    assert_eq!(effective_status(C::Degraded, None, t(1, 0)), C::Degraded);
}

#[test]
fn uptime_counts_overlapping_outages_once_and_splits_at_midnight() {
    let incidents = [
        // 22:00 day 0 → 02:00 day 1: 2h on each day.
        span("api", 1, Status::Resolved, t(22, 0), Some(t(26, 0))),
        // Overlaps the first on day 1 by an hour: 01:00 → 03:00 adds one hour.
        span("api", 2, Status::Resolved, t(25, 0), Some(t(27, 0))),
        // Degraded only: not downtime, but the day's worst is still shown.
        span("api", 3, Status::Resolved, t(30, 0), Some(t(31, 0))),
        span("web", 1, Status::Resolved, t(1, 0), Some(t(23, 0))),
    ];
    // Now: day 2, 12:00 — today has 12 hours elapsed.
    let now = t(60, 0);
    let h = uptime_history("api", &incidents, now, 3);
    assert_eq!(h.len(), 3);
    assert_eq!(h[0].date.to_string(), "2026-03-02");
    assert_eq!(h[0].outage_seconds, 2 * 3600);
    assert!((h[0].uptime - 22.0 / 24.0).abs() < 1e-9);
    assert_eq!(h[0].worst, C::MajorOutage);
    assert_eq!(h[1].outage_seconds, 3 * 3600);
    assert_eq!(h[1].worst, C::MajorOutage);
    assert_eq!(h[2].outage_seconds, 0);
    assert_eq!(h[2].uptime, 1.0);
    assert_eq!(h[2].worst, C::Operational);
    // An open outage runs until now, against the elapsed part of today.
    let open = [span("api", 1, Status::Investigating, t(54, 0), None)];
    let h = uptime_history("api", &open, now, 1);
    assert_eq!(h[0].outage_seconds, 6 * 3600);
    assert!((h[0].uptime - 0.5).abs() < 1e-9);
}
