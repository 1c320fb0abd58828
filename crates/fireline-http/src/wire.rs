//! Request and response bodies: the API's contract, documented in the OpenAPI document.
//! Requests refuse unknown fields, so a misspelt field is an error rather than ignored.

use fireline_core::{EventData, Incident, RecordedEvent, Severity};
use fireline_store::{IncidentSummary, TokenRecord};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// The body of every error response.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// An error's parts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code: `unauthorized`, `forbidden`, `not_found`,
    /// `bad_request`, `invalid`, `conflict`, `payload_too_large`,
    /// `unsupported_media_type`, `method_not_allowed`, `unavailable`, `internal`.
    pub code: String,
    /// For people.
    pub message: String,
    /// The request field (or `authorization`, `id`) at fault, when one is.
    pub field: Option<String>,
}

/// `GET /health`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// Fireline's version.
    pub version: String,
}

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

/// One event on an incident's timeline.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventView {
    /// Unique across incidents.
    pub id: i64,
    /// Position in the incident's log, from 1.
    pub seq: u64,
    /// RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// Who did it.
    pub actor: String,
    /// `declared`, `acknowledged`, `severity_changed`, `status_changed`,
    /// `role_assigned`, `note_added`, `resolved` or `reopened`.
    pub kind: String,
    /// The kind's fields (e.g. `from`/`to` for changes, `text` for notes).
    #[schema(value_type = Object)]
    pub data: serde_json::Map<String, serde_json::Value>,
}

impl From<&RecordedEvent> for EventView {
    fn from(e: &RecordedEvent) -> Self {
        let mut data = match serde_json::to_value(&e.data) {
            Ok(serde_json::Value::Object(map)) => map,
            // EventData is an internally tagged enum: it always serialises to an object.
            _ => serde_json::Map::new(),
        };
        data.remove("kind");
        EventView {
            id: e.id,
            seq: e.seq,
            at: e.at,
            actor: e.actor.clone(),
            kind: EventData::kind(&e.data).to_owned(),
            data,
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

/// A severity level.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SeverityView {
    /// Id used in requests.
    pub id: String,
    /// Name.
    pub name: String,
    /// When it applies.
    pub description: String,
    /// 1 is the most severe.
    pub rank: u32,
}

impl From<&Severity> for SeverityView {
    fn from(s: &Severity) -> Self {
        SeverityView {
            id: s.id.clone(),
            name: s.name.clone(),
            description: s.description.clone(),
            rank: s.rank,
        }
    }
}

/// `GET /api/v1/severities`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SeverityList {
    /// Most severe first.
    pub severities: Vec<SeverityView>,
}

/// Create a token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenCreateRequest {
    /// `viewer`, `responder` or `admin`.
    #[schema(value_type = AccessRoleName)]
    pub role: String,
    /// The principal it acts as (defaults to its id).
    #[serde(default)]
    pub name: Option<String>,
}

/// A token's record; the secret is shown only once, at creation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenView {
    /// `tok_…`, for revoking.
    pub id: String,
    /// Principal.
    pub name: String,
    /// Role.
    pub role: String,
    /// RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// RFC 3339, if revoked.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
}

impl From<&TokenRecord> for TokenView {
    fn from(t: &TokenRecord) -> Self {
        TokenView {
            id: t.id.clone(),
            name: t.name.clone(),
            role: t.role.to_string(),
            created_at: t.created_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// A UI user (never the password hash).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    /// Username, also the principal recorded on the timeline.
    pub name: String,
    /// Role.
    pub role: String,
    /// RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// RFC 3339: when the password was last set.
    #[schema(value_type = String, format = DateTime)]
    pub password_changed_at: Timestamp,
    /// RFC 3339, if disabled.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub disabled_at: Option<Timestamp>,
}

impl From<&fireline_store::UserRecord> for UserView {
    fn from(u: &fireline_store::UserRecord) -> Self {
        UserView {
            name: u.name.clone(),
            role: u.role.to_string(),
            created_at: u.created_at,
            password_changed_at: u.password_changed_at,
            disabled_at: u.disabled_at,
        }
    }
}

/// A new token.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenCreated {
    /// The secret: send as `Authorization: Bearer …`. Shown once.
    pub token: String,
    /// Its record.
    #[serde(flatten)]
    pub record: TokenView,
}

/// `GET /api/v1/tokens`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenList {
    /// Oldest first.
    pub tokens: Vec<TokenView>,
}

