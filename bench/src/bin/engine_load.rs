//! The engine with many pending timers, on the real clock.
//!
//! Creates N open incidents (default 100,000) in a fresh SQLite database whose
//! acknowledge deadlines fall evenly over the next WINDOW seconds (default 3,600), then
//! runs the engine for RUN seconds (default 30) and reports how long each tick took and
//! how late each action fired. Usage:
//!
//!     cargo run --release -p fireline-bench --bin engine_load -- [N] [RUN] [WINDOW] [DB_URL]

use fireline_core::plan::next_due_after;
use fireline_core::policy::Policy;
use fireline_core::{declare, Declaration, NewEvent};
use fireline_engine::{Clock, Engine, LivePolicy, SystemClock};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use std::time::Instant;

fn arg(i: usize, default: u64) -> u64 {
    std::env::args()
        .nth(i)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let n = arg(1, 100_000);
    let run_secs = arg(2, 30);
    let window = arg(3, 3_600);
    let dir = tempfile::tempdir().expect("temp dir");
    let url = std::env::args()
        .nth(4)
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let store = fireline_store::open(&url).await.expect("open database");
    let policy = Policy::builtin();
    // SEV4's acknowledge clock in the default policy.
    let ack = SignedDuration::from_hours(24);
    // The first deadline comes only after setup is surely done (about 4,000 inserts a
    // second here; allow 1 ms each), so no action is late before the engine starts.
    let start =
        Timestamp::now() + SignedDuration::from_secs(10) + SignedDuration::from_millis(n as i64);

    let setup = Instant::now();
    for i in 0..n {
        // Declared a day ago, so the acknowledge deadline lands in the window ahead.
        let offset = SignedDuration::from_micros((window as i64 * 1_000_000 / n as i64) * i as i64);
        let at = start - ack + offset;
        let data = declare(
            &Declaration {
                title: format!("incident {i}"),
                severity: "SEV4".into(),
                service: "svc".into(),
                summary: None,
                category: None,
                flags: vec![],
            },
            &policy,
        )
        .expect("valid");
        let event = NewEvent {
            at,
            actor: "bench".into(),
            data,
        };
        let next = next_due_after(&policy, &[], std::slice::from_ref(&event));
        store.create_incident(event, next).await.expect("create");
    }
    println!(
        "setup: {n} incidents with pending timers in {:.1}s",
        setup.elapsed().as_secs_f64()
    );

    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let engine = Engine::new(
        store.clone(),
        LivePolicy::new(policy),
        clock.clone(),
        "bench",
    );
    while clock.now() < start {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let end = start + SignedDuration::from_secs(run_secs as i64);
    let mut tick_ms = Vec::new();
    let mut lateness_ms = Vec::new();
    let mut fired = 0usize;
    while clock.now() < end {
        let began = Instant::now();
        let report = engine.tick().await.expect("tick");
        tick_ms.push(began.elapsed().as_secs_f64() * 1e3);
        if report.fired > 0 {
            fired += report.fired;
            lateness_ms.push(report.max_lateness.as_secs_f64() * 1e3);
        }
        // What `Engine::run` does: sleep until the next due time, at most 100 ms here.
        let wait = match store.next_due().await.expect("next due") {
            Some(at) => {
                std::time::Duration::try_from(at.duration_since(clock.now())).unwrap_or_default()
            }
            None => std::time::Duration::from_millis(100),
        };
        tokio::time::sleep(wait.min(std::time::Duration::from_millis(100))).await;
    }
    tick_ms.sort_by(f64::total_cmp);
    lateness_ms.sort_by(f64::total_cmp);
    println!(
        "ran {run_secs}s: {} ticks, {fired} actions fired (expected about {})",
        tick_ms.len(),
        n * run_secs / window
    );
    println!(
        "tick: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&tick_ms, 0.5),
        percentile(&tick_ms, 0.99),
        tick_ms.last().copied().unwrap_or(0.0)
    );
    println!(
        "lateness (worst action per tick): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&lateness_ms, 0.5),
        percentile(&lateness_ms, 0.99),
        lateness_ms.last().copied().unwrap_or(0.0)
    );
    store.close().await;
}
