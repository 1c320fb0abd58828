//! Alert receivers (keyed by integration, not by API token) and integration admin.

use crate::auth::{issue_heartbeat, issue_integration, AsAdmin, HeartbeatError};
use crate::extract::{parse_json, AlertBody, ApiJson};
use crate::receivers::{alertmanager, generic, pagerduty, Alerts};
use crate::wire::{
    Accepted, AlertDropList, AlertDropView, DeadLetterList, DeadLetterOutcome, DeadLetterView,
    ErrorBody, HeartbeatCreateRequest, HeartbeatCreated, HeartbeatList, HeartbeatView,
    IntegrationCreateRequest, IntegrationCreated, IntegrationList, IntegrationView,
};
use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use fireline_core::hash_token;
use fireline_store::IntegrationRecord;

fn unknown_key() -> ApiError {
    // One answer for unknown and revoked keys: no oracle for which exist.
    ApiError::NotFound("unknown integration key".to_owned())
}

async fn integration_for(state: &AppState, key: &str) -> Result<IntegrationRecord, ApiError> {
    let key = key.trim();
    if key.is_empty() {
        return Err(unknown_key());
    }
    state
        .inbox
        .keys()
        .lookup(state.store.as_ref(), &hash_token(key))
        .await?
        .ok_or_else(unknown_key)
}

/// A receiver body: a JSON object (arrays are refused, as in every API body).
fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::BadRequest {
            field: None,
            message: "expected a JSON object".to_owned(),
        });
    }
    // The common case is a good body: parse it plainly, and only when that fails parse
    // again tracking the path, to name the field at fault (that tracking costs on every
    // value of a large payload).
    match serde_json::from_slice(body) {
        Ok(value) => Ok(value),
        Err(_) => parse_json(body),
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Writes the alerts to the inbox (durable when this returns) and wakes the processor.
async fn accept(
    state: &AppState,
    integration: &IntegrationRecord,
    mut alerts: Alerts,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    // What is accepted must be recordable: monitoring text is normalised here, before
    // the answer, never refused after it (docs/security.md, "Accepted alerts").
    for alert in &mut alerts {
        alert.normalise();
    }
    let count = alerts.len();
    metrics::counter!("fireline_alerts_received_total", "service" => integration.service.clone())
        .increment(count as u64);
    if count > 0 {
        let batch = fireline_store::AlertBatch::encode(&alerts).map_err(|_| ApiError::Internal)?;
        // Returns once committed: the alerts are durable before we answer.
        state
            .inbox
            .write(&integration.id, state.clock.now(), batch)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "alerts not accepted");
                ApiError::Unavailable
            })?;
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            status: "accepted".to_owned(),
            alerts: count,
        }),
    ))
}

/// Alertmanager's webhook, with the integration key in the URL.
#[utoipa::path(
    post, path = "/api/v1/integrations/{key}/alertmanager", tag = "receivers", security(()),
    params(("key" = String, Path, description = "Integration key (fli_…)")),
    request_body(content = alertmanager::Payload, description = "Alertmanager webhook payload, version 4"),
    responses(
        (status = 202, description = "Accepted and durable", body = Accepted),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 404, description = "Unknown integration key", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "Invalid field", body = ErrorBody)
    )
)]
pub(super) async fn alertmanager_keyed(
    State(state): State<AppState>,
    Path(key): Path<String>,
    body: AlertBody,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    // The key first, before the body is read: an unknown key learns nothing about the
    // body's shape, and cannot make the server receive it.
    let integration = integration_for(&state, &key).await?;
    let body = body.read().await?;
    let payload: alertmanager::Payload = parse_body(&body)?;
    let alerts = alertmanager::normalise(payload, state.clock.now())?;
    accept(&state, &integration, alerts).await
}

/// Alertmanager's webhook, with the integration key as a bearer token
/// (`http_config.authorization`).
#[utoipa::path(
    post, path = "/api/v1/integrations/alertmanager", tag = "receivers", security(("bearer" = [])),
    request_body(content = alertmanager::Payload, description = "Alertmanager webhook payload, version 4"),
    responses(
        (status = 202, description = "Accepted and durable", body = Accepted),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 404, description = "Unknown integration key", body = ErrorBody),
        (status = 422, description = "Invalid field", body = ErrorBody)
    )
)]
pub(super) async fn alertmanager_bearer(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: AlertBody,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let integration = integration_for(&state, bearer(&headers).unwrap_or_default()).await?;
    let body = body.read().await?;
    let payload: alertmanager::Payload = parse_body(&body)?;
    let alerts = alertmanager::normalise(payload, state.clock.now())?;
    accept(&state, &integration, alerts).await
}

