//! Post-mortems and their action items, pure: the draft written from an incident's events,
//! its export as a self-contained HTML page, the stages it moves through, and the rules
//! for action items. The store keeps the text and the items; the HTTP layer calls these.
//!
//! The draft states what the log knows (timeline, response times, breaches, who was
//! paged and who answered, updates, alerts, related incidents) and leaves what only
//! people know (summary, impact, root cause, lessons) as prompts.

use crate::describe;
use crate::policy::post_incident::Template;
use crate::policy::StageDeadline;
use crate::Stage;
use crate::{DomainError, EventData, Incident, IncidentId, RecordedEvent, Status};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use std::fmt::{self, Write as _};
use std::str::FromStr;

/// Longest action item title, in characters.
pub const MAX_ACTION_TITLE: usize = 200;
/// Longest post-mortem text, in bytes (the API's body limit bounds it too).
pub const MAX_TEXT_BYTES: usize = 60 * 1024;

/// Where a post-mortem stands, read from the stages completed since the incident was
/// last resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Being written.
    Draft,
    /// The draft is done; in review.
    Review,
    /// Published.
    Published,
}

impl Phase {
    /// `draft`, `review` or `published`.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Draft => "draft",
            Phase::Review => "review",
            Phase::Published => "published",
        }
    }

    /// The phase after these stages were completed.
    pub fn from_completed(done: &[Stage]) -> Phase {
        if done.contains(&Stage::Publish) {
            Phase::Published
        } else if done.contains(&Stage::Draft) {
            Phase::Review
        } else {
            Phase::Draft
        }
    }

    /// The next of draft, review and publish not yet completed: what "advance"
    /// completes. `None` once published.
    pub fn next_stage(done: &[Stage]) -> Option<Stage> {
        if done.contains(&Stage::Publish) {
            return None;
        }
        [Stage::Draft, Stage::Review, Stage::Publish]
            .into_iter()
            .find(|s| !done.contains(s))
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Checks that `stage` may be completed now, given the stages already completed in the
/// incident's current cycle: each once, the draft before the review and the review
/// before publication; the review meeting any time after the draft.
pub fn check_stage(incident: &Incident, done: &[Stage], stage: Stage) -> Result<(), DomainError> {
    if incident.status.is_open() {
        return Err(DomainError::Conflict(format!(
            "{} is not resolved; post-mortem stages come after resolution",
            incident.id
        )));
    }
    if done.contains(&stage) {
        return Err(DomainError::Conflict(format!(
            "the post-mortem's {stage} stage is already complete"
        )));
    }
    let needs = match stage {
        Stage::Draft => None,
        Stage::Review | Stage::ReviewMeeting => Some(Stage::Draft),
        Stage::Publish => Some(Stage::Review),
    };
    match needs {
        Some(before) if !done.contains(&before) => Err(DomainError::Conflict(format!(
            "complete the {before} stage before {stage}"
        ))),
        _ => Ok(()),
    }
}

/// An earlier incident that may share a cause: same service, or an alert in common.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    /// Its id.
    pub id: IncidentId,
    /// Title.
    pub title: String,
    /// Service.
    pub service: String,
    /// Severity id.
    pub severity: String,
    /// Status.
    pub status: Status,
    /// When it was declared.
    pub declared_at: Timestamp,
    /// Why it is related: `same service`, or `shared alert INTEGRATION/KEY`.
    pub reasons: Vec<String>,
}

/// The alert identities (integration, dedup key) that joined an incident.
pub fn alert_keys(events: &[RecordedEvent]) -> Vec<(String, String)> {
    let mut keys: Vec<(String, String)> = Vec::new();
    for e in events {
        if let EventData::AlertAttached {
            integration,
            dedup_key,
            ..
        } = &e.data
        {
            let key = (integration.clone(), dedup_key.clone());
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    keys
}

/// Action item priorities, P0 (most urgent) to P3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// Do now.
    P0,
    /// Soon.
    P1,
    /// Planned.
    P2,
    /// When there is room.
    P3,
}

impl Priority {
    /// `P0` … `P3`.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::P0 => "P0",
            Priority::P1 => "P1",
            Priority::P2 => "P2",
            Priority::P3 => "P3",
        }
    }
}

impl FromStr for Priority {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_uppercase().as_str() {
            "P0" => Ok(Priority::P0),
            "P1" => Ok(Priority::P1),
            "P2" => Ok(Priority::P2),
            "P3" => Ok(Priority::P3),
            _ => Err(format!("unknown priority `{s}`: expected P0, P1, P2 or P3")),
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an action item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionStatus {
    /// Not started.
    Open,
    /// Someone is on it.
    InProgress,
    /// Finished (closed, with a note).
    Done,
    /// Decided against (closed, with a note saying why).
    WontDo,
}

impl ActionStatus {
    /// `open`, `in_progress`, `done` or `wont_do`.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Open => "open",
            ActionStatus::InProgress => "in_progress",
            ActionStatus::Done => "done",
            ActionStatus::WontDo => "wont_do",
        }
    }

