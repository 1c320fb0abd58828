//! Request and response bodies: the API's contract, documented in the OpenAPI document.
//! Requests refuse unknown fields, so a misspelt field is an error rather than ignored.
//!
//! One file per route module (`routes/incidents.rs` → `wire/incidents.rs`, …) holds the
//! views that module reads and renders; all are re-exported here, so a view is named
//! `wire::IncidentView` wherever it is defined; incident events, one view per kind, have
//! their own file (`events.rs`). This file keeps what every route shares: the error body,
//! [`refuse_nul`] and the [`integral`] readers.

mod alerts;
mod events;
mod incidents;
mod meta;
mod oncall;
mod postmortems;
mod report;
mod status;
mod tokens;

pub use alerts::*;
pub use events::*;
pub use incidents::*;
pub use meta::*;
pub use oncall::*;
pub use postmortems::*;
pub use report::*;
pub use status::*;
pub use tokens::*;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// An error's parts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code: `unauthorized`, `forbidden`, `not_found`,
    /// `bad_request`, `invalid`, `conflict`, `payload_too_large`,
    /// `unsupported_media_type`, `method_not_allowed`, `unavailable`, `internal`.
    pub code: String,
    /// For people.
    pub message: String,
    /// The request field (or `authorization`, `id`) at fault, when one is.
    pub field: Option<String>,
}

/// Refuses a NUL character in request text that reaches the database: PostgreSQL cannot
/// store one in text (the request failed with 500 there, and passed on SQLite), and no
/// name, note or filter needs one. 422 naming `field`, on both backends.
pub fn refuse_nul(field: &str, value: &str) -> Result<(), crate::ApiError> {
    if value.contains('\0') {
        return Err(crate::ApiError::invalid(
            field,
            "must not contain NUL characters",
        ));
    }
    Ok(())
}

/// Integers in request bodies, read as JSON Schema reads `integer`: any number without a
/// fractional part, so `5.0` is 5 (some JSON writers put every number as a float). A
/// fraction, a negative or an out-of-range number is refused with serde's own wording.
/// For `#[serde(deserialize_with = "integral::…")]`.
pub mod integral {
    use serde::de::{Error, Unexpected};
    use serde::{Deserialize, Deserializer};

    fn to_u64<E: Error>(n: &serde_json::Number, max: u64, expected: &str) -> Result<u64, E> {
        let out_of_range = |e: Unexpected<'_>| E::invalid_value(e, &expected);
        if let Some(v) = n.as_u64() {
            return if v <= max {
                Ok(v)
            } else {
                Err(out_of_range(Unexpected::Unsigned(v)))
            };
        }
        if let Some(v) = n.as_i64() {
            return Err(out_of_range(Unexpected::Signed(v)));
        }
        let f = n.as_f64().unwrap_or(f64::NAN);
        if f.fract() != 0.0 || !f.is_finite() {
            return Err(E::invalid_type(Unexpected::Float(f), &expected));
        }
        // `max as f64` may round up (u64::MAX does), so compare below the next power of 2.
        if f < 0.0 || f >= (max as f64) + 1.0 {
            return Err(out_of_range(Unexpected::Float(f)));
        }
        Ok((f as u64).min(max))
    }

    /// A `u64`.
    pub fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        to_u64(&serde_json::Number::deserialize(d)?, u64::MAX, "u64")
    }

    /// An optional `u64` (`null` is none).
    pub fn option_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        Option::<serde_json::Number>::deserialize(d)?
            .map(|n| to_u64(&n, u64::MAX, "u64"))
            .transpose()
    }

    /// A `u32`.
    pub fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let n = serde_json::Number::deserialize(d)?;
        to_u64(&n, u32::MAX.into(), "u32").map(|v| v as u32)
    }
}
