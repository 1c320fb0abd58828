//! The admin page's forms (admins only, each POST checked for CSRF and role): users
//! (create, disable/enable, new password), tokens and integrations (create, showing the
//! secret once; revoke). Each calls the same functions as the JSON API and the CLI
//! (`users::*`, `auth::issue_*`, the routes' revoke helpers), then redirects back (303).

use super::admin::{admin_act, refuse_admin_post, refused};
use super::{form, render, url, Session};
use crate::auth::{issue_integration, issue_token};
use crate::{users, ApiError, AppState};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use fireline_core::AccessRole;
use std::collections::HashMap;

fn field<'a>(fields: &'a HashMap<String, String>, name: &str) -> &'a str {
    fields.get(name).map_or("", String::as_str)
}

/// A non-empty, trimmed optional field.
fn optional<'a>(fields: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    Some(field(fields, name).trim()).filter(|v| !v.is_empty())
}

fn role(fields: &HashMap<String, String>) -> Result<AccessRole, ApiError> {
    field(fields, "role")
        .parse()
        .map_err(|e: fireline_core::access::UnknownAccessRole| {
            ApiError::invalid("role", e.to_string())
        })
}

/// The two password fields must agree: a typo would lock the user out.
fn new_password(fields: &HashMap<String, String>) -> Result<&str, ApiError> {
    let password = field(fields, "password");
    if password != field(fields, "confirm") {
        return Err(ApiError::invalid(
            "confirm",
            "the two passwords differ; type the same one twice",
        ));
    }
    Ok(password)
}

/// [`admin_act`] with errors linking back to the admin page.
async fn act<F>(session: &Session, body: &Bytes, action: F) -> Response
where
    F: AsyncFnOnce(&HashMap<String, String>) -> Result<String, ApiError>,
{
    admin_act(session, body, "/ui/admin", action).await
}

/// `POST /ui/admin/users`: `name`, `role`, `password`, `confirm`.
pub(super) async fn create_user(
    session: Session,
    State(state): State<AppState>,
    body: Bytes,
) -> Response {
    act(&session, &body, async |fields| {
        let role = role(fields)?;
        let password = new_password(fields)?;
        let name = field(fields, "name").trim();
        let user =
            users::create_user(state.store.as_ref(), name, role, password, state.clock.now())
                .await?;
        tracing::info!(actor = %session.caller.name, user = %user.name, role = %user.role, "user created");
        Ok("/ui/admin?done=user-created#users".to_owned())
    })
    .await
}

/// `POST /ui/admin/users/{name}/disabled`: `disabled` is `true` or `false`. An admin
/// cannot disable the user they are signed in as: nobody might be left to undo it.
pub(super) async fn set_disabled(
    session: Session,
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    act(&session, &body, async |fields| {
        let disabled = match field(fields, "disabled") {
            "true" => true,
            "false" => false,
            _ => return Err(ApiError::invalid("disabled", "expected true or false")),
        };
        if disabled && session.caller.token_id == format!("user:{name}") {
            return Err(ApiError::Conflict(
                "you cannot disable yourself: you are signed in as this user; ask another \
                 admin, or use `fireline user disable`"
                    .to_owned(),
            ));
        }
        let at = disabled.then(|| state.clock.now());
        state
            .store
            .set_user_disabled(&name, at)
            .await
            .map_err(|e| match e {
                fireline_store::StoreError::NotFound => {
                    ApiError::NotFound(format!("no user `{name}`"))
                }
                other => other.into(),
            })?;
        tracing::info!(actor = %session.caller.name, user = %name, disabled, "user changed");
        Ok(format!(
            "/ui/admin?done={}#users",
            if disabled {
                "user-disabled"
            } else {
                "user-enabled"
            }
        ))
    })
    .await
}

/// `POST /ui/admin/users/{name}/password`: `password`, `confirm`; the user's sessions end.
pub(super) async fn set_password(
    session: Session,
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    act(&session, &body, async |fields| {
        let password = new_password(fields)?;
        users::change_password(state.store.as_ref(), &name, password, state.clock.now())
            .await
            .map_err(|e| match e {
                users::UserError::Store(fireline_store::StoreError::NotFound) => {
                    ApiError::NotFound(format!("no user `{name}`"))
                }
                other => other.into(),
            })?;
        tracing::info!(actor = %session.caller.name, user = %name, "password set");
        Ok("/ui/admin?done=password-set#users".to_owned())
    })
    .await
}

