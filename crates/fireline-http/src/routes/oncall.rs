//! The on-call roster over HTTP: the whole roster (import and export), its people, teams
//! and schedules one by one, who is on call, shifts, and iCalendar feeds.
//!
//! Every write checks the whole roster as it would be after the change
//! (`Roster::check`) and stores nothing when a problem remains, so the roster the
//! engine pages from is always one `check` accepts.

use crate::auth::{AsAdmin, AsViewer, Caller, FeedReader, FeedSecrets};
use crate::extract::{parse_json, ApiJson, ApiQuery};
use crate::wire::{
    CalendarFeedList, CalendarFeedView, ChannelView, ErrorBody, OnCallList, OnCallQuery,
    OnCallView, PersonList, PersonRequest, PersonView, RosterImported, RosterPutQuery,
    RosterRequest, RosterView, ScheduleList, ScheduleRequest, ScheduleView, ShiftList, ShiftQuery,
    ShiftView, TeamList, TeamRequest, TeamView, TestPageQuery, TestPageView, TestPagesSent,
    MASKED_SECRET,
};
use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use fireline_core::oncall::readiness::{not_ready, NotReady};
use fireline_core::oncall::verify::is_verified;
use fireline_core::oncall::{
    ical, unknown_targets, Contact, ContactKind, Person, Problem, Roster, Schedule, Team,
};
use fireline_core::AccessRole;
use fireline_store::RosterKind;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Default window of `GET /schedules/{id}/shifts`.
const DEFAULT_SHIFT_WINDOW: SignedDuration = SignedDuration::from_hours(14 * 24);
/// Largest window a caller may ask shifts for: the work grows with the window.
const MAX_SHIFT_WINDOW: SignedDuration = SignedDuration::from_hours(366 * 24);
/// How far back and ahead calendar feeds reach.
const FEED_PAST: SignedDuration = SignedDuration::from_hours(30 * 24);
const FEED_AHEAD: SignedDuration = SignedDuration::from_hours(90 * 24);

/// A core value as its wire view, through the core type's own JSON (the storage format),
/// so the API and the file use the same text forms (`09:00`, `1w`, `5m`).
fn view<T: Serialize, V: DeserializeOwned>(value: &T) -> Result<V, ApiError> {
    serde_json::to_value(value)
        .and_then(serde_json::from_value)
        .map_err(|e| {
            tracing::error!(error = %e, "roster entry does not fit its wire view");
            ApiError::Internal
        })
}

/// Whether `caller` may read `person_id`'s contact addresses: admins, and the person
/// themselves, signed in to the web UI as the user whose name is the person's id (API
/// tokens are named freely, so a token's name says nothing about who holds it).
pub(crate) fn sees_contacts(caller: &Caller, person_id: &str) -> bool {
    caller.role.allows(AccessRole::Admin) || caller.user_name() == Some(person_id)
}

/// What marks an address as masked.
const ELLIPSIS: char = '…';

/// An address as shown to those who may not read it: enough to tell how the person is
/// reached (the e-mail domain, the URL's host), never the mailbox or the URL's path and
/// query, where webhook tokens live. `alice@example.com` → `a…@example.com`;
/// `https://hooks.slack.com/services/T/B/X` → `https://hooks.slack.com/…`.
pub(crate) fn masked_address(address: &str) -> String {
    let address = address.trim();
    if let Some((scheme, rest)) = address.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        // Credentials in the URL (`user:pass@host`) are not shown either.
        let host = authority.rsplit('@').next().unwrap_or_default();
        return format!("{scheme}://{host}/{ELLIPSIS}");
    }
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            let first = local.chars().next().map(String::from).unwrap_or_default();
            format!("{first}{ELLIPSIS}@{domain}")
        }
        None => ELLIPSIS.to_string(),
    }
}

/// A person as the API shows them: secrets always masked, addresses masked unless
/// `full` (see [`sees_contacts`]).
pub(crate) fn person_view(person: &Person, full: bool) -> Result<PersonView, ApiError> {
    let mut v: PersonView = view(person)?;
    for contact in &mut v.contacts {
        // Secrets are write-only: a response never carries one.
        if contact.secret.is_some() {
            contact.secret = Some(MASKED_SECRET.to_owned());
        }
        if !full {
            contact.address = masked_address(&contact.address);
        }
    }
    Ok(v)
}

fn roster_view(roster: &Roster, caller: &Caller) -> Result<RosterView, ApiError> {
    Ok(RosterView {
        people: roster
            .people
            .iter()
            .map(|(id, p)| Ok((id.clone(), person_view(p, sees_contacts(caller, id))?)))
            .collect::<Result<_, ApiError>>()?,
        teams: roster
            .teams
            .iter()
            .map(|(id, t)| Ok((id.clone(), view(t)?)))
            .collect::<Result<_, ApiError>>()?,
        schedules: roster
            .schedules
            .iter()
            .map(|(id, s)| Ok((id.clone(), view(s)?)))
            .collect::<Result<_, ApiError>>()?,
        channels: roster
            .channels
            .iter()
            .map(|(id, c)| {
                let mut v: ChannelView = view(c)?;
                if v.secret.is_some() {
                    v.secret = Some(MASKED_SECRET.to_owned());
                }
                // A channel's webhook URL is its credential: admins only.
                if !caller.role.allows(AccessRole::Admin) {
                    v.address = masked_address(&v.address);
                }
                Ok((id.clone(), v))
            })
            .collect::<Result<_, ApiError>>()?,
    })
}

