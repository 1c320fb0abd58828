//! The stages a post-mortem moves through. Events record a completed stage; policies set
//! each stage's deadline.

use std::fmt;

/// A post-mortem stage.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// A first draft.
    Draft,
    /// Reviewed.
    Review,
    /// Published.
    Publish,
    /// The review meeting held.
    ReviewMeeting,
}

impl Stage {
    /// Every stage.
    pub const ALL: [Stage; 4] = [
        Stage::Draft,
        Stage::Review,
        Stage::Publish,
        Stage::ReviewMeeting,
    ];

    /// Name in policy files and actions.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Draft => "draft",
            Stage::Review => "review",
            Stage::Publish => "publish",
            Stage::ReviewMeeting => "review_meeting",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Stage {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Stage::ALL
            .into_iter()
            .find(|st| st.as_str() == s.trim().to_ascii_lowercase().replace('-', "_"))
            .ok_or_else(|| {
                format!("unknown stage `{s}`: expected draft, review, publish or review_meeting")
            })
    }
}
