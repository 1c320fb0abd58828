//! PagerDuty Events API v2, so tools that can send to PagerDuty can send here instead.

use super::{summary, timestamp, Alerts};
use fireline_core::alert::{AlertInput, AlertStatus};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// An Events API v2 event.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Event {
    /// The integration key.
    pub routing_key: String,
    /// `trigger`, `acknowledge` or `resolve`.
    pub event_action: String,
    /// Identity (generated for a trigger without one).
    #[serde(default)]
    pub dedup_key: Option<String>,
    /// Required for `trigger`.
    #[serde(default)]
    pub payload: Option<EventPayload>,
    /// Links.
    #[serde(default)]
    pub links: Vec<serde_json::Value>,
    /// Images.
    #[serde(default)]
    pub images: Vec<serde_json::Value>,
    /// The sending tool.
    #[serde(default)]
    pub client: Option<String>,
    /// Its URL.
    #[serde(default)]
    pub client_url: Option<String>,
}

/// The alert's content.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EventPayload {
    /// One line.
    pub summary: String,
    /// Where it comes from (host, service).
    pub source: String,
    /// `critical`, `error`, `warning` or `info`.
    pub severity: String,
    /// When it happened.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// Component.
    #[serde(default)]
    pub component: Option<String>,
    /// Logical group.
    #[serde(default)]
    pub group: Option<String>,
    /// Class.
    #[serde(default)]
    pub class: Option<String>,
    /// Anything else.
    #[serde(default)]
    pub custom_details: Option<serde_json::Value>,
}

/// PagerDuty's answers.
#[derive(Debug, Serialize)]
pub struct Answer {
    /// `success` or `invalid event`.
    pub status: String,
    /// Human text.
    pub message: String,
    /// The dedup key, on success.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dedup_key: Option<String>,
    /// What was wrong, on failure.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

impl Answer {
    /// The error shape.
    pub fn invalid(errors: Vec<String>) -> Self {
        Answer {
            status: "invalid event".into(),
            message: "Event object is invalid".into(),
            dedup_key: None,
            errors,
        }
    }
}

/// What an event asks for.
#[derive(Debug)]
pub enum Action {
    /// Fire or resolve an alert.
    Alerts(Alerts, String),
    /// Acknowledge the incident of the alert with this dedup key.
    Acknowledge(String),
}

/// Checks an event; the errors are PagerDuty-style strings.
pub fn normalise(
    e: Event,
    now: Timestamp,
    new_key: impl FnOnce() -> String,
) -> Result<Action, Vec<String>> {
    let dedup = e
        .dedup_key
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty());
    if dedup.as_ref().is_some_and(|k| k.len() > 255) {
        return Err(vec!["'dedup_key' must be at most 255 characters".into()]);
    }
    match e.event_action.as_str() {
        "trigger" => {
            let Some(p) = e.payload else {
                return Err(vec!["'payload' is missing or blank".into()]);
            };
            let mut errors = Vec::new();
            if p.summary.trim().is_empty() {
                errors.push("'payload.summary' is missing or blank".to_owned());
            }
            if p.source.trim().is_empty() {
                errors.push("'payload.source' is missing or blank".to_owned());
            }
            if !["critical", "error", "warning", "info"].contains(&p.severity.as_str()) {
                errors.push(
                    "'payload.severity' must be one of critical, error, warning or info".to_owned(),
                );
            }
            let starts_at = match timestamp("payload.timestamp", p.timestamp.as_deref(), now) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(format!("'payload.timestamp': {e}"));
                    None
                }
            };
            if !errors.is_empty() {
                return Err(errors);
            }
            let key = dedup.unwrap_or_else(new_key);
            let mut labels = BTreeMap::from([
                ("source".to_owned(), p.source.clone()),
                ("severity".to_owned(), p.severity.clone()),
            ]);
            for (name, value) in [
                ("component", &p.component),
                ("group", &p.group),
                ("class", &p.class),
            ] {
                if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
                    labels.insert(name.to_owned(), v.clone());
                }
            }
            let mut annotations = BTreeMap::new();
            if let Some(details) = &p.custom_details {
                annotations.insert(
                    "custom_details".to_owned(),
                    details.to_string().chars().take(super::MAX_VALUE).collect(),
                );
            }
            let link = e
                .links
                .iter()
                .find_map(|l| l.get("href").and_then(|h| h.as_str()).map(str::to_owned))
                .or(e.client_url);
            Ok(Action::Alerts(
                vec![AlertInput {
                    dedup_key: key.clone(),
                    status: AlertStatus::Firing,
                    summary: summary(&[Some(&p.summary)], "alert"),
                    source_severity: Some(p.severity),
                    service: p.component.filter(|c| !c.is_empty()),
                    labels,
                    annotations,
                    starts_at,
                    ends_at: None,
                    group: p.group.filter(|g| !g.is_empty()),
                    link,
                }],
                key,
            ))
        }
        "resolve" | "acknowledge" => {
            let Some(key) = dedup else {
                return Err(vec![format!(
                    "'dedup_key' is required for {}",
                    e.event_action
                )]);
            };
            if e.event_action == "acknowledge" {
                return Ok(Action::Acknowledge(key));
            }
            Ok(Action::Alerts(
                vec![AlertInput {
                    dedup_key: key.clone(),
                    status: AlertStatus::Resolved,
                    summary: "resolved".into(),
                    source_severity: None,
                    service: None,
                    labels: BTreeMap::new(),
                    annotations: BTreeMap::new(),
                    starts_at: None,
                    ends_at: Some(now),
                    group: None,
                    link: None,
                }],
                key,
            ))
        }
        other => Err(vec![format!(
            "'event_action' must be one of trigger, acknowledge or resolve, not '{other}'"
        )]),
    }
}
