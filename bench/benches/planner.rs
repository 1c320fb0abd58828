//! "What is due" for one incident with 1,000 events: the planner runs on every event
//! a responder or the engine appends, so it must stay far below a millisecond.

use criterion::{criterion_group, criterion_main, Criterion};
use fireline_bench::busy_log;
use fireline_core::plan::{due, next_due_after};
use fireline_core::policy::Policy;
use jiff::{SignedDuration, Timestamp};
use std::hint::black_box;

fn planner(c: &mut Criterion) {
    let policy = Policy::builtin();
    let start: Timestamp = "2026-03-02T14:00:00Z".parse().expect("timestamp");
    let log = busy_log(&policy, start, 1_000);
    let now = start + SignedDuration::from_hours(3);
    c.bench_function("due/1000 events", |b| {
        b.iter(|| due(black_box(&policy), black_box(&log), black_box(now)))
    });
    c.bench_function("next_due_after/1000 events + 1", |b| {
        let last = &log[log.len() - 1];
        let appended = vec![fireline_core::NewEvent {
            at: now,
            actor: "x".into(),
            data: last.data.clone(),
        }];
        b.iter(|| {
            next_due_after(
                black_box(&policy),
                black_box(&log[..999]),
                black_box(&appended),
            )
        })
    });
}

criterion_group!(benches, planner);
criterion_main!(benches);
