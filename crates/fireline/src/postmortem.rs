//! `fireline postmortem …` and `fireline action …`: post-mortems and their action items,
//! over the API like the incident commands.

use crate::config::Settings;
use crate::exit::Failure;
use crate::incident::client;
use clap::Subcommand;
use fireline_core::IncidentId;
use fireline_http::wire::{ActionItemView, ActionList, PostmortemHistory, PostmortemView};
use serde_json::{json, Value};
use std::io::Read;

/// `postmortem …`
#[derive(Debug, Subcommand)]
pub enum PostmortemCommand {
    /// Draft the post-mortem from the incident's events; prints the Markdown
    #[command(
        after_help = "Examples:\n  fireline postmortem draft INC-12\n  fireline postmortem draft INC-12 --template agentic-flow --json"
    )]
    Draft {
        /// Incident id (INC-12 or 12)
        id: String,
        /// Built-in template: standard, agentic-flow, production-agents [default: the policy's]
        #[arg(long)]
        template: Option<String>,
        /// Print the post-mortem as JSON
        #[arg(long)]
        json: bool,
    },
    /// Show the post-mortem: phase, version, stages with deadlines, related incidents
    #[command(after_help = "Example:\n  fireline postmortem show INC-12 --json")]
    Show {
        /// Incident id
        id: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Save a new text from a file (`-` for stdin); refused if someone saved since
    #[command(
        after_help = "Example:\n  fireline postmortem export INC-12 > pm.md && $EDITOR pm.md\n  fireline postmortem edit INC-12 --file pm.md --expected-version 1"
    )]
    Edit {
        /// Incident id
        id: String,
        /// Markdown file, or `-` for stdin
        #[arg(long, value_name = "PATH")]
        file: std::path::PathBuf,
        /// The version the edit was made on (from `show`)
        #[arg(long)]
        expected_version: u64,
    },
    /// Who saved which version, when, and what changed
    #[command(after_help = "Example:\n  fireline postmortem history INC-12")]
    History {
        /// Incident id
        id: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Complete the next stage (draft → review → published) or a named one
    #[command(
        after_help = "Examples:\n  fireline postmortem advance INC-12\n  fireline postmortem advance INC-12 --stage review_meeting"
    )]
    Advance {
        /// Incident id
        id: String,
        /// draft, review, publish or review_meeting [default: the next]
        #[arg(long)]
        stage: Option<String>,
    },
    /// Print the post-mortem as Markdown or as a self-contained HTML page
    #[command(
        after_help = "Examples:\n  fireline postmortem export INC-12 > INC-12.md\n  fireline postmortem export INC-12 --format html > INC-12.html"
    )]
    Export {
        /// Incident id
        id: String,
        /// md or html
        #[arg(long, default_value = "md")]
        format: String,
    },
}

/// `action …`
#[derive(Debug, Subcommand)]
pub enum ActionCommand {
    /// List action items: open ones, soonest due first
    #[command(
        after_help = "Examples:\n  fireline action list --overdue\n  fireline action list --owner alice --json"
    )]
    List {
        /// Only open items past their due day
        #[arg(long)]
        overdue: bool,
        /// Only this owner's
        #[arg(long)]
        owner: Option<String>,
        /// Only this incident's
        #[arg(long)]
        incident: Option<String>,
        /// Closed ones too
        #[arg(long)]
        all: bool,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Add an action item to an incident's post-mortem; prints its id
    #[command(
        after_help = "Example:\n  fireline action add INC-12 --title 'Canary deploys' --owner alice --priority P1 --due 2026-12-01"
    )]
    Add {
        /// Incident id
        id: String,
        /// What to do, one line
        #[arg(long)]
        title: String,
        /// Who (a roster person id gets reminders)
        #[arg(long)]
        owner: String,
        /// P0, P1, P2 or P3
        #[arg(long)]
        priority: String,
        /// Due date, YYYY-MM-DD
        #[arg(long)]
        due: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Change an action item's title, owner, priority, due date or status
    #[command(
        after_help = "Example:\n  fireline action update AI-3 --status in_progress --due 2026-12-15"
    )]
    Update {
        /// Action item id (AI-3 or 3)
        action: String,
        /// New title
        #[arg(long)]
        title: Option<String>,
        /// New owner
        #[arg(long)]
        owner: Option<String>,
        /// New priority
        #[arg(long)]
        priority: Option<String>,
        /// New due date
        #[arg(long)]
        due: Option<String>,
        /// open or in_progress (close with `action close`)
        #[arg(long)]
        status: Option<String>,
    },
    /// Close an action item as done (or won't do); a note is required
    #[command(
        after_help = "Examples:\n  fireline action close AI-3 --note 'canaries on since 4f2c'\n  fireline action close AI-4 --wont-do --note 'covered by AI-3'"
    )]
    Close {
        /// Action item id
        action: String,
        /// What was done, or why it will not be (required)
        #[arg(long)]
        note: Option<String>,
        /// Close as won't do instead of done
        #[arg(long)]
        wont_do: bool,
    },
}