/// `GET /api/v1/whoami`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WhoAmI {
    /// The principal.
    pub name: String,
    /// Its role.
    pub role: String,
    /// The token's id.
    pub token_id: String,
}

/// Escalate by hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateRequest {
    /// Level number from the policy, from 1.
    #[serde(deserialize_with = "integral::u32")]
    pub level: u32,
    /// If given, the change applies only at this version (else 409).
    #[serde(default, deserialize_with = "integral::option_u64")]
    pub expected_version: Option<u64>,
}

/// The policy in force.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PolicySummary {
    /// Name.
    pub name: String,
    /// `name@digest`, as recorded on incidents.
    pub label: String,
    /// What it is for.
    pub description: String,
    /// Severity ids, most severe first.
    pub severities: Vec<String>,
    /// Escalation levels: number and name.
    pub escalation: Vec<EscalationLevelView>,
    /// Category ids.
    pub categories: Vec<String>,
}

/// One escalation level.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EscalationLevelView {
    /// From 1.
    pub level: u32,
    /// Name.
    pub name: String,
    /// Who it reaches.
    pub targets: Vec<String>,
}

/// Alerts accepted: durable, processed shortly.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Accepted {
    /// `accepted`.
    pub status: String,
    /// How many alerts.
    pub alerts: usize,
}

/// Create an integration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrationCreateRequest {
    /// The service its alerts concern unless they say otherwise.
    pub service: String,
    /// Name (defaults to the service).
    #[serde(default)]
    pub name: Option<String>,
}

/// An integration (its key is shown only at creation).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IntegrationView {
    /// `int_…`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Service.
    pub service: String,
    /// RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// RFC 3339, if revoked.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
}

impl From<&fireline_store::IntegrationRecord> for IntegrationView {
    fn from(i: &fireline_store::IntegrationRecord) -> Self {
        IntegrationView {
            id: i.id.clone(),
            name: i.name.clone(),
            service: i.service.clone(),
            created_at: i.created_at,
            revoked_at: i.revoked_at,
        }
    }
}

/// A new integration with its key.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IntegrationCreated {
    /// The key: put it in the receiver URL or send it as a bearer token. Shown once.
    pub key: String,
    /// Its record.
    #[serde(flatten)]
    pub record: IntegrationView,
}

/// `GET /api/v1/integrations`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IntegrationList {
    /// Oldest first.
    pub integrations: Vec<IntegrationView>,
}

/// Create a heartbeat monitor.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatCreateRequest {
    /// The integration (`int_…`) its alerts go through.
    pub integration: String,
    /// Name (`nightly-backup`).
    pub name: String,
    /// Expected time between pings (`5m`, `1h`, `1d`).
    pub interval: String,
    /// Extra time before a late ping counts as missed (default `0m`).
    #[serde(default)]
    pub grace: Option<String>,
}

/// A heartbeat monitor.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HeartbeatView {
    /// `hb_…`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Integration id.
    pub integration: String,
    /// Seconds between pings.
    pub interval_s: i64,
    /// Grace, in seconds.
    pub grace_s: i64,
    /// `waiting` (never pinged), `up` or `down`.
    pub state: String,
    /// Last ping.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_ping_at: Option<Timestamp>,
    /// The next ping is due by then.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub deadline_at: Option<Timestamp>,
}

impl From<&fireline_store::HeartbeatRecord> for HeartbeatView {
    fn from(h: &fireline_store::HeartbeatRecord) -> Self {
        HeartbeatView {
            id: h.id.clone(),
            name: h.name.clone(),
            integration: h.integration.clone(),
            interval_s: h.interval_s,
            grace_s: h.grace_s,
            state: h.state.clone(),
            last_ping_at: h.last_ping_at,
            deadline_at: h.deadline_at,
        }
    }
}

/// A new heartbeat monitor with its key.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HeartbeatCreated {
    /// Ping `POST /api/v1/heartbeats/{key}`. Shown once.
    pub key: String,
    /// Its record.
    #[serde(flatten)]
    pub record: HeartbeatView,
}

