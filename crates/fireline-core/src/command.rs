//! What responders ask for, checked against the incident's state before anything is stored.

use crate::policy::Policy;
use crate::{Channel, Stage};
use crate::{EventData, Incident, IncidentRole, SeverityCatalog, Status};

/// Longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// Longest service name, in characters.
pub const MAX_SERVICE: usize = 100;
/// Longest person or principal name, in characters.
pub const MAX_NAME: usize = 100;
/// Longest free text (summary, note, reason), in characters.
pub const MAX_TEXT: usize = 10_000;

/// Why a command was refused. Nothing is stored when it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A field's value is not acceptable, whatever the incident's state.
    #[error("{field}: {message}")]
    Invalid {
        /// The request field at fault.
        field: &'static str,
        /// What is wrong and what would be right.
        message: String,
    },
    /// The request is well formed but the incident's current state does not allow it.
    #[error("{0}")]
    Conflict(String),
}

fn invalid(field: &'static str, message: impl Into<String>) -> DomainError {
    DomainError::Invalid {
        field,
        message: message.into(),
    }
}

/// A new incident as asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    /// One-line title.
    pub title: String,
    /// Severity id, any case.
    pub severity: String,
    /// Affected service.
    pub service: String,
    /// Longer description.
    pub summary: Option<String>,
    /// Category id from the policy.
    pub category: Option<String>,
    /// Flags (`data-loss`, `security`).
    pub flags: Vec<String>,
}

/// Most flags an incident may carry.
pub const MAX_FLAGS: usize = 10;

/// A change to an existing incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Take the incident.
    Acknowledge,
    /// Move to another status; `resolved` resolves.
    ChangeStatus {
        /// Target status.
        to: Status,
        /// What was learned.
        message: Option<String>,
    },
    /// Change the severity.
    ChangeSeverity {
        /// Severity id, any case.
        to: String,
        /// Why.
        reason: Option<String>,
    },
    /// Give a role to someone.
    AssignRole {
        /// The role.
        role: IncidentRole,
        /// Who takes it.
        assignee: String,
    },
    /// Add a note.
    AddNote {
        /// The note.
        text: String,
    },
    /// Resolve.
    Resolve {
        /// How it ended.
        summary: Option<String>,
    },
    /// Reopen a resolved incident.
    Reopen {
        /// Why.
        reason: Option<String>,
    },
    /// Record an update posted on a channel.
    PostUpdate {
        /// Where.
        channel: Channel,
        /// What was said.
        text: String,
    },
    /// Mark a post-mortem stage done.
    CompleteStage {
        /// Which.
        stage: Stage,
    },
    /// Follow this runbook (the caller found it; its steps are snapshotted).
    AttachRunbook {
        /// The runbook as read now.
        runbook: crate::runbook::Runbook,
    },
    /// Check a checklist step off, or uncheck it.
    CheckStep {
        /// The step's id.
        step: String,
        /// Done or not.
        done: bool,
        /// What it showed.
        output: Option<String>,
    },
}

/// Trims `value` and checks it is present, printable and short enough.
fn required_text(field: &'static str, value: &str, max: usize) -> Result<String, DomainError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    bounded_text(field, value, max)
}

fn bounded_text(field: &'static str, value: &str, max: usize) -> Result<String, DomainError> {
    if value.chars().count() > max {
        return Err(invalid(field, format!("must be at most {max} characters")));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(invalid(field, "must not contain control characters"));
    }
    Ok(value.to_owned())
}

/// Optional text: blank counts as absent.
pub(crate) fn optional_text(
    field: &'static str,
    value: Option<&str>,
) -> Result<Option<String>, DomainError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => bounded_text(field, v, MAX_TEXT).map(Some),
    }
}

/// Checks a required single-line name (a person, a principal, a token name): trimmed,
/// non-empty, at most [`MAX_NAME`] characters, no line breaks or control characters.
pub fn required_name(field: &'static str, value: &str) -> Result<String, DomainError> {
    single_line(field, required_text(field, value, MAX_NAME)?)
}

