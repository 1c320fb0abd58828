//! Alerts from monitoring, routed by the policy and turned into incident events.
//!
//! An alert's state lives in its incident's log (`alert_attached`, `alert_updated`,
//! `alert_resolved`); the store keeps a projection keyed by (integration, dedup key)
//! written in the same transaction. [`decide_alert`] is the pure decision: given the
//! routed alert, what the projection says and the incidents involved, what to append.

use crate::policy::routing::{AutoResolve, Refire};
use crate::policy::{Policy, Target};
use crate::{Declaration, EventData, Incident, IncidentId, Status};
use jiff::Timestamp;
use std::collections::BTreeMap;

/// Firing or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// The condition holds.
    Firing,
    /// It no longer does.
    Resolved,
}

/// An alert as every receiver normalises it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AlertInput {
    /// Identity across notifications (Alertmanager fingerprint, PagerDuty dedup_key).
    pub dedup_key: String,
    /// Firing or resolved.
    pub status: AlertStatus,
    /// One line for people.
    pub summary: String,
    /// The source's own severity word (`critical`, `warning`, PagerDuty's levels).
    pub source_severity: Option<String>,
    /// The source's idea of the service, if it has one.
    pub service: Option<String>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// When it started firing.
    pub starts_at: Option<Timestamp>,
    /// When it ended.
    pub ends_at: Option<Timestamp>,
    /// The source's group (Alertmanager's groupKey).
    pub group: Option<String>,
    /// A link back to the source.
    pub link: Option<String>,
}

