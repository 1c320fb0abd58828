//! Fireline's domain, pure.
//!
//! An incident is a fold over its events ([`Incident::fold`]); every change a responder
//! makes is a [`Command`] that [`decide`] turns into an event after checking it against
//! the current state. Nothing here performs I/O, reads the clock or is async: time is
//! always an argument, so everything here is tested with plain values.

pub mod access;
pub mod alert;
pub mod channel;
pub mod clock;
pub mod command;
pub mod comms;
pub mod describe;
pub mod event;
pub mod html;
pub mod id;
pub mod incident;
pub mod maintenance;
pub mod markdown;
pub mod oncall;
pub mod plan;
pub mod policy;
pub mod postmortem;
pub mod problem;
pub mod report;
pub mod role;
pub mod runbook;
pub mod severity;
pub mod simulate;
pub mod stage;
pub mod status;
pub mod statuspage;

pub use access::{hash_token, AccessRole};
pub use channel::Channel;
pub use clock::ClockKind;
pub use command::{decide, declare, Command, Declaration, DomainError};
pub use event::{EventData, NewEvent, Recipient, RecordedEvent};
pub use id::{IncidentId, ParseIncidentIdError};
pub use incident::{FoldError, Incident};
pub use role::IncidentRole;
pub use severity::{Severity, SeverityCatalog};
pub use stage::Stage;
pub use status::Status;
