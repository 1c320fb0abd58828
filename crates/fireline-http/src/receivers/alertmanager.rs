//! Alertmanager's webhook payload (version 4).

use super::{check_map, fingerprint, summary, timestamp, Alerts, MAX_ALERTS};
use crate::ApiError;
use fireline_core::alert::{AlertInput, AlertStatus};
use jiff::Timestamp;
use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The webhook body Alertmanager sends (unknown fields are tolerated: Alertmanager adds
/// fields between releases). Its schema is the receivers' documented body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    /// Must be "4".
    pub version: String,
    /// Identifies the group.
    pub group_key: String,
    /// `firing` or `resolved` (for the group).
    pub status: String,
    /// The receiver's name.
    #[serde(default)]
    pub receiver: String,
    /// The alerts.
    pub alerts: Vec<Alert>,
    /// Labels the group is formed by.
    #[serde(default)]
    pub group_labels: BTreeMap<String, String>,
    /// Labels common to all alerts.
    #[serde(default)]
    pub common_labels: BTreeMap<String, String>,
    /// Annotations common to all alerts.
    #[serde(default)]
    pub common_annotations: BTreeMap<String, String>,
    /// Alertmanager's URL.
    #[serde(default, rename = "externalURL")]
    pub external_url: String,
    /// Alerts cut off by `max_alerts`.
    #[serde(default, deserialize_with = "crate::wire::integral::u64")]
    pub truncated_alerts: u64,
}

/// One alert.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// `firing` or `resolved`.
    pub status: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Started.
    #[serde(default)]
    pub starts_at: Option<String>,
    /// Ended (zero time while firing).
    #[serde(default)]
    pub ends_at: Option<String>,
    /// Source link.
    #[serde(default, rename = "generatorURL")]
    pub generator_url: Option<String>,
    /// Alertmanager's identity of the label set.
    #[serde(default)]
    pub fingerprint: Option<String>,
}

fn status(field: &str, raw: &str) -> Result<AlertStatus, ApiError> {
    match raw {
        "firing" => Ok(AlertStatus::Firing),
        "resolved" => Ok(AlertStatus::Resolved),
        other => Err(ApiError::invalid(
            field,
            format!("`{other}`: expected firing or resolved"),
        )),
    }
}

/// Checks a payload and normalises its alerts.
pub fn normalise(payload: Payload, now: Timestamp) -> Result<Alerts, ApiError> {
    if payload.version != "4" {
        return Err(ApiError::invalid(
            "version",
            format!(
                "version `{}` is not supported; Alertmanager sends 4",
                payload.version
            ),
        ));
    }
    status("status", &payload.status)?;
    if payload.alerts.len() > MAX_ALERTS {
        return Err(ApiError::invalid(
            "alerts",
            format!(
                "{} alerts; at most {MAX_ALERTS} a request",
                payload.alerts.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(payload.alerts.len());
    for (i, a) in payload.alerts.into_iter().enumerate() {
        let at = |f: &str| format!("alerts[{i}].{f}");
        let status = status(&at("status"), &a.status)?;
        if a.labels.is_empty() {
            return Err(ApiError::invalid(
                at("labels"),
                "at least one label pair required",
            ));
        }
        check_map(&at("labels"), &a.labels)?;
        check_map(&at("annotations"), &a.annotations)?;
        let starts_at = timestamp(&at("startsAt"), a.starts_at.as_deref(), now)?;
        let ends_at = timestamp(&at("endsAt"), a.ends_at.as_deref(), now)?;
        if let (Some(s), Some(e)) = (starts_at, ends_at) {
            if e < s {
                return Err(ApiError::invalid(
                    at("endsAt"),
                    "start time must be before end time",
                ));
            }
        }
        let dedup_key = match a.fingerprint.filter(|f| !f.trim().is_empty()) {
            Some(f) if f.len() <= 256 => f,
            Some(_) => {
                return Err(ApiError::invalid(
                    at("fingerprint"),
                    "longer than 256 bytes",
                ))
            }
            None => fingerprint(&a.labels),
        };
        let summary = summary(
            &[
                a.annotations.get("summary"),
                a.annotations.get("title"),
                a.labels.get("alertname"),
            ],
            "alert",
        );
        out.push(AlertInput {
            dedup_key,
            status,
            summary,
            source_severity: a.labels.get("severity").cloned(),
            service: None,
            labels: a.labels,
            annotations: a.annotations,
            starts_at,
            ends_at,
            group: Some(payload.group_key.clone()),
            link: a.generator_url.filter(|u| !u.is_empty()),
        });
    }
    Ok(out)
}
