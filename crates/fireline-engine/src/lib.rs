//! Fireline's engine: time, and (with policies) the loop that acts on what is due.
//!
//! Everything that needs "now" takes a [`Clock`], so tests move time by hand instead of
//! sleeping. [`Engine::tick`] is one cycle: claim incidents whose policy work is due,
//! append the fired actions as events, reschedule. [`Engine::run`] loops it until
//! shutdown, sleeping until the next due time or until woken. [`Commands`] is the one
//! path every change to an incident takes (requests, the engine, delivery).

pub mod clock;
pub mod commands;
pub mod delivery;
pub mod engine;
pub mod ingest;
pub mod live_policy;
pub mod paging;
pub mod push;
pub mod subscribers;

pub use clock::{Clock, ManualClock, SystemClock};
pub use commands::{Applied, CommandError, Commands, Facts};
pub use delivery::{Delivery, DeliveryConfig, DeliveryReport};
pub use engine::{Engine, TickReport};
pub use ingest::AlertProcessor;
pub use live_policy::LivePolicy;
pub use paging::Pager;

/// The runbooks the server was pointed at, by id (empty without `--runbooks`).
pub type Runbooks =
    std::sync::Arc<std::collections::BTreeMap<String, fireline_core::runbook::Runbook>>;