/// A `****` secret sent back (as `GET` shows it) keeps the secret stored for the same
/// contact (same kind and address), so a read-modify-write round trip never replaces a
/// secret with the mask. Without a stored secret to keep, the mask is refused, and so is
/// a masked address (one with `…`), which would otherwise be stored as the address.
pub(crate) fn keep_secrets(
    incoming: &mut Person,
    stored: Option<&Person>,
    at: &str,
) -> Result<(), ApiError> {
    for (i, contact) in incoming.contacts.iter_mut().enumerate() {
        if contact.address.contains(ELLIPSIS) {
            return Err(ApiError::invalid(
                format!("{at}contacts[{i}].address"),
                "this is an address as masked for those who may not read it; send the \
                 full address (admins read it in full)",
            ));
        }
        if contact.secret.as_deref() != Some(MASKED_SECRET) {
            continue;
        }
        let kept = stored.and_then(|p| {
            p.contacts
                .iter()
                .find(|c| c.kind == contact.kind && c.address == contact.address)
                .and_then(|c| c.secret.clone())
        });
        match kept {
            Some(secret) => contact.secret = Some(secret),
            None => {
                return Err(ApiError::invalid(
                    format!("{at}contacts[{i}].secret"),
                    format!(
                        "`{MASKED_SECRET}` stands for the stored secret, but no secret is \
                         stored for this {} contact; send the secret itself",
                        contact.kind
                    ),
                ))
            }
        }
    }
    Ok(())
}

/// Refuses a contact whose URL names an address deliveries would refuse (loopback,
/// link-local such as cloud metadata, private, …) unless `[outbound] allow` permits it:
/// better a 422 now, naming the field, than a page that fails at 3 a.m.
pub(crate) fn check_destinations(
    person: &Person,
    allow: &fireline_notify::Allow,
    at: &str,
) -> Result<(), ApiError> {
    for (i, contact) in person.contacts.iter().enumerate() {
        check_destination(contact, allow, &format!("{at}contacts[{i}]."))?;
    }
    Ok(())
}

/// [`check_destinations`] for one contact (or a channel's): only the kinds whose address
/// is a URL we will call; a phone number, an e-mail address or a key is checked by the
/// roster's own rules.
fn check_destination(
    contact: &fireline_core::oncall::Contact,
    allow: &fireline_notify::Allow,
    at: &str,
) -> Result<(), ApiError> {
    if !contact.kind.calls_url() {
        return Ok(());
    }
    // A Matrix room is `https://homeserver/#/!room:server`: the homeserver is called.
    let url = contact
        .address
        .split_once("/#/")
        .map_or(contact.address.as_str(), |(server, _)| server);
    fireline_notify::check_literal(url, allow)
        .map_err(|refused| ApiError::invalid(format!("{at}address"), refused.to_string()))
}

/// [`keep_secrets`] and [`check_destinations`] for the roster's channels: a `****`
/// secret keeps the stored channel's (same kind and address), a masked address is
/// refused, and URLs must be ones deliveries may call.
fn settle_channels(
    roster: &mut Roster,
    stored: &Roster,
    allow: &fireline_notify::Allow,
) -> Result<(), ApiError> {
    for (id, channel) in &mut roster.channels {
        let at = format!("channels.{id}.");
        if channel.address.contains(ELLIPSIS) {
            return Err(ApiError::invalid(
                format!("{at}address"),
                "this is an address as masked for those who may not read it; send the \
                 full address (admins read it in full)",
            ));
        }
        if channel.secret.as_deref() == Some(MASKED_SECRET) {
            let kept = stored
                .channels
                .get(id)
                .filter(|c| c.kind == channel.kind && c.address == channel.address)
                .and_then(|c| c.secret.clone());
            match kept {
                Some(secret) => channel.secret = Some(secret),
                None => {
                    return Err(ApiError::invalid(
                        format!("{at}secret"),
                        format!(
                            "`{MASKED_SECRET}` stands for the stored secret, but no secret \
                             is stored for this {} channel; send the secret itself",
                            channel.kind
                        ),
                    ))
                }
            }
        }
        check_destination(&channel.contact(), allow, &at)?;
    }
    Ok(())
}

