//! Incidents: declare, list, show, and every change a responder makes.

use crate::auth::{AsResponder, AsViewer, Caller};
use crate::extract::{ApiJson, ApiQuery};
use crate::wire::{
    AcknowledgeRequest, AssignRequest, AttachRunbookRequest, CheckStepRequest, ChecklistView,
    DeclareRequest, ErrorBody, EscalateRequest, EventView, IncidentDetail, IncidentList,
    IncidentSummaryView, IncidentView, ListQuery, NoteRequest, ReopenRequest, ResolveRequest,
    SeverityRequest, StatusRequest, UpdateRequest, UpdateResponse,
};
use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::Json;
use fireline_core::comms::{self, RenderInput};
use fireline_core::plan::manual_escalation;
use fireline_core::policy::templates::TemplateKind;
use fireline_core::Channel;
use fireline_core::{
    decide, Command, Declaration, Incident, IncidentId, IncidentRole, RecordedEvent, Status,
};
use fireline_engine::{Applied, CommandError, Facts};
use fireline_store::{IncidentFilter, StatusFilter, StoreError};
use jiff::Timestamp;
use std::collections::BTreeMap;

pub(crate) fn parse_id(raw: &str) -> Result<IncidentId, ApiError> {
    raw.parse()
        .map_err(|e: fireline_core::ParseIncidentIdError| ApiError::bad_field("id", e.to_string()))
}

fn not_found(id: IncidentId) -> ApiError {
    ApiError::NotFound(format!("no incident {id}"))
}

pub(crate) async fn load(
    state: &AppState,
    id: IncidentId,
) -> Result<(Incident, Vec<RecordedEvent>), ApiError> {
    let events = state.store.events(id).await.map_err(|e| match e {
        StoreError::NotFound => not_found(id),
        other => other.into(),
    })?;
    let incident = Incident::fold(id, &events)?;
    Ok((incident, events))
}

pub(crate) fn detail(
    policy: &fireline_core::policy::Policy,
    incident: &Incident,
    events: &[RecordedEvent],
    now: Timestamp,
) -> IncidentDetail {
    IncidentDetail {
        incident: IncidentView::from(incident),
        checklist: ChecklistView::new(incident, now),
        timeline: events.iter().map(EventView::from).collect(),
        // A name that fails to render (a runtime error in the policy's template) is
        // left out rather than failing the whole read.
        channel_name: comms::channel_name(policy, incident).ok(),
        next_updates: comms::next_updates_due(policy, events)
            .into_iter()
            .map(|(c, at)| (c.as_str().to_owned(), at))
            .collect(),
    }
}

/// Applies one command as `caller` through the one command path ([`Commands`]) and
/// answers with the incident after it.
///
/// With `expected_version` the command applies to that version only (409 otherwise).
/// Without it, a lost race is retried on fresh state: the command is decided again, so
/// a retry never applies a stale decision (a second acknowledgement is refused, a note
/// is simply added after the other writer's event).
///
/// [`Commands`]: fireline_engine::Commands
pub(crate) async fn execute(
    state: &AppState,
    caller: &Caller,
    id: IncidentId,
    expected_version: Option<u64>,
    command: Command,
) -> Result<Json<IncidentDetail>, ApiError> {
    let applied = state
        .commands
        .execute(id, &caller.name, expected_version, &command)
        .await?;
    Ok(answer(&applied))
}

