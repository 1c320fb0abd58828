//! A runbook followed on an incident: its snapshot, the steps checked, and its phases
//! against the clock.

use super::{Phase, Step};
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;

/// The runbook attached to an incident, as it was when attached, and what is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checklist {
    /// The runbook's id.
    pub runbook: String,
    /// Its title.
    pub title: String,
    /// Its steps, as snapshotted.
    pub steps: Vec<Step>,
    /// Its phases, as snapshotted.
    pub phases: Vec<Phase>,
    /// Steps checked off, with the output attached to each (if any).
    pub done: BTreeMap<String, Option<String>>,
}

impl Checklist {
    /// Steps done and steps in all.
    pub fn progress(&self) -> (usize, usize) {
        let done = self
            .steps
            .iter()
            .filter(|s| self.done.contains_key(&s.id))
            .count();
        (done, self.steps.len())
    }

    /// The step with this id.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }
}

/// One phase of a checklist at a given time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseStatus {
    /// Its name.
    pub name: String,
    /// When its window opens.
    pub starts_at: Timestamp,
    /// When its window closes.
    pub ends_at: Timestamp,
    /// Its steps done.
    pub done: usize,
    /// Its steps in all.
    pub total: usize,
    /// Past its window with steps still unchecked.
    pub overdue: bool,
}

/// Each phase's window relative to `declared_at` and whether it is overdue at `now`.
pub fn phase_status(
    checklist: &Checklist,
    declared_at: Timestamp,
    now: Timestamp,
) -> Vec<PhaseStatus> {
    checklist
        .phases
        .iter()
        .map(|phase| {
            let at = |minutes: u32| {
                declared_at
                    .checked_add(SignedDuration::from_mins(i64::from(minutes)))
                    .unwrap_or(Timestamp::MAX)
            };
            let steps = checklist
                .steps
                .iter()
                .filter(|s| s.phase.as_deref() == Some(phase.name.as_str()));
            let (mut done, mut total) = (0, 0);
            for step in steps {
                total += 1;
                done += usize::from(checklist.done.contains_key(&step.id));
            }
            let ends_at = at(phase.to_minutes);
            PhaseStatus {
                name: phase.name.clone(),
                starts_at: at(phase.from_minutes),
                ends_at,
                done,
                total,
                overdue: done < total && now > ends_at,
            }
        })
        .collect()
}
