//! Incidents (`routes/incidents.rs`): declaring and changing them, their state, timeline
//! (its events are in `wire/events.rs`) and checklist, and the schema-only names of their
//! statuses, roles and update channels.

use super::integral;
use super::EventView;
use fireline_core::Incident;
use fireline_store::IncidentSummary;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// Declare an incident.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclareRequest {
    /// One line, at most 200 characters.
    #[schema(
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x1f\x7f-\x9f\s][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub title: String,
    /// A severity id from `GET /api/v1/severities`, any case.
    pub severity: String,
    /// The affected service: one line, at most 100 characters.
    #[schema(
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x1f\x7f-\x9f\s][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub service: String,
    /// Longer description.
    #[serde(default)]
    #[schema(
        max_length = 10000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    pub summary: Option<String>,
    /// A category id from the policy (selects recovery objectives).
    #[serde(default)]
    pub category: Option<String>,
    /// Flags such as `data-loss` or `security`: at most 10, lower-case words joined by `-`.
    #[serde(default)]
    #[schema(max_items = 10, value_type = Vec<FlagName>)]
    pub flags: Vec<String>,
}

/// An incident flag (schema only): lower-case letters, digits and `-`, 1 to 40.
#[derive(ToSchema)]
#[schema(pattern = r"^[a-z0-9-]{1,40}$")]
pub struct FlagName(pub String);

/// Record an update posted on a channel; the channel's cadence restarts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequest {
    /// `internal`, `status_page` or `customer`.
    #[schema(value_type = ChannelName)]
    pub channel: String,
    /// The text posted; with a template, the template's `message` variable.
    #[serde(default)]
    pub text: String,
    /// Render this policy template (`internal_update`, `status_page_update`,
    /// `customer_email`, `outage_notice`, `resolution_notice`, `escalation`, `handoff`).
    /// Without it, `vars` select the channel's default template; with neither, `text` is
    /// posted as it is.
    #[serde(default)]
    pub template: Option<String>,
    /// Template variables (`impact`, `root_cause`, `mitigation`, `eta`, …).
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// Render and return the text without posting anything.
    #[serde(default)]
    pub dry_run: bool,
    /// If given, the change applies only at this version (else 409).
    #[serde(default, deserialize_with = "integral::option_u64")]
    pub expected_version: Option<u64>,
}

/// Acknowledge an incident. The body may be empty.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeRequest {
    /// If given, the change applies only at this version (else 409).
    #[serde(default, deserialize_with = "integral::option_u64")]
    pub expected_version: Option<u64>,
}

/// Change the status; `resolved` resolves.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// `investigating`, `identified`, `monitoring` or `resolved`.
    #[schema(value_type = IncidentStatusName)]
    pub status: String,
    /// What was learned.
    #[serde(default)]
    #[schema(
        max_length = 10000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    pub message: Option<String>,
    /// If given, the change applies only at this version (else 409).
    #[serde(default, deserialize_with = "integral::option_u64")]
    pub expected_version: Option<u64>,
}

/// Change the severity.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityRequest {
    /// A severity id, any case.
    pub severity: String,
    /// Why.
    #[serde(default)]
    #[schema(
        max_length = 10000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    pub reason: Option<String>,
    /// If given, the change applies only at this version (else 409).
    #[serde(default, deserialize_with = "integral::option_u64")]
    pub expected_version: Option<u64>,
}

/// Add a note.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// The note: at most 10,000 characters, not blank.
    #[schema(
        max_length = 10000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\s][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    pub text: String,
    /// If given, the change applies only at this version (else 409).
    #[serde(default, deserialize_with = "integral::option_u64")]
    pub expected_version: Option<u64>,
}

/// Give a role to someone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// `commander`, `tech_lead`, `comms` or `subject_matter_expert` (`ic`, `sme` too).
    #[schema(value_type = IncidentRoleName)]
    pub role: String,
    /// Who takes it: one line, at most 100 characters.
    #[schema(
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x1f\x7f-\x9f\s][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub assignee: String,
    /// If given, the change applies only at this version (else 409).
    #[serde(default, deserialize_with = "integral::option_u64")]
    pub expected_version: Option<u64>,
}

/// Resolve. The body may be empty.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    /// How it ended.
    #[serde(default)]
    #[schema(
        max_length = 10000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    pub summary: Option<String>,
    /// If given, the change applies only at this version (else 409).
    #[serde(default, deserialize_with = "integral::option_u64")]
    pub expected_version: Option<u64>,
}

/// Reopen. The body may be empty.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenRequest {
    /// Why.
    #[serde(default)]
    #[schema(
        max_length = 10000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    pub reason: Option<String>,
    /// If given, the change applies only at this version (else 409).
    #[serde(default, deserialize_with = "integral::option_u64")]
    pub expected_version: Option<u64>,
}