/// A 422 for a roster that does not pass `check`: the first problem's location is the
/// field (relative to the entry when `entry` is its prefix, e.g. `people.alice`), and
/// the message lists every problem with its hint.
fn refuse(problems: &[Problem], entry: Option<&str>) -> ApiError {
    let field = problems.first().map_or_else(String::new, |p| match entry {
        Some(prefix) if p.at == prefix => "id".to_owned(),
        Some(prefix) => {
            p.at.strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix('.'))
                .map_or_else(|| p.at.clone(), str::to_owned)
        }
        None => p.at.clone(),
    });
    let listed = problems
        .iter()
        .map(|p| {
            if p.hint.is_empty() {
                format!("{}: {}", p.at, p.message)
            } else {
                format!("{}: {} (hint: {})", p.at, p.message, p.hint)
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    let count = problems.len();
    ApiError::invalid(
        field,
        format!(
            "the roster would have {count} problem{}: {listed}",
            if count == 1 { "" } else { "s" }
        ),
    )
}

/// The message of a refused empty body.
const EMPTY_ROSTER_BODY: &str = "the body is empty: PUT /api/v1/roster replaces the whole \
    roster, so send it whole (people, teams and schedules, as GET /api/v1/roster shows \
    them); to change one entry, PUT /api/v1/people/{id} (or teams, schedules)";

/// The guards of `PUT /api/v1/roster`: a roster that would leave pages reaching nobody
/// (no people where there are some, or policy targets the stored roster has and this
/// one lacks) is refused unless the query lifts that guard by name.
fn guard_roster(
    stored: &Roster,
    roster: &Roster,
    policy: &fireline_core::policy::Policy,
    query: &RosterPutQuery,
) -> Result<(), ApiError> {
    if roster.people.is_empty() && !stored.people.is_empty() && !query.allow_empty.unwrap_or(false)
    {
        return Err(ApiError::invalid(
            "people",
            format!(
                "this roster has no people: it would remove all {} people stored, and \
                 pages would reach nobody; if you mean to empty the roster, send \
                 ?allow_empty=true",
                stored.people.len()
            ),
        ));
    }
    // Emptying the roster on purpose drops every target too: one flag says both.
    let emptied = roster.people.is_empty() && query.allow_empty.unwrap_or(false);
    if emptied || query.allow_unknown_targets.unwrap_or(false) {
        return Ok(());
    }
    let missing_now: Vec<String> = unknown_targets(stored, policy)
        .into_iter()
        .map(|u| u.target.to_string())
        .collect();
    // Each target lost, once, with every place the policy uses it.
    let mut lost: Vec<(fireline_core::policy::Target, Vec<String>)> = Vec::new();
    for u in unknown_targets(roster, policy) {
        if missing_now.contains(&u.target.to_string()) {
            continue;
        }
        match lost.iter_mut().find(|(t, _)| *t == u.target) {
            Some((_, used_by)) => used_by.push(u.used_by),
            None => lost.push((u.target, vec![u.used_by])),
        }
    }
    let Some((first, _)) = lost.first() else {
        return Ok(());
    };
    let field = match first {
        fireline_core::policy::Target::Schedule(id) => format!("schedules.{id}"),
        fireline_core::policy::Target::Team(id) => format!("teams.{id}"),
        fireline_core::policy::Target::Person(id) => format!("people.{id}"),
        fireline_core::policy::Target::Channel(_) => String::new(),
    };
    let listed = lost
        .iter()
        .map(|(target, used_by)| format!("{target} (used by {})", used_by.join(", ")))
        .collect::<Vec<_>>()
        .join("; ");
    Err(ApiError::invalid(
        field,
        format!(
            "the policy in force pages targets this roster lacks, though the stored roster \
             has them, so those pages would reach nobody: {listed}; keep them in the \
             roster, or send ?allow_unknown_targets=true if you mean it"
        ),
    ))
}

/// Replaces the whole roster from a document of the roster file's shape. An empty body
/// is refused, and so is a roster that would leave pages reaching nobody, unless the
/// query says so by name.
#[utoipa::path(
    put, path = "/api/v1/roster", tag = "oncall", request_body = RosterRequest,
    params(RosterPutQuery),
    responses(
        (status = 200, description = "Stored; counts of what is now in the roster", body = RosterImported),
        (status = 400, description = "Malformed or empty body (field `body`)", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "The roster has problems (field: the first one's location), has no people though people are stored (without `allow_empty=true`), or lacks policy targets the stored roster has (without `allow_unknown_targets=true`); nothing changed", body = ErrorBody)
    )
)]
pub(super) async fn put_roster(
    caller: AsAdmin,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<RosterPutQuery>,
    ApiJson(document): ApiJson<serde_json::Map<String, serde_json::Value>>,
) -> Result<Json<RosterImported>, ApiError> {
    // Read as a JSON object first, then as the roster: an empty body reads as `{}`, and
    // either is a mistake here, never "no roster" (the request type cannot tell `{}`
    // from `{"people": {}}`).
    if document.is_empty() {
        return Err(ApiError::BadRequest {
            field: Some("body".to_owned()),
            message: EMPTY_ROSTER_BODY.to_owned(),
        });
    }
    let bytes = serde_json::to_vec(&document).map_err(|e| {
        tracing::error!(error = %e, "a parsed JSON object does not serialise");
        ApiError::Internal
    })?;
    let mut roster: Roster = parse_json::<RosterRequest>(&bytes)?.into();
    let stored = state.store.roster().await?;
    for (id, person) in &mut roster.people {
        keep_secrets(person, stored.people.get(id), &format!("people.{id}."))?;
        check_destinations(person, &state.outbound, &format!("people.{id}."))?;
    }
    settle_channels(&mut roster, &stored, &state.outbound)?;
    let problems = roster.check();
    if !problems.is_empty() {
        return Err(refuse(&problems, None));
    }
    guard_roster(&stored, &roster, &state.policy.current(), &query)?;
    state
        .store
        .replace_roster(&roster, state.clock.now())
        .await?;
    tracing::info!(
        actor = %caller.0.name,
        people = roster.people.len(),
        teams = roster.teams.len(),
        schedules = roster.schedules.len(),
        channels = roster.channels.len(),
        "roster replaced"
    );
    Ok(Json(RosterImported {
        people: roster.people.len(),
        teams: roster.teams.len(),
        schedules: roster.schedules.len(),
        channels: roster.channels.len(),
    }))
}

