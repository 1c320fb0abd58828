//! What a Slack app sends: `POST /hooks/slack/commands`, the `/fireline` slash command,
//! and `POST /hooks/slack/interactions`, a click on a button of a message fireline
//! posted (docs/chat.md). Not for browsers, and not in the OpenAPI document (like
//! Twilio's requests).
//!
//! Both are refused (403) unless signed with the app's signing secret within the last
//! five minutes ([`fireline_notify::verify_slack_signature`]). The Slack user is the
//! roster person whose `slack_user` is their member id; anyone else gets an answer only
//! they see and changes nothing. Every change goes through the one command path
//! ([`fireline_engine::Commands`]) as that person, so it lands on the timeline with
//! their name, exactly as if they had used the API.

use super::incidents::{escalate_now, update_text};
use crate::auth::Caller;
use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use fireline_core::oncall::{ContactKind, Person, Roster};
use fireline_core::{AccessRole, Channel, Command, Declaration, IncidentId};
use fireline_notify::escape_mrkdwn;
use fireline_store::IncidentFilter;
use serde_json::{json, Value};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/hooks/slack/commands", post(command))
        .route("/hooks/slack/interactions", post(interaction))
}

use fireline_notify::{
    SLACK_ACKNOWLEDGE as ACKNOWLEDGE, SLACK_ESCALATE as ESCALATE, SLACK_NOTE as NOTE,
    SLACK_RESOLVE as RESOLVE,
};

const USAGE: &str = "*/fireline* commands:\n\
    • `ack [INC-7]`: acknowledge (alone: your latest page)\n\
    • `resolve INC-7 [summary]`\n\
    • `escalate INC-7 [why]`: page the next escalation level now\n\
    • `note INC-7 text`: add a note to the timeline\n\
    • `update INC-7 [internal|customer|status_page] text`: post an update (internal if not said)\n\
    • `status [INC-7]`: one incident, or every open one\n\
    • `declare SEV1 service title`: declare an incident\n\
    • `oncall`: who is on call now";

/// The request's form, if Slack signed it; otherwise the 403 to answer.
fn verified(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Vec<(String, String)>, &'static str> {
    let Some(app) = &state.slack else {
        return Err("Slack is not configured here: set [slack] signing_secret");
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Err(why) = fireline_notify::verify_slack_signature(
        app.signing_secret(),
        header(fireline_notify::SLACK_TIMESTAMP_HEADER),
        header(fireline_notify::SLACK_SIGNATURE_HEADER),
        body,
        state.clock.now(),
    ) {
        tracing::info!(reason = %why, "a Slack request was refused");
        return Err("not signed by this server's Slack app: refused");
    }
    Ok(form_urlencoded::parse(body).into_owned().collect())
}

fn forbidden(why: &'static str) -> Response {
    (StatusCode::FORBIDDEN, why).into_response()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// An answer only the person who asked sees.
fn private(text: impl Into<String>) -> Value {
    json!({ "response_type": "ephemeral", "text": text.into() })
}

/// An answer the whole channel sees (with the command that asked for it).
fn public(text: impl Into<String>) -> Value {
    json!({ "response_type": "in_channel", "text": text.into() })
}

/// The roster person a Slack member is: by `slack_user`, else (with the bot token's Web
/// API) by the e-mail address Slack shows for them, matched to a person's e-mail
/// contact. A Web API that cannot answer links nobody.
async fn person_for<'a>(state: &AppState, roster: &'a Roster, user: &str) -> Option<&'a Person> {
    if let Some(person) = roster
        .people
        .values()
        .find(|p| p.slack_user.as_deref() == Some(user))
    {
        return Some(person);
    }
    let directory = state.slack.as_ref()?.web_api()?;
    let member = user.to_owned();
    let email = tokio::task::spawn_blocking(move || directory.email_of(&member))
        .await
        .ok()?;
    let email = match email {
        Ok(email) => email?,
        Err(e) => {
            tracing::warn!(error = %e, "could not look a Slack member up");
            return None;
        }
    };
    let mut matching = roster.people.values().filter(|p| {
        p.contacts
            .iter()
            .any(|c| c.kind == ContactKind::Email && c.address.trim().eq_ignore_ascii_case(&email))
    });
    // Two people with one address cannot tell who is asking.
    match (matching.next(), matching.next()) {
        (Some(person), None) => Some(person),
        _ => None,
    }
}

