//! Who is on call (`/ui/oncall`): now on every schedule, the next 7 days' shifts per
//! schedule, every schedule's current and upcoming overrides, and the signed-in person's
//! own shifts when their token name is a person id, and the calendar feed URLs to
//! subscribe to (each with its feed's read-only secret). Admins also get the forms that
//! add and remove overrides, stored through the same check-then-store path as the API.

use super::admin::{admin_act, notice_text};
use super::roster::save_schedule;
use super::{render, Choice, Session};
use crate::auth::FeedSecrets;
use crate::routes::oncall::{feed_view, masked_address, sees_contacts};
use crate::{ApiError, AppState};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use fireline_core::oncall::verify::is_verified;
use fireline_core::oncall::{Override, Roster, Shift};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;

/// How far ahead the page looks.
const AHEAD: SignedDuration = SignedDuration::from_hours(24 * 7);

/// A roster person as shown: their name (when in the roster) and id.
struct Who {
    name: Option<String>,
    id: String,
}

fn person(roster: &Roster, id: &str) -> Who {
    Who {
        name: roster.people.get(id).map(|p| p.name.clone()),
        id: id.to_owned(),
    }
}

/// A shift in a table (`schedule`: its schedule's name, for "My shifts").
struct ShiftRow {
    schedule: String,
    who: Who,
    start: Timestamp,
    end: Timestamp,
}

/// An override that has not ended.
struct OverrideRow {
    schedule_id: String,
    schedule: String,
    who: Who,
    start: Timestamp,
    end: Timestamp,
    /// Started already (else upcoming).
    current: bool,
}

/// The on-call page.
#[derive(Template)]
#[template(path = "ui/oncall.html")]
struct OncallPage<'a> {
    session: &'a Session,
    notice: Option<&'static str>,
    has_schedules: bool,
    /// Per schedule: its name, and who is on call until when.
    now_rows: Vec<(String, Option<(Who, Timestamp)>)>,
    /// The caller's own shifts, when they are a roster person.
    mine: Option<Vec<ShiftRow>>,
    /// Per schedule: name, time zone and the next 7 days' shifts.
    upcoming: Vec<(String, String, Vec<ShiftRow>)>,
    overrides: Vec<OverrideRow>,
    admin: bool,
    schedules: Vec<Choice>,
    people: Vec<Choice>,
    /// Per schedule: its name and feed URL (with the feed's read-only secret).
    feeds: Vec<(String, String)>,
    /// The caller's own feed URL, when they are a roster person.
    my_feed: Option<String>,
    /// The caller's own contacts (kind, address, confirmed by a test page), when they
    /// are a roster person.
    my_contacts: Option<Vec<(String, String, bool)>>,
    /// Whether the caller may send themselves a test page (their own user session, or
    /// an admin).
    can_test: bool,
    /// The caller's devices subscribed to Web Push, when they are a roster person signed
    /// in as themselves.
    my_devices: Vec<DeviceRow>,
    /// The VAPID public key a device subscribes with, where the caller can subscribe one.
    push_key: Option<String>,
}

/// One subscribed device, as its owner sees it.
struct DeviceRow {
    id: String,
    label: String,
    since: jiff::Timestamp,
    /// Why fireline stopped using it, and when.
    removed: Option<(jiff::Timestamp, String)>,
}

fn shift_row(roster: &Roster, shift: &Shift, schedule: &str) -> ShiftRow {
    ShiftRow {
        schedule: schedule.to_owned(),
        who: person(roster, &shift.person),
        start: shift.start,
        end: shift.end,
    }
}

