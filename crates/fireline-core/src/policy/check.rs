//! Problems found in a policy file, each with where it is and how to fix it.

use std::fmt;

/// One thing wrong with a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where: a key path such as `severities.SEV1.clocks.acknowledge`, or `line 4,
    /// column 9` for syntax errors.
    pub location: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)?;
        if !self.hint.is_empty() {
            write!(f, "\n  hint: {}", self.hint)?;
        }
        Ok(())
    }
}

/// Checks policy text: every problem, or none when the policy can be trusted.
pub fn check(text: &str) -> Vec<Problem> {
    match super::Policy::from_toml(text) {
        Ok(_) => Vec::new(),
        Err(problems) => problems,
    }
}

/// Collects problems while a policy is read.
#[derive(Debug, Default)]
pub(crate) struct Problems(pub Vec<Problem>);

impl Problems {
    pub(crate) fn add(
        &mut self,
        location: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.0.push(Problem {
            location: location.into(),
            message: message.into(),
            hint: hint.into(),
        });
    }
}
