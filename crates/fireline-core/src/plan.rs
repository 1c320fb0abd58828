//! What a policy demands of an incident, and when: a pure function of the policy, the
//! incident's events and `now`. The engine and the simulator both call [`fire_due`], so
//! what a simulation shows is what the server does.
//!
//! Every action has a key; firing it appends an event carrying the key, and a key in
//! the log is never planned again. So an action fires at most once, however many
//! engines look at the incident: the append's version check lets only one of them win.
//! Keys start with the incident's cycle (`c0`, and `c1` after a reopen), so a reopened
//! incident is paged and timed afresh.

use crate::policy::{Anchor, Condition, Policy, PolicyDuration, Target};
use crate::{Channel, ClockKind, Stage};
use crate::{EventData, NewEvent, RecordedEvent, Status};
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeSet;

/// The actor recorded on events fireline itself appends.
pub const SYSTEM_ACTOR: &str = "fireline";

/// The flag on incidents opened during a maintenance window: no paging, no escalation.
pub const MAINTENANCE_FLAG: &str = "maintenance";

/// Something the policy will do at `at` unless the incident changes first.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedAction {
    /// When it is due.
    pub at: Timestamp,
    /// Unique within the incident; the event that fires it carries the key.
    pub key: String,
    /// The event to append when it fires.
    pub event: EventData,
}

/// What is due now, and when the next thing comes.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    /// Actions due at or before `now`, earliest first.
    pub actions: Vec<PlannedAction>,
    /// The earliest planned action after `now`, if any.
    pub next_at: Option<Timestamp>,
}

/// Facts about the current cycle (since declaration or the last reopen), read once.
struct Facts<'a> {
    cycle: usize,
    start: Timestamp,
    /// Severity entries in this cycle: (time, severity id).
    severities: Vec<(Timestamp, &'a str)>,
    status: Status,
    /// Status moves in this cycle: (time, new status).
    moves: Vec<(Timestamp, Status)>,
    acked_at: Option<Timestamp>,
    first_response_at: Option<Timestamp>,
    first_update_at: Option<Timestamp>,
    last_update: Vec<(Channel, Timestamp)>,
    /// Every update posted in this cycle: (channel, time).
    updates: Vec<(Channel, Timestamp)>,
    last_reminder: Vec<(Channel, Timestamp)>,
    resolved_at: Option<Timestamp>,
    stages_done: Vec<(Stage, Timestamp)>,
    category: Option<&'a str>,
    flags: &'a [String],
    fired: BTreeSet<&'a str>,
    /// Routes whose alerts joined in this cycle and name extra targets: (first time,
    /// route, targets).
    route_pages: Vec<(Timestamp, &'a str, &'a [String])>,
    /// Escalation levels the policy reached in this cycle: (level, first time).
    levels_reached: Vec<(u32, Timestamp)>,
}

fn latest(list: &mut Vec<(Channel, Timestamp)>, channel: Channel, at: Timestamp) {
    match list.iter_mut().find(|(c, _)| *c == channel) {
        Some(entry) => entry.1 = entry.1.max(at),
        None => list.push((channel, at)),
    }
}

