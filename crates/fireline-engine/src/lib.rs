//! Fireline's engine: time, and (with policies) the loop that acts on what is due.
//!
//! Everything that needs "now" takes a [`Clock`], so tests move time by hand instead of
//! sleeping. The due-work cycle arrives with response clocks and escalation (issue 4);
//! this crate is where it lives.

pub mod clock;
pub mod live_policy;

pub use clock::{Clock, ManualClock, SystemClock};
pub use live_policy::LivePolicy;