    /// Whether work remains (open or in progress).
    pub fn is_open(self) -> bool {
        matches!(self, ActionStatus::Open | ActionStatus::InProgress)
    }
}

impl FromStr for ActionStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', ' '], "_")
            .as_str()
        {
            "open" => Ok(ActionStatus::Open),
            "in_progress" => Ok(ActionStatus::InProgress),
            "done" => Ok(ActionStatus::Done),
            "wont_do" | "won't_do" => Ok(ActionStatus::WontDo),
            _ => Err(format!(
                "unknown status `{s}`: expected open, in_progress, done or wont_do"
            )),
        }
    }
}

impl fmt::Display for ActionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A follow-up task from an incident's post-mortem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionItem {
    /// Its number (0 before it is stored); shown as `AI-<n>`.
    pub id: u64,
    /// The incident it came from (its post-mortem is that incident's).
    pub incident: IncidentId,
    /// What to do, one line.
    pub title: String,
    /// Who: a roster person id, or any name.
    pub owner: String,
    /// How urgent.
    pub priority: Priority,
    /// The day it is due (overdue from the next day, UTC).
    pub due: Date,
    /// Where it stands.
    pub status: ActionStatus,
    /// Why it was closed (required for done and won't do).
    pub note: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// By whom.
    pub created_by: String,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// By whom.
    pub updated_by: String,
}

impl ActionItem {
    /// `AI-<n>`.
    pub fn label(&self) -> String {
        format!("AI-{}", self.id)
    }

    /// Whether it is still open after its due day has ended (UTC).
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.status.is_open() && self.due < utc_date(now)
    }
}

/// The UTC calendar date of `t`.
pub fn utc_date(t: Timestamp) -> Date {
    t.to_zoned(jiff::tz::TimeZone::UTC).date()
}

/// Parses `AI-12` or `12` into an action item number.
pub fn parse_action_id(raw: &str) -> Result<u64, String> {
    let trimmed = raw.trim();
    let digits = match trimmed.get(..3) {
        Some(prefix) if prefix.eq_ignore_ascii_case("AI-") => &trimmed[3..],
        _ => trimmed,
    };
    digits
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0 && *n <= i64::MAX as u64)
        .ok_or_else(|| {
            format!("`{raw}` is not an action item id: expected AI-<number> or a number")
        })
}

fn invalid(field: &'static str, message: impl Into<String>) -> DomainError {
    DomainError::Invalid {
        field,
        message: message.into(),
    }
}

fn one_line(field: &'static str, value: &str, max: usize) -> Result<String, DomainError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if v.chars().count() > max {
        return Err(invalid(field, format!("at most {max} characters")));
    }
    if v.contains(['\n', '\r']) {
        return Err(invalid(field, "must be one line"));
    }
    Ok(v.to_owned())
}

/// Checks a title.
pub fn check_title(title: &str) -> Result<String, DomainError> {
    one_line("title", title, MAX_ACTION_TITLE)
}

/// Checks an owner: a roster person id or a name, one line.
pub fn check_owner(owner: &str) -> Result<String, DomainError> {
    one_line("owner", owner, 100)
}

/// Parses a priority for field `priority`.
pub fn check_priority(raw: &str) -> Result<Priority, DomainError> {
    raw.parse().map_err(|e: String| invalid("priority", e))
}

/// Parses a due date (`2026-12-01`) for field `due`.
pub fn check_due(raw: &str) -> Result<Date, DomainError> {
    raw.trim()
        .parse::<Date>()
        .map_err(|_| invalid("due", format!("`{raw}` is not a date: write YYYY-MM-DD")))
}

/// Parses a status for a change that is not a close: open or in progress.
pub fn check_open_status(raw: &str) -> Result<ActionStatus, DomainError> {
    let status: ActionStatus = raw.parse().map_err(|e: String| invalid("status", e))?;
    if !status.is_open() {
        return Err(invalid(
            "status",
            format!("{status} closes the item: close it with a note instead"),
        ));
    }
    Ok(status)
}