fn facts(events: &[RecordedEvent]) -> Option<Facts<'_>> {
    let first = events.first()?;
    let EventData::Declared {
        severity,
        category,
        flags,
        ..
    } = &first.data
    else {
        return None;
    };
    let mut f = Facts {
        cycle: 0,
        start: first.at,
        severities: vec![(first.at, severity.as_str())],
        status: Status::Investigating,
        moves: Vec::new(),
        acked_at: None,
        first_response_at: None,
        first_update_at: None,
        last_update: Vec::new(),
        updates: Vec::new(),
        last_reminder: Vec::new(),
        resolved_at: None,
        stages_done: Vec::new(),
        category: category.as_deref(),
        flags,
        fired: BTreeSet::new(),
        route_pages: Vec::new(),
        levels_reached: Vec::new(),
    };
    let mut current_severity = severity.as_str();
    for e in &events[1..] {
        if let Some(key) = e.data.action_key() {
            f.fired.insert(key);
        }
        let human = e.actor != SYSTEM_ACTOR;
        match &e.data {
            EventData::Reopened { .. } => {
                f = Facts {
                    cycle: f.cycle + 1,
                    start: e.at,
                    severities: vec![(e.at, current_severity)],
                    status: Status::Investigating,
                    moves: Vec::new(),
                    acked_at: None,
                    first_response_at: None,
                    first_update_at: None,
                    last_update: Vec::new(),
                    updates: Vec::new(),
                    last_reminder: Vec::new(),
                    resolved_at: None,
                    stages_done: Vec::new(),
                    route_pages: Vec::new(),
                    levels_reached: Vec::new(),
                    ..f
                };
                continue;
            }
            EventData::Acknowledged => {
                f.acked_at.get_or_insert(e.at);
            }
            EventData::SeverityChanged { to, .. } => {
                current_severity = to.as_str();
                f.severities.push((e.at, to.as_str()));
            }
            EventData::StatusChanged { to, .. } => {
                f.status = *to;
                f.moves.push((e.at, *to));
            }
            EventData::Resolved { .. } => {
                f.status = Status::Resolved;
                f.resolved_at = Some(e.at);
                f.moves.push((e.at, Status::Resolved));
            }
            EventData::UpdatePosted { channel, .. } => {
                f.first_update_at.get_or_insert(e.at);
                latest(&mut f.last_update, *channel, e.at);
                f.updates.push((*channel, e.at));
            }
            EventData::UpdateDue { channel, .. } => latest(&mut f.last_reminder, *channel, e.at),
            EventData::Escalated {
                key: Some(_),
                level,
                ..
            } if !f.levels_reached.iter().any(|(l, _)| l == level) => {
                f.levels_reached.push((*level, e.at));
            }
            EventData::PostmortemStageCompleted { stage } => f.stages_done.push((*stage, e.at)),
            EventData::AlertAttached {
                route: Some(route),
                targets,
                ..
            } if !targets.is_empty() && !f.route_pages.iter().any(|(_, r, _)| r == route) => {
                f.route_pages
                    .push((e.at, route.as_str(), targets.as_slice()));
            }
            _ => {}
        }
        // First response: anything a person does on the incident after acknowledging.
        let responds = matches!(
            e.data,
            EventData::NoteAdded { .. }
                | EventData::StatusChanged { .. }
                | EventData::RoleAssigned { .. }
                | EventData::UpdatePosted { .. }
                | EventData::SeverityChanged { .. }
                | EventData::Resolved { .. }
        );
        if human && responds && f.acked_at.is_some_and(|a| a <= e.at) {
            f.first_response_at.get_or_insert(e.at);
        }
    }
    Some(f)
}

impl Facts<'_> {
    fn key(&self, rest: &str) -> String {
        format!("c{}:{rest}", self.cycle)
    }

    fn severity_at(&self, t: Timestamp) -> &str {
        self.severities
            .iter()
            .take_while(|(at, _)| *at <= t)
            .last()
            .map_or(self.severities[0].1, |(_, s)| s)
    }

    fn current_severity(&self) -> &str {
        self.severities.last().map_or("", |(_, s)| s)
    }

    /// Whether the incident was still open at `t` (and `t` is in this cycle).
    fn open_at(&self, t: Timestamp) -> bool {
        t >= self.start && self.resolved_at.is_none_or(|r| t < r)
    }

    fn mitigated_at(&self) -> Option<Timestamp> {
        self.moves
            .iter()
            .find(|(_, s)| matches!(s, Status::Monitoring | Status::Resolved))
            .map(|(t, _)| *t)
    }

    /// The most severe level reached in this cycle.
    fn worst_severity<'p>(&self, policy: &'p Policy) -> Option<&'p crate::policy::SeverityPolicy> {
        self.severities
            .iter()
            .filter_map(|(_, s)| policy.severity(s))
            .min_by_key(|s| s.severity.rank)
    }
}

fn targets(list: &[Target]) -> Vec<String> {
    list.iter().map(Target::to_string).collect()
}

/// `fraction` of the way from `start` to `duration` after it.
fn fraction_of(
    policy: &Policy,
    start: Timestamp,
    duration: &PolicyDuration,
    fraction: f64,
) -> Timestamp {
    let end = duration.after(start, &policy.calendar);
    let span = end.duration_since(start).as_secs_f64() * fraction;
    start
        .saturating_add(SignedDuration::from_secs_f64(span.max(0.0)))
        .unwrap_or(end)
}

