//! One incident (`GET /ui/incidents/{id}`) and its action forms, each a POST that runs
//! the same code as the JSON API (`execute` and its kin, which go through the one command
//! path, `fireline_engine::Commands`) and redirects
//! back (303). The parts that change while someone looks (facts, clocks, alerts,
//! checklist, timeline, and the forms while nobody is typing in them) carry `data-live`
//! and are refreshed by `live.js` when `/ui/events?incident=…` says the incident moved.

use super::{age, choices, form, render, url, Choice, Session};
use crate::auth::Authorized;
use crate::extract::ApiJson;
use crate::routes::incidents::{
    attach_runbook_now, detail, escalate_now, execute, load, parse_id, parse_status, update_text,
};
use crate::routes::meta::policy_summary;
use crate::wire::IncidentDetail;
use crate::{ApiError, AppState};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use fireline_core::describe::{self, Precision};
use fireline_core::plan::pending;
use fireline_core::policy::templates::TemplateKind;
use fireline_core::policy::Policy;
use fireline_core::{Channel, ClockKind};
use fireline_core::{Command, EventData, IncidentRole, RecordedEvent, Status};
use jiff::Timestamp;
use std::collections::{BTreeMap, HashMap};

/// Time left on a clock, or how long overdue (the `left` macro).
struct Left {
    overdue: bool,
    text: String,
}

fn left(at: Timestamp, now: Timestamp) -> Left {
    let left = at.duration_since(now);
    Left {
        overdue: left.is_negative(),
        text: fireline_core::comms::human_duration(left.abs()),
    }
}

fn clock_name(clock: ClockKind) -> &'static str {
    match clock {
        ClockKind::Acknowledge => "Acknowledge",
        ClockKind::FirstResponse => "First response",
        ClockKind::InitialUpdate => "First update",
        ClockKind::Mitigate => "Mitigate",
        ClockKind::Resolve => "Resolve",
    }
}

