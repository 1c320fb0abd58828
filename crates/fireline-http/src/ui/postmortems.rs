//! Post-mortems (`/ui/postmortems`): incidents with one (phase, version, stage deadlines)
//! and every open action item (owner, priority, due; overdue said in words); and one
//! incident's post-mortem (`/ui/incidents/{id}/postmortem`): the document, its stages,
//! an editor that saves over the version it was loaded at, related incidents and action
//! items. Saving and completing stages go through the API's own handlers.

use super::{render, Session};
use crate::auth::Authorized;
use crate::extract::ApiJson;
use crate::routes::incidents::load;
use crate::routes::incidents::parse_id;
use crate::routes::postmortems::view;
use crate::wire::ActionItemView;
use crate::wire::{PostmortemEditRequest, PostmortemView};
use crate::{ApiError, AppState};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use fireline_store::{ActionFilter, IncidentFilter, StatusFilter};

/// How many of the latest incidents are looked at for post-mortems.
const RECENT: u32 = 200;

/// The post-mortems page: every post-mortem, and the open action items.
#[derive(Template)]
#[template(path = "ui/postmortems.html")]
struct PostmortemsPage {
    /// (incident id, incident title, post-mortem).
    postmortems: Vec<(String, String, PostmortemView)>,
    items: Vec<ActionItemView>,
}

async fn postmortems(state: &AppState) -> Result<Vec<(String, String, PostmortemView)>, ApiError> {
    let incidents = state
        .store
        .list_incidents(&IncidentFilter {
            status: StatusFilter::All,
            severity: None,
            service: None,
            limit: RECENT,
        })
        .await?;
    let mut out = Vec::new();
    for incident in &incidents {
        let Some(record) = state.store.postmortem(incident.id).await? else {
            continue;
        };
        let (incident, events) = load(state, incident.id).await?;
        let pm = view(state, &incident, &events, record).await?;
        out.push((incident.id.to_string(), incident.title.clone(), pm));
    }
    Ok(out)
}

async fn action_items(state: &AppState) -> Result<Vec<ActionItemView>, ApiError> {
    let now = state.clock.now();
    let items = state
        .store
        .list_action_items(&ActionFilter {
            open_only: true,
            limit: 1000,
            ..ActionFilter::default()
        })
        .await?;
    Ok(items
        .iter()
        .map(|item| ActionItemView::of(item, now))
        .collect())
}

pub(super) async fn show(session: Session, State(state): State<AppState>) -> Response {
    let body = async {
        Ok::<_, ApiError>(PostmortemsPage {
            postmortems: postmortems(&state).await?,
            items: action_items(&state).await?,
        })
    };
    match body.await {
        Ok(body) => render(StatusCode::OK, "Post-mortems", Some(&session), &body),
        Err(e) => super::error_page(Some(&session), e, "/ui"),
    }
}

/// The rendered document: the body of the export's HTML page (every character of the
/// text escaped there), without its own page frame; `None` if it has none.
fn document(title: &str, markdown: &str) -> Option<String> {
    let html = fireline_core::postmortem::to_html(title, markdown);
    html.split("<main>")
        .nth(1)
        .and_then(|rest| rest.split("</main>").next())
        .map(str::to_owned)
}

/// One incident's post-mortem page (or the offer to draft it).
#[derive(Template)]
#[template(path = "ui/postmortem.html")]
struct PostmortemPage<'a> {
    session: &'a Session,
    id: String,
    base: String,
    pm: Option<PostmortemView>,
    /// The document as HTML, escaped by `fireline_core::postmortem::to_html`.
    document: Option<String>,
    /// The editor's text, the version it is based on, and why a save was refused.
    text: String,
    version: u64,
    note: &'a str,
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
    let mut body = PostmortemPage {
        session,
        id: incident.id.to_string(),
        base,
        pm: None,
        document: None,
        text: String::new(),
        version: 0,
        note: "",
    };
    let Some(record) = record else {
        return render(StatusCode::OK, &title, Some(session), &body);
    };
    let pm = match view(state, &incident, &events, record).await {
        Ok(pm) => pm,
        Err(e) => return super::error_page(Some(session), e, "/ui/postmortems"),
    };
    // After a refused save, the editor keeps what was typed, at the version it was based on.
    (body.text, body.version, body.note) = match edited {
        Some((text, version, note)) => (text.to_owned(), version, note),
        None => (pm.text.clone(), pm.version, ""),
    };
    body.document = document(&title, &pm.text);
    body.pm = Some(pm);
    render(
        if edited.is_some() {
            StatusCode::CONFLICT
        } else {
            StatusCode::OK
        },
        &title,
        Some(session),
        &body,
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

/// Marks a stage done (the API's `complete_stage_now`).
pub(super) async fn complete_stage(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let back = format!("/ui/incidents/{}/postmortem", super::url(&id));
    super::incident::through_api(&session, &body, back, |fields, caller| async move {
        let stage = fields.get("stage").filter(|s| !s.trim().is_empty());
        crate::routes::postmortems::complete_stage_now(
            &state,
            &caller.0.name,
            parse_id(&id)?,
            stage.map(String::as_str),
        )
        .await
    })
    .await
}
