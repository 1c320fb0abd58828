//! The one command path: every change to an incident — a responder's request, a UI
//! form, an acknowledge link, a policy action the engine fires, a delivery failure on
//! the timeline — goes through [`Commands`].
//!
//! Load the log, fold it, let the core decide on that state, append through the
//! [`Pager`] (so the pages a decision causes reach the outbox in the same transaction),
//! and when another writer got in first decide again on fresh state, a bounded number of
//! times. A retry never applies a stale decision: a second acknowledgement racing the
//! first is refused by the core, not recorded twice. After a write it wakes whoever has
//! new work — the engine when the incident's next due time moved earlier, delivery when
//! the outbox got rows (the pager does that) — so no caller wires wake-ups by hand.
//!
//! Alert ingestion batches many alerts into one transaction per unit and keeps its own
//! loop for units (`ingest.rs`); a single-incident change anywhere else comes here.

use crate::paging::Pager;
use crate::{Clock, LivePolicy};
use fireline_core::plan::next_due_after;
use fireline_core::policy::Policy;
use fireline_core::{
    decide, declare, Command, Declaration, DomainError, EventData, FoldError, Incident, IncidentId,
    NewEvent, RecordedEvent,
};
use fireline_store::{Store, StoreError};
use jiff::Timestamp;
use std::sync::Arc;
use tokio::sync::Notify;

/// How often a change is decided again on fresh state when another writer got in first,
/// before giving up ([`CommandError::Contended`]).
pub const MAX_ATTEMPTS: usize = 8;

/// What a decision sees: the policy in force, the incident as folded from its log, the
/// log itself, and the time the new events will carry.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The policy in force for this attempt.
    pub policy: &'a Policy,
    /// The incident as folded from `events`.
    pub incident: &'a Incident,
    /// The incident's whole log.
    pub events: &'a [RecordedEvent],
    /// The clock's now, never before the log's last event, so the timeline stays in
    /// order even if replicas' clocks disagree a little.
    pub now: Timestamp,
}

/// The outcome of a change that was decided (and appended, unless it decided nothing).
#[derive(Debug, Clone)]
pub struct Applied {
    /// The policy the change was decided under.
    pub policy: Arc<Policy>,
    /// The incident after the change.
    pub incident: Incident,
    /// The incident's whole log after the change.
    pub events: Vec<RecordedEvent>,
    /// How many events were appended (zero when the decision was to do nothing).
    pub appended: usize,
    /// The `now` the change was decided at ([`Facts::now`]).
    pub at: Timestamp,
}

