//! Records the store returns that are not core types.

use fireline_core::{AccessRole, Incident, IncidentId, NewEvent, Status};
use jiff::Timestamp;

/// Which incidents to list, by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    /// Not resolved.
    #[default]
    Open,
    /// Resolved.
    Resolved,
    /// Both.
    All,
}

impl StatusFilter {
    /// The name used in queries.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Open => "open",
            StatusFilter::Resolved => "resolved",
            StatusFilter::All => "all",
        }
    }
}

/// What to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFilter {
    /// By status.
    pub status: StatusFilter,
    /// Only this severity id (exact, canonical case).
    pub severity: Option<String>,
    /// Only this service.
    pub service: Option<String>,
    /// At most this many.
    pub limit: u32,
}

impl Default for IncidentFilter {
    fn default() -> Self {
        IncidentFilter {
            status: StatusFilter::Open,
            severity: None,
            service: None,
            limit: 100,
        }
    }
}

/// An incident as listed: the projection kept beside its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentSummary {
    /// Its id.
    pub id: IncidentId,
    /// Title.
    pub title: String,
    /// Service.
    pub service: String,
    /// Severity id.
    pub severity: String,
    /// Status.
    pub status: Status,
    /// Declared at.
    pub declared_at: Timestamp,
    /// Declared by.
    pub declared_by: String,
    /// Acknowledged at, since last (re)opened.
    pub acknowledged_at: Option<Timestamp>,
    /// Resolved at, while resolved.
    pub resolved_at: Option<Timestamp>,
    /// Last event at.
    pub updated_at: Timestamp,
    /// Number of events.
    pub version: u64,
}

/// An API token's record (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Public id, used to list and revoke (`tok_…`).
    pub id: String,
    /// The principal it acts as; appears as the actor of what it does.
    pub name: String,
    /// What it may do.
    pub role: AccessRole,
    /// Created at.
    pub created_at: Timestamp,
    /// Revoked at, if revoked.
    pub revoked_at: Option<Timestamp>,
}

/// A person who signs in to the web UI with a username and password.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The username; also the principal their actions are recorded as (use the roster
    /// person id to have "mine" and "my shifts" work).
    pub name: String,
    /// What they may do.
    pub role: AccessRole,
    /// The password's argon2 hash in PHC string form (never the password).
    pub password_hash: String,
    /// Created at.
    pub created_at: Timestamp,
    /// When the password was last set.
    pub password_changed_at: Timestamp,
    /// Disabled at, if disabled.
    pub disabled_at: Option<Timestamp>,
    /// Sessions signed for an earlier value are void: a new password and disabling move
    /// it (re-enabling does not move it back).
    pub sessions_from: Timestamp,
}

impl std::fmt::Debug for UserRecord {
    // The hash stays out of logs and panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("created_at", &self.created_at)
            .field("password_changed_at", &self.password_changed_at)
            .field("disabled_at", &self.disabled_at)
            .field("sessions_from", &self.sessions_from)
            .finish_non_exhaustive()
    }
}

/// An integration: a key that monitoring sends alerts with, for one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationRecord {
    /// Public id (`int_…`).
    pub id: String,
    /// Name (`prometheus-prod`).
    pub name: String,
    /// The service its alerts concern unless they say otherwise.
    pub service: String,
    /// Created at.
    pub created_at: Timestamp,
    /// Revoked at.
    pub revoked_at: Option<Timestamp>,
}

/// A stored alert identity, as the projection of its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRecord {
    /// Its incident.
    pub incident: IncidentId,
    /// `firing` or `resolved`.
    pub firing: bool,
    /// Digest of its last recorded content.
    pub digest: String,
}

/// Alerts as the inbox keeps them: encoded once by whoever accepted them (a receiver, in
/// its own request's task rather than the one inbox writer's), decoded by the alert
/// processor and for admins looking at a dead letter. The encoding is this type's alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertBatch(String);

impl AlertBatch {
    /// Encodes accepted alerts for the inbox.
    pub fn encode(
        alerts: &[fireline_core::alert::AlertInput],
    ) -> Result<AlertBatch, crate::StoreError> {
        serde_json::to_string(alerts)
            .map(AlertBatch)
            .map_err(|e| crate::StoreError::Corrupt(format!("alerts do not encode: {e}")))
    }

