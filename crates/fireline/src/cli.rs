//! Command-line arguments: the raw flags, before they are merged with the config file.
//!
//! Only the top of the tree lives here: [`Cli`], the options every command shares
//! ([`GlobalArgs`]) and [`Command`], which names each command's own argument type. Those
//! types sit in the module that runs the command, so a command's flags and its code are
//! read in one file.

use crate::config::show::ConfigCommand;
use crate::incident::IncidentCommand;
use crate::integration::{AlertCommand, HeartbeatCommand, IntegrationCommand};
use crate::oncall::{ImportArgs, OncallCommand, PersonCommand, ScheduleCommand, TeamCommand};
use crate::policy::PolicyCommand;
use crate::postmortem::{ActionCommand, PostmortemCommand};
use crate::report::{ReportArgs, StatusCommand};
use crate::runbook::RunbookCommand;
use crate::serve::ServeArgs;
use crate::token::TokenCommand;
use crate::user::UserCommand;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const ROOT_EXAMPLES: &str = "\
Examples:
  fireline serve                                  # SQLite in ./fireline-data, UI/API on 127.0.0.1:8080
  fireline token create --role admin              # prints a new token; no server needed
  export FIRELINE_URL=http://127.0.0.1:8080 FIRELINE_TOKEN=fl_…
  fireline incident declare --title 'Checkout 5xx' --severity SEV2 --service checkout
  fireline incident ack INC-1
  fireline incident list --status all --json

Exit codes: 0 success, 1 refused or failed, 2 usage error, 3 server or database
unreachable, 4 conflict (the incident changed or does not allow it), 5 not authorized.";

/// Fireline: incident response in one binary.
#[derive(Debug, Parser)]
#[command(name = "fireline", version, about, after_help = ROOT_EXAMPLES, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Settings every subcommand shares. Each overrides `FIRELINE_*` and the config file.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Config file [default: ./fireline.toml when present]
    #[arg(long, global = true, env = "FIRELINE_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Database: sqlite://PATH or postgres://USER@HOST/DB [default: sqlite://DATA_DIR/fireline.db]
    #[arg(
        long,
        global = true,
        env = "FIRELINE_DB",
        value_name = "URL",
        hide_env_values = true
    )]
    pub db: Option<String>,
    /// Where the embedded database lives [default: ./fireline-data]
    #[arg(long, global = true, env = "FIRELINE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Log format
    #[arg(long, global = true, env = "FIRELINE_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Server the CLI talks to [default: http://127.0.0.1:8080]
    #[arg(long, global = true, env = "FIRELINE_URL", value_name = "URL")]
    pub url: Option<String>,
    /// API token for the CLI (prefer the environment variable to a flag)
    #[arg(
        long,
        global = true,
        env = "FIRELINE_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
}

/// Log output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Readable lines.
    Text,
    /// One JSON object a line, for log shippers.
    Json,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: migrations, API and web UI, engine, alert processing and paging
    #[command(after_help = "Examples:
  fireline serve
  fireline serve --listen 0.0.0.0:8080 --db postgres://fireline@db/fireline
  fireline serve --policy policies/agentic-flow.toml     # kill -HUP <pid> reloads it
  FIRELINE_LOG_FORMAT=json fireline serve")]
    Serve(ServeArgs),
    /// Create, list and revoke API tokens, directly in the database
    #[command(subcommand)]
    Token(TokenCommand),
    /// Create, list, disable UI users (username and password), directly in the database
    #[command(subcommand)]
    User(UserCommand),
    /// Declare, change and inspect incidents through the server
    #[command(subcommand)]
    Incident(IncidentCommand),
    /// Inspect the effective configuration
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Create, list and revoke integration keys that monitoring sends alerts with
    #[command(subcommand)]
    Integration(IntegrationCommand),
    /// Heartbeat monitors: a job pings; a missed ping raises an alert
    #[command(subcommand)]
    Heartbeat(HeartbeatCommand),
    /// Send an alert to fireline (the generic JSON receiver), e.g. from a cron job
    #[command(after_help = "Examples:
  fireline alert send --key fli_… --id disk-db1 --summary 'db1 disk 95% full' --severity warning
  fireline alert send --key fli_… --id disk-db1 --summary 'db1 disk ok' --resolve")]
    Alert(AlertCommand),
    /// Check a policy file, or simulate what it does to an incident
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Post-mortems: draft from the timeline, edit, advance stages, export
    #[command(subcommand)]
    Postmortem(PostmortemCommand),
    /// Action items from post-mortems: add, list (overdue), update, close
    #[command(subcommand)]
    Action(ActionCommand),
    /// Response metrics: MTTA, MTTR, clock and cadence compliance, per severity and service
    #[command(after_help = "Examples:
  fireline report                      # the last 30 days
  fireline report --since 90d --json
  fireline report --since 2026-10-01T00:00:00Z --until 2026-11-01T00:00:00Z")]
    Report(ReportArgs),
    /// Override a component's status on the public status page (admin)
    #[command(subcommand)]
    Status(StatusCommand),
    /// Replace the server's on-call roster with a roster file (TOML, or YAML by extension)
    #[command(after_help = "Examples:
  fireline import examples/oncall/agentic-flow.toml
  fireline import roster.yaml --dry-run          # check only; nothing is sent

The file is checked first: every problem is printed with its location and a hint, and
nothing is sent unless it is clean. Format: docs/oncall.md.")]
    Import(ImportArgs),
    /// Who is on call now or at a time, and a schedule's shifts
    #[command(subcommand)]
    Oncall(OncallCommand),
    /// People in the on-call roster
    #[command(subcommand)]
    Person(PersonCommand),
    /// Teams in the on-call roster
    #[command(subcommand)]
    Team(TeamCommand),
    /// Schedules in the on-call roster
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// Runbooks: lint, list, show, and import from a playbook (Markdown; docs/runbooks.md)
    #[command(subcommand)]
    Runbook(RunbookCommand),
}
