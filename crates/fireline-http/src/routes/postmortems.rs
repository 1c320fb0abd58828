//! Post-mortems (draft from the timeline, edit with history, stages, export) and their
//! action items. Stage completions are incident events, appended through the same path
//! as every other change ([`fireline_engine::Commands`]); the text and the items
//! live in their own tables.

use super::incidents::{load, parse_id};
use crate::auth::{AsResponder, AsViewer};
use crate::extract::{ApiJson, ApiQuery};
use crate::wire::{
    refuse_nul, ActionCloseRequest, ActionCreateRequest, ActionItemView, ActionList,
    ActionListQuery, ActionUpdateRequest, ErrorBody, ExportQuery, PostmortemDraftRequest,
    PostmortemEditRequest, PostmortemHistory, PostmortemView, RelatedList, RelatedView,
    RevisionView, StageRequest, StageView,
};
use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use fireline_core::plan::{postmortem_schedule, stages_completed};
use fireline_core::policy::post_incident::Template;
use fireline_core::postmortem::{
    self as pm, alert_keys, check_stage, parse_action_id, ActionItem, ActionStatus, DraftInput,
    Phase,
};
use fireline_core::Stage;
use fireline_core::{EventData, Incident, IncidentId, RecordedEvent};
use fireline_store::{ActionFilter, PostmortemRecord, StoreError};

/// How many related incidents are listed.
const RELATED_LIMIT: u32 = 20;

fn no_postmortem(id: IncidentId) -> ApiError {
    ApiError::NotFound(format!(
        "{id} has no post-mortem yet; draft one with POST /api/v1/incidents/{id}/postmortem"
    ))
}

async fn related(
    state: &AppState,
    incident: &Incident,
    events: &[RecordedEvent],
) -> Result<Vec<pm::Related>, ApiError> {
    Ok(state
        .store
        .related_incidents(
            incident.id,
            &incident.service,
            &alert_keys(events),
            RELATED_LIMIT,
        )
        .await?)
}

async fn incident_actions(state: &AppState, id: IncidentId) -> Result<Vec<ActionItem>, ApiError> {
    Ok(state
        .store
        .list_action_items(&ActionFilter {
            incident: Some(id),
            limit: 1000,
            ..ActionFilter::default()
        })
        .await?)
}

/// The post-mortem with what the log and the policy say about its stages (also the
/// `/ui/postmortems` page's source).
pub(crate) async fn view(
    state: &AppState,
    incident: &Incident,
    events: &[RecordedEvent],
    record: PostmortemRecord,
) -> Result<PostmortemView, ApiError> {
    let policy = state.policy.current();
    let now = state.clock.now();
    let schedule = postmortem_schedule(&policy, events);
    let done = stages_completed(events);
    let done_stages: Vec<Stage> = done.iter().map(|(s, _)| *s).collect();
    let mut stages = Vec::new();
    for stage in Stage::ALL {
        let planned = schedule.iter().find(|s| s.stage == stage);
        let completed_at = done
            .iter()
            .filter(|(s, _)| *s == stage)
            .map(|(_, t)| *t)
            .min();
        // The three main stages always show; the meeting only when the policy has one.
        if stage == Stage::ReviewMeeting && planned.is_none() && completed_at.is_none() {
            continue;
        }
        let due_at = planned.map(|p| p.due_at);
        stages.push(StageView {
            stage: stage.to_string(),
            due_at,
            remind_at: planned.and_then(|p| p.remind_at),
            completed_at,
            overdue: due_at.is_some_and(|due| completed_at.map_or(now > due, |c| c > due)),
        });
    }
    let actions = incident_actions(state, incident.id).await?;
    Ok(PostmortemView {
        incident: incident.id.to_string(),
        version: record.version,
        phase: Phase::from_completed(&done_stages).to_string(),
        template: record.template,
        text: record.text,
        created_at: record.created_at,
        created_by: record.created_by,
        updated_at: record.updated_at,
        updated_by: record.updated_by,
        stages,
        related: related(state, incident, events)
            .await?
            .iter()
            .map(RelatedView::from)
            .collect(),
        action_items: actions.iter().map(|a| ActionItemView::of(a, now)).collect(),
    })
}

async fn current(
    state: &AppState,
    id: IncidentId,
) -> Result<(Incident, Vec<RecordedEvent>, PostmortemRecord), ApiError> {
    let (incident, events) = load(state, id).await?;
    let record = state
        .store
        .postmortem(id)
        .await?
        .ok_or_else(|| no_postmortem(id))?;
    Ok((incident, events, record))
}

