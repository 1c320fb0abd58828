//! Editing the roster from the admin page (`/ui/admin/roster/{section}/…`, admins only):
//! each person, team or schedule is a TOML snippet, the table body under `[people.ID]`
//! (docs/oncall.md), parsed into the core types and stored through the same
//! check-then-store path as the JSON API (`routes::oncall::put_entry`/`delete_entry`).

use super::admin::{message, notice_text, refuse_admin_post, refuse_non_admin, refused};
use super::{form, render, url, Message, Session};
use crate::routes::oncall::{
    check_destinations, delete_entry, keep_secrets, put_entry, same_id, to_json, Section,
};
use crate::wire::MASKED_SECRET;
use crate::{ApiError, AppState};
use askama::Template;
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
    render(
        StatusCode::NOT_FOUND,
        "Not found",
        Some(session),
        &Message::alert("The roster has people, teams and schedules only."),
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

/// The form that adds an entry (the `add_entry` macro; `id` and `text` refill it after a
/// refusal).
pub(super) struct AddEntry {
    /// The section (`people`).
    pub key: &'static str,
    /// What an entry is (`person`).
    pub noun: &'static str,
    /// The id typed.
    pub id: String,
    /// The TOML typed.
    pub text: String,
    /// An example entry.
    pub example: &'static str,
}

impl AddEntry {
    /// The form for section `key` (`people`), whose entries are `noun`s (`person`).
    pub(super) fn new(key: &'static str, noun: &'static str, id: &str, text: &str) -> AddEntry {
        let example = match key {
            "people" => "name = \"Alice Ng\"\ntime_zone = \"Europe/Berlin\"\ncontacts = [{ kind = \"email\", address = \"alice@example.com\" }]",
            "teams" => "name = \"SRE\"\nmembers = [\"alice\", \"bob\"]\nschedule = \"sre-primary\"",
            _ => "name = \"SRE primary\"\ntime_zone = \"UTC\"\n\n[[layers]]\nname = \"weekly\"\nparticipants = [\"alice\", \"bob\"]\nshift = \"1w\"\nhandoff = \"09:00\"\nstart = \"2026-01-05\"",
        };
        AddEntry {
            key,
            noun,
            id: id.to_owned(),
            text: text.to_owned(),
            example,
        }
    }
}

/// The editor of one stored entry, with its delete button.
struct EditEntry {
    key: &'static str,
    noun: &'static str,
    id: String,
    text: String,
    path: String,
}

fn edit_form(section: Section, id: &str, text: &str) -> EditEntry {
    EditEntry {
        key: section.key(),
        noun: section.noun(),
        id: id.to_owned(),
        text: text.to_owned(),
        path: format!("/ui/admin/roster/{}/{}", section.key(), url(id)),
    }
}

/// A roster entry's page: the editor or the add form, after a confirmation or above a
/// refusal (naming the field or TOML location; the form keeps what was typed).
#[derive(Template)]
#[template(path = "ui/roster.html")]
struct RosterPage<'a> {
    session: &'a Session,
    notice: Option<&'static str>,
    error: Option<(Option<String>, String)>,
    add: Option<AddEntry>,
    edit: Option<EditEntry>,
    masked: &'static str,
}

impl<'a> RosterPage<'a> {
    fn new(session: &'a Session) -> Self {
        RosterPage {
            session,
            notice: None,
            error: None,
            add: None,
            edit: None,
            masked: MASKED_SECRET,
        }
    }
}

/// A refused save: the problem above the editor, which keeps what was typed.
fn refused_edit(error: ApiError, mut page: RosterPage<'_>) -> Response {
    page.error = Some(message(&error));
    let status = error.into_response().status();
    render(status, "Not saved", Some(page.session), &page)
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
            check_destinations(&person, &state.outbound, "")?;
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
        Ok(text) => render(
            StatusCode::OK,
            &format!("Edit {} {id}", section.noun()),
            Some(&session),
            &RosterPage {
                notice: notice_text(&query),
                edit: Some(edit_form(section, &id, &text)),
                ..RosterPage::new(&session)
            },
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
            let editor = RosterPage {
                edit: Some(edit_form(section, &id, text)),
                ..RosterPage::new(&session)
            };
            refused_edit(e, editor)
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
            let editor = RosterPage {
                add: Some(AddEntry::new(section.key(), section.noun(), id, text)),
                ..RosterPage::new(&session)
            };
            refused_edit(e, editor)
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
