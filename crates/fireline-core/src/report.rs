//! Response metrics over a period: counts, MTTA, MTTR, time to first update, clock and
//! cadence compliance, escalations and post-mortem timeliness, overall and per severity
//! service and team, with a weekly trend and the spread of time to acknowledge.
//!
//! The store gathers one [`IncidentFacts`] per incident with indexed queries; this module
//! only aggregates, so the figures are tested on plain values.

use crate::policy::Policy;
use crate::ClockKind;
use crate::IncidentId;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the report needs to know of one incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFacts {
    /// Id.
    pub id: IncidentId,
    /// Current severity.
    pub severity: String,
    /// Service.
    pub service: String,
    /// Declared.
    pub declared_at: Timestamp,
    /// First acknowledged, if ever.
    pub acknowledged_at: Option<Timestamp>,
    /// Resolved, if it is.
    pub resolved_at: Option<Timestamp>,
    /// The first update posted on any channel.
    pub first_update_at: Option<Timestamp>,
    /// Updates posted.
    pub updates: u32,
    /// Update reminders fired (an update was due and none came).
    pub updates_missed: u32,
    /// Escalations reached (by policy or by hand).
    pub escalations: u32,
    /// Clocks breached.
    pub breaches: Vec<ClockKind>,
    /// Post-mortem deadlines that passed with the stage not done.
    pub postmortem_late: u32,
}

/// Figures for one group of incidents.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Incidents declared in the period.
    pub count: u64,
    /// Of which still open.
    pub open: u64,
    /// Mean time to acknowledge, seconds (acknowledged incidents).
    pub mtta_seconds: Option<f64>,
    /// Mean time to resolve, seconds (resolved incidents).
    pub mttr_seconds: Option<f64>,
    /// Mean time from declaration to the first update, seconds.
    pub time_to_first_update_seconds: Option<f64>,
    /// Per clock: the share of incidents whose outcome is known that met it.
    pub clock_compliance: BTreeMap<String, Compliance>,
    /// Share of update intervals that had an update in time.
    pub cadence_compliance: Option<f64>,
    /// Escalations per incident.
    pub escalations_per_incident: Option<f64>,
    /// Share of resolved major incidents whose post-mortem met every deadline.
    pub postmortem_on_time: Option<f64>,
}

/// Met against known outcomes for one clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Compliance {
    /// Incidents that met it.
    pub met: u64,
    /// Incidents whose outcome is known (resolved, or already breached).
    pub total: u64,
    /// `met / total`.
    pub share: Option<f64>,
}

/// One week of the trend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Week {
    /// Monday 00:00 UTC.
    pub start: Timestamp,
    /// Incidents declared that week.
    pub count: u64,
    /// Their MTTA, seconds.
    pub mtta_seconds: Option<f64>,
    /// Their MTTR, seconds.
    pub mttr_seconds: Option<f64>,
}

/// How long acknowledgement took, against each incident's own target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AckBucket {
    /// Label (`≤ 25% of target`, …, `> 2× target`, `no target`).
    pub label: String,
    /// Incidents.
    pub count: u64,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Period start (inclusive).
    pub since: Timestamp,
    /// Period end (exclusive).
    pub until: Timestamp,
    /// Everything.
    pub overall: Figures,
    /// Per severity id.
    pub by_severity: BTreeMap<String, Figures>,
    /// Per service.
    pub by_service: BTreeMap<String, Figures>,
    /// Per team, by the services each team owns in the roster.
    pub by_team: BTreeMap<String, Figures>,
    /// Action items open now (not limited to the period), when known.
    pub open_action_items: Option<u64>,
    /// Weekly trend, oldest first.
    pub weeks: Vec<Week>,
    /// Time to acknowledge as a share of target.
    pub ack_distribution: Vec<AckBucket>,
}

#[derive(Default)]
struct Acc {
    count: u64,
    open: u64,
    ack: (f64, u64),
    resolve: (f64, u64),
    first_update: (f64, u64),
    clocks: BTreeMap<ClockKind, (u64, u64)>,
    updates: (u64, u64),
    escalations: u64,
    postmortems: (u64, u64),
}

