//! A problem found in a file a person wrote (a policy, a roster, a runbook): where it is,
//! what is wrong and how to fix it. One type, so every checker reports alike and every
//! front end (CLI, API, UI) explains a refusal the same way.

use std::fmt;

/// One thing wrong with a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where: a key path (`severities.SEV1.clocks.acknowledge`,
    /// `schedules.sre-primary.layers[0]`), `line 4, column 9` for a syntax error, or
    /// `file.md:12` for a problem in one of several files ([`Problem::in_file`]).
    ///
    /// Named `at` (not `location`) because the roster's callers read it by that name.
    pub at: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it (may be empty).
    pub hint: String,
}

impl Problem {
    /// A problem at `at`.
    pub fn new(
        at: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Problem {
        Problem {
            at: at.into(),
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// A problem on a line of one of several files: `at` is `file:line` (line 0 names
    /// the file as a whole).
    pub fn in_file(
        file: &str,
        line: usize,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Problem {
        Problem::new(format!("{file}:{line}"), message, hint)
    }

    /// A TOML file that does not parse or does not have the expected shape: at the
    /// error's line and column ([`toml_location`]), else the whole `file`.
    pub fn from_toml(text: &str, error: &toml::de::Error, hint: impl Into<String>) -> Problem {
        Problem::new(
            toml_location(text, error).unwrap_or_else(|| "file".to_owned()),
            error.message(),
            hint,
        )
    }
}

/// `at: message`, and the hint on its own line when there is one.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)?;
        if !self.hint.is_empty() {
            write!(f, "\n  hint: {}", self.hint)?;
        }
        Ok(())
    }
}

/// Where in `text` a TOML error is, as people count: `line 4, column 9` (both from 1,
/// columns in characters); `None` when the error has no position.
pub fn toml_location(text: &str, error: &toml::de::Error) -> Option<String> {
    error.span().map(|span| {
        // A span past the end (an unexpected end of file) points just after the text.
        let before = text.get(..span.start.min(text.len())).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!("line {line}, column {column}")
    })
}

/// Collects problems while a file is checked.
#[derive(Debug, Default)]
pub(crate) struct Problems(pub Vec<Problem>);

impl Problems {
    /// Notes a problem.
    pub(crate) fn add(
        &mut self,
        at: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.0.push(Problem::new(at, message, hint));
    }
}