/// The whole roster; webhook secrets read `****`, and contact addresses are masked
/// except for admins and the person themselves.
#[utoipa::path(
    get, path = "/api/v1/roster", tag = "oncall",
    responses(
        (status = 200, description = "The roster; webhook secrets read `****`; contact addresses masked (`a…@example.com`) except for admins and the person themselves", body = RosterView),
        (status = 401, description = "No valid token", body = ErrorBody)
    )
)]
pub(super) async fn get_roster(
    caller: AsViewer,
    State(state): State<AppState>,
) -> Result<Json<RosterView>, ApiError> {
    Ok(Json(roster_view(&state.store.roster().await?, &caller.0)?))
}

/// Which section of the roster an entry is in, for writes and messages.
#[derive(Clone, Copy)]
pub(crate) enum Section {
    People,
    Teams,
    Schedules,
}

impl Section {
    /// The roster file's table name (`people`).
    pub(crate) fn key(self) -> &'static str {
        match self {
            Section::People => "people",
            Section::Teams => "teams",
            Section::Schedules => "schedules",
        }
    }

    /// The entry's noun (`person`).
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Section::People => "person",
            Section::Teams => "team",
            Section::Schedules => "schedule",
        }
    }

    fn kind(self) -> RosterKind {
        match self {
            Section::People => RosterKind::Person,
            Section::Teams => RosterKind::Team,
            Section::Schedules => RosterKind::Schedule,
        }
    }

    fn not_found(self, id: &str) -> ApiError {
        ApiError::NotFound(format!("no {} `{id}` in the roster", self.noun()))
    }
}

/// The id in the body must be absent, empty or the path's: the path names the entry.
pub(crate) fn same_id(
    section: Section,
    path_id: &str,
    body_id: &mut String,
) -> Result<(), ApiError> {
    if !body_id.is_empty() && body_id != path_id {
        return Err(ApiError::invalid(
            "id",
            format!(
                "the body's id `{body_id}` is not the path's `{path_id}`; a {} is renamed by \
                 creating the new id and deleting the old",
                section.noun()
            ),
        ));
    }
    path_id.clone_into(body_id);
    Ok(())
}

/// Checks the roster with one entry changed by `apply` and, if it passes, stores that
/// entry (`doc`, its JSON).
pub(crate) async fn put_entry(
    state: &AppState,
    section: Section,
    id: &str,
    doc: String,
    apply: impl FnOnce(&mut Roster),
) -> Result<(), ApiError> {
    let mut roster = state.store.roster().await?;
    apply(&mut roster);
    let problems = roster.check();
    if !problems.is_empty() {
        return Err(refuse(&problems, Some(&format!("{}.{id}", section.key()))));
    }
    state
        .store
        .put_roster_entry(section.kind(), id, &doc, state.clock.now())
        .await?;
    tracing::info!(kind = section.noun(), id, "roster entry stored");
    Ok(())
}

/// Removes one entry unless something else in the roster still refers to it (409, naming
/// where): the problems `check` finds after the removal that it did not find before.
pub(crate) async fn delete_entry(
    state: &AppState,
    section: Section,
    id: &str,
    remove: impl FnOnce(&mut Roster) -> bool,
) -> Result<(), ApiError> {
    let mut roster = state.store.roster().await?;
    let before = roster.check();
    if !remove(&mut roster) {
        return Err(section.not_found(id));
    }
    let broken: Vec<String> = roster
        .check()
        .into_iter()
        .filter(|p| !before.contains(p))
        .map(|p| p.at)
        .collect();
    if !broken.is_empty() {
        return Err(ApiError::Conflict(format!(
            "{} `{id}` is still used by {}; change those first",
            section.noun(),
            broken.join(", ")
        )));
    }
    if !state.store.delete_roster_entry(section.kind(), id).await? {
        return Err(section.not_found(id));
    }
    tracing::info!(kind = section.noun(), id, "roster entry deleted");
    Ok(())
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(|e| {
        tracing::error!(error = %e, "roster entry does not serialise");
        ApiError::Internal
    })
}

/// Every person, by id.
#[utoipa::path(
    get, path = "/api/v1/people", tag = "oncall",
    responses(
        (status = 200, description = "By id; webhook secrets read `****`; contact addresses masked (`a…@example.com`) except for admins and the person themselves", body = PersonList),
        (status = 401, description = "No valid token", body = ErrorBody)
    )
)]
pub(super) async fn list_people(
    caller: AsViewer,
    State(state): State<AppState>,
) -> Result<Json<PersonList>, ApiError> {
    let roster = state.store.roster().await?;
    Ok(Json(PersonList {
        people: roster
            .people
            .iter()
            .map(|(id, p)| person_view(p, sees_contacts(&caller.0, id)))
            .collect::<Result<_, _>>()?,
    }))
}