/// Drafts the post-mortem from the incident's events, in the policy's template.
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/postmortem", tag = "postmortems",
    params(("id" = String, Path, description = "INC-<n> or <n>", pattern = r"^([Ii][Nn][Cc]-)?0*[1-9][0-9]{0,17}$")),
    request_body(content = Option<PostmortemDraftRequest>, description = "May be empty"),
    responses(
        (status = 201, description = "Drafted", body = PostmortemView),
        (status = 400, description = "Malformed id or body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Needs responder", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody),
        (status = 409, description = "It has a post-mortem already", body = ErrorBody),
        (status = 422, description = "Unknown template", body = ErrorBody)
    )
)]
pub(crate) async fn draft(
    caller: AsResponder,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<PostmortemDraftRequest>,
) -> Result<(StatusCode, Json<PostmortemView>), ApiError> {
    let id = parse_id(&id)?;
    let policy = state.policy.current();
    let template = match req.template.as_deref() {
        None => policy.post_incident.template,
        Some(raw) => raw.parse::<Template>().map_err(|e| {
            let names: Vec<&str> = Template::ALL.iter().map(|t| t.as_str()).collect();
            ApiError::invalid("template", format!("{e}: expected {}", names.join(", ")))
        })?,
    };
    let (incident, events) = load(&state, id).await?;
    let related = related(&state, &incident, &events).await?;
    let actions = incident_actions(&state, id).await?;
    let text = pm::render_draft(&DraftInput {
        incident: &incident,
        events: &events,
        related: &related,
        actions: &actions,
        template,
        stages: &policy.post_incident.stages,
    });
    let record = state
        .store
        .create_postmortem(
            id,
            &text,
            template.as_str(),
            state.clock.now(),
            &caller.0.name,
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict { actual, .. } => ApiError::Conflict(format!(
                "{id} already has a post-mortem (version {actual}); edit it instead"
            )),
            other => other.into(),
        })?;
    tracing::info!(incident = %id, template = %template, actor = %caller.0.name, "post-mortem drafted");
    Ok((
        StatusCode::CREATED,
        Json(view(&state, &incident, &events, record).await?),
    ))
}

/// The post-mortem: text, version, phase, stages, related incidents, action items.
#[utoipa::path(
    get, path = "/api/v1/incidents/{id}/postmortem", tag = "postmortems",
    params(("id" = String, Path, description = "INC-<n> or <n>", pattern = r"^([Ii][Nn][Cc]-)?0*[1-9][0-9]{0,17}$")),
    responses(
        (status = 200, description = "The post-mortem", body = PostmortemView),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such incident or no post-mortem", body = ErrorBody)
    )
)]
pub(super) async fn show(
    _caller: AsViewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<PostmortemView>, ApiError> {
    let (incident, events, record) = current(&state, parse_id(&id)?).await?;
    Ok(Json(view(&state, &incident, &events, record).await?))
}

/// Saves a new text over `expected_version` (409 if someone saved since).
#[utoipa::path(
    put, path = "/api/v1/incidents/{id}/postmortem", tag = "postmortems",
    params(("id" = String, Path, description = "INC-<n> or <n>", pattern = r"^([Ii][Nn][Cc]-)?0*[1-9][0-9]{0,17}$")),
    request_body = PostmortemEditRequest,
    responses(
        (status = 200, description = "Saved", body = PostmortemView),
        (status = 400, description = "Malformed id or body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Needs responder", body = ErrorBody),
        (status = 404, description = "No such incident or no post-mortem", body = ErrorBody),
        (status = 409, description = "Someone saved since that version", body = ErrorBody),
        (status = 422, description = "Empty or too long", body = ErrorBody)
    )
)]
pub(crate) async fn edit(
    caller: AsResponder,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<PostmortemEditRequest>,
) -> Result<Json<PostmortemView>, ApiError> {
    let id = parse_id(&id)?;
    refuse_nul("text", &req.text)?;
    pm::check_text(&req.text)?;
    let (incident, events) = load(&state, id).await?;
    let record = state
        .store
        .update_postmortem(
            id,
            req.expected_version,
            &req.text,
            state.clock.now(),
            &caller.0.name,
        )
        .await
        .map_err(|e| match e {
            StoreError::NotFound => no_postmortem(id),
            StoreError::Conflict { expected, actual } => ApiError::Conflict(format!(
                "{id}'s post-mortem is at version {actual}, not {expected}: someone saved since; \
                 reload, merge and save again"
            )),
            other => other.into(),
        })?;
    tracing::info!(incident = %id, version = record.version, actor = %caller.0.name, "post-mortem saved");
    Ok(Json(view(&state, &incident, &events, record).await?))
}

