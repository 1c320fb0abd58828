//! The admin page (`/ui/admin`, admins only): users, tokens and integrations (never their
//! secrets) with the forms that manage them (`admin_actions.rs`), the roster's people,
//! teams and schedules with links to edit them (`roster.rs`), and the policy in force
//! with what `fireline policy check` would say about it against the roster.

use super::{esc, page, url, when, Session};
use crate::routes::meta::policy_summary;
use crate::{ApiError, AppState};
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

/// The 403 page unless the session is an admin's.
pub(super) fn refuse_non_admin(session: &Session) -> Option<Response> {
    if session.caller.role.allows(AccessRole::Admin) {
        return None;
    }
    Some(page(
        StatusCode::FORBIDDEN,
        "Not allowed",
        Some(session),
        "<p class=\"error\" role=\"alert\">Only admins can see or change this.</p>",
    ))
}

/// For every admin POST: the CSRF token first (a forged post learns nothing about the
/// session's role), then the admin role; `None`: go on.
pub(super) fn refuse_admin_post(session: &Session, csrf: Option<&str>) -> Option<Response> {
    session
        .refuse_csrf(csrf)
        .or_else(|| refuse_non_admin(session))
}

/// An error's message for a page, naming the field for bad input ("`role`: …").
pub(super) fn message(error: &ApiError) -> String {
    match error {
        ApiError::Invalid { field, message } if !field.is_empty() => {
            format!("<code>{}</code>: {}", esc(field), esc(message))
        }
        ApiError::BadRequest {
            field: Some(field),
            message,
        } => format!("<code>{}</code>: {}", esc(field), esc(message)),
        other => esc(&other.to_string()),
    }
}

/// A refused action as a page with the error's status: bad input names its field.
pub(super) fn refused(session: &Session, error: ApiError, back: &str) -> Response {
    match &error {
        ApiError::Invalid { .. } | ApiError::BadRequest { .. } => {
            let text = message(&error);
            let status = error.into_response().status();
            page(
                status,
                "Not done",
                Some(session),
                &format!(
                    "<p class=\"error\" role=\"alert\">{text}</p><p>Nothing was changed. \
                     <a href=\"{}\">Back</a></p>",
                    esc(back)
                ),
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
        Some("entry-saved") => "Roster entry saved.",
        Some("entry-deleted") => "Roster entry deleted.",
        Some("override-added") => "Override added.",
        Some("override-removed") => "Override removed.",
        _ => return None,
    })
}

/// The confirmation as HTML (for pages not yet templated).
pub(super) fn notice(query: &HashMap<String, String>) -> String {
    notice_text(query).map_or(String::new(), |text| {
        format!("<p class=\"notice\" role=\"status\">{text}</p>")
    })
}

/// A `<select name="role">` of the access roles.
pub(super) fn role_select(id: &str) -> String {
    format!(
        "<select id=\"{id}\" name=\"role\"><option value=\"viewer\">viewer (reads)</option>\
         <option value=\"responder\" selected>responder (acts on incidents)</option>\
         <option value=\"admin\">admin (administers)</option></select>"
    )
}

fn revoked(at: Option<jiff::Timestamp>) -> String {
    at.map_or("no".to_owned(), |t| format!("revoked {}", when(t)))
}

/// One roster section's entries, each linked to its editor, and the form to add one.
fn section(key: &str, noun: &str, entries: &[(&String, &String)], session: &Session) -> String {
    let items: Vec<String> = entries
        .iter()
        .map(|(id, name)| {
            format!(
                "<li><a href=\"/ui/admin/roster/{key}/{}\">{}</a> <span class=\"muted\">({})</span></li>",
                esc(&url(id)),
                esc(name),
                esc(id)
            )
        })
        .collect();
    let list = if items.is_empty() {
        "<p>None.</p>".to_owned()
    } else {
        format!("<ul>{}</ul>", items.concat())
    };
    format!(
        "{list}<details><summary>Add a {noun}</summary>{}</details>",
        super::roster::add_form(key, noun, "", "", session)
    )
}

fn users_section(users: &[fireline_store::UserRecord], session: &Session) -> String {
    let csrf = session.csrf_field();
    let rows: String = users
        .iter()
        .map(|u| {
            let name = esc(&url(&u.name));
            let (state, flip, label) = match u.disabled_at {
                Some(at) => (format!("disabled {}", when(at)), "false", "Enable"),
                None => ("enabled".to_owned(), "true", "Disable"),
            };
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>set {}</td><td>{state}</td><td>\
                 <form method=\"post\" action=\"/ui/admin/users/{name}/disabled\">{csrf}\
                 <input type=\"hidden\" name=\"disabled\" value=\"{flip}\">\
                 <button type=\"submit\">{label}</button></form>\
                 <details><summary>Set a new password</summary>\
                 <form class=\"stack\" method=\"post\" action=\"/ui/admin/users/{name}/password\">{csrf}\
                 <label for=\"pw-{name}\">New password</label>\
                 <input id=\"pw-{name}\" name=\"password\" type=\"password\" autocomplete=\"new-password\" required>\
                 <label for=\"pc-{name}\">Again</label>\
                 <input id=\"pc-{name}\" name=\"confirm\" type=\"password\" autocomplete=\"new-password\" required>\
                 <button type=\"submit\">Set password</button></form></details></td></tr>",
                esc(&u.name),
                esc(&u.role.to_string()),
                when(u.created_at),
                when(u.password_changed_at),
            )
        })
        .collect();
    let table = if users.is_empty() {
        "<p>None: people sign in with tokens only.</p>".to_owned()
    } else {
        format!(
            "<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Name</th>\
             <th scope=\"col\">Role</th><th scope=\"col\">Created</th>\
             <th scope=\"col\">Password</th><th scope=\"col\">State</th>\
             <th scope=\"col\">Actions</th></tr></thead><tbody>{rows}</tbody></table></div>"
        )
    };
    format!(
        "<h2 id=\"users\">Users ({})</h2>{table}<details><summary>Add a user</summary>\
         <form class=\"stack\" method=\"post\" action=\"/ui/admin/users\">{csrf}\
         <label for=\"user-name\">Username</label>\
         <input id=\"user-name\" name=\"name\" required autocomplete=\"off\">\
         <p class=\"hint\">a-z, 0-9, '.', '_' and '-'; use the person's roster id so \
         \"My shifts\" works.</p>\
         <label for=\"user-role\">Role</label>{}\
         <label for=\"user-password\">Password</label>\
         <input id=\"user-password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" required>\
         <label for=\"user-confirm\">Password again</label>\
         <input id=\"user-confirm\" name=\"confirm\" type=\"password\" autocomplete=\"new-password\" required>\
         <button type=\"submit\">Create user</button></form></details>",
        users.len(),
        role_select("user-role"),
    )
}

