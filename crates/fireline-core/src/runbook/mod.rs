//! Runbooks: Markdown files with YAML front matter, read into sections and checklist
//! steps (`parse`), checked (`lint`), split out of playbooks (`import`), and followed
//! on an incident (`progress`).
//!
//! The Markdown subset that matters here is small and line-oriented — ATX headings,
//! fenced code blocks, list items, inline links — so it is scanned line by line, which
//! keeps every location exact (see ARCHITECTURE.md, "Dependencies and why").

pub mod import;
pub mod lint;
mod parse;
pub mod progress;

pub use lint::{lint, Problem};
pub use parse::{parse, ParseError};
pub use progress::{phase_status, Checklist, PhaseStatus};

use std::collections::BTreeMap;

/// A runbook as read from its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runbook {
    /// Its id (`agent-down`), unique in a folder.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Alert names it answers.
    pub alerts: Vec<String>,
    /// Label matchers it answers (`name: value`).
    pub labels: BTreeMap<String, String>,
    /// Services it is about.
    pub services: Vec<String>,
    /// The severity it suggests.
    pub severity: Option<String>,
    /// Its `##` sections, in order.
    pub sections: Vec<Section>,
    /// Its checklist steps, in order.
    pub steps: Vec<Step>,
    /// Its phases with time windows, in order (none for most runbooks).
    pub phases: Vec<Phase>,
    /// Relative links, for the linter: (line, target).
    pub links: Vec<(usize, String)>,
    /// The line of the front matter's `id`, for the linter.
    pub id_line: usize,
}

/// The sections a runbook is expected to have, recognised by their heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SectionKind {
    /// How to recognise it.
    Symptoms,
    /// What it affects.
    Impact,
    /// How to diagnose it.
    Investigation,
    /// Causes and what fixes each.
    Resolution,
    /// What to tell whom.
    Communication,
    /// How to avoid it next time.
    Prevention,
}

impl SectionKind {
    /// The canonical heading.
    pub fn heading(self) -> &'static str {
        match self {
            SectionKind::Symptoms => "Symptoms",
            SectionKind::Impact => "Impact",
            SectionKind::Investigation => "Investigation",
            SectionKind::Resolution => "Common causes & resolutions",
            SectionKind::Communication => "Communication",
            SectionKind::Prevention => "Prevention",
        }
    }

    /// Recognises a heading, ignoring case, punctuation and a few synonyms that playbooks
    /// use for the same thing (`Quick Fix`, `Remediation Steps`, `Mitigation`).
    pub fn recognise(heading: &str) -> Option<SectionKind> {
        let words: String = heading
            .to_lowercase()
            .replace('&', " and ")
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { ' ' })
            .collect();
        let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
        Some(match words.as_str() {
            "symptoms" => SectionKind::Symptoms,
            "impact" => SectionKind::Impact,
            "investigation"
            | "investigation steps"
            | "investigation and resolution"
            | "diagnosis"
            | "diagnostics" => SectionKind::Investigation,
            "common causes and resolutions"
            | "common causes"
            | "causes"
            | "root cause"
            | "resolution"
            | "resolutions"
            | "remediation"
            | "remediation steps"
            | "mitigation"
            | "quick fix" => SectionKind::Resolution,
            "communication" | "communication template" | "communications" => {
                SectionKind::Communication
            }
            "prevention" => SectionKind::Prevention,
            _ => return None,
        })
    }
}

/// A `##` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The heading as written.
    pub heading: String,
    /// What it is, if recognised.
    pub kind: Option<SectionKind>,
    /// Line of the heading, from 1.
    pub line: usize,
}

/// A checklist step: a `- [ ]` item, or a command from a shell fence.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Step {
    /// Stable id: section and text slugged, so a reload or an unrelated edit keeps it.
    pub id: String,
    /// The `##` section it is in.
    pub section: String,
    /// What to do.
    pub text: String,
    /// The command to run, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The phase it belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Line in the file (not stored on incidents).
    #[serde(skip)]
    pub line: usize,
}

/// A phase: a heading with a time window after declaration, such as
/// `## Phase 2: Investigation (5-15 min)`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Phase {
    /// The heading without its window.
    pub name: String,
    /// Window start, in minutes after declaration.
    pub from_minutes: u32,
    /// Window end, in minutes after declaration: unchecked steps past it are overdue.
    pub to_minutes: u32,
}

/// Lower-case ASCII words joined by `-`, at most `max` bytes, cut at a word boundary.
pub fn slug(text: &str, max: usize) -> String {
    let mut out = String::new();
    for word in text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let extra = word.len() + usize::from(!out.is_empty());
        if !out.is_empty() && out.len() + extra > max {
            break;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&word.to_ascii_lowercase());
    }
    out.truncate(max);
    out
}
