//! The incidents list (`/ui`, `/ui/incidents`), its fragment for live reloads
//! (`/ui/fragments/incidents`) and the change feed (`/ui/events`, server-sent events).

use super::{age, choices, render, url, Choice, Session};
use crate::routes::incidents::incident_filter;
use crate::wire::ListQuery;
use crate::{ApiError, AppState};
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use fireline_store::{IncidentFilter, StatusFilter};
use std::convert::Infallible;
use std::time::Duration;

/// How often a feed connection looks for changes.
const POLL: Duration = Duration::from_secs(1);

/// The API's list query, and the UI's own `mine` filter (empty values are "any", as an
/// unchosen `<select>` sends them).
fn query(raw: Option<&str>) -> Result<(ListQuery, bool), ApiError> {
    let mut mine = false;
    let mut rest = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "mine" => mine = !v.is_empty() && v != "0" && v != "false",
            _ if v.is_empty() => {}
            _ => {
                rest.append_pair(&k, &v);
            }
        }
    }
    let query: ListQuery = serde_urlencoded::from_str(&rest.finish())
        .map_err(|e| ApiError::bad_field("query", e.to_string()))?;
    Ok((query, mine))
}

/// Whether `me` is on the incident: holds a role, acknowledged it, or was paged for it
/// (as a roster person with the same id as the username or token name) by the
/// severity's page or by an escalation, including the notice that escalation ran out:
/// each of them asked that person to respond.
fn involves(
    events: &[fireline_core::RecordedEvent],
    incident: &fireline_core::Incident,
    me: &str,
) -> bool {
    incident.roles.values().any(|who| who == me)
        || incident
            .acknowledged
            .as_ref()
            .is_some_and(|(_, by)| by == me)
        || events
            .iter()
            .any(|e| e.data.recipients().iter().any(|r| r.person == me))
}

/// One row of the incidents table.
struct Row {
    id: String,
    severity: String,
    status: &'static str,
    title: String,
    service: String,
    declared_at: jiff::Timestamp,
    age: String,
}

/// The incidents table (`templates/ui/incidents_table.html`): the live fragment.
#[derive(Template)]
#[template(path = "ui/incidents_table.html")]
struct Table {
    rows: Vec<Row>,
}

/// The list page: filters, the live marker and the table.
#[derive(Template)]
#[template(path = "ui/list.html")]
struct ListPage {
    statuses: Vec<Choice>,
    severities: Vec<Choice>,
    service: String,
    mine: bool,
    fragment: String,
    rows: Vec<Row>,
}

/// The rows of incidents matching `raw` (the page's query string).
async fn table(state: &AppState, raw: Option<&str>, me: &str) -> Result<Vec<Row>, ApiError> {
    let (list_query, mine) = query(raw)?;
    let filter = incident_filter(&state.policy.current(), &list_query)?;
    let mut incidents = state.store.list_incidents(&filter).await?;
    if mine {
        // Roles and pages are in each log, not the summary: read the listed ones (at most
        // the list's limit, open ones by default).
        let mut kept = Vec::new();
        for summary in incidents {
            let (incident, events) = crate::routes::incidents::load(state, summary.id).await?;
            if involves(&events, &incident, me) {
                kept.push(summary);
            }
        }
        incidents = kept;
    }
    let now = state.clock.now();
    Ok(incidents
        .into_iter()
        .map(|i| Row {
            id: i.id.to_string(),
            age: age(i.declared_at, now),
            severity: i.severity,
            status: i.status.as_str(),
            title: i.title,
            service: i.service,
            declared_at: i.declared_at,
        })
        .collect())
}

/// The filter form's state: status and severity choices, service, mine.
fn filters(state: &AppState, raw: Option<&str>) -> (Vec<Choice>, Vec<Choice>, String, bool) {
    let (q, mine) = query(raw).unwrap_or((
        ListQuery {
            status: None,
            severity: None,
            service: None,
            limit: None,
        },
        false,
    ));
    let status = q.status.as_deref().unwrap_or("open");
    let statuses = choices(
        [("open", "Open"), ("resolved", "Resolved"), ("all", "All")]
            .iter()
            .map(|(v, l)| ((*v).to_owned(), (*l).to_owned())),
        status,
    );
    let severity = q.severity.as_deref().unwrap_or("");
    let policy = state.policy.current();
    let severities = std::iter::once(Choice {
        value: String::new(),
        label: "Any".to_owned(),
        selected: severity.is_empty(),
    })
    .chain(policy.catalog().ids().split(", ").map(|id| Choice {
        value: id.to_owned(),
        label: id.to_owned(),
        selected: id.eq_ignore_ascii_case(severity),
    }))
    .collect();
    (statuses, severities, q.service.unwrap_or_default(), mine)
}

