//! The engine loop: run what the policy says is due, exactly once, durably.
//!
//! Exactly once comes from the event log, not from the lease: a fired action is an event
//! carrying its key, appended with the version the engine planned on. If two engines
//! plan the same action, only one append succeeds; the other re-plans, sees the key and
//! fires nothing. The lease only keeps engines from doing the same work twice, and
//! expires so a crashed engine's claims are taken over.

use crate::commands::{CommandError, Commands};
use crate::paging::Pager;
use crate::{Clock, LivePolicy};
use fireline_core::plan::fire_due;
use fireline_core::IncidentId;
use fireline_store::{Store, StoreError};
use jiff::{SignedDuration, Timestamp};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// What one cycle did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Incidents claimed.
    pub claimed: usize,
    /// Actions fired (events appended).
    pub fired: usize,
    /// The most overdue action fired: how late the engine was.
    pub max_lateness: SignedDuration,
}

/// One engine instance. Several may run against one PostgreSQL database.
#[derive(Debug, Clone)]
pub struct Engine {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    owner: String,
    lease: SignedDuration,
    batch: u32,
    /// Fired actions are appended through these; their engine waker is this loop's.
    commands: Commands,
}

impl Engine {
    /// An engine named `owner` (unique per replica; it labels leases).
    pub fn new(
        store: Arc<dyn Store>,
        policy: LivePolicy,
        clock: Arc<dyn Clock>,
        owner: impl Into<String>,
    ) -> Self {
        let pager = Pager::new(store.clone(), crate::paging::local_links());
        let commands = Commands::new(store.clone(), policy, clock.clone(), pager);
        Engine {
            commands,
            store,
            clock,
            owner: owner.into(),
            lease: SignedDuration::from_secs(30),
            batch: 500,
        }
    }

    /// Pages through `pager` (the server's links and shared acknowledge-link key).
    pub fn with_pager(mut self, pager: Pager) -> Self {
        self.commands = self.commands.with_pager(pager);
        self
    }

    /// Fires through `commands`, and sleeps on their engine waker, so every change made
    /// through them that moves work earlier wakes this loop.
    pub fn with_commands(mut self, commands: Commands) -> Self {
        self.commands = commands;
        self
    }

    /// A handle that wakes the loop: call `notify_one` after scheduling earlier work.
    pub fn waker(&self) -> Arc<Notify> {
        self.commands.engine_waker()
    }

    /// One cycle at the clock's `now`: claim and process due incidents, batch after
    /// batch, until none is due.
    pub async fn tick(&self) -> Result<TickReport, StoreError> {
        self.tick_until(&AtomicBool::new(false)).await
    }

    /// As [`Engine::tick`], but stops between incidents once `stop` is set, handing the
    /// claimed incidents it did not get to back (due now) for the next engine to take.
    pub async fn tick_until(&self, stop: &AtomicBool) -> Result<TickReport, StoreError> {
        let now = self.clock.now();
        let mut report = TickReport::default();
        loop {
            let lease_until = now.saturating_add(self.lease).unwrap_or(now);
            let claimed = self
                .store
                .claim_due(now, &self.owner, lease_until, self.batch)
                .await?;
            report.claimed += claimed.len();
            for (i, id) in claimed.iter().enumerate() {
                if stop.load(Ordering::Relaxed) {
                    for left in &claimed[i..] {
                        self.store.reschedule(*left, Some(now), &self.owner).await?;
                    }
                    return Ok(report);
                }
                match self.process(*id, now).await {
                    Ok((fired, lateness)) => {
                        if fired > 0 {
                            // How late the engine acted: its lag behind the policy.
                            metrics::histogram!("fireline_engine_lateness_seconds")
                                .record(lateness.as_secs_f64().max(0.0));
                        }
                        report.fired += fired;
                        report.max_lateness = report.max_lateness.max(lateness);
                    }
                    // One incident's failure must not stall the others; its lease
                    // expires and a later cycle retries it.
                    Err(e) => {
                        tracing::error!(incident = %id, error = %e, "engine could not process incident")
                    }
                }
            }
            if claimed.len() < self.batch as usize {
                return Ok(report);
            }
        }
    }

    /// Fires what is due on one incident and reschedules it.
    async fn process(
        &self,
        id: IncidentId,
        now: Timestamp,
    ) -> Result<(usize, SignedDuration), StoreError> {
        // Filled by the decision on the attempt that counts (the last one).
        let mut idle_until = None;
        let mut lateness = SignedDuration::ZERO;
        let fired = self
            .commands
            .apply(id, None, |facts| {
                let firing = fire_due(facts.policy, facts.events, now);
                idle_until = firing.next_at;
                lateness = firing
                    .earliest_due
                    .map_or(SignedDuration::ZERO, |due| now.duration_since(due));
                for e in &firing.events {
                    tracing::info!(incident = %id, kind = e.data.kind(), key = e.data.action_key().unwrap_or("-"), "policy action fired");
                }
                Ok(firing.events)
            })
            .await;
        match fired {
            // Nothing due after all: only the schedule (and the lease) to update.
            Ok(applied) if applied.appended == 0 => {
                self.store.reschedule(id, idle_until, &self.owner).await?;
                Ok((0, SignedDuration::ZERO))
            }
            // The append stored the next due time and released the lease.
            Ok(applied) => Ok((applied.appended, lateness)),
            Err(CommandError::NotFound(_)) => Ok((0, SignedDuration::ZERO)),
            // Lost every race this cycle: release the lease and leave it due, so the next
            // cycle (ours or another engine's) takes it at once rather than after the lease.
            Err(CommandError::Contended { .. }) => {
                self.store.reschedule(id, Some(now), &self.owner).await?;
                Ok((0, SignedDuration::ZERO))
            }
            Err(e) => Err(e.into_store_error()),
        }
    }

    /// Runs cycles until `shutdown` completes: after each, sleeps until the next due
    /// time (at most `max_idle`) or until woken.
    pub async fn run(&self, max_idle: Duration, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let stop = AtomicBool::new(false);
        let wake = self.commands.engine_waker();
        loop {
            let tick = self.tick_until(&stop);
            tokio::pin!(tick);
            let result = tokio::select! {
                result = &mut tick => result,
                () = &mut shutdown => {
                    // Let the incident in hand finish (never cut an append off), then stop.
                    stop.store(true, Ordering::Relaxed);
                    if let Err(e) = tick.await {
                        tracing::error!(error = %e, "engine cycle failed while stopping");
                    }
                    return;
                }
            };
            match result {
                Ok(report) if report.fired > 0 => {
                    tracing::debug!(
                        fired = report.fired,
                        lateness_ms = report.max_lateness.as_millis(),
                        "engine cycle"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "engine cycle failed; retrying"),
            }
            let wait = match self.store.next_due().await {
                Ok(Some(at)) => {
                    let until = at.duration_since(self.clock.now());
                    Duration::try_from(until)
                        .unwrap_or(Duration::ZERO)
                        .min(max_idle)
                }
                Ok(None) => max_idle,
                Err(_) => max_idle,
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = wake.notified() => {}
                () = &mut shutdown => return,
            }
        }
    }
}
