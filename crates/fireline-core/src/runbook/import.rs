//! Splitting a playbook into runbooks, one per scenario.
//!
//! Scenarios are found by heading: `Runbook N: Title`; the children of a heading that
//! names common incidents, issues or scenarios; and a checklist whose children all carry
//! time windows (a phased runbook). Inside a scenario, bold lead-ins such as
//! `**Symptoms:**` become headings, and list items under action headings (`Quick Fix`,
//! `Remediation Steps`, `Mitigation`, `Investigation`) become `- [ ]` steps.

use super::parse::{fence_open, heading, window};
use super::{slug, SectionKind};
use regex::Regex;
use std::collections::BTreeSet;
use std::sync::LazyLock;

/// One runbook cut out of a playbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Its id, from its title.
    pub id: String,
    /// Its title.
    pub title: String,
    /// The runbook file's text.
    pub markdown: String,
}

static RUNBOOK_N: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)] // a literal pattern, checked by every test
    Regex::new(r"(?i)^runbook\s+\d+\s*:\s*(.+)$").unwrap()
});
static BOLD_LEAD: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)]
    Regex::new(r"^\*\*([^*]{1,40}?):?\*\*:?\s*(.*)$").unwrap()
});
static ITEM: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)]
    Regex::new(r"^\s*(?:[-*+]|\d+[.)])\s+(.*\S)\s*$").unwrap()
});
static ALERT: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)]
    Regex::new(r"(?i)alert[^`\n]*`([A-Za-z][A-Za-z0-9_]+)`").unwrap()
});
static SEVERITY: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)]
    Regex::new(r"(?i)severity:\s*\**\s*(critical|high|medium|low)\b").unwrap()
});
static NUMBERED: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)]
    Regex::new(r"^\d+[.)]\s+").unwrap()
});

struct Heading {
    index: usize,
    level: usize,
    text: String,
}

/// Cuts every scenario out of `text`; `source` is named in each runbook's front matter.
pub fn import(text: &str, source: &str) -> Vec<Imported> {
    let lines: Vec<&str> = text.lines().collect();
    let headings = headings(&lines);
    let end_of = |h: usize| {
        headings[h + 1..]
            .iter()
            .find(|o| o.level <= headings[h].level)
            .map_or(lines.len(), |o| o.index)
    };
    let mut out = Vec::new();
    let mut ids = BTreeSet::new();
    for (h, head) in headings.iter().enumerate() {
        let lower = head.text.to_lowercase();
        let end = end_of(h);
        let children: Vec<usize> = (h + 1..headings.len())
            .take_while(|&c| headings[c].index < end)
            .filter(|&c| headings[c].level == head.level + 1)
            .collect();
        if let Some(caps) = RUNBOOK_N.captures(&head.text) {
            out.push(scenario(&lines, head, end, caps[1].trim(), source));
        } else if lower.contains("common incident") || lower.contains("common issues") {
            for &c in &children {
                let title = NUMBERED.replace(&headings[c].text, "").to_string();
                out.push(scenario(&lines, &headings[c], end_of(c), &title, source));
            }
        } else if !children.is_empty()
            && children
                .iter()
                .all(|&c| window(&headings[c].text).is_some())
        {
            out.push(scenario(&lines, head, end, &head.text, source));
        }
    }
    // Two scenarios with one title would overwrite each other's file: number the later.
    for imported in &mut out {
        let mut id = imported.id.clone();
        let mut n = 2;
        while !ids.insert(id.clone()) {
            id = format!("{}-{n}", imported.id);
            n += 1;
        }
        if id != imported.id {
            imported.markdown = imported.markdown.replacen(
                &format!("id: {}", imported.id),
                &format!("id: {id}"),
                1,
            );
            imported.id = id;
        }
    }
    out
}

