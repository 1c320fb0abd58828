//! Rows as both databases return them, and their conversion to domain values.
//! Times are stored as microseconds since the Unix epoch in a 64-bit integer, so both
//! backends order and compare them identically.

use crate::{IncidentSummary, StoreError, TokenRecord};
use fireline_core::{EventData, IncidentId, RecordedEvent};
use jiff::Timestamp;

pub(crate) fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

pub(crate) fn timestamp(us: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(us).map_err(|e| StoreError::Corrupt(format!("timestamp {us}: {e}")))
}

fn opt_timestamp(us: Option<i64>) -> Result<Option<Timestamp>, StoreError> {
    us.map(timestamp).transpose()
}

fn unsigned(v: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative {what} {v}")))
}

pub(crate) fn incident_number(id: IncidentId) -> Result<i64, StoreError> {
    // IncidentId's parser caps ids at i64::MAX; a larger one cannot exist in the table.
    i64::try_from(id.0).map_err(|_| StoreError::NotFound)
}

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    pub id: i64,
    pub seq: i64,
    pub at_us: i64,
    pub actor: String,
    pub data: String,
}

impl EventRow {
    pub(crate) fn into_event(self) -> Result<RecordedEvent, StoreError> {
        let data: EventData = serde_json::from_str(&self.data)
            .map_err(|e| StoreError::Corrupt(format!("event {}: {e}", self.id)))?;
        Ok(RecordedEvent {
            id: self.id,
            seq: unsigned(self.seq, "event sequence")?,
            at: timestamp(self.at_us)?,
            actor: self.actor,
            data,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SummaryRow {
    pub number: i64,
    pub title: String,
    pub service: String,
    pub severity: String,
    pub status: String,
    pub declared_at_us: i64,
    pub declared_by: String,
    pub acknowledged_at_us: Option<i64>,
    pub resolved_at_us: Option<i64>,
    pub updated_at_us: i64,
    pub version: i64,
}

impl SummaryRow {
    pub(crate) fn into_summary(self) -> Result<IncidentSummary, StoreError> {
        Ok(IncidentSummary {
            id: IncidentId(unsigned(self.number, "incident number")?),
            title: self.title,
            service: self.service,
            severity: self.severity,
            status: self
                .status
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("incident {}: {e}", self.number)))?,
            declared_at: timestamp(self.declared_at_us)?,
            declared_by: self.declared_by,
            acknowledged_at: opt_timestamp(self.acknowledged_at_us)?,
            resolved_at: opt_timestamp(self.resolved_at_us)?,
            updated_at: timestamp(self.updated_at_us)?,
            version: unsigned(self.version, "version")?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    pub id: String,
    pub name: String,
    pub role: String,
    pub created_at_us: i64,
    pub revoked_at_us: Option<i64>,
}

impl TokenRow {
    pub(crate) fn into_record(self) -> Result<TokenRecord, StoreError> {
        Ok(TokenRecord {
            role: self
                .role
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("token {}: {e}", self.id)))?,
            id: self.id,
            name: self.name,
            created_at: timestamp(self.created_at_us)?,
            revoked_at: opt_timestamp(self.revoked_at_us)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    pub name: String,
    pub role: String,
    pub password_hash: String,
    pub created_at_us: i64,
    pub password_changed_at_us: i64,
    pub disabled_at_us: Option<i64>,
    pub sessions_from_us: i64,
}

impl UserRow {
    pub(crate) fn into_record(self) -> Result<crate::UserRecord, StoreError> {
        Ok(crate::UserRecord {
            role: self
                .role
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("user {}: {e}", self.name)))?,
            name: self.name,
            password_hash: self.password_hash,
            created_at: timestamp(self.created_at_us)?,
            password_changed_at: timestamp(self.password_changed_at_us)?,
            disabled_at: opt_timestamp(self.disabled_at_us)?,
            sessions_from: timestamp(self.sessions_from_us)?,
        })
    }
}

pub(crate) fn event_json(data: &EventData) -> Result<String, StoreError> {
    serde_json::to_string(data).map_err(|e| StoreError::Corrupt(format!("event encoding: {e}")))
}

#[derive(sqlx::FromRow)]
pub(crate) struct IntegrationRow {
    pub id: String,
    pub name: String,
    pub service: String,
    pub created_at_us: i64,
    pub revoked_at_us: Option<i64>,
}

impl IntegrationRow {
    pub(crate) fn into_record(self) -> Result<crate::IntegrationRecord, StoreError> {
        Ok(crate::IntegrationRecord {
            id: self.id,
            name: self.name,
            service: self.service,
            created_at: timestamp(self.created_at_us)?,
            revoked_at: opt_timestamp(self.revoked_at_us)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct InboxRow {
    pub id: i64,
    pub integration: String,
    pub received_at_us: i64,
    pub alerts: String,
    pub attempts: i64,
}

impl InboxRow {
    pub(crate) fn into_item(self) -> Result<crate::InboxItem, StoreError> {
        Ok(crate::InboxItem {
            id: self.id,
            integration: self.integration,
            received_at: timestamp(self.received_at_us)?,
            alerts: crate::AlertBatch::stored(self.alerts),
            attempts: u32::try_from(self.attempts).unwrap_or(u32::MAX),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DeadLetterRow {
    pub id: i64,
    pub integration: String,
    pub received_at_us: i64,
    pub alerts: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub dead_at_us: i64,
}

impl DeadLetterRow {
    pub(crate) fn into_record(self) -> Result<crate::DeadLetter, StoreError> {
        Ok(crate::DeadLetter {
            id: self.id,
            integration: self.integration,
            received_at: timestamp(self.received_at_us)?,
            dead_at: timestamp(self.dead_at_us)?,
            attempts: u32::try_from(self.attempts).unwrap_or(u32::MAX),
            last_error: self.last_error.unwrap_or_default(),
            alerts: crate::AlertBatch::stored(self.alerts),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AlertDropRow {
    pub integration: String,
    pub dedup_key: String,
    pub reason: String,
    pub summary: String,
    pub count: i64,
    pub first_at_us: i64,
    pub last_at_us: i64,
}

impl AlertDropRow {
    pub(crate) fn into_record(self) -> Result<crate::AlertDrop, StoreError> {
        Ok(crate::AlertDrop {
            integration: self.integration,
            dedup_key: self.dedup_key,
            reason: self.reason,
            summary: self.summary,
            count: u64::try_from(self.count).unwrap_or(0),
            first_at: timestamp(self.first_at_us)?,
            last_at: timestamp(self.last_at_us)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct HeartbeatRow {
    pub id: String,
    pub name: String,
    pub integration: String,
    pub interval_s: i64,
    pub grace_s: i64,
    pub state: String,
    pub last_ping_at_us: Option<i64>,
    pub deadline_at_us: Option<i64>,
    pub created_at_us: i64,
}

impl HeartbeatRow {
    pub(crate) fn into_record(self) -> Result<crate::HeartbeatRecord, StoreError> {
        Ok(crate::HeartbeatRecord {
            id: self.id,
            name: self.name,
            integration: self.integration,
            interval_s: self.interval_s,
            grace_s: self.grace_s,
            state: self.state,
            last_ping_at: opt_timestamp(self.last_ping_at_us)?,
            deadline_at: opt_timestamp(self.deadline_at_us)?,
            created_at: timestamp(self.created_at_us)?,
        })
    }
}

pub(crate) const HEARTBEAT_COLUMNS: &str =
    "id, name, integration, interval_s, grace_s, state, last_ping_at_us, deadline_at_us, created_at_us";

/// The inbox payload for a heartbeat's alert.
pub(crate) fn heartbeat_alert_json(
    hb: &crate::HeartbeatRecord,
    status: fireline_core::alert::AlertStatus,
) -> Result<String, StoreError> {
    let alert = fireline_core::alert::heartbeat_alert(
        &hb.id,
        &hb.name,
        status,
        hb.last_ping_at,
        hb.interval_s,
    );
    serde_json::to_string(&[alert])
        .map_err(|e| StoreError::Corrupt(format!("heartbeat alert encoding: {e}")))
}

/// An outbox row as claimed: id, key, incident, person, channel (the contact's kind),
/// address, secret, message, unless acknowledged, due at, attempts.
pub(crate) type OutboxRow = (
    i64,
    String,
    Option<i64>,
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
    i64,
    i64,
);

/// The item a claimed row holds, or why it cannot be read (a row written by hand).
pub(crate) fn outbox_item(row: OutboxRow) -> Result<crate::OutboxItem, (i64, String)> {
    let (id, key, incident, person, channel, address, secret, message, unless, due, attempts) = row;
    let kind = channel
        .parse()
        .map_err(|e| (id, format!("unreadable contact kind {channel:?}: {e}")))?;
    let notice =
        serde_json::from_str(&message).map_err(|e| (id, format!("unreadable message: {e}")))?;
    Ok(crate::OutboxItem {
        id,
        key,
        incident: incident.map(|n| IncidentId(n as u64)),
        person,
        contact: fireline_core::oncall::Contact {
            kind,
            address,
            secret,
        },
        notice,
        unless_acknowledged: unless != 0,
        due_at: timestamp(due).map_err(|e| (id, e.to_string()))?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
    })
}

/// The JSON of an outgoing message's notice.
pub(crate) fn notice_json(
    o: &fireline_core::oncall::notify::Outgoing,
) -> Result<String, StoreError> {
    serde_json::to_string(&o.notice).map_err(|e| StoreError::Corrupt(format!("notice: {e}")))
}

/// The roster from its rows: (kind, id, JSON document).
pub(crate) fn roster(
    rows: Vec<(String, String, String)>,
) -> Result<fireline_core::oncall::Roster, StoreError> {
    fn doc<T: serde::de::DeserializeOwned>(
        kind: &str,
        id: &str,
        doc: &str,
    ) -> Result<T, StoreError> {
        serde_json::from_str(doc)
            .map_err(|e| StoreError::Corrupt(format!("roster {kind} {id}: {e}")))
    }
    let mut roster = fireline_core::oncall::Roster::default();
    for (kind, id, text) in rows {
        match kind.as_str() {
            "person" => {
                roster.people.insert(id.clone(), doc(&kind, &id, &text)?);
            }
            "team" => {
                roster.teams.insert(id.clone(), doc(&kind, &id, &text)?);
            }
            "schedule" => {
                roster.schedules.insert(id.clone(), doc(&kind, &id, &text)?);
            }
            "channel" => {
                roster.channels.insert(id.clone(), doc(&kind, &id, &text)?);
            }
            other => return Err(StoreError::Corrupt(format!("roster kind {other}"))),
        }
    }
    Ok(roster)
}

/// Every roster entry as (kind, id, JSON document).
pub(crate) fn roster_entries(
    roster: &fireline_core::oncall::Roster,
) -> Result<Vec<(crate::RosterKind, String, String)>, StoreError> {
    fn json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
        serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
    }
    let mut out = Vec::new();
    for (id, p) in &roster.people {
        out.push((crate::RosterKind::Person, id.clone(), json(p)?));
    }
    for (id, t) in &roster.teams {
        out.push((crate::RosterKind::Team, id.clone(), json(t)?));
    }
    for (id, s) in &roster.schedules {
        out.push((crate::RosterKind::Schedule, id.clone(), json(s)?));
    }
    for (id, c) in &roster.channels {
        out.push((crate::RosterKind::Channel, id.clone(), json(c)?));
    }
    Ok(out)
}

#[derive(sqlx::FromRow)]
pub(crate) struct PostmortemRow {
    pub incident: i64,
    pub version: i64,
    pub text: String,
    pub template: String,
    pub created_at_us: i64,
    pub created_by: String,
    pub updated_at_us: i64,
    pub updated_by: String,
}

impl PostmortemRow {
    pub(crate) fn into_record(self) -> Result<crate::PostmortemRecord, StoreError> {
        Ok(crate::PostmortemRecord {
            incident: IncidentId(unsigned(self.incident, "incident number")?),
            version: unsigned(self.version, "version")?,
            text: self.text,
            template: self.template,
            created_at: timestamp(self.created_at_us)?,
            created_by: self.created_by,
            updated_at: timestamp(self.updated_at_us)?,
            updated_by: self.updated_by,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct RevisionRow {
    pub version: i64,
    pub text: String,
    pub summary: String,
    pub at_us: i64,
    pub actor: String,
}

impl RevisionRow {
    pub(crate) fn into_revision(self) -> Result<crate::PostmortemRevision, StoreError> {
        Ok(crate::PostmortemRevision {
            version: unsigned(self.version, "version")?,
            text: self.text,
            summary: self.summary,
            at: timestamp(self.at_us)?,
            actor: self.actor,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct RelatedRow {
    pub number: i64,
    pub title: String,
    pub service: String,
    pub severity: String,
    pub status: String,
    pub declared_at_us: i64,
}

impl RelatedRow {
    pub(crate) fn into_related(
        self,
        reason: String,
    ) -> Result<fireline_core::postmortem::Related, StoreError> {
        Ok(fireline_core::postmortem::Related {
            id: IncidentId(unsigned(self.number, "incident number")?),
            title: self.title,
            service: self.service,
            severity: self.severity,
            status: self
                .status
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("incident {}: {e}", self.number)))?,
            declared_at: timestamp(self.declared_at_us)?,
            reasons: vec![reason],
        })
    }
}

pub(crate) const ACTION_COLUMNS: &str = "id, incident, title, owner, priority, due, status, note, \
     created_at_us, created_by, updated_at_us, updated_by";

#[derive(sqlx::FromRow)]
pub(crate) struct ActionRow {
    pub id: i64,
    pub incident: i64,
    pub title: String,
    pub owner: String,
    pub priority: String,
    pub due: String,
    pub status: String,
    pub note: Option<String>,
    pub created_at_us: i64,
    pub created_by: String,
    pub updated_at_us: i64,
    pub updated_by: String,
}

impl ActionRow {
    pub(crate) fn into_item(self) -> Result<fireline_core::postmortem::ActionItem, StoreError> {
        let corrupt = |what: &str, e: String| {
            StoreError::Corrupt(format!("action item {}: {what}: {e}", self.id))
        };
        Ok(fireline_core::postmortem::ActionItem {
            id: unsigned(self.id, "action item id")?,
            incident: IncidentId(unsigned(self.incident, "incident number")?),
            priority: self.priority.parse().map_err(|e| corrupt("priority", e))?,
            due: self
                .due
                .parse()
                .map_err(|e: jiff::Error| corrupt("due", e.to_string()))?,
            status: self.status.parse().map_err(|e| corrupt("status", e))?,
            title: self.title,
            owner: self.owner,
            note: self.note,
            created_at: timestamp(self.created_at_us)?,
            created_by: self.created_by,
            updated_at: timestamp(self.updated_at_us)?,
            updated_by: self.updated_by,
        })
    }
}
