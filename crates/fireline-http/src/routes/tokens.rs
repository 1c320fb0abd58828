//! API tokens, for admins.

use crate::auth::{issue_token, AsAdmin};
use crate::extract::ApiJson;
use crate::wire::{ErrorBody, TokenCreateRequest, TokenCreated, TokenList, TokenView};
use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use fireline_core::AccessRole;

/// Creates a token; its secret is in this response only.
#[utoipa::path(
    post, path = "/api/v1/tokens", tag = "tokens", request_body = TokenCreateRequest,
    responses(
        (status = 201, description = "Created", body = TokenCreated),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "Unknown role or bad name", body = ErrorBody)
    )
)]
pub(super) async fn create(
    _caller: AsAdmin,
    State(state): State<AppState>,
    ApiJson(req): ApiJson<TokenCreateRequest>,
) -> Result<(StatusCode, Json<TokenCreated>), ApiError> {
    let role: AccessRole =
        req.role
            .parse()
            .map_err(|e: fireline_core::access::UnknownAccessRole| {
                ApiError::invalid("role", e.to_string())
            })?;
    let (token, record) = issue_token(
        state.store.as_ref(),
        req.name.as_deref(),
        role,
        state.clock.now(),
    )
    .await?;
    tracing::info!(token_id = %record.id, role = %record.role, "token created");
    Ok((
        StatusCode::CREATED,
        Json(TokenCreated {
            token,
            record: TokenView::from(&record),
        }),
    ))
}

/// Every token, revoked ones included.
#[utoipa::path(
    get, path = "/api/v1/tokens", tag = "tokens",
    responses(
        (status = 200, description = "Oldest first", body = TokenList),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody)
    )
)]
pub(super) async fn list(
    _caller: AsAdmin,
    State(state): State<AppState>,
) -> Result<Json<TokenList>, ApiError> {
    let tokens = state.store.list_tokens().await?;
    Ok(Json(TokenList {
        tokens: tokens.iter().map(TokenView::from).collect(),
    }))
}

/// Revokes a token at once; revoking again keeps the first time.
#[utoipa::path(
    delete, path = "/api/v1/tokens/{id}", tag = "tokens",
    params(("id" = String, Path, description = "Token id (tok_…)")),
    responses(
        (status = 200, description = "Revoked", body = TokenView),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such token", body = ErrorBody)
    )
)]
pub(super) async fn revoke(
    _caller: AsAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TokenView>, ApiError> {
    let record = revoke_now(&state, &id).await?;
    Ok(Json(TokenView::from(&record)))
}

/// Revokes token `id` (its sessions end with it), for the API and the UI alike.
pub(crate) async fn revoke_now(
    state: &AppState,
    id: &str,
) -> Result<fireline_store::TokenRecord, ApiError> {
    // Token ids never hold a NUL, and PostgreSQL cannot even compare one.
    if id.contains('\0') {
        return Err(ApiError::NotFound(format!(
            "no token {}",
            id.escape_debug()
        )));
    }
    let record = state
        .store
        .revoke_token(id, state.clock.now())
        .await
        .map_err(|e| match e {
            fireline_store::StoreError::NotFound => ApiError::NotFound(format!("no token {id}")),
            other => other.into(),
        })?;
    tracing::info!(token_id = %record.id, "token revoked");
    Ok(record)
}