/// One person.
#[utoipa::path(
    get, path = "/api/v1/people/{id}", tag = "oncall",
    params(("id" = String, Path, description = "Person id")),
    responses(
        (status = 200, description = "The person; webhook secrets read `****`; contact addresses masked (`a…@example.com`) except for admins and the person themselves", body = PersonView),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such person", body = ErrorBody)
    )
)]
pub(super) async fn get_person(
    caller: AsViewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<PersonView>, ApiError> {
    let roster = state.store.roster().await?;
    let person = roster
        .people
        .get(&id)
        .ok_or_else(|| Section::People.not_found(&id))?;
    Ok(Json(person_view(person, sees_contacts(&caller.0, &id))?))
}

/// Sends a person a test page on each contact (or those of one kind), through the
/// outbox like a real page and as loudly; each asks its reader to confirm it arrived
/// (a link, or a key in a call), which marks the contact verified.
#[utoipa::path(
    post, path = "/api/v1/people/{id}/test", tag = "oncall",
    params(("id" = String, Path, description = "Person id"), TestPageQuery),
    responses(
        (status = 202, description = "Test pages queued", body = TestPagesSent),
        (status = 400, description = "Malformed query", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such person", body = ErrorBody),
        (status = 422, description = "No contact of that kind", body = ErrorBody)
    )
)]
pub(super) async fn test_person(
    _caller: AsAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<TestPageQuery>,
) -> Result<(StatusCode, Json<TestPagesSent>), ApiError> {
    let sent = send_test_pages(&state, &id, query.kind.as_deref()).await?;
    Ok((StatusCode::ACCEPTED, Json(sent)))
}

/// How far ahead readiness looks: who is on call in the coming week.
const READINESS_HORIZON: SignedDuration = SignedDuration::from_hours(7 * 24);

/// Everyone on call in the next 7 days whom no confirmed contact (or subscribed
/// device) can wake, with their shifts: `/metrics` and the Admin page show it.
pub(crate) async fn not_ready_now(state: &AppState) -> Result<Vec<NotReady>, ApiError> {
    let roster = state.store.roster().await?;
    let verified = state.store.verified_contacts().await?;
    let devices = fireline_engine::paging::people_with_devices(state.store.as_ref()).await?;
    let now = state.clock.now();
    Ok(not_ready(
        &roster,
        now,
        now + READINESS_HORIZON,
        Some(&verified),
        &devices,
    ))
}

/// Queues test pages to `id`'s contacts (of `kind`, if given): the API's and the web
/// UI's one way to do it.
pub(crate) async fn send_test_pages(
    state: &AppState,
    id: &str,
    kind: Option<&str>,
) -> Result<TestPagesSent, ApiError> {
    let kind: Option<ContactKind> = kind
        .map(|k| k.parse().map_err(|e: String| ApiError::invalid("kind", e)))
        .transpose()?;
    // With a push contact for subscribed devices, so they are tested too.
    let roster = fireline_engine::paging::paging_roster(state.store.as_ref()).await?;
    let person = roster
        .people
        .get(id)
        .ok_or_else(|| Section::People.not_found(id))?;
    let contacts: Vec<Contact> = person
        .contacts
        .iter()
        .filter(|c| kind.is_none_or(|k| c.kind == k))
        .cloned()
        .collect();
    if contacts.is_empty() {
        return Err(ApiError::invalid(
            "kind",
            match kind {
                Some(k) => format!("{} has no {k} contact", person.name),
                None => format!("{} has no contacts", person.name),
            },
        ));
    }
    let verified = state.store.verified_contacts().await?;
    state
        .pager
        .send_tests(person, &contacts, state.clock.now())
        .await?;
    Ok(TestPagesSent {
        person: id.to_owned(),
        sent: contacts
            .iter()
            .map(|c| TestPageView {
                kind: c.kind.to_string(),
                address: masked_address(&c.address),
                verified: is_verified(&verified, id, c),
            })
            .collect(),
    })
}

/// Creates or replaces a person. A contact secret of `****` keeps the stored one.
#[utoipa::path(
    put, path = "/api/v1/people/{id}", tag = "oncall", request_body = PersonRequest,
    params(("id" = String, Path, description = "Person id")),
    responses(
        (status = 200, description = "Stored", body = PersonView),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "The roster would have problems; nothing changed", body = ErrorBody)
    )
)]
pub(super) async fn put_person(
    _caller: AsAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(person): ApiJson<PersonRequest>,
) -> Result<Json<PersonView>, ApiError> {
    let mut person = Person::from(person);
    same_id(Section::People, &id, &mut person.id)?;
    let stored = state.store.roster().await?;
    keep_secrets(&mut person, stored.people.get(&id), "")?;
    check_destinations(&person, &state.outbound, "")?;
    let doc = to_json(&person)?;
    // The caller is an admin: addresses in full.
    let shown = person_view(&person, true)?;
    put_entry(&state, Section::People, &id, doc, |r| {
        r.people.insert(id.clone(), person);
    })
    .await?;
    Ok(Json(shown))
}

/// Removes a person; refused (409) while a team or schedule still names them.
#[utoipa::path(
    delete, path = "/api/v1/people/{id}", tag = "oncall",
    params(("id" = String, Path, description = "Person id")),
    responses(
        (status = 200, description = "Removed; the person as they were", body = PersonView),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such person", body = ErrorBody),
        (status = 409, description = "Still used by a team or schedule (named)", body = ErrorBody)
    )
)]
pub(super) async fn delete_person(
    _caller: AsAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<PersonView>, ApiError> {
    let mut removed = None;
    delete_entry(&state, Section::People, &id, |r| {
        removed = r.people.remove(&id);
        removed.is_some()
    })
    .await?;
    let person = removed.ok_or(ApiError::Internal)?;
    Ok(Json(person_view(&person, true)?))
}

/// Every team, by id.
#[utoipa::path(
    get, path = "/api/v1/teams", tag = "oncall",
    responses(
        (status = 200, description = "By id", body = TeamList),
        (status = 401, description = "No valid token", body = ErrorBody)
    )
)]
pub(super) async fn list_teams(
    _caller: AsViewer,
    State(state): State<AppState>,
) -> Result<Json<TeamList>, ApiError> {
    let roster = state.store.roster().await?;
    Ok(Json(TeamList {
        teams: roster.teams.values().map(view).collect::<Result<_, _>>()?,
    }))
}