fn tokens_section(tokens: &[fireline_store::TokenRecord], session: &Session) -> String {
    let csrf = session.csrf_field();
    let rows: String = tokens
        .iter()
        .map(|t| {
            let action = if t.revoked_at.is_none() {
                format!(
                    "<form method=\"post\" action=\"/ui/admin/tokens/{}/revoke\">{csrf}\
                     <button type=\"submit\">Revoke</button></form>",
                    esc(&url(&t.id))
                )
            } else {
                String::new()
            };
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
                esc(&t.name),
                esc(&t.role.to_string()),
                when(t.created_at),
                revoked(t.revoked_at)
            )
        })
        .collect();
    format!(
        "<h2 id=\"tokens\">Tokens ({})</h2><div class=\"scroll\"><table><thead><tr><th scope=\"col\">Name</th>\
         <th scope=\"col\">Role</th><th scope=\"col\">Created</th><th scope=\"col\">Revoked</th>\
         <th scope=\"col\">Actions</th></tr></thead><tbody>{rows}</tbody></table></div>\
         <details><summary>Create a token</summary>\
         <form class=\"stack\" method=\"post\" action=\"/ui/admin/tokens\">{csrf}\
         <label for=\"token-name\">Name</label>\
         <input id=\"token-name\" name=\"name\" autocomplete=\"off\">\
         <p class=\"hint\">Who or what uses it (recorded as the actor); empty: the token's id.</p>\
         <label for=\"token-role\">Role</label>{}\
         <button type=\"submit\">Create token</button></form></details>",
        tokens.len(),
        role_select("token-role"),
    )
}

fn integrations_section(
    integrations: &[fireline_store::IntegrationRecord],
    session: &Session,
) -> String {
    let csrf = session.csrf_field();
    let table = if integrations.is_empty() {
        "<p>None.</p>".to_owned()
    } else {
        let rows: String = integrations
            .iter()
            .map(|i| {
                let action = if i.revoked_at.is_none() {
                    format!(
                        "<form method=\"post\" action=\"/ui/admin/integrations/{}/revoke\">{csrf}\
                         <button type=\"submit\">Revoke</button></form>",
                        esc(&url(&i.id))
                    )
                } else {
                    String::new()
                };
                format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
                    esc(&i.name),
                    esc(&i.service),
                    when(i.created_at),
                    revoked(i.revoked_at)
                )
            })
            .collect();
        format!(
            "<div class=\"scroll\"><table><thead><tr>\
             <th scope=\"col\">Name</th><th scope=\"col\">Service</th>\
             <th scope=\"col\">Created</th><th scope=\"col\">Revoked</th>\
             <th scope=\"col\">Actions</th></tr></thead><tbody>{rows}</tbody></table></div>"
        )
    };
    format!(
        "<h2 id=\"integrations\">Integrations ({})</h2>{table}\
         <details><summary>Create an integration</summary>\
         <form class=\"stack\" method=\"post\" action=\"/ui/admin/integrations\">{csrf}\
         <label for=\"integration-service\">Service</label>\
         <input id=\"integration-service\" name=\"service\" required autocomplete=\"off\">\
         <p class=\"hint\">The service its alerts' incidents are for.</p>\
         <label for=\"integration-name\">Name</label>\
         <input id=\"integration-name\" name=\"name\" autocomplete=\"off\">\
         <p class=\"hint\">Which monitoring sends with it; empty: the service.</p>\
         <button type=\"submit\">Create integration</button></form></details>",
        integrations.len()
    )
}

