//! The incident lifecycle, driven through `declare`/`decide` and folded back, the way the
//! server does it: each case is a script of commands and the state or refusal expected.

use fireline_core::policy::Policy;
use fireline_core::{
    decide, declare, Command, Declaration, DomainError, EventData, Incident, IncidentId,
    IncidentRole, RecordedEvent, SeverityCatalog, Status,
};
use jiff::Timestamp;

fn t(minute: i64) -> Timestamp {
    Timestamp::from_second(1_790_000_000 + minute * 60).expect("valid timestamp")
}

/// A log being written by the same steps as the server: decide, then append, then fold.
struct Log {
    events: Vec<RecordedEvent>,
    catalog: SeverityCatalog,
}

impl Log {
    fn declared(severity: &str) -> Log {
        let policy = Policy::builtin();
        let catalog = policy.catalog().clone();
        let data = declare(
            &Declaration {
                title: "  Checkout failing  ".into(),
                severity: severity.into(),
                service: "checkout".into(),
                summary: Some("5xx on /pay".into()),
                category: None,
                flags: vec![],
            },
            &policy,
        )
        .expect("valid declaration");
        let mut log = Log {
            events: vec![],
            catalog,
        };
        log.push("alice", 0, data);
        log
    }

    fn push(&mut self, actor: &str, minute: i64, data: EventData) {
        let seq = self.events.len() as u64 + 1;
        self.events.push(RecordedEvent {
            id: seq as i64,
            seq,
            at: t(minute),
            actor: actor.into(),
            data,
        });
    }

    fn state(&self) -> Incident {
        Incident::fold(IncidentId(1), &self.events).expect("log folds")
    }

    fn run(&mut self, actor: &str, minute: i64, command: Command) -> Result<(), DomainError> {
        let data = decide(&self.state(), &command, &self.catalog)?;
        self.push(actor, minute, data);
        Ok(())
    }
}

