//! One incident (`GET /ui/incidents/{id}`) and its action forms, each a POST that runs
//! the same code as the JSON API (`execute`, or the API handler itself) and redirects
//! back (303). The parts that change while someone looks (facts, clocks, alerts,
//! checklist, timeline, and the forms while nobody is typing in them) carry `data-live`
//! and are refreshed by `live.js` when `/ui/events?incident=…` says the incident moved.

use super::{age, duration, esc, form, page, url, when, Session, LIVE_JS};
use crate::auth::Authorized;
use crate::extract::ApiJson;
use crate::routes::incidents::{
    attach_runbook as api_attach_runbook, detail, escalate as api_escalate, execute, load,
    parse_id, parse_status, update_text,
};
use crate::routes::meta::policy_summary;
use crate::wire::{AttachRunbookRequest, EscalateRequest, IncidentDetail};
use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use fireline_core::comms::TemplateKind;
use fireline_core::plan::pending;
use fireline_core::policy::{Channel, ClockKind, Policy};
use fireline_core::{Command, EventData, IncidentRole, RecordedEvent, Status};
use jiff::Timestamp;
use std::collections::{BTreeMap, HashMap};

fn facts(d: &IncidentDetail, now: Timestamp) -> String {
    let i = &d.incident;
    let roles = if i.roles.is_empty() {
        "none assigned".to_owned()
    } else {
        i.roles
            .iter()
            .map(|(role, who)| format!("{}: {}", esc(role), esc(who)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let acknowledged = match (&i.acknowledged_by, i.acknowledged_at) {
        (Some(by), Some(at)) => format!("{} ({} ago)", esc(by), age(at, now)),
        _ => "not yet".to_owned(),
    };
    format!(
        "<dl class=\"facts\">\
         <dt>Severity</dt><dd><span class=\"sev sev-{sev_class}\">{sev}</span></dd>\
         <dt>Status</dt><dd><span class=\"status status-{status}\">{status}</span></dd>\
         <dt>Service</dt><dd>{service}</dd>\
         <dt>Age</dt><dd><time datetime=\"{declared}\">{age}</time> (declared by {by})</dd>\
         <dt>Acknowledged by</dt><dd>{acknowledged}</dd>\
         <dt>Roles</dt><dd>{roles}</dd>{channel}</dl>{summary}",
        sev = esc(&i.severity),
        sev_class = esc(&i.severity.to_ascii_lowercase()),
        status = esc(&i.status),
        service = esc(&i.service),
        declared = i.declared_at,
        age = age(i.declared_at, now),
        by = esc(&i.declared_by),
        channel = d.channel_name.as_deref().map_or(String::new(), |c| format!(
            "<dt>Channel</dt><dd>{}</dd>",
            esc(c)
        )),
        summary = i
            .summary
            .as_deref()
            .map_or(String::new(), |s| format!("<p>{}</p>", esc(s))),
    )
}

/// "4m left" or "overdue by 2m", in words (never colour alone).
fn left(at: Timestamp, now: Timestamp) -> String {
    let left = at.duration_since(now);
    if left.is_negative() {
        format!(
            "<strong class=\"overdue\">overdue by {}</strong>",
            duration(-left)
        )
    } else {
        format!("{} left", duration(left))
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

/// The response clocks still running (from what the policy will do if nothing changes),
/// those already breached, the update cadence per channel and the next escalation.
fn clocks(policy: &Policy, events: &[RecordedEvent], d: &IncidentDetail, now: Timestamp) -> String {
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
            items.push(format!(
                "<li>{}: {} (target {}, by {})</li>",
                clock_name(clock),
                left(at, now),
                esc(target),
                when(at)
            ));
        } else if let Some((at, target)) = breached {
            items.push(format!(
                "<li>{}: <strong class=\"overdue\">missed</strong> (target {}, breached {})</li>",
                clock_name(clock),
                esc(target),
                when(at)
            ));
        }
    }
    for (channel, at) in &d.next_updates {
        items.push(format!(
            "<li>Next {} update: {} ({})</li>",
            esc(channel),
            left(*at, now),
            when(*at)
        ));
    }
    if let Some((at, level, name)) = planned.iter().find_map(|a| match &a.event {
        EventData::Escalated { level, name, .. } => Some((a.at, level, name)),
        _ => None,
    }) {
        items.push(format!(
            "<li>Escalates to level {level} ({}) unless acknowledged: {}</li>",
            esc(name),
            left(at, now)
        ));
    }
    if items.is_empty() {
        return String::new();
    }
    format!("<h2>Clocks</h2><ul>{}</ul>", items.concat())
}

/// Every alert that joined the incident, with its latest state.
fn alerts(events: &[RecordedEvent]) -> String {
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
    if order.is_empty() {
        return String::new();
    }
    let firing = state.values().filter(|(_, f, _)| *f).count();
    let items: String = order
        .iter()
        .filter_map(|key| state.get(key).map(|v| (key, v)))
        .map(|(key, (summary, firing, link))| {
            let summary = match link {
                Some(l) if l.starts_with("http://") || l.starts_with("https://") => format!(
                    "<a href=\"{}\" rel=\"noreferrer\">{}</a>",
                    esc(l),
                    esc(summary)
                ),
                _ => esc(summary),
            };
            format!(
                "<li><span class=\"status {}\">{}</span> {summary} <span class=\"muted\">({})</span></li>",
                if *firing { "status-firing" } else { "status-resolved" },
                if *firing { "firing" } else { "resolved" },
                esc(key)
            )
        })
        .collect();
    format!(
        "<h2>Alerts ({firing} firing of {})</h2><ul class=\"plain\">{items}</ul>",
        order.len()
    )
}

fn checklist(d: &IncidentDetail, session: &Session, open: bool) -> String {
    let Some(c) = &d.checklist else {
        return String::new();
    };
    let id = &d.incident.id;
    let steps: String = c
        .steps
        .iter()
        .map(|s| {
            let button = if session.can_act() && open {
                format!(
                    "<form method=\"post\" action=\"/ui/incidents/{id}/checklist/{step}\">{csrf}\
                     <input type=\"hidden\" name=\"done\" value=\"{done}\">\
                     <button type=\"submit\">{label}</button></form> ",
                    step = esc(&url(&s.id)),
                    csrf = session.csrf_field(),
                    done = !s.done,
                    label = if s.done { "Uncheck" } else { "Check" },
                )
            } else {
                String::new()
            };
            format!(
                "<li>{button}<span class=\"{class}\">[{mark}] {text}</span>{command}</li>",
                class = if s.done { "done" } else { "" },
                mark = if s.done { "done" } else { "to do" },
                text = esc(&s.text),
                command = s
                    .command
                    .as_deref()
                    .map_or(String::new(), |c| format!(" <code>{}</code>", esc(c))),
            )
        })
        .collect();
    format!(
        "<h2>Runbook: {}</h2><p><progress max=\"{}\" value=\"{}\"></progress> {}</p>\
         <ul class=\"steps\">{steps}</ul>",
        esc(&c.title),
        c.total,
        c.done,
        esc(&c.progress)
    )
}

/// Longer structured timeline details (in JSON characters) are folded into `<details>`.
const LONG_DETAIL: usize = 160;

fn timeline(d: &IncidentDetail) -> String {
    let items: String = d
        .timeline
        .iter()
        .map(|e| {
            let details: Vec<String> = e
                .data
                .iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => format!("{}: {}", esc(k), esc(s)),
                    // A long list or object (a runbook's steps) would bury the timeline:
                    // folded, with its size in the summary.
                    other if other.to_string().len() > LONG_DETAIL => format!(
                        "<details><summary>{} ({})</summary><code>{}</code></details>",
                        esc(k),
                        match other {
                            serde_json::Value::Array(a) => format!("{} items", a.len()),
                            serde_json::Value::Object(o) => format!("{} fields", o.len()),
                            _ => "value".to_owned(),
                        },
                        esc(&other.to_string())
                    ),
                    other => format!("{}: {}", esc(k), esc(&other.to_string())),
                })
                .collect();
            format!(
                "<li><time datetime=\"{at}\">{at}</time> · <strong>{actor}</strong> · {kind}\
                 {details}</li>",
                at = e.at,
                actor = esc(&e.actor),
                kind = esc(&e.kind.replace('_', " ")),
                details = if details.is_empty() {
                    String::new()
                } else {
                    format!("<br>{}", details.join(" · "))
                },
            )
        })
        .collect();
    format!("<h2>Timeline</h2><ol class=\"timeline\">{items}</ol>")
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

/// `<option>`s of (value, label), `selected` marked; both escaped.
fn options(values: impl IntoIterator<Item = (String, String)>, selected: &str) -> String {
    values
        .into_iter()
        .map(|(value, label)| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                esc(&value),
                if value == selected { " selected" } else { "" },
                esc(&label)
            )
        })
        .collect()
}