/// One team.
#[utoipa::path(
    get, path = "/api/v1/teams/{id}", tag = "oncall",
    params(("id" = String, Path, description = "Team id")),
    responses(
        (status = 200, description = "The team", body = TeamView),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody)
    )
)]
pub(super) async fn get_team(
    _caller: AsViewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TeamView>, ApiError> {
    let roster = state.store.roster().await?;
    let team = roster
        .teams
        .get(&id)
        .ok_or_else(|| Section::Teams.not_found(&id))?;
    Ok(Json(view(team)?))
}

/// Creates or replaces a team; its members and schedule must exist.
#[utoipa::path(
    put, path = "/api/v1/teams/{id}", tag = "oncall", request_body = TeamRequest,
    params(("id" = String, Path, description = "Team id")),
    responses(
        (status = 200, description = "Stored", body = TeamView),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "The roster would have problems; nothing changed", body = ErrorBody)
    )
)]
pub(super) async fn put_team(
    _caller: AsAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(team): ApiJson<TeamRequest>,
) -> Result<Json<TeamView>, ApiError> {
    let mut team = Team::from(team);
    same_id(Section::Teams, &id, &mut team.id)?;
    let doc = to_json(&team)?;
    let shown = view(&team)?;
    put_entry(&state, Section::Teams, &id, doc, |r| {
        r.teams.insert(id.clone(), team);
    })
    .await?;
    Ok(Json(shown))
}

/// Removes a team.
#[utoipa::path(
    delete, path = "/api/v1/teams/{id}", tag = "oncall",
    params(("id" = String, Path, description = "Team id")),
    responses(
        (status = 200, description = "Removed; the team as it was", body = TeamView),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody)
    )
)]
pub(super) async fn delete_team(
    _caller: AsAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TeamView>, ApiError> {
    let mut removed = None;
    delete_entry(&state, Section::Teams, &id, |r| {
        removed = r.teams.remove(&id);
        removed.is_some()
    })
    .await?;
    Ok(Json(view(&removed.ok_or(ApiError::Internal)?)?))
}

/// Every schedule, by id.
#[utoipa::path(
    get, path = "/api/v1/schedules", tag = "oncall",
    responses(
        (status = 200, description = "By id", body = ScheduleList),
        (status = 401, description = "No valid token", body = ErrorBody)
    )
)]
pub(super) async fn list_schedules(
    _caller: AsViewer,
    State(state): State<AppState>,
) -> Result<Json<ScheduleList>, ApiError> {
    let roster = state.store.roster().await?;
    Ok(Json(ScheduleList {
        schedules: roster
            .schedules
            .values()
            .map(view)
            .collect::<Result<_, _>>()?,
    }))
}

async fn schedule(state: &AppState, id: &str) -> Result<Schedule, ApiError> {
    state
        .store
        .roster()
        .await?
        .schedules
        .remove(id)
        .ok_or_else(|| Section::Schedules.not_found(id))
}

/// One schedule.
#[utoipa::path(
    get, path = "/api/v1/schedules/{id}", tag = "oncall",
    params(("id" = String, Path, description = "Schedule id")),
    responses(
        (status = 200, description = "The schedule", body = ScheduleView),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such schedule", body = ErrorBody)
    )
)]
pub(super) async fn get_schedule(
    _caller: AsViewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ScheduleView>, ApiError> {
    Ok(Json(view(&schedule(&state, &id).await?)?))
}

/// Creates or replaces a schedule; its participants and overrides must name people.
#[utoipa::path(
    put, path = "/api/v1/schedules/{id}", tag = "oncall", request_body = ScheduleRequest,
    params(("id" = String, Path, description = "Schedule id")),
    responses(
        (status = 200, description = "Stored", body = ScheduleView),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "The roster would have problems; nothing changed", body = ErrorBody)
    )
)]
pub(super) async fn put_schedule(
    _caller: AsAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(schedule): ApiJson<ScheduleRequest>,
) -> Result<Json<ScheduleView>, ApiError> {
    let mut schedule = Schedule::from(schedule);
    same_id(Section::Schedules, &id, &mut schedule.id)?;
    let doc = to_json(&schedule)?;
    let shown = view(&schedule)?;
    put_entry(&state, Section::Schedules, &id, doc, |r| {
        r.schedules.insert(id.clone(), schedule);
    })
    .await?;
    Ok(Json(shown))
}

