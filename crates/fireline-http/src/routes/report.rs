//! The response report: JSON for tools and the CLI, or a self-contained HTML page with
//! SVG charts (weekly trend; time to acknowledge against target).

use crate::auth::AsViewer;
use crate::extract::ApiQuery;
use crate::wire::{ErrorBody, ReportQuery};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use fireline_core::html::escape;
use fireline_core::policy::PolicyDuration;
use fireline_core::report::{build_with_teams, cells, human_duration as human, Figures, Report};
use jiff::{SignedDuration, Timestamp};
use std::fmt::Write as _;

/// The longest period one report covers (the query reads each incident once).
const MAX_PERIOD_DAYS: i64 = 3660;

fn instant(field: &str, raw: &str, now: Timestamp) -> Result<Timestamp, ApiError> {
    if let Ok(t) = raw.parse::<Timestamp>() {
        return Ok(t);
    }
    let secs = PolicyDuration::wall_clock_secs(raw).map_err(|e| {
        ApiError::invalid(
            field,
            format!("`{raw}`: {e}; give an RFC 3339 time or a duration back from now (30d)"),
        )
    })?;
    now.checked_sub(SignedDuration::from_secs(secs))
        .map_err(|_| ApiError::invalid(field, format!("`{raw}` is too far back")))
}

/// Response metrics for incidents declared in a period.
#[utoipa::path(
    get, path = "/api/v1/report", tag = "reports",
    params(ReportQuery),
    responses(
        (status = 200, description = "The report (JSON, or HTML with `format=html`)", content_type = "application/json"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 422, description = "Bad period or format", body = ErrorBody)
    )
)]
pub(super) async fn report(
    _caller: AsViewer,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    let report = build(&state, query.since.as_deref(), query.until.as_deref()).await?;
    match query.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(report).into_response()),
        "html" => Ok((
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html(&report),
        )
            .into_response()),
        other => Err(ApiError::invalid(
            "format",
            format!("`{other}`: expected json or html"),
        )),
    }
}

/// The report for `since` (default 30 days back) to `until` (default now): RFC 3339
/// times or durations back from now. The JSON route and `/ui/report` both use it.
pub(crate) async fn build(
    state: &AppState,
    since: Option<&str>,
    until: Option<&str>,
) -> Result<Report, ApiError> {
    let now = state.clock.now();
    let since = instant("since", since.unwrap_or("30d"), now)?;
    let until = match until {
        Some(raw) => instant("until", raw, now)?,
        None => now,
    };
    if until <= since {
        return Err(ApiError::invalid("until", "must be after since"));
    }
    if until.duration_since(since) > SignedDuration::from_hours(24 * MAX_PERIOD_DAYS) {
        return Err(ApiError::invalid(
            "since",
            format!("at most {MAX_PERIOD_DAYS} days in one report"),
        ));
    }
    let facts = state.store.report_facts(since, until).await?;
    let roster = state.store.roster().await?;
    let mut teams: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for team in roster.teams.values() {
        for service in &team.services {
            teams
                .entry(service.clone())
                .or_default()
                .push(team.id.clone());
        }
    }
    let mut report = build_with_teams(&state.policy.current(), &facts, since, until, &teams);
    let open_items = state
        .store
        .list_action_items(&fireline_store::ActionFilter {
            incident: None,
            owner: None,
            open_only: true,
            due_before: None,
            limit: u32::MAX,
        })
        .await?;
    report.open_action_items = Some(open_items.len() as u64);
    Ok(report)
}

/// A horizontal bar chart: one labelled bar per row, scaled to the largest value.
fn bars(title: &str, rows: &[(String, f64, String)]) -> String {
    let max = rows.iter().map(|r| r.1).fold(0.0_f64, f64::max).max(1.0);
    let height = 24 * rows.len() + 30;
    let mut svg = format!(
        "<figure><figcaption>{}</figcaption><svg role=\"img\" aria-label=\"{}\" viewBox=\"0 0 640 {height}\" width=\"100%\">",
        escape(title),
        escape(title)
    );
    for (i, (label, value, shown)) in rows.iter().enumerate() {
        let y = 20 + i * 24;
        let width = (value / max * 380.0).max(1.0);
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{}\" font-size=\"13\">{}</text>\
             <rect x=\"170\" y=\"{}\" width=\"{width:.1}\" height=\"16\" fill=\"#3b6ea8\"/>\
             <text x=\"{:.1}\" y=\"{}\" font-size=\"13\">{}</text>",
            y + 12,
            escape(label),
            y,
            176.0 + width,
            y + 12,
            escape(shown)
        );
    }
    svg.push_str("</svg></figure>");
    svg
}

fn table_rows(out: &mut String, name: &str, f: &Figures) {
    let _ = write!(out, "<tr><th scope=\"row\">{}</th>", escape(name));
    for cell in cells(f) {
        let _ = write!(out, "<td>{}</td>", escape(&cell));
    }
    out.push_str("</tr>");
}

/// The report as one self-contained page.
pub fn html(r: &Report) -> String {
    let mut out = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Incident report · fireline</title><style>\
         body{font:15px/1.45 system-ui,sans-serif;max-width:62rem;margin:1.5rem auto;padding:0 1rem}\
         table{border-collapse:collapse;width:100%;overflow-x:auto;display:block}\
         th,td{padding:.3rem .5rem;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}\
         th[scope=row],thead th:first-child{text-align:left}figure{margin:1.5rem 0}\
         figcaption{font-weight:600}</style></head><body><h1>Incident report</h1>",
    );
    out.push_str(&body(r));
    out.push_str("</body></html>");
    out
}

/// The report's content (period, figures table, SVG charts) without the page around it,
/// for `/ui/report`.
pub(crate) fn body(r: &Report) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<p>Incidents declared from {} to {}.</p>",
        r.since, r.until
    );
    out.push_str(
        "<div class=\"scroll\"><table><thead><tr><th>group</th><th>incidents</th><th>open</th><th>MTTA</th>\
         <th>MTTR</th><th>first update</th><th>ack in time</th><th>resolved in time</th>\
         <th>updates on cadence</th><th>escalations / incident</th><th>post-mortems on time</th>\
         </tr></thead><tbody>",
    );
    table_rows(&mut out, "all", &r.overall);
    for (severity, f) in &r.by_severity {
        table_rows(&mut out, severity, f);
    }
    for (service, f) in &r.by_service {
        table_rows(&mut out, &format!("service {service}"), f);
    }
    for (team, f) in &r.by_team {
        table_rows(&mut out, &format!("team {team}"), f);
    }
    out.push_str("</tbody></table></div>");
    if let Some(n) = r.open_action_items {
        let _ = write!(out, "<p>Open action items: {n}.</p>");
    }
    let weeks: Vec<(String, f64, String)> = r
        .weeks
        .iter()
        .map(|w| {
            (
                format!("week of {}", &w.start.to_string()[..10]),
                w.count as f64,
                format!("{} (MTTA {})", w.count, human(w.mtta_seconds)),
            )
        })
        .collect();
    out.push_str(&bars("Incidents per week", &weeks));
    let ack: Vec<(String, f64, String)> = r
        .ack_distribution
        .iter()
        .map(|b| (b.label.clone(), b.count as f64, b.count.to_string()))
        .collect();
    out.push_str(&bars("Time to acknowledge against target", &ack));
    out
}