/// `GET /api/v1/heartbeats`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HeartbeatList {
    /// Oldest first.
    pub heartbeats: Vec<HeartbeatView>,
}

/// `GET /api/v1/report` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Start: RFC 3339, or a duration back from now (`30d`, default).
    pub since: Option<String>,
    /// End: RFC 3339, or a duration back from now (default: now).
    pub until: Option<String>,
    /// `json` (default) or `html` (a page with charts).
    pub format: Option<String>,
}

// --- On-call roster ---------------------------------------------------------------------
//
// Request bodies are read straight into `fireline_core::oncall` types, so the API accepts
// exactly the roster file's shape (docs/oncall.md) with the same text forms (`09:00`,
// `1w`, `5m`); these views document that shape and are what responses carry. Responses
// are built from the core types' own JSON, so both directions use one set of text forms,
// and every optional field is always present (`null` or `[]`) so clients need no guessing.

/// What a contact's secret reads as in responses: secrets are never sent back. Sending it
/// back in a `PUT` keeps the stored secret of the same contact.
pub const MASKED_SECRET: &str = "****";

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

/// A post-mortem stage (schema only; any case, `-` for `_`).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum StageName {
    /// The first draft.
    Draft,
    /// Reviewed.
    Review,
    /// Published.
    Publish,
    /// The review meeting held.
    ReviewMeeting,
}

/// An access role (schema only; any case is read).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum AccessRoleName {
    /// Reads.
    Viewer,
    /// Acts on incidents.
    Responder,
    /// Everything.
    Admin,
}

/// A status-page component status (schema only; any case, `-` or a space for `_`).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ComponentStatusName {
    /// Working.
    Operational,
    /// Slow or partly failing.
    Degraded,
    /// Down for some.
    PartialOutage,
    /// Down.
    MajorOutage,
    /// Planned work.
    Maintenance,
}

/// A contact kind, as the roster writes it (schema only; parsed by the roster).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ContactKindName {
    /// An e-mail address.
    Email,
    /// A Slack incoming-webhook URL.
    Slack,
    /// A generic HTTP(S) webhook.
    Webhook,
    /// An ntfy topic URL.
    Ntfy,
    /// A Pushover user or group key.
    Pushover,
    /// A mobile number (E.164), texted.
    Sms,
    /// A phone number (E.164), called.
    Voice,
    /// The person's devices subscribed to Web Push (rules only).
    Push,
}

/// A weekday, as the roster writes it (schema only; the full English name is read too).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum WeekdayName {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

/// One way to reach a person.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactView {
    /// `email`, `slack`, `webhook`, `ntfy`, `pushover`, `sms` or `voice`.
    #[schema(value_type = ContactKindName)]
    pub kind: String,
    /// The e-mail address or URL. In full only for admins and for the person themselves
    /// (a web UI session of the user whose name is the person's id); everyone else reads
    /// a masked form with `…` that says how the person is reached but not where:
    /// `a…@example.com`, `https://hooks.slack.com/…`. A masked address is refused in a
    /// `PUT`.
    pub address: String,
    /// A webhook's signing key: `****` when one is set (never the secret itself).
    #[serde(default)]
    pub secret: Option<String>,
}

/// When a person is reached through one kind of contact, counted from the page.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationRuleView {
    /// `email`, `slack`, `webhook`, `ntfy`, `pushover`, `sms`, `voice` or `push`.
    #[schema(value_type = ContactKindName)]
    pub kind: String,
    /// How long after the page: `0m`, `5m`, `1h30m`.
    #[schema(
        pattern = r"^([0-9]{1,5}h([0-9]{1,5}m)?([0-9]{1,5}s)?|[0-9]{1,5}m([0-9]{1,5}s)?|[0-9]{1,5}s)$"
    )]
    pub after: String,
}