async fn body<'a>(
    state: &AppState,
    session: &'a Session,
    notice: Option<&'static str>,
) -> Result<OncallPage<'a>, ApiError> {
    let roster = state.store.roster().await?;
    let now = state.clock.now();
    let until = now.checked_add(AHEAD).map_err(|_| ApiError::Internal)?;
    let admin = session.is_admin();
    let mut page = OncallPage {
        session,
        notice,
        has_schedules: !roster.schedules.is_empty(),
        now_rows: Vec::new(),
        mine: None,
        upcoming: Vec::new(),
        overrides: Vec::new(),
        admin,
        schedules: Vec::new(),
        people: Vec::new(),
        feeds: Vec::new(),
        my_feed: None,
        my_contacts: None,
        can_test: false,
        my_devices: Vec::new(),
        push_key: None,
    };
    // Feed URLs carry a secret that opens only their feed, so every signed-in caller
    // may have them (viewers read these shifts anyway).
    let secrets = FeedSecrets::load(state).await?;
    page.feeds = roster
        .schedules
        .iter()
        .map(|(id, s)| {
            let feed = feed_view(state, &secrets, "schedule", id, &s.name);
            (feed.name, feed.url)
        })
        .collect();
    page.my_feed = roster
        .people
        .get(&session.caller.name)
        .map(|p| feed_view(state, &secrets, "person", &session.caller.name, &p.name).url);
    let mut mine = Vec::new();
    for s in roster.schedules.values() {
        let current = s
            .on_call_at(now)
            .map(|shift| (person(&roster, &shift.person), shift.end));
        page.now_rows.push((s.name.clone(), current));
        let shifts = s.shifts(now, until);
        mine.extend(
            shifts
                .iter()
                .filter(|shift| shift.person == session.caller.name)
                .map(|shift| shift_row(&roster, shift, &s.name)),
        );
        page.upcoming.push((
            s.name.clone(),
            s.time_zone.clone(),
            shifts
                .iter()
                .map(|shift| shift_row(&roster, shift, &s.name))
                .collect(),
        ));
    }
    if let Some(me) = roster.people.get(&session.caller.name) {
        page.mine = Some(mine);
        how_i_am_reached(state, session, me, &mut page).await?;
    }
    // Every schedule's overrides that have not ended, and the choices of the form that
    // adds one.
    for (id, s) in &roster.schedules {
        for o in s.overrides.iter().filter(|o| o.end > now) {
            page.overrides.push(OverrideRow {
                schedule_id: id.clone(),
                schedule: s.name.clone(),
                who: person(&roster, &o.person),
                start: o.start,
                end: o.end,
                current: o.start <= now,
            });
        }
    }
    if admin {
        page.schedules = roster
            .schedules
            .iter()
            .map(|(id, s)| Choice {
                value: id.clone(),
                label: format!("{} ({})", s.name, s.time_zone),
                selected: false,
            })
            .collect();
        page.people = roster
            .people
            .iter()
            .map(|(id, p)| Choice {
                value: id.clone(),
                label: format!("{} ({id})", p.name),
                selected: false,
            })
            .collect();
    }
    Ok(page)
}

pub(super) async fn show(
    session: Session,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    match body(&state, &session, notice_text(&query)).await {
        Ok(body) => render(StatusCode::OK, "On call", Some(&session), &body),
        Err(e) => super::error_page(Some(&session), e, "/ui"),
    }
}

/// "How fireline reaches me": the caller's contacts, whether a test page confirmed each,
/// and (in their own user session) their push devices.
async fn how_i_am_reached(
    state: &AppState,
    session: &Session,
    me: &fireline_core::oncall::Person,
    page: &mut OncallPage<'_>,
) -> Result<(), ApiError> {
    let verified = state.store.verified_contacts().await?;
    // Addresses in full only where the API would show them (docs/security.md).
    let full = sees_contacts(&session.caller, &me.id);
    page.can_test = full;
    if session.caller.user_name() == Some(me.id.as_str()) {
        page.push_key = state.web_push_key.clone();
        page.my_devices = state
            .store
            .push_devices(Some(&me.id))
            .await?
            .into_iter()
            .map(|d| DeviceRow {
                id: d.id,
                label: d.label,
                since: d.created_at,
                removed: d.removed,
            })
            .collect();
    }
    page.my_contacts = Some(
        me.contacts
            .iter()
            .map(|c| {
                let proven = is_verified(&verified, &me.id, c);
                let address = if full {
                    c.address.clone()
                } else {
                    masked_address(&c.address)
                };
                (c.kind.to_string(), address, proven)
            })
            .collect(),
    );
    Ok(())
}

