//! Who hears about what the policy decides besides pages: a breached clock, an update
//! due, a customer-notice deadline, a verified fix, a post-mortem deadline, a
//! follow-up. The policy's `[notify]` names an audience per kind (an incident role, the
//! on-call, a schedule, a person); this turns the events the engine fires into outbox
//! messages for those people, so no decision stays on the timeline only.
//!
//! Notices are not pages: nothing to escalate, so they go through each person's
//! immediate contacts, are not urgent (flood control may bundle them), and carry an
//! acknowledge link only while the incident still needs one.

use super::notify::{immediate, Links, NoticeItem, Outgoing};
use super::{Resolved, Roster};
use crate::policy::{Audience, NoticeKind, Policy, Target};
use crate::{describe, EventData, Incident, NewEvent, RecordedEvent};
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// The messages that tell people about the notices among `events` (appended to
/// `incident`, whose log so far is `history`), addressed as `policy`'s `[notify]` says.
/// Keys are `{incident}/{action key}/…`: each action fires once, so each notice is sent
/// once however often an append is retried.
pub fn tell(
    roster: &Roster,
    policy: &Policy,
    incident: &Incident,
    history: &[RecordedEvent],
    events: &[NewEvent],
    links: &Links,
) -> Vec<Outgoing> {
    let mut out = Vec::new();
    for event in events {
        let (Some(kind), Some(key)) = (NoticeKind::of(&event.data), NoticeKind::key(&event.data))
        else {
            continue;
        };
        let people = audience(roster, policy, incident, history, kind, event.at);
        if people.is_empty() {
            continue;
        }
        let item = NoticeItem::of(incident, links);
        for resolved in people {
            let Some(person) = roster.people.get(&resolved.person) else {
                continue;
            };
            let zone = TimeZone::get(&person.time_zone).unwrap_or(TimeZone::UTC);
            let what = describe::event(&event.data, &zone).one_line();
            let reason = format!("{what} ({})", why(&resolved.via));
            let needs_ack = incident.acknowledged.is_none() && incident.status.is_open();
            let items = [NoticeItem {
                reason: Some(reason.clone()),
                ack_url: needs_ack.then(|| links.ack_url(incident.id, &person.id, event.at)),
                ..item.clone()
            }];
            let headline = format!(
                "{}: [{}] {}",
                capitalised(&what),
                incident.severity,
                incident.title
            );
            out.extend(immediate(
                person,
                &format!("{}/{key}", incident.id),
                &headline,
                &items,
                &reason,
                event.at,
            ));
        }
    }
    for o in &mut out {
        o.incident = Some(incident.id);
    }
    out
}

/// The people `[notify]` names for `kind`, each once, in the order named.
fn audience(
    roster: &Roster,
    policy: &Policy,
    incident: &Incident,
    history: &[RecordedEvent],
    kind: NoticeKind,
    at: Timestamp,
) -> Vec<Resolved> {
    let mut people: Vec<Resolved> = Vec::new();
    let mut add = |found: Vec<Resolved>| {
        for r in found {
            if !people.iter().any(|p| p.person == r.person) {
                people.push(r);
            }
        }
    };
    for who in policy.notify.audience(kind) {
        match who {
            Audience::Role(role) => match incident.roles.get(role) {
                Some(holder) if roster.people.contains_key(holder) => add(vec![Resolved {
                    person: holder.clone(),
                    via: format!("role:{role}"),
                }]),
                // Nobody holds the role (or not anyone the roster can reach): the
                // on-call hears instead, so the notice is never lost to a gap.
                _ => add(on_call(roster, policy, incident, history, at)),
            },
            Audience::OnCall => add(on_call(roster, policy, incident, history, at)),
            Audience::Target(target) => add(roster.resolve(target, at)),
        }
    }
    people
}

/// The incident's on-call: whoever acknowledged it; else the people its latest page or
/// escalation reached; else whom its severity pages now; else the first escalation level.
fn on_call(
    roster: &Roster,
    policy: &Policy,
    incident: &Incident,
    history: &[RecordedEvent],
    at: Timestamp,
) -> Vec<Resolved> {
    if let Some((_, by)) = &incident.acknowledged {
        if roster.people.contains_key(by) {
            return vec![Resolved {
                person: by.clone(),
                via: "oncall".to_owned(),
            }];
        }
    }
    let paged = history.iter().rev().find_map(|e| match &e.data {
        EventData::Paged { recipients, .. } | EventData::Escalated { recipients, .. }
            if !recipients.is_empty() =>
        {
            Some(recipients)
        }
        _ => None,
    });
    if let Some(recipients) = paged {
        return recipients
            .iter()
            .filter(|r| roster.people.contains_key(&r.person))
            .map(|r| Resolved {
                person: r.person.clone(),
                via: "oncall".to_owned(),
            })
            .collect();
    }
    let severity_targets = policy
        .severity(&incident.severity)
        .map(|s| s.page.as_slice())
        .unwrap_or_default();
    let first_level = policy
        .escalation
        .first()
        .map(|l| l.targets.as_slice())
        .unwrap_or_default();
    for targets in [severity_targets, first_level] {
        let found = resolve_all(roster, targets, at);
        if !found.is_empty() {
            return found;
        }
    }
    Vec::new()
}

