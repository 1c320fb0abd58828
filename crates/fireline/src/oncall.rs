//! `fireline import`, `oncall`, `person`, `team`, `schedule`: the on-call roster, read
//! from a file and checked here, and the server's answers about it.

use crate::config::Settings;
use crate::exit::Failure;
use crate::incident::client;
use crate::output::table;
use anyhow::Context;
use clap::{Args, Subcommand};
use fireline_core::oncall::Roster;
use fireline_http::wire::{
    OnCallList, PersonList, PersonView, RosterImported, ScheduleList, ShiftList, TeamList,
};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use std::path::{Path, PathBuf};

/// `import FILE [--dry-run]`
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The roster file (.toml, or .yaml/.yml)
    pub file: PathBuf,
    /// Check the file and print the summary without sending it
    #[arg(long)]
    pub dry_run: bool,
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

/// Whether the file is YAML, by its extension; anything else is read as TOML.
fn is_yaml(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// Reads a roster file (TOML, or YAML by extension) and checks it: every problem is in
/// the failure, with its location and hint.
pub fn load(path: &Path) -> Result<Roster, Failure> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let roster = if is_yaml(path) {
        serde_saphyr::from_str::<Roster>(&text)
            .map_err(|e| Failure::general(format!("{}: {e}", path.display())))?
    } else {
        Roster::from_toml_str(&text)
            .map_err(|e| Failure::general(format!("{}: {e}", path.display())))?
    };
    let problems = roster.check();
    if problems.is_empty() {
        return Ok(roster);
    }
    let listed: Vec<(&str, &str, &str)> = problems
        .iter()
        .map(|p| (p.at.as_str(), p.message.as_str(), p.hint.as_str()))
        .collect();
    Err(Failure::general(crate::output::problems_message(
        path, &listed,
    )))
}

fn summary(people: usize, teams: usize, schedules: usize, channels: usize) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut text = format!(
        "{}, {}, {}",
        plural(people, "person", "people"),
        plural(teams, "team", "teams"),
        plural(schedules, "schedule", "schedules")
    );
    // Most rosters have none: say so only when there are some.
    if channels > 0 {
        text.push_str(&format!(", {}", plural(channels, "channel", "channels")));
    }
    text
}

/// `import FILE [--dry-run]`.
pub fn import(settings: &Settings, args: &ImportArgs) -> Result<(), Failure> {
    let (path, dry_run) = (args.file.as_path(), args.dry_run);
    let roster = load(path)?;
    // An empty file (or one whose tables are empty) would replace the server's roster
    // with nobody, and pages would reach no one: never done by accident from here.
    if roster.people.is_empty() {
        return Err(Failure::general(format!(
            "{}: defines no people, so importing it would remove everyone from the \
             server's roster and pages would reach nobody; nothing was sent\n  \
             hint: add a [people] table (docs/oncall.md); to empty the roster on purpose, \
             PUT /api/v1/roster?allow_empty=true",
            path.display()
        )));
    }
    if dry_run {
        outln!(
            "{}: ok — {} (dry run: nothing sent)",
            path.display(),
            summary(
                roster.people.len(),
                roster.teams.len(),
                roster.schedules.len(),
                roster.channels.len()
            )
        );
        return Ok(());
    }
    let body = serde_json::to_value(&roster).context("the roster as JSON")?;
    let stored: RosterImported = client(settings)?.put("/api/v1/roster", &body)?;
    outln!(
        "imported {} from {}",
        summary(
            stored.people,
            stored.teams,
            stored.schedules,
            stored.channels
        ),
        path.display()
    );
    Ok(())
}

fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).context("JSON output")?;
    outln!("{text}");
    Ok(())
}

/// `2026-03-02 09:00Z`.
fn utc(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%MZ").to_string()
}