/// [`execute`] with any decision of one event on the facts (policy, state, log).
pub(crate) async fn execute_with(
    state: &AppState,
    caller: &Caller,
    id: IncidentId,
    expected_version: Option<u64>,
    decision: impl Fn(&Facts<'_>) -> Result<fireline_core::EventData, fireline_core::DomainError>,
) -> Result<Json<IncidentDetail>, ApiError> {
    let applied = state
        .commands
        .execute_with(id, &caller.name, expected_version, decision)
        .await?;
    Ok(answer(&applied))
}

/// The incident after a change, as the API shows it.
fn answer(applied: &Applied) -> Json<IncidentDetail> {
    Json(detail(
        &applied.policy,
        &applied.incident,
        &applied.events,
        applied.at,
    ))
}

/// A change that was not made, as the API answers it: no incident is 404, a moved
/// version or a busy incident 409, and the core's refusals 409/422 as they say.
impl From<CommandError> for ApiError {
    fn from(e: CommandError) -> Self {
        match e {
            CommandError::NotFound(id) => not_found(id),
            e @ (CommandError::VersionMoved { .. } | CommandError::Contended { .. }) => {
                ApiError::Conflict(e.to_string())
            }
            CommandError::Refused(e) => e.into(),
            CommandError::Fold(e) => e.into(),
            CommandError::Store(e) => e.into(),
        }
    }
}

pub(crate) fn parse_status(raw: &str) -> Result<Status, ApiError> {
    raw.parse()
        .map_err(|e: fireline_core::status::UnknownStatus| {
            ApiError::invalid("status", e.to_string())
        })
}

/// Declares an incident.
#[utoipa::path(
    post, path = "/api/v1/incidents", tag = "incidents", request_body = DeclareRequest,
    responses(
        (status = 201, description = "Declared", body = IncidentDetail,
         headers(("location" = String, description = "The incident's URL"))),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Needs responder", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "Unacceptable value", body = ErrorBody)
    )
)]
pub(super) async fn declare(
    caller: AsResponder,
    State(state): State<AppState>,
    ApiJson(req): ApiJson<DeclareRequest>,
) -> Result<(StatusCode, HeaderMap, Json<IncidentDetail>), ApiError> {
    let applied = state
        .commands
        .declare(
            &Declaration {
                title: req.title,
                severity: req.severity,
                service: req.service,
                summary: req.summary,
                category: req.category,
                flags: req.flags,
            },
            &caller.0.name,
        )
        .await?;
    let incident = &applied.incident;
    let mut headers = HeaderMap::new();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/incidents/{}", incident.id)) {
        headers.insert(header::LOCATION, location);
    }
    Ok((StatusCode::CREATED, headers, answer(&applied)))
}

/// The store filter for a list query, each bad parameter named (the API and the UI
/// list the same way).
pub(crate) fn incident_filter(
    policy: &fireline_core::policy::Policy,
    query: &ListQuery,
) -> Result<IncidentFilter, ApiError> {
    crate::wire::refuse_nul("service", query.service.as_deref().unwrap_or_default())?;
    let status = match query.status.as_deref().map(str::trim) {
        None | Some("") | Some("open") => StatusFilter::Open,
        Some("resolved") => StatusFilter::Resolved,
        Some("all") => StatusFilter::All,
        Some(other) => {
            return Err(ApiError::invalid(
                "status",
                format!("unknown status filter `{other}`: expected open, resolved or all"),
            ))
        }
    };
    let severity =
        match query.severity.as_deref().filter(|s| !s.trim().is_empty()) {
            None => None,
            Some(raw) => Some(policy.catalog().get(raw).map(|s| s.id.clone()).ok_or_else(
                || {
                    ApiError::invalid(
                        "severity",
                        format!(
                            "unknown severity `{raw}`: expected one of {}",
                            policy.catalog().ids()
                        ),
                    )
                },
            )?),
        };
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 1000"));
    }
    let filter = IncidentFilter {
        status,
        severity,
        service: query.service.clone().filter(|s| !s.trim().is_empty()),
        limit,
    };
    Ok(filter)
}

