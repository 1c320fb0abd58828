//! Communication templates: each preset's wording rendered with an incident's facts,
//! template problems reported as policy problems, and the public ETA check.

use fireline_core::comms::{
    channel_name, next_update_after, public_wording_warnings, render, RenderInput,
};
use fireline_core::policy::templates::TemplateKind;
use fireline_core::policy::{check, Policy};
use fireline_core::Channel;
use fireline_core::{EventData, Incident, IncidentId, RecordedEvent, Status};
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;

const AGENTIC: &str = include_str!("../../../policies/agentic-flow.toml");
const REFLEXION: &str = include_str!("../../../policies/reflexion.toml");

/// 2026-11-08 14:23:00 UTC, as in seed 001's example.
fn t0() -> Timestamp {
    "2026-11-08T14:23:00Z".parse().expect("valid")
}

fn incident(severity: &str, status: Status, resolved_after: Option<i64>) -> Incident {
    let mut events = vec![RecordedEvent {
        id: 1,
        seq: 1,
        at: t0(),
        actor: "alice".into(),
        data: EventData::Declared {
            title: "Agent Booster down".into(),
            severity: severity.into(),
            service: "agent-booster".into(),
            summary: None,
            category: None,
            flags: vec![],
            policy: None,
        },
    }];
    if status != Status::Investigating && status != Status::Resolved {
        events.push(RecordedEvent {
            id: 2,
            seq: 2,
            at: t0() + SignedDuration::from_mins(5),
            actor: "alice".into(),
            data: EventData::StatusChanged {
                from: Status::Investigating,
                to: status,
                message: None,
            },
        });
    }
    if let Some(mins) = resolved_after {
        let seq = events.len() as u64 + 1;
        events.push(RecordedEvent {
            id: seq as i64,
            seq,
            at: t0() + SignedDuration::from_mins(mins),
            actor: "alice".into(),
            data: EventData::Resolved { summary: None },
        });
    }
    Incident::fold(IncidentId(7), &events).expect("folds")
}

fn policy(text: &str) -> Policy {
    Policy::from_toml(text).unwrap_or_else(|p| panic!("valid policy: {p:#?}"))
}

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn render_at(
    policy: &Policy,
    kind: TemplateKind,
    incident: &Incident,
    minutes: i64,
    v: &BTreeMap<String, String>,
) -> String {
    let now = t0() + SignedDuration::from_mins(minutes);
    let channel = match kind {
        TemplateKind::StatusPageUpdate => Channel::StatusPage,
        TemplateKind::CustomerEmail => Channel::Customer,
        _ => Channel::Internal,
    };
    let input = RenderInput {
        channel: Some(channel),
        now,
        next_update: next_update_after(policy, incident, channel, now),
        vars: v,
    };
    render(policy, kind, incident, &input).unwrap_or_else(|e| panic!("renders: {e}"))
}

#[test]
fn agentic_flow_internal_update_is_seed_001s_format() {
    let p = policy(AGENTIC);
    let inc = incident("SEV1", Status::Identified, None);
    let text = render_at(
        &p,
        TemplateKind::InternalUpdate,
        &inc,
        12,
        &vars(&[
            ("impact", "100% of users: transforms fail"),
            ("actions", "Rolled back v1.9.1"),
        ]),
    );
    assert_eq!(
        text,
        "[14:35 UTC] STATUS: Identified\n\
         Current Impact: 100% of users: transforms fail\n\
         Actions Taken: Rolled back v1.9.1\n\
         Next Steps: Continue investigation\n\
         ETA: Unknown"
    );
}

#[test]
fn agentic_flow_status_page_uses_the_seed_sentences_per_status() {
    let p = policy(AGENTIC);
    let none = vars(&[]);
    let cases = [
        (
            Status::Investigating,
            None,
            "We are investigating reports of agent-booster unavailability.",
        ),
        (
            Status::Identified,
            None,
            "We have identified the issue and are implementing a fix.",
        ),
        (
            Status::Monitoring,
            None,
            "A fix has been deployed and we are monitoring the results.",
        ),
        (
            Status::Resolved,
            Some(45),
            "The incident has been resolved. All systems operational.",
        ),
    ];
    for (status, resolved, expected) in cases {
        let inc = incident("SEV1", status, resolved);
        assert_eq!(
            render_at(&p, TemplateKind::StatusPageUpdate, &inc, 50, &none),
            expected
        );
    }
}

#[test]
fn agentic_flow_customer_email_has_window_and_duration() {
    let p = policy(AGENTIC);
    let inc = incident("SEV1", Status::Resolved, Some(45));
    let text = render_at(
        &p,
        TemplateKind::CustomerEmail,
        &inc,
        60,
        &vars(&[("root_cause", "Deployment issue with WASM module loading.")]),
    );
    assert!(
        text.starts_with("Subject: [Resolved] Service Disruption - agent-booster"),
        "{text}"
    );
    assert!(
        text.contains("from 14:23 UTC to 15:08 UTC on November 8, 2026 (45m)"),
        "{text}"
    );
    assert!(
        text.contains("Root Cause: Deployment issue with WASM module loading."),
        "{text}"
    );
}

#[test]
fn reflexion_update_is_seed_004s_template_with_next_update_from_cadence() {
    let p = policy(REFLEXION);
    let inc = incident("P0", Status::Investigating, None);
    let text = render_at(
        &p,
        TemplateKind::InternalUpdate,
        &inc,
        10,
        &vars(&[("impact", "All users"), ("mitigation", "Failing over")]),
    );
    // P0's internal cadence is 30m: the next update is owed at 14:33 + 30m.
    assert_eq!(
        text,
        "## Incident Update - 2026-11-08 14:33 UTC\n\n\
         **Status**: INVESTIGATING\n\n\
         **Impact**: All users\n\n\
         **Root Cause**: Under investigation\n\n\
         **Mitigation**: Failing over\n\n\
         **Next Update**: 15:03 UTC"
    );
}

