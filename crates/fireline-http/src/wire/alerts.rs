//! Alerts (`routes/alerts.rs`): what the receivers answer, integrations and heartbeat
//! monitors, and accepted alerts that joined no incident or were parked as dead letters.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
        let summaries = d
            .alerts
            .decode()
            .map(|alerts| alerts.into_iter().take(20).map(|a| a.summary).collect())
            .unwrap_or_default();
        let mut payload = d.alerts.as_stored().to_owned();
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