/// Someone who can be paged.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonView {
    /// Id (lowercase letters, digits, `-`, `_`).
    #[serde(default)]
    pub id: String,
    /// Full name.
    pub name: String,
    /// IANA time zone, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// Ways to reach them.
    #[serde(default)]
    pub contacts: Vec<ContactView>,
    /// Notification rules as written; empty means every contact at once.
    #[serde(default)]
    pub rules: Vec<NotificationRuleView>,
    /// How long messages that need no waking up wait after the last one on a contact,
    /// to go out together (`0m`: each at once; at most `1h`); absent: the server's
    /// default, 1 minute. Pages are never held.
    #[serde(default)]
    #[schema(
        example = "5m",
        pattern = r"^([0-9]{1,5}h([0-9]{1,5}m)?([0-9]{1,5}s)?|[0-9]{1,5}m([0-9]{1,5}s)?|[0-9]{1,5}s)$"
    )]
    pub bundle: Option<String>,
}

/// A group of people, optionally with the schedule that says which of them is on call.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamView {
    /// Id.
    #[serde(default)]
    pub id: String,
    /// Name.
    pub name: String,
    /// Person ids.
    #[serde(default)]
    pub members: Vec<String>,
    /// The team's schedule id, if it has one.
    #[serde(default)]
    pub schedule: Option<String>,
    /// Services the team owns (reports group their incidents under the team).
    #[serde(default)]
    pub services: Vec<String>,
}

/// A daily window a layer is limited to, in the layer's time zone.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestrictionView {
    /// Days the window starts on (`mon` … `sun`); empty means every day.
    #[serde(default)]
    #[schema(value_type = Vec<WeekdayName>)]
    pub days: Vec<String>,
    /// Local start time, `09:00`.
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$")]
    pub from: String,
    /// Local end time; not after `from` means past midnight.
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$")]
    pub to: String,
}

/// A rotation through participants at a fixed shift length.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LayerView {
    /// Name, shown on the shifts it produces.
    pub name: String,
    /// Person ids in rotation order.
    pub participants: Vec<String>,
    /// Shift length: `12h`, `1d`, `1w`, `2w`, `daily`, `weekly`.
    #[schema(pattern = r"^([0-9]{1,9}[hdw]|daily|weekly)$")]
    pub shift: String,
    /// Local time of day the first shift starts, `00:00`.
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$")]
    pub handoff: String,
    /// Local date of the first shift, `2026-01-05`.
    #[schema(format = Date)]
    pub start: String,
    /// The layer's own IANA zone, if not the schedule's.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Windows the layer is limited to; empty means always.
    #[serde(default)]
    pub restrictions: Vec<RestrictionView>,
}

/// Someone on call instead of whoever the layers say.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideView {
    /// Person id.
    pub person: String,
    /// From (inclusive).
    #[schema(value_type = String, format = DateTime)]
    pub start: Timestamp,
    /// Until (exclusive).
    #[schema(value_type = String, format = DateTime)]
    pub end: Timestamp,
}

/// An on-call schedule.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleView {
    /// Id.
    #[serde(default)]
    pub id: String,
    /// Name.
    pub name: String,
    /// IANA zone the layers' dates and hand-off times are read in.
    pub time_zone: String,
    /// Rotation layers, lowest first: a later layer wins wherever it has someone.
    #[serde(default)]
    pub layers: Vec<LayerView>,
    /// Overrides; they beat every layer, the last listed wins where they overlap.
    #[serde(default)]
    pub overrides: Vec<OverrideView>,
}

/// The whole roster, keyed by id as in the roster file. `PUT /api/v1/roster` refuses an
/// empty object (it would wipe the roster), hence at least one property (set in
/// `openapi::complete`: utoipa-gen 5.5 writes `min_properties` as `maxProperties`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RosterView {
    /// People by id.
    #[serde(default)]
    pub people: BTreeMap<String, PersonView>,
    /// Teams by id.
    #[serde(default)]
    pub teams: BTreeMap<String, TeamView>,
    /// Schedules by id.
    #[serde(default)]
    pub schedules: BTreeMap<String, ScheduleView>,
}

/// `PUT /api/v1/roster`: what was stored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RosterImported {
    /// How many people.
    pub people: usize,
    /// How many teams.
    pub teams: usize,
    /// How many schedules.
    pub schedules: usize,
}

/// `GET /api/v1/people`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PersonList {
    /// By id.
    pub people: Vec<PersonView>,
}