/// When a trigger first holds in this cycle, if it does.
///
/// A severity filter is read at the moment the condition comes true; if the incident is
/// not at a listed severity then, the trigger fires when it is first raised to one, if
/// the condition still holds at that moment (as clocks do after a raise). Lowering the
/// severity into a listed level does not fire it.
fn trigger_time(
    policy: &Policy,
    f: &Facts<'_>,
    condition: &Condition,
    severities: &[String],
) -> Option<Timestamp> {
    let listed =
        |s: &str| severities.is_empty() || severities.iter().any(|x| x.eq_ignore_ascii_case(s));
    let cal = &policy.calendar;
    let t = match condition {
        Condition::Manual => return None,
        Condition::Declared => {
            return f
                .severities
                .iter()
                .find(|(_, s)| listed(s))
                .map(|(t, _)| *t)
                .filter(|t| f.open_at(*t));
        }
        Condition::Flag(flag) => f.flags.iter().any(|x| x == flag).then_some(f.start)?,
        Condition::NotAcknowledged(after) => after.after(f.start, cal),
        Condition::OpenLongerThan(after) => after.after(f.start, cal),
        Condition::RtoFraction(fraction) => {
            let rto = f
                .category
                .and_then(|c| policy.category(c))
                .and_then(|c| c.rto)?;
            fraction_of(policy, f.start, &rto, *fraction)
        }
        Condition::NoProgress(after) => {
            // Gaps between status moves while not monitoring: the first one too long.
            let mut from = f.start;
            let mut status = Status::Investigating;
            let mut found = None;
            for (at, to) in &f.moves {
                let deadline = after.after(from, cal);
                if status != Status::Monitoring && deadline < *at {
                    found = Some(deadline);
                    break;
                }
                from = *at;
                status = *to;
            }
            match found {
                Some(t) => t,
                None if status == Status::Investigating || status == Status::Identified => {
                    after.after(from, cal)
                }
                None => return None,
            }
        }
    };
    // The first moment at or after `t` when the incident is at a listed severity; later
    // only by a raise (a downgrade into a listed level escalates nothing).
    let rank = |s: &str| policy.severity(s).map_or(u32::MAX, |p| p.severity.rank);
    let at = if listed(f.severity_at(t)) {
        t
    } else {
        let then = rank(f.severity_at(t));
        f.severities
            .iter()
            .find(|(at, s)| *at > t && listed(s) && rank(s) < then)
            .map(|(at, _)| *at)?
    };
    let still_holds = match condition {
        Condition::NotAcknowledged(_) => f.acked_at.is_none_or(|a| a > at),
        Condition::NoProgress(_) => !f.moves.iter().any(|(m, _)| *m > t && *m <= at),
        _ => true,
    };
    (still_holds && f.open_at(at)).then_some(at)
}

fn describe(condition: &Condition) -> String {
    match condition {
        Condition::Declared => "declared at a listed severity".to_owned(),
        Condition::NotAcknowledged(d) => format!("not acknowledged within {d}"),
        Condition::NoProgress(d) => format!("no status progress within {d}"),
        Condition::OpenLongerThan(d) => format!("open longer than {d}"),
        Condition::RtoFraction(x) => {
            format!("{:.0}% of the recovery-time objective elapsed", x * 100.0)
        }
        Condition::Flag(flag) => format!("flagged {flag}"),
        Condition::Manual => "escalated by hand".to_owned(),
    }
}

/// Every action the policy still has in store for this incident, earliest first,
/// assuming nothing else happens. Actions already fired are left out.
pub fn pending(policy: &Policy, events: &[RecordedEvent]) -> Vec<PlannedAction> {
    let Some(f) = facts(events) else {
        return Vec::new();
    };
    let mut plan = Plan {
        fired: &f.fired,
        actions: Vec::new(),
    };
    // Incidents opened in a maintenance window are recorded but page nobody.
    let quiet = f.flags.iter().any(|flag| flag == MAINTENANCE_FLAG);
    if !quiet {
        severity_pages(policy, &f, &mut plan);
        route_pages(&f, &mut plan);
    }
    clock_breaches(policy, &f, &mut plan);
    notice_deadlines(policy, &f, &mut plan);
    if !quiet {
        escalations(policy, &f, &mut plan);
        last_level_repeats(policy, &f, &mut plan);
    }
    if f.status.is_open() {
        updates_due(policy, &f, &mut plan);
    }
    monitoring_verified(policy, &f, &mut plan);
    if let Some(resolved) = f.resolved_at.filter(|_| f.status == Status::Resolved) {
        after_resolution(policy, &f, resolved, &mut plan);
    }
    let mut out = plan.actions;
    out.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.key.cmp(&b.key)));
    out
}

