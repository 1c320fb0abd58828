//! Replaying a hypothetical incident under a policy: the acceptance contract of a policy,
//! and the same code path as the live engine ([`crate::plan::fire_due`]).

use crate::plan::{fire_due, pending};
use crate::policy::Policy;
use crate::{
    decide, declare, Command, Declaration, DomainError, EventData, Incident, IncidentId,
    IncidentRole, RecordedEvent, Status,
};
use crate::{Channel, Stage};
use jiff::{SignedDuration, Timestamp};

/// A hypothetical incident.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Declared at.
    pub start: Timestamp,
    /// Initial severity.
    pub severity: String,
    /// Title.
    pub title: String,
    /// Service.
    pub service: String,
    /// Category id.
    pub category: Option<String>,
    /// Flags.
    pub flags: Vec<String>,
    /// Stop here (default: 100 days after start).
    pub until: Option<Timestamp>,
    /// What responders do, in any order.
    pub steps: Vec<Step>,
}

/// One thing a responder does.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// After declaration.
    pub after: SignedDuration,
    /// Who (default `responder`).
    pub by: Option<String>,
    /// What.
    pub action: StepAction,
}

/// Responder actions a scenario can contain.
#[derive(Debug, Clone, PartialEq)]
pub enum StepAction {
    /// Acknowledge.
    Acknowledge,
    /// Move the status (`resolved` resolves).
    Status(Status),
    /// Change severity.
    Severity(String),
    /// Post an update.
    Update(Channel),
    /// Add a note.
    Note(String),
    /// Take a role.
    Assign(IncidentRole, String),
    /// Resolve.
    Resolve,
    /// Reopen.
    Reopen,
    /// Complete a post-mortem stage.
    Postmortem(Stage),
}

/// What fireline did, when.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    /// When.
    pub at: Timestamp,
    /// The event appended.
    pub event: EventData,
}

impl Fired {
    /// The simulator's name for the action (`page`, `escalate`, `sla_breach`, …).
    pub fn kind(&self) -> &'static str {
        match self.event {
            EventData::Paged { .. } => "page",
            EventData::Escalated { .. } => "escalate",
            EventData::EscalationExhausted { .. } => "escalation_exhausted",
            EventData::SlaBreached { .. } => "sla_breach",
            EventData::UpdateDue { .. } => "update_due",
            EventData::CustomerNoticeDue { .. } => "customer_notice_due",
            EventData::MonitoringVerified { .. } => "monitoring_verified",
            EventData::PostmortemDue { .. } => "postmortem_due",
            EventData::FollowupDue { .. } => "followup_due",
            EventData::PostmortemReminder { .. } => "postmortem_reminder",
            EventData::NoticeReminder { .. } => "notice_reminder",
            EventData::NoticeOverdue { .. } => "notice_overdue",
            _ => "other",
        }
    }
}

/// Why a scenario cannot be replayed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimulationError {
    /// The declaration is refused by the policy.
    #[error("the scenario's incident: {0}")]
    Declaration(DomainError),
    /// A step is refused in the state the incident is in then.
    #[error("step {index} (+{after}): {error}")]
    Step {
        /// Position in the scenario's list, from 0.
        index: usize,
        /// Its offset.
        after: String,
        /// Why.
        error: DomainError,
    },
    /// The policy keeps firing without end (a bug guard).
    #[error("more than {0} actions: the simulation was stopped")]
    Runaway(usize),
}

/// Most actions one simulation may fire.
pub const MAX_ACTIONS: usize = 100_000;

fn command(action: &StepAction) -> Command {
    match action {
        StepAction::Acknowledge => Command::Acknowledge,
        StepAction::Status(to) => Command::ChangeStatus {
            to: *to,
            message: None,
        },
        StepAction::Severity(to) => Command::ChangeSeverity {
            to: to.clone(),
            reason: None,
        },
        StepAction::Update(channel) => Command::PostUpdate {
            channel: *channel,
            text: format!("{channel} update"),
        },
        StepAction::Note(text) => Command::AddNote { text: text.clone() },
        StepAction::Assign(role, who) => Command::AssignRole {
            role: *role,
            assignee: who.clone(),
        },
        StepAction::Resolve => Command::Resolve { summary: None },
        StepAction::Reopen => Command::Reopen { reason: None },
        StepAction::Postmortem(stage) => Command::CompleteStage { stage: *stage },
    }
}

fn push(log: &mut Vec<RecordedEvent>, at: Timestamp, actor: String, data: EventData) {
    let seq = log.len() as u64 + 1;
    log.push(RecordedEvent {
        id: seq as i64,
        seq,
        at,
        actor,
        data,
    });
}

/// Replays `scenario` under `policy` and returns every action fireline takes, in time
/// order. When a step and an action fall at the same instant, the step comes first (a
/// responder acknowledging at the deadline is in time).
pub fn simulate(policy: &Policy, scenario: &Scenario) -> Result<Vec<Fired>, SimulationError> {
    let declared = declare(
        &Declaration {
            title: scenario.title.clone(),
            severity: scenario.severity.clone(),
            service: scenario.service.clone(),
            summary: None,
            category: scenario.category.clone(),
            flags: scenario.flags.clone(),
        },
        policy,
    )
    .map_err(SimulationError::Declaration)?;
    let until = scenario.until.unwrap_or_else(|| {
        scenario
            .start
            .saturating_add(SignedDuration::from_hours(24 * 100))
            .unwrap_or(Timestamp::MAX)
    });
    let mut steps: Vec<(usize, &Step)> = scenario.steps.iter().enumerate().collect();
    steps.sort_by_key(|(i, s)| (s.after, *i));
    let mut log = Vec::new();
    push(&mut log, scenario.start, "scenario".to_owned(), declared);
    let id = IncidentId(1);
    let mut fired = Vec::new();
    let mut next_step = 0;
    loop {
        let step_at = steps.get(next_step).map(|(_, s)| {
            scenario
                .start
                .saturating_add(s.after)
                .unwrap_or(Timestamp::MAX)
        });
        let action_at = pending(policy, &log).first().map(|a| a.at);
        match (step_at, action_at) {
            (Some(at), next) if next.is_none_or(|a| at <= a) => {
                if at > until {
                    break;
                }
                let (index, step) = steps[next_step];
                // A log built only through decide() always folds.
                let state = Incident::fold(id, &log).map_err(|e| SimulationError::Step {
                    index,
                    after: crate::policy::duration::format_fixed(step.after),
                    error: DomainError::Conflict(e.to_string()),
                })?;
                let data =
                    decide(&state, &command(&step.action), policy.catalog()).map_err(|error| {
                        SimulationError::Step {
                            index,
                            after: crate::policy::duration::format_fixed(step.after),
                            error,
                        }
                    })?;
                push(
                    &mut log,
                    at.max(state.updated_at),
                    step.by.clone().unwrap_or_else(|| "responder".to_owned()),
                    data,
                );
                next_step += 1;
            }
            (_, Some(at)) => {
                if at > until {
                    break;
                }
                for e in fire_due(policy, &log, at).events {
                    fired.push(Fired {
                        at: e.at,
                        event: e.data.clone(),
                    });
                    push(&mut log, e.at, e.actor, e.data);
                }
                if fired.len() > MAX_ACTIONS {
                    return Err(SimulationError::Runaway(MAX_ACTIONS));
                }
            }
            _ => break,
        }
    }
    Ok(fired)
}
