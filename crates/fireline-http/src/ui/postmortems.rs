//! Post-mortems (`/ui/postmortems`): incidents with one (phase, version, stage deadlines)
//! and every open action item (owner, priority, due; overdue said in words); and one
//! incident's post-mortem (`/ui/incidents/{id}/postmortem`): the document, its stages,
//! an editor that saves over the version it was loaded at, related incidents and action
//! items. Saving and completing stages go through the API's own handlers.

use super::{esc, page, when, Session};
use crate::auth::Authorized;
use crate::extract::ApiJson;
use crate::routes::incidents::load;
use crate::routes::incidents::parse_id;
use crate::routes::postmortems::view;
use crate::wire::ActionItemView;
use crate::wire::{PostmortemEditRequest, PostmortemView, StageRequest};
use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use fireline_store::{ActionFilter, IncidentFilter, StatusFilter};

/// How many of the latest incidents are looked at for post-mortems.
const RECENT: u32 = 200;

async fn postmortems(state: &AppState) -> Result<String, ApiError> {
    let incidents = state
        .store
        .list_incidents(&IncidentFilter {
            status: StatusFilter::All,
            severity: None,
            service: None,
            limit: RECENT,
        })
        .await?;
    let mut rows = String::new();
    for incident in &incidents {
        let Some(record) = state.store.postmortem(incident.id).await? else {
            continue;
        };
        let (incident, events) = load(state, incident.id).await?;
        let pm = view(state, &incident, &events, record).await?;
        let stages: Vec<String> = pm
            .stages
            .iter()
            .map(|s| {
                let state = match (s.completed_at, s.due_at) {
                    (Some(done), _) => format!("done {}", when(done)),
                    (None, Some(due)) => format!("due {}", when(due)),
                    (None, None) => "no deadline".to_owned(),
                };
                format!(
                    "<li>{}: {state}{}</li>",
                    esc(&s.stage),
                    if s.overdue {
                        " <strong class=\"overdue\">overdue</strong>"
                    } else {
                        ""
                    }
                )
            })
            .collect();
        rows.push_str(&format!(
            "<tr><td><a href=\"/ui/incidents/{id}/postmortem\">{id}</a></td><td>{title}</td>\
             <td>{phase}</td><td>{version}</td><td><ul class=\"plain\">{stages}</ul></td></tr>",
            id = incident.id,
            title = esc(&incident.title),
            phase = esc(&pm.phase),
            version = pm.version,
            stages = stages.concat(),
        ));
    }
    if rows.is_empty() {
        return Ok("<h2>Post-mortems</h2><p>No post-mortems yet.</p>".to_owned());
    }
    Ok(format!(
        "<h2>Post-mortems</h2><div class=\"scroll\"><table><thead><tr>\
         <th scope=\"col\">Incident</th><th scope=\"col\">Title</th>\
         <th scope=\"col\">Stage</th><th scope=\"col\">Version</th>\
         <th scope=\"col\">Deadlines</th></tr></thead><tbody>{rows}</tbody></table></div>"
    ))
}

async fn action_items(state: &AppState) -> Result<String, ApiError> {
    let now = state.clock.now();
    let items = state
        .store
        .list_action_items(&ActionFilter {
            open_only: true,
            limit: 1000,
            ..ActionFilter::default()
        })
        .await?;
    if items.is_empty() {
        return Ok("<h2>Open action items</h2><p>None open.</p>".to_owned());
    }
    let rows: String = items
        .iter()
        .map(|item| {
            let a = ActionItemView::of(item, now);
            format!(
                "<tr><td>{id}</td><td><a href=\"/ui/incidents/{inc}\">{inc}</a></td>\
                 <td>{title}</td><td>{owner}</td><td>{priority}</td><td>{due}{overdue}</td>\
                 <td>{status}</td></tr>",
                id = esc(&a.id),
                inc = esc(&a.incident),
                title = esc(&a.title),
                owner = esc(&a.owner),
                priority = esc(&a.priority),
                due = esc(&a.due),
                overdue = if a.overdue {
                    " <strong class=\"overdue\">overdue</strong>"
                } else {
                    ""
                },
                status = esc(&a.status),
            )
        })
        .collect();
    Ok(format!(
        "<h2>Open action items</h2><div class=\"scroll\"><table><thead><tr>\
         <th scope=\"col\">Id</th><th scope=\"col\">Incident</th><th scope=\"col\">What</th>\
         <th scope=\"col\">Owner</th><th scope=\"col\">Priority</th><th scope=\"col\">Due</th>\
         <th scope=\"col\">Status</th></tr></thead><tbody>{rows}</tbody></table></div>"
    ))
}

