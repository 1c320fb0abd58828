//! The public status page: `/status` (HTML), `/status.json` and `/status/feed.atom`.
//!
//! Public by design, no token. **Only text posted on the `status_page` channel is shown**,
//! with the service it affects and the seeds' status words; titles, notes, other
//! channels' updates, alerts and people never appear.

use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use fireline_core::comms::status_word;
use fireline_core::html::escape;
use fireline_core::plan::MAINTENANCE_FLAG;
use fireline_core::policy::Channel;
use fireline_core::statuspage::{
    component_status, effective_status, uptime_history, ComponentStatus, IncidentSpan,
};
use fireline_core::{EventData, Incident, Status};
use fireline_store::{IncidentFilter, StatusFilter};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// Days of uptime history per component.
const HISTORY_DAYS: u32 = 90;
/// Incidents resolved longer ago than this leave the incident list (not the history).
const RECENT_DAYS: i64 = 7;
/// Upper bound on incidents read for one page.
const MAX_INCIDENTS: u32 = 2000;

/// The public status.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicStatus {
    /// The worst component status.
    pub overall: String,
    /// Components (services), by name.
    pub components: Vec<PublicComponent>,
    /// Incidents with public updates, open first, then the last week's.
    pub incidents: Vec<PublicIncident>,
    /// Active and upcoming maintenance windows.
    pub maintenance: Vec<PublicMaintenance>,
    /// RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// One component.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicComponent {
    /// The service's name.
    pub name: String,
    /// `operational`, `degraded`, `partial_outage`, `major_outage` or `maintenance`.
    pub status: String,
    /// Uptime over the history, 0–100.
    pub uptime_percent: f64,
    /// Per UTC day, oldest first: `YYYY-MM-DD`, uptime 0–100 and the worst status.
    pub history: Vec<PublicDay>,
}

/// One day of a component.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicDay {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// 0–100.
    pub uptime_percent: f64,
    /// The worst status that day.
    pub worst: String,
}

/// An incident as the public sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicIncident {
    /// `INC-<n>`.
    pub id: String,
    /// The affected component.
    pub component: String,
    /// `Investigating`, `Identified`, `Monitoring` or `Resolved`.
    pub status: String,
    /// Updates posted to the status page, newest first.
    pub updates: Vec<PublicUpdate>,
}

/// One status-page update.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicUpdate {
    /// Unique, stable.
    pub id: i64,
    /// RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// The incident's status when it was posted.
    pub status: String,
    /// The text posted.
    pub text: String,
}

/// A maintenance window.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicMaintenance {
    /// Its name.
    pub name: String,
    /// RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    pub start: Timestamp,
    /// RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    pub end: Timestamp,
    /// Whether it is on now.
    pub active: bool,
}

/// Status-page updates of one incident, each with the status it had then.
fn public_updates(events: &[fireline_core::RecordedEvent]) -> Vec<PublicUpdate> {
    let mut status = Status::Investigating;
    let mut out = Vec::new();
    for e in events {
        match &e.data {
            EventData::StatusChanged { to, .. } => status = *to,
            EventData::Resolved { .. } => status = Status::Resolved,
            EventData::Reopened { .. } => status = Status::Investigating,
            EventData::UpdatePosted {
                channel: Channel::StatusPage,
                text,
            } => out.push(PublicUpdate {
                id: e.id,
                at: e.at,
                status: status_word(status).to_owned(),
                text: text.clone(),
            }),
            _ => {}
        }
    }
    out.reverse();
    out
}

