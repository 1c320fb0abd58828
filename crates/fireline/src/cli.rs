//! Command-line arguments: the raw flags, before they are merged with the config file.

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
    /// Run the server: API, migrations, and (later) the engine and UI
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
    Import {
        /// The roster file (.toml, or .yaml/.yml)
        file: PathBuf,
        /// Check the file and print the summary without sending it
        #[arg(long)]
        dry_run: bool,
    },
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

/// `runbook …`
#[derive(Debug, Subcommand)]
pub enum RunbookCommand {
    /// Check runbooks: every problem with file:line and a hint; exit 0 only when clean
    #[command(after_help = "Examples:
  fireline runbook lint runbooks/
  fireline runbook lint runbooks/agent-down.md --alerts alerts.txt
  fireline runbook lint runbooks/ --policy policies/agentic-flow.toml

--alerts names a file with one alert name per line; --policy adds the alert names its
routes match (`alertname` equals) and checks that every runbook a route names exists.")]
    Lint {
        /// A runbook file, or a folder of them (*.md, recursively)
        path: PathBuf,
        /// File of known alert names, one per line
        #[arg(long, value_name = "FILE")]
        alerts: Option<PathBuf>,
        /// Policy file whose routes name alerts and runbooks
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
    },
    /// List the runbooks in a folder
    #[command(after_help = "Example:\n  fireline runbook list runbooks/examples --json")]
    List {
        /// The folder
        dir: PathBuf,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Show one runbook's steps, commands and phases
    #[command(after_help = "Example:\n  fireline runbook show agent-down --dir runbooks/examples")]
    Show {
        /// The runbook id
        id: String,
        /// The folder
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Split a playbook into one runbook per scenario
    #[command(
        after_help = "Example:\n  fireline runbook import playbook.md --out runbooks/

Finds `Runbook N: …` headings, the scenarios under headings naming common incidents,
issues or scenarios, and checklists whose phases carry windows (`Phase 1 (0-5 min)`)."
    )]
    Import {
        /// The playbook (Markdown)
        seed: PathBuf,
        /// Where to write the runbooks
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

/// `oncall …`
#[derive(Debug, Subcommand)]
pub enum OncallCommand {
    /// Who is on call now, on every schedule or one
    #[command(after_help = "Examples:
  fireline oncall now
  fireline oncall now --schedule sre-primary --json")]
    Now {
        /// Only this schedule
        #[arg(long)]
        schedule: Option<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Who is on call at a time (RFC 3339)
    #[command(after_help = "Examples:
  fireline oncall at 2026-03-02T09:00:00Z
  fireline oncall at 2026-03-02T09:00:00+01:00 --schedule sre-primary")]
    At {
        /// The instant, RFC 3339 (e.g. 2026-03-02T09:00:00Z)
        #[arg(value_parser = parse_instant)]
        time: jiff::Timestamp,
        /// Only this schedule
        #[arg(long)]
        schedule: Option<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// A schedule's shifts, in UTC and the schedule's time zone
    #[command(after_help = "Examples:
  fireline oncall show sre-primary                         # the next 14 days
  fireline oncall show sre-primary --from 2026-03-01T00:00:00Z --to 2026-04-01T00:00:00Z")]
    Show {
        /// Schedule id
        schedule: String,
        /// From, RFC 3339 [default: now]
        #[arg(long, value_parser = parse_instant)]
        from: Option<jiff::Timestamp>,
        /// Until, RFC 3339 [default: 14 days after --from; at most 366 days after it]
        #[arg(long, value_parser = parse_instant)]
        to: Option<jiff::Timestamp>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

/// An RFC 3339 instant on the command line.
fn parse_instant(text: &str) -> Result<jiff::Timestamp, String> {
    text.parse()
        .map_err(|e| format!("`{text}` is not an RFC 3339 time such as 2026-03-02T09:00:00Z: {e}"))
}

/// `person …`
#[derive(Debug, Subcommand)]
pub enum PersonCommand {
    /// List people
    #[command(after_help = "Examples:\n  fireline person list\n  fireline person list --json")]
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Show a person: contacts (secrets masked) and notification rules
    #[command(after_help = "Example:\n  fireline person show alice")]
    Show {
        /// Person id
        id: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Send a person a test page on each contact; confirming it marks the contact verified
    #[command(
        after_help = "Examples:\n  fireline person test alice\n  fireline person test alice --kind sms\n\nEach test page is sent like a real page and asks its reader to confirm it arrived\n(a link, or pressing 1 in a test call); a confirmed contact counts as verified.\nNeeds an admin token."
    )]
    Test {
        /// Person id
        id: String,
        /// Only the contacts of this kind (email, slack, webhook, ntfy, pushover, sms, voice)
        #[arg(long)]
        kind: Option<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

/// `team …`
#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// List teams with their members and schedule
    #[command(after_help = "Examples:\n  fireline team list\n  fireline team list --json")]
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

/// `schedule …`
#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// List schedules with their layers
    #[command(after_help = "Examples:\n  fireline schedule list\n  fireline schedule list --json")]
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

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

/// `integration …`
#[derive(Debug, Subcommand)]
pub enum IntegrationCommand {
    /// Create an integration and print its key alone on stdout (shown only once)
    #[command(
        after_help = "Example:\n  fireline integration create --service checkout --name prometheus-prod"
    )]
    Create {
        /// The service its alerts concern unless they say otherwise
        #[arg(long)]
        service: String,
        /// Name [default: the service]
        #[arg(long)]
        name: Option<String>,
    },
    /// List integrations (never their keys)
    #[command(after_help = "Example:\n  fireline integration list --json")]
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Revoke an integration: its key stops working at once
    #[command(after_help = "Example:\n  fireline integration revoke int_3f9a0c1d2e4b5a69")]
    Revoke {
        /// Integration id (int_…)
        id: String,
    },
}

/// `heartbeat …`
#[derive(Debug, Subcommand)]
pub enum HeartbeatCommand {
    /// Create a monitor and print its key alone on stdout (shown only once)
    #[command(after_help = "Example:
  fireline heartbeat create --integration int_3f9a… --name nightly-backup --interval 24h --grace 1h
  # then, at the end of the job:  curl -fsS -X POST $FIRELINE_URL/api/v1/heartbeats/<key>")]
    Create {
        /// The integration (int_…) its alerts go through
        #[arg(long)]
        integration: String,
        /// Name
        #[arg(long)]
        name: String,
        /// Expected time between pings (e.g. 5m, 1h, 24h)
        #[arg(long)]
        interval: String,
        /// Extra time before a late ping counts as missed
        #[arg(long, default_value = "0m")]
        grace: String,
    },
    /// List monitors and their state
    #[command(after_help = "Example:\n  fireline heartbeat list --json")]
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

/// `alert send`
#[derive(Debug, Args)]
pub struct AlertCommand {
    #[command(subcommand)]
    pub action: AlertAction,
}

/// Alert actions.
#[derive(Debug, Subcommand)]
pub enum AlertAction {
    /// Send one alert (firing, or resolved with --resolve)
    Send {
        /// Integration key (fli_…)
        #[arg(long, env = "FIRELINE_INTEGRATION_KEY", hide_env_values = true)]
        key: String,
        /// The alert's identity: send again with the same id to update or resolve it
        #[arg(long)]
        id: String,
        /// One line for people
        #[arg(long)]
        summary: String,
        /// Resolve instead of fire
        #[arg(long)]
        resolve: bool,
        /// A policy severity or a word it maps (critical, warning)
        #[arg(long)]
        severity: Option<String>,
        /// Service it concerns [default: the integration's]
        #[arg(long)]
        service: Option<String>,
        /// A label, KEY=VALUE (repeatable)
        #[arg(long = "label", value_name = "KEY=VALUE")]
        labels: Vec<String>,
        /// Alerts with the same group join one incident
        #[arg(long)]
        group: Option<String>,
    },
}

/// `policy …`
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy file: every problem with its location and a hint; exit 0 only when clean
    #[command(after_help = "Examples:
  fireline policy check policies/default.toml
  fireline policy check policies/agentic-flow.toml --roster examples/oncall/agentic-flow.toml

With --roster, also reports the roster's own problems, policy targets naming people,
teams or schedules the roster lacks, and every window in the next 90 days when a
schedule the policy pages has nobody on call.")]
    Check {
        /// The policy file (TOML; see docs/policy.md)
        file: PathBuf,
        /// A roster file (TOML or YAML; see docs/oncall.md) to check the policy against
        #[arg(long, value_name = "ROSTER_FILE")]
        roster: Option<PathBuf>,
    },
    /// Show the policy in force on the server (FIRELINE_URL)
    #[command(after_help = "Example:\n  fireline policy show --json")]
    Show {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Replay a hypothetical incident and print what fireline would do, in time order
    #[command(after_help = "Examples:
  fireline policy simulate --policy policies/default.toml --scenario policies/default.scenario.yaml
  fireline policy simulate --policy policies/default.toml --scenario s.yaml --json")]
    Simulate {
        /// The policy file
        #[arg(long)]
        policy: PathBuf,
        /// The scenario file (YAML)
        #[arg(long)]
        scenario: PathBuf,
        /// One JSON object per line
        #[arg(long)]
        json: bool,
    },
}

/// `serve` flags.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "FIRELINE_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Policy file (TOML) [default: the built-in policies/default.toml]; SIGHUP reloads it
    #[arg(long, env = "FIRELINE_POLICY", value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Runbook folder (Markdown; docs/runbooks.md) that incidents may follow
    #[arg(long, env = "FIRELINE_RUNBOOKS", value_name = "DIR")]
    pub runbooks: Option<PathBuf>,
}

/// `token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it alone on stdout (it is shown only once)
    #[command(after_help = "Examples:
  fireline token create --role admin
  fireline token create --role responder --name alertmanager")]
    Create {
        /// viewer (read), responder (act on incidents) or admin (everything)
        #[arg(long)]
        role: String,
        /// Principal the token acts as, shown on the timeline [default: the token id]
        #[arg(long)]
        name: Option<String>,
    },
    /// List tokens (never their secrets)
    #[command(after_help = "Examples:\n  fireline token list\n  fireline token list --json")]
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token at once
    #[command(after_help = "Example:\n  fireline token revoke tok_3f9a0c1d2e4b5a69")]
    Revoke {
        /// Token id (tok_…), from `token list`
        id: String,
    },
}

/// `user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user who signs in to the web UI with a password
    #[command(after_help = "Examples:
  fireline user create alice --role responder          # asks for the password twice
  printf '%s\\n' \"$PW\" | fireline user create ci-admin --role admin --password-stdin

Use the person's roster id as the username so \"mine\" and \"my shifts\" work.")]
    Create {
        /// Username: a-z, 0-9, '.', '_', '-'
        name: String,
        /// viewer (read), responder (act on incidents) or admin (everything)
        #[arg(long)]
        role: String,
        /// Read the password from the first line of stdin instead of asking
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users (never their password hashes)
    #[command(after_help = "Examples:\n  fireline user list\n  fireline user list --json")]
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Set a user's password; their sessions end
    #[command(after_help = "Example:\n  fireline user passwd alice")]
    Passwd {
        /// Username
        name: String,
        /// Read the password from the first line of stdin instead of asking
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable a user at once: no sign-in, sessions end
    Disable {
        /// Username
        name: String,
    },
    /// Enable a disabled user again
    Enable {
        /// Username
        name: String,
    },
}

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
    #[command(after_help = "Example:\n  fireline incident escalate INC-12 --level 2")]
    Escalate {
        #[command(flatten)]
        target: Target,
        /// Level number, from 1
        #[arg(long)]
        level: u32,
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

/// `config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration, secrets masked, with where each value came from
    #[command(
        after_help = "Examples:\n  fireline config show\n  FIRELINE_DB=postgres://app:pw@db/fl fireline config show --json"
    )]
    Show {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}
