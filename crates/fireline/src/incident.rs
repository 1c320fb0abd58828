//! `fireline incident …`: drives a running server through its API.

use crate::client::ApiClient;
use crate::config::Settings;
use crate::exit::Failure;
use crate::output;
use clap::{Args, Subcommand};
use fireline_core::IncidentId;
use fireline_http::wire::{IncidentDetail, IncidentList, UpdateResponse};
use serde_json::{json, Value};

/// `incident …`
#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Declare an incident; prints its id
    #[command(
        after_help = "Example:\n  fireline incident declare --title 'Checkout 5xx' --severity SEV2 --service checkout"
    )]
    Declare {
        /// One-line title
        #[arg(long)]
        title: String,
        /// Severity id (see `GET /api/v1/severities`: SEV1–SEV4 by default)
        #[arg(long)]
        severity: String,
        /// Affected service
        #[arg(long)]
        service: String,
        /// Longer description
        #[arg(long)]
        summary: Option<String>,
        /// Category from the policy (selects recovery objectives), e.g. database-crash
        #[arg(long)]
        category: Option<String>,
        /// A flag such as data-loss or security (repeatable)
        #[arg(long = "flag", value_name = "FLAG")]
        flags: Vec<String>,
        /// Print the incident as JSON instead of its id
        #[arg(long)]
        json: bool,
    },
    /// Acknowledge: you have it
    #[command(
        alias = "acknowledge",
        after_help = "Example:\n  fireline incident ack INC-12"
    )]
    Ack {
        #[command(flatten)]
        target: Target,
    },
    /// Move the status: investigating, identified, monitoring, resolved
    #[command(
        after_help = "Example:\n  fireline incident status INC-12 identified --message 'bad deploy 4f2c'"
    )]
    Status {
        #[command(flatten)]
        target: Target,
        /// New status
        status: String,
        /// What was learned
        #[arg(long, short)]
        message: Option<String>,
    },
    /// Change the severity
    #[command(
        after_help = "Example:\n  fireline incident severity INC-12 SEV1 --reason 'all regions'"
    )]
    Severity {
        #[command(flatten)]
        target: Target,
        /// New severity id
        severity: String,
        /// Why
        #[arg(long, short)]
        reason: Option<String>,
    },
    /// Follow a runbook from the server's runbook folder: its steps become the checklist
    #[command(after_help = "Example:\n  fireline incident runbook INC-12 agent-down")]
    Runbook {
        #[command(flatten)]
        target: Target,
        /// The runbook's id (`fireline runbook list DIR`)
        runbook: String,
    },
    /// Check a checklist step off (or --undo it), optionally with its output
    #[command(after_help = "Examples:
  fireline incident step INC-12 investigation.check-pod-status --output \"$(kubectl get pods)\"
  fireline incident step INC-12 investigation.check-pod-status --undo")]
    Step {
        #[command(flatten)]
        target: Target,
        /// The step's id (shown by `fireline incident show`)
        step: String,
        /// Uncheck it
        #[arg(long, conflicts_with = "output")]
        undo: bool,
        /// What it showed
        #[arg(long)]
        output: Option<String>,
    },
    /// Add a note to the timeline
    #[command(after_help = "Example:\n  fireline incident note INC-12 'rolled back to 4f2b'")]
    Note {
        #[command(flatten)]
        target: Target,
        /// The note
        text: String,
    },
    /// Record an update posted on a channel (restarts that channel's cadence), as written
    /// or rendered from the policy's template
    #[command(
        after_help = "Examples:\n  fireline incident update INC-12 --channel internal --message 'rollback in progress'\n  fireline incident update INC-12 --channel status_page --status identified --var impact='checkout fails' --dry-run\n  fireline incident update INC-12 --channel customer --template resolution_notice --var root_cause='bad deploy'"
    )]
    Update {
        #[command(flatten)]
        target: Target,
        /// internal, status_page or customer
        #[arg(long)]
        channel: String,
        /// The text posted; with a template, its `message` variable
        #[arg(long, short, default_value = "")]
        message: String,
        /// Render this policy template (internal_update, status_page_update, customer_email,
        /// outage_notice, resolution_notice, escalation, handoff); --var alone picks the
        /// channel's
        #[arg(long)]
        template: Option<String>,
        /// A template variable, NAME=VALUE (impact, root_cause, mitigation, eta, …); repeatable
        #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
        vars: Vec<(String, String)>,
        /// Move the incident to this status first (investigating, identified, monitoring)
        #[arg(long)]
        status: Option<String>,
        /// Render and print the text; post nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Escalate by hand to a level of the policy (see GET /api/v1/policy)
    #[command(
        after_help = "Example:\n  fireline incident escalate INC-12 --level 2 --reason 'db team needed'"
    )]
    Escalate {
        #[command(flatten)]
        target: Target,
        /// Level number, from 1
        #[arg(long)]
        level: u32,
        /// Why: told to the people it reaches and kept on the timeline
        #[arg(long)]
        reason: Option<String>,
    },
    /// Give a role to someone: commander (ic), tech_lead, comms, subject_matter_expert (sme)
    #[command(after_help = "Example:\n  fireline incident assign INC-12 commander alice")]
    Assign {
        #[command(flatten)]
        target: Target,
        /// Role
        role: String,
        /// Who takes it
        person: String,
    },
    /// Resolve
    #[command(after_help = "Example:\n  fireline incident resolve INC-12 --summary 'rolled back'")]
    Resolve {
        #[command(flatten)]
        target: Target,
        /// How it ended
        #[arg(long, short)]
        summary: Option<String>,
    },
    /// Reopen a resolved incident
    #[command(
        after_help = "Example:\n  fireline incident reopen INC-12 --reason 'errors are back'"
    )]
    Reopen {
        #[command(flatten)]
        target: Target,
        /// Why
        #[arg(long, short)]
        reason: Option<String>,
    },
    /// List incidents, open first
    #[command(
        after_help = "Examples:\n  fireline incident list\n  fireline incident list --status all --severity SEV1 --json"
    )]
    List {
        /// open, resolved or all
        #[arg(long, default_value = "open")]
        status: String,
        /// Only this severity
        #[arg(long)]
        severity: Option<String>,
        /// Only this service
        #[arg(long)]
        service: Option<String>,
        /// At most this many (1–1000)
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Show an incident with its timeline
    #[command(after_help = "Example:\n  fireline incident show INC-12 --json")]
    Show {
        /// Incident id (INC-12 or 12)
        id: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

/// Which incident a change applies to, and how.
#[derive(Debug, Args)]
pub struct Target {
    /// Incident id (INC-12 or 12)
    pub id: String,
    /// Apply only if the incident is still at this version (else exit 4)
    #[arg(long, value_name = "N")]
    pub expected_version: Option<u64>,
    /// Print the incident as JSON
    #[arg(long)]
    pub json: bool,
}

/// `NAME=VALUE` of `--var`.
fn parse_var(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!("`{raw}` is not NAME=VALUE")),
    }
}

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

