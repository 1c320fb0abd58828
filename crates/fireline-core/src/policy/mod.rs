//! Policy as code: severities, response clocks, cadences, escalation, objectives and
//! post-incident deadlines, parsed from TOML ([`Policy::from_toml`]) and checked
//! ([`check()`]) before a server trusts them.
//!
//! A policy is plain data: what acts on it (planning, rendering messages, deciding what an
//! alert does, writing post-mortems) lives in the modules that use this one, never the
//! other way round.

pub mod audience;
pub mod calendar;
pub mod check;
pub mod duration;
mod file;
pub mod post_incident;
pub mod routing;
pub mod templates;

pub use audience::{Audience, NoticeKind, NotifySettings};
pub use calendar::Calendar;
pub use check::{check, warnings, Problem};
pub use duration::PolicyDuration;
pub use post_incident::{Followup, PostIncident, StageDeadline, DEFAULT_REMIND_BEFORE};
pub use routing::{AlertSettings, AutoResolve, Maintenance, MaintenanceNotice, Refire, Route};

use crate::{Channel, ClockKind, Severity, SeverityCatalog};
use std::fmt;

/// The built-in default policy's text.
pub const BUILTIN: &str = include_str!("../../../../policies/default.toml");

/// A whole policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Short name, recorded on incidents declared under it.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Working week for business-day deadlines.
    pub calendar: Calendar,
    /// Severity levels with their clocks, cadences and paging, most severe first.
    pub severities: Vec<SeverityPolicy>,
    /// Escalation levels, level 1 first.
    pub escalation: Vec<EscalationLevel>,
    /// Incident categories with recovery objectives.
    pub categories: Vec<Category>,
    /// When customers must (or may) be told after the fact.
    pub customer_notice: Vec<CustomerNoticeRule>,
    /// Post-incident deadlines.
    pub post_incident: PostIncident,
    /// Alert handling defaults.
    pub alerts: AlertSettings,
    /// Alert routes, first match wins.
    pub routes: Vec<Route>,
    /// Maintenance windows.
    pub maintenance: Vec<Maintenance>,
    /// Message templates and the incident channel's name.
    pub templates: templates::Templates,
    /// Who hears about breaches, reminders and deadlines (`[notify]`).
    pub notify: NotifySettings,
    /// The severities whose incidents get a chat channel of their own, named by
    /// `templates.channel_name` (`[incident_channel]`; empty: none do).
    pub incident_channel: Vec<String>,
    /// Short content digest, so the exact policy in force can be named.
    pub digest: String,
    /// The file's text as read, for showing (read-only) what is in force.
    pub source: String,
    /// The severities as a lookup (derived from `severities` when read).
    pub(crate) catalog: SeverityCatalog,
}

/// One severity level and what it demands.
#[derive(Debug, Clone, PartialEq)]
pub struct SeverityPolicy {
    /// Id, name, description, rank.
    pub severity: Severity,
    /// Example situations, for people choosing a level.
    pub examples: Vec<String>,
    /// Major incidents need stakeholder notice and a post-mortem.
    pub major: bool,
    /// Response clocks.
    pub clocks: Vec<ClockRule>,
    /// Update cadences per channel.
    pub updates: Vec<Cadence>,
    /// One-shot update deadlines per channel, at most one per channel.
    pub notices: Vec<NoticeDeadline>,
    /// Who is paged when an incident is declared at (or raised to) this level.
    pub page: Vec<Target>,
    /// Time in `monitoring` before a resolution counts as verified.
    pub monitoring: Option<PolicyDuration>,
}

/// Where a clock starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// At declaration (or reopening).
    Declared,
    /// At acknowledgement; the clock does not run before someone acknowledges.
    Acknowledged,
}

/// A response-time target.
#[derive(Debug, Clone, PartialEq)]
pub struct ClockRule {
    /// Which clock.
    pub clock: ClockKind,
    /// How long.
    pub within: PolicyDuration,
    /// Measured from.
    pub from: Anchor,
}

/// How often a channel needs an update while the incident is open.
#[derive(Debug, Clone, PartialEq)]
pub struct Cadence {
    /// Which channel.
    pub channel: Channel,
    /// Interval between updates.
    pub every: PolicyDuration,
    /// Whether fireline reminds when an update is due (an optional channel only
    /// documents the expected rhythm).
    pub required: bool,
}

/// A one-shot deadline for an update on a channel while the incident is open
/// (`[severities.ID.notices]`): unlike a [`Cadence`] it does not repeat, and unlike a
/// [`CustomerNoticeRule`] it runs before resolution.
#[derive(Debug, Clone, PartialEq)]
pub struct NoticeDeadline {
    /// The channel owed an update.
    pub channel: Channel,
    /// How long after the (re)opening the incident must still be open for the update to
    /// be owed at all (zero: from the start). Updates posted before then do not count.
    pub after: PolicyDuration,
    /// How long from that moment to the deadline.
    pub within: PolicyDuration,
    /// How long before the deadline a reminder is recorded (`None`: no reminder).
    pub remind_before: Option<PolicyDuration>,
}

