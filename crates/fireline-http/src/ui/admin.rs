//! The admin page (`/ui/admin`, admins only): users, tokens and integrations (never their
//! secrets) with the forms that manage them (`admin_actions.rs`), accepted alerts that
//! joined no incident and payloads parked after repeated failures (re-drive, discard), the roster's people,
//! teams and schedules with links to edit them (`roster.rs`), and the policy in force
//! with what `fireline policy check` would say about it against the roster.

use super::roster::AddEntry;
use super::{render, url, Message, Session};
use crate::routes::meta::policy_summary;
use crate::wire::PolicySummary;
use crate::{ApiError, AppState};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fireline_core::oncall::{coverage_gaps, unknown_targets};
use fireline_core::AccessRole;
use jiff::SignedDuration;
use std::collections::HashMap;

/// How far ahead coverage is checked, as `fireline policy check` does.
const COVERAGE_AHEAD: SignedDuration = SignedDuration::from_hours(24 * 90);
/// At most this many gaps are listed per schedule.
const GAPS_SHOWN: usize = 10;
/// At most this many parked payloads and dropped alerts are listed.
const ALERTS_SHOWN: u32 = 100;

/// The 403 page unless the session is an admin's.
pub(super) fn refuse_non_admin(session: &Session) -> Option<Response> {
    if session.caller.role.allows(AccessRole::Admin) {
        return None;
    }
    Some(render(
        StatusCode::FORBIDDEN,
        "Not allowed",
        Some(session),
        &Message::alert("Only admins can see or change this."),
    ))
}

/// For every admin POST: the CSRF token first (a forged post learns nothing about the
/// session's role), then the admin role; `None`: go on.
pub(super) fn refuse_admin_post(session: &Session, csrf: Option<&str>) -> Option<Response> {
    session
        .refuse_csrf(csrf)
        .or_else(|| refuse_non_admin(session))
}

/// Runs one admin action after the CSRF and role checks: `Ok(path)` redirects there,
/// an error is shown as a page with its status, linking `back`.
pub(super) async fn admin_act<F>(
    session: &Session,
    body: &axum::body::Bytes,
    back: &str,
    action: F,
) -> Response
where
    F: AsyncFnOnce(&std::collections::HashMap<String, String>) -> Result<String, ApiError>,
{
    let fields = super::form(body);
    if let Some(refused) = refuse_admin_post(session, fields.get("csrf").map(String::as_str)) {
        return refused;
    }
    match action(&fields).await {
        Ok(to) => axum::response::Redirect::to(&to).into_response(),
        Err(e) => refused(session, e, back),
    }
}

/// An error's message for a page, and the field it names for bad input.
pub(super) fn message(error: &ApiError) -> (Option<String>, String) {
    match error {
        ApiError::Invalid { field, message } if !field.is_empty() => {
            (Some(field.clone()), message.clone())
        }
        ApiError::BadRequest {
            field: Some(field),
            message,
        } => (Some(field.clone()), message.clone()),
        other => (None, other.to_string()),
    }
}

/// A refused action as a page with the error's status: bad input names its field.
pub(super) fn refused(session: &Session, error: ApiError, back: &str) -> Response {
    match &error {
        ApiError::Invalid { .. } | ApiError::BadRequest { .. } => {
            let (field, text) = message(&error);
            let status = error.into_response().status();
            render(
                status,
                "Not done",
                Some(session),
                &Message {
                    field: field.as_deref(),
                    unchanged: true,
                    ..Message::alert(&text).back(back)
                },
            )
        }
        _ => super::error_page(Some(session), error, back),
    }
}

/// The confirmation a redirect asks for (`?done=…`): fixed texts by code, so a link
/// cannot put words of its own on the page.
pub(super) fn notice_text(query: &HashMap<String, String>) -> Option<&'static str> {
    Some(match query.get("done").map(String::as_str) {
        Some("user-created") => "User created.",
        Some("user-disabled") => "User disabled; their sessions have ended.",
        Some("user-enabled") => "User enabled.",
        Some("password-set") => "Password set; the user's sessions have ended.",
        Some("token-revoked") => "Token revoked; its sessions have ended.",
        Some("integration-revoked") => "Integration revoked; its key no longer works.",
        Some("dead-letter-requeued") => "Payload put back in the inbox; it is processed next.",
        Some("dead-letter-discarded") => "Payload discarded.",
        Some("test-sent") => "Test pages sent: confirm each when it arrives.",
        Some("device-removed") => "Device removed: it gets no more pages.",
        Some("entry-saved") => "Roster entry saved.",
        Some("entry-deleted") => "Roster entry deleted.",
        Some("override-added") => "Override added.",
        Some("override-removed") => "Override removed.",
        _ => return None,
    })
}

/// A roster section on the admin page: its entries (id, name, editor's path) and the form
/// that adds one.
struct RosterSection {
    title: &'static str,
    entries: Vec<(String, String, String)>,
    add: AddEntry,
}

