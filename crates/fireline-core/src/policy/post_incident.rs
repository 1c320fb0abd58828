//! What a policy asks for after an incident (`[post_incident]`): which incidents need a
//! post-mortem, the built-in template its draft starts from, stage deadlines and reminders,
//! and follow-up checkpoints. `postmortem` and `plan` read these.

use super::PolicyDuration;
use crate::Stage;
use std::fmt;
use std::str::FromStr;

/// Post-incident work and its deadlines, measured from resolution.
#[derive(Debug, Clone, PartialEq)]
pub struct PostIncident {
    /// Severities that need a post-mortem; empty means the major ones.
    pub severities: Vec<String>,
    /// Stage deadlines.
    pub stages: Vec<StageDeadline>,
    /// Follow-up checkpoints.
    pub followups: Vec<Followup>,
    /// The built-in post-mortem template drafts start from.
    pub template: Template,
    /// How long before a stage's deadline `postmortem_reminder` is recorded; `None`
    /// (written `"0m"`) for no reminders.
    pub remind_before: Option<PolicyDuration>,
}

/// Reminders come this long before a post-mortem stage is due unless a policy says
/// otherwise: half a working day, enough to finish a draft on the day it is due.
pub const DEFAULT_REMIND_BEFORE: PolicyDuration =
    PolicyDuration::Fixed(jiff::SignedDuration::from_hours(4));

impl Default for PostIncident {
    fn default() -> Self {
        PostIncident {
            severities: Vec::new(),
            stages: Vec::new(),
            followups: Vec::new(),
            template: Template::default(),
            remind_before: Some(DEFAULT_REMIND_BEFORE),
        }
    }
}

/// A stage's deadline.
#[derive(Debug, Clone, PartialEq)]
pub struct StageDeadline {
    /// Which stage.
    pub stage: Stage,
    /// After resolution.
    pub within: PolicyDuration,
}

/// A follow-up checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Followup {
    /// Label (`1 week`).
    pub label: String,
    /// After resolution.
    pub after: PolicyDuration,
}

/// A built-in post-mortem template, chosen by a policy's `[post_incident] template`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Template {
    /// Fireline's own: the facts first, then a prompt per section.
    #[default]
    Standard,
    /// Seed 001's: executive summary, detection and response "what worked / what could
    /// be improved", lessons with "where did we get lucky", related incidents, appendix.
    AgenticFlow,
    /// Seed 003's: summary, what went well / wrong, prevention, owner and reviewers.
    ProductionAgents,
}

impl Template {
    /// Every template.
    pub const ALL: [Template; 3] = [
        Template::Standard,
        Template::AgenticFlow,
        Template::ProductionAgents,
    ];

    /// Its name in policy files.
    pub fn as_str(self) -> &'static str {
        match self {
            Template::Standard => "standard",
            Template::AgenticFlow => "agentic-flow",
            Template::ProductionAgents => "production-agents",
        }
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Template {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        Template::ALL
            .into_iter()
            .find(|t| t.as_str() == wanted)
            .ok_or_else(|| format!("unknown post-mortem template `{s}`"))
    }
}