/// Someone or something to page: resolved to people by on-call.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// An on-call schedule.
    Schedule(String),
    /// A person.
    Person(String),
    /// A team.
    Team(String),
    /// A chat or mail channel (e.g. `#incidents`).
    Channel(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Schedule(n) => write!(f, "schedule:{n}"),
            Target::Person(n) => write!(f, "person:{n}"),
            Target::Team(n) => write!(f, "team:{n}"),
            Target::Channel(n) => write!(f, "channel:{n}"),
        }
    }
}

impl std::str::FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (kind, name) = s.split_once(':').ok_or_else(|| {
            format!(
                "target `{s}` needs a kind: schedule:NAME, person:NAME, team:NAME or channel:NAME"
            )
        })?;
        let name = name.trim();
        if name.is_empty() {
            return Err(format!("target `{s}` has no name"));
        }
        match kind.trim() {
            "schedule" => Ok(Target::Schedule(name.to_owned())),
            "person" => Ok(Target::Person(name.to_owned())),
            "team" => Ok(Target::Team(name.to_owned())),
            "channel" => Ok(Target::Channel(name.to_owned())),
            other => Err(format!(
                "unknown target kind `{other}`: expected schedule, person, team or channel"
            )),
        }
    }
}

/// One escalation level.
#[derive(Debug, Clone, PartialEq)]
pub struct EscalationLevel {
    /// 1 for the first.
    pub level: u32,
    /// Name (`Engineering lead`).
    pub name: String,
    /// Who it reaches.
    pub targets: Vec<Target>,
    /// When it is reached: the earliest trigger that holds.
    pub triggers: Vec<Trigger>,
    /// The last level only: page it again this often while nobody acknowledges, then
    /// declare escalation exhausted.
    pub repeat: Option<Repeat>,
}

/// How the last escalation level repeats.
#[derive(Debug, Clone, PartialEq)]
pub struct Repeat {
    /// Repeats after the first time (so `times + 1` pages in all).
    pub times: u32,
    /// Interval between them.
    pub every: PolicyDuration,
}

/// When an escalation level is reached.
#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    /// The condition.
    pub condition: Condition,
    /// Only for incidents at these severities (empty: any).
    pub severities: Vec<String>,
}

/// Escalation conditions.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// At declaration (or when raised to a listed severity).
    Declared,
    /// Nobody acknowledged within this long of declaration.
    NotAcknowledged(PolicyDuration),
    /// The status did not move within this long of the last move.
    NoProgress(PolicyDuration),
    /// Still open this long after declaration.
    OpenLongerThan(PolicyDuration),
    /// This fraction of the category's recovery-time objective has passed.
    RtoFraction(f64),
    /// The incident carries this flag (`data-loss`, `security`).
    Flag(String),
    /// Only when a responder escalates by hand.
    Manual,
}

/// An incident category with recovery objectives.
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    /// Kebab-case id (`database-crash`).
    pub id: String,
    /// Name.
    pub name: String,
    /// Recovery-time objective.
    pub rto: Option<PolicyDuration>,
    /// Recovery-point objective (data loss tolerated), for people and reports.
    pub rpo: Option<PolicyDuration>,
}

/// When customers are told after an incident.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerNoticeRule {
    /// Severities it applies to (the most severe level the incident reached).
    pub severities: Vec<String>,
    /// Only for incidents open longer than this.
    pub open_longer_than: PolicyDuration,
    /// Required, or merely recommended.
    pub required: bool,
    /// Deadline after resolution.
    pub send_within: PolicyDuration,
}

impl Policy {
    /// The severity catalog this policy defines.
    pub fn catalog(&self) -> &SeverityCatalog {
        &self.catalog
    }

    /// The policy a fresh install runs: `policies/default.toml`, compiled in.
    pub fn builtin() -> Policy {
        match Policy::from_toml(BUILTIN) {
            Ok(policy) => policy,
            // The file is checked by a test; a broken build cannot get here unnoticed.
            Err(problems) => panic!("the built-in policy is invalid: {problems:?}"),
        }
    }

    /// A severity's rules, by id in any case.
    pub fn severity(&self, id: &str) -> Option<&SeverityPolicy> {
        self.severities
            .iter()
            .find(|s| s.severity.id.eq_ignore_ascii_case(id.trim()))
    }

    /// A category, by id.
    pub fn category(&self, id: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.id == id)
    }

    /// `name@digest`, recorded on incidents declared under this policy.
    pub fn label(&self) -> String {
        format!("{}@{}", self.name, self.digest)
    }

    /// Whether incidents at `severity` need a post-mortem.
    pub fn needs_postmortem(&self, severity: &str) -> bool {
        if self.post_incident.severities.is_empty() {
            self.severity(severity).is_some_and(|s| s.major)
        } else {
            self.post_incident
                .severities
                .iter()
                .any(|s| s.eq_ignore_ascii_case(severity))
        }
    }
}

impl SeverityPolicy {
    /// The rule for `clock`, if the policy sets one.
    pub fn clock(&self, clock: ClockKind) -> Option<&ClockRule> {
        self.clocks.iter().find(|c| c.clock == clock)
    }

    /// The one-shot update deadline on `channel`, if the policy sets one.
    pub fn notice(&self, channel: Channel) -> Option<&NoticeDeadline> {
        self.notices.iter().find(|n| n.channel == channel)
    }
}