pub(super) async fn show(session: Session, State(state): State<AppState>) -> Response {
    let body = async {
        Ok::<_, ApiError>(format!(
            "{}{}",
            postmortems(&state).await?,
            action_items(&state).await?
        ))
    };
    match body.await {
        Ok(body) => page(StatusCode::OK, "Post-mortems", Some(&session), &body),
        Err(e) => super::error_page(Some(&session), e, "/ui"),
    }
}

/// The rendered document: the body of the export's HTML page (every character of the
/// text escaped there), without its own page frame.
fn document(title: &str, markdown: &str) -> String {
    let html = fireline_core::postmortem::to_html(title, markdown);
    html.split("<main>")
        .nth(1)
        .and_then(|rest| rest.split("</main>").next())
        .map_or_else(|| format!("<pre>{}</pre>", esc(markdown)), str::to_owned)
}

fn stages(pm: &PostmortemView, session: &Session, base: &str) -> String {
    let items: String = pm
        .stages
        .iter()
        .map(|s| {
            let state = match (s.completed_at, s.due_at) {
                (Some(done), _) => format!("done {}", when(done)),
                (None, Some(due)) => format!("due {}", when(due)),
                (None, None) => "no deadline".to_owned(),
            };
            let overdue = if s.overdue {
                " <strong class=\"overdue\">overdue</strong>"
            } else {
                ""
            };
            let button = if s.completed_at.is_none() && session.can_act() {
                format!(
                    " <form method=\"post\" action=\"{base}/stages\" class=\"inline\">{}\
                     <input type=\"hidden\" name=\"stage\" value=\"{stage}\">\
                     <button type=\"submit\">Mark {stage} done</button></form>",
                    session.csrf_field(),
                    stage = esc(&s.stage)
                )
            } else {
                String::new()
            };
            format!("<li>{}: {state}{overdue}{button}</li>", esc(&s.stage))
        })
        .collect();
    format!("<h2>Stages</h2><ul class=\"steps\">{items}</ul>")
}

/// `GET /ui/incidents/{id}/postmortem`.
pub(super) async fn page_of(
    session: &Session,
    state: &AppState,
    id: &str,
    edited: Option<(&str, u64, &str)>,
) -> Response {
    let found = async {
        let id = parse_id(id)?;
        let (incident, events) = load(state, id).await?;
        let record = state.store.postmortem(id).await?;
        Ok::<_, ApiError>((incident, events, record))
    }
    .await;
    let (incident, events, record) = match found {
        Ok(f) => f,
        Err(e) => return super::error_page(Some(session), e, "/ui/postmortems"),
    };
    let base = format!("/ui/incidents/{}/postmortem", incident.id);
    let title = format!("{} post-mortem: {}", incident.id, incident.title);
    let Some(record) = record else {
        let draft = if session.can_act() {
            format!(
                "<form method=\"post\" action=\"{base}\">{}<button type=\"submit\">Draft \
                 post-mortem</button></form>",
                session.csrf_field()
            )
        } else {
            String::new()
        };
        return page(
            StatusCode::OK,
            &title,
            Some(session),
            &format!(
                "<p><a href=\"/ui/incidents/{}\">← {}</a></p><p>No post-mortem yet.</p>{draft}",
                incident.id, incident.id
            ),
        );
    };
    let pm = match view(state, &incident, &events, record).await {
        Ok(pm) => pm,
        Err(e) => return super::error_page(Some(session), e, "/ui/postmortems"),
    };
    let related: String = pm
        .related
        .iter()
        .map(|r| {
            format!(
                "<li><a href=\"/ui/incidents/{id}\">{id}</a> {} · {} · {} · {}</li>",
                esc(&r.severity),
                esc(&r.service),
                esc(&r.status),
                esc(&r.title),
                id = esc(&r.id)
            )
        })
        .collect();
    let actions: String = pm
        .action_items
        .iter()
        .map(|a| {
            format!(
                "<li>{} · {} · owner {} · due {} · {}{}</li>",
                esc(&a.id),
                esc(&a.title),
                esc(&a.owner),
                esc(&a.due),
                esc(&a.status),
                if a.overdue {
                    " <strong class=\"overdue\">overdue</strong>"
                } else {
                    ""
                }
            )
        })
        .collect();
    // After a refused save, the editor keeps what was typed, at the version it was based on.
    let (text, version, note) = match edited {
        Some((text, version, note)) => (text.to_owned(), version, note),
        None => (pm.text.clone(), pm.version, ""),
    };
    let editor = if session.can_act() {
        format!(
            "<h2>Edit</h2>{}<form method=\"post\" action=\"{base}/text\" class=\"stack wide\">{}\
             <input type=\"hidden\" name=\"version\" value=\"{version}\">\
             <label for=\"pm-text\">Markdown (version {version})</label>\
             <textarea id=\"pm-text\" name=\"text\" rows=\"20\" required>{}</textarea>\
             <button type=\"submit\">Save</button></form>",
            if note.is_empty() {
                String::new()
            } else {
                format!("<p class=\"error\" role=\"alert\">{}</p>", esc(note))
            },
            session.csrf_field(),
            esc(&text)
        )
    } else {
        String::new()
    };
    page(
        if edited.is_some() {
            StatusCode::CONFLICT
        } else {
            StatusCode::OK
        },
        &title,
        Some(session),
        &format!(
            "<p><a href=\"/ui/incidents/{id}\">← {id}</a></p>\
             <dl class=\"facts\"><dt>Stage</dt><dd>{phase}</dd><dt>Version</dt><dd>{v}, saved {at} by {by}</dd>\
             <dt>Template</dt><dd>{template}</dd></dl>{stages}\
             <h2>Document</h2><article class=\"document\">{doc}</article>\
             <h2>Action items</h2>{actions}<h2>Related incidents</h2>{related}{editor}",
            id = incident.id,
            phase = esc(&pm.phase),
            v = pm.version,
            at = when(pm.updated_at),
            by = esc(&pm.updated_by),
            template = esc(&pm.template),
            stages = stages(&pm, session, &base),
            doc = document(&title, &pm.text),
            actions = if actions.is_empty() {
                "<p>None.</p>".to_owned()
            } else {
                format!("<ul>{actions}</ul>")
            },
            related = if related.is_empty() {
                "<p>None.</p>".to_owned()
            } else {
                format!("<ul>{related}</ul>")
            },
        ),
    )
}

