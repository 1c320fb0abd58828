//! Post-mortems (`/ui/postmortems`): incidents with one (phase, version, stage deadlines)
//! and every open action item (owner, priority, due; overdue said in words).

use super::{esc, page, when, Session};
use crate::routes::incidents::load;
use crate::routes::postmortems::view;
use crate::wire::ActionItemView;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
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
            "<tr><td><a href=\"/ui/incidents/{id}\">{id}</a></td><td>{title}</td>\
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