/// A secret shown once, with how to use it: a token's, or an integration's key with its
/// receiver URLs.
#[derive(Template)]
#[template(path = "ui/shown_once.html")]
struct ShownOnce<'a> {
    secret: &'a str,
    token: Option<&'a fireline_store::TokenRecord>,
    integration: Option<&'a fireline_store::IntegrationRecord>,
    /// The server's public base URL, and the key as a path segment.
    base: &'a str,
    key_in_path: String,
}

fn shown_once(session: &Session, title: &str, shown: &ShownOnce<'_>) -> Response {
    render(StatusCode::CREATED, title, Some(session), shown)
}

/// `POST /ui/admin/tokens`: `name` (optional), `role`; shows the new secret once.
pub(super) async fn create_token(
    session: Session,
    State(state): State<AppState>,
    body: Bytes,
) -> Response {
    let fields = form(&body);
    if let Some(refused) = refuse_admin_post(&session, fields.get("csrf").map(String::as_str)) {
        return refused;
    }
    let made = async {
        let role = role(&fields)?;
        let (secret, record) = issue_token(
            state.store.as_ref(),
            optional(&fields, "name"),
            role,
            state.clock.now(),
        )
        .await?;
        tracing::info!(actor = %session.caller.name, token_id = %record.id, role = %record.role, "token created");
        Ok::<_, ApiError>((secret, record))
    }
    .await;
    match made {
        Ok((secret, record)) => shown_once(
            &session,
            "Token created",
            &ShownOnce {
                secret: &secret,
                token: Some(&record),
                integration: None,
                base: "",
                key_in_path: String::new(),
            },
        ),
        Err(e) => refused(&session, e, "/ui/admin#tokens"),
    }
}

/// `POST /ui/admin/tokens/{id}/revoke`.
pub(super) async fn revoke_token(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    act(&session, &body, async |_| {
        crate::routes::tokens::revoke_now(&state, &id).await?;
        Ok("/ui/admin?done=token-revoked#tokens".to_owned())
    })
    .await
}

/// `POST /ui/admin/integrations`: `service`, `name` (optional); shows the key once with
/// the receiver URLs (docs/alerts.md).
pub(super) async fn create_integration(
    session: Session,
    State(state): State<AppState>,
    body: Bytes,
) -> Response {
    let fields = form(&body);
    if let Some(refused) = refuse_admin_post(&session, fields.get("csrf").map(String::as_str)) {
        return refused;
    }
    let made = issue_integration(
        state.store.as_ref(),
        optional(&fields, "name"),
        field(&fields, "service").trim(),
        state.clock.now(),
    )
    .await
    .map_err(ApiError::from);
    match made {
        Ok((key, record)) => {
            tracing::info!(actor = %session.caller.name, integration = %record.id, "integration created");
            let base = state.pager.links().base_url.trim_end_matches('/');
            shown_once(
                &session,
                "Integration created",
                &ShownOnce {
                    secret: &key,
                    token: None,
                    integration: Some(&record),
                    base,
                    key_in_path: url(&key),
                },
            )
        }
        Err(e) => refused(&session, e, "/ui/admin#integrations"),
    }
}

/// `POST /ui/admin/integrations/{id}/revoke`: its key stops working at once.
pub(super) async fn revoke_integration(
    session: Session,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    act(&session, &body, async |_| {
        crate::routes::alerts::revoke_now(&state, &id).await?;
        tracing::info!(actor = %session.caller.name, integration = %id, "integration revoked");
        Ok("/ui/admin?done=integration-revoked#integrations".to_owned())
    })
    .await
}

/// `POST /ui/admin/dead-letters/{id}/redrive` (back in the inbox, processed next) and
/// `…/discard` (gone for good).
pub(super) async fn dead_letter(
    session: Session,
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, String)>,
    body: Bytes,
) -> Response {
    use crate::routes::alerts::{act_on_dead_letter, DeadLetterAction};
    act(&session, &body, async |_| {
        let (action, done) = match action.as_str() {
            "redrive" => (DeadLetterAction::Redrive, "dead-letter-requeued"),
            "discard" => (DeadLetterAction::Discard, "dead-letter-discarded"),
            _ => return Err(ApiError::NotFound(format!("no action {action}"))),
        };
        act_on_dead_letter(&state, &session.caller.name, id, action).await?;
        Ok(format!("/ui/admin?done={done}#alert-handling"))
    })
    .await
}
