//! Editing the roster from the admin page (`/ui/admin/roster/{section}/…`, admins only):
//! each person, team or schedule is a TOML snippet, the table body under `[people.ID]`
//! (docs/oncall.md), parsed into the core types and stored through the same
//! check-then-store path as the JSON API (`routes::oncall::put_entry`/`delete_entry`).

use super::admin::{message, notice, refuse_admin_post, refuse_non_admin, refused};
use super::{esc, form, page, url, Session};
use crate::routes::oncall::{delete_entry, keep_secrets, put_entry, same_id, to_json, Section};
use crate::wire::MASKED_SECRET;
use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use fireline_core::oncall::{Person, Schedule, Team};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;

/// The section a path names (`people`, `teams`, `schedules`).
fn section(key: &str) -> Option<Section> {
    match key {
        "people" => Some(Section::People),
        "teams" => Some(Section::Teams),
        "schedules" => Some(Section::Schedules),
        _ => None,
    }
}

fn no_section(session: &Session) -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Not found",
        Some(session),
        "<p class=\"error\" role=\"alert\">The roster has people, teams and schedules only.</p>",
    )
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "roster entry does not fit TOML");
    ApiError::Internal
}

/// An entry as the TOML body under its `[section.ID]` header: without its `id` (the
/// header names it), and with webhook secrets masked as the API shows them (saving the
/// mask back keeps the stored secret).
fn entry_toml<T: Serialize>(value: &T) -> Result<String, ApiError> {
    let mut table = toml::Table::try_from(value).map_err(internal)?;
    table.remove("id");
    toml::to_string(&table).map_err(internal)
}

/// Reads an entry's TOML; a syntax or shape error names its line and column.
fn parse<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    toml::from_str(text).map_err(|e: toml::de::Error| {
        let location = e.span().map_or_else(String::new, |span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: ")
        });
        ApiError::invalid("toml", format!("{location}{}", e.message()))
    })
}

/// The form that adds an entry (`id` and `text` refill it after a refusal).
pub(super) fn add_form(key: &str, noun: &str, id: &str, text: &str, session: &Session) -> String {
    let example = match key {
        "people" => "name = \"Alice Ng\"\ntime_zone = \"Europe/Berlin\"\ncontacts = [{ kind = \"email\", address = \"alice@example.com\" }]",
        "teams" => "name = \"SRE\"\nmembers = [\"alice\", \"bob\"]\nschedule = \"sre-primary\"",
        _ => "name = \"SRE primary\"\ntime_zone = \"UTC\"\n\n[[layers]]\nname = \"weekly\"\nparticipants = [\"alice\", \"bob\"]\nshift = \"1w\"\nhandoff = \"09:00\"\nstart = \"2026-01-05\"",
    };
    format!(
        "<form class=\"stack wide\" method=\"post\" action=\"/ui/admin/roster/{key}\">{csrf}\
         <label for=\"add-{key}-id\">Id</label>\
         <input id=\"add-{key}-id\" name=\"id\" value=\"{id}\" required autocomplete=\"off\">\
         <label for=\"add-{key}-toml\">The {noun} (TOML)</label>\
         <textarea id=\"add-{key}-toml\" name=\"toml\" rows=\"8\" placeholder=\"{example}\">{text}</textarea>\
         <p class=\"hint\">The lines under <code>[{key}.ID]</code> in a roster file, e.g.<br>\
         <code class=\"pre\">{example}</code></p>\
         <button type=\"submit\">Add {noun}</button></form>",
        csrf = session.csrf_field(),
        id = esc(id),
        text = esc(text),
        example = esc(example),
    )
}