/// What `incident update` was given.
struct UpdateArgs<'a> {
    channel: &'a str,
    message: &'a str,
    template: Option<&'a str>,
    vars: &'a [(String, String)],
    status: Option<&'a str>,
    dry_run: bool,
}

/// `incident update`: moves the status if asked, then renders (and unless a dry run,
/// posts) the update; prints the text and any wording warnings.
fn update(api: &ApiClient, target: &Target, args: &UpdateArgs<'_>) -> Result<(), Failure> {
    let id = incident_id(&target.id)?;
    let mut vars: serde_json::Map<String, Value> = args
        .vars
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    if let Some(raw) = args.status {
        let status: fireline_core::Status = raw
            .parse()
            .map_err(|e: fireline_core::status::UnknownStatus| Failure::general(e.to_string()))?;
        if args.dry_run {
            // Nothing may change on a dry run: the preview shows the status it would have.
            vars.insert(
                "status".to_owned(),
                json!(fireline_core::comms::status_word(status)),
            );
        } else {
            let current: IncidentDetail = api.get(&format!("/api/v1/incidents/{id}"), &[])?;
            if current.incident.status != status.as_str() {
                let mut body = json!({ "status": status.as_str() });
                if let Some(v) = target.expected_version {
                    body["expected_version"] = json!(v);
                }
                let _: IncidentDetail =
                    api.post(&format!("/api/v1/incidents/{id}/status"), &body)?;
            }
        }
    }
    let mut body = json!({
        "channel": args.channel, "text": args.message, "vars": vars, "dry_run": args.dry_run,
    });
    if let Some(t) = args.template {
        body["template"] = json!(t);
    }
    // After a status move the version has moved on by one; the update follows it.
    if let (Some(v), None) = (target.expected_version, args.status) {
        body["expected_version"] = json!(v);
    }
    let reply: UpdateResponse = api.post(&format!("/api/v1/incidents/{id}/updates"), &body)?;
    for warning in &reply.warnings {
        // Warnings go to stderr so the text on stdout can be piped as it is.
        eprintln!("fireline: warning: {warning}");
    }
    if target.json {
        return print_json(&reply);
    }
    if reply.dry_run {
        outln!(
            "{id}: would post on {} (dry run, nothing posted):",
            args.channel
        );
    } else {
        outln!(
            "{id}: posted on {} (version {}):",
            args.channel,
            reply.incident.version
        );
    }
    outln!("{}", reply.text);
    Ok(())
}