/// `POST /ui/people/{id}/test`: test pages to each of a person's contacts, sent by
/// the person themselves (from "On call") or by an admin (from the Admin page).
pub(super) async fn test_person(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let fields = super::form(&body);
    if let Some(refused) = session.refuse_csrf(fields.get("csrf").map(String::as_str)) {
        return refused;
    }
    let myself = session.caller.user_name() == Some(id.as_str());
    let back = if myself {
        "/ui/oncall#my-contacts"
    } else {
        "/ui/admin#readiness"
    };
    if !myself {
        if let Some(refused) = super::admin::refuse_non_admin(&session) {
            return refused;
        }
    }
    match crate::routes::oncall::send_test_pages(&state, &id, None).await {
        Ok(_) if myself => Redirect::to("/ui/oncall?done=test-sent#my-contacts").into_response(),
        Ok(_) => Redirect::to("/ui/admin?done=test-sent#readiness").into_response(),
        Err(e) => super::admin::refused(&session, e, back),
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

/// The schedule the form's `schedule` field names, as stored (422 naming the field if
/// there is none).
async fn named_schedule(
    state: &AppState,
    fields: &HashMap<String, String>,
) -> Result<fireline_core::oncall::Schedule, ApiError> {
    let id = field(fields, "schedule");
    let mut schedule = state
        .store
        .roster()
        .await?
        .schedules
        .remove(id)
        .ok_or_else(|| ApiError::invalid("schedule", format!("no schedule `{id}`")))?;
    id.clone_into(&mut schedule.id);
    Ok(schedule)
}

/// `POST /ui/oncall/overrides`: `schedule`, `person`, `start`, `end` (admins only).
pub(super) async fn add_override(
    session: Session,
    State(state): State<AppState>,
    body: Bytes,
) -> Response {
    admin_act(&session, &body, "/ui/oncall#overrides", async |fields| {
        let mut schedule = named_schedule(&state, fields).await?;
        let zone = TimeZone::get(&schedule.time_zone)
            .map_err(|e| ApiError::invalid("schedule", e.to_string()))?;
        let start = local_instant(fields, "start", &zone)?;
        let end = local_instant(fields, "end", &zone)?;
        // The roster check refuses an unknown person or an end not after the start.
        schedule.overrides.push(Override {
            person: field(fields, "person").to_owned(),
            start,
            end,
        });
        let id = schedule.id.clone();
        save_schedule(&state, schedule).await?;
        tracing::info!(actor = %session.caller.name, schedule = %id, "override added");
        Ok("/ui/oncall?done=override-added#overrides".to_owned())
    })
    .await
}

/// `POST /ui/oncall/overrides/remove`: the override named by `schedule`, `person`,
/// `start` and `end` (RFC 3339, as the page lists it), so a stale page cannot remove a
/// different override that has since taken its place in the list.
pub(super) async fn remove_override(
    session: Session,
    State(state): State<AppState>,
    body: Bytes,
) -> Response {
    admin_act(&session, &body, "/ui/oncall#overrides", async |fields| {
        let mut schedule = named_schedule(&state, fields).await?;
        let instant = |name: &'static str| {
            field(fields, name)
                .parse::<Timestamp>()
                .map_err(|e| ApiError::invalid(name, e.to_string()))
        };
        let (start, end) = (instant("start")?, instant("end")?);
        let person = field(fields, "person");
        let at = schedule
            .overrides
            .iter()
            .position(|o| o.person == person && o.start == start && o.end == end)
            .ok_or_else(|| {
                ApiError::NotFound(format!(
                    "schedule `{}` has no such override (removed already?)",
                    schedule.id
                ))
            })?;
        schedule.overrides.remove(at);
        let id = schedule.id.clone();
        save_schedule(&state, schedule).await?;
        tracing::info!(actor = %session.caller.name, schedule = %id, "override removed");
        Ok("/ui/oncall?done=override-removed#overrides".to_owned())
    })
    .await
}