fn mean((sum, n): (f64, u64)) -> Option<f64> {
    (n > 0).then(|| sum / n as f64)
}

fn secs(d: SignedDuration) -> f64 {
    d.as_secs_f64()
}

impl Acc {
    fn add(&mut self, f: &IncidentFacts, policy: &Policy) {
        self.count += 1;
        if f.resolved_at.is_none() {
            self.open += 1;
        }
        if let Some(a) = f.acknowledged_at {
            self.ack.0 += secs(a.duration_since(f.declared_at));
            self.ack.1 += 1;
        }
        if let Some(r) = f.resolved_at {
            self.resolve.0 += secs(r.duration_since(f.declared_at));
            self.resolve.1 += 1;
        }
        if let Some(u) = f.first_update_at {
            self.first_update.0 += secs(u.duration_since(f.declared_at));
            self.first_update.1 += 1;
        }
        let rule = policy.severity(&f.severity);
        for clock in rule.iter().flat_map(|r| r.clocks.iter()).map(|c| c.clock) {
            let breached = f.breaches.contains(&clock);
            // An open incident's clock is only known once it has been breached.
            if breached || f.resolved_at.is_some() {
                let entry = self.clocks.entry(clock).or_default();
                entry.1 += 1;
                if !breached {
                    entry.0 += 1;
                }
            }
        }
        self.updates.0 += u64::from(f.updates);
        self.updates.1 += u64::from(f.updates) + u64::from(f.updates_missed);
        self.escalations += u64::from(f.escalations);
        if f.resolved_at.is_some() && rule.is_some_and(|r| r.major) {
            self.postmortems.1 += 1;
            if f.postmortem_late == 0 {
                self.postmortems.0 += 1;
            }
        }
    }

    fn figures(&self) -> Figures {
        let share = |(met, total): (u64, u64)| (total > 0).then(|| met as f64 / total as f64);
        Figures {
            count: self.count,
            open: self.open,
            mtta_seconds: mean(self.ack),
            mttr_seconds: mean(self.resolve),
            time_to_first_update_seconds: mean(self.first_update),
            clock_compliance: self
                .clocks
                .iter()
                .map(|(clock, &(met, total))| {
                    (
                        clock.as_str().to_owned(),
                        Compliance {
                            met,
                            total,
                            share: share((met, total)),
                        },
                    )
                })
                .collect(),
            cadence_compliance: share(self.updates),
            escalations_per_incident: (self.count > 0)
                .then(|| self.escalations as f64 / self.count as f64),
            postmortem_on_time: share(self.postmortems),
        }
    }
}

/// The Monday 00:00 UTC starting `t`'s week.
fn week_of(t: Timestamp) -> Timestamp {
    let date = t.to_zoned(jiff::tz::TimeZone::UTC).date();
    let back = i64::from(date.weekday().to_monday_zero_offset());
    let monday = date
        .checked_sub(jiff::Span::new().days(back))
        .unwrap_or(date);
    monday
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp())
        .unwrap_or(t)
}

/// Aggregates `incidents` (those declared in `[since, until)`) under `policy`.
pub fn build(
    policy: &Policy,
    incidents: &[IncidentFacts],
    since: Timestamp,
    until: Timestamp,
) -> Report {
    build_with_teams(policy, incidents, since, until, &BTreeMap::new())
}