/// Closes `item` as `status` (done or won't do) with a note saying what was done or why
/// not; a close without a note is refused, and so is closing twice.
pub fn close(
    item: &ActionItem,
    status: ActionStatus,
    note: Option<&str>,
    at: Timestamp,
    by: &str,
) -> Result<ActionItem, DomainError> {
    if status.is_open() {
        return Err(invalid(
            "status",
            "a close is done or wont_do; reopen with an update instead",
        ));
    }
    let note = note
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            invalid(
                "note",
                "closing needs a note: what was done, or why it will not be",
            )
        })?;
    if note.len() > crate::command::MAX_TEXT {
        return Err(invalid(
            "note",
            format!("at most {} bytes", crate::command::MAX_TEXT),
        ));
    }
    if !item.status.is_open() {
        return Err(DomainError::Conflict(format!(
            "{} is already closed ({})",
            item.label(),
            item.status
        )));
    }
    Ok(ActionItem {
        status,
        note: Some(note.to_owned()),
        updated_at: at,
        updated_by: by.to_owned(),
        ..item.clone()
    })
}

/// Checks a post-mortem text an editor saves.
pub fn check_text(text: &str) -> Result<(), DomainError> {
    if text.trim().is_empty() {
        return Err(invalid("text", "must not be empty"));
    }
    if text.len() > MAX_TEXT_BYTES {
        return Err(invalid("text", format!("at most {MAX_TEXT_BYTES} bytes")));
    }
    Ok(())
}

/// What changed between two versions of a text, for the history: `+3 −1 lines`.
pub fn change_summary(before: &str, after: &str) -> String {
    use std::collections::BTreeMap;
    let mut count: BTreeMap<&str, i64> = BTreeMap::new();
    for line in before.lines() {
        *count.entry(line).or_default() -= 1;
    }
    for line in after.lines() {
        *count.entry(line).or_default() += 1;
    }
    let added: i64 = count.values().filter(|n| **n > 0).sum();
    let removed: i64 = -count.values().filter(|n| **n < 0).sum::<i64>();
    format!("+{added} −{removed} lines")
}

/// `2026-03-02 14:05` in UTC: the draft states its times in UTC, the zone every reader
/// of a shared document can convert from.
pub fn utc(t: Timestamp) -> String {
    describe::instant(t, &jiff::tz::TimeZone::UTC, describe::Precision::Minute)
}

/// Someone a page reached, and whether it got through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRecord {
    /// When it fired.
    pub at: Timestamp,
    /// `page SEV1`, `escalation level 2 (Lead)`, `escalation exhausted`.
    pub what: String,
    /// Targets named.
    pub targets: Vec<String>,
    /// People reached, each with the target that named them.
    pub reached: Vec<(String, String)>,
    /// Targets that reached nobody.
    pub unreached: Vec<String>,
}

/// A response time: from the anchor to the moment, if it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measure {
    /// `detect`, `acknowledge`, `mitigate`, `resolve`.
    pub name: &'static str,
    /// Start.
    pub from: Timestamp,
    /// End.
    pub to: Timestamp,
}

impl Measure {
    /// How long it took.
    pub fn took(&self) -> SignedDuration {
        self.to.duration_since(self.from)
    }
}

/// What the event log says about the response, for the draft and the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    /// Time to detect (first alert start → declaration), acknowledge, mitigate
    /// (monitoring or resolved), resolve (last resolution), all from the declaration
    /// but the first.
    pub measures: Vec<Measure>,
    /// Declared to last resolution, or to the last event while open.
    pub duration: SignedDuration,
    /// Clocks breached: (clock, target, when).
    pub breaches: Vec<(String, String, Timestamp)>,
    /// Escalation levels reached: (level, name, reason, when).
    pub escalations: Vec<(u32, String, String, Timestamp)>,
    /// Pages and escalations with whom they reached.
    pub pages: Vec<PageRecord>,
    /// Notifications delivered: (when, person, channel).
    pub notified: Vec<(Timestamp, String, String)>,
    /// Notifications that failed for good: (when, person, channel, error).
    pub failed: Vec<(Timestamp, String, String, String)>,
    /// Acknowledgements: (when, who).
    pub acknowledged: Vec<(Timestamp, String)>,
    /// Updates posted: (when, channel, text).
    pub updates: Vec<(Timestamp, String, String)>,
    /// Alerts involved: (integration, dedup key, summary, first joined).
    pub alerts: Vec<(String, String, String, Timestamp)>,
    /// Severities in order of entry.
    pub severities: Vec<String>,
    /// The timeline: (when, who, what), leaving out reminders.
    pub timeline: Vec<(Timestamp, String, String)>,
}

fn reached(recipients: &[crate::Recipient]) -> Vec<(String, String)> {
    recipients
        .iter()
        .map(|r| (r.person.clone(), r.via.clone()))
        .collect()
}