async fn body(state: &AppState, session: &Session) -> Result<String, ApiError> {
    let mut out = String::new();
    out.push_str(&users_section(&state.store.list_users().await?, session));
    out.push_str(&tokens_section(&state.store.list_tokens().await?, session));
    out.push_str(&integrations_section(
        &state.store.list_integrations().await?,
        session,
    ));
    let roster = state.store.roster().await?;
    let people: Vec<_> = roster.people.iter().map(|(id, p)| (id, &p.name)).collect();
    let teams: Vec<_> = roster.teams.iter().map(|(id, t)| (id, &t.name)).collect();
    let schedules: Vec<_> = roster
        .schedules
        .iter()
        .map(|(id, s)| (id, &s.name))
        .collect();
    out.push_str(&format!(
        "<h2 id=\"roster\">Roster</h2><p class=\"hint\">Each entry is edited as the TOML under its \
         <code>[people.ID]</code>, <code>[teams.ID]</code> or <code>[schedules.ID]</code> in a \
         roster file (docs/oncall.md); every change is checked against the whole roster first.</p>\
         <h3>People ({})</h3>{}<h3>Teams ({})</h3>{}<h3>Schedules ({})</h3>{}",
        people.len(),
        section("people", "person", &people, session),
        teams.len(),
        section("teams", "team", &teams, session),
        schedules.len(),
        section("schedules", "schedule", &schedules, session),
    ));
    let policy = state.policy.current();
    let summary = policy_summary(&policy);
    let levels: String = summary
        .escalation
        .iter()
        .map(|l| {
            format!(
                "<li>Level {}: {} → {}</li>",
                l.level,
                esc(&l.name),
                esc(&l.targets.join(", "))
            )
        })
        .collect();
    out.push_str(&format!(
        "<h2>Policy</h2><dl><dt>In force</dt><dd><code>{}</code></dd>\
         <dt>Description</dt><dd>{}</dd><dt>Severities</dt><dd>{}</dd>\
         <dt>Categories</dt><dd>{}</dd></dl><h3>Escalation levels</h3><ol class=\"plain\">{levels}</ol>",
        esc(&summary.label),
        esc(&summary.description),
        esc(&summary.severities.join(", ")),
        esc(&summary.categories.join(", ")),
    ));
    // The policy itself passed its checks when it was loaded; what can go wrong since is
    // the roster: targets it lacks and hours nobody covers.
    let now = state.clock.now();
    let mut problems: Vec<String> = unknown_targets(&roster, &policy)
        .iter()
        .map(|u| {
            format!(
                "{}: target <code>{}</code> is not in the roster",
                esc(&u.used_by),
                esc(&u.target.to_string())
            )
        })
        .collect();
    let gaps = coverage_gaps(
        &roster,
        &policy,
        now,
        now.checked_add(COVERAGE_AHEAD)
            .map_err(|_| ApiError::Internal)?,
    );
    let mut schedules: Vec<&str> = gaps.iter().map(|g| g.schedule.as_str()).collect();
    schedules.dedup();
    for schedule in schedules {
        let mine: Vec<_> = gaps.iter().filter(|g| g.schedule == schedule).collect();
        let windows: Vec<String> = mine
            .iter()
            .take(GAPS_SHOWN)
            .map(|g| format!("{} – {}", when(g.start), when(g.end)))
            .collect();
        problems.push(format!(
            "schedules.{}: nobody on call in {} window{} of the next 90 days, but the policy \
             pages it ({}): {}{}",
            esc(schedule),
            mine.len(),
            if mine.len() == 1 { "" } else { "s" },
            esc(mine.first().map_or("", |g| g.used_by.as_str())),
            windows.join("; "),
            if mine.len() > GAPS_SHOWN { "; …" } else { "" }
        ));
    }
    out.push_str("<h3>Problems</h3>");
    if problems.is_empty() {
        out.push_str("<p>None: the policy is valid and the roster covers what it pages.</p>");
    } else {
        out.push_str(&format!(
            "<ul>{}</ul>",
            problems
                .iter()
                .map(|p| format!("<li>{p}</li>"))
                .collect::<String>()
        ));
    }
    Ok(out)
}

pub(super) async fn show(
    session: Session,
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = refuse_non_admin(&session) {
        return refused;
    }
    match body(&state, &session).await {
        Ok(body) => page(
            StatusCode::OK,
            "Admin",
            Some(&session),
            &format!("{}{body}", notice(&query)),
        ),
        Err(e) => super::error_page(Some(&session), e, "/ui"),
    }
}
