//! Who is on call (`/ui/oncall`): now on every schedule, the next 7 days' shifts per
//! schedule, and the signed-in person's own shifts when their token name is a person id.

use super::{esc, page, when, Session};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use fireline_core::oncall::{Roster, Shift};
use jiff::SignedDuration;

/// How far ahead the page looks.
const AHEAD: SignedDuration = SignedDuration::from_hours(24 * 7);

fn person(roster: &Roster, id: &str) -> String {
    match roster.people.get(id) {
        Some(p) => format!(
            "{} <span class=\"muted\">({})</span>",
            esc(&p.name),
            esc(id)
        ),
        None => esc(id),
    }
}

fn shift_rows(roster: &Roster, shifts: &[Shift], with_schedule: Option<&str>) -> String {
    shifts
        .iter()
        .map(|s| {
            format!(
                "<tr>{}<td>{}</td><td>{}</td><td>{}</td></tr>",
                with_schedule.map_or(String::new(), |name| format!("<td>{}</td>", esc(name))),
                person(roster, &s.person),
                when(s.start),
                when(s.end)
            )
        })
        .collect()
}

async fn body(state: &AppState, session: &Session) -> Result<String, ApiError> {
    let roster = state.store.roster().await?;
    let now = state.clock.now();
    let until = now.checked_add(AHEAD).map_err(|_| ApiError::Internal)?;
    if roster.schedules.is_empty() {
        return Ok(
            "<p>No schedules yet: import a roster (<code>PUT /api/v1/roster</code> or \
                   <code>fireline roster import</code>).</p>"
                .to_owned(),
        );
    }
    let mut now_rows = String::new();
    let mut upcoming = String::new();
    let mut mine = String::new();
    for s in roster.schedules.values() {
        let current = match s.on_call_at(now) {
            Some(shift) => format!(
                "<td>{}</td><td>{}</td>",
                person(&roster, &shift.person),
                when(shift.end)
            ),
            None => "<td>Nobody</td><td>–</td>".to_owned(),
        };
        now_rows.push_str(&format!(
            "<tr><th scope=\"row\">{}</th>{current}</tr>",
            esc(&s.name)
        ));
        let shifts = s.shifts(now, until);
        let rows = if shifts.is_empty() {
            "<tr><td colspan=\"3\">Nobody on call.</td></tr>".to_owned()
        } else {
            shift_rows(&roster, &shifts, None)
        };
        upcoming.push_str(&format!(
            "<h3>{} <span class=\"muted\">({})</span></h3><div class=\"scroll\"><table>\
             <thead><tr><th scope=\"col\">Who</th><th scope=\"col\">From</th>\
             <th scope=\"col\">Until</th></tr></thead><tbody>{rows}</tbody></table></div>",
            esc(&s.name),
            esc(&s.time_zone)
        ));
        let own: Vec<Shift> = shifts
            .into_iter()
            .filter(|shift| shift.person == session.caller.name)
            .collect();
        mine.push_str(&shift_rows(&roster, &own, Some(&s.name)));
    }
    let mut out = format!(
        "<h2>On call now</h2><div class=\"scroll\"><table><thead><tr>\
         <th scope=\"col\">Schedule</th><th scope=\"col\">Who</th>\
         <th scope=\"col\">Until</th></tr></thead><tbody>{now_rows}</tbody></table></div>"
    );
    if roster.people.contains_key(&session.caller.name) {
        out.push_str("<h2>My shifts, next 7 days</h2>");
        if mine.is_empty() {
            out.push_str("<p>None.</p>");
        } else {
            out.push_str(&format!(
                "<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Schedule</th>\
                 <th scope=\"col\">Who</th><th scope=\"col\">From</th>\
                 <th scope=\"col\">Until</th></tr></thead><tbody>{mine}</tbody></table></div>"
            ));
        }
    }
    out.push_str("<h2>Next 7 days</h2>");
    out.push_str(&upcoming);
    Ok(out)
}

pub(super) async fn show(session: Session, State(state): State<AppState>) -> Response {
    match body(&state, &session).await {
        Ok(body) => page(StatusCode::OK, "On call", Some(&session), &body),
        Err(e) => super::error_page(Some(&session), e, "/ui"),
    }
}