/// Reads the response out of an incident's log.
pub fn analyze(events: &[RecordedEvent]) -> Analysis {
    let mut a = Analysis {
        measures: Vec::new(),
        duration: SignedDuration::ZERO,
        breaches: Vec::new(),
        escalations: Vec::new(),
        pages: Vec::new(),
        notified: Vec::new(),
        failed: Vec::new(),
        acknowledged: Vec::new(),
        updates: Vec::new(),
        alerts: Vec::new(),
        severities: Vec::new(),
        timeline: Vec::new(),
    };
    let Some(first) = events.first() else {
        return a;
    };
    let declared = first.at;
    // Reminders say nothing about the response; the rest is worded as everywhere else.
    a.timeline = describe::timeline(events, &jiff::tz::TimeZone::UTC)
        .into_iter()
        .filter(|line| !line.reminder)
        .map(|line| (line.at, line.actor, line.what.summary))
        .collect();
    let milestones = read_response(&mut a, events);
    read_paging(&mut a, events);
    a.measures = measures(declared, &a, &milestones);
    let end = milestones
        .resolved
        .unwrap_or_else(|| events.last().map_or(declared, |e| e.at));
    a.duration = end.duration_since(declared);
    a
}

/// When the response reached its milestones, as far as the log tells.
#[derive(Default)]
struct Milestones {
    /// The earliest start of an alert that joined.
    alert_start: Option<Timestamp>,
    /// The first move to monitoring, or the first resolution.
    mitigated: Option<Timestamp>,
    /// The last resolution, unless reopened since.
    resolved: Option<Timestamp>,
}

/// The response's course: severities, acknowledgements, updates, breaches and alerts
/// into `a`, and the milestones the measures are taken from.
fn read_response(a: &mut Analysis, events: &[RecordedEvent]) -> Milestones {
    let mut m = Milestones::default();
    for e in events {
        match &e.data {
            EventData::Declared { severity, .. } => a.severities.push(severity.clone()),
            EventData::SeverityChanged { to, .. } => a.severities.push(to.clone()),
            EventData::Acknowledged => a.acknowledged.push((e.at, e.actor.clone())),
            EventData::StatusChanged {
                to: Status::Monitoring,
                ..
            } => {
                m.mitigated.get_or_insert(e.at);
            }
            EventData::Resolved { .. } => {
                m.mitigated.get_or_insert(e.at);
                m.resolved = Some(e.at);
            }
            EventData::Reopened { .. } => m.resolved = None,
            EventData::UpdatePosted { channel, text } => {
                a.updates.push((e.at, channel.to_string(), text.clone()))
            }
            EventData::SlaBreached { clock, target, .. } => {
                a.breaches.push((clock.to_string(), target.clone(), e.at))
            }
            EventData::AlertAttached {
                integration,
                dedup_key,
                summary,
                starts_at,
                ..
            } => {
                let start = starts_at.unwrap_or(e.at);
                m.alert_start = Some(m.alert_start.map_or(start, |s| s.min(start)));
                if !a
                    .alerts
                    .iter()
                    .any(|(i, k, _, _)| i == integration && k == dedup_key)
                {
                    a.alerts.push((
                        integration.clone(),
                        dedup_key.clone(),
                        summary.clone(),
                        e.at,
                    ));
                }
            }
            _ => {}
        }
    }
    m
}

/// Who was paged and who it reached: pages, escalations and notifications into `a`.
fn read_paging(a: &mut Analysis, events: &[RecordedEvent]) {
    for e in events {
        match &e.data {
            EventData::Paged {
                severity,
                targets,
                recipients,
                unreached,
                ..
            } => a.pages.push(PageRecord {
                at: e.at,
                what: format!("page {severity}"),
                targets: targets.clone(),
                reached: reached(recipients),
                unreached: unreached.clone(),
            }),
            EventData::Escalated {
                level,
                name,
                targets,
                reason,
                recipients,
                unreached,
                ..
            } => {
                a.escalations
                    .push((*level, name.clone(), reason.clone(), e.at));
                a.pages.push(PageRecord {
                    at: e.at,
                    what: format!("escalation level {level} ({name})"),
                    targets: targets.clone(),
                    reached: reached(recipients),
                    unreached: unreached.clone(),
                });
            }
            EventData::EscalationExhausted {
                targets,
                recipients,
                unreached,
                ..
            } => a.pages.push(PageRecord {
                at: e.at,
                what: "escalation exhausted".to_owned(),
                targets: targets.clone(),
                reached: reached(recipients),
                unreached: unreached.clone(),
            }),
            EventData::Notified {
                person, channel, ..
            } => a.notified.push((e.at, person.clone(), channel.clone())),
            EventData::NotificationFailed {
                person,
                channel,
                error,
                ..
            } => a
                .failed
                .push((e.at, person.clone(), channel.clone(), error.clone())),
            _ => {}
        }
    }
}

