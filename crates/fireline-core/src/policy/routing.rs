//! How alerts become incidents: routes matched on labels and annotations, severity from
//! thresholds, grouping, maintenance windows, and what happens when alerts re-fire or
//! all resolve.

use super::PolicyDuration;
use jiff::Timestamp;
use regex::Regex;
use std::collections::BTreeMap;

/// Alert handling defaults.
#[derive(Debug, Clone)]
pub struct AlertSettings {
    /// Severity for alerts no route or severity label decides.
    pub default_severity: String,
    /// An alert's own severity (label `severity`, PagerDuty's `severity`) → policy id.
    pub severity_map: BTreeMap<String, String>,
    /// An open incident with the same group takes new alerts if it was declared at most
    /// this long ago; older ones no longer do, and a new incident opens.
    pub group_window: PolicyDuration,
    /// What an alert firing again after it resolved does.
    pub refire: Refire,
    /// Where an incident goes when all its alerts have resolved.
    pub auto_resolve: AutoResolve,
}

/// Re-firing policy.
#[derive(Debug, Clone, PartialEq)]
pub enum Refire {
    /// Reopen the incident if it resolved at most this long ago; else open a new one.
    Reopen(PolicyDuration),
    /// Always open a new incident.
    New,
}

/// What all alerts resolving does to their incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoResolve {
    /// Resolve it.
    Resolve,
    /// Move it to `monitoring`, for a person (and the monitoring clock) to confirm.
    Monitoring,
    /// Leave it: a person resolves.
    Off,
}

/// One routing rule; the first whose matchers all hold decides.
#[derive(Debug, Clone)]
pub struct Route {
    /// For people and the timeline.
    pub name: String,
    /// All must hold.
    pub matchers: Vec<Matcher>,
    /// Drop matching alerts: recorded nowhere, page nobody.
    pub drop: bool,
    /// Service for the incident (literal), else from the alert.
    pub service: Option<String>,
    /// Severity (literal), unless a threshold decides.
    pub severity: Option<String>,
    /// Thresholds, first match wins.
    pub thresholds: Vec<Threshold>,
    /// Runbook id to attach.
    pub runbook: Option<String>,
    /// Extra targets to page for incidents it opens.
    pub targets: Vec<super::Target>,
    /// Labels whose values make the group; empty: the source's own group.
    pub group_by: Vec<String>,
}

/// Where a matcher or threshold reads a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// A label.
    Label(String),
    /// An annotation.
    Annotation(String),
}

impl Field {
    /// The value in an alert's labels and annotations.
    pub fn get<'a>(
        &self,
        labels: &'a BTreeMap<String, String>,
        annotations: &'a BTreeMap<String, String>,
    ) -> Option<&'a str> {
        match self {
            Field::Label(k) => labels.get(k).map(String::as_str),
            Field::Annotation(k) => annotations.get(k).map(String::as_str),
        }
    }
}

/// A test on one label or annotation.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// What it reads.
    pub field: Field,
    /// How it tests.
    pub test: MatchTest,
}

/// Matcher tests.
#[derive(Debug, Clone)]
pub enum MatchTest {
    /// Present and equal.
    Equals(String),
    /// Present and not equal, or absent.
    NotEquals(String),
    /// Present and the whole value matches.
    Regex(Regex),
    /// Not present.
    Absent,
    /// Present.
    Present,
}

impl Matcher {
    /// Whether the alert passes.
    pub fn holds(
        &self,
        labels: &BTreeMap<String, String>,
        annotations: &BTreeMap<String, String>,
    ) -> bool {
        let value = self.field.get(labels, annotations);
        match &self.test {
            MatchTest::Equals(v) => value == Some(v.as_str()),
            MatchTest::NotEquals(v) => value != Some(v.as_str()),
            MatchTest::Regex(re) => value.is_some_and(|v| re.is_match(v)),
            MatchTest::Absent => value.is_none(),
            MatchTest::Present => value.is_some(),
        }
    }
}

/// Severity from a numeric value: `value / divide_by` compared with `above`/`below`.
#[derive(Debug, Clone)]
pub struct Threshold {
    /// Where the number is.
    pub value: Field,
    /// Divide by this field's number first (e.g. the SLO), if set.
    pub divide_by: Option<Field>,
    /// Holds when the value is greater.
    pub above: Option<f64>,
    /// Holds when the value is smaller.
    pub below: Option<f64>,
    /// The severity it gives.
    pub severity: String,
}

impl Threshold {
    /// Whether it holds for the alert (a missing or non-numeric value never holds).
    pub fn holds(
        &self,
        labels: &BTreeMap<String, String>,
        annotations: &BTreeMap<String, String>,
    ) -> bool {
        let number = |f: &Field| {
            f.get(labels, annotations)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|n| n.is_finite())
        };
        let Some(mut value) = number(&self.value) else {
            return false;
        };
        if let Some(divisor) = &self.divide_by {
            match number(divisor) {
                Some(d) if d != 0.0 => value /= d,
                _ => return false,
            }
        }
        self.above.is_none_or(|a| value > a) && self.below.is_none_or(|b| value < b)
    }
}

/// A window in which alerts are recorded but page nobody.
#[derive(Debug, Clone)]
pub struct Maintenance {
    /// Name, shown on incidents it covers.
    pub name: String,
    /// From.
    pub start: Timestamp,
    /// Until (exclusive).
    pub end: Timestamp,
    /// Which alerts (all must hold; none: every alert).
    pub matchers: Vec<Matcher>,
    /// What customers are told of it; `None` keeps the window internal (alerts are
    /// quiet, but the status page never shows it and subscribers never hear of it).
    pub notice: Option<MaintenanceNotice>,
}

/// The public side of a maintenance window: shown on the status page and told to its
/// subscribers. Only these fields are ever public; the window's name and matchers are
/// the team's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceNotice {
    /// What customers will notice, e.g. "Database upgrade".
    pub title: String,
    /// More words for customers, if any.
    pub description: Option<String>,
    /// The public components (services) it affects; empty: all of them.
    pub components: Vec<String>,
    /// How long before the start it is announced (zero: first heard of at the start).
    pub announce: jiff::SignedDuration,
}

impl MaintenanceNotice {
    /// Announced a week ahead unless the window says otherwise: long enough for
    /// customers to plan around it.
    pub const DEFAULT_ANNOUNCE: jiff::SignedDuration = jiff::SignedDuration::from_hours(7 * 24);

    /// Whether it affects `component`.
    pub fn affects(&self, component: &str) -> bool {
        self.components.is_empty() || self.components.iter().any(|c| c == component)
    }
}

impl Maintenance {
    /// Whether an alert at `at` falls under it.
    pub fn covers(
        &self,
        at: Timestamp,
        labels: &BTreeMap<String, String>,
        annotations: &BTreeMap<String, String>,
    ) -> bool {
        at >= self.start
            && at < self.end
            && self.matchers.iter().all(|m| m.holds(labels, annotations))
    }
}
