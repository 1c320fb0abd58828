//! The response clocks: how long a policy gives an incident to reach a milestone
//! (acknowledged, first response, first update, mitigated, resolved). Events record which
//! clock ran out; policies set how long each runs.

use std::fmt;

/// A response clock a policy can set.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// Someone acknowledged.
    Acknowledge,
    /// A responder did something after acknowledging (note, status, role, update).
    FirstResponse,
    /// The first update was posted on any channel.
    InitialUpdate,
    /// Impact is mitigated: status reached `monitoring` (or the incident resolved).
    Mitigate,
    /// Resolved.
    Resolve,
}

impl ClockKind {
    /// Every clock.
    pub const ALL: [ClockKind; 5] = [
        ClockKind::Acknowledge,
        ClockKind::FirstResponse,
        ClockKind::InitialUpdate,
        ClockKind::Mitigate,
        ClockKind::Resolve,
    ];

    /// Name in policy files and actions.
    pub fn as_str(self) -> &'static str {
        match self {
            ClockKind::Acknowledge => "acknowledge",
            ClockKind::FirstResponse => "first_response",
            ClockKind::InitialUpdate => "initial_update",
            ClockKind::Mitigate => "mitigate",
            ClockKind::Resolve => "resolve",
        }
    }
}

impl fmt::Display for ClockKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
