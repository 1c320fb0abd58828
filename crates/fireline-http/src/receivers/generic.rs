//! The generic JSON alert, for scripts and health checks (`fireline alert send`).

use super::{check_map, summary, timestamp, Alerts};
use crate::ApiError;
use fireline_core::alert::{AlertInput, AlertStatus};
use jiff::Timestamp;
use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// One alert. Send it again with the same `key` to update it, with `status: resolved`
/// to resolve it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenericAlert {
    /// Identity across sends (dedup key), e.g. `disk-full-db1`.
    pub key: String,
    /// `firing` (default) or `resolved`.
    #[serde(default)]
    pub status: Option<String>,
    /// One line for people.
    pub summary: String,
    /// A policy severity id or a word the policy maps (`critical`, `warning`).
    #[serde(default)]
    pub severity: Option<String>,
    /// Service it concerns (default: the integration's).
    #[serde(default)]
    pub service: Option<String>,
    /// Labels routes can match.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Annotations routes can match (`description` becomes the incident's summary).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Alerts with the same group join one incident.
    #[serde(default)]
    pub group: Option<String>,
    /// A link to the source.
    #[serde(default)]
    pub link: Option<String>,
    /// When it started (RFC 3339).
    #[serde(default)]
    pub started_at: Option<String>,
}

/// Checks one generic alert.
pub fn normalise(a: GenericAlert, now: Timestamp) -> Result<Alerts, ApiError> {
    let key = a.key.trim();
    if key.is_empty() || key.len() > 256 {
        return Err(ApiError::invalid("key", "must be 1 to 256 bytes"));
    }
    if a.summary.trim().is_empty() {
        return Err(ApiError::invalid("summary", "must not be empty"));
    }
    let status = match a.status.as_deref().unwrap_or("firing") {
        "firing" | "trigger" => AlertStatus::Firing,
        "resolved" | "resolve" => AlertStatus::Resolved,
        other => {
            return Err(ApiError::invalid(
                "status",
                format!("`{other}`: expected firing or resolved"),
            ))
        }
    };
    check_map("labels", &a.labels)?;
    check_map("annotations", &a.annotations)?;
    let starts_at = timestamp("started_at", a.started_at.as_deref(), now)?;
    Ok(vec![AlertInput {
        dedup_key: key.to_owned(),
        status,
        summary: summary(&[Some(&a.summary)], "alert"),
        source_severity: a.severity,
        service: a.service.filter(|s| !s.trim().is_empty()),
        labels: a.labels,
        annotations: a.annotations,
        starts_at,
        ends_at: None,
        group: a.group.filter(|g| !g.trim().is_empty()),
        link: a.link,
    }])
}