async fn build(state: &AppState) -> Result<PublicStatus, ApiError> {
    let now = state.clock.now();
    let policy = state.policy.current();
    let history_start = now - jiff::SignedDuration::from_hours(24 * i64::from(HISTORY_DAYS));
    let recent_start = now - jiff::SignedDuration::from_hours(24 * RECENT_DAYS);
    let listed = state
        .store
        .list_incidents(&IncidentFilter {
            status: StatusFilter::All,
            limit: MAX_INCIDENTS,
            ..IncidentFilter::default()
        })
        .await?;
    let mut spans = Vec::new();
    let mut incidents = Vec::new();
    for summary in listed {
        if summary.resolved_at.is_some_and(|r| r < history_start) {
            continue;
        }
        let rank = policy
            .severity(&summary.severity)
            .map_or(u32::MAX, |s| s.severity.rank);
        let recent = summary.resolved_at.is_none_or(|r| r >= recent_start);
        // Flags are only on the fold; read events for the incidents the page lists.
        let (maintenance, updates) = if recent {
            let events = state.store.events(summary.id).await?;
            let incident = Incident::fold(summary.id, &events)?;
            (
                incident.flags.iter().any(|f| f == MAINTENANCE_FLAG),
                public_updates(&events),
            )
        } else {
            (false, Vec::new())
        };
        spans.push(IncidentSpan {
            service: summary.service.clone(),
            rank,
            status: summary.status,
            maintenance,
            start: summary.declared_at,
            end: summary.resolved_at,
        });
        if !updates.is_empty() {
            incidents.push(PublicIncident {
                id: summary.id.to_string(),
                component: summary.service.clone(),
                status: status_word(summary.status).to_owned(),
                updates,
            });
        }
    }
    let overrides = state.store.status_overrides().await?;
    let mut services: Vec<String> = spans.iter().map(|s| s.service.clone()).collect();
    services.extend(overrides.iter().map(|o| o.service.clone()));
    services.sort();
    services.dedup();
    let mut overall = ComponentStatus::Operational;
    let components = services
        .into_iter()
        .map(|name| {
            let manual = overrides.iter().find(|o| o.service == name).and_then(|o| {
                o.status
                    .parse::<ComponentStatus>()
                    .ok()
                    .map(|s| (s, o.until))
            });
            let status = effective_status(component_status(&name, &spans), manual, now);
            overall = overall.max(status);
            let days = uptime_history(&name, &spans, now, HISTORY_DAYS);
            let mean = days.iter().map(|d| d.uptime).sum::<f64>() / days.len().max(1) as f64;
            PublicComponent {
                status: status.as_str().to_owned(),
                uptime_percent: (mean * 100_000.0).round() / 1000.0,
                history: days
                    .into_iter()
                    .map(|d| PublicDay {
                        date: d.date.to_string(),
                        uptime_percent: (d.uptime * 100_000.0).round() / 1000.0,
                        worst: d.worst.as_str().to_owned(),
                    })
                    .collect(),
                name,
            }
        })
        .collect();
    let maintenance = policy
        .maintenance
        .iter()
        .filter(|m| m.end > now)
        .map(|m| PublicMaintenance {
            name: m.name.clone(),
            start: m.start,
            end: m.end,
            active: m.start <= now,
        })
        .collect();
    Ok(PublicStatus {
        overall: overall.as_str().to_owned(),
        components,
        incidents,
        maintenance,
        updated_at: now,
    })
}

/// The public status as JSON; needs no token.
#[utoipa::path(
    get, path = "/status.json", tag = "status", security(()),
    responses((status = 200, description = "Components, public incidents, maintenance", body = PublicStatus))
)]
pub(super) async fn status_json(
    State(state): State<AppState>,
) -> Result<Json<PublicStatus>, ApiError> {
    Ok(Json(build(&state).await?))
}

