//! Incident events as the API shows them, on the timelines of `routes/incidents.rs`.
//!
//! Events are stored as JSON of `fireline_core::EventData`; the API does not pass that
//! JSON through. Each kind has its own wire struct here (`DeclaredData`, …), built field
//! by field from the core variant (the conversion names every field, so a field added to
//! a core variant does not compile until it is given a place here), and described in
//! the OpenAPI document: [`EventView`] is documented as its header plus [`EventBody`],
//! a `oneOf` of `{kind, data}` pairs, one per kind. The JSON is the same as the stored
//! event's, with `kind` beside `data` rather than inside it.

use fireline_core::runbook::{Phase, Step};
use fireline_core::{
    Channel, ClockKind, EventData, IncidentRole, Recipient, RecordedEvent, Stage, Status,
};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;

/// One event on an incident's timeline: `kind` says which, `data` holds that kind's
/// fields (documented per kind as [`EventBody`]).
///
/// Clients read it as the kind's name and its fields as a JSON object, so a client still
/// reads a timeline with kinds newer than itself; the server builds both from
/// [`EventBody`], never from the stored JSON.
#[derive(Debug, Serialize, Deserialize)]
pub struct EventView {
    /// Unique across incidents.
    pub id: i64,
    /// Position in the incident's log, from 1.
    pub seq: u64,
    /// RFC 3339.
    pub at: Timestamp,
    /// Who did it.
    pub actor: String,
    /// The kind (`declared`, `note_added`, …).
    pub kind: String,
    /// The kind's fields, as [`EventBody`] documents them.
    pub data: serde_json::Map<String, serde_json::Value>,
}

impl From<&RecordedEvent> for EventView {
    fn from(e: &RecordedEvent) -> Self {
        let (kind, data) = EventBody::from(&e.data).into_parts();
        EventView {
            id: e.id,
            seq: e.seq,
            at: e.at,
            actor: e.actor.clone(),
            kind,
            data,
        }
    }
}

/// One event on an incident's timeline: `id`, `seq`, `at` and `actor`, and by `kind` the
/// fields of that kind under `data`. Fields marked optional are left out when they have
/// no value (they are never `null`).
#[derive(ToSchema)]
#[allow(dead_code)] // The document's description of `EventView`, never built.
struct EventViewSchema {
    /// Unique across incidents.
    id: i64,
    /// Position in the incident's log, from 1.
    seq: u64,
    /// RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    at: Timestamp,
    /// Who did it.
    actor: String,
    /// The kind and its fields.
    #[serde(flatten)]
    body: EventBody,
}

impl utoipa::PartialSchema for EventView {
    fn schema() -> RefOr<Schema> {
        <EventViewSchema as utoipa::PartialSchema>::schema()
    }
}

impl ToSchema for EventView {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("EventView")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        <EventViewSchema as ToSchema>::schemas(schemas);
    }
}

/// An event's kind (`kind`) and that kind's fields (`data`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum EventBody {
    /// The incident was declared.
    Declared(DeclaredData),
    /// A responder took the incident.
    Acknowledged(AcknowledgedData),
    /// The severity changed.
    SeverityChanged(SeverityChangedData),
    /// The status moved between open statuses.
    StatusChanged(StatusChangedData),
    /// Someone took a role.
    RoleAssigned(RoleAssignedData),
    /// A note.
    NoteAdded(NoteAddedData),
    /// The incident was resolved.
    Resolved(ResolvedData),
    /// The incident was opened again.
    Reopened(ReopenedData),
    /// An update was posted on a channel.
    UpdatePosted(UpdatePostedData),
    /// A post-mortem stage was completed.
    PostmortemStageCompleted(PostmortemStageCompletedData),
    /// An alert joined the incident.
    AlertAttached(AlertAttachedData),
    /// A firing alert's content changed.
    AlertUpdated(AlertUpdatedData),
    /// An alert stopped firing.
    AlertResolved(AlertResolvedData),
    /// Fireline paged the targets a severity's policy names.
    Paged(PagedData),
    /// An escalation level was reached.
    Escalated(EscalatedData),
    /// Escalation ran out of levels and repeats with nobody acknowledging.
    EscalationExhausted(EscalationExhaustedData),
    /// A notification reached a person.
    Notified(NotifiedData),
    /// A notification could not be delivered and will not be retried.
    NotificationFailed(NotificationFailedData),
    /// A response clock ran out before its goal was met.
    SlaBreached(SlaBreachedData),
    /// An update is due on a channel.
    UpdateDue(UpdateDueData),
    /// Customers must (or should) be told.
    CustomerNoticeDue(CustomerNoticeDueData),
    /// The fix held for the policy's monitoring time.
    MonitoringVerified(MonitoringVerifiedData),
    /// A post-mortem stage is due.
    PostmortemDue(PostmortemDueData),
    /// A follow-up checkpoint is due.
    FollowupDue(FollowupDueData),
    /// A post-mortem stage's deadline is near.
    PostmortemReminder(PostmortemReminderData),
    /// A one-shot update deadline on a channel is near, with no update since it was owed.
    NoticeReminder(NoticeReminderData),
    /// A one-shot update deadline on a channel passed with no update since it was owed.
    NoticeOverdue(NoticeOverdueData),
    /// A runbook was attached.
    RunbookAttached(RunbookAttachedData),
    /// A checklist step was checked off or unchecked.
    ChecklistStepChecked(ChecklistStepCheckedData),
}