fn unmapped(user: &str) -> String {
    format!(
        "Your Slack account ({}) is not linked to anyone in fireline's roster, so nothing \
         was done. Ask an admin to add `slack_user = \"{}\"` to your person in the roster.",
        escape_mrkdwn(user),
        escape_mrkdwn(user)
    )
}

/// The caller a Slack member acts as: the person, with a responder's rights (the roster
/// lists the people who respond).
fn caller(person: &Person) -> Caller {
    Caller {
        name: person.id.clone(),
        role: AccessRole::Responder,
        token_id: format!("slack:{}", person.id),
    }
}

/// `/fireline …`: answered at once in the HTTP response, as Slack expects within three
/// seconds.
async fn command(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let params = match verified(&state, &headers, &body) {
        Ok(params) => params,
        Err(why) => return forbidden(why),
    };
    let user = param(&params, "user_id").unwrap_or_default();
    let text = param(&params, "text").unwrap_or_default().trim();
    if text.is_empty() || text.eq_ignore_ascii_case("help") {
        return Json(private(USAGE)).into_response();
    }
    let roster = match state.store.roster().await {
        Ok(roster) => roster,
        Err(e) => return Json(private(trouble(&e.into()))).into_response(),
    };
    let Some(person) = person_for(&state, &roster, user).await else {
        return Json(private(unmapped(user))).into_response();
    };
    let answer = match run(&state, &roster, person, text).await {
        Ok(answer) => answer,
        Err(e) => private(trouble(&e)),
    };
    Json(answer).into_response()
}

/// One sub-command as `person`.
async fn run(
    state: &AppState,
    roster: &Roster,
    person: &Person,
    text: &str,
) -> Result<Value, ApiError> {
    let (verb, rest) = split_word(text);
    let who = caller(person);
    let name = escape_mrkdwn(&person.name);
    match verb.to_ascii_lowercase().as_str() {
        "ack" | "acknowledge" => {
            let id = match incident_arg(rest)?.0 {
                Some(id) => id,
                None => super::twilio::latest_page(state, &person.id)
                    .await?
                    .ok_or_else(|| {
                        ApiError::NotFound(
                            "no open page of yours to acknowledge; say which: `/fireline ack INC-7`"
                                .to_owned(),
                        )
                    })?,
            };
            act(state, &who, id, Command::Acknowledge).await?;
            Ok(public(format!("{name} acknowledged {id}.")))
        }
        "resolve" => {
            let (id, summary) = required_incident(rest)?;
            act(
                state,
                &who,
                id,
                Command::Resolve {
                    summary: non_empty(summary),
                },
            )
            .await?;
            Ok(public(format!("{name} resolved {id}.")))
        }
        "note" => {
            let (id, note) = required_incident(rest)?;
            let text = non_empty(note).ok_or_else(|| {
                ApiError::invalid("text", "say what to note: `/fireline note INC-7 text`")
            })?;
            act(state, &who, id, Command::AddNote { text }).await?;
            Ok(private(format!("Noted on {id}.")))
        }
        "update" => post_update(state, &who, rest).await,
        "escalate" => {
            let (id, why) = required_incident(rest)?;
            let level = escalate(state, &who, id, non_empty(why).as_deref()).await?;
            Ok(public(format!("{name} escalated {id} to level {level}.")))
        }
        "status" => status(state, rest).await.map(private),
        "oncall" | "on-call" => Ok(private(on_call(state, roster))),
        "declare" => declare(state, &who, rest).await.map(public),
        _ => Ok(private(format!(
            "I do not know `{}`.\n{USAGE}",
            escape_mrkdwn(verb)
        ))),
    }
}