/// The update form, with its preview when one was asked for.
fn update_form(base: &str, csrf: &str, draft: &Draft) -> String {
    let channel = if draft.channel.is_empty() {
        Channel::Internal.as_str()
    } else {
        draft.channel.as_str()
    };
    let channels = options(
        Channel::ALL
            .iter()
            .map(|c| (c.as_str().to_owned(), c.as_str().to_owned())),
        channel,
    );
    let templates = options(
        std::iter::once((String::new(), "none: post the text as written".to_owned())).chain(
            TemplateKind::ALL
                .iter()
                .filter(|k| !matches!(k, TemplateKind::Escalation | TemplateKind::Handoff))
                .map(|k| (k.as_str().to_owned(), k.as_str().replace('_', " "))),
        ),
        &draft.template,
    );
    let preview = match &draft.rendered {
        None => String::new(),
        Some((text, warnings)) => format!(
            "<section class=\"preview\" aria-label=\"Preview\"><h3>Preview</h3><pre>{}</pre>{}</section>",
            esc(text),
            warnings
                .iter()
                .map(|w| format!("<p class=\"error\" role=\"alert\">Warning: {}</p>", esc(w)))
                .collect::<String>()
        ),
    };
    format!(
        "<form method=\"post\" action=\"{base}/updates\" id=\"update-form\">{csrf}\
         <label for=\"channel\">Channel</label><select id=\"channel\" name=\"channel\">{channels}</select>\
         <label for=\"template\">Template</label><select id=\"template\" name=\"template\">{templates}</select>\
         <label for=\"update\">Update</label>\
         <textarea id=\"update\" name=\"text\" aria-describedby=\"update-hint\">{}</textarea>\
         <p class=\"hint\" id=\"update-hint\">With a template, this is its message; Preview shows \
         the text that will be posted.</p>{preview}\
         <div class=\"buttons\"><button type=\"submit\" name=\"intent\" value=\"preview\">Preview</button>\
         <button type=\"submit\" name=\"intent\" value=\"post\">Post update</button></div></form>",
        esc(&draft.text)
    )
}

