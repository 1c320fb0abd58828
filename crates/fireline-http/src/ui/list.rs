//! The incidents list (`/ui`, `/ui/incidents`), its fragment for live reloads
//! (`/ui/fragments/incidents`) and the change feed (`/ui/events`, server-sent events).

use super::{age, esc, page, url, Session};
use crate::routes::incidents::incident_filter;
use crate::wire::ListQuery;
use crate::{ApiError, AppState};
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use fireline_store::{IncidentFilter, StatusFilter};
use std::convert::Infallible;
use std::time::Duration;

/// The live script: reloads the list fragment when `/ui/events` says something changed.
const LIVE_JS: &str = include_str!("live.js");
/// How often a feed connection looks for changes.
const POLL: Duration = Duration::from_secs(1);

fn query(raw: Option<&str>) -> Result<ListQuery, ApiError> {
    let query: ListQuery = serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|e| ApiError::bad_field("query", e.to_string()))?;
    Ok(query)
}

/// The table of incidents matching `raw` (the page's query string).
async fn table(state: &AppState, raw: Option<&str>) -> Result<String, ApiError> {
    let filter = incident_filter(&state.policy.current(), &query(raw)?)?;
    let incidents = state.store.list_incidents(&filter).await?;
    let now = state.clock.now();
    if incidents.is_empty() {
        return Ok("<p id=\"incidents\">No incidents match.</p>".to_owned());
    }
    let mut rows = String::new();
    for i in &incidents {
        rows.push_str(&format!(
            "<tr><td><a href=\"/ui/incidents/{id}\">{id}</a></td>\
             <td><span class=\"sev sev-{sev_class}\">{sev}</span></td>\
             <td><span class=\"status status-{status}\">{status}</span></td>\
             <td>{title}</td><td>{service}</td>\
             <td><time datetime=\"{declared}\">{age}</time></td></tr>",
            id = i.id,
            sev = esc(&i.severity),
            sev_class = esc(&i.severity.to_ascii_lowercase()),
            status = i.status.as_str(),
            title = esc(&i.title),
            service = esc(&i.service),
            declared = i.declared_at,
            age = age(i.declared_at, now),
        ));
    }
    Ok(format!(
        "<div id=\"incidents\" class=\"scroll\"><table><caption class=\"sr\">Incidents</caption>\
         <thead><tr><th scope=\"col\">Id</th><th scope=\"col\">Severity</th>\
         <th scope=\"col\">Status</th><th scope=\"col\">Title</th>\
         <th scope=\"col\">Service</th><th scope=\"col\">Age</th></tr></thead>\
         <tbody>{rows}</tbody></table></div>"
    ))
}

fn filters(state: &AppState, raw: Option<&str>) -> String {
    let q = query(raw).unwrap_or(ListQuery {
        status: None,
        severity: None,
        service: None,
        limit: None,
    });
    let status = q.status.as_deref().unwrap_or("open");
    let option = |value: &str, label: &str, selected: bool| {
        format!(
            "<option value=\"{}\"{}>{}</option>",
            esc(value),
            if selected { " selected" } else { "" },
            esc(label)
        )
    };
    let statuses: String = [("open", "Open"), ("resolved", "Resolved"), ("all", "All")]
        .iter()
        .map(|(v, l)| option(v, l, status == *v))
        .collect();
    let severity = q.severity.as_deref().unwrap_or("");
    let policy = state.policy.current();
    let severities: String = std::iter::once(option("", "Any", severity.is_empty()))
        .chain(
            policy
                .catalog()
                .ids()
                .split(", ")
                .map(|id| option(id, id, id.eq_ignore_ascii_case(severity))),
        )
        .collect();
    format!(
        "<form method=\"get\" action=\"/ui/incidents\" class=\"filters\">\
         <label>Status <select name=\"status\">{statuses}</select></label>\
         <label>Severity <select name=\"severity\">{severities}</select></label>\
         <label>Service <input name=\"service\" value=\"{}\"></label>\
         <button type=\"submit\">Filter</button></form>",
        esc(q.service.as_deref().unwrap_or(""))
    )
}

pub(super) async fn show(
    session: Session,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Response {
    let table = match table(&state, raw.as_deref()).await {
        Ok(t) => t,
        Err(e) => return super::error_page(Some(&session), e, "/ui"),
    };
    let fragment = format!(
        "/ui/fragments/incidents{}",
        raw.as_deref()
            .map_or(String::new(), |q| format!("?{}", url_query(q)))
    );
    page(
        StatusCode::OK,
        "Incidents",
        Some(&session),
        &format!(
            "{}<p class=\"live\" aria-live=\"polite\" data-fragment=\"{}\" id=\"live\">Live</p>{table}\
             <script>{LIVE_JS}</script>",
            filters(&state, raw.as_deref()),
            esc(&fragment)
        ),
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
    _session: Session,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Response {
    match table(&state, raw.as_deref()).await {
        Ok(t) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            t,
        )
            .into_response(),
        Err(e) => super::error_page(None, e, "/ui"),
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

/// Server-sent events: `changed` whenever the open incidents change. Each connection
/// reads the store once a second (one indexed query), and stops with the client.
pub(super) async fn events(_session: Session, State(state): State<AppState>) -> Response {
    let first = fingerprint(&state).await;
    let mut ticks = tokio::time::interval(POLL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stream = futures_util::stream::unfold(
        (state, first, ticks),
        |(state, mut last, mut ticks)| async move {
            loop {
                ticks.tick().await;
                let now = fingerprint(&state).await;
                if now.is_some() && now != last {
                    last = now;
                    let event: Result<Event, Infallible> =
                        Ok(Event::default().event("changed").data("incidents"));
                    return Some((event, (state, last, ticks)));
                }
            }
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