/// Removes a schedule; refused (409) while a team still uses it.
#[utoipa::path(
    delete, path = "/api/v1/schedules/{id}", tag = "oncall",
    params(("id" = String, Path, description = "Schedule id")),
    responses(
        (status = 200, description = "Removed; the schedule as it was", body = ScheduleView),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such schedule", body = ErrorBody),
        (status = 409, description = "Still used by a team (named)", body = ErrorBody)
    )
)]
pub(super) async fn delete_schedule(
    _caller: AsAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ScheduleView>, ApiError> {
    let mut removed = None;
    delete_entry(&state, Section::Schedules, &id, |r| {
        removed = r.schedules.remove(&id);
        removed.is_some()
    })
    .await?;
    Ok(Json(view(&removed.ok_or(ApiError::Internal)?)?))
}

/// Who is on call on each schedule (or one) at an instant.
#[utoipa::path(
    get, path = "/api/v1/oncall", tag = "oncall", params(OnCallQuery),
    responses(
        (status = 200, description = "One entry per schedule; `shift` is null when nobody is on call", body = OnCallList),
        (status = 400, description = "Malformed query", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such schedule", body = ErrorBody)
    )
)]
pub(super) async fn oncall(
    _caller: AsViewer,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<OnCallQuery>,
) -> Result<Json<OnCallList>, ApiError> {
    let at = query.at.unwrap_or_else(|| state.clock.now());
    let roster = state.store.roster().await?;
    let schedules: Vec<&Schedule> = match &query.schedule {
        Some(id) => vec![roster
            .schedules
            .get(id)
            .ok_or_else(|| Section::Schedules.not_found(id))?],
        None => roster.schedules.values().collect(),
    };
    let oncall = schedules
        .into_iter()
        .map(|s| OnCallView {
            schedule: s.id.clone(),
            name: s.name.clone(),
            time_zone: s.time_zone.clone(),
            shift: s.on_call_at(at).as_ref().map(ShiftView::from),
        })
        .collect();
    Ok(Json(OnCallList { at, oncall }))
}

/// A schedule's shifts in a window (default: the next 14 days; at most 366 days).
#[utoipa::path(
    get, path = "/api/v1/schedules/{id}/shifts", tag = "oncall", params(
        ("id" = String, Path, description = "Schedule id"), ShiftQuery
    ),
    responses(
        (status = 200, description = "Consecutive shifts; times with nobody on call are absent", body = ShiftList),
        (status = 400, description = "Malformed query", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such schedule", body = ErrorBody),
        (status = 422, description = "`to` not after `from`, or more than 366 days after it", body = ErrorBody)
    )
)]
pub(super) async fn shifts(
    _caller: AsViewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<ShiftQuery>,
) -> Result<Json<ShiftList>, ApiError> {
    let from = query.from.unwrap_or_else(|| state.clock.now());
    let to = match query.to {
        Some(to) => to,
        None => from
            .checked_add(DEFAULT_SHIFT_WINDOW)
            .map_err(|_| ApiError::invalid("from", "too late to add 14 days to"))?,
    };
    if to <= from {
        return Err(ApiError::invalid(
            "to",
            format!("`to` ({to}) must be after `from` ({from})"),
        ));
    }
    if to.duration_since(from) > MAX_SHIFT_WINDOW {
        return Err(ApiError::invalid(
            "to",
            "the window is longer than 366 days; ask for a year at a time",
        ));
    }
    let schedule = schedule(&state, &id).await?;
    Ok(Json(ShiftList {
        schedule: schedule.id.clone(),
        name: schedule.name.clone(),
        time_zone: schedule.time_zone.clone(),
        from,
        to,
        shifts: schedule
            .shifts(from, to)
            .iter()
            .map(ShiftView::from)
            .collect(),
    }))
}

/// The feeds' window: from the Monday (00:00 UTC) on or before 30 days ago, so the window
/// starts at the same instant all week and a shift clipped by it keeps its event UID
/// between polls (UIDs derive from the start), to 90 days ahead.
fn feed_window(now: Timestamp) -> Result<(Timestamp, Timestamp), ApiError> {
    let internal = |e: jiff::Error| {
        tracing::error!(error = %e, "calendar window");
        ApiError::Internal
    };
    let back = now.checked_sub(FEED_PAST).map_err(internal)?;
    let date = back.to_zoned(TimeZone::UTC).date();
    let monday = date
        .checked_sub(Span::new().days(i64::from(date.weekday().to_monday_zero_offset())))
        .map_err(internal)?;
    let from = monday
        .to_zoned(TimeZone::UTC)
        .map_err(internal)?
        .timestamp();
    let to = now.checked_add(FEED_AHEAD).map_err(internal)?;
    Ok((from, to))
}

fn calendar(body: String) -> Response {
    (
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        body,
    )
        .into_response()
}

/// The path of a schedule's feed (what its secret is made for).
pub(crate) fn schedule_feed_path(id: &str) -> String {
    format!("/api/v1/schedules/{id}/calendar.ics")
}

/// The path of a person's feed.
pub(crate) fn person_feed_path(id: &str) -> String {
    format!("/api/v1/people/{id}/calendar.ics")
}

/// One feed's entry: its absolute URL (the server's public base URL, the path, and its
/// secret as `?token=`).
pub(crate) fn feed_view(
    state: &AppState,
    secrets: &FeedSecrets,
    kind: &str,
    id: &str,
    name: &str,
) -> CalendarFeedView {
    let path = match kind {
        "schedule" => schedule_feed_path(id),
        _ => person_feed_path(id),
    };
    let base = state.pager.links().base_url.trim_end_matches('/');
    CalendarFeedView {
        kind: kind.to_owned(),
        id: id.to_owned(),
        name: name.to_owned(),
        url: format!("{base}{path}?token={}", secrets.secret(&path)),
    }
}