/// Every saved version: who, when, what changed.
#[utoipa::path(
    get, path = "/api/v1/incidents/{id}/postmortem/history", tag = "postmortems",
    params(("id" = String, Path, description = "INC-<n> or <n>", pattern = r"^([Ii][Nn][Cc]-)?0*[1-9][0-9]{0,17}$")),
    responses(
        (status = 200, description = "Oldest first", body = PostmortemHistory),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such incident or no post-mortem", body = ErrorBody)
    )
)]
pub(super) async fn history(
    _caller: AsViewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<PostmortemHistory>, ApiError> {
    let id = parse_id(&id)?;
    current(&state, id).await?;
    let revisions = state.store.postmortem_history(id).await?;
    Ok(Json(PostmortemHistory {
        revisions: revisions
            .into_iter()
            .map(|r| RevisionView {
                version: r.version,
                at: r.at,
                actor: r.actor,
                summary: r.summary,
                text: r.text,
            })
            .collect(),
    }))
}

/// Completes a stage (default: the next of draft, review, publish), recorded on the
/// incident's timeline as `postmortem_stage_completed`; the planner's reminders and
/// `postmortem_due` for it stop.
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/postmortem/stages", tag = "postmortems",
    params(("id" = String, Path, description = "INC-<n> or <n>", pattern = r"^([Ii][Nn][Cc]-)?0*[1-9][0-9]{0,17}$")),
    request_body(content = Option<StageRequest>, description = "May be empty"),
    responses(
        (status = 200, description = "Completed", body = PostmortemView),
        (status = 400, description = "Malformed id or body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Needs responder", body = ErrorBody),
        (status = 404, description = "No such incident or no post-mortem", body = ErrorBody),
        (status = 409, description = "Not resolved, out of order, already done or published", body = ErrorBody),
        (status = 422, description = "Unknown stage", body = ErrorBody)
    )
)]
pub(crate) async fn complete_stage(
    caller: AsResponder,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<StageRequest>,
) -> Result<Json<PostmortemView>, ApiError> {
    let id = parse_id(&id)?;
    complete_stage_now(&state, &caller.0.name, id, req.stage.as_deref()).await?;
    // The answer is the post-mortem view, read fresh, not the incident detail.
    let (incident, events, record) = current(&state, id).await?;
    Ok(Json(view(&state, &incident, &events, record).await?))
}

/// Completes stage `wanted` (`None`: the next one) of incident `id`'s post-mortem as
/// `actor`, through the one command path: the API's and the UI's way to mark a stage.
pub(crate) async fn complete_stage_now(
    state: &AppState,
    actor: &str,
    id: IncidentId,
    wanted: Option<&str>,
) -> Result<(), ApiError> {
    let wanted = wanted
        .map(|raw| {
            raw.parse::<Stage>()
                .map_err(|e| ApiError::invalid("stage", e))
        })
        .transpose()?;
    current(state, id).await?;
    state
        .commands
        .execute_with(id, actor, None, |facts| {
            // Decided on the log of this attempt: a stage completed meanwhile counts.
            let done: Vec<Stage> = stages_completed(facts.events)
                .iter()
                .map(|(s, _)| *s)
                .collect();
            let stage = match wanted {
                Some(stage) => stage,
                None => Phase::next_stage(&done).ok_or_else(|| {
                    fireline_core::DomainError::Conflict(format!(
                        "{id}'s post-mortem is already published"
                    ))
                })?,
            };
            check_stage(facts.incident, &done, stage)?;
            Ok(EventData::PostmortemStageCompleted { stage })
        })
        .await?;
    Ok(())
}