/// Runs an incident subcommand: each change posts to the incident's action endpoint
/// through [`act`]; declaring, listing and showing have helpers of their own.
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
            declare(&api, &body, *json)
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
        IncidentCommand::Escalate {
            target,
            level,
            reason,
        } => act(
            &api,
            target,
            "escalate",
            json!({ "level": level, "reason": reason }),
        ),
        IncidentCommand::Update {
            target,
            channel,
            message,
            template,
            vars,
            status,
            dry_run,
        } => update(
            &api,
            target,
            &UpdateArgs {
                channel,
                message,
                template: template.as_deref(),
                vars,
                status: status.as_deref(),
                dry_run: *dry_run,
            },
        ),
        IncidentCommand::Runbook { target, runbook } => {
            act(&api, target, "runbook", json!({ "runbook": runbook }))
        }
        IncidentCommand::Step {
            target,
            step,
            undo,
            output,
        } => check_step(&api, target, step, *undo, output.as_deref()),
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
        } => list(
            &api,
            status,
            severity.as_deref(),
            service.as_deref(),
            *limit,
            *json,
        ),
        IncidentCommand::Show { id, json } => show(&api, id, *json),
    }
}

/// `incident declare`: prints the new incident's id, or the incident as JSON.
fn declare(api: &ApiClient, body: &Value, json: bool) -> Result<(), Failure> {
    let detail: IncidentDetail = api.post("/api/v1/incidents", body)?;
    if json {
        print_json(&detail)
    } else {
        outln!("{}", detail.incident.id);
        Ok(())
    }
}

/// `incident step`: checks a checklist step off, or unchecks it.
fn check_step(
    api: &ApiClient,
    target: &Target,
    step: &str,
    undo: bool,
    output: Option<&str>,
) -> Result<(), Failure> {
    // Step ids are slugs with dots; anything else cannot name a step, so refuse it here
    // rather than send a path the server would misread.
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
        api,
        target,
        &format!("checklist/{step}"),
        json!({ "done": !undo, "output": output }),
    )
}

/// `incident list`: a table of incidents, or the list as JSON.
fn list(
    api: &ApiClient,
    status: &str,
    severity: Option<&str>,
    service: Option<&str>,
    limit: u32,
    json: bool,
) -> Result<(), Failure> {
    let mut query = vec![("status", status.to_owned()), ("limit", limit.to_string())];
    if let Some(s) = severity {
        query.push(("severity", s.to_owned()));
    }
    if let Some(s) = service {
        query.push(("service", s.to_owned()));
    }
    let list: IncidentList = api.get("/api/v1/incidents", &query)?;
    if json {
        print_json(&list)
    } else {
        out!("{}", output::incident_list(&list.incidents));
        Ok(())
    }
}

/// `incident show`: the incident with its timeline.
fn show(api: &ApiClient, id: &str, json: bool) -> Result<(), Failure> {
    let id = incident_id(id)?;
    let detail: IncidentDetail = api.get(&format!("/api/v1/incidents/{id}"), &[])?;
    if json {
        print_json(&detail)
    } else {
        out!("{}", output::incident_detail(&detail));
        Ok(())
    }
}
