//! The public status page's arithmetic: a component's status from its open incidents,
//! and its uptime per day. Pure: incidents and `now` are arguments.
//!
//! Mapping (documented in docs/status-page.md): an open incident at the policy's most
//! severe rank (1) is a major outage; rank 2 a partial outage; any lower rank degraded.
//! An incident in `monitoring` (a fix is out) counts at most as degraded; one flagged
//! `maintenance` as maintenance. The worst of a component's incidents wins.

use crate::Status;
use jiff::{SignedDuration, Timestamp};

/// A component's public status, least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ComponentStatus {
    /// Working.
    Operational,
    /// Planned work.
    Maintenance,
    /// Working, slowly or partly.
    Degraded,
    /// Down for some.
    PartialOutage,
    /// Down.
    MajorOutage,
}

impl ComponentStatus {
    /// Every status.
    pub const ALL: [ComponentStatus; 5] = [
        ComponentStatus::Operational,
        ComponentStatus::Maintenance,
        ComponentStatus::Degraded,
        ComponentStatus::PartialOutage,
        ComponentStatus::MajorOutage,
    ];

    /// Name on the page and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "operational",
            ComponentStatus::Maintenance => "maintenance",
            ComponentStatus::Degraded => "degraded",
            ComponentStatus::PartialOutage => "partial_outage",
            ComponentStatus::MajorOutage => "major_outage",
        }
    }

    /// Whether the time counts against uptime.
    pub fn is_outage(self) -> bool {
        matches!(
            self,
            ComponentStatus::PartialOutage | ComponentStatus::MajorOutage
        )
    }
}

impl std::str::FromStr for ComponentStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let wanted = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        ComponentStatus::ALL
            .into_iter()
            .find(|c| c.as_str() == wanted)
            .ok_or_else(|| {
                format!("unknown component status `{s}`: expected operational, degraded, partial_outage, major_outage or maintenance")
            })
    }
}

/// What the status page needs of one incident.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentSpan {
    /// The service it affects.
    pub service: String,
    /// Its severity's rank (1 most severe).
    pub rank: u32,
    /// Current status.
    pub status: Status,
    /// Flagged `maintenance`.
    pub maintenance: bool,
    /// Declared at.
    pub start: Timestamp,
    /// Resolved at; `None` while open.
    pub end: Option<Timestamp>,
}

/// What one incident says about its component.
pub fn incident_component_status(i: &IncidentSpan) -> ComponentStatus {
    if i.maintenance {
        return ComponentStatus::Maintenance;
    }
    let by_rank = match i.rank {
        1 => ComponentStatus::MajorOutage,
        2 => ComponentStatus::PartialOutage,
        _ => ComponentStatus::Degraded,
    };
    if i.status == Status::Monitoring {
        by_rank.min(ComponentStatus::Degraded)
    } else {
        by_rank
    }
}

/// A component's status: the worst of its open incidents (operational with none).
pub fn component_status(service: &str, incidents: &[IncidentSpan]) -> ComponentStatus {
    incidents
        .iter()
        .filter(|i| i.service == service && i.end.is_none() && i.status.is_open())
        .map(incident_component_status)
        .max()
        .unwrap_or(ComponentStatus::Operational)
}

/// An admin's override, in force until `until` (forever without).
pub fn effective_status(
    derived: ComponentStatus,
    manual: Option<(ComponentStatus, Option<Timestamp>)>,
    now: Timestamp,
) -> ComponentStatus {
    match manual {
        Some((status, until)) if until.is_none_or(|u| now < u) => status,
        _ => derived,
    }
}

/// One UTC day of a component's history.
#[derive(Debug, Clone, PartialEq)]
pub struct DayUptime {
    /// The day.
    pub date: jiff::civil::Date,
    /// Seconds of outage (partial or major) within the day, overlapping incidents once.
    pub outage_seconds: i64,
    /// 0.0–1.0 of the day's elapsed time (today: up to `now`).
    pub uptime: f64,
    /// The worst status any incident gave it that day.
    pub worst: ComponentStatus,
}

/// `days` UTC days ending with today, oldest first: per day, the union of the outage
/// incidents' intervals (declared → resolved, or `now`) clipped to the day.
pub fn uptime_history(
    service: &str,
    incidents: &[IncidentSpan],
    now: Timestamp,
    days: u32,
) -> Vec<DayUptime> {
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let mut out = Vec::new();
    for back in (0..i64::from(days)).rev() {
        let Ok(date) = today.checked_sub(jiff::Span::new().days(back)) else {
            continue;
        };
        let Ok(day_start) = date
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
        else {
            continue;
        };
        let day_end = (day_start + SignedDuration::from_hours(24)).min(now);
        let mut spans: Vec<(Timestamp, Timestamp)> = Vec::new();
        let mut worst = ComponentStatus::Operational;
        for i in incidents.iter().filter(|i| i.service == service) {
            let (s, e) = (i.start.max(day_start), i.end.unwrap_or(now).min(day_end));
            if s >= e {
                continue;
            }
            let status = incident_component_status(i);
            worst = worst.max(status);
            if status.is_outage() {
                spans.push((s, e));
            }
        }
        spans.sort();
        let mut outage = SignedDuration::ZERO;
        let mut cur: Option<(Timestamp, Timestamp)> = None;
        for (s, e) in spans {
            cur = match cur {
                Some((cs, ce)) if s <= ce => Some((cs, ce.max(e))),
                Some((cs, ce)) => {
                    outage += ce.duration_since(cs);
                    Some((s, e))
                }
                None => Some((s, e)),
            };
        }
        if let Some((cs, ce)) = cur {
            outage += ce.duration_since(cs);
        }
        let elapsed = day_end.duration_since(day_start).as_secs();
        let uptime = if elapsed <= 0 {
            1.0
        } else {
            1.0 - outage.as_secs() as f64 / elapsed as f64
        };
        out.push(DayUptime {
            date,
            outage_seconds: outage.as_secs(),
            uptime,
            worst,
        });
    }
    out
}
