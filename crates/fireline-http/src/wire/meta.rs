//! Health, identity, severities and the policy in force (`routes/meta.rs`).

use fireline_core::Severity;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `GET /health`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// Fireline's version.
    pub version: String,
}

/// A severity level.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SeverityView {
    /// Id used in requests.
    pub id: String,
    /// Name.
    pub name: String,
    /// When it applies.
    pub description: String,
    /// 1 is the most severe.
    pub rank: u32,
}

impl From<&Severity> for SeverityView {
    fn from(s: &Severity) -> Self {
        SeverityView {
            id: s.id.clone(),
            name: s.name.clone(),
            description: s.description.clone(),
            rank: s.rank,
        }
    }
}

/// `GET /api/v1/severities`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SeverityList {
    /// Most severe first.
    pub severities: Vec<SeverityView>,
}

/// `GET /api/v1/whoami`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WhoAmI {
    /// The principal.
    pub name: String,
    /// Its role.
    pub role: String,
    /// The token's id.
    pub token_id: String,
}

/// The policy in force.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PolicySummary {
    /// Name.
    pub name: String,
    /// `name@digest`, as recorded on incidents.
    pub label: String,
    /// What it is for.
    pub description: String,
    /// Severity ids, most severe first.
    pub severities: Vec<String>,
    /// Escalation levels: number and name.
    pub escalation: Vec<EscalationLevelView>,
    /// Category ids.
    pub categories: Vec<String>,
}

/// One escalation level.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EscalationLevelView {
    /// From 1.
    pub level: u32,
    /// Name.
    pub name: String,
    /// Who it reaches.
    pub targets: Vec<String>,
}
