//! Human-friendly incident identifiers (`INC-12`).

use std::fmt;
use std::str::FromStr;

/// An incident's number, shown to people as `INC-<n>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IncidentId(pub u64);

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "INC-{}", self.0)
    }
}

/// Why a string is not an incident id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not an incident id: expected INC-<number> (e.g. INC-12) or a bare number")]
pub struct ParseIncidentIdError {
    /// The rejected input.
    pub input: String,
}

impl FromStr for IncidentId {
    type Err = ParseIncidentIdError;

    /// Accepts `INC-12`, `inc-12` and `12`; a number must be positive.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseIncidentIdError {
            input: s.to_owned(),
        };
        let trimmed = s.trim();
        let digits = match trimmed.get(..4) {
            Some(prefix) if prefix.eq_ignore_ascii_case("INC-") => &trimmed[4..],
            _ => trimmed,
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        match digits.parse::<u64>() {
            // Numbers come from a database sequence, which starts at 1 and fits in i64.
            Ok(n) if n > 0 && n <= i64::MAX as u64 => Ok(IncidentId(n)),
            _ => Err(err()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prefixed_bare_and_lowercase_forms() {
        assert_eq!("INC-12".parse(), Ok(IncidentId(12)));
        assert_eq!("inc-7".parse(), Ok(IncidentId(7)));
        assert_eq!(" 42 ".parse(), Ok(IncidentId(42)));
        assert_eq!(IncidentId(12).to_string(), "INC-12");
    }

    #[test]
    fn rejects_malformed_ids() {
        for bad in [
            "",
            "INC-",
            "INC-0",
            "0",
            "INC--1",
            "-3",
            "INC-1x",
            "abc",
            "INC-١٢",
            "99999999999999999999",
        ] {
            assert!(
                bad.parse::<IncidentId>().is_err(),
                "{bad:?} should not parse"
            );
        }
    }
}