/// `update INC-7 [channel] text`.
async fn post_update(state: &AppState, who: &Caller, rest: &str) -> Result<Value, ApiError> {
    let (id, rest) = required_incident(rest)?;
    let (first, after) = split_word(rest);
    let (channel, text) = match first.parse::<Channel>() {
        Ok(channel) => (channel, after),
        Err(_) => (Channel::Internal, rest),
    };
    if text.trim().is_empty() {
        return Err(ApiError::invalid(
            "text",
            "say what to post: `/fireline update INC-7 [internal|customer|status_page] text`",
        ));
    }
    let (current, _) = super::incidents::load(state, id).await?;
    let policy = state.policy.current();
    let (text, warnings) = update_text(
        &policy,
        &current,
        channel,
        None,
        text.trim(),
        &Default::default(),
        state.clock.now(),
    )?;
    act(
        state,
        who,
        id,
        Command::PostUpdate {
            channel,
            text: text.clone(),
        },
    )
    .await?;
    let mut answer = format!("Posted on {channel} for {id}:\n>{}", escape_mrkdwn(&text));
    for warning in warnings {
        answer.push_str(&format!("\n:warning: {}", escape_mrkdwn(&warning)));
    }
    Ok(public(answer))
}

/// Escalates `id` to the next level; the level it went to.
async fn escalate(
    state: &AppState,
    who: &Caller,
    id: IncidentId,
    why: Option<&str>,
) -> Result<u32, ApiError> {
    let (_, events) = super::incidents::load(state, id).await?;
    let policy = state.policy.current();
    let level = fireline_core::plan::next_escalation_level(&policy, &events)
        .ok_or_else(|| ApiError::invalid("level", "the policy has no escalation levels to page"))?;
    // The incident after it is the API's answer; here the level is the news.
    let _ = escalate_now(state, who, id, None, level, why).await?;
    Ok(level)
}

/// `declare SEV1 service title…`.
async fn declare(state: &AppState, who: &Caller, rest: &str) -> Result<String, ApiError> {
    let (severity, rest) = split_word(rest);
    let (service, title) = split_word(rest);
    if title.trim().is_empty() {
        return Err(ApiError::invalid(
            "title",
            "say the severity, the service and a title: `/fireline declare SEV1 checkout Card payments fail`",
        ));
    }
    let applied = state
        .commands
        .declare(
            &Declaration {
                title: title.trim().to_owned(),
                severity: severity.to_owned(),
                service: service.to_owned(),
                summary: None,
                category: None,
                flags: Vec::new(),
            },
            &who.name,
        )
        .await?;
    let incident = &applied.incident;
    Ok(format!(
        "{} declared {} [{}] {} ({}): {}",
        escape_mrkdwn(&who.name),
        incident.id,
        escape_mrkdwn(&incident.severity),
        escape_mrkdwn(&incident.title),
        escape_mrkdwn(&incident.service),
        state.pager.links().incident_url(incident.id)
    ))
}

/// One incident in a line or two, or every open one.
async fn status(state: &AppState, rest: &str) -> Result<String, ApiError> {
    let now = state.clock.now();
    if let (Some(id), _) = incident_arg(rest)? {
        let (incident, _) = super::incidents::load(state, id).await?;
        let acked = match &incident.acknowledged {
            Some((at, by)) => format!(
                "acknowledged by {} {} ago",
                escape_mrkdwn(by),
                fireline_core::describe::duration(now.duration_since(*at))
            ),
            None => "not acknowledged".to_owned(),
        };
        return Ok(format!(
            "*{id}* [{}] {} ({})\n{}, {acked}, open for {}\n{}",
            escape_mrkdwn(&incident.severity),
            escape_mrkdwn(&incident.title),
            escape_mrkdwn(&incident.service),
            incident.status.as_str(),
            fireline_core::describe::duration(now.duration_since(incident.declared_at)),
            state.pager.links().incident_url(id)
        ));
    }
    let open = state
        .store
        .list_incidents(&IncidentFilter::default())
        .await?;
    if open.is_empty() {
        return Ok("No open incidents.".to_owned());
    }
    let mut lines: Vec<String> = open
        .iter()
        .take(20)
        .map(|i| {
            format!(
                "• *{}* [{}] {} — {}{}",
                i.id,
                escape_mrkdwn(&i.severity),
                escape_mrkdwn(&i.title),
                i.status.as_str(),
                if i.acknowledged_at.is_some() {
                    ""
                } else {
                    ", not acknowledged"
                }
            )
        })
        .collect();
    if open.len() > 20 {
        lines.push(format!("…and {} more", open.len() - 20));
    }
    Ok(lines.join("\n"))
}

