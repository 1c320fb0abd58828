//! Problems found in a policy file, each with where it is and how to fix it.
//!
//! [`check`] finds what is wrong (a server refuses such a policy); [`warnings`] finds what
//! is allowed but probably not meant in a policy that is otherwise valid: a page nobody
//! follows up when it is not acknowledged, and alerts that can never open the most severe
//! level.

pub use crate::problem::Problem;
pub(crate) use crate::problem::Problems;

use super::{Condition, EscalationLevel, Policy, SeverityPolicy, Target, Trigger};

/// Checks policy text: every problem, or none when the policy can be trusted.
pub fn check(text: &str) -> Vec<Problem> {
    match super::Policy::from_toml(text) {
        Ok(_) => Vec::new(),
        Err(problems) => problems,
    }
}

/// What a valid policy probably does not mean, each with a location and a hint:
///
/// - a severity that pages people (its `page` list, or a level triggered at declaration)
///   while no escalation step reaches anyone else when nobody acknowledges: no level with
///   a `not_acknowledged` trigger for it (on a level not already reached at declaration),
///   and no repeating last level reached at declaration;
/// - the most severe level cannot be reached from any alert: no word in
///   `[alerts] severity_map`, no `default_severity`, no route and no threshold names it.
///
/// `fireline policy check` prints them as warnings; a server runs such a policy.
pub fn warnings(policy: &Policy) -> Vec<Problem> {
    let mut out = Problems::default();
    for severity in &policy.severities {
        unacknowledged_page(&mut out, policy, severity);
    }
    unreachable_top(&mut out, policy);
    out.0
}

/// Whether a target reaches a person (a channel is recorded, not woken).
fn reaches_people(targets: &[Target]) -> bool {
    targets.iter().any(|t| !matches!(t, Target::Channel(_)))
}

/// Whether a trigger holds for incidents at `id` (no `severities` list: every one).
fn applies(trigger: &Trigger, id: &str) -> bool {
    trigger.severities.is_empty()
        || trigger
            .severities
            .iter()
            .any(|s| s.eq_ignore_ascii_case(id))
}

/// Whether `level` is reached as soon as an incident is declared at `id`.
fn declared_for(level: &EscalationLevel, id: &str) -> bool {
    level
        .triggers
        .iter()
        .any(|t| t.condition == Condition::Declared && applies(t, id))
}

fn unacknowledged_page(out: &mut Problems, policy: &Policy, severity: &SeverityPolicy) {
    let id = severity.severity.id.as_str();
    let paged_by_list = reaches_people(&severity.page);
    let paged_by_level = policy
        .escalation
        .iter()
        .position(|l| reaches_people(&l.targets) && declared_for(l, id));
    if !paged_by_list && paged_by_level.is_none() {
        return;
    }
    let followed_up = policy.escalation.iter().enumerate().any(|(i, level)| {
        if !reaches_people(&level.targets) {
            return false;
        }
        let not_acknowledged = level
            .triggers
            .iter()
            .any(|t| matches!(t.condition, Condition::NotAcknowledged(_)) && applies(t, id));
        // A level reached at declaration is reached once: its `not_acknowledged`
        // trigger can never fire for this severity, but if it is the last level and
        // repeats, it is paged again while nobody acknowledges.
        let declared = declared_for(level, id);
        let repeats = level.repeat.is_some() && i + 1 == policy.escalation.len();
        (not_acknowledged && !declared) || (declared && repeats)
    });
    if followed_up {
        return;
    }
    let at = match paged_by_level {
        Some(i) if !paged_by_list => format!("escalation[{i}]"),
        _ => format!("severities.{id}.page"),
    };
    let after = severity
        .clock(crate::ClockKind::Acknowledge)
        .map_or_else(|| "15m".to_owned(), |c| c.within.to_string());
    out.add(
        at,
        format!(
            "{id} pages people, but no escalation level pages anyone else when nobody \
             acknowledges"
        ),
        format!(
            "add a level (e.g. the secondary on-call) with triggers = [{{ when = \
             \"not_acknowledged\", after = \"{after}\", severities = [\"{id}\"] }}], or \
             repeat the last level"
        ),
    );
}

fn unreachable_top(out: &mut Problems, policy: &Policy) {
    let Some(top) = policy.severities.first() else {
        return;
    };
    let id = top.severity.id.as_str();
    let alerts = &policy.alerts;
    let same = |s: &String| s.eq_ignore_ascii_case(id);
    let by_word = alerts.severity_map.values().any(same) || same(&alerts.default_severity);
    let by_route = policy.routes.iter().filter(|r| !r.drop).any(|r| {
        r.severity.as_ref().is_some_and(same) || r.thresholds.iter().any(|t| same(&t.severity))
    });
    if by_word || by_route {
        return;
    }
    let at = if alerts.severity_map.is_empty() {
        "alerts"
    } else {
        "alerts.severity_map"
    };
    out.add(
        at,
        format!(
            "no alert can open {id} ({}): no source severity word maps to it and no route \
             sets it (an alert saying `critical` opens {})",
            top.severity.name,
            critical_opens(policy)
        ),
        format!(
            "map the words Alertmanager, PagerDuty and the generic receiver send: [alerts] \
             severity_map = {{ critical = \"{id}\", error = …, warning = …, info = … }}"
        ),
    );
}

/// The severity an alert saying `critical` (and nothing a route matches) opens.
fn critical_opens(policy: &Policy) -> String {
    policy
        .alerts
        .severity_map
        .get("critical")
        .unwrap_or(&policy.alerts.default_severity)
        .clone()
}