fn headings(lines: &[&str]) -> Vec<Heading> {
    let mut out = Vec::new();
    let mut fence: Option<String> = None;
    for (index, line) in lines.iter().enumerate() {
        if let Some(marker) = &fence {
            if line.trim().starts_with(marker.as_str()) && line.trim().len() >= marker.len() {
                fence = None;
            }
            continue;
        }
        if let Some((marker, _)) = fence_open(line) {
            fence = Some(marker);
            continue;
        }
        if let Some((level, text)) = heading(line) {
            out.push(Heading { index, level, text });
        }
    }
    out
}

/// Whether list items under this heading are things to do.
fn is_action(heading: &str) -> bool {
    let lower = heading.to_lowercase();
    matches!(
        SectionKind::recognise(heading),
        Some(SectionKind::Investigation)
    ) || ["fix", "remediation", "mitigation", "resolution", "steps"]
        .iter()
        .any(|w| lower.contains(w))
}

fn scenario(lines: &[&str], head: &Heading, end: usize, title: &str, source: &str) -> Imported {
    let body = &lines[head.index + 1..end];
    let mut md = Vec::new();
    let mut fence: Option<String> = None;
    // Levels in the output: the scenario's own heading is `#`, its children `##`.
    let mut depth = 1;
    let mut action = false;
    for line in body {
        if let Some(marker) = &fence {
            if line.trim().starts_with(marker.as_str()) {
                fence = None;
            }
            md.push(line.to_string());
            continue;
        }
        if let Some((marker, _)) = fence_open(line) {
            fence = Some(marker);
            md.push(line.to_string());
            continue;
        }
        if let Some((level, text)) = heading(line) {
            depth = (level + 1).saturating_sub(head.level).max(2);
            action = is_action(&text);
            blank_before(&mut md);
            md.push(format!("{} {text}", "#".repeat(depth)));
            continue;
        }
        if let Some(caps) = BOLD_LEAD.captures(line) {
            let name = caps[1].trim();
            if SectionKind::recognise(name).is_some() || is_action(name) {
                let level = (depth + 1).min(6);
                action = is_action(name);
                blank_before(&mut md);
                md.push(format!("{} {name}", "#".repeat(level)));
                md.push(String::new());
                if !caps[2].trim().is_empty() {
                    md.push(caps[2].trim().to_string());
                }
                continue;
            }
        }
        if action && !line.contains("[ ]") && !line.contains("[x]") {
            if let Some(caps) = ITEM.captures(line) {
                md.push(format!("- [ ] {}", &caps[1]));
                continue;
            }
        }
        md.push(line.to_string());
    }
    while md
        .last()
        .is_some_and(|l| l.trim().is_empty() || l.trim() == "---")
    {
        md.pop();
    }
    let whole = body.join("\n");
    let mut alerts: Vec<String> = Vec::new();
    for caps in ALERT.captures_iter(&whole) {
        if !alerts.contains(&caps[1].to_string()) {
            alerts.push(caps[1].to_string());
        }
    }
    let severity = SEVERITY.captures(&whole).map(|c| {
        match c[1].to_lowercase().as_str() {
            "critical" => "SEV1",
            "high" => "SEV2",
            "medium" => "SEV3",
            _ => "SEV4",
        }
        .to_string()
    });
    let id = slug(title, 48);
    let mut front = format!(
        "---\n# Imported from {source} by `fireline runbook import`.\nid: {id}\ntitle: {}\n",
        yaml_string(title)
    );
    if !alerts.is_empty() {
        front.push_str(&format!("alerts: [{}]\n", alerts.join(", ")));
    }
    if let Some(sev) = &severity {
        front.push_str(&format!("severity: {sev}\n"));
    }
    front.push_str("---\n");
    let body = md.join("\n");
    Imported {
        id,
        title: title.to_string(),
        markdown: format!("{front}\n# {title}\n\n{}\n", body.trim()),
    }
}

/// Headings get a blank line above them, as Markdown style guides ask.
fn blank_before(md: &mut Vec<String>) {
    if md.last().is_some_and(|l| !l.trim().is_empty()) {
        md.push(String::new());
    }
}

/// Quotes a YAML scalar (titles have colons and `&`).
fn yaml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