/// Lists incidents, open first and newest first.
#[utoipa::path(
    get, path = "/api/v1/incidents", tag = "incidents", params(ListQuery),
    responses(
        (status = 200, description = "Matching incidents", body = IncidentList),
        (status = 400, description = "Malformed query", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 422, description = "Unknown status or severity, bad limit, or a service with a NUL character", body = ErrorBody)
    )
)]
pub(super) async fn list(
    _caller: AsViewer,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<IncidentList>, ApiError> {
    let filter = incident_filter(&state.policy.current(), &query)?;
    let incidents = state.store.list_incidents(&filter).await?;
    Ok(Json(IncidentList {
        incidents: incidents.iter().map(IncidentSummaryView::from).collect(),
    }))
}

/// One incident with its timeline.
#[utoipa::path(
    get, path = "/api/v1/incidents/{id}", tag = "incidents",
    params(("id" = String, Path, description = "INC-<n> or <n>", pattern = r"^([Ii][Nn][Cc]-)?0*[1-9][0-9]{0,17}$")),
    responses(
        (status = 200, description = "The incident", body = IncidentDetail),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody)
    )
)]
pub(super) async fn show(
    _caller: AsViewer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<IncidentDetail>, ApiError> {
    let (incident, events) = load(&state, parse_id(&id)?).await?;
    Ok(Json(detail(
        &state.policy.current(),
        &incident,
        &events,
        state.clock.now(),
    )))
}

/// Acknowledges: someone has the incident. Body optional.
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/acknowledge", tag = "incidents",
    params(("id" = String, Path, description = "INC-<n> or <n>", pattern = r"^([Ii][Nn][Cc]-)?0*[1-9][0-9]{0,17}$")),
    request_body(content = Option<AcknowledgeRequest>, description = "May be empty"),
    responses(
        (status = 200, description = "Acknowledged", body = IncidentDetail),
        (status = 400, description = "Malformed id or body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Needs responder", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody),
        (status = 409, description = "Already acknowledged, resolved, or version moved", body = ErrorBody)
    )
)]
pub(super) async fn acknowledge(
    caller: AsResponder,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AcknowledgeRequest>,
) -> Result<Json<IncidentDetail>, ApiError> {
    execute(
        &state,
        &caller.0,
        parse_id(&id)?,
        req.expected_version,
        Command::Acknowledge,
    )
    .await
}

/// Moves the status; `resolved` resolves.
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/status", tag = "incidents",
    params(("id" = String, Path, description = "INC-<n> or <n>", pattern = r"^([Ii][Nn][Cc]-)?0*[1-9][0-9]{0,17}$")),
    request_body = StatusRequest,
    responses(
        (status = 200, description = "Changed", body = IncidentDetail),
        (status = 400, description = "Malformed id or body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Needs responder", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody),
        (status = 409, description = "Already in that status, resolved, or version moved", body = ErrorBody),
        (status = 422, description = "Unknown status", body = ErrorBody)
    )
)]
pub(super) async fn status(
    caller: AsResponder,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<StatusRequest>,
) -> Result<Json<IncidentDetail>, ApiError> {
    let id = parse_id(&id)?;
    let to = parse_status(&req.status)?;
    execute(
        &state,
        &caller.0,
        id,
        req.expected_version,
        Command::ChangeStatus {
            to,
            message: req.message,
        },
    )
    .await
}

/// Changes the severity.
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/severity", tag = "incidents",
    params(("id" = String, Path, description = "INC-<n> or <n>", pattern = r"^([Ii][Nn][Cc]-)?0*[1-9][0-9]{0,17}$")),
    request_body = SeverityRequest,
    responses(
        (status = 200, description = "Changed", body = IncidentDetail),
        (status = 400, description = "Malformed id or body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Needs responder", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody),
        (status = 409, description = "Same severity, resolved, or version moved", body = ErrorBody),
        (status = 422, description = "Unknown severity", body = ErrorBody)
    )
)]
pub(super) async fn severity(
    caller: AsResponder,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<SeverityRequest>,
) -> Result<Json<IncidentDetail>, ApiError> {
    let id = parse_id(&id)?;
    execute(
        &state,
        &caller.0,
        id,
        req.expected_version,
        Command::ChangeSeverity {
            to: req.severity,
            reason: req.reason,
        },
    )
    .await
}

/// Adds a note to the timeline.
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/notes", tag = "incidents",
    params(("id" = String, Path, description = "INC-<n> or <n>", pattern = r"^([Ii][Nn][Cc]-)?0*[1-9][0-9]{0,17}$")),
    request_body = NoteRequest,
    responses(
        (status = 200, description = "Added", body = IncidentDetail),
        (status = 400, description = "Malformed id or body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Needs responder", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody),
        (status = 409, description = "Version moved", body = ErrorBody),
        (status = 422, description = "Empty or too long", body = ErrorBody)
    )
)]
pub(super) async fn note(
    caller: AsResponder,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<NoteRequest>,
) -> Result<Json<IncidentDetail>, ApiError> {
    let id = parse_id(&id)?;
    execute(
        &state,
        &caller.0,
        id,
        req.expected_version,
        Command::AddNote { text: req.text },
    )
    .await
}