fn resolve_all(roster: &Roster, targets: &[Target], at: Timestamp) -> Vec<Resolved> {
    let mut out: Vec<Resolved> = Vec::new();
    for target in targets {
        for r in roster.resolve(target, at) {
            if !out.iter().any(|o| o.person == r.person) {
                out.push(r);
            }
        }
    }
    out
}

/// Why a person hears of it, in words.
fn why(via: &str) -> String {
    if let Some(role) = via.strip_prefix("role:") {
        return format!("you are its {}", role.replace('_', " "));
    }
    if via == "oncall" {
        return "you are on call for it".to_owned();
    }
    if via.starts_with("person:") {
        return "the policy names you".to_owned();
    }
    format!("you are in {}", describe::target(via))
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Channel, ClockKind};
    use crate::{IncidentId, IncidentRole, Recipient};
    use jiff::SignedDuration;

    const POLICY: &str = r#"
name = "tell-test"
[severities.SEV1]
name = "Critical"
rank = 1
page = ["person:carol"]
[severities.SEV2]
name = "High"
rank = 2
"#;

    const ROSTER: &str = r#"
[people.alice]
name = "Alice"
contacts = [{ kind = "email", address = "alice@example.com" }]
[people.bob]
name = "Bob"
time_zone = "Europe/Berlin"
contacts = [{ kind = "email", address = "bob@example.com" }, { kind = "sms", address = "+15551230001" }]
rules = [{ kind = "email", after = "0m" }, { kind = "sms", after = "5m" }]
[people.carol]
name = "Carol"
contacts = [{ kind = "email", address = "carol@example.com" }]
[people.dave]
name = "Dave"
contacts = [{ kind = "email", address = "dave@example.com" }]
"#;

    fn at() -> Timestamp {
        "2026-03-02T14:00:00Z".parse().expect("timestamp")
    }

    fn links() -> Links {
        Links {
            base_url: "https://fireline.example".into(),
            ack_secret: vec![7; 32],
            ack_valid: SignedDuration::from_hours(24),
        }
    }

    fn recorded(seq: u64, data: EventData) -> RecordedEvent {
        RecordedEvent {
            id: seq as i64,
            seq,
            at: at(),
            actor: "zoe".into(),
            data,
        }
    }

    /// A SEV1 declared at 14:00, then `more` events.
    fn history(more: Vec<EventData>) -> Vec<RecordedEvent> {
        let mut events = vec![recorded(
            1,
            EventData::Declared {
                title: "Checkout down".into(),
                severity: "SEV1".into(),
                service: "checkout".into(),
                summary: None,
                category: None,
                flags: vec![],
                policy: None,
            },
        )];
        for (i, data) in more.into_iter().enumerate() {
            events.push(recorded(i as u64 + 2, data));
        }
        events
    }

    fn breach() -> NewEvent {
        NewEvent {
            at: at() + SignedDuration::from_mins(5),
            actor: "fireline".into(),
            data: EventData::SlaBreached {
                key: "c0:sla:acknowledge".into(),
                clock: ClockKind::Acknowledge,
                target: "5m".into(),
            },
        }
    }

    fn told(policy: &str, log: &[RecordedEvent], event: NewEvent) -> Vec<Outgoing> {
        let roster = Roster::from_toml_str(ROSTER).expect("roster");
        let policy = Policy::from_toml(policy).expect("policy");
        let incident = Incident::fold(IncidentId(12), log).expect("fold");
        tell(&roster, &policy, &incident, log, &[event], &links())
    }

    fn people(out: &[Outgoing]) -> Vec<&str> {
        out.iter().map(|o| o.person.as_str()).collect()
    }

    fn commander(who: &str) -> EventData {
        EventData::RoleAssigned {
            role: IncidentRole::Commander,
            assignee: who.into(),
        }
    }

    #[test]
    fn a_breached_clock_is_told_to_the_commander() {
        let out = told(POLICY, &history(vec![commander("bob")]), breach());
        assert_eq!(people(&out), ["bob"], "only the immediate contact, not SMS");
        let o = &out[0];
        assert_eq!(o.incident, Some(IncidentId(12)));
        assert!(
            o.key.starts_with("INC-12/c0:sla:acknowledge/bob/"),
            "{}",
            o.key
        );
        assert!(!o.notice.urgent, "a reminder is not a page");
        assert!(!o.unless_acknowledged);
        assert!(
            o.notice.headline.contains("Checkout down") && o.notice.headline.contains("SEV1"),
            "{}",
            o.notice.headline
        );
        let item = &o.notice.items[0];
        let reason = item.reason.as_deref().unwrap_or_default();
        assert!(reason.contains("you are its commander"), "{reason}");
        assert_eq!(
            item.incident_url.as_deref(),
            Some("https://fireline.example/ui/incidents/INC-12")
        );
        assert!(
            item.ack_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://fireline.example/ack/")),
            "unacknowledged: the notice offers to acknowledge"
        );
    }

    #[test]
    fn without_a_commander_whoever_was_paged_hears() {
        let paged = EventData::Paged {
            key: "c0:page".into(),
            severity: "SEV1".into(),
            targets: vec!["person:alice".into()],
            recipients: vec![Recipient {
                person: "alice".into(),
                via: "person:alice".into(),
            }],
            unreached: vec![],
        };
        let out = told(POLICY, &history(vec![paged]), breach());
        assert_eq!(people(&out), ["alice"]);
        let reason = out[0].notice.items[0].reason.clone().unwrap_or_default();
        assert!(reason.contains("you are on call for it"), "{reason}");
    }

    #[test]
    fn with_nobody_paged_yet_the_severity_page_targets_hear() {
        let out = told(POLICY, &history(vec![]), breach());
        assert_eq!(people(&out), ["carol"]);
    }

    #[test]
    fn whoever_acknowledged_hears_and_no_ack_link_is_offered() {
        let mut log = history(vec![EventData::Acknowledged]);
        log[1].actor = "alice".into();
        let out = told(POLICY, &log, breach());
        assert_eq!(people(&out), ["alice"]);
        assert_eq!(out[0].notice.items[0].ack_url, None);
    }

    #[test]
    fn the_notify_section_names_who_hears_each_kind() {
        let policy =
            format!("{POLICY}\n[notify]\nupdate_due = [\"person:dave\", \"role:comms\"]\n");
        let due = NewEvent {
            data: EventData::UpdateDue {
                key: "c0:update:internal:1".into(),
                channel: Channel::Internal,
            },
            ..breach()
        };
        // Nobody holds comms: the on-call (carol, whom SEV1 pages) hears instead.
        let log = history(vec![commander("bob")]);
        assert_eq!(people(&told(&policy, &log, due)), ["dave", "carol"]);
        // Breaches keep the default: the commander.
        assert_eq!(people(&told(&policy, &log, breach())), ["bob"]);
    }

    #[test]
    fn an_update_deadline_is_told_to_comms_by_default_else_the_on_call() {
        let overdue = || NewEvent {
            data: EventData::NoticeOverdue {
                key: "c0:notice_overdue:customer".into(),
                channel: Channel::Customer,
                due_by: at() + SignedDuration::from_mins(30),
            },
            ..breach()
        };
        let comms = EventData::RoleAssigned {
            role: IncidentRole::Comms,
            assignee: "dave".into(),
        };
        let out = told(POLICY, &history(vec![commander("bob"), comms]), overdue());
        assert_eq!(
            people(&out),
            ["dave"],
            "comms posts the update, not the commander"
        );
        let reason = out[0].notice.items[0].reason.clone().unwrap_or_default();
        assert!(
            reason.starts_with("customer update overdue: none posted by")
                && reason.contains("you are its comms"),
            "{reason}"
        );
        assert!(out[0]
            .key
            .starts_with("INC-12/c0:notice_overdue:customer/dave/"));
        // Nobody holds comms: the on-call (carol, whom SEV1 pages) hears instead.
        let out = told(POLICY, &history(vec![commander("bob")]), overdue());
        assert_eq!(people(&out), ["carol"]);
        // `[notify] notice` overrides the default.
        let policy = format!("{POLICY}\n[notify]\nnotice = [\"role:commander\"]\n");
        let out = told(&policy, &history(vec![commander("bob")]), overdue());
        assert_eq!(people(&out), ["bob"]);
    }

    #[test]
    fn each_person_reads_the_time_in_their_own_zone() {
        let due = NewEvent {
            data: EventData::CustomerNoticeDue {
                key: "c0:customer".into(),
                required: true,
                due_by: at() + SignedDuration::from_mins(30),
            },
            ..breach()
        };
        let out = told(POLICY, &history(vec![commander("bob")]), due);
        let reason = out[0].notice.items[0].reason.clone().unwrap_or_default();
        // 14:30 UTC is 15:30 in Berlin.
        assert!(reason.contains("15:30"), "{reason}");
    }

    #[test]
    fn events_that_are_not_notices_tell_nobody() {
        let note = NewEvent {
            data: EventData::NoteAdded {
                text: "looking".into(),
            },
            ..breach()
        };
        assert!(told(POLICY, &history(vec![commander("bob")]), note).is_empty());
    }
}
