//! What a Mattermost server sends: `POST /hooks/mattermost/commands`, a custom slash
//! command (`/fireline …`, a form with the command's `token`,
//! <https://developers.mattermost.com/integrate/slash-commands/custom/>), and
//! `POST /hooks/mattermost/actions`, a click on a button of a message fireline posted
//! (JSON with `user_id` and the button's `context`,
//! <https://developers.mattermost.com/integrate/plugins/interactive-messages/>).
//! Not for browsers, and not in the OpenAPI document (like Slack's requests).
//!
//! A command is refused (403) unless it carries the slash command's token (`[mattermost]
//! command_token`). Mattermost does not sign clicks, so a click is refused unless its
//! context carries fireline's own MAC of the incident and action
//! ([`fireline_notify::MattermostActionKey`]): a made-up or altered context changes
//! nothing. The Mattermost user is the roster person whose `mattermost_user` is their
//! user id; anyone else is told so and changes nothing. What a command or a button does,
//! and the words of the answer, are `chat_command`'s, shared with Slack.

use super::chat_command::{self, Button, MATTERMOST};
use super::form::param;
use crate::{AppState, MattermostApp};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use fireline_notify::MattermostAction;
use serde_json::{json, Value};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/hooks/mattermost/commands", post(command))
        .route("/hooks/mattermost/actions", post(action))
}

const NOT_CONFIGURED: &str = "Mattermost is not configured here: set [mattermost] command_token";

fn forbidden(why: &'static str) -> Response {
    (StatusCode::FORBIDDEN, why).into_response()
}

/// The command's token: the form's `token`, which Mattermost documents, else the
/// `Authorization: Token …` header it also sends.
fn token<'a>(params: &'a [(String, String)], headers: &'a HeaderMap) -> Option<&'a str> {
    param(params, "token").or_else(|| {
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Token "))
            .map(str::trim)
    })
}

/// `/fireline …`: answered in the HTTP response (Markdown), `in_channel` for a change,
/// `ephemeral` for the rest. Slack-style markup in the text is not translated
/// (`skip_slack_parsing`): the text is Markdown, escaped where it is the user's.
async fn command(
    State(state): State<AppState>,
    app: Option<Extension<MattermostApp>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(Extension(app)) = app else {
        return forbidden(NOT_CONFIGURED);
    };
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    if !token(&params, &headers).is_some_and(|t| app.token_matches(t)) {
        // The token is never logged, matching or not.
        tracing::info!("a Mattermost command without the command's token was refused");
        return forbidden("not from this server's Mattermost slash command: refused");
    }
    let user = param(&params, "user_id").unwrap_or_default();
    let text = param(&params, "text").unwrap_or_default();
    let answer = chat_command::command(&state, &MATTERMOST, user, text).await;
    let response_type = if answer.public {
        "in_channel"
    } else {
        "ephemeral"
    };
    Json(json!({
        "response_type": response_type,
        "text": answer.text,
        "skip_slack_parsing": true,
    }))
    .into_response()
}

/// A button clicked on a fireline message: acted on as the person who clicked, if the
/// context is fireline's, and answered to them alone (`ephemeral_text`).
async fn action(
    State(state): State<AppState>,
    app: Option<Extension<MattermostApp>>,
    body: Bytes,
) -> Response {
    let Some(Extension(app)) = app else {
        return forbidden(NOT_CONFIGURED);
    };
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not a Mattermost action request").into_response();
    };
    let (incident, action) = match app.key().verify(&request["context"]) {
        Ok(signed) => signed,
        Err(why) => {
            tracing::info!(reason = %why, "a Mattermost button click was refused");
            return forbidden("not a button fireline posted: refused");
        }
    };
    let button = match action {
        MattermostAction::Acknowledge => Button::Acknowledge,
        MattermostAction::Resolve => Button::Resolve,
        MattermostAction::Escalate => Button::Escalate,
    };
    let user = request["user_id"].as_str().unwrap_or_default();
    let text = chat_command::click(&state, &MATTERMOST, user, button, &incident).await;
    Json(json!({ "ephemeral_text": text, "skip_slack_parsing": true })).into_response()
}