fn actions(
    state: &AppState,
    d: &IncidentDetail,
    session: &Session,
    draft: &Draft,
    has_postmortem: bool,
) -> String {
    if !session.can_act() {
        return "<p class=\"hint\">You are signed in as a viewer: read only.</p>".to_owned();
    }
    let policy = state.policy.current();
    let i = &d.incident;
    let base = format!("/ui/incidents/{}", i.id);
    let csrf = session.csrf_field();
    let mut out = String::new();
    let open = i.status != Status::Resolved.as_str();
    if open && i.acknowledged_by.is_none() {
        out.push_str(&format!(
            "<form method=\"post\" action=\"{base}/acknowledge\">{csrf}\
             <button type=\"submit\">Acknowledge</button></form>"
        ));
    }
    if open {
        let statuses = options(
            Status::ALL
                .iter()
                .filter(|s| **s != Status::Resolved && s.as_str() != i.status)
                .map(|s| (s.as_str().to_owned(), s.as_str().to_owned())),
            "",
        );
        out.push_str(&format!(
            "<form method=\"post\" action=\"{base}/status\">{csrf}\
             <label for=\"status\">New status</label><select id=\"status\" name=\"status\">{statuses}</select>\
             <label for=\"status-message\">Message (optional)</label>\
             <input id=\"status-message\" name=\"message\">\
             <button type=\"submit\">Change status</button></form>"
        ));
        let severities = options(
            policy
                .catalog()
                .levels()
                .iter()
                .filter(|s| !s.id.eq_ignore_ascii_case(&i.severity))
                .map(|s| (s.id.clone(), format!("{}: {}", s.id, s.name))),
            "",
        );
        out.push_str(&format!(
            "<form method=\"post\" action=\"{base}/severity\">{csrf}\
             <label for=\"severity\">New severity</label><select id=\"severity\" name=\"severity\">{severities}</select>\
             <label for=\"severity-reason\">Why (optional)</label>\
             <input id=\"severity-reason\" name=\"reason\">\
             <button type=\"submit\">Change severity</button></form>"
        ));
        let roles = options(
            IncidentRole::ALL
                .iter()
                .map(|r| (r.as_str().to_owned(), r.as_str().replace('_', " "))),
            "",
        );
        out.push_str(&format!(
            "<form method=\"post\" action=\"{base}/roles\">{csrf}\
             <label for=\"role\">Role</label><select id=\"role\" name=\"role\">{roles}</select>\
             <label for=\"assignee\">Who</label>\
             <input id=\"assignee\" name=\"assignee\" required value=\"{}\" list=\"people\" \
             autocapitalize=\"none\">\
             <button type=\"submit\">Assign role</button></form>",
            esc(&session.caller.name)
        ));
    }
    out.push_str(&format!(
        "<form method=\"post\" action=\"{base}/notes\">{csrf}\
         <label for=\"note\">Note</label><textarea id=\"note\" name=\"text\" required></textarea>\
         <button type=\"submit\">Add note</button></form>"
    ));
    if open {
        out.push_str(&update_form(&base, &csrf, draft));
        let levels = policy_summary(&policy).escalation;
        if !levels.is_empty() {
            let levels = options(
                levels.iter().map(|l| {
                    (
                        l.level.to_string(),
                        format!("{}: {} → {}", l.level, l.name, l.targets.join(", ")),
                    )
                }),
                "",
            );
            out.push_str(&format!(
                "<form method=\"post\" action=\"{base}/escalate\">{csrf}\
                 <label for=\"level\">Escalate to</label><select id=\"level\" name=\"level\">{levels}</select>\
                 <button type=\"submit\">Escalate now</button></form>"
            ));
        }
        if d.checklist.is_none() && !state.runbooks.is_empty() {
            let mut ids: Vec<(String, String)> = state
                .runbooks
                .iter()
                .map(|(id, book)| (id.clone(), format!("{} ({id})", book.title)))
                .collect();
            ids.sort();
            let books = options(ids, "");
            out.push_str(&format!(
                "<form method=\"post\" action=\"{base}/runbook\">{csrf}\
                 <label for=\"runbook\">Runbook</label><select id=\"runbook\" name=\"runbook\">{books}</select>\
                 <button type=\"submit\">Attach runbook</button></form>"
            ));
        }
        out.push_str(&format!(
            "<form method=\"post\" action=\"{base}/resolve\">{csrf}\
             <label for=\"resolve-summary\">Resolution summary (optional)</label>\
             <textarea id=\"resolve-summary\" name=\"summary\"></textarea>\
             <button type=\"submit\">Resolve</button></form>"
        ));
    } else {
        out.push_str(&format!(
            "<form method=\"post\" action=\"{base}/reopen\">{csrf}\
             <label for=\"reopen-reason\">Why reopen (optional)</label>\
             <input id=\"reopen-reason\" name=\"reason\">\
             <button type=\"submit\">Reopen</button></form>"
        ));
        if !has_postmortem {
            out.push_str(&format!(
                "<form method=\"post\" action=\"{base}/postmortem\">{csrf}\
                 <p>Draft the post-mortem from the timeline, in the policy's template.</p>\
                 <button type=\"submit\">Draft post-mortem</button></form>"
            ));
        }
    }
    format!("<h2>Act</h2><div class=\"actions\">{out}</div>")
}