/// Time to detect (from the first alert's start, when it came before the declaration),
/// then to acknowledge, mitigate and resolve from the declaration.
fn measures(declared: Timestamp, a: &Analysis, m: &Milestones) -> Vec<Measure> {
    let mut measures = Vec::new();
    if let Some(start) = m.alert_start.filter(|s| *s <= declared) {
        measures.push(Measure {
            name: "detect",
            from: start,
            to: declared,
        });
    }
    if let Some((at, _)) = a.acknowledged.first() {
        measures.push(Measure {
            name: "acknowledge",
            from: declared,
            to: *at,
        });
    }
    if let Some(at) = m.mitigated {
        measures.push(Measure {
            name: "mitigate",
            from: declared,
            to: at,
        });
    }
    if let Some(at) = m.resolved {
        measures.push(Measure {
            name: "resolve",
            from: declared,
            to: at,
        });
    }
    measures
}

/// Makes text safe inside a Markdown table cell: one line, no column breaks.
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\r', '\n'], " ")
}

/// Everything a draft is written from.
#[derive(Debug, Clone)]
pub struct DraftInput<'a> {
    /// The incident's state.
    pub incident: &'a Incident,
    /// Its log.
    pub events: &'a [RecordedEvent],
    /// Earlier incidents that may share its cause.
    pub related: &'a [Related],
    /// Its action items so far.
    pub actions: &'a [ActionItem],
    /// The template.
    pub template: Template,
    /// The policy's stage deadlines, to state them in the header.
    pub stages: &'a [StageDeadline],
}

fn prompt(out: &mut String, heading: &str, text: &str) {
    let _ = write!(out, "\n## {heading}\n\n_{text}_\n");
}

fn timeline_table(out: &mut String, heading: &str, a: &Analysis) {
    let _ = write!(
        out,
        "\n## {heading}\n\n| Time (UTC) | Who | Event |\n|---|---|---|\n"
    );
    for (at, who, what) in &a.timeline {
        let _ = writeln!(out, "| {} | {} | {} |", utc(*at), cell(who), cell(what));
    }
}

fn response_facts(out: &mut String, a: &Analysis) {
    out.push_str("\n## Response times\n\n| Measure | Took | From | To |\n|---|---|---|---|\n");
    for name in ["detect", "acknowledge", "mitigate", "resolve"] {
        match a.measures.iter().find(|m| m.name == name) {
            Some(m) => {
                let _ = writeln!(
                    out,
                    "| Time to {name} | {} | {} | {} |",
                    describe::duration(m.took()),
                    utc(m.from),
                    utc(m.to)
                );
            }
            None => {
                let why = if name == "detect" {
                    "no alert preceded the declaration"
                } else {
                    "not reached"
                };
                let _ = writeln!(out, "| Time to {name} | — | {why} | |");
            }
        }
    }
    out.push_str("\n**Clocks breached:** ");
    if a.breaches.is_empty() {
        out.push_str("none.\n");
    } else {
        let list: Vec<String> = a
            .breaches
            .iter()
            .map(|(clock, target, at)| format!("{clock} (target {target}, at {})", utc(*at)))
            .collect();
        let _ = writeln!(out, "{}.", list.join("; "));
    }
    out.push_str("\n**Escalations reached:** ");
    if a.escalations.is_empty() {
        out.push_str("none.\n");
    } else {
        let list: Vec<String> = a
            .escalations
            .iter()
            .map(|(level, name, reason, at)| {
                format!("level {level} {name} at {} ({reason})", utc(*at))
            })
            .collect();
        let _ = writeln!(out, "{}.", list.join("; "));
    }
}

fn pages_section(out: &mut String, heading: &str, a: &Analysis) {
    let _ = write!(out, "\n## {heading}\n\n");
    if a.pages.is_empty() {
        out.push_str("Nobody was paged.\n");
    } else {
        out.push_str(
            "| Time (UTC) | Page | Targets | Reached | Reached nobody |\n|---|---|---|---|---|\n",
        );
        for p in &a.pages {
            let reached: Vec<String> = p
                .reached
                .iter()
                .map(|(who, via)| format!("{who} (via {via})"))
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                utc(p.at),
                cell(&p.what),
                cell(&p.targets.join(", ")),
                cell(&reached.join(", ")),
                cell(&p.unreached.join(", "))
            );
        }
    }
    if !a.notified.is_empty() || !a.failed.is_empty() {
        out.push_str("\n**Notifications:** ");
        let mut list: Vec<String> = a
            .notified
            .iter()
            .map(|(at, who, channel)| format!("{who} by {channel} at {}", utc(*at)))
            .collect();
        list.extend(a.failed.iter().map(|(at, who, channel, error)| {
            format!("{who} by {channel} failed at {} ({error})", utc(*at))
        }));
        let _ = writeln!(out, "{}.", list.join("; "));
    }
    out.push_str("\n**Answered by:** ");
    match a.acknowledged.first() {
        Some((at, who)) => {
            let after = a
                .pages
                .first()
                .filter(|p| p.at <= *at)
                .map(|p| {
                    format!(
                        ", {} after the first page",
                        describe::duration(at.duration_since(p.at))
                    )
                })
                .unwrap_or_default();
            let _ = writeln!(out, "{who} acknowledged at {}{after}.", utc(*at));
        }
        None => out.push_str("nobody acknowledged.\n"),
    }
}

