//! The response report over many incidents: how long `GET /api/v1/report` takes to
//! gather (indexed queries) and aggregate a period's figures.
//!
//! Creates N incidents (default 100,000) over the last 90 days in a fresh SQLite database
//! (or the PostgreSQL database DB_URL names), each with a realistic log: acknowledged,
//! updates posted, some escalated, some clocks breached, most resolved. Then builds the
//! 90-day report RUNS times (default 5) and prints each time. Target: under 1 s. Usage:
//!
//!     cargo run --release -p fireline-bench --bin report_load -- [N] [RUNS] [DB_URL]

use fireline_core::policy::Policy;
use fireline_core::report::build;
use fireline_core::{declare, Declaration, EventData, NewEvent};
use fireline_core::{Channel, ClockKind};
use jiff::{SignedDuration, Timestamp};
use std::time::Instant;

fn arg(i: usize, default: u64) -> u64 {
    std::env::args()
        .nth(i)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let n = arg(1, 100_000);
    let runs = arg(2, 5);
    let dir = tempfile::tempdir().expect("temp dir");
    let url = std::env::args()
        .nth(3)
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let store = fireline_store::open(&url).await.expect("open database");
    let policy = Policy::builtin();
    let now = Timestamp::now();
    let period = SignedDuration::from_hours(24 * 90);
    let setup = Instant::now();
    seed(store.as_ref(), &policy, n, now, period).await;
    println!(
        "setup: {n} incidents in {:.1} s ({})",
        setup.elapsed().as_secs_f64(),
        store.backend()
    );

    let mut times = Vec::new();
    for run in 1..=runs {
        let begun = Instant::now();
        let facts = store
            .report_facts(now - period - SignedDuration::from_hours(1), now)
            .await
            .expect("report facts");
        let gathered = begun.elapsed();
        let report = build(
            &policy,
            &facts,
            now - period - SignedDuration::from_hours(1),
            now,
        );
        let total = begun.elapsed();
        assert_eq!(report.overall.count, n, "every incident is in the period");
        println!(
            "run {run}: {:.0} ms ({:.0} ms gathering, {:.0} ms aggregating); MTTA {:.0} s, {} weeks",
            total.as_secs_f64() * 1e3,
            gathered.as_secs_f64() * 1e3,
            (total - gathered).as_secs_f64() * 1e3,
            report.overall.mtta_seconds.unwrap_or(0.0),
            report.weeks.len()
        );
        times.push(total.as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "report over {n} incidents: median {:.0} ms, worst {:.0} ms (target < 1000 ms)",
        times[times.len() / 2] * 1e3,
        times[times.len() - 1] * 1e3
    );
    store.close().await;
}

/// Stores `n` incidents declared evenly over the `period` before `now`: every one
/// acknowledged and updated, a fifth breached and escalated, nine in ten resolved.
async fn seed(
    store: &dyn fireline_store::Store,
    policy: &Policy,
    n: u64,
    now: Timestamp,
    period: SignedDuration,
) {
    let severities = ["SEV1", "SEV2", "SEV3", "SEV4"];
    let services = [
        "checkout", "search", "api", "payments", "auth", "db", "queue", "cdn",
    ];

    for i in 0..n {
        let declared = now - period
            + SignedDuration::from_micros(period.as_micros() as i64 / n as i64 * i as i64);
        let severity = severities[(i % 4) as usize];
        let data = declare(
            &Declaration {
                title: format!("incident {i}"),
                severity: severity.into(),
                service: services[(i % 8) as usize].into(),
                summary: None,
                category: None,
                flags: vec![],
            },
            policy,
        )
        .expect("valid declaration");
        let at = |mins: i64| declared + SignedDuration::from_mins(mins);
        let event = |mins: i64, data: EventData| NewEvent {
            at: at(mins),
            actor: "bench".into(),
            data,
        };
        let mut more = vec![
            event(i as i64 % 20, EventData::Acknowledged),
            event(
                15,
                EventData::UpdatePosted {
                    channel: Channel::Internal,
                    text: "investigating".into(),
                },
            ),
        ];
        if i % 5 == 0 {
            more.push(event(
                10,
                EventData::SlaBreached {
                    key: "c0:sla_breach:acknowledge".into(),
                    clock: ClockKind::Acknowledge,
                    target: "5m".into(),
                },
            ));
            more.push(event(
                11,
                EventData::Escalated {
                    key: Some("c0:escalate:1".into()),
                    level: 1,
                    name: "Secondary on-call".into(),
                    targets: vec!["schedule:secondary".into()],
                    reason: "not acknowledged within 10m".into(),
                    recipients: vec![],
                    unreached: vec![],
                },
            ));
        }
        if i % 10 != 0 {
            more.push(event(
                30 + (i as i64 % 300),
                EventData::Resolved { summary: None },
            ));
        }
        more.sort_by_key(|e| e.at);
        store
            .open_incident(
                NewEvent {
                    at: declared,
                    actor: "bench".into(),
                    data,
                },
                more,
                None,
            )
            .await
            .expect("store incident");
    }
}