/// `GET /api/v1/teams`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TeamList {
    /// By id.
    pub teams: Vec<TeamView>,
}

/// `GET /api/v1/schedules`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScheduleList {
    /// By id.
    pub schedules: Vec<ScheduleView>,
}

/// A stretch of time one person is on call.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ShiftView {
    /// Person id.
    pub person: String,
    /// From (inclusive).
    #[schema(value_type = String, format = DateTime)]
    pub start: Timestamp,
    /// Until (exclusive).
    #[schema(value_type = String, format = DateTime)]
    pub end: Timestamp,
    /// The layer it came from; `null` for an override.
    pub layer: Option<String>,
}

/// Who is on call on one schedule at an instant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OnCallView {
    /// Schedule id.
    pub schedule: String,
    /// Schedule name.
    pub name: String,
    /// The schedule's IANA zone, for showing times locally.
    pub time_zone: String,
    /// The shift covering the instant; `null` when nobody is on call.
    pub shift: Option<ShiftView>,
}

/// `GET /api/v1/oncall`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OnCallList {
    /// The instant asked about.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// One entry per schedule, by id.
    pub oncall: Vec<OnCallView>,
}

/// `GET /api/v1/schedules/{id}/shifts`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ShiftList {
    /// Schedule id.
    pub schedule: String,
    /// Schedule name.
    pub name: String,
    /// The schedule's IANA zone.
    pub time_zone: String,
    /// Window start (inclusive).
    #[schema(value_type = String, format = DateTime)]
    pub from: Timestamp,
    /// Window end (exclusive).
    #[schema(value_type = String, format = DateTime)]
    pub to: Timestamp,
    /// Consecutive shifts in the window; times with nobody on call are absent.
    pub shifts: Vec<ShiftView>,
}

/// `POST /api/v1/people/{id}/test` query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TestPageQuery {
    /// Only the contacts of this kind [default: every contact].
    #[param(value_type = Option<ContactKindName>)]
    pub kind: Option<String>,
}

/// Test pages queued for a person, one per contact.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestPagesSent {
    /// The person.
    pub person: String,
    /// The contacts a test page is on its way to (addresses masked); each asks its
    /// reader to confirm, which marks the contact verified.
    pub sent: Vec<TestPageView>,
}

/// One test page.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestPageView {
    /// The contact's kind.
    #[schema(value_type = ContactKindName)]
    pub kind: String,
    /// The contact's address, masked.
    pub address: String,
    /// Whether the contact was already verified by an earlier test.
    pub verified: bool,
}

/// `GET /api/v1/oncall` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OnCallQuery {
    /// The instant, RFC 3339 [default: now].
    #[param(value_type = Option<String>, format = DateTime)]
    pub at: Option<Timestamp>,
    /// Only this schedule.
    pub schedule: Option<String>,
}

/// `PUT /api/v1/roster` query: the guards against replacing a working roster with one
/// that pages nobody, each lifted only when asked for by name.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RosterPutQuery {
    /// Accept a roster with no people, though people are stored now (emptying the
    /// roster on purpose) [default: false].
    pub allow_empty: Option<bool>,
    /// Accept a roster that lacks schedules, teams or people the policy in force pages
    /// and the stored roster has (those pages would reach nobody) [default: false].
    pub allow_unknown_targets: Option<bool>,
}

/// One calendar feed a caller can subscribe to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CalendarFeedView {
    /// `schedule` or `person`.
    pub kind: String,
    /// The schedule's or person's id.
    pub id: String,
    /// The schedule's or person's name.
    pub name: String,
    /// The URL to subscribe to: the feed's path with its read-only secret as `?token=`
    /// (`flc_…`), which opens this feed and nothing else.
    pub url: String,
}

/// `GET /api/v1/calendar-feeds`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CalendarFeedList {
    /// Every schedule's feed, then every person's, by id.
    pub feeds: Vec<CalendarFeedView>,
}

/// `GET /api/v1/schedules/{id}/shifts` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ShiftQuery {
    /// Window start, RFC 3339 [default: now].
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<Timestamp>,
    /// Window end, RFC 3339 [default: 14 days after `from`; at most 366 days after it].
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<Timestamp>,
}

