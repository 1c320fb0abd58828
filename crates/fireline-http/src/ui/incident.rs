//! One incident (`GET /ui/incidents/{id}`) and its action forms, each a POST that runs
//! the same `execute` path as the JSON API and redirects back (303).

use super::{age, duration, esc, form, page, url, Session};
use crate::routes::incidents::{detail, execute, load, parse_id, parse_status};
use crate::wire::IncidentDetail;
use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use fireline_core::policy::Channel;
use fireline_core::{Command, Status};
use jiff::Timestamp;
use std::collections::HashMap;

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

fn clocks(d: &IncidentDetail, now: Timestamp) -> String {
    if d.next_updates.is_empty() {
        return String::new();
    }
    let items: String = d
        .next_updates
        .iter()
        .map(|(channel, at)| {
            let left = at.duration_since(now);
            let when = if left.is_negative() {
                format!("<strong>overdue by {}</strong>", duration(-left))
            } else {
                format!("due in {}", duration(left))
            };
            format!(
                "<li>Next {} update: {when} (<time datetime=\"{at}\">{at}</time>)</li>",
                esc(channel)
            )
        })
        .collect();
    format!("<h2>Clocks</h2><ul>{items}</ul>")
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

fn actions(d: &IncidentDetail, session: &Session) -> String {
    if !session.can_act() {
        return "<p class=\"hint\">You are signed in as a viewer: read only.</p>".to_owned();
    }
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
        let statuses: String = Status::ALL
            .iter()
            .filter(|s| **s != Status::Resolved && s.as_str() != i.status)
            .map(|s| format!("<option value=\"{0}\">{0}</option>", s.as_str()))
            .collect();
        out.push_str(&format!(
            "<form method=\"post\" action=\"{base}/status\">{csrf}\
             <label for=\"status\">New status</label><select id=\"status\" name=\"status\">{statuses}</select>\
             <label for=\"status-message\">Message (optional)</label>\
             <input id=\"status-message\" name=\"message\">\
             <button type=\"submit\">Change status</button></form>"
        ));
    }
    out.push_str(&format!(
        "<form method=\"post\" action=\"{base}/notes\">{csrf}\
         <label for=\"note\">Note</label><textarea id=\"note\" name=\"text\" required></textarea>\
         <button type=\"submit\">Add note</button></form>"
    ));
    if open {
        let channels: String = Channel::ALL
            .iter()
            .map(|c| format!("<option value=\"{0}\">{0}</option>", c.as_str()))
            .collect();
        out.push_str(&format!(
            "<form method=\"post\" action=\"{base}/updates\">{csrf}\
             <label for=\"channel\">Channel</label><select id=\"channel\" name=\"channel\">{channels}</select>\
             <label for=\"update\">Update</label><textarea id=\"update\" name=\"text\" required></textarea>\
             <button type=\"submit\">Post update</button></form>\
             <form method=\"post\" action=\"{base}/resolve\">{csrf}\
             <label for=\"resolve-summary\">Resolution summary (optional)</label>\
             <textarea id=\"resolve-summary\" name=\"summary\"></textarea>\
             <button type=\"submit\">Resolve</button></form>"
        ));
    }
    format!("<h2>Act</h2><div class=\"actions\">{out}</div>")
}

pub(super) async fn show(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    let found = async {
        let id = parse_id(&id)?;
        let (incident, events) = load(&state, id).await?;
        Ok::<_, ApiError>(detail(
            &state.policy.current(),
            &incident,
            &events,
            state.clock.now(),
        ))
    }
    .await;
    let d = match found {
        Ok(d) => d,
        Err(e) => return super::error_page(Some(&session), e, "/ui"),
    };
    let now = state.clock.now();
    let open = d.incident.status != Status::Resolved.as_str();
    page(
        StatusCode::OK,
        &format!("{} · {}", d.incident.id, d.incident.title),
        Some(&session),
        &format!(
            "<p><a href=\"/ui\">← All incidents</a></p>{}{}{}{}{}",
            facts(&d, now),
            clocks(&d, now),
            checklist(&d, &session, open),
            actions(&d, &session),
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

pub(super) async fn update(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    act(session, state, id, body, |f| {
        let channel: Channel = text(f, "channel")
            .parse()
            .map_err(|e: String| ApiError::invalid("channel", e))?;
        Ok(Command::PostUpdate {
            channel,
            text: text(f, "text"),
        })
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