    /// The alerts, or why they cannot be read (only a damaged row cannot).
    pub fn decode(&self) -> Result<Vec<fireline_core::alert::AlertInput>, crate::StoreError> {
        serde_json::from_str(&self.0).map_err(|e| {
            crate::StoreError::Corrupt(format!("the stored alerts do not decode: {e}"))
        })
    }

    /// The batch as stored (JSON text): what an admin sees of a dead letter.
    pub fn as_stored(&self) -> &str {
        &self.0
    }

    /// A batch of any text, as a damaged or hand-written row would hold: for tests of
    /// how the code copes with what it would never write itself.
    #[cfg(feature = "testing")]
    pub fn raw(text: &str) -> AlertBatch {
        AlertBatch(text.to_owned())
    }

    /// What a row holds.
    pub(crate) fn stored(text: String) -> AlertBatch {
        AlertBatch(text)
    }
}

/// What the alert inbox holds that is not yet processed (parked items aside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboxBacklog {
    /// Accepted payloads waiting.
    pub items: u64,
    /// When the oldest of them was accepted.
    pub oldest: Option<Timestamp>,
}

/// An accepted alert payload waiting to be processed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxItem {
    /// Its id.
    pub id: i64,
    /// The integration it came through.
    pub integration: String,
    /// When it was accepted.
    pub received_at: Timestamp,
    /// The normalised alerts.
    pub alerts: AlertBatch,
    /// Processing attempts that failed so far (retried with backoff, then parked).
    pub attempts: u32,
}

/// An inbox item parked after repeated processing failures: kept, never claimed, until
/// an admin re-drives or discards it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Its inbox id.
    pub id: i64,
    /// The integration it came through.
    pub integration: String,
    /// When it was accepted.
    pub received_at: Timestamp,
    /// When it was parked.
    pub dead_at: Timestamp,
    /// Processing attempts that failed.
    pub attempts: u32,
    /// The last failure, in words.
    pub last_error: String,
    /// The alerts, as accepted.
    pub alerts: AlertBatch,
}

/// An accepted alert that joined no incident, and why (write side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedAlert {
    /// The integration it came through.
    pub integration: String,
    /// Its identity.
    pub dedup_key: String,
    /// Why it joined no incident, in words.
    pub reason: String,
    /// Its summary line.
    pub summary: String,
    /// When it was processed.
    pub at: Timestamp,
}

/// Accepted alerts of one identity that joined no incident for one reason, repeats
/// counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertDrop {
    /// The integration they came through.
    pub integration: String,
    /// Their identity.
    pub dedup_key: String,
    /// Why they joined no incident, in words.
    pub reason: String,
    /// The latest summary line.
    pub summary: String,
    /// How many were dropped so.
    pub count: u64,
    /// The first one.
    pub first_at: Timestamp,
    /// The latest one.
    pub last_at: Timestamp,
}

/// A heartbeat monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatRecord {
    /// Public id (`hb_…`).
    pub id: String,
    /// Name (`nightly-backup`).
    pub name: String,
    /// The integration its alerts go through (and so their routing and service).
    pub integration: String,
    /// Expected time between pings, in seconds.
    pub interval_s: i64,
    /// Extra time allowed before a ping counts as missed, in seconds.
    pub grace_s: i64,
    /// `waiting` (never pinged), `up` or `down`.
    pub state: String,
    /// Last ping.
    pub last_ping_at: Option<Timestamp>,
    /// When the next ping is due at the latest.
    pub deadline_at: Option<Timestamp>,
    /// Created at.
    pub created_at: Timestamp,
}

/// A browser or phone subscribed to Web Push, as its owner's push contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushDevice {
    /// A digest of the endpoint: names the device in URLs without revealing it.
    pub id: String,
    /// The roster person it pages.
    pub person: String,
    /// The browser's `PushSubscription.toJSON()`: endpoint and keys, a secret.
    pub subscription: String,
    /// What the owner sees it as ("Chrome on Android").
    pub label: String,
    /// Subscribed at.
    pub created_at: Timestamp,
    /// When fireline stopped using it, and why (removed by its owner, or the push
    /// service no longer knows it).
    pub removed: Option<(Timestamp, String)>,
}