/// Gives a role (commander, tech lead, comms, subject-matter expert) to someone.
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/roles", tag = "incidents",
    params(("id" = String, Path, description = "INC-<n> or <n>", pattern = r"^([Ii][Nn][Cc]-)?0*[1-9][0-9]{0,17}$")),
    request_body = AssignRequest,
    responses(
        (status = 200, description = "Assigned", body = IncidentDetail),
        (status = 400, description = "Malformed id or body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Needs responder", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody),
        (status = 409, description = "Already holds it, or version moved", body = ErrorBody),
        (status = 422, description = "Unknown role or bad assignee", body = ErrorBody)
    )
)]
pub(super) async fn assign(
    caller: AsResponder,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AssignRequest>,
) -> Result<Json<IncidentDetail>, ApiError> {
    let id = parse_id(&id)?;
    let role: IncidentRole = req
        .role
        .parse()
        .map_err(|e: fireline_core::role::UnknownRole| ApiError::invalid("role", e.to_string()))?;
    execute(
        &state,
        &caller.0,
        id,
        req.expected_version,
        Command::AssignRole {
            role,
            assignee: req.assignee,
        },
    )
    .await
}

/// Resolves. Body optional.
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/resolve", tag = "incidents",
    params(("id" = String, Path, description = "INC-<n> or <n>", pattern = r"^([Ii][Nn][Cc]-)?0*[1-9][0-9]{0,17}$")),
    request_body(content = Option<ResolveRequest>, description = "May be empty"),
    responses(
        (status = 200, description = "Resolved", body = IncidentDetail),
        (status = 400, description = "Malformed id or body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Needs responder", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody),
        (status = 409, description = "Already resolved, or version moved", body = ErrorBody),
        (status = 422, description = "Unacceptable summary (control characters, too long)", body = ErrorBody)
    )
)]
pub(super) async fn resolve(
    caller: AsResponder,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ResolveRequest>,
) -> Result<Json<IncidentDetail>, ApiError> {
    let id = parse_id(&id)?;
    execute(
        &state,
        &caller.0,
        id,
        req.expected_version,
        Command::Resolve {
            summary: req.summary,
        },
    )
    .await
}

/// Reopens a resolved incident: back to investigating, unacknowledged. Body optional.
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/reopen", tag = "incidents",
    params(("id" = String, Path, description = "INC-<n> or <n>", pattern = r"^([Ii][Nn][Cc]-)?0*[1-9][0-9]{0,17}$")),
    request_body(content = Option<ReopenRequest>, description = "May be empty"),
    responses(
        (status = 200, description = "Reopened", body = IncidentDetail),
        (status = 400, description = "Malformed id or body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Needs responder", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody),
        (status = 409, description = "Not resolved, or version moved", body = ErrorBody),
        (status = 422, description = "Unacceptable reason (control characters, too long)", body = ErrorBody)
    )
)]
pub(super) async fn reopen(
    caller: AsResponder,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ReopenRequest>,
) -> Result<Json<IncidentDetail>, ApiError> {
    let id = parse_id(&id)?;
    execute(
        &state,
        &caller.0,
        id,
        req.expected_version,
        Command::Reopen { reason: req.reason },
    )
    .await
}