/// Filters for listing incidents.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `open` (default), `resolved` or `all`.
    #[param(pattern = r"^(open|resolved|all)?$")]
    pub status: Option<String>,
    /// Only this severity.
    pub severity: Option<String>,
    /// Only this service.
    pub service: Option<String>,
    /// At most this many, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// An incident's current state.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IncidentView {
    /// `INC-<number>`.
    pub id: String,
    /// The number alone.
    pub number: u64,
    /// Title.
    pub title: String,
    /// Longer description.
    pub summary: Option<String>,
    /// Affected service.
    pub service: String,
    /// Severity id.
    pub severity: String,
    /// `investigating`, `identified`, `monitoring` or `resolved`.
    pub status: String,
    /// RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    pub declared_at: Timestamp,
    /// Who declared it.
    pub declared_by: String,
    /// Since it was last (re)opened.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acknowledged_at: Option<Timestamp>,
    /// Who acknowledged it.
    pub acknowledged_by: Option<String>,
    /// While resolved.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<Timestamp>,
    /// Role → holder.
    pub roles: BTreeMap<String, String>,
    /// Category id, if any.
    pub category: Option<String>,
    /// Flags.
    pub flags: Vec<String>,
    /// The policy in force at declaration (`name@digest`).
    pub policy: Option<String>,
    /// Number of events; send it back as `expected_version` to act only on this state.
    pub version: u64,
    /// Time of the last event.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<&Incident> for IncidentView {
    fn from(i: &Incident) -> Self {
        IncidentView {
            id: i.id.to_string(),
            number: i.id.0,
            title: i.title.clone(),
            summary: i.summary.clone(),
            service: i.service.clone(),
            severity: i.severity.clone(),
            status: i.status.to_string(),
            declared_at: i.declared_at,
            declared_by: i.declared_by.clone(),
            acknowledged_at: i.acknowledged.as_ref().map(|(at, _)| *at),
            acknowledged_by: i.acknowledged.as_ref().map(|(_, by)| by.clone()),
            resolved_at: i.resolved_at,
            roles: i
                .roles
                .iter()
                .map(|(role, who)| (role.to_string(), who.clone()))
                .collect(),
            category: i.category.clone(),
            flags: i.flags.clone(),
            policy: i.policy.clone(),
            version: i.version,
            updated_at: i.updated_at,
        }
    }
}

/// An incident with its timeline.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IncidentDetail {
    /// Current state.
    pub incident: IncidentView,
    /// The runbook being followed, with progress; null when none is attached.
    #[serde(default)]
    pub checklist: Option<ChecklistView>,
    /// Every event, oldest first.
    pub timeline: Vec<EventView>,
    /// The incident channel's name under the policy in force (`#inc-7`).
    #[serde(default)]
    pub channel_name: Option<String>,
    /// Channel → when its next update is owed (RFC 3339), for channels with a required
    /// cadence while the incident is open.
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, String>)]
    pub next_updates: BTreeMap<String, Timestamp>,
}

/// An update rendered (and, unless `dry_run`, posted).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UpdateResponse {
    /// Nothing was stored.
    pub dry_run: bool,
    /// The text sent (or that would be).
    pub text: String,
    /// Wording warnings (a public ETA); not blocking.
    pub warnings: Vec<String>,
    /// The incident after the update (before it, for a dry run).
    pub incident: IncidentView,
    /// Every event, oldest first.
    pub timeline: Vec<EventView>,
    /// The incident channel's name.
    pub channel_name: Option<String>,
    /// Channel → when its next update is owed.
    #[schema(value_type = BTreeMap<String, String>)]
    pub next_updates: BTreeMap<String, Timestamp>,
}

/// The runbook an incident follows, as attached, and how far along it is.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChecklistView {
    /// The runbook's id.
    pub runbook: String,
    /// Its title.
    pub title: String,
    /// Steps checked off.
    pub done: usize,
    /// Steps in all.
    pub total: usize,
    /// `5 of 12 steps`.
    pub progress: String,
    /// Every step, in order.
    pub steps: Vec<StepView>,
    /// Phases with their windows (empty for most runbooks).
    #[serde(default)]
    pub phases: Vec<PhaseView>,
}

/// One checklist step.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StepView {
    /// Stable id, for `POST …/checklist/{step}`.
    pub id: String,
    /// Its section.
    pub section: String,
    /// What to do.
    pub text: String,
    /// The command to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Its phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Checked off.
    pub done: bool,
    /// Output attached when it was checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

/// A phase's window relative to declaration, at the time of the response.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PhaseView {
    /// Its name.
    pub name: String,
    /// Window opens.
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    /// Window closes.
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: Timestamp,
    /// Its steps checked.
    pub done: usize,
    /// Its steps.
    pub total: usize,
    /// Past its window with steps unchecked.
    pub overdue: bool,
}

