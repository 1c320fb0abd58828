//! Failures of client commands, with the documented exit codes.

use serde_json::Value;
use std::process::ExitCode;

/// A failure to report on stderr with an exit code.
#[derive(Debug)]
pub struct Failure {
    /// The message.
    pub message: String,
    /// The process exit code.
    pub code: u8,
}

/// The server refused or something failed.
pub const GENERAL: u8 = 1;
/// The server or database could not be reached.
pub const UNREACHABLE: u8 = 3;
/// The incident changed or does not allow the change.
pub const CONFLICT: u8 = 4;
/// The token is missing, invalid or not allowed.
pub const NOT_AUTHORIZED: u8 = 5;

impl Failure {
    /// Exit 1.
    pub fn general(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: GENERAL,
        }
    }

    /// Exit 3.
    pub fn unreachable(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: UNREACHABLE,
        }
    }

    /// From an API error response: `{"error":{"code","message","field"}}`.
    pub fn from_api(status: u16, body: &Value) -> Self {
        let error = &body["error"];
        let message = error["message"].as_str().unwrap_or("request refused");
        let message = match error["field"].as_str() {
            Some(field) if !message.starts_with(field) => format!("{field}: {message}"),
            _ => message.to_owned(),
        };
        let code = match status {
            401 | 403 => NOT_AUTHORIZED,
            409 => CONFLICT,
            503 => UNREACHABLE,
            _ => GENERAL,
        };
        Failure { message, code }
    }

    /// The process exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::general(format!("{e:#}"))
    }
}