fn updates_section(out: &mut String, a: &Analysis) {
    out.push_str("\n## Updates posted\n\n");
    if a.updates.is_empty() {
        out.push_str("None.\n");
    }
    for (at, channel, text) in &a.updates {
        let _ = writeln!(out, "- {} {channel}: {}", utc(*at), cell(text));
    }
}

fn alerts_section(out: &mut String, a: &Analysis) {
    out.push_str("\n## Alerts involved\n\n");
    if a.alerts.is_empty() {
        out.push_str("None: declared by hand.\n");
    }
    for (integration, key, summary, at) in &a.alerts {
        let _ = writeln!(
            out,
            "- `{}` {} (joined {})",
            cell(&format!("{integration}/{key}")).replace('`', "'"),
            cell(summary),
            utc(*at)
        );
    }
}

fn related_section(out: &mut String, heading: &str, related: &[Related]) {
    let _ = write!(out, "\n## {heading}\n\n");
    if related.is_empty() {
        out.push_str("None found (same service or a shared alert).\n");
    }
    for r in related {
        let _ = writeln!(
            out,
            "- **{}** ({}, {}, {}): {} — {}",
            r.id,
            r.declared_at.strftime("%Y-%m-%d"),
            r.severity,
            r.status,
            cell(&r.title),
            r.reasons.join("; ")
        );
    }
}

fn actions_section(out: &mut String, heading: &str, actions: &[ActionItem], seed_003: bool) {
    let _ = write!(out, "\n## {heading}\n\n");
    if seed_003 {
        out.push_str("| Action | Owner | Due Date | Priority |\n|---|---|---|---|\n");
    } else {
        out.push_str("| Action | Owner | Priority | Due Date | Status |\n|---|---|---|---|---|\n");
    }
    if actions.is_empty() {
        if seed_003 {
            out.push_str("| _add with `fireline action add`_ | | | |\n");
        } else {
            out.push_str("| _add with `fireline action add`_ | | | | |\n");
        }
    }
    for item in actions {
        let title = format!("{} {}", item.label(), cell(&item.title));
        if seed_003 {
            let _ = writeln!(
                out,
                "| {title} | {} | {} | {} |",
                cell(&item.owner),
                item.due,
                item.priority
            );
        } else {
            let _ = writeln!(
                out,
                "| {title} | {} | {} | {} | {} |",
                cell(&item.owner),
                item.priority,
                item.due,
                item.status
            );
        }
    }
}

/// Writes the draft: Markdown in the policy's template, facts filled in from the log and
/// the parts only people know left as prompts.
pub fn render_draft(input: &DraftInput<'_>) -> String {
    let a = analyze(input.events);
    let deadlines = deadlines_line(input.stages);
    let mut out = String::new();
    match input.template {
        Template::Standard => standard_draft(&mut out, input, &a, &deadlines),
        Template::AgenticFlow => agentic_flow_draft(&mut out, input, &a, &deadlines),
        Template::ProductionAgents => production_agents_draft(&mut out, input, &a, &deadlines),
    }
    out
}

/// The stage deadlines for a draft's header, or nothing when the policy sets none.
fn deadlines_line(stages: &[StageDeadline]) -> String {
    let deadlines: Vec<String> = stages
        .iter()
        .map(|d| format!("{} within {}", d.stage, d.within))
        .collect();
    if deadlines.is_empty() {
        String::new()
    } else {
        format!(
            "\n**Deadlines** (from resolution): {}\n",
            deadlines.join(", ")
        )
    }
}