/// One alert in fireline's generic shape.
#[utoipa::path(
    post, path = "/api/v1/integrations/{key}/alerts", tag = "receivers", security(()),
    params(("key" = String, Path, description = "Integration key (fli_…)")),
    request_body = generic::GenericAlert,
    responses(
        (status = 202, description = "Accepted and durable", body = Accepted),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 404, description = "Unknown integration key", body = ErrorBody),
        (status = 422, description = "Invalid field", body = ErrorBody)
    )
)]
pub(super) async fn generic_alert(
    State(state): State<AppState>,
    Path(key): Path<String>,
    body: AlertBody,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let integration = integration_for(&state, &key).await?;
    let body = body.read().await?;
    let alert: generic::GenericAlert = parse_body(&body)?;
    let alerts = generic::normalise(alert, state.clock.now())?;
    accept(&state, &integration, alerts).await
}

fn pd(status: StatusCode, answer: pagerduty::Answer) -> Response {
    (status, Json(answer)).into_response()
}

/// PagerDuty Events API v2: `routing_key` is the integration key.
#[utoipa::path(
    post, path = "/v2/enqueue", tag = "receivers", security(()),
    request_body(content = pagerduty::Event, description = "PagerDuty Events API v2 event"),
    responses(
        (status = 202, description = "Event processed", content_type = "application/json"),
        (status = 400, description = "Invalid event (PagerDuty's error shape)", content_type = "application/json"),
        (status = 404, description = "Unknown routing key", content_type = "application/json")
    )
)]
pub(super) async fn pagerduty_enqueue(
    State(state): State<AppState>,
    body: Result<AlertBody, ApiError>,
) -> Response {
    // The key is inside the body, so the body is read first: PagerDuty's own limit.
    let body = match body {
        Ok(body) => match body.read_up_to(crate::MAX_PAGERDUTY_BODY_BYTES).await {
            Ok(body) => body,
            Err(e) => return e.into_response(),
        },
        Err(e) => return e.into_response(),
    };
    let event: pagerduty::Event = match parse_json(&body) {
        Ok(e) => e,
        Err(e) => {
            return pd(
                StatusCode::BAD_REQUEST,
                pagerduty::Answer::invalid(vec![e.to_string()]),
            )
        }
    };
    let integration = match integration_for(&state, &event.routing_key).await {
        Ok(i) => i,
        Err(ApiError::NotFound(_)) => {
            return pd(
                StatusCode::NOT_FOUND,
                pagerduty::Answer::invalid(vec!["unknown routing_key".into()]),
            )
        }
        Err(e) => return e.into_response(),
    };
    let now = state.clock.now();
    let action = pagerduty::normalise(event, now, || {
        format!(
            "fl-{}",
            fireline_core::hash_token(&format!("{}{}", integration.id, now.as_nanosecond()))[..16]
                .to_owned()
        )
    });
    let (alerts, key) = match action {
        Ok(pagerduty::Action::Alerts(alerts, key)) => (alerts, key),
        Ok(pagerduty::Action::Acknowledge(key)) => {
            if let Err(e) = super::incidents::acknowledge_alert(&state, &integration, &key).await {
                return e.into_response();
            }
            return pd(
                StatusCode::ACCEPTED,
                pagerduty::Answer {
                    status: "success".into(),
                    message: "Event processed".into(),
                    dedup_key: Some(key),
                    errors: vec![],
                },
            );
        }
        Err(errors) => return pd(StatusCode::BAD_REQUEST, pagerduty::Answer::invalid(errors)),
    };
    match accept(&state, &integration, alerts).await {
        Ok(_) => pd(
            StatusCode::ACCEPTED,
            pagerduty::Answer {
                status: "success".into(),
                message: "Event processed".into(),
                dedup_key: Some(key),
                errors: vec![],
            },
        ),
        Err(e) => e.into_response(),
    }
}

/// Creates an integration; its key is in this response only.
#[utoipa::path(
    post, path = "/api/v1/integrations", tag = "integrations", request_body = IntegrationCreateRequest,
    responses(
        (status = 201, description = "Created", body = IntegrationCreated),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "Bad service or name", body = ErrorBody)
    )
)]
pub(super) async fn create_integration(
    _caller: AsAdmin,
    State(state): State<AppState>,
    ApiJson(req): ApiJson<IntegrationCreateRequest>,
) -> Result<(StatusCode, Json<IntegrationCreated>), ApiError> {
    let (key, record) = issue_integration(
        state.store.as_ref(),
        req.name.as_deref(),
        &req.service,
        state.clock.now(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(IntegrationCreated {
            key,
            record: IntegrationView::from(&record),
        }),
    ))
}