impl EventBody {
    /// The kind's name and its fields, as [`EventView`] carries them.
    pub fn into_parts(self) -> (String, serde_json::Map<String, serde_json::Value>) {
        let mut pair = match serde_json::to_value(&self) {
            Ok(serde_json::Value::Object(pair)) => pair,
            // Adjacently tagged with struct contents: always `{"kind": …, "data": {…}}`.
            other => {
                tracing::error!(?other, "an event body did not serialise to an object");
                serde_json::Map::new()
            }
        };
        let kind = match pair.remove("kind") {
            Some(serde_json::Value::String(kind)) => kind,
            _ => String::new(),
        };
        let data = match pair.remove("data") {
            Some(serde_json::Value::Object(data)) => data,
            _ => serde_json::Map::new(),
        };
        (kind, data)
    }
}

/// Builds [`EventBody`] from `EventData` field by field: each entry names a variant, its
/// wire struct and every one of its fields (a struct pattern without `..`, so a field
/// added to the core variant is a compile error here until it is placed).
macro_rules! event_bodies {
    ($($variant:ident($view:ident) { $($field:ident),* $(,)? }),* $(,)?) => {
        impl From<&EventData> for EventBody {
            fn from(data: &EventData) -> EventBody {
                match data {
                    $(EventData::$variant { $($field),* } => EventBody::$variant($view {
                        $($field: ToWire::to_wire($field)),*
                    }),)*
                }
            }
        }
    };
}

event_bodies! {
    Declared(DeclaredData) { title, severity, service, summary, category, flags, policy },
    Acknowledged(AcknowledgedData) {},
    SeverityChanged(SeverityChangedData) { from, to, reason },
    StatusChanged(StatusChangedData) { from, to, message },
    RoleAssigned(RoleAssignedData) { role, assignee },
    NoteAdded(NoteAddedData) { text },
    Resolved(ResolvedData) { summary },
    Reopened(ReopenedData) { reason },
    UpdatePosted(UpdatePostedData) { channel, text },
    PostmortemStageCompleted(PostmortemStageCompletedData) { stage },
    AlertAttached(AlertAttachedData) {
        integration, dedup_key, summary, labels, annotations, starts_at, link, route, runbook,
        digest, reason, group, targets,
    },
    AlertUpdated(AlertUpdatedData) {
        dedup_key, integration, summary, labels, annotations, digest,
    },
    AlertResolved(AlertResolvedData) { dedup_key, integration, summary },
    Paged(PagedData) { key, severity, targets, recipients, unreached },
    Escalated(EscalatedData) { key, level, name, targets, reason, recipients, unreached },
    EscalationExhausted(EscalationExhaustedData) {
        key, level, repeats, targets, recipients, unreached,
    },
    Notified(NotifiedData) { key, person, channel, detail, bundled },
    NotificationFailed(NotificationFailedData) { key, person, channel, error, attempts },
    SlaBreached(SlaBreachedData) { key, clock, target },
    UpdateDue(UpdateDueData) { key, channel },
    CustomerNoticeDue(CustomerNoticeDueData) { key, required, due_by },
    MonitoringVerified(MonitoringVerifiedData) { key },
    PostmortemDue(PostmortemDueData) { key, stage },
    FollowupDue(FollowupDueData) { key, label },
    PostmortemReminder(PostmortemReminderData) { key, stage, due_by },
    NoticeReminder(NoticeReminderData) { key, channel, due_by },
    NoticeOverdue(NoticeOverdueData) { key, channel, due_by },
    RunbookAttached(RunbookAttachedData) { runbook, title, steps, phases },
    ChecklistStepChecked(ChecklistStepCheckedData) { step, done, output },
}