/// Schedules nobody covers for a while, though the policy pages them.
struct Gap {
    schedule: String,
    /// How many windows.
    count: usize,
    used_by: String,
    /// The first few windows.
    windows: Vec<(jiff::Timestamp, jiff::Timestamp)>,
    /// More windows than shown.
    more: bool,
}

/// The admin page.
#[derive(Template)]
#[template(path = "ui/admin.html")]
struct AdminPage<'a> {
    session: &'a Session,
    notice: Option<&'static str>,
    /// Each with its name in a path.
    users: Vec<(fireline_store::UserRecord, String)>,
    tokens: Vec<(fireline_store::TokenRecord, String)>,
    integrations: Vec<(fireline_store::IntegrationRecord, String)>,
    /// Parked payloads, newest first.
    dead_letters: Vec<crate::wire::DeadLetterView>,
    /// Alerts that joined no incident, latest first.
    dropped: Vec<fireline_store::AlertDrop>,
    sections: Vec<RosterSection>,
    policy: PolicySummary,
    /// The policy file in force, as read (shown read-only).
    policy_source: String,
    /// Targets the roster lacks: (where used, target).
    unknown: Vec<(String, String)>,
    gaps: Vec<Gap>,
    /// On call in the next 7 days with nothing proven to wake them.
    unready: Vec<fireline_core::oncall::readiness::NotReady>,
}

fn section<T>(
    key: &'static str,
    noun: &'static str,
    title: &'static str,
    entries: &std::collections::BTreeMap<String, T>,
    name: impl Fn(&T) -> &String,
) -> RosterSection {
    RosterSection {
        title,
        entries: entries
            .iter()
            .map(|(id, entry)| {
                (
                    id.clone(),
                    name(entry).clone(),
                    format!("/ui/admin/roster/{key}/{}", url(id)),
                )
            })
            .collect(),
        add: AddEntry::new(key, noun, "", ""),
    }
}

async fn body<'a>(
    state: &AppState,
    session: &'a Session,
    notice: Option<&'static str>,
) -> Result<AdminPage<'a>, ApiError> {
    let slugged = |name: &str| url(name);
    let users = state.store.list_users().await?;
    let tokens = state.store.list_tokens().await?;
    let integrations = state.store.list_integrations().await?;
    let dead_letters = state
        .store
        .dead_letters(ALERTS_SHOWN)
        .await?
        .iter()
        .map(crate::wire::DeadLetterView::from)
        .collect();
    let dropped = state.store.alert_drops(ALERTS_SHOWN).await?;
    let roster = state.store.roster().await?;
    let sections = vec![
        section("people", "person", "People", &roster.people, |p| &p.name),
        section("teams", "team", "Teams", &roster.teams, |t| &t.name),
        section(
            "schedules",
            "schedule",
            "Schedules",
            &roster.schedules,
            |s| &s.name,
        ),
    ];
    let policy = state.policy.current();
    // The policy itself passed its checks when it was loaded; what can go wrong since is
    // the roster: targets it lacks and hours nobody covers.
    let now = state.clock.now();
    let unknown = unknown_targets(&roster, &policy)
        .iter()
        .map(|u| (u.used_by.clone(), u.target.to_string()))
        .collect();
    let found = coverage_gaps(
        &roster,
        &policy,
        now,
        now.checked_add(COVERAGE_AHEAD)
            .map_err(|_| ApiError::Internal)?,
    );
    let mut schedules: Vec<&str> = found.iter().map(|g| g.schedule.as_str()).collect();
    schedules.dedup();
    let gaps = schedules
        .into_iter()
        .map(|schedule| {
            let mine: Vec<_> = found.iter().filter(|g| g.schedule == schedule).collect();
            Gap {
                schedule: schedule.to_owned(),
                count: mine.len(),
                used_by: mine.first().map_or("", |g| g.used_by.as_str()).to_owned(),
                windows: mine
                    .iter()
                    .take(GAPS_SHOWN)
                    .map(|g| (g.start, g.end))
                    .collect(),
                more: mine.len() > GAPS_SHOWN,
            }
        })
        .collect();
    Ok(AdminPage {
        session,
        notice,
        users: users
            .into_iter()
            .map(|u| {
                let slug = slugged(&u.name);
                (u, slug)
            })
            .collect(),
        tokens: tokens
            .into_iter()
            .map(|t| {
                let slug = slugged(&t.id);
                (t, slug)
            })
            .collect(),
        integrations: integrations
            .into_iter()
            .map(|i| {
                let slug = slugged(&i.id);
                (i, slug)
            })
            .collect(),
        dead_letters,
        dropped,
        sections,
        policy: policy_summary(&policy),
        policy_source: policy.source.clone(),
        unknown,
        gaps,
        unready: crate::routes::oncall::not_ready_now(state).await?,
    })
}

pub(super) async fn show(
    session: Session,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = refuse_non_admin(&session) {
        return refused;
    }
    match body(&state, &session, notice_text(&query)).await {
        Ok(body) => render(StatusCode::OK, "Admin", Some(&session), &body),
        Err(e) => super::error_page(Some(&session), e, "/ui"),
    }
}