/// The actions planned so far for one incident.
struct Plan<'a> {
    /// Keys already in the log: their actions fired and are not planned again.
    fired: &'a BTreeSet<&'a str>,
    actions: Vec<PlannedAction>,
}

impl Plan<'_> {
    fn add(&mut self, at: Timestamp, key: String, event: EventData) {
        if !self.fired.contains(key.as_str()) {
            self.actions.push(PlannedAction { at, key, event });
        }
    }
}

/// Paging: on declaration, and whenever raised above every level seen this cycle.
fn severity_pages(policy: &Policy, f: &Facts<'_>, plan: &mut Plan<'_>) {
    let mut best_rank = u32::MAX;
    for (at, sev) in &f.severities {
        let Some(rule) = policy.severity(sev) else {
            continue;
        };
        if rule.severity.rank < best_rank {
            best_rank = rule.severity.rank;
            if !rule.page.is_empty() && f.open_at(*at) {
                plan.add(
                    *at,
                    f.key(&format!("page:{}", rule.severity.id)),
                    EventData::Paged {
                        key: f.key(&format!("page:{}", rule.severity.id)),
                        severity: rule.severity.id.clone(),
                        targets: targets(&rule.page),
                        recipients: Vec::new(),
                        unreached: Vec::new(),
                    },
                );
            }
        }
    }
}

/// Targets a route names for its alerts: paged once per route, when its first alert joins.
fn route_pages(f: &Facts<'_>, plan: &mut Plan<'_>) {
    for (at, route, route_targets) in &f.route_pages {
        if f.open_at(*at) {
            let key = f.key(&format!("page:route:{route}"));
            plan.add(
                *at,
                key.clone(),
                EventData::Paged {
                    key,
                    severity: f.severity_at(*at).to_owned(),
                    targets: route_targets.to_vec(),
                    recipients: Vec::new(),
                    unreached: Vec::new(),
                },
            );
        }
    }
}

/// Response clocks, from the current severity's row: a breach when a clock runs out
/// before what it measures happens.
fn clock_breaches(policy: &Policy, f: &Facts<'_>, plan: &mut Plan<'_>) {
    let Some(rule) = policy.severity(f.current_severity()) else {
        return;
    };
    for clock in &rule.clocks {
        let anchor = match clock.from {
            Anchor::Declared => Some(f.start),
            Anchor::Acknowledged => f.acked_at,
        };
        let Some(anchor) = anchor else { continue };
        let deadline = clock.within.after(anchor, &policy.calendar);
        let met = match clock.clock {
            ClockKind::Acknowledge => f.acked_at,
            ClockKind::FirstResponse => f.first_response_at,
            ClockKind::InitialUpdate => f.first_update_at,
            ClockKind::Mitigate => f.mitigated_at(),
            ClockKind::Resolve => f.resolved_at,
        };
        if met.is_none_or(|m| m > deadline) && f.open_at(deadline) {
            let key = f.key(&format!("sla_breach:{}", clock.clock));
            plan.add(
                deadline,
                key.clone(),
                EventData::SlaBreached {
                    key,
                    clock: clock.clock,
                    target: clock.within.to_string(),
                },
            );
        }
    }
}