/// Single-line names (titles, services, people) may not contain line breaks.
fn single_line(field: &'static str, value: String) -> Result<String, DomainError> {
    if value.contains(['\n', '\r', '\t']) {
        return Err(invalid(field, "must be a single line"));
    }
    Ok(value)
}

fn severity_id(catalog: &SeverityCatalog, requested: &str) -> Result<String, DomainError> {
    catalog.get(requested).map(|s| s.id.clone()).ok_or_else(|| {
        invalid(
            "severity",
            format!(
                "unknown severity `{}`: expected one of {}",
                requested.trim(),
                catalog.ids()
            ),
        )
    })
}

/// Checks a declaration under `policy` and returns its event data, with the severity
/// in canonical case and the policy recorded.
pub fn declare(new: &Declaration, policy: &Policy) -> Result<EventData, DomainError> {
    let title = single_line("title", required_text("title", &new.title, MAX_TITLE)?)?;
    let service = single_line(
        "service",
        required_text("service", &new.service, MAX_SERVICE)?,
    )?;
    let severity = severity_id(policy.catalog(), &new.severity)?;
    let summary = optional_text("summary", new.summary.as_deref())?;
    let category = match new.category.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) => match policy.category(c) {
            Some(known) => Some(known.id.clone()),
            None if policy.categories.is_empty() => {
                return Err(invalid(
                    "category",
                    format!("unknown category `{c}`: the policy defines none"),
                ))
            }
            None => {
                let ids: Vec<&str> = policy.categories.iter().map(|c| c.id.as_str()).collect();
                return Err(invalid(
                    "category",
                    format!("unknown category `{c}`: expected one of {}", ids.join(", ")),
                ));
            }
        },
    };
    let mut flags: Vec<String> = Vec::new();
    for flag in &new.flags {
        let flag = flag.trim().to_ascii_lowercase();
        if flag.is_empty()
            || flag.len() > 40
            || !flag
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(invalid(
                "flags",
                format!(
                    "`{flag}` is not a flag: use lower-case words joined by '-', e.g. data-loss"
                ),
            ));
        }
        if !flags.contains(&flag) {
            flags.push(flag);
        }
    }
    if flags.len() > MAX_FLAGS {
        return Err(invalid("flags", format!("at most {MAX_FLAGS} flags")));
    }
    Ok(EventData::Declared {
        title,
        severity,
        service,
        summary,
        category,
        flags,
        policy: Some(policy.label()),
    })
}

/// Decides what event `command` produces on `incident`, or why it is refused.
///
/// Notes, updates and role assignments are accepted on resolved incidents (the record is still
/// being written); every other change needs the incident open, and reopening needs it
/// resolved. A change to what already holds is refused, so a retried request never
/// records the same change twice.
pub fn decide(
    incident: &Incident,
    command: &Command,
    catalog: &SeverityCatalog,
) -> Result<EventData, DomainError> {
    let resolved =
        || DomainError::Conflict(format!("{} is resolved; reopen it first", incident.id));
    match command {
        Command::AttachRunbook { runbook } => attach_runbook(incident, runbook),
        Command::CheckStep { step, done, output } => {
            check_step(incident, step, *done, output.as_deref())
        }
        Command::AddNote { text } => Ok(EventData::NoteAdded {
            text: required_text("text", text, MAX_TEXT)?,
        }),
        Command::AssignRole { role, assignee } => assign_role(incident, *role, assignee),
        Command::Reopen { reason } => reopen(incident, reason.as_deref()),
        Command::PostUpdate { channel, text } => Ok(EventData::UpdatePosted {
            channel: *channel,
            text: required_text("text", text, MAX_TEXT)?,
        }),
        Command::CompleteStage { stage } => complete_stage(incident, *stage),
        _ if !incident.status.is_open() => Err(resolved()),
        Command::Acknowledge => match &incident.acknowledged {
            Some((at, by)) => Err(DomainError::Conflict(format!(
                "{} was already acknowledged by {by} at {at}",
                incident.id
            ))),
            None => Ok(EventData::Acknowledged),
        },
        Command::ChangeStatus {
            to: Status::Resolved,
            message,
        } => Ok(EventData::Resolved {
            summary: optional_text("message", message.as_deref())?,
        }),
        Command::ChangeStatus { to, message } => change_status(incident, *to, message.as_deref()),
        Command::ChangeSeverity { to, reason } => {
            change_severity(incident, catalog, to, reason.as_deref())
        }
        Command::Resolve { summary } => Ok(EventData::Resolved {
            summary: optional_text("summary", summary.as_deref())?,
        }),
    }
}