fn incident_id(raw: &str) -> Result<IncidentId, Failure> {
    raw.parse()
        .map_err(|e: fireline_core::ParseIncidentIdError| Failure::general(e.to_string()))
}

fn action_number(raw: &str) -> Result<u64, Failure> {
    fireline_core::postmortem::parse_action_id(raw).map_err(Failure::general)
}

fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure::general(e.to_string()))?;
    outln!("{text}");
    Ok(())
}

fn summary(pm: &PostmortemView) {
    outln!(
        "{}: post-mortem {} (version {}, template {}, last saved by {} at {})",
        pm.incident,
        pm.phase,
        pm.version,
        pm.template,
        pm.updated_by,
        pm.updated_at
    );
    for s in &pm.stages {
        let due = s
            .due_at
            .map_or_else(|| "no deadline".to_owned(), |t| format!("due {t}"));
        let state = match (s.completed_at, s.overdue) {
            (Some(at), _) => format!("done {at}"),
            (None, true) => "OVERDUE".to_owned(),
            (None, false) => "open".to_owned(),
        };
        outln!("  {:<15} {:<32} {state}", s.stage, due);
    }
    for r in &pm.related {
        outln!("  related {} {} ({})", r.id, r.title, r.reasons.join("; "));
    }
    for a in &pm.action_items {
        outln!(
            "  {} {} {} {} due {} {}",
            a.id,
            a.priority,
            a.status,
            a.owner,
            a.due,
            a.title
        );
    }
}

fn action_line(a: &ActionItemView) {
    outln!(
        "{:<6} {:<8} {:<3} {:<11} {:<10} {:<12} {}{}",
        a.id,
        a.incident,
        a.priority,
        a.status,
        a.due,
        a.owner,
        a.title,
        if a.overdue { "  (OVERDUE)" } else { "" }
    );
}

