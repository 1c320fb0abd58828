//! The one vocabulary: every event kind worded for a responder (no keys, no JSON, no
//! sub-second times), times in the reader's zone, and one rule for durations.

use fireline_core::comms::{render_source, RenderInput};
use fireline_core::describe::{self, duration, instant, Precision};
use fireline_core::policy::post_incident::Template;
use fireline_core::postmortem::{render_draft, DraftInput};
use fireline_core::runbook::{Phase, Step};
use fireline_core::{Channel, ClockKind, Stage};
use fireline_core::{
    EventData, Incident, IncidentId, IncidentRole, Recipient, RecordedEvent, Status,
};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;

fn t0() -> Timestamp {
    "2026-03-02T14:00:00.123456Z".parse().expect("valid")
}

fn recorded(events: Vec<(i64, &str, EventData)>) -> Vec<RecordedEvent> {
    events
        .into_iter()
        .enumerate()
        .map(|(i, (secs, actor, data))| RecordedEvent {
            id: i as i64 + 1,
            seq: i as u64 + 1,
            at: t0() + SignedDuration::from_secs(secs),
            actor: actor.into(),
            data,
        })
        .collect()
}

fn declared() -> EventData {
    EventData::Declared {
        title: "Checkout 5xx".into(),
        severity: "SEV2".into(),
        service: "checkout".into(),
        summary: Some("errors above 5%".into()),
        category: Some("availability".into()),
        flags: vec!["data-loss".into()],
        policy: Some("default@0123456789abcdef".into()),
    }
}

fn reached() -> Vec<Recipient> {
    vec![Recipient {
        person: "bob".into(),
        via: "schedule:primary".into(),
    }]
}

/// One event of every kind, each carrying the internal keys a responder must not see.
fn every_kind() -> Vec<EventData> {
    [
        responder_kinds(),
        alert_kinds(),
        paging_kinds(),
        policy_kinds(),
        runbook_kinds(),
        notice_kinds(),
    ]
    .concat()
}

/// One-shot update deadlines (`[severities.ID.notices]`): the reminder and the overdue.
fn notice_kinds() -> Vec<EventData> {
    vec![
        EventData::NoticeReminder {
            key: "c0:notice_reminder:customer".into(),
            channel: Channel::Customer,
            due_by: t0(),
        },
        EventData::NoticeOverdue {
            key: "c0:notice_overdue:status_page".into(),
            channel: Channel::StatusPage,
            due_by: t0(),
        },
    ]
}

/// What responders do.
fn responder_kinds() -> Vec<EventData> {
    vec![
        declared(),
        EventData::Acknowledged,
        EventData::SeverityChanged {
            from: "SEV2".into(),
            to: "SEV1".into(),
            reason: Some("all regions".into()),
        },
        EventData::StatusChanged {
            from: Status::Investigating,
            to: Status::Identified,
            message: None,
        },
        EventData::RoleAssigned {
            role: IncidentRole::TechLead,
            assignee: "carol".into(),
        },
        EventData::NoteAdded {
            text: "rolled back".into(),
        },
        EventData::Resolved { summary: None },
        EventData::Reopened { reason: None },
        EventData::UpdatePosted {
            channel: Channel::StatusPage,
            text: "We are investigating.".into(),
        },
        EventData::PostmortemStageCompleted {
            stage: Stage::ReviewMeeting,
        },
    ]
}

/// Alerts joining, changing and resolving.
fn alert_kinds() -> Vec<EventData> {
    let labels: BTreeMap<String, String> =
        [("alertname".to_owned(), "HighErrors".to_owned())].into();
    vec![
        EventData::AlertAttached {
            integration: "prom".into(),
            dedup_key: "HighErrors".into(),
            summary: "5xx above 5%".into(),
            labels: labels.clone(),
            annotations: BTreeMap::new(),
            starts_at: Some(t0()),
            link: None,
            route: Some("checkout".into()),
            runbook: None,
            digest: "d1g3st".into(),
            reason: "new alert".into(),
            group: "g".into(),
            targets: vec![],
        },
        EventData::AlertUpdated {
            dedup_key: "HighErrors".into(),
            integration: "prom".into(),
            summary: "5xx above 7%".into(),
            labels,
            annotations: BTreeMap::new(),
            digest: "d1g3st".into(),
        },
        EventData::AlertResolved {
            dedup_key: "HighErrors".into(),
            integration: "prom".into(),
            summary: "5xx above 7%".into(),
        },
    ]
}