/// Records an update posted on a channel; that channel's cadence restarts.
///
/// With `template` or `vars` the text is rendered from the policy's template (the
/// body's `text` is its `message`); with `dry_run` it is only rendered and returned.
/// A status-page text that promises an ETA comes back with a warning.
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/updates", tag = "incidents",
    params(("id" = String, Path, description = "INC-<n> or <n>", pattern = r"^([Ii][Nn][Cc]-)?0*[1-9][0-9]{0,17}$")),
    request_body = UpdateRequest,
    responses(
        (status = 200, description = "Recorded, or rendered for a dry run", body = UpdateResponse),
        (status = 400, description = "Malformed id or body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Needs responder", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody),
        (status = 409, description = "Version moved", body = ErrorBody),
        (status = 422, description = "Unknown channel or template, a template that fails, or empty text", body = ErrorBody)
    )
)]
pub(super) async fn update(
    caller: AsResponder,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateRequest>,
) -> Result<Json<UpdateResponse>, ApiError> {
    let id = parse_id(&id)?;
    let channel: Channel = req
        .channel
        .parse()
        .map_err(|e: String| ApiError::invalid("channel", e))?;
    let (current, events) = load(&state, id).await?;
    let policy = state.policy.current();
    let (text, warnings) = update_text(
        &policy,
        &current,
        channel,
        req.template.as_deref(),
        &req.text,
        &req.vars,
        state.clock.now(),
    )?;
    let detail = if req.dry_run {
        // Check it as posting would, so a preview never shows what would be refused.
        decide(
            &current,
            &Command::PostUpdate {
                channel,
                text: text.clone(),
            },
            policy.catalog(),
        )?;
        detail(&policy, &current, &events, state.clock.now())
    } else {
        // The text rendered above is the one previewed and posted, even if a retry
        // after a lost race decides on a newer state.
        execute(
            &state,
            &caller.0,
            id,
            req.expected_version,
            Command::PostUpdate {
                channel,
                text: text.clone(),
            },
        )
        .await?
        .0
    };
    Ok(Json(UpdateResponse {
        dry_run: req.dry_run,
        text: detail
            .timeline
            .last()
            .filter(|_| !req.dry_run)
            .and_then(|e| e.data.get("text"))
            .and_then(|t| t.as_str())
            .map_or(text, str::to_owned),
        warnings,
        incident: detail.incident,
        timeline: detail.timeline,
        channel_name: detail.channel_name,
        next_updates: detail.next_updates,
    }))
}

/// The text an update will carry: `text` as written, or rendered from a template (named,
/// or the channel's own when `vars` are given; `text` becomes its `message`), with the
/// warnings public wording gets. Shared by the API and the UI's preview, so what is
/// previewed is what is posted.
pub(crate) fn update_text(
    policy: &fireline_core::policy::Policy,
    current: &Incident,
    channel: Channel,
    template: Option<&str>,
    text: &str,
    vars: &BTreeMap<String, String>,
    now: Timestamp,
) -> Result<(String, Vec<String>), ApiError> {
    let kind = match template.map(str::trim).filter(|t| !t.is_empty()) {
        Some(name) => Some(
            name.parse::<TemplateKind>()
                .map_err(|e| ApiError::invalid("template", e))?,
        ),
        None if !vars.is_empty() => Some(TemplateKind::for_channel(channel)),
        None => None,
    };
    let text = match kind {
        None => text.to_owned(),
        Some(kind) => {
            let now = now.max(current.updated_at);
            let mut vars = vars.clone();
            if !text.trim().is_empty() {
                vars.insert("message".to_owned(), text.to_owned());
            }
            let input = RenderInput {
                channel: Some(channel),
                now,
                next_update: comms::next_update_after(policy, current, channel, now),
                vars: &vars,
            };
            comms::render(policy, kind, current, &input)
                .map_err(|e| ApiError::invalid("template", e.to_string()))?
        }
    };
    // Seed 001: "Never commit to specific ETAs publicly" - only public text is checked.
    let warnings = if channel == Channel::StatusPage {
        comms::public_wording_warnings(&text)
    } else {
        Vec::new()
    };
    Ok((text, warnings))
}

/// Escalates by hand to a level of the policy.
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/escalate", tag = "incidents",
    params(("id" = String, Path, description = "INC-<n> or <n>", pattern = r"^([Ii][Nn][Cc]-)?0*[1-9][0-9]{0,17}$")),
    request_body = EscalateRequest,
    responses(
        (status = 200, description = "Escalated", body = IncidentDetail),
        (status = 400, description = "Malformed id or body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Needs responder", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody),
        (status = 409, description = "Resolved, or version moved", body = ErrorBody),
        (status = 422, description = "No such level", body = ErrorBody)
    )
)]
pub(crate) async fn escalate(
    caller: AsResponder,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<EscalateRequest>,
) -> Result<Json<IncidentDetail>, ApiError> {
    escalate_now(
        &state,
        &caller.0,
        parse_id(&id)?,
        req.expected_version,
        req.level,
        req.reason.as_deref(),
    )
    .await
}