/// `2026-03-02 10:00 CET` in `zone`, or UTC when the name is unknown to this machine's
/// time-zone database (the server checked it against its own).
fn local(t: Timestamp, zone: &str) -> String {
    let tz = TimeZone::get(zone).unwrap_or(TimeZone::UTC);
    t.to_zoned(tz).strftime("%Y-%m-%d %H:%M %Z").to_string()
}

/// `oncall …`.
pub fn oncall(settings: &Settings, command: &OncallCommand) -> Result<(), Failure> {
    let api = client(settings)?;
    match command {
        OncallCommand::Now { schedule, json } => who(&api, None, schedule.as_deref(), *json),
        OncallCommand::At {
            time,
            schedule,
            json,
        } => who(&api, Some(*time), schedule.as_deref(), *json),
        OncallCommand::Show {
            schedule,
            from,
            to,
            json,
        } => {
            let mut query = Vec::new();
            if let Some(from) = from {
                query.push(("from", from.to_string()));
            }
            if let Some(to) = to {
                query.push(("to", to.to_string()));
            }
            let list: ShiftList =
                api.get(&format!("/api/v1/schedules/{schedule}/shifts"), &query)?;
            if *json {
                return print_json(&list);
            }
            outln!(
                "{} ({}), {} – {}, times in UTC and {}",
                list.name,
                list.schedule,
                utc(list.from),
                utc(list.to),
                list.time_zone
            );
            if list.shifts.is_empty() {
                outln!("nobody is on call in this window");
                return Ok(());
            }
            let rows: Vec<Vec<String>> = list
                .shifts
                .iter()
                .map(|s| {
                    vec![
                        s.person.clone(),
                        utc(s.start),
                        utc(s.end),
                        local(s.start, &list.time_zone),
                        local(s.end, &list.time_zone),
                        s.layer.clone().unwrap_or_else(|| "override".to_owned()),
                    ]
                })
                .collect();
            let zone_start = format!("START ({})", list.time_zone);
            let zone_end = format!("END ({})", list.time_zone);
            out!(
                "{}",
                table(
                    &[
                        "PERSON",
                        "START (UTC)",
                        "END (UTC)",
                        &zone_start,
                        &zone_end,
                        "LAYER"
                    ],
                    &rows
                )
            );
            Ok(())
        }
    }
}

fn who(
    api: &crate::client::ApiClient,
    at: Option<Timestamp>,
    schedule: Option<&str>,
    json: bool,
) -> Result<(), Failure> {
    let mut query = Vec::new();
    if let Some(at) = at {
        query.push(("at", at.to_string()));
    }
    if let Some(s) = schedule {
        query.push(("schedule", s.to_owned()));
    }
    let list: OnCallList = api.get("/api/v1/oncall", &query)?;
    if json {
        return print_json(&list);
    }
    if list.oncall.is_empty() {
        outln!("the roster has no schedules (fireline import FILE)");
        return Ok(());
    }
    outln!("on call at {}", utc(list.at));
    let rows: Vec<Vec<String>> = list
        .oncall
        .iter()
        .map(|o| match &o.shift {
            Some(s) => vec![
                o.schedule.clone(),
                s.person.clone(),
                utc(s.start),
                utc(s.end),
                s.layer.clone().unwrap_or_else(|| "override".to_owned()),
            ],
            None => vec![
                o.schedule.clone(),
                "nobody".to_owned(),
                "-".to_owned(),
                "-".to_owned(),
                "-".to_owned(),
            ],
        })
        .collect();
    out!(
        "{}",
        table(
            &["SCHEDULE", "ON CALL", "SINCE (UTC)", "UNTIL (UTC)", "LAYER"],
            &rows
        )
    );
    Ok(())
}

fn person_detail(p: &PersonView) {
    outln!("{} ({})", p.name, p.id);
    outln!("  time zone: {}", p.time_zone);
    for c in &p.contacts {
        match &c.secret {
            Some(secret) => outln!("  contact: {} {} (secret {secret})", c.kind, c.address),
            None => outln!("  contact: {} {}", c.kind, c.address),
        }
    }
    if p.rules.is_empty() {
        outln!("  rules: every contact at once");
    }
    for r in &p.rules {
        outln!("  rule: {} after {}", r.kind, r.after);
    }
}