/// Pages, escalations and notifications.
fn paging_kinds() -> Vec<EventData> {
    vec![
        EventData::Paged {
            key: "c0:page".into(),
            severity: "SEV2".into(),
            targets: vec!["schedule:primary".into(), "schedule:night".into()],
            recipients: reached(),
            unreached: vec!["schedule:night".into()],
        },
        EventData::Escalated {
            key: Some("c0:escalate:2".into()),
            level: 2,
            name: "Engineering lead".into(),
            targets: vec!["team:engineering-leads".into()],
            reason: "open longer than 2h".into(),
            recipients: reached(),
            unreached: vec![],
        },
        EventData::EscalationExhausted {
            key: "c0:exhausted".into(),
            level: 2,
            repeats: 3,
            targets: vec!["person:bob".into()],
            recipients: reached(),
            unreached: vec![],
        },
        EventData::Notified {
            key: "outbox:7:bob:slack".into(),
            person: "bob".into(),
            channel: "slack".into(),
            detail: "HTTP 200".into(),
            bundled: 3,
        },
        EventData::NotificationFailed {
            key: "outbox:8:carol:email".into(),
            person: "carol".into(),
            channel: "email".into(),
            error: "mailbox full".into(),
            attempts: 1,
        },
    ]
}

/// What the policy records when its timers come due.
fn policy_kinds() -> Vec<EventData> {
    vec![
        EventData::SlaBreached {
            key: "c0:sla_breach:acknowledge".into(),
            clock: ClockKind::Acknowledge,
            target: "5m".into(),
        },
        EventData::UpdateDue {
            key: "c0:update:internal:1".into(),
            channel: Channel::Internal,
        },
        EventData::CustomerNoticeDue {
            key: "c0:notice".into(),
            required: true,
            due_by: t0(),
        },
        EventData::MonitoringVerified {
            key: "c0:monitoring".into(),
        },
        EventData::PostmortemDue {
            key: "c0:postmortem:draft".into(),
            stage: Stage::Draft,
        },
        EventData::PostmortemReminder {
            key: "c0:postmortem_reminder:draft".into(),
            stage: Stage::Draft,
            due_by: t0(),
        },
        EventData::FollowupDue {
            key: "c0:followup:0".into(),
            label: "1 week".into(),
        },
    ]
}

/// Runbooks attached and their steps checked.
fn runbook_kinds() -> Vec<EventData> {
    vec![
        EventData::RunbookAttached {
            runbook: "checkout-5xx".into(),
            title: "Checkout 5xx".into(),
            steps: vec![Step {
                id: "triage-check-the-dashboard".into(),
                section: "Triage".into(),
                text: "Check the dashboard".into(),
                command: None,
                phase: None,
                line: 0,
            }],
            phases: vec![Phase {
                name: "Triage".into(),
                from_minutes: 0,
                to_minutes: 5,
            }],
        },
        EventData::ChecklistStepChecked {
            step: "triage-check-the-dashboard".into(),
            done: true,
            output: Some("all green".into()),
        },
    ]
}

#[test]
fn every_event_kind_reads_without_keys_json_or_sub_second_times() {
    let events = every_kind();
    let mut kinds: Vec<&str> = events.iter().map(EventData::kind).collect();
    kinds.dedup();
    assert_eq!(kinds.len(), 29, "one of each kind: {kinds:?}");
    for data in &events {
        let d = describe::event(data, &TimeZone::UTC);
        assert!(!d.summary.is_empty(), "{}", data.kind());
        for text in std::iter::once(&d.summary).chain(&d.details) {
            for internal in [
                "c0:",
                "outbox:",
                "d1g3st",
                "{",
                "[",
                "\"",
                "schedule:",
                "person:",
                "team:",
                ".123",
                "_",
            ] {
                assert!(
                    !text.contains(internal),
                    "{}: `{internal}` in {text:?}",
                    data.kind()
                );
            }
        }
    }
}

#[test]
fn pages_say_whom_they_reached_and_through_what() {
    let paged = describe::event(&every_kind()[13], &TimeZone::UTC);
    assert_eq!(
        paged.summary,
        "paged schedule primary, schedule night for SEV2; reached bob; nobody at schedule night"
    );
    assert_eq!(paged.details, ["bob through schedule primary"]);
    let escalated = describe::event(&every_kind()[14], &TimeZone::UTC);
    assert_eq!(
        escalated.summary,
        "escalated to level 2 Engineering lead (open longer than 2h): team engineering-leads; reached bob"
    );
    let notified = describe::event(&every_kind()[16], &TimeZone::UTC);
    assert_eq!(
        notified.summary,
        "bob notified by slack (one message for 3 pages)"
    );
    assert_eq!(notified.details, ["answer: HTTP 200"]);
}

