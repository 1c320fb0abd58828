//! `fireline runbook lint|list|show|import`: runbook files read and checked locally.

use crate::exit::Failure;
use crate::output::table;
use clap::Subcommand;
use fireline_core::policy::routing::{Field, MatchTest};
use fireline_core::runbook::{self, import::import, Problem, Runbook};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

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

/// Runs a runbook subcommand: all of them work on local files, without a server.
pub fn run(command: &RunbookCommand) -> Result<(), Failure> {
    match command {
        RunbookCommand::Lint {
            path,
            alerts,
            policy,
        } => lint(path, alerts.as_deref(), policy.as_deref()),
        RunbookCommand::List { dir, json } => list(dir, *json),
        RunbookCommand::Show { id, dir, json } => show(id, dir, *json),
        RunbookCommand::Import { seed, out } => import_command(seed, out),
    }
}

/// The runbook files at `path`: the file itself, or every `*.md` in the folder and its
/// subfolders, sorted so ids and problems come out in a stable order.
pub fn files(path: &Path) -> Result<Vec<(String, String)>, Failure> {
    let mut paths = Vec::new();
    if path.is_dir() {
        collect(path, &mut paths)?;
        paths.sort();
    } else {
        paths.push(path.to_path_buf());
    }
    paths
        .into_iter()
        .map(|p| {
            std::fs::read_to_string(&p)
                .map(|text| (p.display().to_string(), text))
                .map_err(|e| Failure::general(format!("cannot read {}: {e}", p.display())))
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Failure> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Failure::general(format!("cannot read {}: {e}", dir.display())))?;
    for entry in entries {
        let path = entry
            .map_err(|e| Failure::general(format!("cannot read {}: {e}", dir.display())))?
            .path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
    Ok(())
}

fn failure(problems: &[Problem]) -> Failure {
    let mut message = format!(
        "{} problem{}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    // `file:line: message (hint: …)`, one line each, as linters print them.
    for p in problems {
        message.push_str(&format!("\n  {}: {} (hint: {})", p.at, p.message, p.hint));
    }
    Failure::general(message)
}

/// Reads a folder of runbooks for the server; any problem refuses the whole folder, so
/// a typo never silently drops a runbook responders count on.
pub fn load(dir: &Path) -> Result<Vec<Runbook>, Failure> {
    let files = files(dir)?;
    let (books, problems) = runbook::lint(&files, None, &|p: &Path| p.exists());
    let fatal: Vec<Problem> = problems
        .into_iter()
        .filter(|p| {
            // Style problems (a missing section, a broken link) are for `lint`; the
            // server refuses only what makes a folder ambiguous or unreadable.
            !p.message.starts_with("missing recommended")
                && !p.message.starts_with("broken link")
                && !p.message.starts_with("no checklist")
        })
        .collect();
    if !fatal.is_empty() {
        return Err(failure(&fatal));
    }
    Ok(books)
}

/// `runbook lint PATH [--alerts FILE] [--policy FILE]`.
pub fn lint(path: &Path, alerts: Option<&Path>, policy_path: Option<&Path>) -> Result<(), Failure> {
    let files = files(path)?;
    let mut known: Option<BTreeSet<String>> = None;
    if let Some(file) = alerts {
        let text = std::fs::read_to_string(file)
            .map_err(|e| Failure::general(format!("cannot read {}: {e}", file.display())))?;
        known = Some(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned)
                .collect(),
        );
    }
    let policy = policy_path.map(crate::policy::load).transpose()?;
    if let Some(policy) = &policy {
        let names: BTreeSet<String> = policy
            .routes
            .iter()
            .flat_map(|r| &r.matchers)
            .filter_map(|m| match (&m.field, &m.test) {
                (Field::Label(l), MatchTest::Equals(v)) if l == "alertname" => Some(v.clone()),
                _ => None,
            })
            .collect();
        known.get_or_insert_with(BTreeSet::new).extend(names);
    }
    let (books, mut problems) = runbook::lint(&files, known.as_ref(), &|p: &Path| p.exists());
    if let (Some(policy), Some(file)) = (&policy, policy_path) {
        // Routes have no line numbers once read; line 0 names the file, the route its name.
        let file = file.display().to_string();
        let ids: BTreeSet<&str> = books.iter().map(|b| b.id.as_str()).collect();
        for route in &policy.routes {
            if let Some(id) = &route.runbook {
                if !ids.contains(id.as_str()) {
                    problems.push(Problem::in_file(
                        &file,
                        0,
                        format!("route `{}` names unknown runbook `{id}`", route.name),
                        format!("add a runbook with `id: {id}` to {}", path.display()),
                    ));
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(failure(&problems));
    }
    outln!(
        "{}: {} runbook{}, no problems",
        path.display(),
        books.len(),
        if books.len() == 1 { "" } else { "s" }
    );
    Ok(())
}

fn summary(book: &Runbook) -> Value {
    json!({
        "id": book.id,
        "title": book.title,
        "alerts": book.alerts,
        "labels": book.labels,
        "services": book.services,
        "severity": book.severity,
        "steps": book.steps.len(),
        "phases": book.phases.len(),
    })
}

/// `runbook list DIR [--json]`.
pub fn list(dir: &Path, json: bool) -> Result<(), Failure> {
    let books = load(dir)?;
    if json {
        let all: Vec<Value> = books.iter().map(summary).collect();
        outln!("{}", Value::Array(all));
        return Ok(());
    }
    let rows: Vec<Vec<String>> = books
        .iter()
        .map(|b| {
            vec![
                b.id.clone(),
                b.title.clone(),
                b.steps.len().to_string(),
                b.alerts.join(","),
            ]
        })
        .collect();
    out!("{}", table(&["ID", "TITLE", "STEPS", "ALERTS"], &rows));
    Ok(())
}

/// `runbook show ID --dir DIR [--json]`.
pub fn show(id: &str, dir: &Path, json: bool) -> Result<(), Failure> {
    let books = load(dir)?;
    let book = books
        .iter()
        .find(|b| b.id == id)
        .ok_or_else(|| Failure::general(format!("no runbook `{id}` in {}", dir.display())))?;
    if json {
        let mut value = summary(book);
        value["sections"] = book
            .sections
            .iter()
            .map(|s| json!({"heading": s.heading, "recognised": s.kind.map(|k| k.heading())}))
            .collect();
        value["steps"] = serde_json::to_value(&book.steps).unwrap_or_default();
        value["phases"] = serde_json::to_value(&book.phases).unwrap_or_default();
        outln!("{value}");
        return Ok(());
    }
    outln!("{} — {}", book.id, book.title);
    if !book.alerts.is_empty() {
        outln!("alerts: {}", book.alerts.join(", "));
    }
    if let Some(sev) = &book.severity {
        outln!("severity: {sev}");
    }
    for phase in &book.phases {
        outln!(
            "phase {} ({}–{} min)",
            phase.name,
            phase.from_minutes,
            phase.to_minutes
        );
    }
    let mut section = "";
    for step in &book.steps {
        if step.section != section {
            section = &step.section;
            outln!("\n## {section}");
        }
        outln!("[ ] {}  ({})", step.text, step.id);
        if let Some(cmd) = &step.command {
            for line in cmd.lines() {
                outln!("      $ {line}");
            }
        }
    }
    Ok(())
}

/// `runbook import SEED --out DIR`: writes one file per scenario, then lints them.
pub fn import_command(seed: &Path, out: &Path) -> Result<(), Failure> {
    let text = std::fs::read_to_string(seed)
        .map_err(|e| Failure::general(format!("cannot read {}: {e}", seed.display())))?;
    let name = seed
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let imported = import(&text, &name);
    if imported.is_empty() {
        return Err(Failure::general(format!(
            "{}: no scenarios found (looked for `Runbook N: …` headings, common incidents, issues or scenarios, and phased checklists)",
            seed.display()
        )));
    }
    std::fs::create_dir_all(out)
        .map_err(|e| Failure::general(format!("cannot create {}: {e}", out.display())))?;
    for one in &imported {
        // Another playbook's runbook may already hold this id (two seeds both have a
        // "High Error Rate"): take the next free id rather than overwrite it. The same
        // file again is rewritten, so importing twice changes nothing.
        let (mut id, mut markdown) = (one.id.clone(), one.markdown.clone());
        let mut n = 2;
        let mut path = out.join(format!("{id}.md"));
        while std::fs::read_to_string(&path).is_ok_and(|old| old != markdown) {
            id = format!("{}-{n}", one.id);
            markdown = one
                .markdown
                .replacen(&format!("id: {}", one.id), &format!("id: {id}"), 1);
            path = out.join(format!("{id}.md"));
            n += 1;
        }
        std::fs::write(&path, &markdown)
            .map_err(|e| Failure::general(format!("cannot write {}: {e}", path.display())))?;
        outln!("{}\t{}", path.display(), one.title);
    }
    Ok(())
}
