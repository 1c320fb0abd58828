//! Problems found in a policy file, each with where it is and how to fix it.

pub use crate::problem::Problem;
pub(crate) use crate::problem::Problems;

/// Checks policy text: every problem, or none when the policy can be trusted.
pub fn check(text: &str) -> Vec<Problem> {
    match super::Policy::from_toml(text) {
        Ok(_) => Vec::new(),
        Err(problems) => problems,
    }
}
