//! Who is on call (`/ui/oncall`): now on every schedule, the next 7 days' shifts per
//! schedule, every schedule's current and upcoming overrides, and the signed-in person's
//! own shifts when their token name is a person id. Admins also get the forms that add
//! and remove overrides, stored through the same check-then-store path as the API.

use super::admin::{notice, refuse_admin_post, refused};
use super::roster::save_schedule;
use super::{esc, form, page, when, Session};
use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use fireline_core::oncall::{Override, Roster, Shift};
use fireline_core::AccessRole;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;

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
    out.push_str(&overrides(&roster, session, now));
    out.push_str("<h2>Next 7 days</h2>");
    out.push_str(&upcoming);
    Ok(out)
}

/// Every schedule's overrides that have not ended, with a remove button for admins, and
/// the form that adds one.
fn overrides(roster: &Roster, session: &Session, now: Timestamp) -> String {
    let admin = session.caller.role.allows(AccessRole::Admin);
    let csrf = session.csrf_field();
    let mut rows = String::new();
    for (id, s) in &roster.schedules {
        for o in s.overrides.iter().filter(|o| o.end > now) {
            let remove = if admin {
                format!(
                    "<td><form method=\"post\" action=\"/ui/oncall/overrides/remove\">{csrf}\
                     <input type=\"hidden\" name=\"schedule\" value=\"{}\">\
                     <input type=\"hidden\" name=\"person\" value=\"{}\">\
                     <input type=\"hidden\" name=\"start\" value=\"{}\">\
                     <input type=\"hidden\" name=\"end\" value=\"{}\">\
                     <button type=\"submit\">Remove</button></form></td>",
                    esc(id),
                    esc(&o.person),
                    o.start,
                    o.end
                )
            } else {
                String::new()
            };
            rows.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{remove}</tr>",
                esc(&s.name),
                person(roster, &o.person),
                when(o.start),
                when(o.end),
                if o.start <= now { "now" } else { "upcoming" },
            ));
        }
    }
    let mut out = "<h2 id=\"overrides\">Overrides</h2>".to_owned();
    if rows.is_empty() {
        out.push_str("<p>None current or upcoming.</p>");
    } else {
        out.push_str(&format!(
            "<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Schedule</th>\
             <th scope=\"col\">Who</th><th scope=\"col\">From</th><th scope=\"col\">Until</th>\
             <th scope=\"col\">When</th>{}</tr></thead><tbody>{rows}</tbody></table></div>",
            if admin {
                "<th scope=\"col\">Actions</th>"
            } else {
                ""
            }
        ));
    }
    if admin {
        let schedules: String = roster
            .schedules
            .iter()
            .map(|(id, s)| {
                format!(
                    "<option value=\"{}\">{} ({})</option>",
                    esc(id),
                    esc(&s.name),
                    esc(&s.time_zone)
                )
            })
            .collect();
        let people: String = roster
            .people
            .iter()
            .map(|(id, p)| {
                format!(
                    "<option value=\"{}\">{} ({})</option>",
                    esc(id),
                    esc(&p.name),
                    esc(id)
                )
            })
            .collect();
        out.push_str(&format!(
            "<details><summary>Add an override</summary>\
             <form class=\"stack\" method=\"post\" action=\"/ui/oncall/overrides\">{csrf}\
             <label for=\"ov-schedule\">Schedule</label>\
             <select id=\"ov-schedule\" name=\"schedule\">{schedules}</select>\
             <label for=\"ov-person\">Who is on call instead</label>\
             <select id=\"ov-person\" name=\"person\">{people}</select>\
             <label for=\"ov-start\">From</label>\
             <input id=\"ov-start\" name=\"start\" type=\"datetime-local\" required>\
             <label for=\"ov-end\">Until</label>\
             <input id=\"ov-end\" name=\"end\" type=\"datetime-local\" required>\
             <p class=\"hint\">Times are read in the schedule's time zone (in brackets after \
             its name), not your browser's. The override beats every layer from its start \
             until (not including) its end.</p>\
             <button type=\"submit\">Add override</button></form></details>"
        ));
    }
    out
}

