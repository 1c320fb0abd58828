//! The public status page: `/status` (HTML), `/status.json` and `/status/feed.atom`.
//!
//! Public by design, no token. **Only text posted on the `status_page` channel is shown**,
//! with the service it affects and the seeds' status words; titles, notes, other
//! channels' updates, alerts and people never appear.

use crate::{ApiError, AppState};
use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use fireline_core::comms::status_word;
use fireline_core::maintenance::{self, Phase};
use fireline_core::plan::MAINTENANCE_FLAG;
use fireline_core::statuspage::{
    component_status, effective_status, uptime_history, ComponentStatus, IncidentSpan,
};
use fireline_core::Channel;
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
    /// Scheduled maintenance of the policy in force: scheduled and in progress by
    /// start, then completed ones (for 90 days) newest first.
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

/// A maintenance window with a public notice: only its public fields (never the
/// window's internal name or matchers).
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicMaintenance {
    /// Stable id (a digest, not the window's name).
    #[schema(pattern = "^[0-9a-f]{16}$")]
    pub id: String,
    /// The public title.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// The public description, if any.
    #[schema(min_length = 1, max_length = 2000)]
    pub description: Option<String>,
    /// The components it affects; empty: all of them.
    pub components: Vec<String>,
    /// `scheduled`, `in_progress` or `completed`.
    #[schema(value_type = crate::wire::MaintenanceStatusName)]
    pub status: String,
    /// RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    pub start: Timestamp,
    /// RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    pub end: Timestamp,
    /// Whether it is in progress.
    pub active: bool,
    /// When it was (or is) announced, RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    pub announced_at: Timestamp,
}

/// The public windows of `policy` as the page shows them at `now`: from their
/// announcement until [`maintenance::HISTORY`] after their end.
fn public_maintenance(
    policy: &fireline_core::policy::Policy,
    now: Timestamp,
) -> Vec<PublicMaintenance> {
    let mut out: Vec<PublicMaintenance> = policy
        .maintenance
        .iter()
        .filter_map(|m| {
            let phase = maintenance::phase(m, now)?;
            let notice = m.notice.as_ref()?;
            Some(PublicMaintenance {
                id: maintenance::window_id(m),
                title: notice.title.clone(),
                description: notice.description.clone(),
                components: notice.components.clone(),
                status: phase.as_str().to_owned(),
                start: m.start,
                end: m.end,
                active: phase == Phase::InProgress,
                announced_at: maintenance::announce_at(m, notice).min(m.start),
            })
        })
        .collect();
    // What is coming or on, soonest first; then what is over, newest first.
    out.sort_by_key(|m| {
        let done = m.status == Phase::Completed.as_str();
        (
            done,
            if done {
                -m.end.as_microsecond()
            } else {
                m.start.as_microsecond()
            },
        )
    });
    out
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

pub(super) async fn build(state: &AppState) -> Result<PublicStatus, ApiError> {
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
    let maintenance = public_maintenance(&policy, now);
    // Windows in progress put what they name under maintenance (a worse status wins).
    let on_now: Vec<&PublicMaintenance> = maintenance.iter().filter(|m| m.active).collect();
    let under_maintenance = |name: &str| {
        on_now
            .iter()
            .any(|m| m.components.is_empty() || m.components.iter().any(|c| c == name))
    };
    let mut services: Vec<String> = spans.iter().map(|s| s.service.clone()).collect();
    services.extend(overrides.iter().map(|o| o.service.clone()));
    // What a window scheduled or on names is a component, so visitors can subscribe to it.
    services.extend(
        maintenance
            .iter()
            .filter(|m| m.status != Phase::Completed.as_str())
            .flat_map(|m| m.components.iter().cloned()),
    );
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
            let mut derived = component_status(&name, &spans);
            if under_maintenance(&name) {
                derived = derived.max(ComponentStatus::Maintenance);
            }
            let status = effective_status(derived, manual, now);
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

/// The status page (`templates/public/status.html`).
#[derive(Template)]
#[template(path = "public/status.html")]
struct StatusPage<'a> {
    s: &'a PublicStatus,
    /// Days of history per component.
    days: u32,
    /// The subscribe form, offering the page's components.
    form: super::subscribers::SubscribeForm,
    /// Maintenance scheduled or in progress.
    upcoming: Vec<&'a PublicMaintenance>,
    /// Maintenance completed.
    past: Vec<&'a PublicMaintenance>,
}

impl StatusPage<'_> {
    /// A status as a reader says it: `partial_outage` → "Partial outage".
    fn label(&self, status: &str) -> String {
        let s = status.replace('_', " ");
        let mut chars = s.chars();
        chars
            .next()
            .map(|f| f.to_uppercase().collect::<String>() + chars.as_str())
            .unwrap_or_default()
    }

    /// What a window affects, as a reader says it.
    fn affects(&self, m: &PublicMaintenance) -> String {
        affects(m)
    }
}

