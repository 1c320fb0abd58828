//! The engine loop: run what the policy says is due, exactly once, durably.
//!
//! Exactly once comes from the event log, not from the lease: a fired action is an event
//! carrying its key, appended with the version the engine planned on. If two engines
//! plan the same action, only one append succeeds; the other re-plans, sees the key and
//! fires nothing. The lease only keeps engines from doing the same work twice, and
//! expires so a crashed engine's claims are taken over.

use crate::paging::Pager;
use crate::{Clock, LivePolicy};
use fireline_core::plan::{fire_due, next_due_after};
use fireline_core::{Incident, IncidentId};
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
    policy: LivePolicy,
    clock: Arc<dyn Clock>,
    owner: String,
    lease: SignedDuration,
    batch: u32,
    wake: Arc<Notify>,
    pager: Pager,
}

/// How many conflicting appends an incident gets per cycle before it waits for the next.
const MAX_ATTEMPTS: usize = 5;

impl Engine {
    /// An engine named `owner` (unique per replica; it labels leases).
    pub fn new(
        store: Arc<dyn Store>,
        policy: LivePolicy,
        clock: Arc<dyn Clock>,
        owner: impl Into<String>,
    ) -> Self {
        let pager = Pager::new(store.clone(), crate::paging::local_links());
        Engine {
            pager,
            store,
            policy,
            clock,
            owner: owner.into(),
            lease: SignedDuration::from_secs(30),
            batch: 500,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Pages through `pager` (the server's links and shared acknowledge-link key).
    pub fn with_pager(mut self, pager: Pager) -> Self {
        self.pager = pager;
        self
    }

    /// A handle that wakes the loop: call `notify_one` after scheduling earlier work.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
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
        let policy = self.policy.current();
        for _ in 0..MAX_ATTEMPTS {
            let events = match self.store.events(id).await {
                Ok(events) => events,
                Err(StoreError::NotFound) => return Ok((0, SignedDuration::ZERO)),
                Err(e) => return Err(e),
            };
            let current = Incident::fold(id, &events)?;
            let firing = fire_due(&policy, &events, now);
            if firing.events.is_empty() {
                self.store
                    .reschedule(id, firing.next_at, &self.owner)
                    .await?;
                return Ok((0, SignedDuration::ZERO));
            }
            let next = next_due_after(&policy, &events, &firing.events);
            let count = firing.events.len();
            let lateness = firing
                .earliest_due
                .map_or(SignedDuration::ZERO, |due| now.duration_since(due));
            for e in &firing.events {
                tracing::info!(incident = %id, kind = e.data.kind(), key = e.data.action_key().unwrap_or("-"), "policy action fired");
            }
            match self
                .pager
                .append(&current, firing.events, next, &events)
                .await
            {
                Ok(_) => return Ok((count, lateness)),
                // Someone appended first (a responder, or another engine): plan again.
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        // Lost every race this cycle: release the lease and leave it due, so the next
        // cycle (ours or another engine's) takes it at once rather than after the lease.
        self.store.reschedule(id, Some(now), &self.owner).await?;
        Ok((0, SignedDuration::ZERO))
    }

    /// Runs cycles until `shutdown` completes: after each, sleeps until the next due
    /// time (at most `max_idle`) or until woken.
    pub async fn run(&self, max_idle: Duration, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let stop = AtomicBool::new(false);
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
                () = self.wake.notified() => {}
                () = &mut shutdown => return,
            }
        }
    }
}