impl From<&fireline_core::oncall::Shift> for ShiftView {
    fn from(s: &fireline_core::oncall::Shift) -> Self {
        ShiftView {
            person: s.person.clone(),
            start: s.start,
            end: s.end,
            layer: s.layer.clone(),
        }
    }
}

/// Draft a post-mortem from the incident's events. The body may be empty.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostmortemDraftRequest {
    /// A built-in template (`standard`, `agentic-flow`, `production-agents`); default:
    /// the policy's `[post_incident] template`.
    #[serde(default)]
    pub template: Option<String>,
}

/// Save a post-mortem's text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostmortemEditRequest {
    /// The whole new Markdown text.
    pub text: String,
    /// The version the edit was made on (409 if someone saved since).
    #[serde(deserialize_with = "integral::u64")]
    pub expected_version: u64,
}

/// Complete a post-mortem stage. The body may be empty: the next stage in order.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageRequest {
    /// `draft`, `review`, `publish` or `review_meeting`; default: the next of draft,
    /// review, publish.
    #[serde(default)]
    #[schema(value_type = Option<StageName>)]
    pub stage: Option<String>,
}

/// Export format.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `md` (default) or `html` (a self-contained page).
    #[param(pattern = r"^(md|markdown|html)?$")]
    pub format: Option<String>,
}

/// A post-mortem stage: deadline, reminder, completion.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StageView {
    /// `draft`, `review`, `publish` or `review_meeting`.
    pub stage: String,
    /// The policy's deadline, if it sets one.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Timestamp>,
    /// When the reminder comes, if one does.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub remind_at: Option<Timestamp>,
    /// When it was completed.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<Timestamp>,
    /// Past its deadline and not completed by it.
    pub overdue: bool,
}

/// An earlier incident that may share a cause.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RelatedView {
    /// `INC-<n>`.
    pub id: String,
    /// Title.
    pub title: String,
    /// Service.
    pub service: String,
    /// Severity id.
    pub severity: String,
    /// Status.
    pub status: String,
    /// Declared at.
    #[schema(value_type = String, format = DateTime)]
    pub declared_at: Timestamp,
    /// `same service`, `shared alert INTEGRATION/KEY`.
    pub reasons: Vec<String>,
}

impl From<&fireline_core::postmortem::Related> for RelatedView {
    fn from(r: &fireline_core::postmortem::Related) -> Self {
        RelatedView {
            id: r.id.to_string(),
            title: r.title.clone(),
            service: r.service.clone(),
            severity: r.severity.clone(),
            status: r.status.to_string(),
            declared_at: r.declared_at,
            reasons: r.reasons.clone(),
        }
    }
}

/// Related incidents.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RelatedList {
    /// Newest first.
    pub related: Vec<RelatedView>,
}

/// A post-mortem with its stages, related incidents and action items.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PostmortemView {
    /// `INC-<n>`.
    pub incident: String,
    /// Send it back as `expected_version` to save over this text.
    pub version: u64,
    /// `draft`, `review` or `published`.
    pub phase: String,
    /// The template it was drafted from.
    pub template: String,
    /// Markdown.
    pub text: String,
    /// Drafted at.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Drafted by.
    pub created_by: String,
    /// Last saved at.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Last saved by.
    pub updated_by: String,
    /// Stages with deadlines or completions, in order.
    pub stages: Vec<StageView>,
    /// Earlier incidents of the same service or sharing an alert.
    pub related: Vec<RelatedView>,
    /// The incident's action items.
    pub action_items: Vec<ActionItemView>,
}

/// One saved version.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RevisionView {
    /// Version.
    pub version: u64,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// Who.
    pub actor: String,
    /// What changed (`drafted`, `+3 −1 lines`).
    pub summary: String,
    /// The whole text at this version.
    pub text: String,
}

/// A post-mortem's history.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PostmortemHistory {
    /// Oldest first.
    pub revisions: Vec<RevisionView>,
}

/// Add an action item to an incident's post-mortem.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionCreateRequest {
    /// What to do, one line.
    pub title: String,
    /// Who: a roster person id gets reminders.
    pub owner: String,
    /// `P0` … `P3`.
    pub priority: String,
    /// `YYYY-MM-DD`.
    pub due: String,
}