/// A core value as its wire form: a copy for plain values, the wire enum or struct for
/// core ones.
trait ToWire<T> {
    fn to_wire(&self) -> T;
}

/// Plain values: the same value.
macro_rules! same_on_the_wire {
    ($($t:ty),*) => {
        $(impl ToWire<$t> for $t {
            fn to_wire(&self) -> $t {
                self.clone()
            }
        })*
    };
}

same_on_the_wire!(String, u32, bool, Timestamp, BTreeMap<String, String>);

impl<A: ToWire<B>, B> ToWire<Option<B>> for Option<A> {
    fn to_wire(&self) -> Option<B> {
        self.as_ref().map(ToWire::to_wire)
    }
}

impl<A: ToWire<B>, B> ToWire<Vec<B>> for Vec<A> {
    fn to_wire(&self) -> Vec<B> {
        self.iter().map(ToWire::to_wire).collect()
    }
}

/// `declared`: always the first event, and only there.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeclaredData {
    /// One-line title.
    pub title: String,
    /// Severity id from the catalog in force at the time.
    pub severity: String,
    /// The affected service.
    pub service: String,
    /// Longer description; absent when none was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub summary: Option<String>,
    /// Category id from the policy; absent when none was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub category: Option<String>,
    /// Flags such as `data-loss` or `security`; absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    /// The policy in force at declaration (`name@digest`); absent for incidents declared
    /// before policies were recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub policy: Option<String>,
}

/// `acknowledged`: no fields.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgedData {}

/// `severity_changed`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SeverityChangedData {
    /// Previous severity id.
    pub from: String,
    /// New severity id.
    pub to: String,
    /// Why; absent when not given.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reason: Option<String>,
}

/// `status_changed` (between open statuses; resolving is `resolved`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusChangedData {
    /// Previous status.
    pub from: EventStatus,
    /// New status.
    pub to: EventStatus,
    /// What was learned; absent when not given.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub message: Option<String>,
}

/// `role_assigned`: whoever held the role before no longer does.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoleAssignedData {
    /// The role.
    pub role: EventRole,
    /// Who holds it now.
    pub assignee: String,
}

/// `note_added`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoteAddedData {
    /// The note.
    pub text: String,
}

/// `resolved`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResolvedData {
    /// How it ended; absent when not given.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub summary: Option<String>,
}

/// `reopened`: back to investigating, unacknowledged.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReopenedData {
    /// Why; absent when not given.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reason: Option<String>,
}

/// `update_posted`: that channel's cadence restarts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UpdatePostedData {
    /// Where.
    pub channel: EventChannel,
    /// The text sent.
    pub text: String,
}

/// `postmortem_stage_completed`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PostmortemStageCompletedData {
    /// Which stage.
    pub stage: EventStage,
}

/// `alert_attached`: an alert joined (new, firing again, or grouped).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertAttachedData {
    /// The integration it came through.
    pub integration: String,
    /// Its identity.
    pub dedup_key: String,
    /// One line.
    pub summary: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// When it started firing (RFC 3339); absent when the source did not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Option<Timestamp>,
    /// Link to the source; absent when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub link: Option<String>,
    /// The route that matched; absent when none did.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub route: Option<String>,
    /// The runbook the route names; absent when it names none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub runbook: Option<String>,
    /// Content digest.
    pub digest: String,
    /// Why it joined (`new alert`, `joined its group`, `firing again`).
    pub reason: String,
    /// The group it belongs to (empty for alerts recorded before groups).
    pub group: String,
    /// Extra targets the route pages for it (`schedule:…`, `person:…`); absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
}

/// `alert_updated`: a firing alert's content changed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertUpdatedData {
    /// Its identity.
    pub dedup_key: String,
    /// The integration.
    pub integration: String,
    /// One line.
    pub summary: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// Content digest.
    pub digest: String,
}

/// `alert_resolved`: an alert stopped firing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertResolvedData {
    /// Its identity.
    pub dedup_key: String,
    /// The integration.
    pub integration: String,
    /// One line.
    pub summary: String,
}

/// Someone a page or an escalation reached.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecipientView {
    /// The person's id in the roster.
    pub person: String,
    /// The target that named them (`schedule:sre-primary`, `team:sre/schedule:…`).
    pub via: String,
}

