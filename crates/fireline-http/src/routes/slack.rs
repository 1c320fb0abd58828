//! What a Slack app sends: `POST /hooks/slack/commands`, the `/fireline` slash command,
//! and `POST /hooks/slack/interactions`, a click on a button of a message fireline
//! posted (docs/chat.md). Not for browsers, and not in the OpenAPI document (like
//! Twilio's requests).
//!
//! Both are refused (403) unless signed with the app's signing secret within the last
//! five minutes ([`fireline_notify::verify_slack_signature`]). The Slack user is the
//! roster person whose `slack_user` is their member id; anyone else gets an answer only
//! they see and changes nothing. This module is Slack's transport only: what a command
//! or a button does, and the words of the answer, are `chat_command`'s, shared with
//! Mattermost.

use super::chat_command::{self, Button, SLACK};
use super::form::param;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/hooks/slack/commands", post(command))
        .route("/hooks/slack/interactions", post(interaction))
}

use fireline_core::IncidentId;
use fireline_notify::{
    SLACK_ACKNOWLEDGE as ACKNOWLEDGE, SLACK_ESCALATE as ESCALATE, SLACK_NOTE as NOTE,
    SLACK_RESOLVE as RESOLVE,
};

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

/// Slack's answer: `ephemeral` only the person who asked sees, `in_channel` the whole
/// channel sees (with the command that asked for it).
fn said(text: &str, public: bool) -> Value {
    let response_type = if public { "in_channel" } else { "ephemeral" };
    json!({ "response_type": response_type, "text": text })
}

/// `/fireline …`: answered at once in the HTTP response, as Slack expects within three
/// seconds.
async fn command(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let params = match verified(&state, &headers, &body) {
        Ok(params) => params,
        Err(why) => return forbidden(why),
    };
    let user = param(&params, "user_id").unwrap_or_default();
    let text = param(&params, "text").unwrap_or_default();
    let answer = chat_command::command(&state, &SLACK, user, text).await;
    Json(said(&answer.text, answer.public)).into_response()
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
    let text = match action_id {
        NOTE => match note_form(&state, &payload, value).await {
            // The form is the answer.
            None => return StatusCode::OK.into_response(),
            Some(why) => why,
        },
        ACKNOWLEDGE => chat_command::click(&state, &SLACK, &user, Button::Acknowledge, value).await,
        RESOLVE => chat_command::click(&state, &SLACK, &user, Button::Resolve, value).await,
        _ => chat_command::click(&state, &SLACK, &user, Button::Escalate, value).await,
    };
    let answer = said(&text, false);
    if let (Some(url), Some(app)) = (response_url, state.slack.clone()) {
        tokio::task::spawn_blocking(move || {
            if let Err(e) = app.responder().respond(&url, &answer) {
                tracing::warn!(error = %e, "could not answer a Slack button");
            }
        });
    }
    StatusCode::OK.into_response()
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
    let user = payload["user"]["id"].as_str().unwrap_or_default();
    match chat_command::note(state, &SLACK, user, id, text).await {
        Ok(()) => json!({}),
        Err(why) => refuse(why),
    }
}