fn label(status: &str) -> String {
    let s = status.replace('_', " ");
    let mut chars = s.chars();
    chars
        .next()
        .map(|f| f.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

/// The public status page: server-rendered, no scripts, no external assets.
#[utoipa::path(
    get, path = "/status", tag = "status", security(()),
    responses((status = 200, description = "The status page", content_type = "text/html"))
)]
pub(super) async fn status_html(
    State(state): State<AppState>,
) -> Result<impl IntoResponse, ApiError> {
    let s = build(&state).await?;
    let mut h = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>Status</title><link rel=\"alternate\" type=\"application/atom+xml\" href=\"/status/feed.atom\">\
         <style>body{font:16px/1.4 system-ui,sans-serif;max-width:40rem;margin:0 auto;padding:1rem;color:#222}\
         .c{display:flex;justify-content:space-between;border-bottom:1px solid #ddd;padding:.5rem 0;flex-wrap:wrap}\
         .operational{color:#1a7f37}.degraded,.maintenance{color:#9a6700}.partial_outage,.major_outage{color:#cf222e}\
         .bars{display:flex;gap:1px;width:100%;height:1.2rem}.bars span{flex:1;background:#2da44e}\
         .bars .degraded,.bars .maintenance{background:#d4a72c}.bars .partial_outage{background:#fb8500}.bars .major_outage{background:#cf222e}\
         article{border-left:3px solid #ddd;padding-left:.75rem;margin:1rem 0}time{color:#666;font-size:.9em}</style></head><body>",
    );
    h.push_str(&format!(
        "<h1 class=\"{0}\">{1}</h1>",
        escape(&s.overall),
        if s.overall == "operational" {
            "All systems operational".to_owned()
        } else {
            escape(&label(&s.overall))
        }
    ));
    if !s.maintenance.is_empty() {
        h.push_str("<h2>Maintenance</h2>");
        for m in &s.maintenance {
            h.push_str(&format!(
                "<p>{} {}: {} – {}</p>",
                if m.active { "Now" } else { "Scheduled" },
                escape(&m.name),
                m.start,
                m.end
            ));
        }
    }
    h.push_str("<h2>Components</h2>");
    for c in &s.components {
        h.push_str(&format!(
            "<div class=\"c\"><strong>{}</strong><span class=\"{}\">{}</span>\
             <div class=\"bars\" title=\"{} days\">",
            escape(&c.name),
            escape(&c.status),
            escape(&label(&c.status)),
            HISTORY_DAYS
        ));
        for d in &c.history {
            h.push_str(&format!(
                "<span class=\"{}\" title=\"{} {}%\"></span>",
                escape(&d.worst),
                escape(&d.date),
                d.uptime_percent
            ));
        }
        h.push_str(&format!(
            "</div><small>{}% uptime, {HISTORY_DAYS} days</small></div>",
            c.uptime_percent
        ));
    }
    h.push_str("<h2>Incidents</h2>");
    if s.incidents.is_empty() {
        h.push_str("<p>No incidents reported.</p>");
    }
    for i in &s.incidents {
        h.push_str(&format!(
            "<section><h3>{} – {}</h3>",
            escape(&i.component),
            escape(&i.status)
        ));
        for u in &i.updates {
            h.push_str(&format!(
                "<article><strong>{}</strong> <time datetime=\"{}\">{}</time><p>{}</p></article>",
                escape(&u.status),
                u.at,
                u.at.strftime("%Y-%m-%d %H:%M UTC"),
                escape(&u.text)
            ));
        }
        h.push_str("</section>");
    }
    h.push_str(&format!(
        "<p><small>Updated {}. <a href=\"/status.json\">JSON</a> · <a href=\"/status/feed.atom\">Atom</a></small></p></body></html>",
        s.updated_at.strftime("%Y-%m-%d %H:%M UTC")
    ));
    Ok((
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        crate::ui::PAGE_HEADERS,
        h,
    ))
}

/// Public updates as an Atom feed, one entry per status-page update.
#[utoipa::path(
    get, path = "/status/feed.atom", tag = "status", security(()),
    responses((status = 200, description = "Atom 1.0 feed", content_type = "application/atom+xml"))
)]
pub(super) async fn status_feed(
    State(state): State<AppState>,
) -> Result<impl IntoResponse, ApiError> {
    let s = build(&state).await?;
    let mut entries: Vec<(&PublicIncident, &PublicUpdate)> = s
        .incidents
        .iter()
        .flat_map(|i| i.updates.iter().map(move |u| (i, u)))
        .collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.1.at));
    // The feed changes when an update is posted, not on every read.
    let updated = entries.first().map_or(s.updated_at, |(_, u)| u.at);
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\
         <id>urn:fireline:status</id><title>Status</title><updated>{updated}</updated>\
         <author><name>Status</name></author><link rel=\"self\" href=\"/status/feed.atom\"/>"
    );
    for (i, u) in entries {
        x.push_str(&format!(
            "<entry><id>urn:fireline:status:{}:{}</id><title>{} – {}</title><updated>{}</updated>\
             <link href=\"/status\"/><content type=\"text\">{}</content></entry>",
            escape(&i.id),
            u.id,
            escape(&i.component),
            escape(&u.status),
            u.at,
            escape(&u.text)
        ));
    }
    x.push_str("</feed>");
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        x,
    ))
}