/// The editor of one stored entry, with its delete button.
fn edit_form(section: Section, id: &str, text: &str, session: &Session) -> String {
    let key = section.key();
    let noun = section.noun();
    let path = format!("/ui/admin/roster/{key}/{}", url(id));
    format!(
        "<form class=\"stack wide\" method=\"post\" action=\"{path}\">{csrf}\
         <label for=\"edit-toml\">[{key}.{id}]</label>\
         <textarea id=\"edit-toml\" name=\"toml\" rows=\"16\">{text}</textarea>\
         <p class=\"hint\">The lines under <code>[{key}.{id}]</code> in a roster file \
         (docs/oncall.md). Webhook secrets read <code>{MASKED_SECRET}</code>: leave them so to \
         keep the stored secret. The whole roster is checked before anything is stored.</p>\
         <button type=\"submit\">Save {noun}</button></form>\
         <form method=\"post\" action=\"{path}/delete\">{csrf}\
         <button type=\"submit\">Delete {noun} {id}</button></form>\
         <p><a href=\"/ui/admin#roster\">Back to admin</a></p>",
        path = esc(&path),
        csrf = session.csrf_field(),
        id = esc(id),
        text = esc(text),
    )
}

/// A refused save: the problem (naming the field or TOML location) above the editor,
/// which keeps what was typed.
fn refused_edit(session: &Session, error: ApiError, editor: String) -> Response {
    let text = message(&error);
    let status = error.into_response().status();
    page(
        status,
        "Not saved",
        Some(session),
        &format!("<p class=\"error\" role=\"alert\">{text}</p><p>Nothing was changed.</p>{editor}"),
    )
}

/// The stored entry's TOML, or 404.
async fn stored_toml(state: &AppState, section: Section, id: &str) -> Result<String, ApiError> {
    let roster = state.store.roster().await?;
    let missing = || ApiError::NotFound(format!("no {} `{id}` in the roster", section.noun()));
    match section {
        Section::People => {
            let mut person = roster.people.get(id).cloned().ok_or_else(missing)?;
            for contact in &mut person.contacts {
                if contact.secret.is_some() {
                    contact.secret = Some(MASKED_SECRET.to_owned());
                }
            }
            entry_toml(&person)
        }
        Section::Teams => entry_toml(roster.teams.get(id).ok_or_else(missing)?),
        Section::Schedules => entry_toml(roster.schedules.get(id).ok_or_else(missing)?),
    }
}

/// Parses `text` as one entry and stores it as `id`, as `PUT /api/v1/{section}/{id}` does.
async fn store_entry(
    state: &AppState,
    section: Section,
    id: &str,
    text: &str,
) -> Result<(), ApiError> {
    match section {
        Section::People => {
            let mut person: Person = parse(text)?;
            same_id(section, id, &mut person.id)?;
            let stored = state.store.roster().await?;
            keep_secrets(&mut person, stored.people.get(id), "")?;
            let doc = to_json(&person)?;
            put_entry(state, section, id, doc, |r| {
                r.people.insert(id.to_owned(), person);
            })
            .await
        }
        Section::Teams => {
            let mut team: Team = parse(text)?;
            same_id(section, id, &mut team.id)?;
            let doc = to_json(&team)?;
            put_entry(state, section, id, doc, |r| {
                r.teams.insert(id.to_owned(), team);
            })
            .await
        }
        Section::Schedules => {
            let mut schedule: Schedule = parse(text)?;
            same_id(section, id, &mut schedule.id)?;
            save_schedule(state, schedule).await
        }
    }
}

/// Stores a changed schedule through the API's check-then-store path (the overrides
/// forms on the on-call page use it too).
pub(super) async fn save_schedule(state: &AppState, schedule: Schedule) -> Result<(), ApiError> {
    let id = schedule.id.clone();
    let doc = to_json(&schedule)?;
    put_entry(state, Section::Schedules, &id, doc, |r| {
        r.schedules.insert(id.clone(), schedule);
    })
    .await
}