/// A window's components, or "all components" for one that names none.
fn affects(m: &PublicMaintenance) -> String {
    if m.components.is_empty() {
        "all components".to_owned()
    } else {
        m.components.join(", ")
    }
}

/// One entry of the feed: a public update, or a step of a maintenance window.
struct FeedEntry {
    /// The tail of its `urn:fireline:status:` id, stable.
    id: String,
    title: String,
    updated: Timestamp,
    text: String,
}

impl FeedEntry {
    fn update(i: &PublicIncident, u: &PublicUpdate) -> FeedEntry {
        FeedEntry {
            id: format!("{}:{}", i.id, u.id),
            title: format!("{} – {}", i.component, u.status),
            updated: u.at,
            text: u.text.clone(),
        }
    }

    /// An entry per step of `m` that has happened by `now`: announced (if it was
    /// announced before it started), started, completed.
    fn maintenance(m: &PublicMaintenance, now: Timestamp) -> Vec<FeedEntry> {
        let steps = [
            (
                "announced",
                "Scheduled maintenance",
                "Scheduled",
                m.announced_at,
            ),
            ("started", "Maintenance in progress", "In progress", m.start),
            ("completed", "Maintenance completed", "Completed", m.end),
        ];
        let first = if m.announced_at < m.start { 0 } else { 1 };
        steps[first..]
            .iter()
            .filter(|(_, _, _, at)| *at <= now)
            .map(|(step, headline, when, at)| {
                let mut text = m
                    .description
                    .clone()
                    .map(|d| d + "\n\n")
                    .unwrap_or_default();
                text.push_str(&format!(
                    "{when}: {} – {}\nAffects: {}",
                    m.start.strftime("%Y-%m-%d %H:%M UTC"),
                    m.end.strftime("%Y-%m-%d %H:%M UTC"),
                    affects(m)
                ));
                FeedEntry {
                    id: format!("maintenance:{}:{}:{step}", m.id, m.start.as_microsecond()),
                    title: format!("{headline}: {}", m.title),
                    updated: *at,
                    text,
                }
            })
            .collect()
    }
}

/// The Atom feed (`templates/public/status.atom`).
#[derive(Template)]
#[template(path = "public/status.atom")]
struct StatusFeed {
    /// When the newest entry was posted.
    updated: Timestamp,
    /// Newest first.
    entries: Vec<FeedEntry>,
}

/// The feed's escaper (`askama.toml`, for `.atom` templates): the UI's five entities, and
/// any character XML 1.0 does not allow (C0 controls but tab and line breaks, U+FFFE,
/// U+FFFF) replaced by U+FFFD, so no text can make the feed ill-formed.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct XmlEscape;