/// Runs a post-mortem subcommand.
pub fn run(settings: &Settings, command: &PostmortemCommand) -> Result<(), Failure> {
    let api = client(settings)?;
    let path = |id: &str| -> Result<String, Failure> {
        Ok(format!("/api/v1/incidents/{}/postmortem", incident_id(id)?))
    };
    match command {
        PostmortemCommand::Draft { id, template, json } => {
            let pm: PostmortemView = api.post(&path(id)?, &json!({ "template": template }))?;
            if *json {
                print_json(&pm)
            } else {
                out!("{}", pm.text);
                Ok(())
            }
        }
        PostmortemCommand::Show { id, json } => {
            let pm: PostmortemView = api.get(&path(id)?, &[])?;
            if *json {
                print_json(&pm)
            } else {
                summary(&pm);
                Ok(())
            }
        }
        PostmortemCommand::Edit {
            id,
            file,
            expected_version,
        } => {
            let text = if file.as_os_str() == "-" {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map_err(|e| Failure::general(format!("cannot read stdin: {e}")))?;
                text
            } else {
                std::fs::read_to_string(file)
                    .map_err(|e| Failure::general(format!("cannot read {}: {e}", file.display())))?
            };
            let pm: PostmortemView = api.put(
                &path(id)?,
                &json!({ "text": text, "expected_version": expected_version }),
            )?;
            outln!(
                "{}: post-mortem saved as version {}",
                pm.incident,
                pm.version
            );
            Ok(())
        }
        PostmortemCommand::History { id, json } => {
            let history: PostmortemHistory = api.get(&format!("{}/history", path(id)?), &[])?;
            if *json {
                return print_json(&history);
            }
            for r in &history.revisions {
                outln!("v{:<4} {} {:<12} {}", r.version, r.at, r.actor, r.summary);
            }
            Ok(())
        }
        PostmortemCommand::Advance { id, stage } => {
            let pm: PostmortemView =
                api.post(&format!("{}/stages", path(id)?), &json!({ "stage": stage }))?;
            outln!("{}: post-mortem is now {}", pm.incident, pm.phase);
            Ok(())
        }
        PostmortemCommand::Export { id, format } => {
            let text = api.get_text(
                &format!("{}/export", path(id)?),
                &[("format", format.clone())],
            )?;
            out!("{text}");
            Ok(())
        }
    }
}

/// Runs an action item subcommand.
pub fn action(settings: &Settings, command: &ActionCommand) -> Result<(), Failure> {
    let api = client(settings)?;
    match command {
        ActionCommand::List {
            overdue,
            owner,
            incident,
            all,
            json,
        } => {
            let mut query = vec![
                ("overdue", overdue.to_string()),
                ("status", if *all { "all" } else { "open" }.to_owned()),
            ];
            if let Some(owner) = owner {
                query.push(("owner", owner.clone()));
            }
            if let Some(incident) = incident {
                query.push(("incident", incident_id(incident)?.to_string()));
            }
            let list: ActionList = api.get("/api/v1/actions", &query)?;
            if *json {
                return print_json(&list);
            }
            for a in &list.action_items {
                action_line(a);
            }
            Ok(())
        }
        ActionCommand::Add {
            id,
            title,
            owner,
            priority,
            due,
            json,
        } => {
            let item: ActionItemView = api.post(
                &format!("/api/v1/incidents/{}/actions", incident_id(id)?),
                &json!({ "title": title, "owner": owner, "priority": priority, "due": due }),
            )?;
            if *json {
                print_json(&item)
            } else {
                outln!("{}", item.id);
                Ok(())
            }
        }
        ActionCommand::Update {
            action,
            title,
            owner,
            priority,
            due,
            status,
        } => {
            let mut body = serde_json::Map::new();
            for (key, value) in [
                ("title", title),
                ("owner", owner),
                ("priority", priority),
                ("due", due),
                ("status", status),
            ] {
                if let Some(v) = value {
                    body.insert(key.to_owned(), Value::String(v.clone()));
                }
            }
            if body.is_empty() {
                return Err(Failure::general(
                    "nothing to change: give --title, --owner, --priority, --due or --status",
                ));
            }
            let item: ActionItemView = api.patch(
                &format!("/api/v1/actions/{}", action_number(action)?),
                &Value::Object(body),
            )?;
            action_line(&item);
            Ok(())
        }
        ActionCommand::Close {
            action,
            note,
            wont_do,
        } => {
            // The server refuses a close without a note, with the reason; the CLI
            // does not second-guess it, so both say the same thing.
            let item: ActionItemView = api.post(
                &format!("/api/v1/actions/{}/close", action_number(action)?),
                &json!({ "note": note, "status": if *wont_do { "wont_do" } else { "done" } }),
            )?;
            outln!(
                "{}: {} ({})",
                item.id,
                item.status,
                item.note.unwrap_or_default()
            );
            Ok(())
        }
    }
}