/// Text from monitoring made fit to store and show, without refusing it: NUL is
/// stripped (PostgreSQL cannot store it), line breaks and tabs are kept, and every
/// other control character becomes U+FFFD so it shows instead of acting on a terminal
/// or a log.
pub fn clean_text(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .filter(|c| *c != '\0')
        .map(|c| match c {
            '\n' | '\t' | '\r' => c,
            c if c.is_control() => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// [`clean_text`] on one line of at most `max` characters: line breaks and tabs are
/// folded into single spaces, and text beyond `max` is cut with an ellipsis.
pub fn one_line(text: &str, max: usize) -> String {
    let clean = clean_text(text);
    let mut out = String::with_capacity(clean.len().min(max * 4));
    // A break and the blanks around it become one space.
    let mut space = false;
    for c in clean.trim().chars() {
        if matches!(c, '\n' | '\t' | '\r') {
            out.truncate(out.trim_end_matches(' ').len());
            space = true;
            continue;
        }
        if space {
            if c == ' ' {
                continue;
            }
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    cut(out, max)
}

/// `text` cut to at most `max` characters, the last one an ellipsis when cut.
fn cut(text: String, max: usize) -> String {
    if text.chars().count() <= max {
        return text;
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

impl AlertInput {
    /// Normalises what monitoring sent so that every accepted alert can be recorded:
    /// single-line fields become one line, control characters are replaced, NUL is
    /// stripped and the summary fits an incident title. Receivers call it before the
    /// alert is accepted, and the processor again on what it reads (so items accepted
    /// by an older version are held to the same rules).
    pub fn normalise(&mut self) {
        let line = |s: &str| one_line(s, crate::command::MAX_TEXT);
        // Identities (keys, groups) keep their line breaks and spaces: only NUL goes and
        // other control characters are replaced, by the one rule every place that
        // reads a key applies (receivers, the processor, PagerDuty acknowledgements), so
        // a key names the same alert wherever it arrives. Only a key holding control
        // characters stored before this rule existed no longer matches (docs/alerts.md).
        self.dedup_key = clean_text(&self.dedup_key);
        self.summary = one_line(&self.summary, crate::command::MAX_TITLE);
        if self.summary.is_empty() {
            self.summary = match self.labels.get("alertname") {
                Some(name) if !one_line(name, 1).is_empty() => {
                    one_line(name, crate::command::MAX_TITLE)
                }
                _ => one_line(
                    &format!("Alert {}", self.dedup_key),
                    crate::command::MAX_TITLE,
                ),
            };
        }
        if let Some(group) = &mut self.group {
            *group = clean_text(group);
        }
        for v in [&mut self.source_severity, &mut self.service, &mut self.link]
            .into_iter()
            .flatten()
        {
            *v = line(v);
        }
        let clean_map = |map: &mut BTreeMap<String, String>| {
            if map
                .iter()
                .any(|(k, v)| k.chars().chain(v.chars()).any(char::is_control))
            {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(k, v)| (clean_text(&k), clean_text(&v)))
                    .collect();
            }
        };
        clean_map(&mut self.labels);
        clean_map(&mut self.annotations);
    }
}

/// Longest group key kept as it is: stores index it (PostgreSQL refuses index entries
/// over about 2.7 KB), and label values alone may be 16 KiB.
pub const MAX_GROUP_KEY: usize = 512;

/// A group key that fits the stores' index: a longer one becomes its start and a
/// SHA-256 of the whole, so equal keys still group together and different ones apart.
fn bounded_group(group: String) -> String {
    if group.len() <= MAX_GROUP_KEY {
        return group;
    }
    use sha2::{Digest, Sha256};
    let mut end = 128;
    while !group.is_char_boundary(end) {
        end -= 1;
    }
    let hash = hex::encode(Sha256::digest(group.as_bytes()));
    format!("{}…#{hash}", &group[..end])
}

/// Why an alert that [`decide_alert`] records nothing for joined no incident, in
/// words for an admin; `None` when it is a repeat of one already recorded (it is
/// folded into that record).
pub fn unrecorded_reason(
    routed: &Routed,
    alert: &AlertInput,
    known: Option<&KnownAlert>,
) -> Option<String> {
    if routed.drop {
        return Some(match &routed.route {
            Some(route) => format!("dropped by route {route}"),
            None => "dropped by a route".to_owned(),
        });
    }
    match (alert.status, known) {
        (AlertStatus::Resolved, None) => {
            Some("arrived resolved, with no incident to resolve".to_owned())
        }
        _ => None,
    }
}

/// What the policy's routes make of an alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Routed {
    /// Dropped by a route: nothing is recorded.
    pub drop: bool,
    /// The route that matched.
    pub route: Option<String>,
    /// Service for its incident.
    pub service: String,
    /// Severity for its incident.
    pub severity: String,
    /// Runbook to attach.
    pub runbook: Option<String>,
    /// Extra targets to page.
    pub targets: Vec<Target>,
    /// Alerts with the same group join one incident.
    pub group: String,
    /// The maintenance window it falls in: recorded, pages nobody.
    pub maintenance: Option<String>,
}

fn severity_of(policy: &Policy, word: &str) -> Option<String> {
    let word = word.trim();
    policy
        .catalog()
        .get(word)
        .map(|s| s.id.clone())
        .or_else(|| {
            policy
                .alerts
                .severity_map
                .get(&word.to_ascii_lowercase())
                .cloned()
        })
}

/// Routes an alert received on an integration of `integration_service` at `now`.
pub fn route(
    policy: &Policy,
    alert: &AlertInput,
    integration: &str,
    integration_service: &str,
    now: Timestamp,
) -> Routed {
    let labels = &alert.labels;
    let annotations = &alert.annotations;
    let matched = policy
        .routes
        .iter()
        .find(|r| r.matchers.iter().all(|m| m.holds(labels, annotations)));
    let service = matched
        .and_then(|r| r.service.clone())
        .or_else(|| alert.service.clone())
        .or_else(|| labels.get("service").cloned())
        .map(|s| one_line(&s, crate::command::MAX_SERVICE))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| integration_service.to_owned());
    let own = alert
        .source_severity
        .as_deref()
        .or(labels.get("severity").map(String::as_str));
    let severity = matched
        .and_then(|r| {
            r.thresholds
                .iter()
                .find(|t| t.holds(labels, annotations))
                .map(|t| t.severity.clone())
        })
        .or_else(|| matched.and_then(|r| r.severity.clone()))
        .or_else(|| own.and_then(|w| severity_of(policy, w)))
        .unwrap_or_else(|| policy.alerts.default_severity.clone());
    let group = match matched.filter(|r| !r.group_by.is_empty()) {
        Some(r) => {
            let values: Vec<String> = r
                .group_by
                .iter()
                .map(|k| format!("{k}={}", labels.get(k).map(String::as_str).unwrap_or("")))
                .collect();
            format!("{integration}/route:{}/{}", r.name, values.join(","))
        }
        None => match &alert.group {
            Some(g) => format!("{integration}/group:{g}"),
            None => format!("{integration}/alert:{}", alert.dedup_key),
        },
    };
    let group = bounded_group(group);
    let at = alert.starts_at.unwrap_or(now);
    let maintenance = policy
        .maintenance
        .iter()
        .find(|m| m.covers(now, labels, annotations) || m.covers(at, labels, annotations))
        .map(|m| m.name.clone());
    Routed {
        drop: matched.is_some_and(|r| r.drop),
        route: matched.map(|r| r.name.clone()),
        service,
        severity,
        runbook: matched.and_then(|r| r.runbook.clone()),
        targets: matched.map(|r| r.targets.clone()).unwrap_or_default(),
        group,
        maintenance,
    }
}

/// What the store knows of an alert already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownAlert {
    /// Its incident.
    pub incident: IncidentId,
    /// Its last status.
    pub status: AlertStatus,
    /// Digest of what was last recorded, to tell a change from a repeat.
    pub digest: String,
}

/// The alert's content digest: repeats with the same content record nothing.
pub fn digest(alert: &AlertInput) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(alert.summary.as_bytes());
    for (k, v) in alert.labels.iter().chain(alert.annotations.iter()) {
        hasher.update(k.as_bytes());
        hasher.update([0]);
        hasher.update(v.as_bytes());
        hasher.update([1]);
    }
    hex::encode(&hasher.finalize()[..8])
}

/// What to do with one alert.
#[derive(Debug, Clone, PartialEq)]
pub enum AlertOutcome {
    /// Nothing to record (a repeat, a drop, or a resolution never seen firing).
    Nothing,
    /// Open a new incident with these events after the declaration.
    Declare(Declaration, Vec<EventData>),
    /// Append to an existing incident.
    Append(IncidentId, Vec<EventData>),
}

/// The alert's event data when it joins an incident.
fn attached(alert: &AlertInput, integration: &str, routed: &Routed, reason: &str) -> EventData {
    EventData::AlertAttached {
        integration: integration.to_owned(),
        dedup_key: alert.dedup_key.clone(),
        summary: alert.summary.clone(),
        labels: alert.labels.clone(),
        annotations: alert.annotations.clone(),
        starts_at: alert.starts_at,
        link: alert.link.clone(),
        route: routed.route.clone(),
        runbook: routed.runbook.clone(),
        digest: digest(alert),
        reason: reason.to_owned(),
        group: routed.group.clone(),
        targets: routed.targets.iter().map(ToString::to_string).collect(),
    }
}

/// What the store holds that bears on one alert.
#[derive(Debug, Clone, Copy, Default)]
pub struct Situation<'a> {
    /// The store's projection for the alert.
    pub known: Option<&'a KnownAlert>,
    /// Its incident's state, and how many of that incident's alerts still fire.
    pub known_incident: Option<(&'a Incident, usize)>,
    /// The newest open incident of the alert's group declared within the group window.
    pub group_incident: Option<&'a Incident>,
}

/// Decides what an alert received through `integration` does.
pub fn decide_alert(
    policy: &Policy,
    alert: &AlertInput,
    integration: &str,
    routed: &Routed,
    situation: Situation<'_>,
    now: Timestamp,
) -> AlertOutcome {
    let Situation {
        known,
        known_incident,
        group_incident,
    } = situation;
    if routed.drop {
        return AlertOutcome::Nothing;
    }
    let join_group_or_new = |reason: &str| match group_incident {
        Some(g) if g.status.is_open() => AlertOutcome::Append(
            g.id,
            vec![attached(alert, integration, routed, "joined its group")],
        ),
        _ => declare_new(alert, integration, routed, reason),
    };
    match (alert.status, known, known_incident) {
        (AlertStatus::Resolved, None, _) => AlertOutcome::Nothing,
        (AlertStatus::Resolved, Some(k), _) if k.status == AlertStatus::Resolved => {
            AlertOutcome::Nothing
        }
        (AlertStatus::Resolved, Some(k), incident) => AlertOutcome::Append(
            k.incident,
            resolved_events(policy, alert, integration, incident),
        ),
        (AlertStatus::Firing, None, _) => join_group_or_new("new alert"),
        (AlertStatus::Firing, Some(k), Some((incident, _))) if incident.status.is_open() => {
            still_firing(alert, integration, routed, k)
        }
        (AlertStatus::Firing, Some(k), Some((incident, _))) => {
            // Its incident was resolved: reopen it if recent enough, else start afresh.
            if reopens(policy, incident, now) {
                AlertOutcome::Append(
                    k.incident,
                    vec![
                        EventData::Reopened {
                            reason: Some(format!("alert firing again: {}", alert.summary)),
                        },
                        attached(alert, integration, routed, "firing again"),
                    ],
                )
            } else {
                join_group_or_new("firing again after its incident closed")
            }
        }
        (AlertStatus::Firing, Some(_), None) => join_group_or_new("new alert"),
    }
}

/// A new incident for the alert, opened quietly during a maintenance window.
fn declare_new(
    alert: &AlertInput,
    integration: &str,
    routed: &Routed,
    reason: &str,
) -> AlertOutcome {
    let mut flags = Vec::new();
    if routed.maintenance.is_some() {
        flags.push(crate::plan::MAINTENANCE_FLAG.to_owned());
    }
    AlertOutcome::Declare(
        Declaration {
            title: one_line(&alert.summary, crate::command::MAX_TITLE),
            severity: routed.severity.clone(),
            service: routed.service.clone(),
            summary: alert
                .annotations
                .get("description")
                .map(|d| cut(clean_text(d.trim()), crate::command::MAX_TEXT)),
            category: None,
            flags,
        },
        vec![attached(alert, integration, routed, reason)],
    )
}

/// A known alert resolved; when it was the last one firing on an open incident, the
/// incident follows as the policy's `auto_resolve` says.
fn resolved_events(
    policy: &Policy,
    alert: &AlertInput,
    integration: &str,
    incident: Option<(&Incident, usize)>,
) -> Vec<EventData> {
    let mut events = vec![EventData::AlertResolved {
        dedup_key: alert.dedup_key.clone(),
        integration: integration.to_owned(),
        summary: alert.summary.clone(),
    }];
    if let Some((incident, firing)) = incident {
        if firing <= 1 && incident.status.is_open() {
            match policy.alerts.auto_resolve {
                AutoResolve::Resolve => events.push(EventData::Resolved {
                    summary: Some("all alerts resolved".to_owned()),
                }),
                AutoResolve::Monitoring if incident.status != Status::Monitoring => {
                    events.push(EventData::StatusChanged {
                        from: incident.status,
                        to: Status::Monitoring,
                        message: Some("all alerts resolved".to_owned()),
                    })
                }
                _ => {}
            }
        }
    }
    events
}

/// A known alert firing on its open incident: attached again if it had resolved, an
/// update if its content changed, else nothing (a repeat of what is known).
fn still_firing(
    alert: &AlertInput,
    integration: &str,
    routed: &Routed,
    known: &KnownAlert,
) -> AlertOutcome {
    if known.status == AlertStatus::Resolved {
        AlertOutcome::Append(
            known.incident,
            vec![attached(alert, integration, routed, "firing again")],
        )
    } else if known.digest != digest(alert) {
        AlertOutcome::Append(
            known.incident,
            vec![EventData::AlertUpdated {
                dedup_key: alert.dedup_key.clone(),
                integration: integration.to_owned(),
                summary: alert.summary.clone(),
                labels: alert.labels.clone(),
                annotations: alert.annotations.clone(),
                digest: digest(alert),
            }],
        )
    } else {
        AlertOutcome::Nothing
    }
}

/// Whether an alert firing again reopens its resolved incident: only if the policy's
/// `refire` says so and the incident was resolved recently enough.
fn reopens(policy: &Policy, incident: &Incident, now: Timestamp) -> bool {
    match &policy.alerts.refire {
        Refire::Reopen(within) => incident
            .resolved_at
            .is_some_and(|r| within.after(r, &policy.calendar) >= now),
        Refire::New => false,
    }
}

/// The alert a heartbeat monitor raises when a ping is missed (`Firing`) and clears when
/// pings come back (`Resolved`). Its identity is the monitor's, so an outage is one alert.
pub fn heartbeat_alert(
    id: &str,
    name: &str,
    status: AlertStatus,
    last_ping: Option<Timestamp>,
    interval_s: i64,
) -> AlertInput {
    let summary = match status {
        AlertStatus::Firing => format!(
            "heartbeat {name} missed: no ping within {}",
            crate::policy::duration::format_fixed(jiff::SignedDuration::from_secs(interval_s))
        ),
        AlertStatus::Resolved => format!("heartbeat {name} is pinging again"),
    };
    let mut annotations = BTreeMap::new();
    if let Some(at) = last_ping {
        annotations.insert("last_ping".to_owned(), at.to_string());
    }
    AlertInput {
        dedup_key: format!("heartbeat:{id}"),
        status,
        summary,
        source_severity: None,
        service: None,
        labels: BTreeMap::from([
            ("alertname".to_owned(), "HeartbeatMissed".to_owned()),
            ("heartbeat".to_owned(), name.to_owned()),
        ]),
        annotations,
        starts_at: None,
        ends_at: None,
        group: None,
        link: None,
    }
}