/// Why a change was not made. The HTTP layer answers 404, 409 and 422 from these.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// There is no such incident.
    #[error("no incident {0}")]
    NotFound(IncidentId),
    /// The caller decided on a version that is no longer the incident's; nothing was
    /// retried, since the caller's decision may not hold on the newer state.
    #[error("{id} is at version {actual}, not {expected}; reload and decide again")]
    VersionMoved {
        /// The incident.
        id: IncidentId,
        /// The version the caller decided on.
        expected: u64,
        /// The version stored now.
        actual: u64,
    },
    /// Other writers got in first on every attempt ([`MAX_ATTEMPTS`]).
    #[error("{id} is changing too fast to apply this; retry")]
    Contended {
        /// The incident.
        id: IncidentId,
        /// The version the last attempt decided on.
        expected: u64,
        /// The version stored when it lost.
        actual: u64,
    },
    /// The core refused the change on the incident's state (or the value is invalid).
    #[error(transparent)]
    Refused(#[from] DomainError),
    /// The stored log does not fold: a bug or a damaged database.
    #[error("stored incident does not fold: {0}")]
    Fold(#[from] FoldError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CommandError {
    /// As a [`StoreError`], for the workers (engine, delivery) whose decisions never
    /// refuse and whose callers deal in store errors.
    pub fn into_store_error(self) -> StoreError {
        match self {
            CommandError::NotFound(_) => StoreError::NotFound,
            CommandError::VersionMoved {
                expected, actual, ..
            }
            | CommandError::Contended {
                expected, actual, ..
            } => StoreError::Conflict { expected, actual },
            CommandError::Refused(e) => StoreError::Corrupt(format!("refused: {e}")),
            CommandError::Fold(e) => e.into(),
            CommandError::Store(e) => e,
        }
    }
}

/// Decides and appends changes to incidents: the one path every writer shares.
#[derive(Debug, Clone)]
pub struct Commands {
    store: Arc<dyn Store>,
    policy: LivePolicy,
    clock: Arc<dyn Clock>,
    pager: Pager,
    /// The engine waits on it (see [`crate::Engine::with_commands`]).
    engine_wake: Arc<Notify>,
}

impl Commands {
    /// Changes decided under `policy` at `clock`'s now, appended through `pager`.
    pub fn new(
        store: Arc<dyn Store>,
        policy: LivePolicy,
        clock: Arc<dyn Clock>,
        pager: Pager,
    ) -> Commands {
        Commands {
            store,
            policy,
            clock,
            pager,
            engine_wake: Arc::new(Notify::new()),
        }
    }

    /// The same commands, appending through `pager` (same engine wake-up).
    pub fn with_pager(mut self, pager: Pager) -> Commands {
        self.pager = pager;
        self
    }

    /// What wakes the engine when a change moved due work earlier.
    pub fn engine_waker(&self) -> Arc<Notify> {
        self.engine_wake.clone()
    }

    /// What wakes the delivery worker when a change wrote messages (the pager's).
    pub fn delivery_waker(&self) -> Arc<Notify> {
        self.pager.delivery_waker()
    }

    /// The pager changes append through (its links and acknowledge-link key).
    pub fn pager(&self) -> &Pager {
        &self.pager
    }

    /// The policy changes are decided under.
    pub fn policy(&self) -> &LivePolicy {
        &self.policy
    }

    /// Declares an incident as `actor`: checked by the core, stored with when its policy
    /// first has work, and the engine woken for that work.
    pub async fn declare(
        &self,
        declaration: &Declaration,
        actor: &str,
    ) -> Result<Applied, CommandError> {
        let policy = self.policy.current();
        let data = declare(declaration, &policy)?;
        let event = NewEvent {
            at: self.clock.now(),
            actor: actor.to_owned(),
            data,
        };
        let next_due = next_due_after(&policy, &[], std::slice::from_ref(&event));
        let (incident, recorded) = self.store.create_incident(event, next_due).await?;
        self.wake_engine(None, next_due);
        tracing::info!(incident = %incident.id, severity = %incident.severity, actor, "incident declared");
        Ok(Applied {
            at: incident.declared_at,
            policy,
            incident,
            events: vec![recorded],
            appended: 1,
        })
    }

    /// Applies a core [`Command`] to incident `id` as `actor`.
    ///
    /// With `expected_version` the command applies to that version only
    /// ([`CommandError::VersionMoved`] otherwise, never retried). Without it, a lost race
    /// is decided again on fresh state.
    pub async fn execute(
        &self,
        id: IncidentId,
        actor: &str,
        expected_version: Option<u64>,
        command: &Command,
    ) -> Result<Applied, CommandError> {
        self.execute_with(id, actor, expected_version, |facts| {
            decide(facts.incident, command, facts.policy.catalog())
        })
        .await
    }

    /// [`Commands::execute`] with any decision of one event on the facts (a manual
    /// escalation, a post-mortem stage that depends on the log, an acknowledge link
    /// checked against the incident's episode).
    pub async fn execute_with(
        &self,
        id: IncidentId,
        actor: &str,
        expected_version: Option<u64>,
        decision: impl Fn(&Facts<'_>) -> Result<EventData, DomainError>,
    ) -> Result<Applied, CommandError> {
        let applied = self
            .apply(id, expected_version, |facts| {
                Ok(vec![NewEvent {
                    at: facts.now,
                    actor: actor.to_owned(),
                    data: decision(facts)?,
                }])
            })
            .await?;
        if let Some(last) = applied.events.last() {
            tracing::info!(incident = %id, kind = last.data.kind(), actor, "incident changed");
        }
        Ok(applied)
    }

    /// The general form: `decision` returns the events to append (each with its own
    /// time and actor), or none to change nothing. It is called once per attempt, on the
    /// state of that attempt.
    pub async fn apply(
        &self,
        id: IncidentId,
        expected_version: Option<u64>,
        mut decision: impl FnMut(&Facts<'_>) -> Result<Vec<NewEvent>, DomainError>,
    ) -> Result<Applied, CommandError> {
        let mut lost = (0, 0);
        for attempt in 0..MAX_ATTEMPTS {
            let mut events = match self.store.events(id).await {
                Ok(events) => events,
                Err(StoreError::NotFound) => return Err(CommandError::NotFound(id)),
                Err(e) => return Err(e.into()),
            };
            let current = Incident::fold(id, &events)?;
            if let Some(expected) = expected_version {
                if expected != current.version {
                    return Err(CommandError::VersionMoved {
                        id,
                        expected,
                        actual: current.version,
                    });
                }
            }
            let policy = self.policy.current();
            let now = self.clock.now().max(current.updated_at);
            let new = decision(&Facts {
                policy: &policy,
                incident: &current,
                events: &events,
                now,
            })?;
            if new.is_empty() {
                return Ok(Applied {
                    policy,
                    incident: current,
                    events,
                    appended: 0,
                    at: now,
                });
            }
            let next_due = next_due_after(&policy, &events, &new);
            match self
                .pager
                .append(&policy, &current, new, next_due, &events)
                .await
            {
                Ok((incident, appended)) => {
                    // What the engine had planned for this incident before the change.
                    let before = next_due_after(&policy, &events, &[]);
                    self.wake_engine(before, next_due);
                    let count = appended.len();
                    events.extend(appended);
                    return Ok(Applied {
                        policy,
                        incident,
                        events,
                        appended: count,
                        at: now,
                    });
                }
                Err(StoreError::Conflict { actual, .. }) if expected_version.is_none() => {
                    lost = (current.version, actual);
                    if attempt + 1 < MAX_ATTEMPTS {
                        backoff(attempt).await;
                    }
                }
                Err(StoreError::Conflict { actual, .. }) => {
                    return Err(CommandError::VersionMoved {
                        id,
                        expected: current.version,
                        actual,
                    })
                }
                Err(StoreError::NotFound) => return Err(CommandError::NotFound(id)),
                Err(e) => return Err(e.into()),
            }
        }
        Err(CommandError::Contended {
            id,
            expected: lost.0,
            actual: lost.1,
        })
    }

    /// Appends what the policy has due on `id` now: the engine's step, taken at once by
    /// whoever just changed the incident (the alert processor, after an alert opened
    /// it), so the page does not wait for the engine to find it.
    pub async fn fire_due(&self, id: IncidentId) -> Result<Applied, CommandError> {
        self.apply(id, None, |facts| {
            Ok(fireline_core::plan::fire_due(facts.policy, facts.events, facts.now).events)
        })
        .await
    }

    /// Wakes the engine if the incident's next due time moved earlier than `before` (or
    /// is due now): the engine sleeps until the earliest due time it last read, so only
    /// an earlier one needs it awake; a later one it finds when it gets there.
    fn wake_engine(&self, before: Option<Timestamp>, next_due: Option<Timestamp>) {
        let Some(next) = next_due else { return };
        if next <= self.clock.now() || before.is_none_or(|before| next < before) {
            self.engine_wake.notify_one();
        }
    }
}

/// Waits a random moment, up to 1 ms doubled per attempt (capped at 32 ms), before
/// retrying a lost race, so writers that collided do not retry in lockstep and collide
/// again until the attempts run out.
async fn backoff(attempt: usize) {
    let mut bytes = [0u8; 2];
    // Without randomness, retry at once: still correct, only more likely to collide.
    if getrandom::fill(&mut bytes).is_err() {
        return;
    }
    let cap_us = 1_000u64 << attempt.min(5);
    let wait_us = u64::from(u16::from_le_bytes(bytes)) % cap_us;
    tokio::time::sleep(std::time::Duration::from_micros(wait_us)).await;
}