#[test]
fn times_inside_descriptions_read_in_the_readers_zone() {
    let notice = &every_kind()[20];
    assert_eq!(
        describe::event(notice, &TimeZone::UTC).summary,
        "customer notice required by 2026-03-02 14:00"
    );
    let berlin = TimeZone::get("Europe/Berlin").expect("a known zone");
    assert_eq!(
        describe::event(notice, &berlin).summary,
        "customer notice required by 2026-03-02 15:00"
    );
    assert_eq!(
        instant(t0(), &berlin, Precision::Second),
        "2026-03-02 15:00:00"
    );
}

#[test]
fn update_deadlines_name_the_channel_and_the_deadline_and_only_the_reminder_is_one() {
    let berlin = TimeZone::get("Europe/Berlin").expect("a known zone");
    let [reminder, overdue] = [&every_kind()[27], &every_kind()[28]];
    assert_eq!(
        describe::event(reminder, &berlin).summary,
        "reminder: customer update due by 2026-03-02 15:00"
    );
    assert_eq!(
        describe::event(overdue, &TimeZone::UTC).summary,
        "status page update overdue: none posted by 2026-03-02 14:00"
    );
    let lines = describe::timeline(
        &recorded(vec![
            (0, "alice", declared()),
            (60, "fireline", reminder.clone()),
            (120, "fireline", overdue.clone()),
        ]),
        &TimeZone::UTC,
    );
    // The overdue is a fact about the response (a post-mortem keeps it); the reminder is not.
    assert!(lines[1].reminder && !lines[2].reminder);
}

#[test]
fn the_timeline_names_checked_steps_by_their_text_and_marks_reminders() {
    let events = recorded(vec![
        (0, "alice", declared()),
        (60, "alice", every_kind()[25].clone()),
        (120, "alice", every_kind()[26].clone()),
        (180, "fireline", every_kind()[23].clone()),
    ]);
    let lines = describe::timeline(&events, &TimeZone::UTC);
    assert_eq!(lines[2].what.summary, "checked step: Check the dashboard");
    assert_eq!(lines[2].what.details, ["output: all green"]);
    assert_eq!(lines[2].actor, "alice");
    assert!(lines[3].reminder && !lines[2].reminder);
    // Alone, an event names the step by its id.
    assert_eq!(
        describe::event(&every_kind()[26], &TimeZone::UTC).summary,
        "checked step triage-check-the-dashboard"
    );
}

#[test]
fn responder_text_keeps_its_lines_until_a_table_needs_one() {
    let d = describe::event(
        &EventData::NoteAdded {
            text: "rolled back\n\nerrors falling".into(),
        },
        &TimeZone::UTC,
    );
    assert_eq!(d.summary, "note: rolled back\n\nerrors falling");
    assert_eq!(d.one_line(), "note: rolled back / errors falling");
}

#[test]
fn an_event_reads_back_from_the_apis_fields() {
    for data in every_kind() {
        let mut fields = match serde_json::to_value(&data).expect("serialises") {
            serde_json::Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        };
        fields.remove("kind");
        assert_eq!(
            EventData::from_kind_and_fields(data.kind(), &fields).expect("reads back"),
            data
        );
    }
}

#[test]
fn a_45_second_duration_reads_45s_everywhere() {
    let d = SignedDuration::from_secs(45);
    assert_eq!(duration(d), "45s");
    assert_eq!(fireline_core::comms::human_duration(d), "45s");
    assert_eq!(fireline_core::report::human_duration(Some(45.0)), "45s");
    // In a message template, 45 seconds after declaration.
    let events = recorded(vec![
        (0, "alice", declared()),
        (45, "bob", EventData::Acknowledged),
    ]);
    let incident = Incident::fold(IncidentId(7), &events).expect("folds");
    let vars = BTreeMap::new();
    let text = render_source(
        "{{ since_declared }}",
        &incident,
        &RenderInput {
            channel: None,
            now: t0() + d,
            next_update: None,
            vars: &vars,
        },
    )
    .expect("renders");
    assert_eq!(text, "45s");
    // In the post-mortem's response times.
    let draft = render_draft(&DraftInput {
        incident: &incident,
        events: &events,
        related: &[],
        actions: &[],
        template: Template::Standard,
        stages: &[],
    });
    assert!(draft.contains("| Time to acknowledge | 45s |"), "{draft}");
}