/// Change an action item; absent fields stay. Closing is `POST …/close`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionUpdateRequest {
    /// New title.
    #[serde(default)]
    pub title: Option<String>,
    /// New owner.
    #[serde(default)]
    pub owner: Option<String>,
    /// New priority.
    #[serde(default)]
    pub priority: Option<String>,
    /// New due date.
    #[serde(default)]
    pub due: Option<String>,
    /// `open` or `in_progress` (also reopens a closed item).
    #[serde(default)]
    pub status: Option<String>,
}

/// Close an action item: a note is required.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionCloseRequest {
    /// What was done, or why it will not be.
    #[serde(default)]
    pub note: Option<String>,
    /// `done` (default) or `wont_do`.
    #[serde(default)]
    pub status: Option<String>,
}

/// Filters for listing action items.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ActionListQuery {
    /// Only open items past their due day.
    pub overdue: Option<bool>,
    /// Only this owner's.
    pub owner: Option<String>,
    /// Only this incident's.
    pub incident: Option<String>,
    /// `open` (default: open and in progress) or `all`.
    #[param(pattern = r"^(open|all)?$")]
    pub status: Option<String>,
    /// At most this many, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// An action item.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ActionItemView {
    /// `AI-<n>`.
    pub id: String,
    /// The number alone.
    pub number: u64,
    /// `INC-<n>`: the incident and its post-mortem.
    pub incident: String,
    /// What to do.
    pub title: String,
    /// Who.
    pub owner: String,
    /// `P0` … `P3`.
    pub priority: String,
    /// `YYYY-MM-DD`.
    pub due: String,
    /// `open`, `in_progress`, `done` or `wont_do`.
    pub status: String,
    /// Why it was closed.
    pub note: Option<String>,
    /// Open past its due day.
    pub overdue: bool,
    /// Created at.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Created by.
    pub created_by: String,
    /// Last changed at.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Last changed by.
    pub updated_by: String,
}

impl ActionItemView {
    /// The view of `item` at `now` (which decides `overdue`).
    pub fn of(item: &fireline_core::postmortem::ActionItem, now: Timestamp) -> Self {
        ActionItemView {
            id: item.label(),
            number: item.id,
            incident: item.incident.to_string(),
            title: item.title.clone(),
            owner: item.owner.clone(),
            priority: item.priority.to_string(),
            due: item.due.to_string(),
            status: item.status.to_string(),
            note: item.note.clone(),
            overdue: item.is_overdue(now),
            created_at: item.created_at,
            created_by: item.created_by.clone(),
            updated_at: item.updated_at,
            updated_by: item.updated_by.clone(),
        }
    }
}

/// Action items.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ActionList {
    /// Soonest due first.
    pub action_items: Vec<ActionItemView>,
}

/// Accepted alerts that joined no incident, latest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertDropList {
    /// One entry per alert identity and reason, repeats counted.
    pub dropped: Vec<AlertDropView>,
}

/// Accepted alerts of one identity that joined no incident for one reason.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertDropView {
    /// The integration they came through (`int_…`).
    pub integration: String,
    /// Their identity (dedup key).
    pub dedup_key: String,
    /// Why they joined no incident.
    pub reason: String,
    /// The latest summary line.
    pub summary: String,
    /// How many.
    pub count: u64,
    /// RFC 3339: the first one.
    #[schema(value_type = String, format = DateTime)]
    pub first_at: Timestamp,
    /// RFC 3339: the latest one.
    #[schema(value_type = String, format = DateTime)]
    pub last_at: Timestamp,
}

impl From<&fireline_store::AlertDrop> for AlertDropView {
    fn from(d: &fireline_store::AlertDrop) -> Self {
        AlertDropView {
            integration: d.integration.clone(),
            dedup_key: d.dedup_key.clone(),
            reason: d.reason.clone(),
            summary: d.summary.clone(),
            count: d.count,
            first_at: d.first_at,
            last_at: d.last_at,
        }
    }
}

/// Accepted payloads whose processing kept failing, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterList {
    /// Parked payloads.
    pub dead_letters: Vec<DeadLetterView>,
}

