//! The response report (`/ui/report?since=30d`): the same report and SVG charts as
//! `GET /api/v1/report?format=html`, inside the UI's layout.

use super::{render, Choice, Session};
use crate::routes::report::{body, build};
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::AppState;

/// The periods offered by the form (any duration or RFC 3339 time works in the URL).
const PERIODS: [(&str, &str); 4] = [
    ("7d", "7 days"),
    ("30d", "30 days"),
    ("90d", "90 days"),
    ("365d", "365 days"),
];

/// The report page: the period form, then the report.
#[derive(Template)]
#[template(path = "ui/report.html")]
struct ReportPage {
    periods: Vec<Choice>,
    /// The report's HTML, escaped by `routes::report::body`.
    report: String,
}

pub(super) async fn show(
    session: Session,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut since = None;
    let mut until = None;
    for (k, v) in form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "since" if !v.trim().is_empty() => since = Some(v.into_owned()),
            "until" if !v.trim().is_empty() => until = Some(v.into_owned()),
            _ => {}
        }
    }
    let report = match build(&state, since.as_deref(), until.as_deref()).await {
        Ok(r) => r,
        Err(e) => return super::error_page(Some(&session), e, "/ui/report"),
    };
    let chosen = since.as_deref().unwrap_or("30d");
    let mut periods: Vec<Choice> = PERIODS
        .iter()
        .map(|(value, label)| Choice {
            value: (*value).to_owned(),
            label: (*label).to_owned(),
            selected: *value == chosen,
        })
        .collect();
    if !PERIODS.iter().any(|(value, _)| *value == chosen) {
        periods.push(Choice {
            value: chosen.to_owned(),
            label: chosen.to_owned(),
            selected: true,
        });
    }
    render(
        StatusCode::OK,
        "Response report",
        Some(&session),
        &ReportPage {
            periods,
            report: body(&report),
        },
    )
}