/// Every feed of the roster: schedules, then people.
async fn feed_list(state: &AppState) -> Result<CalendarFeedList, ApiError> {
    let roster = state.store.roster().await?;
    let secrets = FeedSecrets::load(state).await?;
    let schedules = roster
        .schedules
        .iter()
        .map(|(id, s)| feed_view(state, &secrets, "schedule", id, &s.name));
    let people = roster
        .people
        .iter()
        .map(|(id, p)| feed_view(state, &secrets, "person", id, &p.name));
    Ok(CalendarFeedList {
        feeds: schedules.chain(people).collect(),
    })
}

/// The URLs to subscribe to every schedule's and person's calendar feed. Each carries a
/// read-only secret that opens that one feed and nothing else, so it can be pasted into
/// a calendar app (which cannot send headers) without handing out a token.
#[utoipa::path(
    get, path = "/api/v1/calendar-feeds", tag = "oncall",
    responses(
        (status = 200, description = "Every schedule's feed, then every person's; each URL carries its feed's secret", body = CalendarFeedList),
        (status = 401, description = "No valid token", body = ErrorBody)
    )
)]
pub(super) async fn calendar_feeds(
    _caller: AsViewer,
    State(state): State<AppState>,
) -> Result<Json<CalendarFeedList>, ApiError> {
    Ok(Json(feed_list(&state).await?))
}

/// Replaces the key feed secrets are made from: every feed URL handed out so far stops
/// working (calendar apps then need the new URLs, listed in the answer).
#[utoipa::path(
    post, path = "/api/v1/calendar-feeds/rotate", tag = "oncall",
    responses(
        (status = 200, description = "Rotated; the new URLs", body = CalendarFeedList),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody)
    )
)]
pub(super) async fn rotate_calendar_feeds(
    caller: AsAdmin,
    State(state): State<AppState>,
) -> Result<Json<CalendarFeedList>, ApiError> {
    crate::auth::rotate_feed_key(state.store.as_ref()).await?;
    tracing::info!(actor = %caller.0.name, "calendar feed URLs rotated");
    Ok(Json(feed_list(&state).await?))
}

/// A schedule's shifts as an iCalendar feed (30 days back, 90 ahead) to subscribe to.
/// Calendar apps cannot send headers, so the feed's own read-only secret may come as
/// `?token=` (its URL is listed by `GET /api/v1/calendar-feeds`); API tokens may not.
#[utoipa::path(
    get, path = "/api/v1/schedules/{id}/calendar.ics", tag = "oncall",
    security(("bearer" = []), ("feed_token" = [])),
    params(
        ("id" = String, Path, description = "Schedule id"),
        ("token" = Option<String>, Query, description = "This feed's read-only secret (`flc_…`, from GET /api/v1/calendar-feeds), for calendar apps that cannot send headers; an API token here is refused")
    ),
    responses(
        (status = 200, description = "RFC 5545 calendar, one event per shift", content_type = "text/calendar", body = String),
        (status = 401, description = "No valid token, or not this feed's secret", body = ErrorBody),
        (status = 404, description = "No such schedule", body = ErrorBody)
    )
)]
pub(super) async fn schedule_feed(
    _reader: FeedReader,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let schedule = schedule(&state, &id).await?;
    let now = state.clock.now();
    let (from, to) = feed_window(now)?;
    let shifts = schedule.shifts(from, to);
    let title = format!("On call: {}", schedule.name);
    Ok(calendar(ical::schedule_calendar(
        &schedule, &shifts, now, &title,
    )))
}

/// A person's shifts on every schedule as an iCalendar feed (30 days back, 90 ahead).
/// Calendar apps cannot send headers, so the feed's own read-only secret may come as
/// `?token=` (its URL is listed by `GET /api/v1/calendar-feeds`); API tokens may not.
#[utoipa::path(
    get, path = "/api/v1/people/{id}/calendar.ics", tag = "oncall",
    security(("bearer" = []), ("feed_token" = [])),
    params(
        ("id" = String, Path, description = "Person id"),
        ("token" = Option<String>, Query, description = "This feed's read-only secret (`flc_…`, from GET /api/v1/calendar-feeds), for calendar apps that cannot send headers; an API token here is refused")
    ),
    responses(
        (status = 200, description = "RFC 5545 calendar, one event per shift", content_type = "text/calendar", body = String),
        (status = 401, description = "No valid token, or not this feed's secret", body = ErrorBody),
        (status = 404, description = "No such person", body = ErrorBody)
    )
)]
pub(super) async fn person_feed(
    _reader: FeedReader,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let roster = state.store.roster().await?;
    let person = roster
        .people
        .get(&id)
        .ok_or_else(|| Section::People.not_found(&id))?;
    let now = state.clock.now();
    let (from, to) = feed_window(now)?;
    let schedules: Vec<(&Schedule, Vec<fireline_core::oncall::Shift>)> = roster
        .schedules
        .values()
        .filter(|s| s.people().contains(&id.as_str()))
        .map(|s| (s, s.shifts(from, to)))
        .collect();
    let title = format!("On call: {}", person.name);
    Ok(calendar(ical::person_calendar(
        person, &schedules, now, &title,
    )))
}
