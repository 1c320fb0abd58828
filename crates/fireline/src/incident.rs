//! `fireline incident …`: drives a running server through its API.

use crate::cli::{IncidentCommand, Target};
use crate::client::ApiClient;
use crate::config::Settings;
use crate::exit::Failure;
use crate::output;
use fireline_core::IncidentId;
use fireline_http::wire::{IncidentDetail, IncidentList};
use serde_json::{json, Value};

/// A client for the configured server and token.
pub fn client(settings: &Settings) -> Result<ApiClient, Failure> {
    let token = settings.token.as_ref().ok_or_else(|| {
        Failure {
            message: "no API token: set FIRELINE_TOKEN (create one with `fireline token create --role responder`)".to_owned(),
            code: crate::exit::NOT_AUTHORIZED,
        }
    })?;
    Ok(ApiClient::new(&settings.url.value, &token.value.0))
}

fn incident_id(raw: &str) -> Result<IncidentId, Failure> {
    raw.parse()
        .map_err(|e: fireline_core::ParseIncidentIdError| Failure::general(e.to_string()))
}

fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure::general(e.to_string()))?;
    outln!("{text}");
    Ok(())
}

/// Posts one change and reports it: a line for people, or the incident as JSON.
fn act(api: &ApiClient, target: &Target, action: &str, mut body: Value) -> Result<(), Failure> {
    let id = incident_id(&target.id)?;
    if let (Some(v), Some(map)) = (target.expected_version, body.as_object_mut()) {
        map.insert("expected_version".to_owned(), json!(v));
    }
    let detail: IncidentDetail = api.post(&format!("/api/v1/incidents/{id}/{action}"), &body)?;
    if target.json {
        print_json(&detail)
    } else {
        // Describe the event the server recorded, so the line shows canonical values.
        if let Some(event) = detail.timeline.last() {
            outln!(
                "{id}: {} (by {}, version {})",
                output::describe(event),
                event.actor,
                detail.incident.version
            );
        }
        Ok(())
    }
}

/// Runs an incident subcommand.
pub fn run(settings: &Settings, command: &IncidentCommand) -> Result<(), Failure> {
    let api = client(settings)?;
    match command {
        IncidentCommand::Declare {
            title,
            severity,
            service,
            summary,
            category,
            flags,
            json,
        } => {
            let body = json!({
                "title": title, "severity": severity, "service": service, "summary": summary,
                "category": category, "flags": flags,
            });
            let detail: IncidentDetail = api.post("/api/v1/incidents", &body)?;
            if *json {
                print_json(&detail)
            } else {
                outln!("{}", detail.incident.id);
                Ok(())
            }
        }
        IncidentCommand::Ack { target } => act(&api, target, "acknowledge", json!({})),
        IncidentCommand::Status {
            target,
            status,
            message,
        } => act(
            &api,
            target,
            "status",
            json!({ "status": status, "message": message }),
        ),
        IncidentCommand::Severity {
            target,
            severity,
            reason,
        } => act(
            &api,
            target,
            "severity",
            json!({ "severity": severity, "reason": reason }),
        ),
        IncidentCommand::Escalate { target, level } => {
            act(&api, target, "escalate", json!({ "level": level }))
        }
        IncidentCommand::Update {
            target,
            channel,
            message,
        } => act(
            &api,
            target,
            "updates",
            json!({ "channel": channel, "text": message }),
        ),
        IncidentCommand::Runbook { target, runbook } => {
            act(&api, target, "runbook", json!({ "runbook": runbook }))
        }
        IncidentCommand::Step {
            target,
            step,
            undo,
            output,
        } => {
            // Step ids are slugs with dots; anything else cannot name a step, so refuse
            // it here rather than send a path the server would misread.
            if step.is_empty()
                || !step
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            {
                return Err(Failure::general(format!(
                    "step: `{step}` is not a step id (see `fireline incident show`)"
                )));
            }
            act(
                &api,
                target,
                &format!("checklist/{step}"),
                json!({ "done": !undo, "output": output }),
            )
        }
        IncidentCommand::Note { target, text } => {
            act(&api, target, "notes", json!({ "text": text }))
        }
        IncidentCommand::Assign {
            target,
            role,
            person,
        } => act(
            &api,
            target,
            "roles",
            json!({ "role": role, "assignee": person }),
        ),
        IncidentCommand::Resolve { target, summary } => {
            act(&api, target, "resolve", json!({ "summary": summary }))
        }
        IncidentCommand::Reopen { target, reason } => {
            act(&api, target, "reopen", json!({ "reason": reason }))
        }
        IncidentCommand::List {
            status,
            severity,
            service,
            limit,
            json,
        } => {
            let mut query = vec![("status", status.clone()), ("limit", limit.to_string())];
            if let Some(s) = severity {
                query.push(("severity", s.clone()));
            }
            if let Some(s) = service {
                query.push(("service", s.clone()));
            }
            let list: IncidentList = api.get("/api/v1/incidents", &query)?;
            if *json {
                print_json(&list)
            } else {
                out!("{}", output::incident_list(&list.incidents));
                Ok(())
            }
        }
        IncidentCommand::Show { id, json } => {
            let id = incident_id(id)?;
            let detail: IncidentDetail = api.get(&format!("/api/v1/incidents/{id}"), &[])?;
            if *json {
                print_json(&detail)
            } else {
                out!("{}", output::incident_detail(&detail));
                Ok(())
            }
        }
    }
}