/// One-shot update deadlines, from the current severity's row as clocks are: owed
/// `after` the (re)opening if the incident is still open then, due `within` of that
/// moment. Only an update on the deadline's own channel posted since it became owed
/// meets it. A reminder comes `remind_before` the deadline and an overdue at it, each
/// once per cycle and channel (as a breached clock does not breach again at another
/// severity).
fn notice_deadlines(policy: &Policy, f: &Facts<'_>, plan: &mut Plan<'_>) {
    let Some(rule) = policy.severity(f.current_severity()) else {
        return;
    };
    let cal = &policy.calendar;
    // The current severity's deadlines are known from when it was set: nothing is
    // recorded as happening before then, and a reminder for a deadline already passed
    // would only echo the overdue.
    let since = f.severities.last().map_or(f.start, |(t, _)| *t);
    for notice in &rule.notices {
        let owed = notice.after.after(f.start, cal);
        let due = notice.within.after(owed, cal);
        let met_by = |t: Timestamp| {
            f.updates
                .iter()
                .any(|(c, at)| *c == notice.channel && *at >= owed && *at <= t)
        };
        if let Some(before) = notice.remind_before {
            let remind = due
                .checked_sub(before.approx())
                .unwrap_or(owed)
                .max(owed)
                .max(since);
            if remind < due && f.open_at(remind) && !met_by(remind) {
                let key = f.key(&format!("notice_reminder:{}", notice.channel));
                plan.add(
                    remind,
                    key.clone(),
                    EventData::NoticeReminder {
                        key,
                        channel: notice.channel,
                        due_by: due,
                    },
                );
            }
        }
        if f.open_at(due) && !met_by(due) {
            let key = f.key(&format!("notice_overdue:{}", notice.channel));
            plan.add(
                due.max(since),
                key.clone(),
                EventData::NoticeOverdue {
                    key,
                    channel: notice.channel,
                    due_by: due,
                },
            );
        }
    }
}

/// Escalation levels: each once, at the earliest trigger that holds.
fn escalations(policy: &Policy, f: &Facts<'_>, plan: &mut Plan<'_>) {
    for level in &policy.escalation {
        let first = level
            .triggers
            .iter()
            .filter_map(|t| trigger_time(policy, f, &t.condition, &t.severities).map(|at| (at, t)))
            .min_by_key(|(at, _)| *at);
        if let Some((at, trigger)) = first {
            let key = f.key(&format!("escalate:{}", level.level));
            plan.add(
                at,
                key.clone(),
                EventData::Escalated {
                    key: Some(key),
                    level: level.level,
                    name: level.name.clone(),
                    targets: targets(&level.targets),
                    reason: describe(&trigger.condition),
                    recipients: Vec::new(),
                    unreached: Vec::new(),
                },
            );
        }
    }
}

/// The last level repeats while nobody acknowledges; when the repeats run out,
/// everyone in every level hears that escalation is exhausted.
fn last_level_repeats(policy: &Policy, f: &Facts<'_>, plan: &mut Plan<'_>) {
    let cal = &policy.calendar;
    let Some(last) = policy.escalation.last() else {
        return;
    };
    let reached = f
        .levels_reached
        .iter()
        .find(|(l, _)| *l == last.level)
        .map(|(_, at)| *at);
    let (Some(repeat), Some(mut at), None) = (&last.repeat, reached, f.acked_at) else {
        return;
    };
    for k in 1..=repeat.times {
        at = repeat.every.after(at, cal);
        if f.open_at(at) {
            let key = f.key(&format!("escalate:{}:repeat:{k}", last.level));
            plan.add(
                at,
                key.clone(),
                EventData::Escalated {
                    key: Some(key),
                    level: last.level,
                    name: last.name.clone(),
                    targets: targets(&last.targets),
                    reason: format!("repeat {k} of {}: nobody has acknowledged", repeat.times),
                    recipients: Vec::new(),
                    unreached: Vec::new(),
                },
            );
        }
    }
    at = repeat.every.after(at, cal);
    if f.open_at(at) {
        let key = f.key("escalation_exhausted");
        plan.add(
            at,
            key.clone(),
            EventData::EscalationExhausted {
                key,
                level: last.level,
                repeats: repeat.times,
                targets: every_escalation_target(policy),
                recipients: Vec::new(),
                unreached: Vec::new(),
            },
        );
    }
}

/// The targets of every escalation level, each once, level 1's first.
fn every_escalation_target(policy: &Policy) -> Vec<String> {
    let mut everyone: Vec<String> = Vec::new();
    for level in &policy.escalation {
        for t in targets(&level.targets) {
            if !everyone.contains(&t) {
                everyone.push(t);
            }
        }
    }
    everyone
}