/// `GET /ui/admin/roster/{section}/{id}`: the entry's editor.
pub(super) async fn edit(
    session: Session,
    State(state): State<AppState>,
    Path((key, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = refuse_non_admin(&session) {
        return refused;
    }
    let Some(section) = section(&key) else {
        return no_section(&session);
    };
    match stored_toml(&state, section, &id).await {
        Ok(text) => page(
            StatusCode::OK,
            &format!("Edit {} {id}", section.noun()),
            Some(&session),
            &format!(
                "{}{}",
                notice(&query),
                edit_form(section, &id, &text, &session)
            ),
        ),
        Err(e) => super::error_page(Some(&session), e, "/ui/admin#roster"),
    }
}

/// `POST /ui/admin/roster/{section}/{id}`: saves the edited entry.
pub(super) async fn save(
    session: Session,
    State(state): State<AppState>,
    Path((key, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let fields = form(&body);
    if let Some(refused) = refuse_admin_post(&session, fields.get("csrf").map(String::as_str)) {
        return refused;
    }
    let Some(section) = section(&key) else {
        return no_section(&session);
    };
    let text = fields.get("toml").map_or("", String::as_str);
    match store_entry(&state, section, &id, text).await {
        Ok(()) => Redirect::to(&format!(
            "/ui/admin/roster/{key}/{}?done=entry-saved",
            url(&id)
        ))
        .into_response(),
        Err(e) => {
            let editor = edit_form(section, &id, text, &session);
            refused_edit(&session, e, editor)
        }
    }
}

/// `POST /ui/admin/roster/{section}`: adds an entry (`id`, `toml`); an id in use is
/// refused, so adding never replaces by accident.
pub(super) async fn add(
    session: Session,
    State(state): State<AppState>,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
    let fields = form(&body);
    if let Some(refused) = refuse_admin_post(&session, fields.get("csrf").map(String::as_str)) {
        return refused;
    }
    let Some(section) = section(&key) else {
        return no_section(&session);
    };
    let id = fields.get("id").map_or("", |v| v.trim());
    let text = fields.get("toml").map_or("", String::as_str);
    let done = async {
        if id.is_empty() {
            return Err(ApiError::invalid("id", "give the new entry an id"));
        }
        let roster = state.store.roster().await?;
        let taken = match section {
            Section::People => roster.people.contains_key(id),
            Section::Teams => roster.teams.contains_key(id),
            Section::Schedules => roster.schedules.contains_key(id),
        };
        if taken {
            return Err(ApiError::Conflict(format!(
                "a {} `{id}` already exists; edit it instead",
                section.noun()
            )));
        }
        store_entry(&state, section, id, text).await
    }
    .await;
    match done {
        Ok(()) => Redirect::to(&format!(
            "/ui/admin/roster/{key}/{}?done=entry-saved",
            url(id)
        ))
        .into_response(),
        Err(e) => {
            let editor = add_form(section.key(), section.noun(), id, text, &session);
            refused_edit(&session, e, editor)
        }
    }
}

/// `POST /ui/admin/roster/{section}/{id}/delete`: removes an entry unless something
/// still refers to it (409, naming where), as `DELETE /api/v1/{section}/{id}` does.
pub(super) async fn delete(
    session: Session,
    State(state): State<AppState>,
    Path((key, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let fields = form(&body);
    if let Some(refused) = refuse_admin_post(&session, fields.get("csrf").map(String::as_str)) {
        return refused;
    }
    let Some(section) = section(&key) else {
        return no_section(&session);
    };
    let done = delete_entry(&state, section, &id, |r| match section {
        Section::People => r.people.remove(&id).is_some(),
        Section::Teams => r.teams.remove(&id).is_some(),
        Section::Schedules => r.schedules.remove(&id).is_some(),
    })
    .await;
    match done {
        Ok(()) => Redirect::to("/ui/admin?done=entry-deleted#roster").into_response(),
        Err(e) => refused(&session, e, &format!("/ui/admin/roster/{key}/{}", url(&id))),
    }
}