impl ToWire<RecipientView> for Recipient {
    fn to_wire(&self) -> RecipientView {
        RecipientView {
            person: self.person.clone(),
            via: self.via.clone(),
        }
    }
}

/// `paged`: fireline paged the targets a severity's policy names.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PagedData {
    /// The policy action's key (it fires once).
    pub key: String,
    /// The severity that called for it.
    pub severity: String,
    /// Who (`schedule:…`, `person:…`).
    pub targets: Vec<String>,
    /// The people the targets resolved to, and through which target; absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<RecipientView>,
    /// Targets that resolved to nobody; absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreached: Vec<String>,
}

/// `escalated`: an escalation level was reached.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EscalatedData {
    /// The policy action's key; absent for manual escalations.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub key: Option<String>,
    /// Level number, from 1.
    pub level: u32,
    /// Level name.
    pub name: String,
    /// Who it reaches.
    pub targets: Vec<String>,
    /// Which trigger held.
    pub reason: String,
    /// The people the targets resolved to, and through which target; absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<RecipientView>,
    /// Targets that resolved to nobody; absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreached: Vec<String>,
}

/// `escalation_exhausted`: the last level repeated as often as the policy allows and
/// nobody acknowledged.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EscalationExhaustedData {
    /// The policy action's key.
    pub key: String,
    /// The last level.
    pub level: u32,
    /// How many times it was repeated.
    pub repeats: u32,
    /// Everyone in every level, told that escalation ran out.
    pub targets: Vec<String>,
    /// The people the targets resolved to; absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<RecipientView>,
    /// Targets that resolved to nobody; absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreached: Vec<String>,
}

/// `notified`: one message reached a person.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotifiedData {
    /// The outbox message's idempotency key.
    pub key: String,
    /// Who.
    pub person: String,
    /// How (`email`, `slack`, `webhook`, …).
    pub channel: String,
    /// What the far end answered.
    pub detail: String,
    /// Pages carried by this one message (1 unless flood control bundled a burst).
    pub bundled: u32,
}

/// `notification_failed`: a message could not be delivered and will not be retried.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationFailedData {
    /// The outbox message's idempotency key.
    pub key: String,
    /// Who.
    pub person: String,
    /// How.
    pub channel: String,
    /// Why (the host only, credentials in URLs removed).
    pub error: String,
    /// Attempts made.
    pub attempts: u32,
}

/// `sla_breached`: a response clock ran out before its goal was met.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SlaBreachedData {
    /// The policy action's key.
    pub key: String,
    /// Which clock.
    pub clock: EventClock,
    /// Its target (`15m`).
    pub target: String,
}

/// `update_due`: an update is due on a channel.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UpdateDueData {
    /// The policy action's key.
    pub key: String,
    /// Which channel.
    pub channel: EventChannel,
}

/// `customer_notice_due`: customers must (or should) be told, by `due_by`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerNoticeDueData {
    /// The policy action's key.
    pub key: String,
    /// Required by policy, or recommended.
    pub required: bool,
    /// Deadline, RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    pub due_by: Timestamp,
}

/// `monitoring_verified`: the fix held for the policy's monitoring time.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MonitoringVerifiedData {
    /// The policy action's key.
    pub key: String,
}

/// `postmortem_due`: a post-mortem stage is overdue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PostmortemDueData {
    /// The policy action's key.
    pub key: String,
    /// Which stage.
    pub stage: EventStage,
}

/// `followup_due`: a follow-up checkpoint is due.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FollowupDueData {
    /// The policy action's key.
    pub key: String,
    /// Its label (`1 week`).
    pub label: String,
}

/// `postmortem_reminder`: a stage's deadline is near and the stage is not done.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PostmortemReminderData {
    /// The policy action's key.
    pub key: String,
    /// Which stage.
    pub stage: EventStage,
    /// The stage's deadline, RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    pub due_by: Timestamp,
}

/// `notice_reminder`: a one-shot update deadline on a channel (the severity's
/// `notices`) is near, and no update has been posted there since it was owed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoticeReminderData {
    /// The policy action's key.
    pub key: String,
    /// The channel owed an update.
    pub channel: EventChannel,
    /// The deadline, RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    pub due_by: Timestamp,
}

/// `notice_overdue`: a one-shot update deadline on a channel passed with no update
/// posted there since it was owed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoticeOverdueData {
    /// The policy action's key.
    pub key: String,
    /// The channel owed an update.
    pub channel: EventChannel,
    /// The deadline that passed, RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    pub due_by: Timestamp,
}