pub(super) async fn show(
    session: Session,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Response {
    let rows = match table(&state, raw.as_deref(), &session.caller.name).await {
        Ok(t) => t,
        Err(e) => return super::error_page(Some(&session), e, "/ui"),
    };
    let fragment = format!(
        "/ui/fragments/incidents{}",
        raw.as_deref()
            .map_or(String::new(), |q| format!("?{}", url_query(q)))
    );
    let (statuses, severities, service, mine) = filters(&state, raw.as_deref());
    render(
        StatusCode::OK,
        "Incidents",
        Some(&session),
        &ListPage {
            statuses,
            severities,
            service,
            mine,
            fragment,
            rows,
        },
    )
}

/// A query string re-encoded pair by pair, so nothing in it can break out of an attribute.
fn url_query(raw: &str) -> String {
    form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| format!("{}={}", url(&k), url(&v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub(super) async fn fragment(
    session: Session,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Response {
    let html = match table(&state, raw.as_deref(), &session.caller.name).await {
        Ok(rows) => Table { rows }.render(),
        Err(e) => return super::error_page(None, e, "/ui"),
    };
    match html {
        Ok(html) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            html,
        )
            .into_response(),
        Err(e) => super::not_rendered(&e),
    }
}

/// What the list shows, in a few bytes: open incidents' ids and last-change times.
/// A change to any open incident, a declaration, a resolution or a reopening alters it.
async fn fingerprint(state: &AppState) -> Option<String> {
    let open = state
        .store
        .list_incidents(&IncidentFilter {
            status: StatusFilter::Open,
            severity: None,
            service: None,
            limit: 1000,
        })
        .await
        .ok()?;
    Some(
        open.iter()
            .map(|i| format!("{}@{}", i.id, i.updated_at.as_microsecond()))
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// One incident's version: it moves with every event appended to it. Read from the
/// incidents projection (one row by primary key), not the log, since this runs once a
/// second per open incident page; an unknown incident reads as version 0.
async fn incident_fingerprint(state: &AppState, id: fireline_core::IncidentId) -> Option<String> {
    let version = state.store.incident_version(id).await.ok()?;
    Some(version.unwrap_or(0).to_string())
}

/// Server-sent events: `changed` whenever the open incidents change, or with
/// `?incident=INC-7`, whenever that incident does. Each connection reads the store once a
/// second (one indexed query: the open incidents' listing, or that incident's projection
/// row), and stops with the client, or when the server shuts down (a graceful shutdown
/// does not wait for open pages).
pub(super) async fn events(
    _session: Session,
    State(state): State<AppState>,
    shutdown: crate::Shutdown,
    RawQuery(raw): RawQuery,
) -> Response {
    let incident = form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "incident")
        .map(|(_, v)| v.into_owned());
    let incident = match incident.as_deref().map(crate::routes::incidents::parse_id) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(e)) => return e.into_response(),
    };
    let look = move |state: AppState| async move {
        match incident {
            Some(id) => incident_fingerprint(&state, id).await,
            None => fingerprint(&state).await,
        }
    };
    let first = look(state.clone()).await;
    let mut ticks = tokio::time::interval(POLL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stream = futures_util::stream::unfold(
        (state, first, ticks, shutdown),
        move |(state, mut last, mut ticks, mut shutdown)| async move {
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    () = shutdown.signalled() => return None,
                }
                let now = look(state.clone()).await;
                if now.is_some() && now != last {
                    last = now;
                    let event: Result<Event, Infallible> =
                        Ok(Event::default().event("changed").data("incidents"));
                    return Some((event, (state, last, ticks, shutdown)));
                }
            }
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
