//! `fireline policy check|simulate`.

use crate::exit::Failure;
use crate::output::table;
use crate::scenario;
use fireline_core::policy::duration::format_fixed;
use fireline_core::policy::Policy;
use fireline_core::simulate::{simulate, Fired};
use fireline_core::EventData;
use serde_json::Value;
use std::path::Path;

fn read(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|e| Failure::general(format!("cannot read {}: {e}", path.display())))
}

/// Reads and checks a policy file, or explains every problem.
pub fn load(path: &Path) -> Result<Policy, Failure> {
    let text = read(path)?;
    Policy::from_toml(&text).map_err(|problems| {
        let mut message = format!(
            "{}: {} problem{}",
            path.display(),
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        );
        for p in &problems {
            message.push_str(&format!("\n  {}: {}", p.location, p.message));
            if !p.hint.is_empty() {
                message.push_str(&format!("\n    hint: {}", p.hint));
            }
        }
        Failure::general(message)
    })
}

/// `policy check FILE`.
pub fn check(path: &Path) -> Result<(), Failure> {
    let policy = load(path)?;
    outln!(
        "{}: ok — policy {} ({} severities, {} escalation levels, {} categories)",
        path.display(),
        policy.label(),
        policy.severities.len(),
        policy.escalation.len(),
        policy.categories.len()
    );
    Ok(())
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