/// A runbook step as it was when the runbook was attached.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunbookStepData {
    /// Stable id.
    pub id: String,
    /// The `##` section it is in.
    pub section: String,
    /// What to do.
    pub text: String,
    /// The command to run; absent when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub command: Option<String>,
    /// The phase it belongs to; absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub phase: Option<String>,
}

impl ToWire<RunbookStepData> for Step {
    fn to_wire(&self) -> RunbookStepData {
        RunbookStepData {
            id: self.id.clone(),
            section: self.section.clone(),
            text: self.text.clone(),
            command: self.command.clone(),
            phase: self.phase.clone(),
        }
    }
}

/// A runbook phase as it was when the runbook was attached.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunbookPhaseData {
    /// The heading without its window.
    pub name: String,
    /// Window start, in minutes after declaration.
    pub from_minutes: u32,
    /// Window end, in minutes after declaration.
    pub to_minutes: u32,
}

impl ToWire<RunbookPhaseData> for Phase {
    fn to_wire(&self) -> RunbookPhaseData {
        RunbookPhaseData {
            name: self.name.clone(),
            from_minutes: self.from_minutes,
            to_minutes: self.to_minutes,
        }
    }
}

/// `runbook_attached`: the runbook's steps and phases, copied as they were; attaching
/// another replaces the checklist.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunbookAttachedData {
    /// The runbook's id.
    pub runbook: String,
    /// Its title.
    pub title: String,
    /// Its steps.
    pub steps: Vec<RunbookStepData>,
    /// Its phases; absent when it has none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<RunbookPhaseData>,
}

/// `checklist_step_checked`: a step was checked off (or unchecked).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChecklistStepCheckedData {
    /// The step's id.
    pub step: String,
    /// Checked (true) or unchecked.
    pub done: bool,
    /// Output the responder attached; absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub output: Option<String>,
}

/// An incident status, as events name it.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// Being looked into.
    Investigating,
    /// The cause is known.
    Identified,
    /// A fix is in; watching.
    Monitoring,
    /// Over.
    Resolved,
}

impl ToWire<EventStatus> for Status {
    fn to_wire(&self) -> EventStatus {
        match self {
            Status::Investigating => EventStatus::Investigating,
            Status::Identified => EventStatus::Identified,
            Status::Monitoring => EventStatus::Monitoring,
            Status::Resolved => EventStatus::Resolved,
        }
    }
}

/// An incident role, as events name it.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventRole {
    /// Incident commander.
    Commander,
    /// Technical lead.
    TechLead,
    /// Communications.
    Comms,
    /// Subject-matter expert.
    SubjectMatterExpert,
}

impl ToWire<EventRole> for IncidentRole {
    fn to_wire(&self) -> EventRole {
        match self {
            IncidentRole::Commander => EventRole::Commander,
            IncidentRole::TechLead => EventRole::TechLead,
            IncidentRole::Comms => EventRole::Comms,
            IncidentRole::SubjectMatterExpert => EventRole::SubjectMatterExpert,
        }
    }
}

/// An update channel, as events name it.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventChannel {
    /// The responders.
    Internal,
    /// The public status page.
    StatusPage,
    /// Customers, directly.
    Customer,
}

impl ToWire<EventChannel> for Channel {
    fn to_wire(&self) -> EventChannel {
        match self {
            Channel::Internal => EventChannel::Internal,
            Channel::StatusPage => EventChannel::StatusPage,
            Channel::Customer => EventChannel::Customer,
        }
    }
}

/// A post-mortem stage, as events name it.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventStage {
    /// A first draft.
    Draft,
    /// Reviewed.
    Review,
    /// Published.
    Publish,
    /// The review meeting held.
    ReviewMeeting,
}

impl ToWire<EventStage> for Stage {
    fn to_wire(&self) -> EventStage {
        match self {
            Stage::Draft => EventStage::Draft,
            Stage::Review => EventStage::Review,
            Stage::Publish => EventStage::Publish,
            Stage::ReviewMeeting => EventStage::ReviewMeeting,
        }
    }
}

/// A response clock, as events name it.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventClock {
    /// Someone acknowledged.
    Acknowledge,
    /// A responder acted after acknowledging.
    FirstResponse,
    /// The first update was posted.
    InitialUpdate,
    /// Impact was mitigated.
    Mitigate,
    /// Resolved.
    Resolve,
}

