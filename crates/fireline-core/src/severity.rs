//! Severity levels, looked up in a catalog that a policy will supply.

/// One severity level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Severity {
    /// Short identifier used everywhere (`SEV1`).
    pub id: String,
    /// Human name (`Critical outage`).
    pub name: String,
    /// What qualifies an incident for this level.
    pub description: String,
    /// 1 is the most severe.
    pub rank: u32,
}

/// The severities known to this deployment: the policy's (`[severities]`), or the
/// built-in SEV1–SEV4. Every lookup goes through here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeverityCatalog {
    levels: Vec<Severity>,
}

impl SeverityCatalog {
    /// Builds a catalog; levels are kept sorted by rank.
    pub fn new(mut levels: Vec<Severity>) -> Self {
        levels.sort_by_key(|s| s.rank);
        SeverityCatalog { levels }
    }

    /// SEV1–SEV4, after the classification most of our users' playbooks share.
    pub fn builtin() -> Self {
        let level = |rank: u32, name: &str, description: &str| Severity {
            id: format!("SEV{rank}"),
            name: name.to_owned(),
            description: description.to_owned(),
            rank,
        };
        SeverityCatalog::new(vec![
            level(
                1,
                "Critical outage",
                "Complete unavailability or critical data loss affecting all users.",
            ),
            level(
                2,
                "Major degradation",
                "Significant degradation or partial outage affecting many users.",
            ),
            level(
                3,
                "Moderate issue",
                "Elevated errors or degradation affecting a minority of users.",
            ),
            level(
                4,
                "Minor issue",
                "Low impact; needs attention but violates no objective.",
            ),
        ])
    }

    /// Finds a level by id, ignoring ASCII case (`sev2` finds `SEV2`).
    pub fn get(&self, id: &str) -> Option<&Severity> {
        let id = id.trim();
        self.levels.iter().find(|s| s.id.eq_ignore_ascii_case(id))
    }

    /// All levels, most severe first.
    pub fn levels(&self) -> &[Severity] {
        &self.levels
    }

    /// The ids, comma separated, for error messages.
    pub fn ids(&self) -> String {
        self.levels
            .iter()
            .map(|s| s.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}
