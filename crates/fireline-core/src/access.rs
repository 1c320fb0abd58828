//! Access levels of API tokens, and how a token is hashed for storage.

use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// What a token may do. Each level includes the ones below it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AccessRole {
    /// Reads everything.
    Viewer,
    /// Reads, and acts on incidents.
    Responder,
    /// Everything, including tokens and configuration.
    Admin,
}

impl AccessRole {
    /// Every role, least powerful first.
    pub const ALL: [AccessRole; 3] = [AccessRole::Viewer, AccessRole::Responder, AccessRole::Admin];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessRole::Viewer => "viewer",
            AccessRole::Responder => "responder",
            AccessRole::Admin => "admin",
        }
    }

    /// Whether a holder of `self` may do what needs `required`.
    pub fn allows(self, required: AccessRole) -> bool {
        self >= required
    }
}

impl fmt::Display for AccessRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown access role name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`: expected one of viewer, responder, admin")]
pub struct UnknownAccessRole(pub String);

impl FromStr for AccessRole {
    type Err = UnknownAccessRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AccessRole::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownAccessRole(s.to_owned()))
    }
}

/// The stored form of a token: hex SHA-256. Tokens carry 256 random bits, so a fast
/// hash is enough (a slow password hash buys nothing against guessing 2^256 values) and
/// lets a request find its token with one indexed lookup.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn higher_roles_include_lower_ones() {
        assert!(AccessRole::Admin.allows(AccessRole::Responder));
        assert!(AccessRole::Responder.allows(AccessRole::Viewer));
        assert!(!AccessRole::Viewer.allows(AccessRole::Responder));
        assert!(!AccessRole::Responder.allows(AccessRole::Admin));
    }

    #[test]
    fn hash_is_stable_and_not_the_token() {
        let h = hash_token("fl_secret");
        assert_eq!(h, hash_token("fl_secret"));
        assert_ne!(h, hash_token("fl_secreT"));
        assert_eq!(h.len(), 64);
        assert!(!h.contains("secret"));
    }
}