/// As [`build`], also grouping by team: `teams` maps a service to the teams that own it.
pub fn build_with_teams(
    policy: &Policy,
    incidents: &[IncidentFacts],
    since: Timestamp,
    until: Timestamp,
    teams: &BTreeMap<String, Vec<String>>,
) -> Report {
    let mut by_team: BTreeMap<String, Acc> = BTreeMap::new();
    let mut overall = Acc::default();
    let mut by_severity: BTreeMap<String, Acc> = BTreeMap::new();
    let mut by_service: BTreeMap<String, Acc> = BTreeMap::new();
    let mut weeks: BTreeMap<Timestamp, Acc> = BTreeMap::new();
    let labels = [
        "≤ 25% of target",
        "≤ 50% of target",
        "≤ 100% of target",
        "≤ 2× target",
        "> 2× target",
        "not acknowledged",
        "no target",
    ];
    let mut buckets = [0u64; 7];
    for f in incidents
        .iter()
        .filter(|f| f.declared_at >= since && f.declared_at < until)
    {
        overall.add(f, policy);
        by_severity
            .entry(f.severity.clone())
            .or_default()
            .add(f, policy);
        by_service
            .entry(f.service.clone())
            .or_default()
            .add(f, policy);
        for team in teams.get(&f.service).into_iter().flatten() {
            by_team.entry(team.clone()).or_default().add(f, policy);
        }
        weeks
            .entry(week_of(f.declared_at))
            .or_default()
            .add(f, policy);
        let target = policy
            .severity(&f.severity)
            .and_then(|r| r.clock(ClockKind::Acknowledge))
            .map(|c| c.within.approx());
        let bucket = match (target, f.acknowledged_at) {
            (None, _) => 6,
            (Some(_), None) => 5,
            (Some(t), Some(a)) => {
                let ratio = secs(a.duration_since(f.declared_at)) / secs(t).max(1.0);
                match ratio {
                    r if r <= 0.25 => 0,
                    r if r <= 0.5 => 1,
                    r if r <= 1.0 => 2,
                    r if r <= 2.0 => 3,
                    _ => 4,
                }
            }
        };
        buckets[bucket] += 1;
    }
    Report {
        since,
        until,
        overall: overall.figures(),
        by_severity: by_severity
            .into_iter()
            .map(|(k, a)| (k, a.figures()))
            .collect(),
        by_service: by_service
            .into_iter()
            .map(|(k, a)| (k, a.figures()))
            .collect(),
        by_team: by_team.into_iter().map(|(k, a)| (k, a.figures())).collect(),
        open_action_items: None,
        weeks: weeks
            .into_iter()
            .map(|(start, a)| {
                let f = a.figures();
                Week {
                    start,
                    count: f.count,
                    mtta_seconds: f.mtta_seconds,
                    mttr_seconds: f.mttr_seconds,
                }
            })
            .collect(),
        ack_distribution: labels
            .iter()
            .zip(buckets)
            .map(|(label, count)| AckBucket {
                label: (*label).to_owned(),
                count,
            })
            .collect(),
    }
}

/// A duration in seconds for people, by [`crate::describe::duration`]'s rule (`45s`,
/// `4m 10s`, `2h 5m`, `3d 4h`), rounded to the second; `–` for none.
pub fn human_duration(secs: Option<f64>) -> String {
    let Some(s) = secs else {
        return "–".to_owned();
    };
    // Saturating: figures are averages of real spans, far below i64's range.
    crate::describe::duration(jiff::SignedDuration::from_secs(s.round() as i64))
}

/// A share as a whole percentage (`75%`); `–` when there is nothing to measure.
pub fn percent(share: Option<f64>) -> String {
    share.map_or("–".to_owned(), |s| format!("{:.0}%", s * 100.0))
}

/// One group's figures as table cells, in the order every report table shows them:
/// incidents, open, MTTA, MTTR, first update, acknowledged in time, resolved in time,
/// updates on cadence, escalations per incident, post-mortems on time.
pub fn cells(f: &Figures) -> [String; 10] {
    let clock = |c: &str| percent(f.clock_compliance.get(c).and_then(|c| c.share));
    [
        f.count.to_string(),
        f.open.to_string(),
        human_duration(f.mtta_seconds),
        human_duration(f.mttr_seconds),
        human_duration(f.time_to_first_update_seconds),
        clock("acknowledge"),
        clock("resolve"),
        percent(f.cadence_compliance),
        f.escalations_per_incident
            .map_or("–".to_owned(), |e| format!("{e:.2}")),
        percent(f.postmortem_on_time),
    ]
}
