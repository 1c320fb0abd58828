//! The channels incident updates are posted on. Events record where an update went;
//! policies set each channel's cadence and template.

use std::fmt;

/// A communication channel an update is posted on.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Responders and stakeholders inside.
    Internal,
    /// The public status page.
    StatusPage,
    /// Direct customer communication.
    Customer,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 3] = [Channel::Internal, Channel::StatusPage, Channel::Customer];

    /// Name in policy files, events and actions.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Internal => "internal",
            Channel::StatusPage => "status_page",
            Channel::Customer => "customer",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Channel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s.trim().to_ascii_lowercase().replace('-', "_"))
            .ok_or_else(|| {
                format!("unknown channel `{s}`: expected internal, status_page or customer")
            })
    }
}