impl ChecklistView {
    /// The incident's checklist at `now` (phases are judged against it).
    pub fn new(incident: &Incident, now: Timestamp) -> Option<ChecklistView> {
        let c = incident.checklist.as_ref()?;
        let (done, total) = c.progress();
        Some(ChecklistView {
            runbook: c.runbook.clone(),
            title: c.title.clone(),
            done,
            total,
            progress: format!("{done} of {total} steps"),
            steps: c
                .steps
                .iter()
                .map(|s| StepView {
                    id: s.id.clone(),
                    section: s.section.clone(),
                    text: s.text.clone(),
                    command: s.command.clone(),
                    phase: s.phase.clone(),
                    done: c.done.contains_key(&s.id),
                    output: c.done.get(&s.id).cloned().flatten(),
                })
                .collect(),
            phases: fireline_core::runbook::phase_status(c, incident.declared_at, now)
                .into_iter()
                .map(|p| PhaseView {
                    name: p.name,
                    starts_at: p.starts_at,
                    ends_at: p.ends_at,
                    done: p.done,
                    total: p.total,
                    overdue: p.overdue,
                })
                .collect(),
        })
    }
}

/// `POST /api/v1/incidents/{id}/runbook`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachRunbookRequest {
    /// The runbook's id, from the server's runbook folder.
    pub runbook: String,
    /// Apply only to this version (409 otherwise).
    #[serde(default, deserialize_with = "integral::option_u64")]
    pub expected_version: Option<u64>,
}

/// `POST /api/v1/incidents/{id}/checklist/{step}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckStepRequest {
    /// Checked (default) or unchecked.
    #[serde(default = "yes")]
    pub done: bool,
    /// What the step showed (only with `done`).
    #[serde(default)]
    pub output: Option<String>,
    /// Apply only to this version (409 otherwise).
    #[serde(default, deserialize_with = "integral::option_u64")]
    pub expected_version: Option<u64>,
}

fn yes() -> bool {
    true
}

/// An incident as listed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IncidentSummaryView {
    /// `INC-<number>`.
    pub id: String,
    /// The number alone.
    pub number: u64,
    /// Title.
    pub title: String,
    /// Service.
    pub service: String,
    /// Severity id.
    pub severity: String,
    /// Status.
    pub status: String,
    /// RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    pub declared_at: Timestamp,
    /// Who declared it.
    pub declared_by: String,
    /// Since last (re)opened.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acknowledged_at: Option<Timestamp>,
    /// While resolved.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<Timestamp>,
    /// Time of the last event.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Number of events.
    pub version: u64,
}

impl From<&IncidentSummary> for IncidentSummaryView {
    fn from(s: &IncidentSummary) -> Self {
        IncidentSummaryView {
            id: s.id.to_string(),
            number: s.id.0,
            title: s.title.clone(),
            service: s.service.clone(),
            severity: s.severity.clone(),
            status: s.status.to_string(),
            declared_at: s.declared_at,
            declared_by: s.declared_by.clone(),
            acknowledged_at: s.acknowledged_at,
            resolved_at: s.resolved_at,
            updated_at: s.updated_at,
            version: s.version,
        }
    }
}

/// `GET /api/v1/incidents`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IncidentList {
    /// Open first, newest first.
    pub incidents: Vec<IncidentSummaryView>,
}

/// Escalate by hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateRequest {
    /// Level number from the policy, from 1.
    #[serde(deserialize_with = "integral::u32")]
    pub level: u32,
    /// Why, for the people it reaches and the timeline.
    #[serde(default)]
    #[schema(
        max_length = 10000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    pub reason: Option<String>,
    /// If given, the change applies only at this version (else 409).
    #[serde(default, deserialize_with = "integral::option_u64")]
    pub expected_version: Option<u64>,
}

/// An incident status (schema only; any case is read).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum IncidentStatusName {
    /// Being looked into.
    Investigating,
    /// The cause is known.
    Identified,
    /// A fix is in; watching.
    Monitoring,
    /// Over.
    Resolved,
}

/// An incident role (schema only; any case, `-` for `_`; `ic` and `sme` are short forms).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum IncidentRoleName {
    /// Incident commander.
    Commander,
    /// Technical lead.
    TechLead,
    /// Communications.
    Comms,
    /// Subject-matter expert.
    SubjectMatterExpert,
    /// Short for commander.
    Ic,
    /// Long form of commander.
    IncidentCommander,
    /// Short for subject-matter expert.
    Sme,
}

/// An update channel (schema only; any case, `-` for `_`).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ChannelName {
    /// The responders.
    Internal,
    /// The public status page.
    StatusPage,
    /// Customers, directly.
    Customer,
}
