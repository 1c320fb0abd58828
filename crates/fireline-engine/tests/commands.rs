//! The one command path on SQLite and PostgreSQL: a lost race is decided again on fresh
//! state, a stale expected version is refused without a retry, a page a command decides
//! reaches the outbox in the same transaction, and the engine is woken when a change
//! moves its work earlier.
//!
//! Races are made deterministic by having the second writer append from inside the
//! first writer's decision (between its load and its append), through
//! `block_in_place`: the decision is synchronous, as the core's is.

use fireline_core::oncall::Roster;
use fireline_core::plan::manual_escalation;
use fireline_core::policy::Policy;
use fireline_core::{decide, Command, Declaration, DomainError, EventData, IncidentId};
use fireline_engine::paging::local_links;
use fireline_engine::{CommandError, Commands, LivePolicy, ManualClock, Pager};
use fireline_store::testing::TestDatabase;
use fireline_store::{backend_tests, Store};
use jiff::{SignedDuration, Timestamp};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn t0() -> Timestamp {
    "2026-03-02T14:00:00Z".parse().expect("timestamp")
}

const POLICY: &str = r#"
name = "commands-test"
[severities.SEV1]
name = "Critical"
rank = 1
[severities.SEV1.clocks]
acknowledge = "5m"
[severities.SEV3]
name = "Minor"
rank = 3
[severities.SEV3.clocks]
acknowledge = "1h"

[[escalation]]
name = "Secondary"
targets = ["person:bob"]
triggers = [{ when = "not_acknowledged", after = "10m", severities = ["SEV1"] }]
"#;

const ROSTER: &str = r#"
[people.bob]
name = "Bob"
contacts = [{ kind = "webhook", address = "https://hooks.example.com/bob" }]
"#;

struct Rig {
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    commands: Commands,
}

fn rig(db: &TestDatabase) -> Rig {
    let store = db.store.clone();
    let clock = Arc::new(ManualClock::new(t0()));
    let policy = LivePolicy::new(Policy::from_toml(POLICY).expect("test policy is valid"));
    let pager = Pager::new(store.clone(), local_links());
    let commands = Commands::new(store.clone(), policy, clock.clone(), pager);
    Rig {
        store,
        clock,
        commands,
    }
}

impl Rig {
    async fn declare(&self, severity: &str) -> IncidentId {
        self.commands
            .declare(
                &Declaration {
                    title: "Checkout failing".into(),
                    severity: severity.into(),
                    service: "checkout".into(),
                    summary: None,
                    category: None,
                    flags: vec![],
                },
                "alice",
            )
            .await
            .expect("declare")
            .incident
            .id
    }

    /// Runs `f` to completion from inside a synchronous decision.
    fn meanwhile<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
    }

    async fn kinds(&self, id: IncidentId) -> Vec<&'static str> {
        self.store
            .events(id)
            .await
            .expect("events")
            .iter()
            .map(|e| e.data.kind())
            .collect()
    }
}

/// Whether the engine's waker holds a wake-up (taking it).
async fn woken(commands: &Commands) -> bool {
    tokio::time::timeout(
        Duration::from_millis(20),
        commands.engine_waker().notified(),
    )
    .await
    .is_ok()
}

async fn a_lost_race_is_decided_again_on_fresh_state(db: &TestDatabase) {
    let rig = rig(db);
    let id = rig.declare("SEV1").await;
    let decisions = AtomicUsize::new(0);
    let second = rig
        .commands
        .execute_with(id, "bob", None, |facts| {
            if decisions.fetch_add(1, Ordering::SeqCst) == 0 {
                // Alice acknowledges between bob's load and bob's append.
                rig.meanwhile(
                    rig.commands
                        .execute(id, "alice", None, &Command::Acknowledge),
                )
                .expect("alice acknowledges");
            }
            decide(
                facts.incident,
                &Command::Acknowledge,
                facts.policy.catalog(),
            )
        })
        .await;
    assert_eq!(
        decisions.load(Ordering::SeqCst),
        2,
        "decided again after losing"
    );
    assert!(
        matches!(second, Err(CommandError::Refused(DomainError::Conflict(_)))),
        "the core refuses the second acknowledgement on fresh state: {second:?}"
    );
    let kinds = rig.kinds(id).await;
    assert_eq!(
        kinds.iter().filter(|k| **k == "acknowledged").count(),
        1,
        "{kinds:?}"
    );
    let events = rig.store.events(id).await.expect("events");
    let acked_by = events
        .iter()
        .find(|e| matches!(e.data, EventData::Acknowledged))
        .map(|e| e.actor.as_str());
    assert_eq!(acked_by, Some("alice"));
}

async fn a_note_after_a_lost_race_is_added_after_the_winner(db: &TestDatabase) {
    let rig = rig(db);
    let id = rig.declare("SEV3").await;
    let decisions = AtomicUsize::new(0);
    let applied = rig
        .commands
        .execute(id, "bob", None, &Command::AddNote { text: "x".into() })
        .await
        .expect("note");
    assert_eq!(applied.appended, 1);
    let noted = rig
        .commands
        .execute_with(id, "bob", None, |facts| {
            if decisions.fetch_add(1, Ordering::SeqCst) == 0 {
                rig.meanwhile(
                    rig.commands
                        .execute(id, "alice", None, &Command::Acknowledge),
                )
                .expect("alice acknowledges");
            }
            decide(
                facts.incident,
                &Command::AddNote {
                    text: "rolled back".into(),
                },
                facts.policy.catalog(),
            )
        })
        .await
        .expect("the note is added on the retry");
    assert_eq!(noted.incident.version, noted.events.len() as u64);
    assert_eq!(
        rig.kinds(id).await,
        ["declared", "note_added", "acknowledged", "note_added"]
    );
}