pub(super) async fn show_one(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    page_of(&session, &state, &id, None).await
}

/// Saves the editor's text over the version it was loaded at (the API's `edit`); a
/// conflict shows the editor again with the text kept and what happened.
pub(super) async fn save(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let fields = super::form(&body);
    if let Some(refused) = session.refuse_post(fields.get("csrf").map(String::as_str)) {
        return refused;
    }
    let back = format!("/ui/incidents/{}/postmortem", super::url(&id));
    let text = fields.get("text").cloned().unwrap_or_default();
    let Some(version) = fields
        .get("version")
        .and_then(|v| v.trim().parse::<u64>().ok())
    else {
        return super::error_page(
            Some(&session),
            ApiError::invalid("version", "missing or not a number"),
            &back,
        );
    };
    let caller = match Authorized::check(session.caller.clone()) {
        Ok(c) => c,
        Err(e) => return super::error_page(Some(&session), e, &back),
    };
    let saved = crate::routes::postmortems::edit(
        caller,
        State(state.clone()),
        Path(id.clone()),
        ApiJson(PostmortemEditRequest {
            text: text.clone(),
            expected_version: version,
        }),
    )
    .await;
    match saved {
        Ok(_) => Redirect::to(&back).into_response(),
        Err(ApiError::Conflict(message)) => {
            page_of(&session, &state, &id, Some((&text, version, &message))).await
        }
        Err(e) => super::error_page(Some(&session), e, &back),
    }
}

/// Marks a stage done (the API's `complete_stage`).
pub(super) async fn complete_stage(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let fields = super::form(&body);
    if let Some(refused) = session.refuse_post(fields.get("csrf").map(String::as_str)) {
        return refused;
    }
    let back = format!("/ui/incidents/{}/postmortem", super::url(&id));
    let caller = match Authorized::check(session.caller.clone()) {
        Ok(c) => c,
        Err(e) => return super::error_page(Some(&session), e, &back),
    };
    let done = crate::routes::postmortems::complete_stage(
        caller,
        State(state),
        Path(id),
        ApiJson(StageRequest {
            stage: fields
                .get("stage")
                .cloned()
                .filter(|s| !s.trim().is_empty()),
        }),
    )
    .await;
    match done {
        Ok(_) => Redirect::to(&back).into_response(),
        Err(e) => super::error_page(Some(&session), e, &back),
    }
}
