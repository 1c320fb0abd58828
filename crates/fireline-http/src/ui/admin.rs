//! The admin overview (`/ui/admin`, admins only): tokens and integrations (never their
//! secrets), the roster's people, teams and schedules, and the policy in force with what
//! `fireline policy check` would say about it against the roster.

use super::{esc, page, when, Session};
use crate::routes::meta::policy_summary;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use fireline_core::oncall::{coverage_gaps, unknown_targets};
use fireline_core::AccessRole;
use jiff::SignedDuration;

/// How far ahead coverage is checked, as `fireline policy check` does.
const COVERAGE_AHEAD: SignedDuration = SignedDuration::from_hours(24 * 90);
/// At most this many gaps are listed per schedule.
const GAPS_SHOWN: usize = 10;

fn revoked(at: Option<jiff::Timestamp>) -> String {
    at.map_or("no".to_owned(), |t| format!("revoked {}", when(t)))
}

fn names<'a>(entries: impl Iterator<Item = (&'a String, &'a String)>) -> String {
    let items: Vec<String> = entries
        .map(|(id, name)| {
            format!(
                "<li>{} <span class=\"muted\">({})</span></li>",
                esc(name),
                esc(id)
            )
        })
        .collect();
    if items.is_empty() {
        "<p>None.</p>".to_owned()
    } else {
        format!("<ul>{}</ul>", items.concat())
    }
}

async fn body(state: &AppState) -> Result<String, ApiError> {
    let mut out = String::new();
    let tokens = state.store.list_tokens().await?;
    let rows: String = tokens
        .iter()
        .map(|t| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&t.name),
                esc(&t.role.to_string()),
                when(t.created_at),
                revoked(t.revoked_at)
            )
        })
        .collect();
    out.push_str(&format!(
        "<h2>Tokens ({})</h2><div class=\"scroll\"><table><thead><tr><th scope=\"col\">Name</th>\
         <th scope=\"col\">Role</th><th scope=\"col\">Created</th><th scope=\"col\">Revoked</th>\
         </tr></thead><tbody>{rows}</tbody></table></div>",
        tokens.len()
    ));
    let integrations = state.store.list_integrations().await?;
    if integrations.is_empty() {
        out.push_str("<h2>Integrations (0)</h2><p>None.</p>");
    } else {
        let rows: String = integrations
            .iter()
            .map(|i| {
                format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&i.name),
                    esc(&i.service),
                    when(i.created_at),
                    revoked(i.revoked_at)
                )
            })
            .collect();
        out.push_str(&format!(
            "<h2>Integrations ({})</h2><div class=\"scroll\"><table><thead><tr>\
             <th scope=\"col\">Name</th><th scope=\"col\">Service</th>\
             <th scope=\"col\">Created</th><th scope=\"col\">Revoked</th></tr></thead>\
             <tbody>{rows}</tbody></table></div>",
            integrations.len()
        ));
    }
    let roster = state.store.roster().await?;
    out.push_str(&format!(
        "<h2>Roster</h2><h3>People ({})</h3>{}<h3>Teams ({})</h3>{}<h3>Schedules ({})</h3>{}",
        roster.people.len(),
        names(roster.people.iter().map(|(id, p)| (id, &p.name))),
        roster.teams.len(),
        names(roster.teams.iter().map(|(id, t)| (id, &t.name))),
        roster.schedules.len(),
        names(roster.schedules.iter().map(|(id, s)| (id, &s.name))),
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

pub(super) async fn show(session: Session, State(state): State<AppState>) -> Response {
    if !session.caller.role.allows(AccessRole::Admin) {
        return page(
            StatusCode::FORBIDDEN,
            "Not allowed",
            Some(&session),
            "<p class=\"error\" role=\"alert\">Only admins can see this page.</p>",
        );
    }
    match body(&state).await {
        Ok(body) => page(StatusCode::OK, "Admin", Some(&session), &body),
        Err(e) => super::error_page(Some(&session), e, "/ui"),
    }
}
