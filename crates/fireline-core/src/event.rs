//! Events: the only thing stored about an incident. State and timeline derive from them.
//!
//! Adding an event kind takes a variant here, its effect in [`crate::Incident::apply`] and,
//! if responders cause it, a [`crate::Command`]. Stored events are JSON of [`EventData`],
//! so a variant's fields are a storage format: add fields as `Option` or with defaults,
//! never rename them.

use crate::{Channel, ClockKind, Stage};
use crate::{IncidentRole, Status};
use jiff::Timestamp;

/// What happened, with its data.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventData {
    /// The incident was declared. Always the first event, and only there.
    Declared {
        /// One-line title.
        title: String,
        /// Severity id from the catalog in force at the time.
        severity: String,
        /// The affected service.
        service: String,
        /// Longer description, if given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        summary: Option<String>,
        /// Category id from the policy (selects recovery objectives).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        category: Option<String>,
        /// Flags such as `data-loss` or `security`, which escalation can trigger on.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        flags: Vec<String>,
        /// The policy in force at declaration (`name@digest`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        policy: Option<String>,
    },
    /// A responder took the incident.
    Acknowledged,
    /// The severity changed.
    SeverityChanged {
        /// Previous severity id.
        from: String,
        /// New severity id.
        to: String,
        /// Why, if given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The status moved between open statuses.
    StatusChanged {
        /// Previous status.
        from: Status,
        /// New status (never `resolved`: that is [`EventData::Resolved`]).
        to: Status,
        /// What was learned, if given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// Someone took a role; whoever held it before no longer does.
    RoleAssigned {
        /// The role.
        role: IncidentRole,
        /// Who holds it now.
        assignee: String,
    },
    /// A free-text note on the timeline.
    NoteAdded {
        /// The note.
        text: String,
    },
    /// The incident was resolved.
    Resolved {
        /// How it ended, if given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        summary: Option<String>,
    },
    /// A resolved incident was opened again; it goes back to investigating, unacknowledged.
    Reopened {
        /// Why, if given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// An update was posted on a channel; that channel's cadence restarts.
    UpdatePosted {
        /// Where.
        channel: Channel,
        /// The text sent.
        text: String,
    },
    /// A post-mortem stage was completed.
    PostmortemStageCompleted {
        /// Which.
        stage: Stage,
    },
    /// An alert joined the incident (new, firing again, or grouped).
    AlertAttached {
        /// The integration it came through.
        integration: String,
        /// Its identity.
        dedup_key: String,
        /// One line.
        summary: String,
        /// Labels.
        #[serde(default)]
        labels: std::collections::BTreeMap<String, String>,
        /// Annotations.
        #[serde(default)]
        annotations: std::collections::BTreeMap<String, String>,
        /// When it started firing.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        starts_at: Option<Timestamp>,
        /// Link to the source.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link: Option<String>,
        /// The route that matched.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        route: Option<String>,
        /// The runbook the route names.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        runbook: Option<String>,
        /// Content digest.
        digest: String,
        /// Why it joined (`new alert`, `joined its group`, `firing again`).
        reason: String,
        /// The group it belongs to (alerts of one group join one incident).
        #[serde(default)]
        group: String,
        /// Extra targets the route pages for it (`schedule:…`, `person:…`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        targets: Vec<String>,
    },
    /// A firing alert's content changed.
    AlertUpdated {
        /// Its identity.
        dedup_key: String,
        /// The integration.
        integration: String,
        /// One line.
        summary: String,
        /// Labels.
        #[serde(default)]
        labels: std::collections::BTreeMap<String, String>,
        /// Annotations.
        #[serde(default)]
        annotations: std::collections::BTreeMap<String, String>,
        /// Content digest.
        digest: String,
    },
    /// An alert stopped firing.
    AlertResolved {
        /// Its identity.
        dedup_key: String,
        /// The integration.
        integration: String,
        /// One line.
        summary: String,
    },
    /// Fireline paged the targets a severity's policy names.
    Paged {
        /// The action's key: it fires once.
        key: String,
        /// The severity that called for it.
        severity: String,
        /// Who (`schedule:…`, `person:…`).
        targets: Vec<String>,
        /// The people the targets resolved to when it fired, and through which target.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        recipients: Vec<Recipient>,
        /// Targets that resolved to nobody (a schedule gap, an unknown name).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        unreached: Vec<String>,
    },
    /// An escalation level was reached.
    Escalated {
        /// The action's key (absent for manual escalations).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
        /// Level number, from 1.
        level: u32,
        /// Level name.
        name: String,
        /// Who it reaches.
        targets: Vec<String>,
        /// Which trigger held.
        reason: String,
        /// The people the targets resolved to when it fired, and through which target.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        recipients: Vec<Recipient>,
        /// Targets that resolved to nobody (a schedule gap, an unknown name).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        unreached: Vec<String>,
    },
    /// The last escalation level repeated as often as the policy allows and still nobody
    /// acknowledged: fireline has run out of people to try, and says so to all of them.
    EscalationExhausted {
        /// The action's key.
        key: String,
        /// The last level.
        level: u32,
        /// How many times it was repeated.
        repeats: u32,
        /// Everyone in every level, told that escalation ran out.
        targets: Vec<String>,
        /// The people the targets resolved to.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        recipients: Vec<Recipient>,
        /// Targets that resolved to nobody.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        unreached: Vec<String>,
    },
    /// A notification reached a person (one message; `bundled` counts the pages it carried
    /// when flood control bundled a burst).
    Notified {
        /// The outbox message's idempotency key.
        key: String,
        /// Who.
        person: String,
        /// How (`email`, `slack`, `webhook`).
        channel: String,
        /// What the far end answered.
        detail: String,
        /// Pages carried by this one message (1 unless bundled).
        #[serde(default = "one")]
        bundled: u32,
    },
    /// A notification could not be delivered and will not be retried.
    NotificationFailed {
        /// The outbox message's idempotency key.
        key: String,
        /// Who.
        person: String,
        /// How.
        channel: String,
        /// Why.
        error: String,
        /// Attempts made.
        attempts: u32,
    },
    /// A response clock ran out before its goal was met.
    SlaBreached {
        /// The action's key.
        key: String,
        /// Which clock.
        clock: ClockKind,
        /// Its target (`15m`).
        target: String,
    },
    /// An update is due on a channel.
    UpdateDue {
        /// The action's key.
        key: String,
        /// Which channel.
        channel: Channel,
    },
    /// Customers must (or should) be told, by `due_by`.
    CustomerNoticeDue {
        /// The action's key.
        key: String,
        /// Required by policy, or recommended.
        required: bool,
        /// Deadline.
        due_by: Timestamp,
    },
    /// The fix held for the policy's monitoring time.
    MonitoringVerified {
        /// The action's key.
        key: String,
    },
    /// A post-mortem stage is due.
    PostmortemDue {
        /// The action's key.
        key: String,
        /// Which stage.
        stage: Stage,
    },
    /// A post-mortem stage's deadline is near and the stage is not done: a reminder,
    /// recorded once per stage (the breach after the deadline is [`EventData::PostmortemDue`]).
    PostmortemReminder {
        /// The action's key.
        key: String,
        /// Which stage.
        stage: Stage,
        /// The stage's deadline.
        due_by: Timestamp,
    },
    /// A one-shot update deadline on a channel (the severity's `notices`) is near and
    /// no update has been posted there since it became due: a reminder, recorded once.
    NoticeReminder {
        /// The action's key.
        key: String,
        /// The channel owed an update.
        channel: Channel,
        /// The deadline.
        due_by: Timestamp,
    },
    /// A one-shot update deadline on a channel passed with no update posted there since
    /// it became due, while the incident was open: recorded once.
    NoticeOverdue {
        /// The action's key.
        key: String,
        /// The channel owed an update.
        channel: Channel,
        /// The deadline that passed.
        due_by: Timestamp,
    },
    /// A follow-up checkpoint is due.
    FollowupDue {
        /// The action's key.
        key: String,
        /// Its label (`1 week`).
        label: String,
    },
    /// A runbook was attached, by hand or by the alert route that opened the incident.
    /// Its steps and phases are copied here, so a later edit of the file never rewrites
    /// what responders saw and checked; attaching another replaces the checklist.
    RunbookAttached {
        /// The runbook's id.
        runbook: String,
        /// Its title.
        title: String,
        /// Its steps, as they were.
        steps: Vec<crate::runbook::Step>,
        /// Its phases, as they were.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        phases: Vec<crate::runbook::Phase>,
    },
    /// A checklist step was checked off (or unchecked), perhaps with what it showed.
    ChecklistStepChecked {
        /// The step's id.
        step: String,
        /// Checked (true) or unchecked.
        done: bool,
        /// Output the responder attached.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<String>,
    },
}

impl EventData {
    /// The storage and wire name of the kind (`declared`, `note_added`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            EventData::Declared { .. } => "declared",
            EventData::Acknowledged => "acknowledged",
            EventData::SeverityChanged { .. } => "severity_changed",
            EventData::StatusChanged { .. } => "status_changed",
            EventData::RoleAssigned { .. } => "role_assigned",
            EventData::NoteAdded { .. } => "note_added",
            EventData::Resolved { .. } => "resolved",
            EventData::Reopened { .. } => "reopened",
            EventData::UpdatePosted { .. } => "update_posted",
            EventData::PostmortemStageCompleted { .. } => "postmortem_stage_completed",
            EventData::AlertAttached { .. } => "alert_attached",
            EventData::AlertUpdated { .. } => "alert_updated",
            EventData::AlertResolved { .. } => "alert_resolved",
            EventData::Paged { .. } => "paged",
            EventData::Escalated { .. } => "escalated",
            EventData::EscalationExhausted { .. } => "escalation_exhausted",
            EventData::Notified { .. } => "notified",
            EventData::NotificationFailed { .. } => "notification_failed",
            EventData::SlaBreached { .. } => "sla_breached",
            EventData::UpdateDue { .. } => "update_due",
            EventData::CustomerNoticeDue { .. } => "customer_notice_due",
            EventData::MonitoringVerified { .. } => "monitoring_verified",
            EventData::PostmortemDue { .. } => "postmortem_due",
            EventData::FollowupDue { .. } => "followup_due",
            EventData::PostmortemReminder { .. } => "postmortem_reminder",
            EventData::NoticeReminder { .. } => "notice_reminder",
            EventData::NoticeOverdue { .. } => "notice_overdue",
            EventData::RunbookAttached { .. } => "runbook_attached",
            EventData::ChecklistStepChecked { .. } => "checklist_step_checked",
        }
    }

    /// An event back from its kind and fields as the API shows them (`EventView`: the
    /// stored JSON with `kind` taken out), so a client of the API words it with
    /// [`crate::describe`] like the server does.
    pub fn from_kind_and_fields(
        kind: &str,
        fields: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<EventData, serde_json::Error> {
        let mut object = fields.clone();
        object.insert("kind".to_owned(), serde_json::Value::from(kind));
        serde_json::from_value(serde_json::Value::Object(object))
    }

    /// The people a page reached, for events that page ([`EventData::Paged`],
    /// [`EventData::Escalated`], [`EventData::EscalationExhausted`]); empty otherwise.
    pub fn recipients(&self) -> &[Recipient] {
        match self {
            EventData::Paged { recipients, .. }
            | EventData::Escalated { recipients, .. }
            | EventData::EscalationExhausted { recipients, .. } => recipients,
            _ => &[],
        }
    }

    /// The key of a policy action, which fires at most once per incident.
    pub fn action_key(&self) -> Option<&str> {
        match self {
            EventData::Paged { key, .. }
            | EventData::SlaBreached { key, .. }
            | EventData::UpdateDue { key, .. }
            | EventData::CustomerNoticeDue { key, .. }
            | EventData::MonitoringVerified { key }
            | EventData::PostmortemDue { key, .. }
            | EventData::FollowupDue { key, .. }
            | EventData::PostmortemReminder { key, .. }
            | EventData::NoticeReminder { key, .. }
            | EventData::NoticeOverdue { key, .. }
            | EventData::EscalationExhausted { key, .. } => Some(key),
            EventData::Escalated { key, .. } => key.as_deref(),
            _ => None,
        }
    }
}

/// Someone a page or an escalation reached.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Recipient {
    /// The person's id in the roster.
    pub person: String,
    /// The target that named them (`schedule:sre-primary`, `team:sre/schedule:…`).
    pub via: String,
}

fn one() -> u32 {
    1
}

/// An event about to be appended: the store gives it an id and a sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// When it happened (from the caller's clock).
    pub at: Timestamp,
    /// Who did it: a token's principal, or `system` for the engine.
    pub actor: String,
    /// What happened.
    pub data: EventData,
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    /// Unique across all incidents; grows with every append.
    pub id: i64,
    /// Position in its incident's log, from 1; the incident's version is its last `seq`.
    pub seq: u64,
    /// When it happened.
    pub at: Timestamp,
    /// Who did it.
    pub actor: String,
    /// What happened.
    pub data: EventData,
}