impl ToWire<EventClock> for ClockKind {
    fn to_wire(&self) -> EventClock {
        match self {
            ClockKind::Acknowledge => EventClock::Acknowledge,
            ClockKind::FirstResponse => EventClock::FirstResponse,
            ClockKind::InitialUpdate => EventClock::InitialUpdate,
            ClockKind::Mitigate => EventClock::Mitigate,
            ClockKind::Resolve => EventClock::Resolve,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fireline_core::runbook::{Phase, Step};
    use serde_json::Value;
    use std::collections::BTreeSet;

    fn t0() -> Timestamp {
        "2026-03-02T14:00:00.123456Z".parse().expect("valid")
    }

    fn reached() -> Vec<Recipient> {
        vec![Recipient {
            person: "bob".into(),
            via: "schedule:primary".into(),
        }]
    }

    /// What responders do, with every optional field set and every one left out.
    fn responder_kinds() -> Vec<EventData> {
        vec![
            EventData::Declared {
                title: "Checkout 5xx".into(),
                severity: "SEV2".into(),
                service: "checkout".into(),
                summary: Some("errors above 5%".into()),
                category: Some("availability".into()),
                flags: vec!["data-loss".into()],
                policy: Some("default@0123456789abcdef".into()),
            },
            EventData::Declared {
                title: "t".into(),
                severity: "SEV3".into(),
                service: "s".into(),
                summary: None,
                category: None,
                flags: vec![],
                policy: None,
            },
            EventData::Acknowledged,
            EventData::SeverityChanged {
                from: "SEV2".into(),
                to: "SEV1".into(),
                reason: Some("all regions".into()),
            },
            EventData::StatusChanged {
                from: Status::Investigating,
                to: Status::Monitoring,
                message: None,
            },
            EventData::RoleAssigned {
                role: IncidentRole::SubjectMatterExpert,
                assignee: "carol".into(),
            },
            EventData::NoteAdded {
                text: "rolled back".into(),
            },
            EventData::Resolved { summary: None },
            EventData::Resolved {
                summary: Some("fixed".into()),
            },
            EventData::Reopened { reason: None },
            EventData::UpdatePosted {
                channel: Channel::StatusPage,
                text: "We are investigating.".into(),
            },
            EventData::PostmortemStageCompleted {
                stage: Stage::ReviewMeeting,
            },
        ]
    }

    /// Alerts joining, changing and resolving.
    fn alert_kinds() -> Vec<EventData> {
        let labels: BTreeMap<String, String> =
            [("alertname".to_owned(), "HighErrors".to_owned())].into();
        vec![
            EventData::AlertAttached {
                integration: "prom".into(),
                dedup_key: "HighErrors".into(),
                summary: "5xx above 5%".into(),
                labels: labels.clone(),
                annotations: BTreeMap::new(),
                starts_at: Some(t0()),
                link: Some("https://prom.example.com/graph".into()),
                route: Some("checkout".into()),
                runbook: Some("checkout-5xx".into()),
                digest: "d1g3st".into(),
                reason: "new alert".into(),
                group: "g".into(),
                targets: vec!["person:bob".into()],
            },
            EventData::AlertAttached {
                integration: "prom".into(),
                dedup_key: "Other".into(),
                summary: "s".into(),
                labels: BTreeMap::new(),
                annotations: BTreeMap::new(),
                starts_at: None,
                link: None,
                route: None,
                runbook: None,
                digest: "d".into(),
                reason: "joined its group".into(),
                group: String::new(),
                targets: vec![],
            },
            EventData::AlertUpdated {
                dedup_key: "HighErrors".into(),
                integration: "prom".into(),
                summary: "5xx above 7%".into(),
                labels,
                annotations: [("runbook".to_owned(), "x".to_owned())].into(),
                digest: "d1g3st".into(),
            },
            EventData::AlertResolved {
                dedup_key: "HighErrors".into(),
                integration: "prom".into(),
                summary: "5xx above 7%".into(),
            },
        ]
    }

    /// Pages, escalations and notifications.
    fn paging_kinds() -> Vec<EventData> {
        vec![
            EventData::Paged {
                key: "c0:page".into(),
                severity: "SEV2".into(),
                targets: vec!["schedule:primary".into(), "schedule:night".into()],
                recipients: reached(),
                unreached: vec!["schedule:night".into()],
            },
            EventData::Escalated {
                key: Some("c0:escalate:2".into()),
                level: 2,
                name: "Engineering lead".into(),
                targets: vec!["team:engineering-leads".into()],
                reason: "open longer than 2h".into(),
                recipients: reached(),
                unreached: vec![],
            },
            EventData::Escalated {
                key: None,
                level: 1,
                name: "On call".into(),
                targets: vec![],
                reason: "by hand".into(),
                recipients: vec![],
                unreached: vec!["schedule:x".into()],
            },
            EventData::EscalationExhausted {
                key: "c0:exhausted".into(),
                level: 2,
                repeats: 3,
                targets: vec!["person:bob".into()],
                recipients: reached(),
                unreached: vec![],
            },
            EventData::Notified {
                key: "outbox:7:bob:slack".into(),
                person: "bob".into(),
                channel: "slack".into(),
                detail: "HTTP 200".into(),
                bundled: 1,
            },
            EventData::NotificationFailed {
                key: "outbox:8:carol:email".into(),
                person: "carol".into(),
                channel: "email".into(),
                error: "mailbox full".into(),
                attempts: 1,
            },
        ]
    }

    /// What the policy records when its timers come due, and runbooks.
    fn policy_and_runbook_kinds() -> Vec<EventData> {
        let step = |command: Option<&str>, phase: Option<&str>| Step {
            id: "triage-check-the-dashboard".into(),
            section: "Triage".into(),
            text: "Check the dashboard".into(),
            command: command.map(str::to_owned),
            phase: phase.map(str::to_owned),
            line: 7,
        };
        vec![
            EventData::SlaBreached {
                key: "c0:sla_breach:acknowledge".into(),
                clock: ClockKind::FirstResponse,
                target: "5m".into(),
            },
            EventData::UpdateDue {
                key: "c0:update:internal:1".into(),
                channel: Channel::Internal,
            },
            EventData::CustomerNoticeDue {
                key: "c0:notice".into(),
                required: false,
                due_by: t0(),
            },
            EventData::MonitoringVerified {
                key: "c0:monitoring".into(),
            },
            EventData::PostmortemDue {
                key: "c0:postmortem:draft".into(),
                stage: Stage::Draft,
            },
            EventData::FollowupDue {
                key: "c0:followup:0".into(),
                label: "1 week".into(),
            },
            EventData::PostmortemReminder {
                key: "c0:postmortem_reminder:publish".into(),
                stage: Stage::Publish,
                due_by: t0(),
            },
            EventData::NoticeReminder {
                key: "c0:notice_reminder:customer".into(),
                channel: Channel::Customer,
                due_by: t0(),
            },
            EventData::NoticeOverdue {
                key: "c0:notice_overdue:status_page".into(),
                channel: Channel::StatusPage,
                due_by: t0(),
            },
            EventData::RunbookAttached {
                runbook: "checkout-5xx".into(),
                title: "Checkout 5xx".into(),
                steps: vec![
                    step(None, None),
                    step(Some("kubectl get pods"), Some("Triage")),
                ],
                phases: vec![Phase {
                    name: "Triage".into(),
                    from_minutes: 0,
                    to_minutes: 5,
                }],
            },
            EventData::RunbookAttached {
                runbook: "r".into(),
                title: "R".into(),
                steps: vec![],
                phases: vec![],
            },
            EventData::ChecklistStepChecked {
                step: "triage-check-the-dashboard".into(),
                done: true,
                output: Some("all green".into()),
            },
            EventData::ChecklistStepChecked {
                step: "s".into(),
                done: false,
                output: None,
            },
        ]
    }

    /// Events of every kind, several with optional fields both set and left out.
    fn every_kind() -> Vec<EventData> {
        [
            responder_kinds(),
            alert_kinds(),
            paging_kinds(),
            policy_and_runbook_kinds(),
        ]
        .concat()
    }

    /// What `EventView` carried before the wire views: the stored JSON, `kind` taken out.
    fn stored_json(data: &EventData) -> serde_json::Map<String, Value> {
        let mut map = match serde_json::to_value(data).expect("serialises") {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        };
        map.remove("kind");
        map
    }

    #[test]
    fn every_kind_shows_the_json_it_showed_before() {
        let events = every_kind();
        let kinds: BTreeSet<&str> = events.iter().map(EventData::kind).collect();
        assert_eq!(kinds.len(), 29, "one of each kind at least: {kinds:?}");
        for (i, data) in events.into_iter().enumerate() {
            let recorded = RecordedEvent {
                id: i as i64 + 1,
                seq: i as u64 + 1,
                at: t0(),
                actor: "alice".into(),
                data,
            };
            let view = EventView::from(&recorded);
            let before = stored_json(&recorded.data);
            assert_eq!(view.kind, recorded.data.kind());
            assert_eq!(view.data, before, "{}", view.kind);
            // The whole event as a client reads it, and back into the core event.
            let json = serde_json::to_value(&view).expect("serialises");
            let keys: BTreeSet<&str> = json
                .as_object()
                .expect("object")
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(
                keys,
                BTreeSet::from(["id", "seq", "at", "actor", "kind", "data"])
            );
            assert_eq!(json["at"], "2026-03-02T14:00:00.123456Z");
            // (As stored: a runbook step's `line` is neither stored nor shown.)
            let read: EventView = serde_json::from_value(json).expect("reads back");
            let again =
                EventData::from_kind_and_fields(&read.kind, &read.data).expect("core reads it");
            assert_eq!(stored_json(&again), before, "{}", read.kind);
        }
    }

    /// Every schema reachable from `schema`, `$ref`s followed once each.
    fn reachable<'a>(
        doc: &'a Value,
        schema: &'a Value,
        seen: &mut BTreeSet<String>,
    ) -> Vec<(String, &'a Value)> {
        if let Some(name) = schema["$ref"].as_str() {
            let name = name.trim_start_matches("#/components/schemas/").to_owned();
            if !seen.insert(name.clone()) {
                return vec![];
            }
            return reachable(doc, &doc["components"]["schemas"][&name], seen)
                .into_iter()
                .map(|(at, s)| (format!("{name}{at}"), s))
                .collect();
        }
        let mut out = vec![(String::new(), schema)];
        let mut follow = |at: String, sub: &'a Value, seen: &mut BTreeSet<String>| {
            out.extend(
                reachable(doc, sub, seen)
                    .into_iter()
                    .map(|(rest, s)| (format!("{at}{rest}"), s)),
            );
        };
        for (name, sub) in schema["properties"].as_object().into_iter().flatten() {
            follow(format!(".{name}"), sub, seen);
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            for (i, sub) in schema[key].as_array().into_iter().flatten().enumerate() {
                follow(format!(".{key}[{i}]"), sub, seen);
            }
        }
        for key in ["items", "additionalProperties"] {
            if schema[key].is_object() {
                follow(format!(".{key}"), &schema[key], seen);
            }
        }
        out
    }

