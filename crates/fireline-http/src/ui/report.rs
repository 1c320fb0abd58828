//! The response report (`/ui/report?since=30d`): the same report and SVG charts as
//! `GET /api/v1/report?format=html`, inside the UI's layout.

use super::{esc, page, Session};
use crate::routes::report::{body, build};
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
    let mut options: String = PERIODS
        .iter()
        .map(|(value, label)| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                esc(value),
                if *value == chosen { " selected" } else { "" },
                esc(label)
            )
        })
        .collect();
    if !PERIODS.iter().any(|(value, _)| *value == chosen) {
        options.push_str(&format!(
            "<option value=\"{v}\" selected>{v}</option>",
            v = esc(chosen)
        ));
    }
    let form = format!(
        "<form method=\"get\" action=\"/ui/report\" class=\"filters\">\
         <label>Declared in the last <select name=\"since\">{options}</select></label>\
         <button type=\"submit\">Show</button></form>"
    );
    page(
        StatusCode::OK,
        "Response report",
        Some(&session),
        &format!("{form}{}", body(&report)),
    )
}