/// Follow `runbook`, unless the incident follows it already.
fn attach_runbook(
    incident: &Incident,
    runbook: &crate::runbook::Runbook,
) -> Result<EventData, DomainError> {
    if incident
        .checklist
        .as_ref()
        .is_some_and(|c| c.runbook == runbook.id)
    {
        return Err(DomainError::Conflict(format!(
            "{} already follows runbook {}",
            incident.id, runbook.id
        )));
    }
    Ok(EventData::RunbookAttached {
        runbook: runbook.id.clone(),
        title: runbook.title.clone(),
        steps: runbook.steps.clone(),
        phases: runbook.phases.clone(),
    })
}

/// Check `step` of the attached runbook off (with what it showed), or uncheck it.
fn check_step(
    incident: &Incident,
    step: &str,
    done: bool,
    output: Option<&str>,
) -> Result<EventData, DomainError> {
    let Some(checklist) = &incident.checklist else {
        return Err(invalid(
            "step",
            format!("{} has no runbook attached; attach one first", incident.id),
        ));
    };
    if checklist.step(step).is_none() {
        return Err(invalid(
            "step",
            format!("runbook {} has no step `{step}`", checklist.runbook),
        ));
    }
    let output = optional_text("output", output)?;
    if !done && output.is_some() {
        return Err(invalid("output", "only a checked step carries output"));
    }
    let was = checklist.done.get(step);
    if !done && was.is_none() {
        return Err(DomainError::Conflict(format!(
            "step `{step}` is not checked"
        )));
    }
    if done && was == Some(&output) {
        return Err(DomainError::Conflict(format!(
            "step `{step}` is already checked"
        )));
    }
    Ok(EventData::ChecklistStepChecked {
        step: step.to_owned(),
        done,
        output,
    })
}

fn assign_role(
    incident: &Incident,
    role: IncidentRole,
    assignee: &str,
) -> Result<EventData, DomainError> {
    let assignee = required_name("assignee", assignee)?;
    if incident.roles.get(&role) == Some(&assignee) {
        return Err(DomainError::Conflict(format!(
            "{assignee} is already {role} of {}",
            incident.id
        )));
    }
    Ok(EventData::RoleAssigned { role, assignee })
}

fn reopen(incident: &Incident, reason: Option<&str>) -> Result<EventData, DomainError> {
    let reason = optional_text("reason", reason)?;
    if incident.status.is_open() {
        return Err(DomainError::Conflict(format!(
            "{} is not resolved",
            incident.id
        )));
    }
    Ok(EventData::Reopened { reason })
}

fn complete_stage(incident: &Incident, stage: Stage) -> Result<EventData, DomainError> {
    if incident.status.is_open() {
        return Err(DomainError::Conflict(format!(
            "{} is not resolved; post-mortem stages come after resolution",
            incident.id
        )));
    }
    Ok(EventData::PostmortemStageCompleted { stage })
}

/// Move an open incident to another open status.
fn change_status(
    incident: &Incident,
    to: Status,
    message: Option<&str>,
) -> Result<EventData, DomainError> {
    let message = optional_text("message", message)?;
    if to == incident.status {
        return Err(DomainError::Conflict(format!(
            "{} is already {to}",
            incident.id
        )));
    }
    Ok(EventData::StatusChanged {
        from: incident.status,
        to,
        message,
    })
}

fn change_severity(
    incident: &Incident,
    catalog: &SeverityCatalog,
    to: &str,
    reason: Option<&str>,
) -> Result<EventData, DomainError> {
    let to = severity_id(catalog, to)?;
    let reason = optional_text("reason", reason)?;
    if to == incident.severity {
        return Err(DomainError::Conflict(format!(
            "{} is already {to}",
            incident.id
        )));
    }
    Ok(EventData::SeverityChanged {
        from: incident.severity.clone(),
        to,
        reason,
    })
}