/// Update cadences restart at each update and repeat while none comes.
fn updates_due(policy: &Policy, f: &Facts<'_>, plan: &mut Plan<'_>) {
    let Some(rule) = policy.severity(f.current_severity()) else {
        return;
    };
    for cadence in rule.updates.iter().filter(|c| c.required) {
        let last = |list: &[(Channel, Timestamp)]| {
            list.iter()
                .find(|(c, _)| *c == cadence.channel)
                .map(|(_, t)| *t)
        };
        let base = [Some(f.start), last(&f.last_update), last(&f.last_reminder)]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(f.start);
        let at = cadence.every.after(base, &policy.calendar);
        let key = f.key(&format!(
            "update_due:{}:{}",
            cadence.channel,
            at.as_second()
        ));
        plan.add(
            at,
            key.clone(),
            EventData::UpdateDue {
                key,
                channel: cadence.channel,
            },
        );
    }
}

/// Monitoring long enough counts the fix as verified.
fn monitoring_verified(policy: &Policy, f: &Facts<'_>, plan: &mut Plan<'_>) {
    let Some(required) = policy
        .severity(f.current_severity())
        .and_then(|r| r.monitoring)
    else {
        return;
    };
    let Some(i) = f.moves.iter().rposition(|(_, s)| *s == Status::Monitoring) else {
        return;
    };
    let since = f.moves[i].0;
    let verified_at = required.after(since, &policy.calendar);
    let left = f.moves.get(i + 1);
    let held = match left {
        None => true,
        Some((at, Status::Resolved)) => *at >= verified_at,
        Some((at, _)) => *at >= verified_at,
    };
    if held && (f.status == Status::Monitoring || left.is_some_and(|(at, _)| *at >= verified_at)) {
        let key = f.key(&format!("monitoring_verified:{}", since.as_second()));
        plan.add(
            verified_at,
            key.clone(),
            EventData::MonitoringVerified { key },
        );
    }
}

/// What follows resolution: customer notices, and for incidents at (or once at) a
/// severity that needs one, the post-mortem's deadlines, reminders and follow-ups.
fn after_resolution(policy: &Policy, f: &Facts<'_>, resolved: Timestamp, plan: &mut Plan<'_>) {
    let worst = f.worst_severity(policy);
    let worst_id = worst
        .map(|w| w.severity.id.as_str())
        .unwrap_or_else(|| f.current_severity());
    customer_notices(policy, f, resolved, worst_id, plan);
    if policy.needs_postmortem(worst_id) {
        postmortem_deadlines(policy, f, resolved, plan);
        postmortem_reminders(policy, f, resolved, plan);
        followups(policy, f, resolved, plan);
    }
}

/// Customer notices the policy asks for, given the worst severity reached and how long
/// the incident was open.
fn customer_notices(
    policy: &Policy,
    f: &Facts<'_>,
    resolved: Timestamp,
    worst_id: &str,
    plan: &mut Plan<'_>,
) {
    let open_for = resolved.duration_since(f.start);
    for (i, rule) in policy.customer_notice.iter().enumerate() {
        let listed = rule
            .severities
            .iter()
            .any(|s| s.eq_ignore_ascii_case(worst_id));
        if listed && open_for > rule.open_longer_than.approx() {
            let key = f.key(&format!("customer_notice:{i}"));
            plan.add(
                resolved,
                key.clone(),
                EventData::CustomerNoticeDue {
                    key,
                    required: rule.required,
                    due_by: rule.send_within.after(resolved, &policy.calendar),
                },
            );
        }
    }
}

/// Each post-mortem stage not done by its deadline is due then.
fn postmortem_deadlines(policy: &Policy, f: &Facts<'_>, resolved: Timestamp, plan: &mut Plan<'_>) {
    for deadline in &policy.post_incident.stages {
        let at = deadline.within.after(resolved, &policy.calendar);
        let done = f
            .stages_done
            .iter()
            .any(|(s, t)| *s == deadline.stage && *t <= at);
        if !done {
            let key = f.key(&format!("postmortem_due:{}", deadline.stage));
            plan.add(
                at,
                key.clone(),
                EventData::PostmortemDue {
                    key,
                    stage: deadline.stage,
                },
            );
        }
    }
}