pub(super) async fn show(
    session: Session,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    match body(&state, &session).await {
        Ok(body) => page(
            StatusCode::OK,
            "On call",
            Some(&session),
            &format!("{}{body}", notice(&query)),
        ),
        Err(e) => super::error_page(Some(&session), e, "/ui"),
    }
}

fn field<'a>(fields: &'a HashMap<String, String>, name: &str) -> &'a str {
    fields.get(name).map_or("", |v| v.trim())
}

/// A `datetime-local` value (`2026-03-02T09:00`, seconds optional) in the schedule's
/// zone; a local time that does not exist or occurs twice resolves as the schedules do
/// (forward by the gap, first occurrence).
fn local_instant(
    fields: &HashMap<String, String>,
    name: &'static str,
    zone: &TimeZone,
) -> Result<Timestamp, ApiError> {
    let raw = field(fields, name);
    let civil: DateTime = raw.parse().map_err(|_| {
        ApiError::invalid(
            name,
            format!("`{raw}` is not a date and time such as 2026-03-02T09:00"),
        )
    })?;
    zone.to_ambiguous_timestamp(civil)
        .compatible()
        .map_err(|e| ApiError::invalid(name, e.to_string()))
}

/// `POST /ui/oncall/overrides`: `schedule`, `person`, `start`, `end` (admins only).
pub(super) async fn add_override(
    session: Session,
    State(state): State<AppState>,
    body: Bytes,
) -> Response {
    let fields = form(&body);
    if let Some(refused) = refuse_admin_post(&session, fields.get("csrf").map(String::as_str)) {
        return refused;
    }
    let done = async {
        let id = field(&fields, "schedule");
        let mut schedule = state
            .store
            .roster()
            .await?
            .schedules
            .remove(id)
            .ok_or_else(|| ApiError::invalid("schedule", format!("no schedule `{id}`")))?;
        id.clone_into(&mut schedule.id);
        let zone = TimeZone::get(&schedule.time_zone)
            .map_err(|e| ApiError::invalid("schedule", e.to_string()))?;
        let start = local_instant(&fields, "start", &zone)?;
        let end = local_instant(&fields, "end", &zone)?;
        // The roster check refuses an unknown person or an end not after the start.
        schedule.overrides.push(Override {
            person: field(&fields, "person").to_owned(),
            start,
            end,
        });
        tracing::info!(actor = %session.caller.name, schedule = %schedule.id, "override added");
        save_schedule(&state, schedule).await
    }
    .await;
    match done {
        Ok(()) => Redirect::to("/ui/oncall?done=override-added#overrides").into_response(),
        Err(e) => refused(&session, e, "/ui/oncall#overrides"),
    }
}

/// `POST /ui/oncall/overrides/remove`: the override named by `schedule`, `person`,
/// `start` and `end` (RFC 3339, as the page lists it), so a stale page cannot remove a
/// different override that has since taken its place in the list.
pub(super) async fn remove_override(
    session: Session,
    State(state): State<AppState>,
    body: Bytes,
) -> Response {
    let fields = form(&body);
    if let Some(refused) = refuse_admin_post(&session, fields.get("csrf").map(String::as_str)) {
        return refused;
    }
    let done = async {
        let id = field(&fields, "schedule");
        let mut schedule = state
            .store
            .roster()
            .await?
            .schedules
            .remove(id)
            .ok_or_else(|| ApiError::NotFound(format!("no schedule `{id}`")))?;
        id.clone_into(&mut schedule.id);
        let instant = |name: &'static str| {
            field(&fields, name)
                .parse::<Timestamp>()
                .map_err(|e| ApiError::invalid(name, e.to_string()))
        };
        let (start, end) = (instant("start")?, instant("end")?);
        let person = field(&fields, "person");
        let at = schedule
            .overrides
            .iter()
            .position(|o| o.person == person && o.start == start && o.end == end)
            .ok_or_else(|| {
                ApiError::NotFound(format!(
                    "schedule `{id}` has no such override (removed already?)"
                ))
            })?;
        schedule.overrides.remove(at);
        tracing::info!(actor = %session.caller.name, schedule = %schedule.id, "override removed");
        save_schedule(&state, schedule).await
    }
    .await;
    match done {
        Ok(()) => Redirect::to("/ui/oncall?done=override-removed#overrides").into_response(),
        Err(e) => refused(&session, e, "/ui/oncall#overrides"),
    }
}
