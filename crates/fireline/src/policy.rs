//! `fireline policy check|show|simulate`.

use crate::exit::Failure;
use crate::output::table;
use crate::scenario;
use clap::Subcommand;
use fireline_core::oncall::readiness::not_ready;
use fireline_core::oncall::{coverage_gaps, unknown_targets, Roster};
use fireline_core::policy::duration::format_fixed;
use fireline_core::policy::Policy;
use fireline_core::policy::Target;
use fireline_core::simulate::{simulate, Fired};
use fireline_core::EventData;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use std::path::{Path, PathBuf};

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

/// Runs a policy subcommand: `check` and `simulate` read local files, `show` asks the
/// server.
pub fn run(settings: &crate::config::Settings, command: &PolicyCommand) -> Result<(), Failure> {
    match command {
        PolicyCommand::Check { file, roster } => check(file, roster.as_deref()),
        PolicyCommand::Show { json } => show(settings, *json),
        PolicyCommand::Simulate {
            policy,
            scenario,
            json,
        } => simulate_command(policy, scenario, *json),
    }
}

fn read(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|e| Failure::general(format!("cannot read {}: {e}", path.display())))
}

/// Reads and checks a policy file, or explains every problem.
pub fn load(path: &Path) -> Result<Policy, Failure> {
    let text = read(path)?;
    Policy::from_toml(&text).map_err(|problems| {
        let listed: Vec<(&str, &str, &str)> = problems
            .iter()
            .map(|p| (p.at.as_str(), p.message.as_str(), p.hint.as_str()))
            .collect();
        Failure::general(crate::output::problems_message(path, &listed))
    })
}

/// How far ahead `policy check --roster` looks for coverage gaps.
const COVERAGE_HORIZON: SignedDuration = SignedDuration::from_hours(90 * 24);

/// `policy check FILE [--roster ROSTER_FILE]`. Warnings (a valid policy that probably
/// does not do what is meant: docs/policy.md) go to stderr and leave the exit code 0.
pub fn check(path: &Path, roster: Option<&Path>) -> Result<(), Failure> {
    let policy = load(path)?;
    let warnings = fireline_core::policy::warnings(&policy);
    if !warnings.is_empty() {
        let mut text = format!(
            "{}: {} warning{}",
            path.display(),
            warnings.len(),
            if warnings.len() == 1 { "" } else { "s" }
        );
        for w in &warnings {
            text.push_str(&format!("\n  {}: {}", w.at, w.message));
            if !w.hint.is_empty() {
                text.push_str(&format!("\n    hint: {}", w.hint));
            }
        }
        eprintln!("fireline: warning: {text}");
    }
    if let Some(roster_path) = roster {
        let roster = crate::oncall::load(roster_path)?;
        // The binary is the edge: reading the clock is its job, core takes `now`.
        let from = Timestamp::now();
        let to = from + COVERAGE_HORIZON;
        let problems = coverage_problems(&roster, &policy, from, to);
        if !problems.is_empty() {
            return Err(Failure::general(format!(
                "{} with roster {}: {} problem{}{}",
                path.display(),
                roster_path.display(),
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                problems.concat()
            )));
        }
        // After the problems: what must be fixed first is said first.
        warn_unwakeable(&roster, roster_path, from);
        outln!(
            "{}: ok — every schedule it pages has someone on call for the next 90 days, and every target is in {}",
            path.display(),
            roster_path.display()
        );
    }
    outln!(
        "{}: ok — policy {} ({} severities, {} escalation levels, {} categories){}",
        path.display(),
        policy.label(),
        policy.severities.len(),
        policy.escalation.len(),
        policy.categories.len(),
        match warnings.len() {
            0 => String::new(),
            1 => ", 1 warning".to_owned(),
            n => format!(", {n} warnings"),
        }
    );
    Ok(())
}

/// How far ahead readiness looks: who is on call in the coming week.
const READINESS_HORIZON: SignedDuration = SignedDuration::from_hours(7 * 24);