/// Fireline's own template: the facts first, then a prompt per section.
fn standard_draft(out: &mut String, input: &DraftInput<'_>, a: &Analysis, deadlines: &str) {
    let i = input.incident;
    let worst = a.severities.join(" → ");
    let resolved = i.resolved_at.map_or_else(|| "not resolved".to_owned(), utc);
    let _ = write!(
        out,
        "# Post-mortem: {id} {title}\n\n\
         | | |\n|---|---|\n\
         | Incident | {id} |\n| Service | {service} |\n| Severity | {worst} |\n\
         | Declared | {declared} by {by} |\n| Resolved | {resolved} |\n\
         | Duration | {duration} |\n| Status | Draft |\n{deadlines}",
        id = i.id,
        title = cell(&i.title),
        service = cell(&i.service),
        declared = utc(i.declared_at),
        by = cell(&i.declared_by),
        duration = describe::duration(a.duration),
    );
    prompt(
        out,
        "Summary",
        "Two or three sentences: what happened, who was affected, how it ended.",
    );
    prompt(out, "Impact", "Who and what was affected, for how long, how badly (users, requests, revenue, error budget).");
    timeline_table(out, "Timeline (all times UTC)", a);
    response_facts(out, a);
    pages_section(out, "Pages and who answered", a);
    updates_section(out, a);
    alerts_section(out, a);
    prompt(
        out,
        "Root cause",
        "The technical cause, and the conditions that let it happen.",
    );
    prompt(
        out,
        "Detection",
        "How was it noticed? Could it have been noticed sooner?",
    );
    prompt(out, "Response", "What helped the response, what slowed it?");
    prompt(
        out,
        "Resolution",
        "What fixed it, and any workaround still in place.",
    );
    prompt(
        out,
        "Lessons learned",
        "What went well, what went wrong, where we got lucky.",
    );
    actions_section(out, "Action items", input.actions, false);
    related_section(out, "Related incidents", input.related);
}

/// Seed 001's template: executive summary, detection and response as "what worked / what
/// could be improved", lessons with "where did we get lucky", related incidents, appendix.
fn agentic_flow_draft(out: &mut String, input: &DraftInput<'_>, a: &Analysis, deadlines: &str) {
    let i = input.incident;
    let worst = a.severities.join(" → ");
    let resolved = i.resolved_at.map_or_else(|| "not resolved".to_owned(), utc);
    let _ = write!(
        out,
        "# Post-Mortem: {title}\n\n\
         **Date**: {date}\n**Authors**: _Incident Commander, Technical Lead_\n\
         **Status**: Draft\n**Severity**: {worst}\n**Incident**: {id}\n{deadlines}\n---\n",
        id = i.id,
        title = cell(&i.title),
        date = i.declared_at.strftime("%Y-%m-%d"),
    );
    prompt(
        out,
        "Executive Summary",
        "2-3 sentences describing what happened, impact, and resolution.",
    );
    let _ = write!(
        out,
        "\n## Impact\n\n- **Duration**: {} ({} UTC to {})\n- **Service**: {}\n\
         - **Users Affected**: _X% of user base (N users)_\n\
         - **Requests Failed**: _X requests (Y% of total)_\n\
         - **Revenue Impact**: _$X (estimated)_\n\
         - **Error Budget**: _X% of monthly budget consumed_\n",
        describe::duration(a.duration),
        utc(i.declared_at),
        resolved,
        cell(&i.service)
    );
    timeline_table(out, "Timeline (All times UTC)", a);
    prompt(
        out,
        "Root Cause",
        "Detailed technical explanation of what caused the incident.",
    );
    out.push_str("\n## Detection\n\n**How was it detected?**\n");
    match a.measures.iter().find(|m| m.name == "detect") {
        Some(m) => {
            let _ = writeln!(
                out,
                "- Automated: {} alert(s); time to detect: {}",
                a.alerts.len(),
                describe::duration(m.took())
            );
        }
        None => out.push_str("- Declared by hand: _who noticed, and how?_\n"),
    }
    out.push_str("\n**What worked well?**\n\n_…_\n\n**What could be improved?**\n\n_…_\n");
    response_facts(out, a);
    pages_section(out, "Response", a);
    out.push_str("\n**What worked well?**\n\n_…_\n\n**What could be improved?**\n\n_…_\n");
    updates_section(out, a);
    out.push_str(
        "\n## Resolution\n\n**Immediate Fix**:\n\n_…_\n\n**Temporary Workaround**:\n\n_…_\n",
    );
    actions_section(out, "Action Items", input.actions, false);
    out.push_str("\n## Lessons Learned\n\n**What went well?**\n\n_…_\n\n**What didn't go well?**\n\n_…_\n\n**Where did we get lucky?**\n\n_…_\n");
    related_section(out, "Related Incidents", input.related);
    alerts_section(out, a);
    out.push_str(
        "\n---\n\n**Post-Mortem Review Meeting**: _date and time (UTC)_\n**Attendees**: _…_\n",
    );
}

