//! Roles a person can hold on an incident.

use std::fmt;
use std::str::FromStr;

/// A role on one incident (not an access level: see [`crate::AccessRole`]).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum IncidentRole {
    /// Owns the incident and its decisions.
    Commander,
    /// Leads the technical investigation.
    TechLead,
    /// Writes the updates.
    Comms,
    /// An expert brought in for one area.
    SubjectMatterExpert,
}

impl IncidentRole {
    /// Every role.
    pub const ALL: [IncidentRole; 4] = [
        IncidentRole::Commander,
        IncidentRole::TechLead,
        IncidentRole::Comms,
        IncidentRole::SubjectMatterExpert,
    ];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentRole::Commander => "commander",
            IncidentRole::TechLead => "tech_lead",
            IncidentRole::Comms => "comms",
            IncidentRole::SubjectMatterExpert => "subject_matter_expert",
        }
    }
}

impl fmt::Display for IncidentRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown role name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`: expected one of commander, tech_lead, comms, subject_matter_expert (or sme)")]
pub struct UnknownRole(pub String);

impl FromStr for IncidentRole {
    type Err = UnknownRole;

    /// Accepts the wire names, with `-` for `_`, and the usual short forms `ic` and `sme`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase().replace('-', "_");
        match norm.as_str() {
            "ic" | "incident_commander" => return Ok(IncidentRole::Commander),
            "sme" => return Ok(IncidentRole::SubjectMatterExpert),
            _ => {}
        }
        IncidentRole::ALL
            .into_iter()
            .find(|r| r.as_str() == norm)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}