/// One line of the clocks list.
enum Clock {
    /// A response clock still running: name, time left, target, due.
    Running(&'static str, Left, String, Timestamp),
    /// A response clock already breached: name, target, when.
    Missed(&'static str, String, Timestamp),
    /// A channel's next update: channel, time left, due.
    NextUpdate(String, Left, Timestamp),
    /// The next escalation unless acknowledged: level, name, time left.
    Escalates(u32, String, Left),
}

/// The response clocks still running (from what the policy will do if nothing changes),
/// those already breached, the update cadence per channel and the next escalation.
fn clocks(
    policy: &Policy,
    events: &[RecordedEvent],
    d: &IncidentDetail,
    now: Timestamp,
) -> Vec<Clock> {
    let mut items = Vec::new();
    let planned = pending(policy, events);
    for clock in ClockKind::ALL {
        let running = planned.iter().find_map(|a| match &a.event {
            EventData::SlaBreached {
                clock: c, target, ..
            } if *c == clock => Some((a.at, target)),
            _ => None,
        });
        let breached = events.iter().rev().find_map(|e| match &e.data {
            EventData::SlaBreached {
                clock: c, target, ..
            } if *c == clock => Some((e.at, target)),
            _ => None,
        });
        if let Some((at, target)) = running {
            items.push(Clock::Running(
                clock_name(clock),
                left(at, now),
                target.to_string(),
                at,
            ));
        } else if let Some((at, target)) = breached {
            items.push(Clock::Missed(clock_name(clock), target.to_string(), at));
        }
    }
    for (channel, at) in &d.next_updates {
        items.push(Clock::NextUpdate(channel.clone(), left(*at, now), *at));
    }
    if let Some((at, level, name)) = planned.iter().find_map(|a| match &a.event {
        EventData::Escalated { level, name, .. } => Some((a.at, level, name)),
        _ => None,
    }) {
        items.push(Clock::Escalates(*level, name.clone(), left(at, now)));
    }
    items
}

/// An alert that joined the incident, with its latest state.
struct Alert {
    key: String,
    summary: String,
    firing: bool,
    /// Its link, when it is http(s).
    link: Option<String>,
}

/// Every alert that joined the incident, in order of first attachment.
fn alerts(events: &[RecordedEvent]) -> Vec<Alert> {
    // dedup key → (summary, firing, link); in order of first attachment.
    let mut order: Vec<String> = Vec::new();
    let mut state: BTreeMap<String, (String, bool, Option<String>)> = BTreeMap::new();
    for e in events {
        match &e.data {
            EventData::AlertAttached {
                dedup_key,
                summary,
                link,
                ..
            } => {
                if !state.contains_key(dedup_key) {
                    order.push(dedup_key.clone());
                }
                state.insert(dedup_key.clone(), (summary.clone(), true, link.clone()));
            }
            EventData::AlertUpdated {
                dedup_key, summary, ..
            } => {
                if let Some(entry) = state.get_mut(dedup_key) {
                    entry.0.clone_from(summary);
                    entry.1 = true;
                }
            }
            EventData::AlertResolved { dedup_key, .. } => {
                if let Some(entry) = state.get_mut(dedup_key) {
                    entry.1 = false;
                }
            }
            _ => {}
        }
    }
    order
        .into_iter()
        .filter_map(|key| {
            let (summary, firing, link) = state.remove(&key)?;
            Some(Alert {
                key,
                summary,
                firing,
                link: link.filter(|l| l.starts_with("http://") || l.starts_with("https://")),
            })
        })
        .collect()
}

/// One timeline entry, worded by the core's describer (the CLI and the post-mortem
/// draft say the same).
struct Entry {
    /// RFC 3339, for the `<time>` element.
    at: Timestamp,
    /// The time in the reader's zone, to the minute.
    when: String,
    actor: String,
    /// What happened; may hold the responder's own line breaks.
    summary: String,
    /// Facts a responder rarely needs, folded.
    details: Vec<String>,
    /// An update-due or post-mortem reminder (shown quieter).
    reminder: bool,
}

fn timeline(events: &[RecordedEvent], zone: &jiff::tz::TimeZone) -> Vec<Entry> {
    describe::timeline(events, zone)
        .into_iter()
        .map(|line| Entry {
            at: line.at,
            when: describe::instant(line.at, zone, Precision::Minute),
            actor: line.actor,
            summary: line.what.summary,
            details: line.what.details,
            reminder: line.reminder,
        })
        .collect()
}

/// The zone a reader's times are shown in: theirs when they are a roster person with
/// one (a user named by their roster id), else the policy's calendar zone.
fn reader_zone(
    session: &Session,
    roster: Option<&fireline_core::oncall::Roster>,
    policy: &Policy,
) -> jiff::tz::TimeZone {
    session
        .caller
        .user_name()
        .and_then(|name| roster?.people.get(name))
        .and_then(|person| jiff::tz::TimeZone::get(&person.time_zone).ok())
        .unwrap_or_else(|| policy.calendar.time_zone.clone())
}

/// An update being written: what the form held, and what it renders to.
#[derive(Debug, Default)]
struct Draft {
    channel: String,
    template: String,
    text: String,
    /// The text that would be posted, and wording warnings.
    rendered: Option<(String, Vec<String>)>,
}

/// The runbook attached, with each step's id as a path segment.
struct Checklist {
    title: String,
    total: usize,
    done: usize,
    progress: String,
    steps: Vec<Step>,
}

/// A runbook step.
struct Step {
    /// Its id as a path segment.
    slug: String,
    text: String,
    command: Option<String>,
    done: bool,
}

/// The action forms' choices (for responders and admins).
struct Actions {
    base: String,
    statuses: Vec<Choice>,
    severities: Vec<Choice>,
    roles: Vec<Choice>,
    channels: Vec<Choice>,
    templates: Vec<Choice>,
    draft_text: String,
    /// The update as it would be posted, and wording warnings.
    preview: Option<(String, Vec<String>)>,
    levels: Vec<Choice>,
    books: Vec<Choice>,
}

fn actions(state: &AppState, d: &IncidentDetail, draft: &Draft) -> Actions {
    let policy = state.policy.current();
    let i = &d.incident;
    let channel = if draft.channel.is_empty() {
        Channel::Internal.as_str()
    } else {
        draft.channel.as_str()
    };
    let books = if d.checklist.is_none() {
        let mut ids: Vec<(String, String)> = state
            .runbooks
            .iter()
            .map(|(id, book)| (id.clone(), format!("{} ({id})", book.title)))
            .collect();
        ids.sort();
        choices(ids, "")
    } else {
        Vec::new()
    };
    Actions {
        base: format!("/ui/incidents/{}", i.id),
        statuses: choices(
            Status::ALL
                .iter()
                .filter(|s| **s != Status::Resolved && s.as_str() != i.status)
                .map(|s| (s.as_str().to_owned(), s.as_str().to_owned())),
            "",
        ),
        severities: choices(
            policy
                .catalog()
                .levels()
                .iter()
                .filter(|s| !s.id.eq_ignore_ascii_case(&i.severity))
                .map(|s| (s.id.clone(), format!("{}: {}", s.id, s.name))),
            "",
        ),
        roles: choices(
            IncidentRole::ALL
                .iter()
                .map(|r| (r.as_str().to_owned(), r.as_str().replace('_', " "))),
            "",
        ),
        channels: choices(
            Channel::ALL
                .iter()
                .map(|c| (c.as_str().to_owned(), c.as_str().to_owned())),
            channel,
        ),
        templates: choices(
            std::iter::once((String::new(), "none: post the text as written".to_owned())).chain(
                TemplateKind::ALL
                    .iter()
                    .filter(|k| !matches!(k, TemplateKind::Escalation | TemplateKind::Handoff))
                    .map(|k| (k.as_str().to_owned(), k.as_str().replace('_', " "))),
            ),
            &draft.template,
        ),
        draft_text: draft.text.clone(),
        preview: draft.rendered.clone(),
        levels: choices(
            policy_summary(&policy).escalation.iter().map(|l| {
                (
                    l.level.to_string(),
                    format!("{}: {} → {}", l.level, l.name, l.targets.join(", ")),
                )
            }),
            "",
        ),
        books,
    }
}

/// The incident page (`templates/ui/incident.html` and its parts).
#[derive(Template)]
#[template(path = "ui/incident.html")]
struct IncidentPage<'a> {
    session: &'a Session,
    i: crate::wire::IncidentView,
    open: bool,
    age: String,
    /// Who acknowledged, and how long ago.
    acknowledged: Option<(String, String)>,
    channel: Option<String>,
    clocks: Vec<Clock>,
    alerts: Vec<Alert>,
    firing: usize,
    postmortem: Option<fireline_store::PostmortemRecord>,
    checklist: Option<Checklist>,
    /// Whether the steps get Check/Uncheck buttons.
    can_check: bool,
    /// `None` for viewers.
    actions: Option<Actions>,
    /// The roster's people (id, name), the role form's suggestions.
    people: Vec<(String, String)>,
    timeline: Vec<Entry>,
}

/// The people in the roster, for the role form's suggestions.
fn people_list(roster: Option<&fireline_core::oncall::Roster>) -> Vec<(String, String)> {
    roster
        .map(|r| {
            r.people
                .iter()
                .map(|(id, p)| (id.clone(), p.name.clone()))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) async fn show(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    incident_page(&session, &state, &id, &Draft::default(), StatusCode::OK).await
}

/// The incident page; `draft` refills the update form (and shows its preview).
async fn incident_page(
    session: &Session,
    state: &AppState,
    id: &str,
    draft: &Draft,
    status: StatusCode,
) -> Response {
    let found = async {
        let id = parse_id(id)?;
        let (incident, events) = load(state, id).await?;
        let policy = state.policy.current();
        let d = detail(&policy, &incident, &events, state.clock.now());
        let postmortem = state.store.postmortem(id).await?;
        Ok::<_, ApiError>((policy, events, d, postmortem))
    }
    .await;
    let (policy, events, d, postmortem) = match found {
        Ok(found) => found,
        Err(e) => return super::error_page(Some(session), e, "/ui"),
    };
    let now = state.clock.now();
    let open = d.incident.status != Status::Resolved.as_str();
    let title = format!("{} · {}", d.incident.id, d.incident.title);
    let alerts = alerts(&events);
    let roster = state.store.roster().await.ok();
    let zone = reader_zone(session, roster.as_ref(), &policy);
    let body = IncidentPage {
        session,
        open,
        age: age(d.incident.declared_at, now),
        acknowledged: match (&d.incident.acknowledged_by, d.incident.acknowledged_at) {
            (Some(by), Some(at)) => Some((by.clone(), age(at, now))),
            _ => None,
        },
        channel: d.channel_name.clone(),
        clocks: clocks(&policy, &events, &d, now),
        firing: alerts.iter().filter(|a| a.firing).count(),
        alerts,
        postmortem,
        checklist: d.checklist.as_ref().map(|c| Checklist {
            title: c.title.clone(),
            total: c.total,
            done: c.done,
            progress: c.progress.clone(),
            steps: c
                .steps
                .iter()
                .map(|s| Step {
                    slug: url(&s.id),
                    text: s.text.clone(),
                    command: s.command.clone(),
                    done: s.done,
                })
                .collect(),
        }),
        can_check: session.can_act() && open,
        actions: session.can_act().then(|| actions(state, &d, draft)),
        people: people_list(roster.as_ref()),
        timeline: timeline(&events, &zone),
        i: d.incident,
    };
    render(status, &title, Some(session), &body)
}

/// The one path for every form: session, CSRF and role (403), then the API's `execute`,
/// then back to the incident (303), or the refusal as a page.
async fn act(
    session: Session,
    state: AppState,
    id: String,
    body: Bytes,
    command: impl FnOnce(&HashMap<String, String>) -> Result<Command, ApiError>,
) -> Response {
    let fields = form(&body);
    if let Some(refused) = session.refuse_post(fields.get("csrf").map(String::as_str)) {
        return refused;
    }
    let back = format!("/ui/incidents/{}", url(&id));
    let done = async {
        let id = parse_id(&id)?;
        let command = command(&fields)?;
        let _detail = execute(&state, &session.caller, id, None, command).await?;
        Ok::<_, ApiError>(id)
    }
    .await;
    match done {
        Ok(id) => Redirect::to(&format!("/ui/incidents/{id}")).into_response(),
        Err(e) => super::error_page(Some(&session), e, &back),
    }
}

fn optional(fields: &HashMap<String, String>, name: &str) -> Option<String> {
    fields
        .get(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn text(fields: &HashMap<String, String>, name: &str) -> String {
    fields.get(name).cloned().unwrap_or_default()
}

pub(super) async fn acknowledge(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    act(session, state, id, body, |_| Ok(Command::Acknowledge)).await
}

pub(super) async fn status(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    act(session, state, id, body, |f| {
        Ok(Command::ChangeStatus {
            to: parse_status(&text(f, "status"))?,
            message: optional(f, "message"),
        })
    })
    .await
}

pub(super) async fn note(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    act(session, state, id, body, |f| {
        Ok(Command::AddNote {
            text: text(f, "text"),
        })
    })
    .await
}

/// Posts an update, or (`intent=preview`) shows the page again with the text the update
/// would carry: the same rendering as posting (`update_text`), so the preview is what
/// gets posted.
pub(super) async fn update(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let fields = form(&body);
    if let Some(refused) = session.refuse_post(fields.get("csrf").map(String::as_str)) {
        return refused;
    }
    let mut draft = Draft {
        channel: text(&fields, "channel"),
        template: text(&fields, "template"),
        text: text(&fields, "text"),
        ..Draft::default()
    };
    let rendered = async {
        let incident = parse_id(&id)?;
        let channel: Channel = draft
            .channel
            .parse()
            .map_err(|e: String| ApiError::invalid("channel", e))?;
        let (current, _) = load(&state, incident).await?;
        let (text, warnings) = update_text(
            &state.policy.current(),
            &current,
            channel,
            Some(draft.template.as_str()),
            &draft.text,
            &BTreeMap::new(),
            state.clock.now(),
        )?;
        Ok::<_, ApiError>((incident, channel, text, warnings))
    }
    .await;
    let (incident, channel, rendered, warnings) = match rendered {
        Ok(r) => r,
        Err(e) => {
            return super::error_page(Some(&session), e, &format!("/ui/incidents/{}", url(&id)))
        }
    };
    if text(&fields, "intent") == "preview" {
        draft.rendered = Some((rendered, warnings));
        return incident_page(&session, &state, &id, &draft, StatusCode::OK).await;
    }
    let posted = execute(
        &state,
        &session.caller,
        incident,
        None,
        Command::PostUpdate {
            channel,
            text: rendered,
        },
    )
    .await;
    match posted {
        Ok(_) => Redirect::to(&format!("/ui/incidents/{incident}")).into_response(),
        Err(e) => super::error_page(Some(&session), e, &format!("/ui/incidents/{incident}")),
    }
}

pub(super) async fn severity(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    act(session, state, id, body, |f| {
        Ok(Command::ChangeSeverity {
            to: text(f, "severity"),
            reason: optional(f, "reason"),
        })
    })
    .await
}

pub(super) async fn assign(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    act(session, state, id, body, |f| {
        let role: IncidentRole =
            text(f, "role")
                .parse()
                .map_err(|e: fireline_core::role::UnknownRole| {
                    ApiError::invalid("role", e.to_string())
                })?;
        Ok(Command::AssignRole {
            role,
            assignee: text(f, "assignee").trim().to_owned(),
        })
    })
    .await
}

pub(super) async fn reopen(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    act(session, state, id, body, |f| {
        Ok(Command::Reopen {
            reason: optional(f, "reason"),
        })
    })
    .await
}

/// Runs the API's own code for a form that is more than a `Command` (escalation,
/// attaching a runbook, drafting the post-mortem, completing a stage), as the session's
/// caller held to the same role, then back to `then` (303).
pub(super) async fn through_api<T, F>(
    session: &Session,
    body: &Bytes,
    then: String,
    call: impl FnOnce(HashMap<String, String>, crate::auth::AsResponder) -> F,
) -> Response
where
    F: std::future::Future<Output = Result<T, ApiError>>,
{
    let fields = form(body);
    if let Some(refused) = session.refuse_post(fields.get("csrf").map(String::as_str)) {
        return refused;
    }
    let caller = match Authorized::check(session.caller.clone()) {
        Ok(c) => c,
        Err(e) => return super::error_page(Some(session), e, &then),
    };
    match call(fields, caller).await {
        Ok(_) => Redirect::to(&then).into_response(),
        Err(e) => super::error_page(Some(session), e, &then),
    }
}

pub(super) async fn escalate(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let back = format!("/ui/incidents/{}", url(&id));
    through_api(&session, &body, back, |f, caller| async move {
        let level: u32 = text(&f, "level")
            .trim()
            .parse()
            .map_err(|_| ApiError::invalid("level", "choose an escalation level"))?;
        let reason = optional(&f, "reason");
        escalate_now(
            &state,
            &caller.0,
            parse_id(&id)?,
            None,
            level,
            reason.as_deref(),
        )
        .await
    })
    .await
}

pub(super) async fn runbook(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let back = format!("/ui/incidents/{}", url(&id));
    through_api(&session, &body, back, |f, caller| async move {
        attach_runbook_now(
            &state,
            &caller.0,
            parse_id(&id)?,
            None,
            &text(&f, "runbook"),
        )
        .await
    })
    .await
}

pub(super) async fn draft_postmortem(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let then = format!("/ui/incidents/{}/postmortem", url(&id));
    through_api(&session, &body, then, |_, caller| async move {
        crate::routes::postmortems::draft(
            caller,
            State(state),
            Path(id),
            ApiJson(crate::wire::PostmortemDraftRequest { template: None }),
        )
        .await
    })
    .await
}

pub(super) async fn resolve(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    act(session, state, id, body, |f| {
        Ok(Command::Resolve {
            summary: optional(f, "summary"),
        })
    })
    .await
}

pub(super) async fn check_step(
    session: Session,
    State(state): State<AppState>,
    Path((id, step)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    act(session, state, id, body, |f| {
        Ok(Command::CheckStep {
            step,
            done: text(f, "done") != "false",
            output: optional(f, "output"),
        })
    })
    .await
}
