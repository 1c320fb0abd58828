//! Does the roster cover what a policy relies on? The windows when a schedule the policy
//! pages has nobody on call, and the targets the roster does not know at all.

use super::Roster;
use crate::policy::{Policy, Target};
use jiff::Timestamp;
use serde::Serialize;

/// A window when a schedule a policy pages has nobody on call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoverageGap {
    /// The schedule's id.
    pub schedule: String,
    /// From (inclusive).
    pub start: Timestamp,
    /// Until (exclusive).
    pub end: Timestamp,
    /// Where the policy relies on it, e.g. `escalation level 1 (On-call SRE)` or
    /// `severities.SEV1.page`; several places are joined with `; `.
    pub used_by: String,
}

/// A policy target naming a schedule, person or team the roster does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownTarget {
    /// The target as the policy writes it.
    pub target: Target,
    /// Where the policy uses it.
    pub used_by: String,
}

/// Every target the policy pages, with where it is used.
fn usages(policy: &Policy) -> Vec<(&Target, String)> {
    let pages = policy.severities.iter().flat_map(|s| {
        s.page
            .iter()
            .map(move |t| (t, format!("severities.{}.page", s.severity.id)))
    });
    let levels = policy.escalation.iter().flat_map(|l| {
        l.targets
            .iter()
            .map(move |t| (t, format!("escalation level {} ({})", l.level, l.name)))
    });
    pages.chain(levels).collect()
}

/// The windows in `[from, to)` when a schedule named by the policy (directly, or as a
/// team's schedule) has nobody on call, by schedule in order of first use, then by time.
/// Schedules the roster does not have are reported by [`unknown_targets`] instead.
pub fn coverage_gaps(
    roster: &Roster,
    policy: &Policy,
    from: Timestamp,
    to: Timestamp,
) -> Vec<CoverageGap> {
    let mut used: Vec<(&str, Vec<String>)> = Vec::new();
    for (target, used_by) in usages(policy) {
        let (schedule, used_by) = match target {
            Target::Schedule(id) => (id.as_str(), used_by),
            Target::Team(team) => match roster.teams.get(team).and_then(|t| t.schedule.as_ref()) {
                Some(id) => (id.as_str(), format!("{used_by} via team:{team}")),
                None => continue,
            },
            Target::Person(_) | Target::Channel(_) => continue,
        };
        if !roster.schedules.contains_key(schedule) {
            continue;
        }
        match used.iter_mut().find(|(s, _)| *s == schedule) {
            Some((_, users)) => {
                if !users.contains(&used_by) {
                    users.push(used_by);
                }
            }
            None => used.push((schedule, vec![used_by])),
        }
    }
    let mut out = Vec::new();
    for (id, users) in used {
        let Some(schedule) = roster.schedules.get(id) else {
            continue;
        };
        let used_by = users.join("; ");
        for (start, end) in schedule.gaps(from, to) {
            out.push(CoverageGap {
                schedule: id.to_owned(),
                start,
                end,
                used_by: used_by.clone(),
            });
        }
    }
    out
}

/// The policy's targets that name a schedule, person, team or channel the roster does
/// not have, once per use (a page to a channel with no destination reaches nobody).
pub fn unknown_targets(roster: &Roster, policy: &Policy) -> Vec<UnknownTarget> {
    usages(policy)
        .into_iter()
        .filter(|(target, _)| match target {
            Target::Schedule(id) => !roster.schedules.contains_key(id),
            Target::Person(id) => !roster.people.contains_key(id),
            Target::Team(id) => !roster.teams.contains_key(id),
            Target::Channel(name) => roster.channel(name).is_none(),
        })
        .map(|(target, used_by)| UnknownTarget {
            target: target.clone(),
            used_by,
        })
        .collect()
}