/// Seed 003's template: summary, what went well / wrong, prevention, owner and reviewers.
fn production_agents_draft(
    out: &mut String,
    input: &DraftInput<'_>,
    a: &Analysis,
    deadlines: &str,
) {
    let i = input.incident;
    let worst = a.severities.join(" → ");
    let _ = write!(
        out,
        "# Postmortem: {title}\n\n\
         **Date:** {date}\n**Duration:** {duration}\n**Severity:** {worst}\n\
         **Status:** {status}\n**Incident:** {id}\n{deadlines}",
        id = i.id,
        title = cell(&i.title),
        date = i.declared_at.strftime("%Y-%m-%d"),
        duration = describe::duration(a.duration),
        status = if i.status.is_open() {
            "Investigating"
        } else {
            "Resolved"
        },
    );
    prompt(out, "Summary", "2-3 sentence summary of what happened.");
    let _ = write!(
        out,
        "\n## Impact\n\n- **Users affected:** _number or percentage_\n\
         - **Duration:** {}\n- **Services impacted:** {}\n\
         - **Revenue impact:** _if applicable_\n",
        describe::duration(a.duration),
        cell(&i.service)
    );
    timeline_table(out, "Timeline (all times in UTC)", a);
    prompt(
        out,
        "Root Cause",
        "Detailed explanation of what caused the incident.",
    );
    prompt(out, "Resolution", "What was done to fix it.");
    out.push_str("\n## Detection\n\n");
    match a.measures.iter().find(|m| m.name == "detect") {
        Some(m) => {
            let _ = writeln!(
                out,
                "Alert: {} alert(s), {} before the declaration.",
                a.alerts.len(),
                describe::duration(m.took())
            );
        }
        None => out.push_str("_How was the incident detected? Alert, user report, etc._\n"),
    }
    response_facts(out, a);
    pages_section(out, "Pages and who answered", a);
    updates_section(out, a);
    alerts_section(out, a);
    prompt(out, "What Went Well", "…");
    prompt(
        out,
        "What Went Wrong",
        "Things that could have been better.",
    );
    actions_section(out, "Action Items", input.actions, true);
    prompt(
        out,
        "Lessons Learned",
        "Key takeaways and preventive measures.",
    );
    prompt(out, "Prevention", "How to prevent this in the future.");
    related_section(out, "Related Incidents", input.related);
    out.push_str("\n---\n\n**Postmortem Owner:** _@engineer-name_\n**Reviewed By:** _@engineering-lead_\n**Date:** _YYYY-MM-DD_\n");
}

/// A self-contained HTML page of a post-mortem's Markdown (`markdown::page`): CommonMark
/// with tables and code; raw HTML escaped, links only to http(s) and mailto; no scripts,
/// no external assets.
pub fn to_html(title: &str, markdown: &str) -> String {
    crate::markdown::page(title, markdown)
}

/// What an action item's owner is told, and when: the day before it is due (and on the
/// day), and once it is overdue. Each message's key names the item, its due date and
/// the kind, so each is stored, and sent, once; moving the due date reminds again.
pub fn action_reminders(
    roster: &crate::oncall::Roster,
    items: &[ActionItem],
    now: Timestamp,
    links: &crate::oncall::notify::Links,
) -> Vec<crate::oncall::notify::Outgoing> {
    use crate::oncall::notify::{immediate, NoticeItem};
    let today = utc_date(now);
    let mut out = Vec::new();
    for item in items.iter().filter(|i| i.status.is_open()) {
        // Owners outside the roster have no contacts: the overdue list shows them.
        let Some(person) = roster.people.get(&item.owner) else {
            continue;
        };
        let (kind, headline) = if item.due < today {
            (
                "overdue",
                format!("{} is overdue (due {})", item.label(), item.due),
            )
        } else if today.tomorrow().is_ok_and(|t| item.due <= t) {
            ("due_soon", format!("{} is due {}", item.label(), item.due))
        } else {
            continue;
        };
        let text = format!(
            "{} ({}) from {}'s post-mortem: \"{}\", due {}. When it is done, close it with a \
             note: fireline action close {} --note \"…\"",
            item.label(),
            item.priority,
            item.incident,
            item.title,
            item.due,
            item.label()
        );
        let notice_item = NoticeItem {
            incident: item.incident.to_string(),
            title: item.title.clone(),
            severity: item.priority.to_string(),
            service: String::new(),
            status: item.status.to_string(),
            reason: Some(format!("action item {kind}")),
            incident_url: Some(links.incident_url(item.incident)),
            runbook_url: None,
            ack_url: None,
        };
        out.extend(immediate(
            person,
            &format!("action/{}/{}/{kind}", item.id, item.due),
            &headline,
            &[notice_item],
            &text,
            now,
        ));
    }
    out
}