/// The post-mortem as Markdown or as a self-contained HTML page.
#[utoipa::path(
    get, path = "/api/v1/incidents/{id}/postmortem/export", tag = "postmortems",
    params(("id" = String, Path, description = "INC-<n> or <n>", pattern = r"^([Ii][Nn][Cc]-)?0*[1-9][0-9]{0,17}$"), ExportQuery),
    responses(
        (status = 200, description = "The document", content(
            (String = "text/markdown"), (String = "text/html"))),
        (status = 400, description = "Malformed id or query", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such incident or no post-mortem", body = ErrorBody),
        (status = 422, description = "Unknown format", body = ErrorBody)
    )
)]
pub(super) async fn export(
    _caller: AsViewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let html = match query.format.as_deref().map(str::trim) {
        None | Some("") | Some("md") | Some("markdown") => false,
        Some("html") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "format",
                format!("unknown format `{other}`: expected md or html"),
            ))
        }
    };
    let (incident, _, record) = current(&state, id).await?;
    let (body, content_type, extension) = if html {
        let title = format!("{id} post-mortem: {}", incident.title);
        (
            pm::to_html(&title, &record.text),
            "text/html; charset=utf-8",
            "html",
        )
    } else {
        (record.text, "text/markdown; charset=utf-8", "md")
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(disposition) =
        HeaderValue::from_str(&format!("inline; filename=\"{id}-postmortem.{extension}\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(response)
}

/// Earlier incidents of the same service or sharing an alert.
#[utoipa::path(
    get, path = "/api/v1/incidents/{id}/related", tag = "postmortems",
    params(("id" = String, Path, description = "INC-<n> or <n>", pattern = r"^([Ii][Nn][Cc]-)?0*[1-9][0-9]{0,17}$")),
    responses(
        (status = 200, description = "Newest first", body = RelatedList),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody)
    )
)]
pub(super) async fn related_incidents(
    _caller: AsViewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RelatedList>, ApiError> {
    let (incident, events) = load(&state, parse_id(&id)?).await?;
    Ok(Json(RelatedList {
        related: related(&state, &incident, &events)
            .await?
            .iter()
            .map(RelatedView::from)
            .collect(),
    }))
}

fn parse_action(raw: &str) -> Result<u64, ApiError> {
    parse_action_id(raw).map_err(|e| ApiError::bad_field("id", e))
}

async fn load_action(state: &AppState, raw: &str) -> Result<ActionItem, ApiError> {
    let id = parse_action(raw)?;
    state
        .store
        .action_item(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no action item AI-{id}")))
}

/// Adds an action item to an incident's post-mortem.
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/actions", tag = "postmortems",
    params(("id" = String, Path, description = "INC-<n> or <n>", pattern = r"^([Ii][Nn][Cc]-)?0*[1-9][0-9]{0,17}$")),
    request_body = ActionCreateRequest,
    responses(
        (status = 201, description = "Added", body = ActionItemView),
        (status = 400, description = "Malformed id or body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Needs responder", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody),
        (status = 422, description = "Bad title, owner, priority or due date", body = ErrorBody)
    )
)]
pub(super) async fn add_action(
    caller: AsResponder,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ActionCreateRequest>,
) -> Result<(StatusCode, Json<ActionItemView>), ApiError> {
    let id = parse_id(&id)?;
    refuse_nul("title", &req.title)?;
    refuse_nul("owner", &req.owner)?;
    let now = state.clock.now();
    let item = ActionItem {
        id: 0,
        incident: id,
        title: pm::check_title(&req.title)?,
        owner: pm::check_owner(&req.owner)?,
        priority: pm::check_priority(&req.priority)?,
        due: pm::check_due(&req.due)?,
        status: ActionStatus::Open,
        note: None,
        created_at: now,
        created_by: caller.0.name.clone(),
        updated_at: now,
        updated_by: caller.0.name.clone(),
    };
    let stored = state
        .store
        .insert_action_item(&item)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::NotFound(format!("no incident {id}")),
            other => other.into(),
        })?;
    tracing::info!(action = %stored.label(), incident = %id, actor = %caller.0.name, "action item added");
    Ok((StatusCode::CREATED, Json(ActionItemView::of(&stored, now))))
}

/// Lists action items: open ones by default, soonest due first.
#[utoipa::path(
    get, path = "/api/v1/actions", tag = "postmortems", params(ActionListQuery),
    responses(
        (status = 200, description = "Matching items", body = ActionList),
        (status = 400, description = "Malformed query", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 422, description = "Bad status, incident or limit", body = ErrorBody)
    )
)]
pub(super) async fn list_actions(
    _caller: AsViewer,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ActionListQuery>,
) -> Result<Json<ActionList>, ApiError> {
    let now = state.clock.now();
    refuse_nul("owner", query.owner.as_deref().unwrap_or_default())?;
    let open_only = match query.status.as_deref().map(str::trim) {
        None | Some("") | Some("open") => true,
        Some("all") => false,
        Some(other) => {
            return Err(ApiError::invalid(
                "status",
                format!("unknown status filter `{other}`: expected open or all"),
            ))
        }
    };
    let incident = query
        .incident
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|raw| {
            raw.parse::<IncidentId>()
                .map_err(|e| ApiError::invalid("incident", e.to_string()))
        })
        .transpose()?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 1000"));
    }
    let overdue = query.overdue.unwrap_or(false);
    let items = state
        .store
        .list_action_items(&ActionFilter {
            incident,
            owner: query.owner.filter(|s| !s.trim().is_empty()),
            open_only: open_only || overdue,
            due_before: overdue.then(|| pm::utc_date(now)),
            limit,
        })
        .await?;
    Ok(Json(ActionList {
        action_items: items.iter().map(|i| ActionItemView::of(i, now)).collect(),
    }))
}