/// An admin's override of a component's public status.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusOverrideRequest {
    /// `operational`, `maintenance`, `degraded`, `partial_outage` or `major_outage`.
    pub status: String,
    /// In force until then (RFC 3339); for good without.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub until: Option<Timestamp>,
    /// Why, for the team (never shown publicly).
    #[serde(default)]
    pub note: Option<String>,
}

/// An override as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusOverrideView {
    /// The component (service).
    pub service: String,
    /// The status shown while it is in force.
    pub status: String,
    /// Until then (null: until cleared).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub until: Option<Timestamp>,
    /// Why.
    pub note: Option<String>,
    /// Who set it.
    pub set_by: String,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    pub set_at: Timestamp,
}

/// Overrides a component's public status (admin), e.g. during a problem no incident
/// describes yet, or to declare maintenance; it lapses at `until`.
#[utoipa::path(
    put, path = "/api/v1/status/components/{service}", tag = "status",
    params(("service" = String, Path, description = "The component (service)")),
    request_body = StatusOverrideRequest,
    responses(
        (status = 200, description = "In force", body = StatusOverrideView),
        (status = 401, description = "No valid token", body = crate::wire::ErrorBody),
        (status = 403, description = "Needs admin", body = crate::wire::ErrorBody),
        (status = 422, description = "Unknown status, or `until` in the past", body = crate::wire::ErrorBody)
    )
)]
pub(super) async fn put_override(
    caller: crate::auth::AsAdmin,
    State(state): State<AppState>,
    axum::extract::Path(service): axum::extract::Path<String>,
    crate::extract::ApiJson(req): crate::extract::ApiJson<StatusOverrideRequest>,
) -> Result<Json<StatusOverrideView>, ApiError> {
    let service = service.trim().to_owned();
    if service.is_empty() || service.len() > 200 {
        return Err(ApiError::invalid("service", "1 to 200 characters"));
    }
    let status: ComponentStatus = req
        .status
        .parse()
        .map_err(|e: String| ApiError::invalid("status", e))?;
    let now = state.clock.now();
    if req.until.is_some_and(|u| u <= now) {
        return Err(ApiError::invalid("until", "must be in the future"));
    }
    let value = fireline_store::StatusOverride {
        service,
        status: status.as_str().to_owned(),
        until: req.until,
        note: req.note.filter(|n| !n.trim().is_empty()),
        set_by: caller.0.name.clone(),
        set_at: now,
    };
    state.store.put_status_override(&value).await?;
    tracing::info!(service = %value.service, status = %value.status, by = %value.set_by, "status override set");
    Ok(Json(StatusOverrideView {
        service: value.service,
        status: value.status,
        until: value.until,
        note: value.note,
        set_by: value.set_by,
        set_at: value.set_at,
    }))
}

/// Clears a component's override (admin): its status is derived from incidents again.
#[utoipa::path(
    delete, path = "/api/v1/status/components/{service}", tag = "status",
    params(("service" = String, Path, description = "The component (service)")),
    responses(
        (status = 204, description = "Cleared"),
        (status = 401, description = "No valid token", body = crate::wire::ErrorBody),
        (status = 403, description = "Needs admin", body = crate::wire::ErrorBody),
        (status = 404, description = "No override for it", body = crate::wire::ErrorBody)
    )
)]
pub(super) async fn delete_override(
    _caller: crate::auth::AsAdmin,
    State(state): State<AppState>,
    axum::extract::Path(service): axum::extract::Path<String>,
) -> Result<axum::http::StatusCode, ApiError> {
    if state.store.delete_status_override(service.trim()).await? {
        Ok(axum::http::StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no override for {service}")))
    }
}