/// Which part of the roster an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RosterKind {
    /// A person.
    Person,
    /// A team.
    Team,
    /// A schedule.
    Schedule,
    /// A chat channel.
    Channel,
}

impl RosterKind {
    /// The name stored.
    pub fn as_str(self) -> &'static str {
        match self {
            RosterKind::Person => "person",
            RosterKind::Team => "team",
            RosterKind::Schedule => "schedule",
            RosterKind::Channel => "channel",
        }
    }
}

/// How an outbox message ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    /// Delivered.
    Sent,
    /// Given up on; reported on the timeline.
    Failed,
    /// Not needed any more (the incident was acknowledged before a follow-up was due).
    Skipped,
}

impl OutboxState {
    /// The name stored.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
            OutboxState::Skipped => "skipped",
        }
    }
}

/// A claimed outbox message, leased to the claiming worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    /// Row id.
    pub id: i64,
    /// Idempotency key.
    pub key: String,
    /// The incident it is about.
    pub incident: Option<IncidentId>,
    /// Person id.
    pub person: String,
    /// Where to.
    pub contact: fireline_core::oncall::Contact,
    /// What.
    pub notice: fireline_core::oncall::notify::Notice,
    /// Dropped if the incident is acknowledged by the time it is due.
    pub unless_acknowledged: bool,
    /// When it became due.
    pub due_at: Timestamp,
    /// Delivery attempts so far.
    pub attempts: u32,
}

/// A new incident the alert processor opens (see [`crate::Alerts::apply_alerts`]).
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentOpen {
    /// Its `Declared` event.
    pub declared: NewEvent,
    /// The events that follow in the same write (the alerts that opened and joined it).
    pub more: Vec<NewEvent>,
    /// When its policy next has work.
    pub next_due: Option<Timestamp>,
}

/// Events the alert processor appends to a stored incident.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentAppend {
    /// The incident as folded from its stored log (the version the events were decided on).
    pub current: Incident,
    /// The events, in order.
    pub events: Vec<NewEvent>,
    /// When its policy next has work, planned on the log including `events`.
    pub next_due: Option<Timestamp>,
}

/// One step of alert processing, written in one transaction: incidents opened, events
/// appended, and the inbox items whose alerts are now all applied (deleted).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertWrites {
    /// New incidents, in the order their numbers are to be given.
    pub opens: Vec<IncidentOpen>,
    /// Appends to stored incidents (at most one per incident).
    pub appends: Vec<IncidentAppend>,
    /// Inbox items done.
    pub processed: Vec<i64>,
    /// Alerts of those items that joined no incident, with the reason.
    pub dropped: Vec<DroppedAlert>,
}

/// An incident's post-mortem as stored: its current text and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostmortemRecord {
    /// The incident it is about.
    pub incident: IncidentId,
    /// 1 when drafted, one more with every save; send it back to save over this text.
    pub version: u64,
    /// The Markdown text.
    pub text: String,
    /// The template it was drafted from.
    pub template: String,
    /// When it was drafted.
    pub created_at: Timestamp,
    /// By whom.
    pub created_by: String,
    /// When it was last saved.
    pub updated_at: Timestamp,
    /// By whom.
    pub updated_by: String,
}

/// One saved version of a post-mortem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostmortemRevision {
    /// Its version (1 is the draft).
    pub version: u64,
    /// The whole text at this version.
    pub text: String,
    /// What changed from the version before (`drafted`, `+3 −1 lines`).
    pub summary: String,
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: String,
}

/// Which action items to list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ActionFilter {
    /// Only this incident's.
    pub incident: Option<IncidentId>,
    /// Only this owner's.
    pub owner: Option<String>,
    /// Only open and in-progress ones.
    pub open_only: bool,
    /// Only those due strictly before this day (with `open_only`: the overdue ones).
    pub due_before: Option<jiff::civil::Date>,
    /// At most this many.
    pub limit: u32,
}

/// An admin's override of a component's public status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusOverride {
    /// The component (service).
    pub service: String,
    /// `operational`, `maintenance`, `degraded`, `partial_outage` or `major_outage`.
    pub status: String,
    /// In force until then (for good without).
    pub until: Option<Timestamp>,
    /// Why, for the team (not shown publicly).
    pub note: Option<String>,
    /// Who set it.
    pub set_by: String,
    /// When.
    pub set_at: Timestamp,
}