/// Every integration.
#[utoipa::path(
    get, path = "/api/v1/integrations", tag = "integrations",
    responses(
        (status = 200, description = "Oldest first", body = IntegrationList),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody)
    )
)]
pub(super) async fn list_integrations(
    _caller: AsAdmin,
    State(state): State<AppState>,
) -> Result<Json<IntegrationList>, ApiError> {
    let list = state.store.list_integrations().await?;
    Ok(Json(IntegrationList {
        integrations: list.iter().map(IntegrationView::from).collect(),
    }))
}

/// Revokes an integration: its key stops working at once.
#[utoipa::path(
    delete, path = "/api/v1/integrations/{id}", tag = "integrations",
    params(("id" = String, Path, description = "Integration id (int_…)")),
    responses(
        (status = 200, description = "Revoked", body = IntegrationView),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such integration", body = ErrorBody)
    )
)]
pub(super) async fn revoke_integration(
    _caller: AsAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<IntegrationView>, ApiError> {
    let record = revoke_now(&state, &id).await?;
    Ok(Json(IntegrationView::from(&record)))
}

/// Revokes integration `id` and forgets its cached key, for the API and the UI alike.
pub(crate) async fn revoke_now(
    state: &AppState,
    id: &str,
) -> Result<fireline_store::IntegrationRecord, ApiError> {
    // Integration ids never hold a NUL, and PostgreSQL cannot even compare one.
    if id.contains('\0') {
        return Err(ApiError::NotFound(format!(
            "no integration {}",
            id.escape_debug()
        )));
    }
    match state.store.revoke_integration(id, state.clock.now()).await {
        Ok(record) => {
            // Its key stops working here at once, not when the cached entry expires.
            state.inbox.keys().forget(&record.id);
            Ok(record)
        }
        Err(fireline_store::StoreError::NotFound) => {
            Err(ApiError::NotFound(format!("no integration {id}")))
        }
        Err(e) => Err(e.into()),
    }
}

fn seconds(field: &'static str, raw: &str) -> Result<i64, ApiError> {
    fireline_core::policy::PolicyDuration::wall_clock_secs(raw)
        .map_err(|e| ApiError::invalid(field, e))
}

/// Creates a heartbeat monitor; its key is in this response only.
#[utoipa::path(
    post, path = "/api/v1/heartbeats", tag = "integrations", request_body = HeartbeatCreateRequest,
    responses(
        (status = 201, description = "Created", body = HeartbeatCreated),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "Bad interval, grace, name or integration", body = ErrorBody)
    )
)]
pub(super) async fn create_heartbeat(
    _caller: AsAdmin,
    State(state): State<AppState>,
    ApiJson(req): ApiJson<HeartbeatCreateRequest>,
) -> Result<(StatusCode, Json<HeartbeatCreated>), ApiError> {
    let interval = seconds("interval", &req.interval)?;
    let grace = seconds("grace", req.grace.as_deref().unwrap_or("0m"))?;
    match issue_heartbeat(
        state.store.as_ref(),
        &req.integration,
        &req.name,
        interval,
        grace,
        state.clock.now(),
    )
    .await
    {
        Ok((key, record)) => Ok((
            StatusCode::CREATED,
            Json(HeartbeatCreated {
                key,
                record: HeartbeatView::from(&record),
            }),
        )),
        Err(HeartbeatError::Invalid { field, message }) => Err(ApiError::invalid(field, message)),
        Err(HeartbeatError::Issue(e)) => Err(e.into()),
    }
}

/// Every heartbeat monitor and its state.
#[utoipa::path(
    get, path = "/api/v1/heartbeats", tag = "integrations",
    responses(
        (status = 200, description = "Oldest first", body = HeartbeatList),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody)
    )
)]
pub(super) async fn list_heartbeats(
    _caller: AsAdmin,
    State(state): State<AppState>,
) -> Result<Json<HeartbeatList>, ApiError> {
    let list = state.store.list_heartbeats().await?;
    Ok(Json(HeartbeatList {
        heartbeats: list.iter().map(HeartbeatView::from).collect(),
    }))
}

