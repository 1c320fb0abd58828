//! `fireline report` (response metrics, as a table or JSON) and `fireline status`
//! (overrides on the public status page).

use crate::config::Settings;
use crate::exit::Failure;
use crate::incident::client;
use crate::output::table;
use clap::Subcommand;
use fireline_core::report::{cells, Figures};
use serde_json::Value;

/// `status …`
#[derive(Debug, Subcommand)]
pub enum StatusCommand {
    /// Show STATUS for a component on /status, over what its incidents say
    #[command(after_help = "Examples:
  fireline status set checkout major_outage --until 2026-11-25T18:00:00Z --note 'card payments failing'
  fireline status set search maintenance
Statuses: operational, maintenance, degraded, partial_outage, major_outage.
The note is for the team; it is never shown publicly.")]
    Set {
        /// The component (service)
        service: String,
        /// operational, maintenance, degraded, partial_outage or major_outage
        status: String,
        /// Lapse at this time (RFC 3339) [default: until cleared]
        #[arg(long)]
        until: Option<String>,
        /// Why, for the team
        #[arg(long)]
        note: Option<String>,
    },
    /// Clear a component's override: its status follows its incidents again
    #[command(after_help = "Example:\n  fireline status clear checkout")]
    Clear {
        /// The component (service)
        service: String,
    },
}

/// `report`
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Start: a duration back from now (30d) or an RFC 3339 time
    #[arg(long, default_value = "30d")]
    pub since: String,
    /// End: a duration back from now or an RFC 3339 time [default: now]
    #[arg(long)]
    pub until: Option<String>,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

fn row(name: &str, f: &Figures) -> Vec<String> {
    std::iter::once(name.to_owned()).chain(cells(f)).collect()
}

/// Runs `fireline report`.
pub fn run(settings: &Settings, args: &ReportArgs) -> Result<(), Failure> {
    let api = client(settings)?;
    let mut query = vec![("since", args.since.clone())];
    if let Some(until) = &args.until {
        query.push(("until", until.clone()));
    }
    let report: Value = api.get("/api/v1/report", &query)?;
    if args.json {
        let text =
            serde_json::to_string_pretty(&report).map_err(|e| Failure::general(e.to_string()))?;
        outln!("{text}");
        return Ok(());
    }
    let figures = |v: &Value| -> Result<Figures, Failure> {
        serde_json::from_value(v.clone())
            .map_err(|e| Failure::general(format!("unexpected report from the server: {e}")))
    };
    let mut rows = vec![row("all", &figures(&report["overall"])?)];
    for (key, prefix) in [
        ("by_severity", ""),
        ("by_service", "service "),
        ("by_team", "team "),
    ] {
        if let Some(groups) = report[key].as_object() {
            for (name, f) in groups {
                rows.push(row(&format!("{prefix}{name}"), &figures(f)?));
            }
        }
    }
    outln!(
        "Incidents declared from {} to {}",
        report["since"].as_str().unwrap_or("?"),
        report["until"].as_str().unwrap_or("?")
    );
    out!(
        "{}",
        table(
            &[
                "GROUP",
                "N",
                "OPEN",
                "MTTA",
                "MTTR",
                "1ST UPDATE",
                "ACK OK",
                "RESOLVE OK",
                "CADENCE",
                "ESC/INC",
                "PM ON TIME",
            ],
            &rows
        )
    );
    if let Some(n) = report["open_action_items"].as_u64() {
        outln!("Open action items: {n}");
    }
    Ok(())
}

/// Runs `fireline status set|clear`.
pub fn status(settings: &Settings, command: &StatusCommand) -> Result<(), Failure> {
    let api = client(settings)?;
    match command {
        StatusCommand::Set {
            service,
            status,
            until,
            note,
        } => {
            let set: Value = api.put(
                &format!("/api/v1/status/components/{service}"),
                &serde_json::json!({"status": status, "until": until, "note": note}),
            )?;
            match set["until"].as_str() {
                Some(until) => outln!(
                    "{service}: {} until {until}",
                    set["status"].as_str().unwrap_or(status)
                ),
                None => outln!(
                    "{service}: {} until cleared",
                    set["status"].as_str().unwrap_or(status)
                ),
            }
        }
        StatusCommand::Clear { service } => {
            api.delete(&format!("/api/v1/status/components/{service}"))?;
            outln!("{service}: follows its incidents again");
        }
    }
    Ok(())
}