/// `person …`.
pub fn person(settings: &Settings, command: &PersonCommand) -> Result<(), Failure> {
    let api = client(settings)?;
    match command {
        PersonCommand::List { json } => {
            let list: PersonList = api.get("/api/v1/people", &[])?;
            if *json {
                return print_json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .people
                .iter()
                .map(|p| {
                    let kinds: Vec<&str> = p.contacts.iter().map(|c| c.kind.as_str()).collect();
                    vec![
                        p.id.clone(),
                        p.name.clone(),
                        p.time_zone.clone(),
                        kinds.join(", "),
                    ]
                })
                .collect();
            out!("{}", table(&["ID", "NAME", "TIME ZONE", "CONTACTS"], &rows));
            Ok(())
        }
        PersonCommand::Show { id, json } => {
            let person: PersonView = api.get(&format!("/api/v1/people/{id}"), &[])?;
            if *json {
                return print_json(&person);
            }
            person_detail(&person);
            Ok(())
        }
        PersonCommand::Test { id, kind, json } => {
            let query = match kind.as_deref() {
                // Contact kinds are plain words: anything else is not one.
                Some(k) if !k.chars().all(|c| c.is_ascii_alphanumeric()) => {
                    return Err(Failure::general(format!(
                        "`{k}` is not a contact kind: use email, slack, webhook, ntfy, pushover, sms or voice"
                    )))
                }
                Some(k) => format!("?kind={k}"),
                None => String::new(),
            };
            let sent: serde_json::Value = api.post(
                &format!("/api/v1/people/{id}/test{query}"),
                &serde_json::Value::Null,
            )?;
            if *json {
                return print_json(&sent);
            }
            for contact in sent["sent"].as_array().into_iter().flatten() {
                let verified = if contact["verified"] == true {
                    " (verified already)"
                } else {
                    ""
                };
                outln!(
                    "test page sent to {id} by {} {}{verified}",
                    contact["kind"].as_str().unwrap_or_default(),
                    contact["address"].as_str().unwrap_or_default()
                );
            }
            outln!("each asks to confirm it arrived; a confirmed contact counts as verified");
            Ok(())
        }
    }
}

/// `team list`.
pub fn team(settings: &Settings, command: &TeamCommand) -> Result<(), Failure> {
    let TeamCommand::List { json } = command;
    let list: TeamList = client(settings)?.get("/api/v1/teams", &[])?;
    if *json {
        return print_json(&list);
    }
    let rows: Vec<Vec<String>> = list
        .teams
        .iter()
        .map(|t| {
            vec![
                t.id.clone(),
                t.name.clone(),
                t.schedule.clone().unwrap_or_else(|| "-".to_owned()),
                t.members.join(", "),
            ]
        })
        .collect();
    out!("{}", table(&["ID", "NAME", "SCHEDULE", "MEMBERS"], &rows));
    Ok(())
}

/// `schedule list`.
pub fn schedule(settings: &Settings, command: &ScheduleCommand) -> Result<(), Failure> {
    let ScheduleCommand::List { json } = command;
    let list: ScheduleList = client(settings)?.get("/api/v1/schedules", &[])?;
    if *json {
        return print_json(&list);
    }
    let rows: Vec<Vec<String>> = list
        .schedules
        .iter()
        .map(|s| {
            let layers: Vec<String> = s
                .layers
                .iter()
                .map(|l| format!("{} ({}: {})", l.name, l.shift, l.participants.join(", ")))
                .collect();
            vec![
                s.id.clone(),
                s.name.clone(),
                s.time_zone.clone(),
                layers.join("; "),
            ]
        })
        .collect();
    out!("{}", table(&["ID", "NAME", "TIME ZONE", "LAYERS"], &rows));
    Ok(())
}