/// A ping: the job ran. If the monitor was down, its alert resolves.
#[utoipa::path(
    post, path = "/api/v1/heartbeats/{key}", tag = "receivers", security(()),
    params(("key" = String, Path, description = "Heartbeat key (flh_…)")),
    responses(
        (status = 200, description = "Recorded", body = HeartbeatView),
        (status = 404, description = "Unknown heartbeat key", body = ErrorBody)
    )
)]
pub(super) async fn ping_heartbeat(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Json<HeartbeatView>, ApiError> {
    let record = state
        .store
        .ping_heartbeat(&hash_token(key.trim()), state.clock.now())
        .await?
        .ok_or_else(|| ApiError::NotFound("unknown heartbeat key".to_owned()))?;
    state.inbox.wake();
    Ok(Json(HeartbeatView::from(&record)))
}

/// Most entries the alert-handling lists return.
const LIST_LIMIT: u32 = 500;

/// Accepted alerts that joined no incident, with the reason (a route dropped them,
/// they arrived resolved, …), latest first.
#[utoipa::path(
    get, path = "/api/v1/alerts/dropped", tag = "integrations",
    responses(
        (status = 200, description = "Latest first, at most 500", body = AlertDropList),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody)
    )
)]
pub(super) async fn list_dropped(
    _caller: AsAdmin,
    State(state): State<AppState>,
) -> Result<Json<AlertDropList>, ApiError> {
    let drops = state.store.alert_drops(LIST_LIMIT).await?;
    Ok(Json(AlertDropList {
        dropped: drops.iter().map(AlertDropView::from).collect(),
    }))
}

/// Accepted payloads whose processing kept failing, parked for an admin: re-drive
/// them once the cause is mended, or discard them.
#[utoipa::path(
    get, path = "/api/v1/alerts/dead-letters", tag = "integrations",
    responses(
        (status = 200, description = "Newest first, at most 500", body = DeadLetterList),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody)
    )
)]
pub(super) async fn list_dead_letters(
    _caller: AsAdmin,
    State(state): State<AppState>,
) -> Result<Json<DeadLetterList>, ApiError> {
    let dead = state.store.dead_letters(LIST_LIMIT).await?;
    Ok(Json(DeadLetterList {
        dead_letters: dead.iter().map(DeadLetterView::from).collect(),
    }))
}

/// Puts a dead letter back in the inbox, its attempts reset: it is processed next.
#[utoipa::path(
    post, path = "/api/v1/alerts/dead-letters/{id}/redrive", tag = "integrations",
    params(("id" = i64, Path, description = "Dead letter id (non-zero)")),
    responses(
        (status = 200, description = "Back in the inbox", body = DeadLetterOutcome),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such dead letter", body = ErrorBody)
    )
)]
pub(super) async fn redrive_dead_letter(
    caller: AsAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<DeadLetterOutcome>, ApiError> {
    let id = dead_letter_id(&id)?;
    act_on_dead_letter(&state, &caller.0.name, id, DeadLetterAction::Redrive).await?;
    Ok(Json(DeadLetterOutcome {
        id,
        status: "requeued".to_owned(),
    }))
}

/// Discards a dead letter for good.
#[utoipa::path(
    delete, path = "/api/v1/alerts/dead-letters/{id}", tag = "integrations",
    params(("id" = i64, Path, description = "Dead letter id (non-zero)")),
    responses(
        (status = 200, description = "Discarded", body = DeadLetterOutcome),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such dead letter", body = ErrorBody)
    )
)]
pub(super) async fn discard_dead_letter(
    caller: AsAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<DeadLetterOutcome>, ApiError> {
    let id = dead_letter_id(&id)?;
    act_on_dead_letter(&state, &caller.0.name, id, DeadLetterAction::Discard).await?;
    Ok(Json(DeadLetterOutcome {
        id,
        status: "discarded".to_owned(),
    }))
}

/// A dead letter id from a path: a non-zero 64-bit number (on SQLite, parked heartbeat
/// alerts have negative ids), or a 400 naming `id` in the API's shape (axum's own
/// `Path<i64>` answers an overflow in plain text).
fn dead_letter_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id != 0)
        .ok_or_else(|| {
            ApiError::bad_field(
                "id",
                format!("`{raw}` is not a dead letter id: expected a non-zero number"),
            )
        })
}

/// What an admin does with a dead letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeadLetterAction {
    /// Back in the inbox, attempts reset: processed next.
    Redrive,
    /// Deleted for good.
    Discard,
}

/// Re-drives (and wakes the processor) or discards dead letter `id`, for the API and
/// the UI alike; 404 when no parked item has this id.
pub(crate) async fn act_on_dead_letter(
    state: &AppState,
    actor: &str,
    id: i64,
    action: DeadLetterAction,
) -> Result<(), ApiError> {
    let done = match action {
        DeadLetterAction::Redrive => state.store.redrive_dead_letter(id).await?,
        DeadLetterAction::Discard => state.store.discard_dead_letter(id).await?,
    };
    if !done {
        return Err(ApiError::NotFound(format!("no dead letter {id}")));
    }
    match action {
        DeadLetterAction::Redrive => {
            tracing::info!(dead_letter = id, actor = %actor, "dead letter re-driven");
            state.inbox.wake();
        }
        DeadLetterAction::Discard => {
            tracing::warn!(dead_letter = id, actor = %actor, "dead letter discarded")
        }
    }
    Ok(())
}