/// A reminder some hours before each deadline, unless the stage is done by then; the
/// deadline's own action still follows if it is not done by the deadline.
fn postmortem_reminders(policy: &Policy, f: &Facts<'_>, resolved: Timestamp, plan: &mut Plan<'_>) {
    for s in stage_schedule(policy, f, resolved) {
        let Some(remind_at) = s.remind_at else {
            continue;
        };
        let done = f
            .stages_done
            .iter()
            .any(|(st, t)| *st == s.stage && *t <= remind_at);
        if !done {
            let key = f.key(&format!("postmortem_reminder:{}", s.stage));
            plan.add(
                remind_at,
                key.clone(),
                EventData::PostmortemReminder {
                    key,
                    stage: s.stage,
                    due_by: s.due_at,
                },
            );
        }
    }
}

/// The policy's follow-up checkpoints after resolution.
fn followups(policy: &Policy, f: &Facts<'_>, resolved: Timestamp, plan: &mut Plan<'_>) {
    for (i, followup) in policy.post_incident.followups.iter().enumerate() {
        let key = f.key(&format!("followup:{i}"));
        plan.add(
            followup.after.after(resolved, &policy.calendar),
            key.clone(),
            EventData::FollowupDue {
                key,
                label: followup.label.clone(),
            },
        );
    }
}

/// What is due at `now`, and when the next action comes.
pub fn due(policy: &Policy, events: &[RecordedEvent], now: Timestamp) -> Due {
    let mut actions = pending(policy, events);
    let split = actions.partition_point(|a| a.at <= now);
    let next_at = actions.get(split).map(|a| a.at);
    actions.truncate(split);
    Due { actions, next_at }
}

/// The result of one firing step.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    /// Events to append, stamped `now` (never before the log's last event).
    pub events: Vec<NewEvent>,
    /// When the earliest of them was due (for measuring lateness).
    pub earliest_due: Option<Timestamp>,
    /// When the next planned action comes after these.
    pub next_at: Option<Timestamp>,
}

/// The events to append at `now` for everything due: the one step the engine and the
/// simulator share.
pub fn fire_due(policy: &Policy, events: &[RecordedEvent], now: Timestamp) -> Firing {
    let due = due(policy, events, now);
    let at = events.last().map_or(now, |e| e.at.max(now));
    let earliest_due = due.actions.first().map(|a| a.at);
    let fired = due
        .actions
        .into_iter()
        .map(|a| NewEvent {
            at,
            actor: SYSTEM_ACTOR.to_owned(),
            data: a.event,
        })
        .collect();
    Firing {
        events: fired,
        earliest_due,
        next_at: due.next_at,
    }
}

/// When the policy next has work for this incident once `appended` joins its log: what
/// the store schedules in the same transaction as the append.
pub fn next_due_after(
    policy: &Policy,
    events: &[RecordedEvent],
    appended: &[NewEvent],
) -> Option<Timestamp> {
    let mut log: Vec<RecordedEvent> = events.to_vec();
    for e in appended {
        let seq = log.len() as u64 + 1;
        log.push(RecordedEvent {
            id: 0,
            seq,
            at: e.at,
            actor: e.actor.clone(),
            data: e.data.clone(),
        });
    }
    pending(policy, &log).first().map(|a| a.at)
}

/// A responder escalating by hand to `level`, saying `why` if they like: checked
/// against the policy's levels and the incident's state. Manual escalations carry no
/// key, so they may repeat.
pub fn manual_escalation(
    policy: &Policy,
    incident: &crate::Incident,
    level: u32,
    by: &str,
    why: Option<&str>,
) -> Result<EventData, crate::DomainError> {
    let why = crate::command::optional_text("reason", why)?;
    if !incident.status.is_open() {
        return Err(crate::DomainError::Conflict(format!(
            "{} is resolved; reopen it first",
            incident.id
        )));
    }
    let found = policy
        .escalation
        .iter()
        .find(|l| l.level == level)
        .ok_or_else(|| crate::DomainError::Invalid {
            field: "level",
            message: if policy.escalation.is_empty() {
                "the policy has no escalation levels".to_owned()
            } else {
                format!(
                    "no level {level}: the policy has levels 1 to {}",
                    policy.escalation.len()
                )
            },
        })?;
    Ok(EventData::Escalated {
        key: None,
        level,
        name: found.name.clone(),
        targets: targets(&found.targets),
        reason: match why {
            Some(why) => format!("escalated by hand by {by}: {why}"),
            None => format!("escalated by hand by {by}"),
        },
        recipients: Vec::new(),
        unreached: Vec::new(),
    })
}

