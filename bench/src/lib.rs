//! Shared inputs for fireline's benchmarks (see `bench/README.md`).

use fireline_core::policy::Policy;
use fireline_core::Channel;
use fireline_core::{declare, Declaration, EventData, IncidentRole, RecordedEvent, Status};
use jiff::{SignedDuration, Timestamp};

/// A SEV1 incident log of `n` events, as a busy incident accumulates them: status
/// moves, notes, role changes and updates on every channel, under the default policy.
pub fn busy_log(policy: &Policy, start: Timestamp, n: usize) -> Vec<RecordedEvent> {
    let declared = declare(
        &Declaration {
            title: "Checkout down".into(),
            severity: "SEV1".into(),
            service: "checkout".into(),
            summary: None,
            category: None,
            flags: vec![],
        },
        policy,
    )
    .expect("the default policy accepts SEV1");
    let mut log = vec![RecordedEvent {
        id: 1,
        seq: 1,
        at: start,
        actor: "alice".into(),
        data: declared,
    }];
    let statuses = [Status::Identified, Status::Investigating];
    for i in 1..n {
        let data = match i % 6 {
            0 => EventData::StatusChanged {
                from: statuses[(i / 6 + 1) % 2],
                to: statuses[(i / 6) % 2],
                message: None,
            },
            1 => EventData::UpdatePosted {
                channel: Channel::Internal,
                text: format!("update {i}"),
            },
            2 => EventData::UpdatePosted {
                channel: Channel::StatusPage,
                text: format!("public {i}"),
            },
            3 => EventData::RoleAssigned {
                role: IncidentRole::Comms,
                assignee: format!("person{i}"),
            },
            _ => EventData::NoteAdded {
                text: format!("note {i}"),
            },
        };
        let seq = i as u64 + 1;
        log.push(RecordedEvent {
            id: seq as i64,
            seq,
            at: start + SignedDuration::from_secs(i as i64 * 7),
            actor: "bob".into(),
            data,
        });
    }
    log
}