fn conflict(result: Result<(), DomainError>) -> String {
    match result {
        Err(DomainError::Conflict(m)) => m,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[test]
fn declaration_normalises_title_and_severity_case() {
    let log = Log::declared("sev2");
    let state = log.state();
    assert_eq!(state.title, "Checkout failing");
    assert_eq!(state.severity, "SEV2");
    assert_eq!(state.status, Status::Investigating);
    assert_eq!(state.declared_by, "alice");
    assert_eq!(state.version, 1);
}

#[test]
fn declaration_rejects_each_bad_field_by_name() {
    let policy = Policy::builtin();
    let good = Declaration {
        title: "t".into(),
        severity: "SEV1".into(),
        service: "s".into(),
        summary: None,
        category: None,
        flags: vec![],
    };
    let cases: Vec<(&str, Declaration)> = vec![
        (
            "title",
            Declaration {
                title: "   ".into(),
                ..good.clone()
            },
        ),
        (
            "title",
            Declaration {
                title: "x".repeat(201),
                ..good.clone()
            },
        ),
        (
            "title",
            Declaration {
                title: "two\nlines".into(),
                ..good.clone()
            },
        ),
        (
            "severity",
            Declaration {
                severity: "SEV9".into(),
                ..good.clone()
            },
        ),
        (
            "service",
            Declaration {
                service: "".into(),
                ..good.clone()
            },
        ),
        (
            "summary",
            Declaration {
                summary: Some("bell\u{7}".into()),
                ..good.clone()
            },
        ),
    ];
    for (field, declaration) in cases {
        match declare(&declaration, &policy) {
            Err(DomainError::Invalid { field: f, message }) => {
                assert_eq!(f, field, "{declaration:?}: {message}")
            }
            other => panic!("{declaration:?} should be invalid in {field}, got {other:?}"),
        }
    }
    let unknown = declare(
        &Declaration {
            severity: "P0".into(),
            ..good
        },
        &policy,
    )
    .expect_err("unknown severity is refused");
    assert!(
        unknown.to_string().contains("SEV1, SEV2, SEV3, SEV4"),
        "{unknown}"
    );
}

#[test]
fn full_lifecycle_folds_to_expected_state() {
    let mut log = Log::declared("SEV1");
    log.run("bob", 2, Command::Acknowledge).expect("ack");
    log.run(
        "bob",
        3,
        Command::AssignRole {
            role: IncidentRole::Commander,
            assignee: "bob".into(),
        },
    )
    .expect("assign");
    log.run(
        "bob",
        5,
        Command::ChangeStatus {
            to: Status::Identified,
            message: Some("bad deploy".into()),
        },
    )
    .expect("identified");
    log.run(
        "carol",
        6,
        Command::ChangeSeverity {
            to: "sev2".into(),
            reason: None,
        },
    )
    .expect("downgrade");
    log.run(
        "bob",
        9,
        Command::ChangeStatus {
            to: Status::Monitoring,
            message: None,
        },
    )
    .expect("monitoring");
    log.run(
        "bob",
        20,
        Command::ChangeStatus {
            to: Status::Resolved,
            message: Some("rolled back".into()),
        },
    )
    .expect("resolved via status");

    let state = log.state();
    assert_eq!(state.status, Status::Resolved);
    assert_eq!(state.severity, "SEV2");
    assert_eq!(state.acknowledged, Some((t(2), "bob".to_string())));
    assert_eq!(state.resolved_at, Some(t(20)));
    assert_eq!(
        state
            .roles
            .get(&IncidentRole::Commander)
            .map(String::as_str),
        Some("bob")
    );
    assert_eq!(state.version, 7);
    assert_eq!(state.updated_at, t(20));
    assert_eq!(log.events.last().map(|e| e.data.kind()), Some("resolved"));
}

#[test]
fn resolved_incident_takes_notes_and_roles_but_nothing_else_until_reopened() {
    let mut log = Log::declared("SEV3");
    log.run("a", 1, Command::Resolve { summary: None })
        .expect("resolve");
    assert!(conflict(log.run("a", 2, Command::Acknowledge)).contains("reopen it first"));
    conflict(log.run(
        "a",
        2,
        Command::ChangeSeverity {
            to: "SEV1".into(),
            reason: None,
        },
    ));
    conflict(log.run(
        "a",
        2,
        Command::ChangeStatus {
            to: Status::Monitoring,
            message: None,
        },
    ));
    conflict(log.run("a", 2, Command::Resolve { summary: None }));
    log.run(
        "a",
        3,
        Command::AddNote {
            text: "timeline fixed".into(),
        },
    )
    .expect("note");
    log.run(
        "a",
        3,
        Command::AssignRole {
            role: IncidentRole::Comms,
            assignee: "dee".into(),
        },
    )
    .expect("role");
    log.run(
        "a",
        4,
        Command::Reopen {
            reason: Some("errors are back".into()),
        },
    )
    .expect("reopen");
    let state = log.state();
    assert_eq!(state.status, Status::Investigating);
    assert_eq!(state.resolved_at, None);
}

#[test]
fn reopening_clears_the_acknowledgement_so_it_is_taken_again() {
    let mut log = Log::declared("SEV2");
    log.run("a", 1, Command::Acknowledge).expect("ack");
    assert!(conflict(log.run("b", 1, Command::Acknowledge)).contains("already acknowledged by a"));
    log.run("a", 2, Command::Resolve { summary: None })
        .expect("resolve");
    log.run("a", 3, Command::Reopen { reason: None })
        .expect("reopen");
    assert_eq!(log.state().acknowledged, None);
    log.run("b", 4, Command::Acknowledge).expect("ack again");
    assert_eq!(log.state().acknowledged, Some((t(4), "b".to_string())));
}

#[test]
fn no_op_changes_are_refused_so_retries_do_not_duplicate() {
    let mut log = Log::declared("SEV2");
    conflict(log.run(
        "a",
        1,
        Command::ChangeStatus {
            to: Status::Investigating,
            message: None,
        },
    ));
    conflict(log.run(
        "a",
        1,
        Command::ChangeSeverity {
            to: "sev2".into(),
            reason: None,
        },
    ));
    conflict(log.run("a", 1, Command::Reopen { reason: None }));
    log.run(
        "a",
        1,
        Command::AssignRole {
            role: IncidentRole::TechLead,
            assignee: "x".into(),
        },
    )
    .expect("assign");
    conflict(log.run(
        "a",
        2,
        Command::AssignRole {
            role: IncidentRole::TechLead,
            assignee: " x ".into(),
        },
    ));
    assert_eq!(log.state().version, 2);
}

#[test]
fn status_can_step_back_while_open() {
    let mut log = Log::declared("SEV2");
    log.run(
        "a",
        1,
        Command::ChangeStatus {
            to: Status::Monitoring,
            message: None,
        },
    )
    .expect("m");
    log.run(
        "a",
        2,
        Command::ChangeStatus {
            to: Status::Investigating,
            message: Some("flared up".into()),
        },
    )
    .expect("back");
    assert_eq!(log.state().status, Status::Investigating);
}

#[test]
fn fold_refuses_damaged_logs() {
    let log = Log::declared("SEV1");
    let mut gap = log.events.clone();
    gap.push(RecordedEvent {
        id: 9,
        seq: 3,
        at: t(1),
        actor: "a".into(),
        data: EventData::Acknowledged,
    });
    assert!(Incident::fold(IncidentId(1), &gap).is_err());

    let mut twice = log.events.clone();
    let mut again = log.events[0].clone();
    again.seq = 2;
    twice.push(again);
    assert!(Incident::fold(IncidentId(1), &twice).is_err());

    let headless = vec![RecordedEvent {
        id: 1,
        seq: 1,
        at: t(0),
        actor: "a".into(),
        data: EventData::Acknowledged,
    }];
    assert!(Incident::fold(IncidentId(1), &headless).is_err());
    assert!(Incident::fold(IncidentId(1), &[]).is_err());
}

#[test]
fn stored_event_json_is_stable() {
    // Stored events are JSON of EventData: this shape is a storage format.
    let data = EventData::StatusChanged {
        from: Status::Investigating,
        to: Status::Identified,
        message: None,
    };
    let json = serde_json::to_string(&data).expect("serialises");
    assert_eq!(
        json,
        r#"{"kind":"status_changed","from":"investigating","to":"identified"}"#
    );
    let back: EventData = serde_json::from_str(&json).expect("deserialises");
    assert_eq!(back, data);
    let role: EventData =
        serde_json::from_str(r#"{"kind":"role_assigned","role":"tech_lead","assignee":"x"}"#)
            .expect("role event");
    assert_eq!(role.kind(), "role_assigned");
}