/// Escalates incident `id` by hand to `level` as `caller`: the API's and the UI's way.
pub(crate) async fn escalate_now(
    state: &AppState,
    caller: &Caller,
    id: IncidentId,
    expected_version: Option<u64>,
    level: u32,
    reason: Option<&str>,
) -> Result<Json<IncidentDetail>, ApiError> {
    execute_with(state, caller, id, expected_version, |facts| {
        manual_escalation(facts.policy, facts.incident, level, &caller.name, reason)
    })
    .await
}

/// PagerDuty's `acknowledge` for an alert: acknowledges the alert's incident, if any.
pub(super) async fn acknowledge_alert(
    state: &AppState,
    integration: &fireline_store::IntegrationRecord,
    dedup_key: &str,
) -> Result<(), ApiError> {
    // The key as the alert was stored: normalised as every receiver normalises it.
    let dedup_key = fireline_core::alert::clean_text(dedup_key);
    let Some(alert) = state.store.alert(&integration.id, &dedup_key).await? else {
        return Ok(());
    };
    let caller = Caller {
        name: format!("integration:{}", integration.name),
        role: fireline_core::AccessRole::Responder,
        token_id: integration.id.clone(),
    };
    match execute(state, &caller, alert.incident, None, Command::Acknowledge).await {
        Ok(_) | Err(ApiError::Conflict(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Attaches a runbook from the server's runbook folder: its steps become the incident's
/// checklist (copied, so later edits of the file do not change it).
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/runbook", tag = "incidents",
    params(("id" = String, Path, description = "INC-<n> or <n>", pattern = r"^([Ii][Nn][Cc]-)?0*[1-9][0-9]{0,17}$")),
    request_body = AttachRunbookRequest,
    responses(
        (status = 200, description = "Attached", body = IncidentDetail),
        (status = 400, description = "Malformed id or body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Needs responder", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody),
        (status = 409, description = "Already attached, or version moved", body = ErrorBody),
        (status = 422, description = "Unknown runbook", body = ErrorBody)
    )
)]
pub(crate) async fn attach_runbook(
    caller: AsResponder,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AttachRunbookRequest>,
) -> Result<Json<IncidentDetail>, ApiError> {
    attach_runbook_now(
        &state,
        &caller.0,
        parse_id(&id)?,
        req.expected_version,
        &req.runbook,
    )
    .await
}

/// Attaches the server's runbook `name` to incident `id` as `caller`: the API's and the
/// UI's way.
pub(crate) async fn attach_runbook_now(
    state: &AppState,
    caller: &Caller,
    id: IncidentId,
    expected_version: Option<u64>,
    name: &str,
) -> Result<Json<IncidentDetail>, ApiError> {
    let runbook = state.runbooks.get(name.trim()).cloned().ok_or_else(|| {
        fireline_core::DomainError::Invalid {
            field: "runbook",
            message: format!("no runbook `{name}` on this server (see `fireline runbook list`)"),
        }
    })?;
    execute(
        state,
        caller,
        id,
        expected_version,
        Command::AttachRunbook { runbook },
    )
    .await
}

/// Checks a checklist step off (`done: true`, optionally with output) or unchecks it.
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/checklist/{step}", tag = "incidents",
    params(
        ("id" = String, Path, description = "INC-<n> or <n>", pattern = r"^([Ii][Nn][Cc]-)?0*[1-9][0-9]{0,17}$"),
        ("step" = String, Path, description = "The step's id, from the incident's checklist")
    ),
    request_body(content = Option<CheckStepRequest>, description = "May be empty: checks the step"),
    responses(
        (status = 200, description = "Checked or unchecked", body = IncidentDetail),
        (status = 400, description = "Malformed id or body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Needs responder", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody),
        (status = 409, description = "Already in that state, or version moved", body = ErrorBody),
        (status = 422, description = "Unknown step, or no runbook attached", body = ErrorBody)
    )
)]
pub(super) async fn check_step(
    caller: AsResponder,
    State(state): State<AppState>,
    Path((id, step)): Path<(String, String)>,
    ApiJson(req): ApiJson<CheckStepRequest>,
) -> Result<Json<IncidentDetail>, ApiError> {
    let id = parse_id(&id)?;
    execute(
        &state,
        &caller.0,
        id,
        req.expected_version,
        Command::CheckStep {
            step,
            done: req.done,
            output: req.output,
        },
    )
    .await
}