/// Who is on call now on each schedule.
fn on_call(state: &AppState, roster: &Roster) -> String {
    let now = state.clock.now();
    if roster.schedules.is_empty() {
        return "The roster has no schedules.".to_owned();
    }
    roster
        .schedules
        .values()
        .map(|s| {
            let who = s.on_call_at(now).map_or_else(
                || "nobody".to_owned(),
                |shift| {
                    roster
                        .people
                        .get(&shift.person)
                        .map_or(shift.person.clone(), |p| p.name.clone())
                },
            );
            format!("• {}: {}", escape_mrkdwn(&s.name), escape_mrkdwn(&who))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn act(
    state: &AppState,
    who: &Caller,
    id: IncidentId,
    command: Command,
) -> Result<(), ApiError> {
    let _ = super::incidents::execute(state, who, id, None, command).await?;
    Ok(())
}

/// The first word and the rest (trimmed).
fn split_word(text: &str) -> (&str, &str) {
    let text = text.trim();
    match text.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (text, ""),
    }
}

/// An incident id first (`INC-7`, `inc-7`, `7`, `#7`), if the text starts with one.
fn incident_arg(text: &str) -> Result<(Option<IncidentId>, &str), ApiError> {
    let (word, rest) = split_word(text);
    if word.is_empty() {
        return Ok((None, rest));
    }
    word.trim_start_matches('#')
        .parse::<IncidentId>()
        .map(|id| (Some(id), rest))
        .map_err(|_| {
            ApiError::invalid(
                "incident",
                format!(
                    "`{}` is not an incident: write it as INC-7",
                    escape_mrkdwn(word)
                ),
            )
        })
}

fn required_incident(text: &str) -> Result<(IncidentId, &str), ApiError> {
    match incident_arg(text)? {
        (Some(id), rest) => Ok((id, rest)),
        (None, _) => Err(ApiError::invalid(
            "incident",
            "say which incident, e.g. INC-7",
        )),
    }
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Why something was not done, in words for a person: the incident's own refusals as
/// they are, anything else (the database unreachable) without detail.
fn trouble(error: &ApiError) -> String {
    match error {
        ApiError::Conflict(message)
        | ApiError::Invalid { message, .. }
        | ApiError::NotFound(message)
        | ApiError::BadRequest { message, .. } => format!("Not done: {message}"),
        other => {
            tracing::warn!(error = %other, "a Slack command failed");
            "Not done: fireline could not do it just now; try again, or use fireline's web UI"
                .to_owned()
        }
    }
}

/// A button clicked on a fireline message: acted on as the person who clicked, and
/// answered (only to them) through the interaction's `response_url`. Slack wants a 200
/// within three seconds, so the answer is sent after it.
async fn interaction(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let params = match verified(&state, &headers, &body) {
        Ok(params) => params,
        Err(why) => return forbidden(why),
    };
    let Some(payload) =
        param(&params, "payload").and_then(|p| serde_json::from_str::<Value>(p).ok())
    else {
        return (StatusCode::BAD_REQUEST, "no interaction payload").into_response();
    };
    if payload["type"] == "view_submission" {
        return Json(note_submitted(&state, &payload).await).into_response();
    }
    let action = &payload["actions"][0];
    let (Some(action_id), Some(value)) = (action["action_id"].as_str(), action["value"].as_str())
    else {
        // A link button (Open, Runbook): the browser does the work.
        return StatusCode::OK.into_response();
    };
    if ![ACKNOWLEDGE, RESOLVE, ESCALATE, NOTE].contains(&action_id) {
        return StatusCode::OK.into_response();
    }
    let user = payload["user"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let response_url = payload["response_url"].as_str().map(str::to_owned);
    let answer = if action_id == NOTE {
        match note_form(&state, &payload, value).await {
            // The form is the answer.
            None => return StatusCode::OK.into_response(),
            Some(why) => private(why),
        }
    } else {
        clicked(&state, &user, action_id, value).await
    };
    if let (Some(url), Some(app)) = (response_url, state.slack.clone()) {
        tokio::task::spawn_blocking(move || {
            if let Err(e) = app.responder().respond(&url, &answer) {
                tracing::warn!(error = %e, "could not answer a Slack button");
            }
        });
    }
    StatusCode::OK.into_response()
}

/// What a click did, as the answer to the person who clicked.
async fn clicked(state: &AppState, user: &str, action: &str, value: &str) -> Value {
    let roster = match state.store.roster().await {
        Ok(roster) => roster,
        Err(e) => return private(trouble(&e.into())),
    };
    let Some(person) = person_for(state, &roster, user).await else {
        return private(unmapped(user));
    };
    let Ok(id) = value.parse::<IncidentId>() else {
        return private("Not done: the button names no incident");
    };
    let who = caller(person);
    let done = match action {
        ACKNOWLEDGE => act(state, &who, id, Command::Acknowledge)
            .await
            .map(|()| format!("You acknowledged {id}.")),
        RESOLVE => act(state, &who, id, Command::Resolve { summary: None })
            .await
            .map(|()| format!("You resolved {id}.")),
        _ => escalate(state, &who, id, None)
            .await
            .map(|level| format!("You escalated {id} to level {level}.")),
    };
    private(done.unwrap_or_else(|e| trouble(&e)))
}

/// The form's `callback_id`, and the id of its one input block.
const NOTE_FORM: &str = "fireline-note";
const NOTE_INPUT: &str = "note";

/// Add note: opens a form for the note on `value` (the incident), or says why not
/// (no bot token to open forms with, an incident that does not parse).
async fn note_form(state: &AppState, payload: &Value, value: &str) -> Option<String> {
    let Ok(id) = value.parse::<IncidentId>() else {
        return Some("Not done: the button names no incident".to_owned());
    };
    let Some(web_api) = state.slack.as_ref().and_then(|app| app.web_api()) else {
        return Some(format!(
            "Add it with `/fireline note {id} …` (this server has no Slack bot token to open a form with)."
        ));
    };
    let trigger = payload["trigger_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let view = json!({
        "type": "modal",
        "callback_id": NOTE_FORM,
        "private_metadata": id.to_string(),
        "title": { "type": "plain_text", "text": "Add a note" },
        "submit": { "type": "plain_text", "text": "Add note" },
        "close": { "type": "plain_text", "text": "Cancel" },
        "blocks": [{
            "type": "input",
            "block_id": NOTE_INPUT,
            "label": { "type": "plain_text", "text": format!("Note on {id}") },
            "element": {
                "type": "plain_text_input",
                "action_id": "text",
                "multiline": true,
                "max_length": 3000,
            },
        }],
    });
    let opened = tokio::task::spawn_blocking(move || web_api.open_view(&trigger, &view)).await;
    match opened {
        Ok(Ok(())) => None,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "could not open the Add note form");
            Some(format!(
                "Not done: Slack did not open the form; add it with `/fireline note {id} …`"
            ))
        }
        Err(_) => Some("Not done: fireline could not do it just now".to_owned()),
    }
}

/// The Add note form sent: the note added as the person who sent it. An empty answer
/// closes the form; a refusal is shown on the form itself, as Slack documents
/// (`response_action: errors`).
async fn note_submitted(state: &AppState, payload: &Value) -> Value {
    let refuse =
        |why: String| json!({ "response_action": "errors", "errors": { NOTE_INPUT: why } });
    if payload["view"]["callback_id"] != NOTE_FORM {
        return json!({});
    }
    let Ok(id) = payload["view"]["private_metadata"]
        .as_str()
        .unwrap_or_default()
        .parse::<IncidentId>()
    else {
        return refuse("This form names no incident.".to_owned());
    };
    let text = payload["view"]["state"]["values"][NOTE_INPUT]["text"]["value"]
        .as_str()
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    if text.is_empty() {
        return refuse("Write the note.".to_owned());
    }
    let roster = match state.store.roster().await {
        Ok(roster) => roster,
        Err(e) => return refuse(trouble(&e.into())),
    };
    let user = payload["user"]["id"].as_str().unwrap_or_default();
    let Some(person) = person_for(state, &roster, user).await else {
        return refuse(unmapped(user));
    };
    match act(state, &caller(person), id, Command::AddNote { text }).await {
        Ok(()) => json!({}),
        Err(e) => refuse(trouble(&e)),
    }
}
