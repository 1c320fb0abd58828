//! The incident's current state, as a fold over its events.

use crate::runbook::Checklist;
use crate::{EventData, IncidentId, IncidentRole, RecordedEvent, Status};
use jiff::Timestamp;
use std::collections::BTreeMap;

/// An incident's state after its events so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    /// Its id.
    pub id: IncidentId,
    /// One-line title.
    pub title: String,
    /// Longer description.
    pub summary: Option<String>,
    /// Affected service.
    pub service: String,
    /// Current severity id.
    pub severity: String,
    /// Current status.
    pub status: Status,
    /// When it was declared.
    pub declared_at: Timestamp,
    /// Who declared it.
    pub declared_by: String,
    /// When and by whom it was acknowledged since it was last (re)opened.
    pub acknowledged: Option<(Timestamp, String)>,
    /// When it was last resolved, while it stays resolved.
    pub resolved_at: Option<Timestamp>,
    /// Current holders of roles.
    pub roles: BTreeMap<IncidentRole, String>,
    /// Category id, if declared with one.
    pub category: Option<String>,
    /// Flags (`data-loss`, `security`).
    pub flags: Vec<String>,
    /// The policy in force at declaration.
    pub policy: Option<String>,
    /// Number of events so far; the expected version for the next append.
    pub version: u64,
    /// Time of the last event.
    pub updated_at: Timestamp,
    /// The runbook being followed, with what is checked off.
    pub checklist: Option<Checklist>,
}

/// A log that does not describe an incident: a bug or a damaged store, never user input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FoldError {
    /// No events at all.
    #[error("incident {0} has no events")]
    Empty(IncidentId),
    /// The first event is not a declaration.
    #[error("incident {0} does not start with a declaration")]
    NotDeclaredFirst(IncidentId),
    /// A declaration after the first event.
    #[error("incident {0} is declared twice (event {1})")]
    DeclaredTwice(IncidentId, u64),
    /// Sequence numbers are not 1, 2, 3, …
    #[error("incident {id}: expected event {expected}, found {found}")]
    Gap {
        /// The incident.
        id: IncidentId,
        /// The sequence number due.
        expected: u64,
        /// The one found.
        found: u64,
    },
}

impl Incident {
    /// Folds a complete log, checking that it is one.
    pub fn fold<'a>(
        id: IncidentId,
        events: impl IntoIterator<Item = &'a RecordedEvent>,
    ) -> Result<Incident, FoldError> {
        let mut events = events.into_iter();
        let first = events.next().ok_or(FoldError::Empty(id))?;
        let mut incident = Incident::declared(id, first)?;
        for event in events {
            incident.apply(event)?;
        }
        Ok(incident)
    }

    /// The state right after its declaration.
    pub fn declared(id: IncidentId, first: &RecordedEvent) -> Result<Incident, FoldError> {
        let EventData::Declared {
            title,
            severity,
            service,
            summary,
            category,
            flags,
            policy,
        } = &first.data
        else {
            return Err(FoldError::NotDeclaredFirst(id));
        };
        if first.seq != 1 {
            return Err(FoldError::Gap {
                id,
                expected: 1,
                found: first.seq,
            });
        }
        Ok(Incident {
            id,
            title: title.clone(),
            summary: summary.clone(),
            service: service.clone(),
            severity: severity.clone(),
            status: Status::Investigating,
            declared_at: first.at,
            declared_by: first.actor.clone(),
            acknowledged: None,
            resolved_at: None,
            roles: BTreeMap::new(),
            category: category.clone(),
            flags: flags.clone(),
            policy: policy.clone(),
            version: 1,
            updated_at: first.at,
            checklist: None,
        })
    }

    /// Applies the next event. Events were checked by [`crate::decide`] before they were
    /// stored, so applying never judges them again: history is what it is.
    pub fn apply(&mut self, event: &RecordedEvent) -> Result<(), FoldError> {
        if event.seq != self.version + 1 {
            return Err(FoldError::Gap {
                id: self.id,
                expected: self.version + 1,
                found: event.seq,
            });
        }
        match &event.data {
            EventData::Declared { .. } => return Err(FoldError::DeclaredTwice(self.id, event.seq)),
            EventData::Acknowledged => {
                self.acknowledged = Some((event.at, event.actor.clone()));
            }
            EventData::SeverityChanged { to, .. } => self.severity = to.clone(),
            EventData::StatusChanged { to, .. } => self.status = *to,
            EventData::RoleAssigned { role, assignee } => {
                self.roles.insert(*role, assignee.clone());
            }
            // Notes, updates, stage completions and fired policy actions are timeline
            // entries; the planner reads them from the log, the state needs none.
            EventData::NoteAdded { .. }
            | EventData::UpdatePosted { .. }
            | EventData::PostmortemStageCompleted { .. }
            | EventData::AlertAttached { .. }
            | EventData::AlertUpdated { .. }
            | EventData::AlertResolved { .. }
            | EventData::Paged { .. }
            | EventData::Escalated { .. }
            | EventData::EscalationExhausted { .. }
            | EventData::Notified { .. }
            | EventData::NotificationFailed { .. }
            | EventData::SlaBreached { .. }
            | EventData::UpdateDue { .. }
            | EventData::CustomerNoticeDue { .. }
            | EventData::MonitoringVerified { .. }
            | EventData::PostmortemDue { .. }
            | EventData::FollowupDue { .. }
            | EventData::PostmortemReminder { .. }
            | EventData::NoticeReminder { .. }
            | EventData::NoticeOverdue { .. } => {}
            EventData::RunbookAttached {
                runbook,
                title,
                steps,
                phases,
            } => {
                self.checklist = Some(Checklist {
                    runbook: runbook.clone(),
                    title: title.clone(),
                    steps: steps.clone(),
                    phases: phases.clone(),
                    done: Default::default(),
                });
            }
            EventData::ChecklistStepChecked { step, done, output } => {
                if let Some(checklist) = &mut self.checklist {
                    if *done {
                        checklist.done.insert(step.clone(), output.clone());
                    } else {
                        checklist.done.remove(step);
                    }
                }
            }
            EventData::Resolved { .. } => {
                self.status = Status::Resolved;
                self.resolved_at = Some(event.at);
            }
            EventData::Reopened { .. } => {
                self.status = Status::Investigating;
                self.resolved_at = None;
                self.acknowledged = None;
            }
        }
        self.version = event.seq;
        self.updated_at = event.at;
        Ok(())
    }
}
