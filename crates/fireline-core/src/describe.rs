//! Fireline's one vocabulary for people: an incident event in words, a duration, an
//! instant in a reader's time zone.
//!
//! The post-mortem draft, the CLI's `incident show` and the web UI's timeline all word
//! events here, so a responder reads the same sentence wherever they look. Descriptions
//! name what happened and to whom, in plain words: no action or outbox keys, no JSON, no
//! sub-second timestamps. Who *did* it (the event's actor) is not part of the text: every
//! reader shows the actor beside it (a column, a bold name), so repeating it would stutter.
//!
//! Pure like the rest of the core: the reader's zone is an argument, never looked up.

use crate::event::{EventData, Recipient, RecordedEvent};
use crate::runbook::Step;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;

/// One event in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    /// What happened, as a phrase that follows the actor's name (`acknowledged`,
    /// `severity SEV2 → SEV1: all regions`). Text a responder wrote (notes, updates,
    /// messages) is kept whole, so this may hold line breaks; [`Description::one_line`]
    /// flattens them for a table cell.
    pub summary: String,
    /// Secondary facts a UI can fold away (who was reached through which target, an
    /// alert's labels, what a delivery's far end answered), one per line, in plain words.
    pub details: Vec<String>,
}

impl Description {
    fn new(summary: impl Into<String>) -> Description {
        Description {
            summary: summary.into(),
            details: Vec::new(),
        }
    }

    fn detail(mut self, line: impl Into<String>) -> Description {
        self.details.push(line.into());
        self
    }

    fn detail_if(self, line: Option<String>) -> Description {
        match line {
            Some(line) => self.detail(line),
            None => self,
        }
    }

    /// The summary on one line (line breaks become ` / `), for a table cell or a log line.
    pub fn one_line(&self) -> String {
        self.summary
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" / ")
    }
}

/// One timeline entry: when, who, and what in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// When it happened (format it with [`instant`] in the reader's zone).
    pub at: Timestamp,
    /// Who did it: a person's or token's name, `fireline` for the engine,
    /// `integration:…` for alerts.
    pub actor: String,
    /// What happened.
    pub what: Description,
    /// A reminder ([`EventData::UpdateDue`], [`EventData::PostmortemReminder`],
    /// [`EventData::NoticeReminder`]): it says
    /// nothing about the response, so a post-mortem leaves it out.
    pub reminder: bool,
}

/// How finely [`instant`] shows a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// `2026-03-02 14:05`: timelines, deadlines.
    Minute,
    /// `2026-03-02 14:05:09`: where events seconds apart must stay in order.
    Second,
}

/// An instant as a reader in `zone` reads it: `2026-03-02 14:05` (or `…:09` at
/// [`Precision::Second`]). The zone is not named in the text: a page or table states it
/// once (`Timeline (UTC)`), as long lists of times are easier to read without it.
pub fn instant(at: Timestamp, zone: &TimeZone, precision: Precision) -> String {
    let format = match precision {
        Precision::Minute => "%Y-%m-%d %H:%M",
        Precision::Second => "%Y-%m-%d %H:%M:%S",
    };
    at.to_zoned(zone.clone()).strftime(format).to_string()
}

/// A duration for people, the one rule everywhere: its largest unit and the next one
/// down, leaving out a unit that is zero, whole seconds rounded down, negative as zero.
/// `45s`, `5m`, `4m 10s`, `1h`, `1h 5m`, `2d 3h`; `0s` for nothing.
pub fn duration(d: SignedDuration) -> String {
    let secs = d.as_secs().max(0);
    let parts = [
        (secs / 86_400, "d"),
        (secs % 86_400 / 3_600, "h"),
        (secs % 3_600 / 60, "m"),
        (secs % 60, "s"),
    ];
    let shown: Vec<String> = parts
        .iter()
        .skip_while(|(n, _)| *n == 0)
        .take(2)
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    if shown.is_empty() {
        "0s".to_owned()
    } else {
        shown.join(" ")
    }
}

/// An identifier in words: `status_page` → `status page`.
fn words(id: &str) -> String {
    id.replace('_', " ")
}