/// The level a responder's "escalate" without a level means: the first level above
/// those the incident reached, or the top one again once all were; `None` when the
/// policy has no levels.
pub fn next_escalation_level(policy: &Policy, events: &[RecordedEvent]) -> Option<u32> {
    let reached = facts(events).map_or(0, |f| {
        f.levels_reached.iter().map(|(l, _)| *l).max().unwrap_or(0)
    });
    policy
        .escalation
        .iter()
        .find(|l| l.level > reached)
        .or_else(|| policy.escalation.last())
        .map(|l| l.level)
}

/// When delivering a page keeps failing: the next escalation level, at once, so a dead
/// contact never leaves an incident unheard. `None` when the incident is acknowledged or
/// resolved, or no level is left above those already reached.
pub fn escalate_after_failure(
    policy: &Policy,
    events: &[RecordedEvent],
    reason: &str,
) -> Option<EventData> {
    let f = facts(events)?;
    if f.acked_at.is_some() || !f.status.is_open() {
        return None;
    }
    let reached = f.levels_reached.iter().map(|(l, _)| *l).max().unwrap_or(0);
    let next = policy.escalation.iter().find(|l| l.level > reached)?;
    let key = f.key(&format!("escalate:{}", next.level));
    if f.fired.contains(key.as_str()) {
        return None;
    }
    Some(EventData::Escalated {
        key: Some(key),
        level: next.level,
        name: next.name.clone(),
        targets: targets(&next.targets),
        reason: reason.to_owned(),
        recipients: Vec::new(),
        unreached: Vec::new(),
    })
}

/// One post-mortem stage's deadline, reminder and completion in the current cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageSchedule {
    /// Which stage.
    pub stage: Stage,
    /// Its deadline.
    pub due_at: Timestamp,
    /// When the reminder comes (`None`: the policy sends none).
    pub remind_at: Option<Timestamp>,
    /// When it was completed, if it was (the first completion in this cycle).
    pub completed_at: Option<Timestamp>,
}

fn stage_schedule(policy: &Policy, f: &Facts<'_>, resolved: Timestamp) -> Vec<StageSchedule> {
    let cal = &policy.calendar;
    policy
        .post_incident
        .stages
        .iter()
        .map(|deadline| {
            let due_at = deadline.within.after(resolved, cal);
            let remind_at = policy
                .post_incident
                .remind_before
                .as_ref()
                .and_then(|before| {
                    let at = due_at
                        .checked_sub(before.approx())
                        .unwrap_or(resolved)
                        .max(resolved);
                    (at < due_at).then_some(at)
                });
            StageSchedule {
                stage: deadline.stage,
                due_at,
                remind_at,
                completed_at: f
                    .stages_done
                    .iter()
                    .filter(|(s, _)| *s == deadline.stage)
                    .map(|(_, t)| *t)
                    .min(),
            }
        })
        .collect()
}

/// The post-mortem stages of a resolved incident that needs one: each stage's deadline,
/// reminder and completion, in the policy's order. Empty while the incident is open or
/// when its worst severity needs no post-mortem.
pub fn postmortem_schedule(policy: &Policy, events: &[RecordedEvent]) -> Vec<StageSchedule> {
    let Some(f) = facts(events) else {
        return Vec::new();
    };
    let Some(resolved) = f.resolved_at.filter(|_| f.status == Status::Resolved) else {
        return Vec::new();
    };
    let worst_id = f
        .worst_severity(policy)
        .map(|w| w.severity.id.as_str())
        .unwrap_or_else(|| f.current_severity());
    if !policy.needs_postmortem(worst_id) {
        return Vec::new();
    }
    stage_schedule(policy, &f, resolved)
}

/// Stages completed in the incident's current cycle (since it was last reopened), with
/// when: what the post-mortem's state is read from.
pub fn stages_completed(events: &[RecordedEvent]) -> Vec<(Stage, Timestamp)> {
    facts(events).map(|f| f.stages_done).unwrap_or_default()
}