    #[test]
    fn the_document_describes_every_kind_and_no_free_form_object() {
        let doc = serde_json::to_value(crate::openapi::document()).expect("JSON");
        let body = &doc["components"]["schemas"]["EventBody"];
        let documented: BTreeSet<&str> = body["oneOf"]
            .as_array()
            .expect("EventBody is a oneOf")
            .iter()
            .map(|alt| {
                assert!(alt["properties"]["data"]["$ref"].is_string(), "{alt}");
                alt["properties"]["kind"]["enum"][0]
                    .as_str()
                    .expect("a kind")
            })
            .collect();
        let kinds: BTreeSet<&str> = every_kind().iter().map(EventData::kind).collect();
        assert_eq!(documented, kinds);
        for path in ["/api/v1/incidents/{id}", "/api/v1/incidents/{id}/updates"] {
            let ok = &doc["paths"][path]["get"]["responses"]["200"];
            let ok = if ok.is_null() {
                &doc["paths"][path]["post"]["responses"]["200"]
            } else {
                ok
            };
            let schema = &ok["content"]["application/json"]["schema"];
            let all = reachable(&doc, schema, &mut BTreeSet::new());
            assert!(all.iter().any(|(at, _)| at.contains("EventBody")), "{path}");
        }
        let event = json!({"$ref": "#/components/schemas/EventView"});
        let all = reachable(&doc, &event, &mut BTreeSet::new());
        assert!(
            all.len() > 100,
            "only {} schemas under EventView",
            all.len()
        );
        for (at, schema) in all {
            assert!(
                !schema.as_object().is_some_and(|o| o.is_empty()),
                "{at}: an empty (any-value) schema"
            );
            let object = schema["type"] == "object" || !schema["properties"].is_null();
            let free = object
                && schema["properties"].is_null()
                && !schema["additionalProperties"].is_object()
                && schema["additionalProperties"] != false;
            assert!(!free, "{at}: a free-form object: {schema}");
        }
    }

    use serde_json::json;
}
