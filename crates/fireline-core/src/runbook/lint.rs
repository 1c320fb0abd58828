//! Checking a folder of runbooks: every problem with file, line and a hint.

use super::{parse, Runbook, SectionKind};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A problem in one file: `at` is `file:line` ([`Problem::in_file`]).
pub use crate::problem::Problem;

/// Checks runbook files given as (path, text). `known_alerts`, when given, are the alert
/// names that exist; `exists` says whether a path a relative link resolves to exists
/// (the caller does the I/O, so this stays pure). Returns the runbooks that parsed and
/// the problems found, in file order.
pub fn lint(
    files: &[(String, String)],
    known_alerts: Option<&BTreeSet<String>>,
    exists: &dyn Fn(&Path) -> bool,
) -> (Vec<Runbook>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut books = Vec::new();
    let mut seen: BTreeMap<String, (String, usize)> = BTreeMap::new();
    for (file, text) in files {
        let mut problem = |line: usize, message: String, hint: String| {
            problems.push(Problem::in_file(file, line, message, hint))
        };
        let book = match parse(text) {
            Ok(book) => book,
            Err(e) => {
                problem(e.line, e.message, e.hint);
                continue;
            }
        };
        if let Some((first, line)) = seen.get(&book.id) {
            problem(
                book.id_line,
                format!("duplicate id `{}`", book.id),
                format!("{first}:{line} already uses it; give one of them another id"),
            );
        } else {
            seen.insert(book.id.clone(), (file.clone(), book.id_line));
        }
        let kinds: BTreeSet<SectionKind> = book.sections.iter().filter_map(|s| s.kind).collect();
        // A phased checklist answers any incident, so its phases stand in for symptoms
        // and fixes; every other runbook must say how to recognise the problem and what
        // to do about it.
        if book.phases.is_empty() {
            if !kinds.contains(&SectionKind::Symptoms) {
                problem(
                    book.id_line,
                    "missing recommended section `Symptoms`".into(),
                    "add `## Symptoms`: how a responder recognises this problem".into(),
                );
            }
            if !kinds.contains(&SectionKind::Investigation)
                && !kinds.contains(&SectionKind::Resolution)
            {
                problem(
                    book.id_line,
                    "missing recommended section `Investigation` or `Common causes & resolutions`".into(),
                    "add `## Investigation` with the commands to diagnose, or `## Common causes & resolutions`".into(),
                );
            }
        }
        if book.steps.is_empty() {
            problem(
                book.id_line,
                "no checklist steps".into(),
                "add `- [ ] …` items or a ```bash fence with commands".into(),
            );
        }
        if let Some(known) = known_alerts {
            for alert in &book.alerts {
                if !known.contains(alert) {
                    let line = text
                        .lines()
                        .position(|l| l.contains(alert.as_str()))
                        .map_or(book.id_line, |i| i + 1);
                    problem(
                        line,
                        format!("unknown alert `{alert}`"),
                        "check the spelling against your alert rules, or add it to the alerts file"
                            .into(),
                    );
                }
            }
        }
        let dir = Path::new(file).parent().unwrap_or(Path::new(""));
        for (line, target) in &book.links {
            let path = target.split('#').next().unwrap_or(target);
            if !path.is_empty() && !exists(&dir.join(path)) {
                problem(
                    *line,
                    format!("broken link `{target}`"),
                    "relative links resolve from this file's folder; fix the path or remove the link"
                        .into(),
                );
            }
        }
        books.push(book);
    }
    (books, problems)
}