/// Warns (stderr; the exit code stays 0) about everyone on call in the next 7 days whom
/// no contact in the roster file can wake at night. Whether their phones were proven by
/// a test page is the server's to say (`/metrics`, the Admin page): a file cannot tell.
fn warn_unwakeable(roster: &Roster, roster_path: &Path, from: Timestamp) {
    let at_risk = not_ready(
        roster,
        from,
        from + READINESS_HORIZON,
        None,
        &Default::default(),
    );
    if at_risk.is_empty() {
        return;
    }
    let mut text = format!(
        "{}: {} {} on call in the next 7 days and nothing can wake them at night",
        roster_path.display(),
        at_risk.len(),
        if at_risk.len() == 1 {
            "person is"
        } else {
            "people are"
        }
    );
    for person in &at_risk {
        let first = person.shifts.first();
        text.push_str(&format!(
            "
  people.{}: {} {}; {} shift{} from {}",
            person.person,
            person.name,
            person.problem(),
            person.shifts.len(),
            if person.shifts.len() == 1 { "" } else { "s" },
            first.map_or_else(String::new, |s| format!(
                "{} on {}",
                s.start.strftime("%Y-%m-%d %H:%MZ"),
                s.schedule
            ))
        ));
    }
    text.push_str(
        "
  hint: add an sms, voice, ntfy or pushover contact (docs/oncall.md, \"Wake me up\"), \
         or subscribe a phone to push in the web UI",
    );
    eprintln!("fireline: warning: {text}");
}

/// One fired action as a JSON object: `at`, `kind`, and the action's fields.
pub fn action_json(fired: &Fired) -> Value {
    let mut object = match serde_json::to_value(&fired.event) {
        Ok(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    object.remove("key");
    object.insert("kind".to_owned(), Value::from(fired.kind()));
    object.insert("at".to_owned(), Value::from(fired.at.to_string()));
    Value::Object(object)
}

fn detail(event: &EventData) -> String {
    match event {
        EventData::Paged {
            severity, targets, ..
        } => format!("{severity}: {}", targets.join(", ")),
        EventData::Escalated {
            level,
            name,
            targets,
            reason,
            ..
        } => {
            format!("level {level} {name} → {} ({reason})", targets.join(", "))
        }
        EventData::EscalationExhausted {
            level,
            repeats,
            targets,
            ..
        } => format!(
            "level {level} repeated {repeats} times, nobody acknowledged; telling {}",
            targets.join(", ")
        ),
        EventData::SlaBreached { clock, target, .. } => format!("{clock} (target {target})"),
        EventData::UpdateDue { channel, .. } => channel.to_string(),
        EventData::CustomerNoticeDue {
            required, due_by, ..
        } => {
            format!(
                "{} by {due_by}",
                if *required { "required" } else { "recommended" }
            )
        }
        EventData::PostmortemDue { stage, .. } => stage.to_string(),
        EventData::FollowupDue { label, .. } => label.clone(),
        EventData::PostmortemReminder { stage, due_by, .. } => format!("{stage} due by {due_by}"),
        EventData::NoticeReminder {
            channel, due_by, ..
        }
        | EventData::NoticeOverdue {
            channel, due_by, ..
        } => format!("{channel} due by {due_by}"),
        _ => String::new(),
    }
}

/// `policy simulate --policy FILE --scenario FILE [--json]`.
pub fn simulate_command(policy: &Path, scenario_path: &Path, json: bool) -> Result<(), Failure> {
    let policy = load(policy)?;
    let scenario = scenario::parse(&read(scenario_path)?)
        .map_err(|e| Failure::general(format!("{}: {e:#}", scenario_path.display())))?;
    let fired = simulate(&policy, &scenario)
        .map_err(|e| Failure::general(format!("{}: {e}", scenario_path.display())))?;
    if json {
        for f in &fired {
            outln!("{}", action_json(f));
        }
        return Ok(());
    }
    if fired.is_empty() {
        outln!("the policy takes no action in this scenario");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = fired
        .iter()
        .map(|f| {
            vec![
                // Exact, in the policy file's own syntax (`+1h30m`), so an offset reads
                // like the `after` it came from; people's rounded durations would hide it.
                format!("+{}", format_fixed(f.at.duration_since(scenario.start))),
                f.at.strftime("%Y-%m-%d %H:%M").to_string(),
                f.kind().to_owned(),
                detail(&f.event),
            ]
        })
        .collect();
    out!(
        "{}",
        table(&["AFTER", "AT (UTC)", "ACTION", "DETAIL"], &rows)
    );
    Ok(())
}

/// `policy show`: the server's policy in force.
pub fn show(settings: &crate::config::Settings, json: bool) -> Result<(), Failure> {
    let api = crate::incident::client(settings)?;
    let summary: fireline_http::wire::PolicySummary = api.get("/api/v1/policy", &[])?;
    if json {
        let text =
            serde_json::to_string_pretty(&summary).map_err(|e| Failure::general(e.to_string()))?;
        outln!("{text}");
        return Ok(());
    }
    outln!("{}", summary.label);
    if !summary.description.is_empty() {
        outln!("  {}", summary.description);
    }
    outln!("  severities: {}", summary.severities.join(", "));
    if !summary.categories.is_empty() {
        outln!("  categories: {}", summary.categories.join(", "));
    }
    for level in &summary.escalation {
        outln!(
            "  level {}: {} → {}",
            level.level,
            level.name,
            level.targets.join(", ")
        );
    }
    Ok(())
}

fn target_text(target: &Target) -> String {
    match target {
        Target::Schedule(id) => format!("schedule:{id}"),
        Target::Person(id) => format!("person:{id}"),
        Target::Team(id) => format!("team:{id}"),
        Target::Channel(name) => format!("channel:{name}"),
    }
}

/// Where the policy and the roster disagree, one entry per problem (each a few lines):
/// targets the roster lacks, then, per schedule, the windows with nobody on call.
fn coverage_problems(
    roster: &Roster,
    policy: &Policy,
    from: Timestamp,
    to: Timestamp,
) -> Vec<String> {
    let mut out = Vec::new();
    for unknown in unknown_targets(roster, policy) {
        let (section, what) = match &unknown.target {
            Target::Schedule(_) => ("[schedules]", "schedule"),
            Target::Person(_) => ("[people]", "person"),
            Target::Team(_) => ("[teams]", "team"),
            Target::Channel(_) => ("[channels]", "channel"),
        };
        let hint = match &unknown.target {
            Target::Channel(name) => format!(
                "give it a destination under [channels.{}] in the roster (docs/chat.md), \
                 or remove it from the policy; until then pages to it reach nobody",
                name.trim_start_matches('#')
            ),
            _ => format!("add it under {section} in the roster, or fix the id in the policy"),
        };
        out.push(format!(
            "\n  {}: target `{}` names a {what} the roster does not have\n    hint: {hint}",
            unknown.used_by,
            target_text(&unknown.target)
        ));
    }
    let gaps = coverage_gaps(roster, policy, from, to);
    let mut schedules: Vec<&str> = gaps.iter().map(|g| g.schedule.as_str()).collect();
    schedules.dedup();
    for schedule in schedules {
        let mine: Vec<_> = gaps.iter().filter(|g| g.schedule == schedule).collect();
        let mut text = format!(
            "\n  schedules.{schedule}: nobody on call in {} window{} of the next 90 days, but \
             the policy pages it ({})",
            mine.len(),
            if mine.len() == 1 { "" } else { "s" },
            mine.first().map_or("", |g| g.used_by.as_str())
        );
        for gap in &mine {
            text.push_str(&format!(
                "\n    {} – {} ({})",
                gap.start.strftime("%Y-%m-%d %H:%MZ"),
                gap.end.strftime("%Y-%m-%d %H:%MZ"),
                // Exact (`1d3h20m`): a gap's length decides a fix, so it is not rounded
                // to two units as other durations for people are.
                format_fixed(gap.end.duration_since(gap.start))
            ));
        }
        text.push_str(
            "\n    hint: add a layer (or widen its restrictions) so someone covers those hours, \
             or page a schedule that covers them",
        );
        out.push(text);
    }
    out
}