async fn an_expected_version_that_moved_is_refused_without_retry(db: &TestDatabase) {
    let rig = rig(db);
    let id = rig.declare("SEV1").await;
    // Stale before loading: refused without deciding at all.
    let stale = rig
        .commands
        .execute(id, "bob", Some(7), &Command::Acknowledge)
        .await;
    assert!(
        matches!(
            stale,
            Err(CommandError::VersionMoved {
                expected: 7,
                actual: 1,
                ..
            })
        ),
        "{stale:?}"
    );
    // Moved between the decision and the append: refused, and not decided again.
    let decisions = AtomicUsize::new(0);
    let raced = rig
        .commands
        .execute_with(id, "bob", Some(1), |facts| {
            decisions.fetch_add(1, Ordering::SeqCst);
            rig.meanwhile(rig.commands.execute(
                id,
                "alice",
                None,
                &Command::AddNote { text: "hm".into() },
            ))
            .expect("alice notes");
            decide(
                facts.incident,
                &Command::Acknowledge,
                facts.policy.catalog(),
            )
        })
        .await;
    assert_eq!(decisions.load(Ordering::SeqCst), 1, "never retried");
    assert!(
        matches!(
            raced,
            Err(CommandError::VersionMoved {
                expected: 1,
                actual: 2,
                ..
            })
        ),
        "{raced:?}"
    );
    assert_eq!(rig.kinds(id).await, ["declared", "note_added"]);
    let missing = rig
        .commands
        .execute(IncidentId(999), "bob", None, &Command::Acknowledge)
        .await;
    assert!(
        matches!(missing, Err(CommandError::NotFound(IncidentId(999)))),
        "{missing:?}"
    );
}

async fn a_page_decided_by_a_command_reaches_the_outbox_with_it(db: &TestDatabase) {
    let rig = rig(db);
    rig.store
        .replace_roster(&Roster::from_toml_str(ROSTER).expect("roster"), t0())
        .await
        .expect("roster");
    let id = rig.declare("SEV1").await;
    let decisions = AtomicUsize::new(0);
    let escalated = rig
        .commands
        .execute_with(id, "alice", None, |facts| {
            if decisions.fetch_add(1, Ordering::SeqCst) == 0 {
                // The first attempt's page loses its race: it must leave no message.
                rig.meanwhile(rig.commands.execute(
                    id,
                    "carol",
                    None,
                    &Command::AddNote {
                        text: "on it".into(),
                    },
                ))
                .expect("carol notes");
            }
            manual_escalation(facts.policy, facts.incident, 1, "alice", None)
        })
        .await
        .expect("escalated");
    let Some(EventData::Escalated { recipients, .. }) = escalated.events.last().map(|e| &e.data)
    else {
        panic!("an escalation was appended: {:?}", escalated.events.last());
    };
    assert_eq!(recipients.len(), 1, "bob is reached: {recipients:?}");
    let outbox = rig
        .store
        .claim_outbox(t0(), "test", t0() + SignedDuration::from_mins(1), 100)
        .await
        .expect("outbox");
    assert_eq!(outbox.len(), 1, "one message, the winner's: {outbox:?}");
    assert_eq!(outbox[0].incident, Some(id));
    assert_eq!(outbox[0].person, "bob");
    assert!(
        tokio::time::timeout(
            Duration::from_millis(20),
            rig.commands.delivery_waker().notified()
        )
        .await
        .is_ok(),
        "delivery is woken for the message"
    );
}

async fn the_engine_is_woken_when_due_work_moves_earlier(db: &TestDatabase) {
    let rig = rig(db);
    let id = rig.declare("SEV3").await;
    assert!(woken(&rig.commands).await, "a declaration gives it work");
    rig.clock.advance(SignedDuration::from_mins(1));
    rig.commands
        .execute(id, "bob", None, &Command::AddNote { text: "x".into() })
        .await
        .expect("note");
    assert!(
        !woken(&rig.commands).await,
        "a note moves nothing: the engine sleeps on"
    );
    rig.commands
        .execute(
            id,
            "bob",
            None,
            &Command::ChangeSeverity {
                to: "SEV1".into(),
                reason: None,
            },
        )
        .await
        .expect("severity");
    assert!(
        woken(&rig.commands).await,
        "the acknowledge clock now ends in 5m, not 1h"
    );
    rig.commands
        .execute(
            id,
            "bob",
            None,
            &Command::ChangeSeverity {
                to: "SEV3".into(),
                reason: None,
            },
        )
        .await
        .expect("severity");
    assert!(
        !woken(&rig.commands).await,
        "later work is found when the engine gets there"
    );
}

backend_tests!(
    a_lost_race_is_decided_again_on_fresh_state,
    a_note_after_a_lost_race_is_added_after_the_winner,
    an_expected_version_that_moved_is_refused_without_retry,
    a_page_decided_by_a_command_reaches_the_outbox_with_it,
    the_engine_is_woken_when_due_work_moves_earlier,
);