/// A paging target in words: `schedule:primary` → `schedule primary`, `person:alice` →
/// `alice`, `team:sre/schedule:x` → `team sre, schedule x`.
pub fn target(target: &str) -> String {
    target
        .split('/')
        .map(|part| match part.split_once(':') {
            Some(("person", who)) => who.to_owned(),
            Some((kind, name)) => format!("{kind} {name}"),
            None => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn targets(list: &[String]) -> String {
    list.iter()
        .map(|t| target(t))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `; reached alice, bob; nobody at schedule night`, and the details saying who was
/// reached through which target.
fn reach(mut d: Description, recipients: &[Recipient], unreached: &[String]) -> Description {
    if !recipients.is_empty() {
        let names: Vec<&str> = recipients.iter().map(|r| r.person.as_str()).collect();
        d.summary
            .push_str(&format!("; reached {}", names.join(", ")));
    }
    if !unreached.is_empty() {
        d.summary
            .push_str(&format!("; nobody at {}", targets(unreached)));
    }
    for r in recipients {
        d.details
            .push(format!("{} through {}", r.person, target(&r.via)));
    }
    d
}

/// `base: extra`, or `base` when there is no extra.
fn with(base: String, extra: &Option<String>) -> String {
    match extra {
        Some(x) => format!("{base}: {x}"),
        None => base,
    }
}

fn labelled(name: &str, map: &BTreeMap<String, String>) -> Option<String> {
    (!map.is_empty()).then(|| {
        let pairs: Vec<String> = map.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{name}: {}", pairs.join(", "))
    })
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// One event in words, with times in `zone`. A checked step is named by its id here;
/// [`timeline`] names it by its text.
pub fn event(data: &EventData, zone: &TimeZone) -> Description {
    event_with_steps(data, zone, &BTreeMap::new())
}

fn event_with_steps(
    data: &EventData,
    zone: &TimeZone,
    steps: &BTreeMap<String, String>,
) -> Description {
    // Every kind is listed here, so the compiler asks for the wording of a new one; each
    // group of kinds is worded by its own function.
    match data {
        EventData::Declared { .. }
        | EventData::Acknowledged
        | EventData::SeverityChanged { .. }
        | EventData::StatusChanged { .. }
        | EventData::RoleAssigned { .. }
        | EventData::NoteAdded { .. }
        | EventData::Resolved { .. }
        | EventData::Reopened { .. }
        | EventData::UpdatePosted { .. }
        | EventData::PostmortemStageCompleted { .. } => responder_event(data),
        EventData::AlertAttached { .. }
        | EventData::AlertUpdated { .. }
        | EventData::AlertResolved { .. } => alert_event(data, zone),
        EventData::Paged { .. }
        | EventData::Escalated { .. }
        | EventData::EscalationExhausted { .. }
        | EventData::Notified { .. }
        | EventData::NotificationFailed { .. } => paging_event(data),
        EventData::SlaBreached { .. }
        | EventData::UpdateDue { .. }
        | EventData::CustomerNoticeDue { .. }
        | EventData::MonitoringVerified { .. }
        | EventData::PostmortemDue { .. }
        | EventData::PostmortemReminder { .. }
        | EventData::NoticeReminder { .. }
        | EventData::NoticeOverdue { .. }
        | EventData::FollowupDue { .. } => policy_action(data, zone),
        EventData::RunbookAttached { .. } | EventData::ChecklistStepChecked { .. } => {
            runbook_event(data, steps)
        }
    }
}

/// What responders did: declared, acknowledged, changed, noted, posted, resolved.
fn responder_event(data: &EventData) -> Description {
    match data {
        EventData::Declared {
            title,
            severity,
            service,
            summary,
            category,
            flags,
            policy,
        } => Description::new(format!("declared {severity} on {service}: {title}"))
            .detail_if(summary.as_ref().map(|s| format!("summary: {s}")))
            .detail_if(category.as_ref().map(|c| format!("category: {c}")))
            .detail_if((!flags.is_empty()).then(|| format!("flags: {}", flags.join(", "))))
            // `name@digest`: the digest tells versions apart for machines, not people.
            .detail_if(
                policy
                    .as_ref()
                    .map(|p| format!("policy: {}", p.split('@').next().unwrap_or(p))),
            ),
        EventData::Acknowledged => Description::new("acknowledged"),
        EventData::SeverityChanged { from, to, reason } => {
            Description::new(with(format!("severity {from} → {to}"), reason))
        }
        EventData::StatusChanged { from, to, message } => {
            Description::new(with(format!("status {from} → {to}"), message))
        }
        EventData::RoleAssigned { role, assignee } => {
            Description::new(format!("{assignee} is now {}", words(role.as_str())))
        }
        EventData::NoteAdded { text } => Description::new(format!("note: {text}")),
        EventData::Resolved { summary } => Description::new(with("resolved".to_owned(), summary)),
        EventData::Reopened { reason } => Description::new(with("reopened".to_owned(), reason)),
        EventData::UpdatePosted { channel, text } => {
            Description::new(format!("{} update: {text}", words(channel.as_str())))
        }
        EventData::PostmortemStageCompleted { stage } => {
            Description::new(format!("post-mortem {} done", words(stage.as_str())))
        }
        // Only this group's kinds are sent here; any other is named by its kind.
        other => Description::new(other.kind()),
    }
}

/// Alerts joining, changing and resolving.
fn alert_event(data: &EventData, zone: &TimeZone) -> Description {
    let at = |t: Timestamp| instant(t, zone, Precision::Minute);
    match data {
        EventData::AlertAttached {
            integration,
            dedup_key,
            summary,
            labels,
            annotations,
            starts_at,
            link,
            route,
            runbook,
            reason,
            targets: extra,
            ..
        } => Description::new(format!("alert: {summary} ({reason})"))
            .detail(format!("from {integration}, alert {dedup_key}"))
            .detail_if(starts_at.map(|t| format!("firing since {}", at(t))))
            .detail_if(route.as_ref().map(|r| format!("matched route {r}")))
            .detail_if(runbook.as_ref().map(|r| format!("runbook: {r}")))
            .detail_if((!extra.is_empty()).then(|| format!("also pages {}", targets(extra))))
            .detail_if(labelled("labels", labels))
            .detail_if(labelled("annotations", annotations))
            .detail_if(link.as_ref().map(|l| format!("link: {l}"))),
        EventData::AlertUpdated {
            integration,
            dedup_key,
            summary,
            labels,
            annotations,
            ..
        } => Description::new(format!("alert changed: {summary}"))
            .detail(format!("from {integration}, alert {dedup_key}"))
            .detail_if(labelled("labels", labels))
            .detail_if(labelled("annotations", annotations)),
        EventData::AlertResolved {
            integration,
            dedup_key,
            summary,
        } => Description::new(format!("alert resolved: {summary}"))
            .detail(format!("from {integration}, alert {dedup_key}")),
        // Only this group's kinds are sent here; any other is named by its kind.
        other => Description::new(other.kind()),
    }
}

/// Pages, escalations and whether their notifications got through.
fn paging_event(data: &EventData) -> Description {
    match data {
        EventData::Paged {
            severity,
            targets: named,
            recipients,
            unreached,
            ..
        } => reach(
            Description::new(format!("paged {} for {severity}", targets(named))),
            recipients,
            unreached,
        ),
        EventData::Escalated {
            level,
            name,
            targets: named,
            reason,
            recipients,
            unreached,
            ..
        } => reach(
            Description::new(format!(
                "escalated to level {level} {name} ({reason}): {}",
                targets(named)
            )),
            recipients,
            unreached,
        ),
        EventData::EscalationExhausted {
            level,
            repeats,
            recipients,
            unreached,
            ..
        } => reach(
            Description::new(format!(
                "escalation exhausted: level {level} repeated {}, nobody acknowledged",
                plural(u64::from(*repeats), "time", "times")
            )),
            recipients,
            unreached,
        ),
        EventData::Notified {
            person,
            channel,
            detail,
            bundled,
            ..
        } => {
            let bundle = if *bundled > 1 {
                format!(" (one message for {bundled} pages)")
            } else {
                String::new()
            };
            let told = match person.strip_prefix("channel:") {
                Some(id) => format!("posted to #{id} by {channel}"),
                None => format!("{person} notified by {channel}"),
            };
            Description::new(format!("{told}{bundle}"))
                .detail_if((!detail.is_empty()).then(|| format!("answer: {detail}")))
        }
        EventData::NotificationFailed {
            person,
            channel,
            error,
            attempts,
            ..
        } => Description::new(format!(
            "could not {} by {channel} after {}: {error}",
            match person.strip_prefix("channel:") {
                Some(id) => format!("post to #{id}"),
                None => format!("notify {person}"),
            },
            plural(u64::from(*attempts), "attempt", "attempts")
        )),
        // Only this group's kinds are sent here; any other is named by its kind.
        other => Description::new(other.kind()),
    }
}

/// What the policy recorded when one of its timers came due.
fn policy_action(data: &EventData, zone: &TimeZone) -> Description {
    let at = |t: Timestamp| instant(t, zone, Precision::Minute);
    match data {
        EventData::SlaBreached { clock, target, .. } => Description::new(format!(
            "{} clock breached (target {target})",
            words(clock.as_str())
        )),
        EventData::UpdateDue { channel, .. } => {
            Description::new(format!("{} update due", words(channel.as_str())))
        }
        EventData::CustomerNoticeDue {
            required, due_by, ..
        } => Description::new(format!(
            "customer notice {} by {}",
            if *required { "required" } else { "recommended" },
            at(*due_by)
        )),
        EventData::MonitoringVerified { .. } => Description::new("fix verified by monitoring"),
        EventData::PostmortemDue { stage, .. } => {
            Description::new(format!("post-mortem {} overdue", words(stage.as_str())))
        }
        EventData::PostmortemReminder { stage, due_by, .. } => Description::new(format!(
            "reminder: post-mortem {} due by {}",
            words(stage.as_str()),
            at(*due_by)
        )),
        EventData::NoticeReminder {
            channel, due_by, ..
        } => Description::new(format!(
            "reminder: {} update due by {}",
            words(channel.as_str()),
            at(*due_by)
        )),
        EventData::NoticeOverdue {
            channel, due_by, ..
        } => Description::new(format!(
            "{} update overdue: none posted by {}",
            words(channel.as_str()),
            at(*due_by)
        )),
        EventData::FollowupDue { label, .. } => Description::new(format!("follow-up due: {label}")),
        // Only this group's kinds are sent here; any other is named by its kind.
        other => Description::new(other.kind()),
    }
}

/// Runbooks attached and their steps checked, steps named by their text when known.
fn runbook_event(data: &EventData, steps: &BTreeMap<String, String>) -> Description {
    match data {
        EventData::RunbookAttached {
            runbook,
            title,
            steps: list,
            phases,
        } => Description::new(format!(
            "runbook {runbook} attached: {title} ({})",
            plural(
                u64::try_from(list.len()).unwrap_or(u64::MAX),
                "step",
                "steps"
            )
        ))
        .detail_if((!phases.is_empty()).then(|| {
            let names: Vec<&str> = phases.iter().map(|p| p.name.as_str()).collect();
            format!("phases: {}", names.join(", "))
        })),
        EventData::ChecklistStepChecked { step, done, output } => {
            let verb = if *done { "checked" } else { "unchecked" };
            let what = match steps.get(step) {
                Some(text) => format!("{verb} step: {text}"),
                None => format!("{verb} step {step}"),
            };
            Description::new(what).detail_if(output.as_ref().map(|o| format!("output: {o}")))
        }
        // Only this group's kinds are sent here; any other is named by its kind.
        other => Description::new(other.kind()),
    }
}

/// An incident's log in words, oldest first, with times in `zone`. Checked steps are
/// named by their text in the runbook attached at the time.
pub fn timeline(events: &[RecordedEvent], zone: &TimeZone) -> Vec<Line> {
    let mut steps: BTreeMap<String, String> = BTreeMap::new();
    events
        .iter()
        .map(|e| {
            if let EventData::RunbookAttached { steps: list, .. } = &e.data {
                // Attaching another runbook replaces the checklist (see the event's docs).
                steps = list
                    .iter()
                    .map(|s: &Step| (s.id.clone(), s.text.clone()))
                    .collect();
            }
            Line {
                at: e.at,
                actor: e.actor.clone(),
                what: event_with_steps(&e.data, zone, &steps),
                reminder: matches!(
                    e.data,
                    EventData::UpdateDue { .. }
                        | EventData::PostmortemReminder { .. }
                        | EventData::NoticeReminder { .. }
                ),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{duration, instant, Precision};
    use jiff::tz::TimeZone;
    use jiff::{SignedDuration, Timestamp};

    #[test]
    fn durations_keep_two_units_and_drop_zeros() {
        let secs = SignedDuration::from_secs;
        for (d, text) in [
            (0, "0s"),
            (45, "45s"),
            (60, "1m"),
            (250, "4m 10s"),
            (3_600, "1h"),
            (3_900, "1h 5m"),
            (7_530, "2h 5m"),
            (183_600, "2d 3h"),
            (172_800 + 300, "2d"),
            (-5, "0s"),
        ] {
            assert_eq!(duration(secs(d)), text, "{d}s");
        }
    }

    #[test]
    fn instants_read_in_the_readers_zone() {
        let t: Timestamp = "2026-03-02T14:05:09.123456Z".parse().expect("time");
        assert_eq!(
            instant(t, &TimeZone::UTC, Precision::Minute),
            "2026-03-02 14:05"
        );
        assert_eq!(
            instant(t, &TimeZone::UTC, Precision::Second),
            "2026-03-02 14:05:09"
        );
        let berlin = TimeZone::get("Europe/Berlin").expect("zone");
        assert_eq!(instant(t, &berlin, Precision::Minute), "2026-03-02 15:05");
    }
}