/// One action item.
#[utoipa::path(
    get, path = "/api/v1/actions/{id}", tag = "postmortems",
    params(("id" = String, Path, description = "AI-<n> or <n>", pattern = r"^([Aa][Ii]-)?0*[1-9][0-9]{0,17}$")),
    responses(
        (status = 200, description = "The item", body = ActionItemView),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such item", body = ErrorBody)
    )
)]
pub(super) async fn show_action(
    _caller: AsViewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ActionItemView>, ApiError> {
    let item = load_action(&state, &id).await?;
    Ok(Json(ActionItemView::of(&item, state.clock.now())))
}

/// Changes an action item's title, owner, priority, due date or open status.
#[utoipa::path(
    patch, path = "/api/v1/actions/{id}", tag = "postmortems",
    params(("id" = String, Path, description = "AI-<n> or <n>", pattern = r"^([Aa][Ii]-)?0*[1-9][0-9]{0,17}$")),
    request_body = ActionUpdateRequest,
    responses(
        (status = 200, description = "Changed", body = ActionItemView),
        (status = 400, description = "Malformed id or body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Needs responder", body = ErrorBody),
        (status = 404, description = "No such item", body = ErrorBody),
        (status = 422, description = "Bad value, or a closing status", body = ErrorBody)
    )
)]
pub(super) async fn update_action(
    caller: AsResponder,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ActionUpdateRequest>,
) -> Result<Json<ActionItemView>, ApiError> {
    let item = load_action(&state, &id).await?;
    let now = state.clock.now();
    // Every field is checked before anything is written: one bad field changes nothing.
    let mut next = item.clone();
    if let Some(title) = &req.title {
        refuse_nul("title", title)?;
        next.title = pm::check_title(title)?;
    }
    if let Some(owner) = &req.owner {
        refuse_nul("owner", owner)?;
        next.owner = pm::check_owner(owner)?;
    }
    if let Some(priority) = &req.priority {
        next.priority = pm::check_priority(priority)?;
    }
    if let Some(due) = &req.due {
        next.due = pm::check_due(due)?;
    }
    if let Some(status) = &req.status {
        next.status = pm::check_open_status(status)?;
        if !item.status.is_open() {
            // Reopened: the closing note no longer describes it.
            next.note = None;
        }
    }
    next.updated_at = now;
    next.updated_by = caller.0.name.clone();
    let stored = state.store.update_action_item(&next).await?;
    Ok(Json(ActionItemView::of(&stored, now)))
}

/// Closes an action item as done (default) or won't do; a note is required.
#[utoipa::path(
    post, path = "/api/v1/actions/{id}/close", tag = "postmortems",
    params(("id" = String, Path, description = "AI-<n> or <n>", pattern = r"^([Aa][Ii]-)?0*[1-9][0-9]{0,17}$")),
    request_body = ActionCloseRequest,
    responses(
        (status = 200, description = "Closed", body = ActionItemView),
        (status = 400, description = "Malformed id or body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Needs responder", body = ErrorBody),
        (status = 404, description = "No such item", body = ErrorBody),
        (status = 409, description = "Already closed", body = ErrorBody),
        (status = 422, description = "No note, or not a closing status", body = ErrorBody)
    )
)]
pub(super) async fn close_action(
    caller: AsResponder,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ActionCloseRequest>,
) -> Result<Json<ActionItemView>, ApiError> {
    let item = load_action(&state, &id).await?;
    refuse_nul("note", req.note.as_deref().unwrap_or_default())?;
    let status = match req.status.as_deref() {
        None => ActionStatus::Done,
        Some(raw) => raw
            .parse::<ActionStatus>()
            .map_err(|e| ApiError::invalid("status", e))?,
    };
    let now = state.clock.now();
    let closed = pm::close(&item, status, req.note.as_deref(), now, &caller.0.name)?;
    let stored = state.store.update_action_item(&closed).await?;
    tracing::info!(action = %stored.label(), status = %stored.status, actor = %caller.0.name, "action item closed");
    Ok(Json(ActionItemView::of(&stored, now)))
}