impl XmlEscape {
    fn allowed(c: char) -> bool {
        !matches!(c, '\0'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
    }
}

impl askama::filters::Escaper for XmlEscape {
    fn write_escaped_str<W: std::fmt::Write>(&self, dest: W, text: &str) -> std::fmt::Result {
        let html = crate::ui::HtmlEscape;
        if text.chars().all(Self::allowed) {
            html.write_escaped_str(dest, text)
        } else {
            let clean: String = text
                .chars()
                .map(|c| if Self::allowed(c) { c } else { '\u{fffd}' })
                .collect();
            html.write_escaped_str(dest, &clean)
        }
    }
}

/// A rendered template as a response, or the plain 500 if it failed to render.
fn rendered(
    template: &impl Template,
    headers: impl FnOnce(String) -> axum::response::Response,
) -> axum::response::Response {
    match template.render() {
        Ok(text) => headers(text),
        Err(e) => crate::ui::not_rendered(&e),
    }
}

/// The public status page: server-rendered, no scripts, no external assets.
#[utoipa::path(
    get, path = "/status", tag = "status", security(()),
    responses((status = 200, description = "The status page", content_type = "text/html"))
)]
pub(super) async fn status_html(
    State(state): State<AppState>,
) -> Result<axum::response::Response, ApiError> {
    let s = build(&state).await?;
    let (past, upcoming) = s
        .maintenance
        .iter()
        .partition(|m| m.status == Phase::Completed.as_str());
    let page = StatusPage {
        s: &s,
        days: HISTORY_DAYS,
        form: super::subscribers::SubscribeForm::offering(
            s.components.iter().map(|c| c.name.clone()),
        ),
        upcoming,
        past,
    };
    Ok(rendered(&page, |html| {
        (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            crate::ui::PAGE_HEADERS,
            html,
        )
            .into_response()
    }))
}

/// Public updates as an Atom feed, one entry per status-page update.
#[utoipa::path(
    get, path = "/status/feed.atom", tag = "status", security(()),
    responses((status = 200, description = "Atom 1.0 feed", content_type = "application/atom+xml"))
)]
pub(super) async fn status_feed(
    State(state): State<AppState>,
) -> Result<axum::response::Response, ApiError> {
    let s = build(&state).await?;
    let mut entries: Vec<FeedEntry> = s
        .incidents
        .iter()
        .flat_map(|i| i.updates.iter().map(move |u| FeedEntry::update(i, u)))
        .chain(
            s.maintenance
                .iter()
                .flat_map(|m| FeedEntry::maintenance(m, s.updated_at)),
        )
        .collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.updated));
    // The feed changes when an update is posted or a step is reached, not on every read.
    let updated = entries.first().map_or(s.updated_at, |e| e.updated);
    let feed = StatusFeed { updated, entries };
    Ok(rendered(&feed, |xml| {
        (
            [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
            xml,
        )
            .into_response()
    }))
}

/// An admin's override of a component's public status.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusOverrideRequest {
    /// `operational`, `maintenance`, `degraded`, `partial_outage` or `major_outage`.
    #[schema(value_type = crate::wire::ComponentStatusName)]
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
        (status = 422, description = "Unknown status, `until` in the past, or a service or note with a NUL character", body = crate::wire::ErrorBody)
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
    crate::wire::refuse_nul("service", &service)?;
    crate::wire::refuse_nul("note", req.note.as_deref().unwrap_or_default())?;
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
    // No override has a NUL in its name (they are refused when set), and PostgreSQL
    // cannot even compare one.
    if !service.contains('\0') && state.store.delete_status_override(service.trim()).await? {
        Ok(axum::http::StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no override for {service}")))
    }
}

#[cfg(test)]
mod tests {
    use super::{FeedEntry, PublicIncident, PublicUpdate, StatusFeed};
    use askama::Template;

    #[test]
    fn the_feed_escapes_for_xml_and_drops_what_xml_forbids() {
        let incident = PublicIncident {
            id: "INC-1".into(),
            component: "a<b>&'c\"".into(),
            status: "Identified".into(),
            updates: vec![],
        };
        let update = PublicUpdate {
            id: 9,
            at: "2027-01-15T08:00:00Z".parse().expect("time"),
            status: "Identified".into(),
            text: "bell\u{7} nul\u{0} tab\tline\nnon\u{ffff}char ]]> </content>".into(),
        };
        let feed = StatusFeed {
            updated: update.at,
            entries: vec![FeedEntry::update(&incident, &update)],
        }
        .render()
        .expect("renders");
        assert!(feed.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed "));
        assert!(
            feed.contains("<title>a&lt;b&gt;&amp;&#39;c&quot; – Identified</title>"),
            "{feed}"
        );
        assert!(
            feed.contains(
                "<content type=\"text\">bell\u{fffd} nul\u{fffd} tab\tline\nnon\u{fffd}char \
                 ]]&gt; &lt;/content&gt;</content>"
            ),
            "{feed}"
        );
    }
}