/// The people in the roster, for the role form's suggestions.
async fn people_list(state: &AppState) -> String {
    let Ok(roster) = state.store.roster().await else {
        return String::new();
    };
    let options: String = roster
        .people
        .iter()
        .map(|(id, p)| format!("<option value=\"{}\">{}</option>", esc(id), esc(&p.name)))
        .collect();
    format!("<datalist id=\"people\">{options}</datalist>")
}

pub(super) async fn show(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    render(&session, &state, &id, &Draft::default(), StatusCode::OK).await
}

/// The incident page; `draft` refills the update form (and shows its preview).
async fn render(
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
    let postmortem = match postmortem {
        Some(pm) => format!(
            "<h2>Post-mortem</h2><p><a href=\"/ui/incidents/{}/postmortem\">Post-mortem</a> \
             (version {}, last saved {} by {})</p>",
            d.incident.id,
            pm.version,
            when(pm.updated_at),
            esc(&pm.updated_by)
        ),
        None if !open => "<h2>Post-mortem</h2><p>Not drafted yet.</p>".to_owned(),
        None => String::new(),
    };
    let has_postmortem = postmortem.contains("/postmortem\"");
    let events_url = format!("/ui/events?incident={}", d.incident.id);
    page(
        status,
        &format!("{} · {}", d.incident.id, d.incident.title),
        Some(session),
        &format!(
            "<p><a href=\"/ui\">← All incidents</a></p>\
             <p class=\"live\" aria-live=\"polite\" id=\"live\" data-events=\"{}\" \
             data-fragment=\"/ui/incidents/{}\">Live</p>\
             <div id=\"summary\" data-live>{}{}{}{}</div><div id=\"checklist\" data-live>{}</div>\
             <div id=\"act\" data-live data-keep-while-editing>{}</div>{}\
             <div id=\"timeline\" data-live>{}</div><script>{LIVE_JS}</script>",
            esc(&events_url),
            d.incident.id,
            facts(&d, now),
            clocks(&policy, &events, &d, now),
            alerts(&events),
            postmortem,
            checklist(&d, session, open),
            actions(state, &d, session, draft, has_postmortem),
            people_list(state).await,
            timeline(&d),
        ),
    )
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
        return render(&session, &state, &id, &draft, StatusCode::OK).await;
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

/// Runs one of the API's own handlers for a form (the ones that are more than a
/// `Command`: escalation, attaching a runbook, drafting the post-mortem), as the session's
/// caller held to the same role, then back to `then` (303).
async fn through_api<T, F>(
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
        api_escalate(
            caller,
            State(state),
            Path(id),
            ApiJson(EscalateRequest {
                level,
                expected_version: None,
            }),
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
        api_attach_runbook(
            caller,
            State(state),
            Path(id),
            ApiJson(AttachRunbookRequest {
                runbook: text(&f, "runbook"),
                expected_version: None,
            }),
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