/// An accepted payload parked after repeated processing failures.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterView {
    /// Its id: re-drive or discard it with this.
    pub id: i64,
    /// The integration it came through (`int_…`).
    pub integration: String,
    /// RFC 3339: when it was accepted.
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    /// RFC 3339: when it was parked.
    #[schema(value_type = String, format = DateTime)]
    pub dead_at: Timestamp,
    /// Failed processing attempts.
    pub attempts: u32,
    /// The last failure.
    pub last_error: String,
    /// The summary lines of its alerts (at most 20), when they can be read.
    pub summaries: Vec<String>,
    /// The payload as stored (JSON text), cut to 64 KiB.
    pub payload: String,
}

impl From<&fireline_store::DeadLetter> for DeadLetterView {
    fn from(d: &fireline_store::DeadLetter) -> Self {
        let summaries = serde_json::from_str::<Vec<fireline_core::alert::AlertInput>>(&d.alerts)
            .map(|alerts| alerts.into_iter().take(20).map(|a| a.summary).collect())
            .unwrap_or_default();
        let mut payload = d.alerts.clone();
        if payload.len() > 64 * 1024 {
            let mut end = 64 * 1024;
            while !payload.is_char_boundary(end) {
                end -= 1;
            }
            payload.truncate(end);
        }
        DeadLetterView {
            id: d.id,
            integration: d.integration.clone(),
            received_at: d.received_at,
            dead_at: d.dead_at,
            attempts: d.attempts,
            last_error: d.last_error.clone(),
            summaries,
            payload,
        }
    }
}

/// What became of a dead letter.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterOutcome {
    /// Its id.
    pub id: i64,
    /// `requeued` (back in the inbox, processed next) or `discarded`.
    pub status: String,
}

/// Refuses a NUL character in request text that reaches the database: PostgreSQL cannot
/// store one in text (the request failed with 500 there, and passed on SQLite), and no
/// name, note or filter needs one. 422 naming `field`, on both backends.
pub fn refuse_nul(field: &str, value: &str) -> Result<(), crate::ApiError> {
    if value.contains('\0') {
        return Err(crate::ApiError::invalid(
            field,
            "must not contain NUL characters",
        ));
    }
    Ok(())
}

/// Integers in request bodies, read as JSON Schema reads `integer`: any number without a
/// fractional part, so `5.0` is 5 (some JSON writers put every number as a float). A
/// fraction, a negative or an out-of-range number is refused with serde's own wording.
/// For `#[serde(deserialize_with = "integral::…")]`.
pub mod integral {
    use serde::de::{Error, Unexpected};
    use serde::{Deserialize, Deserializer};

    fn to_u64<E: Error>(n: &serde_json::Number, max: u64, expected: &str) -> Result<u64, E> {
        let out_of_range = |e: Unexpected<'_>| E::invalid_value(e, &expected);
        if let Some(v) = n.as_u64() {
            return if v <= max {
                Ok(v)
            } else {
                Err(out_of_range(Unexpected::Unsigned(v)))
            };
        }
        if let Some(v) = n.as_i64() {
            return Err(out_of_range(Unexpected::Signed(v)));
        }
        let f = n.as_f64().unwrap_or(f64::NAN);
        if f.fract() != 0.0 || !f.is_finite() {
            return Err(E::invalid_type(Unexpected::Float(f), &expected));
        }
        // `max as f64` may round up (u64::MAX does), so compare below the next power of 2.
        if f < 0.0 || f >= (max as f64) + 1.0 {
            return Err(out_of_range(Unexpected::Float(f)));
        }
        Ok((f as u64).min(max))
    }

    /// A `u64`.
    pub fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        to_u64(&serde_json::Number::deserialize(d)?, u64::MAX, "u64")
    }

    /// An optional `u64` (`null` is none).
    pub fn option_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        Option::<serde_json::Number>::deserialize(d)?
            .map(|n| to_u64(&n, u64::MAX, "u64"))
            .transpose()
    }

    /// A `u32`.
    pub fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let n = serde_json::Number::deserialize(d)?;
        to_u64(&n, u32::MAX.into(), "u32").map(|v| v as u32)
    }
}