#[test]
fn every_kind_renders_in_every_preset() {
    for text in [AGENTIC, REFLEXION, fireline_core::policy::BUILTIN] {
        let p = policy(text);
        let sev = &p.severities[0].severity.id;
        let inc = incident(sev, Status::Monitoring, None);
        for kind in TemplateKind::ALL {
            let out = render_at(&p, kind, &inc, 20, &vars(&[("message", "hello")]));
            assert!(!out.trim().is_empty(), "{} {kind} rendered nothing", p.name);
        }
    }
}

#[test]
fn channel_names_follow_the_seeds() {
    let inc = incident("SEV1", Status::Investigating, None);
    assert_eq!(
        channel_name(&policy(AGENTIC), &inc).expect("renders"),
        "#inc-7"
    );
    let inc = incident("P0", Status::Investigating, None);
    assert_eq!(
        channel_name(&policy(REFLEXION), &inc).expect("renders"),
        "#incident-2026-11-08-142300"
    );
}

#[test]
fn policy_templates_override_the_set() {
    let p = policy(&format!(
        "{AGENTIC}internal_update = \"{{{{ incident.id }}}}: {{{{ impact }}}}\"\n"
    ));
    let inc = incident("SEV1", Status::Investigating, None);
    let text = render_at(
        &p,
        TemplateKind::InternalUpdate,
        &inc,
        1,
        &vars(&[("impact", "x")]),
    );
    assert_eq!(text, "INC-7: x");
}

#[test]
fn a_template_that_does_not_compile_is_a_policy_problem_with_its_location() {
    let text = "name = \"t\"\n[severities.S1]\nname = \"x\"\nrank = 1\n\
                [templates]\ncustomer_email = \"\"\"Hello\n{% if impact %}{{ impact }}\n\"\"\"\n";
    let problems = check(text);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].at, "templates.customer_email");
    assert!(
        problems[0].message.contains("line"),
        "{}",
        problems[0].message
    );

    let problems = check(
        "name = \"t\"\n[severities.S1]\nname = \"x\"\nrank = 1\n[templates]\nset = \"nope\"\n",
    );
    assert_eq!(problems[0].at, "templates.set");
    let problems = check("name = \"t\"\n[severities.S1]\nname = \"x\"\nrank = 1\n[templates]\nchannel_name = \"#{{ x \"\n");
    assert_eq!(problems[0].at, "templates.channel_name");
}

#[test]
fn eta_promises_are_flagged() {
    for promise in [
        "ETA 5 minutes to full restoration.",
        "Rollback in progress, eta: unknown",
        "We expect a fix by 15:00 UTC",
        "Service restored within 2 hours",
        "Back in 30 minutes",
    ] {
        assert_eq!(public_wording_warnings(promise).len(), 1, "{promise}");
    }
}

#[test]
fn ordinary_public_text_is_not_flagged() {
    for fine in [
        "We are investigating reports of Agent Booster unavailability.",
        "A fix has been deployed and we are monitoring the results.",
        "Beta users in 3 regions are affected", // "beta" contains "eta"; "3 regions" is no time
        "Metadata service degraded since 14:23 UTC",
        "The incident has been resolved. All systems operational.",
    ] {
        assert!(public_wording_warnings(fine).is_empty(), "{fine}");
    }
}

#[test]
fn next_update_stops_when_resolved_and_needs_a_cadence() {
    let p = policy(AGENTIC);
    let open = incident("SEV1", Status::Investigating, None);
    assert!(next_update_after(&p, &open, Channel::Internal, t0()).is_some());
    let resolved = incident("SEV1", Status::Resolved, Some(10));
    assert_eq!(
        next_update_after(&p, &resolved, Channel::Internal, t0()),
        None
    );
    let sev4 = incident("SEV4", Status::Investigating, None);
    assert_eq!(
        next_update_after(&p, &sev4, Channel::StatusPage, t0()),
        None
    );
}

/// The escalation wording is the core's: an escalation page carries the policy's
/// `escalation` template with its level and reason; no other event has it.
#[test]
fn an_escalation_page_is_worded_by_the_policy_and_nothing_else_is() {
    let policy = Policy::builtin();
    let inc = incident("SEV1", Status::Investigating, None);
    let escalated = fireline_core::NewEvent {
        at: t0() + SignedDuration::from_mins(5),
        actor: "fireline".into(),
        data: EventData::Escalated {
            key: Some("c0:escalate:2".into()),
            level: 2,
            name: "secondary".into(),
            targets: vec!["schedule:secondary".into()],
            reason: "not acknowledged within 5m".into(),
            recipients: vec![],
            unreached: vec![],
        },
    };
    let text = fireline_core::comms::escalation_text(&policy, &inc, &escalated)
        .expect("an escalation is worded")
        .expect("renders");
    assert!(text.contains("Level: 2 (secondary)"), "{text}");
    assert!(text.contains("not acknowledged within 5m"), "{text}");
    let note = fireline_core::NewEvent {
        data: EventData::NoteAdded {
            text: "looking".into(),
        },
        ..escalated
    };
    assert!(fireline_core::comms::escalation_text(&policy, &inc, &note).is_none());
}
