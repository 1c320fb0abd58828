//! Alert receivers: each parses its source's wire format into [`AlertInput`]s, checking
//! every field so bad input is refused whole (nothing is stored half-way).

pub mod alertmanager;
pub mod generic;
pub mod inbox;
pub mod keys;
pub mod pagerduty;

use crate::ApiError;
use fireline_core::alert::AlertInput;
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Most alerts one request may carry.
pub const MAX_ALERTS: usize = 10_000;
/// Most labels (or annotations) one alert may carry.
pub const MAX_LABELS: usize = 128;
/// Longest label name.
pub const MAX_LABEL_NAME: usize = 256;
/// Longest label or annotation value.
pub const MAX_VALUE: usize = 16 * 1024;

/// Checks a label or annotation set.
pub(crate) fn check_map(field: &str, map: &BTreeMap<String, String>) -> Result<(), ApiError> {
    if map.len() > MAX_LABELS {
        return Err(ApiError::invalid(
            field,
            format!("{} entries; at most {MAX_LABELS}", map.len()),
        ));
    }
    for (k, v) in map {
        if k.is_empty() || k.len() > MAX_LABEL_NAME {
            return Err(ApiError::invalid(
                field,
                format!("names must be 1 to {MAX_LABEL_NAME} bytes"),
            ));
        }
        if v.len() > MAX_VALUE {
            return Err(ApiError::invalid(
                format!("{field}.{k}"),
                format!("longer than {MAX_VALUE} bytes"),
            ));
        }
    }
    Ok(())
}

/// Parses a source timestamp; the zero time some sources send means "none", and times
/// far from now are refused as absurd.
pub(crate) fn timestamp(
    field: &str,
    raw: Option<&str>,
    now: Timestamp,
) -> Result<Option<Timestamp>, ApiError> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let t = parse_time(field, raw)?;
    if t.as_second() <= -62_135_596_800 + 86_400 {
        // 0001-01-01T00:00:00Z: Alertmanager's "not set".
        return Ok(None);
    }
    let year = jiff::SignedDuration::from_hours(24 * 366);
    let earliest = now.saturating_sub(year * 10).unwrap_or(now);
    let latest = now.saturating_add(year).unwrap_or(now);
    if t < earliest || t > latest {
        return Err(ApiError::invalid(
            field,
            format!("`{raw}` is absurdly far from now"),
        ));
    }
    Ok(Some(t))
}

/// Parses an RFC 3339 time, telling a malformed one from a well-formed one outside the
/// range fireline can represent (`9999-12-31T23:59:59Z` is valid RFC 3339, but past the
/// last instant jiff's `Timestamp` holds).
pub(crate) fn parse_time(field: &str, raw: &str) -> Result<Timestamp, ApiError> {
    raw.parse::<Timestamp>().map_err(|_| {
        match jiff::fmt::temporal::Pieces::parse(raw) {
            // Well-formed, with an offset: only its range can be wrong.
            Ok(pieces) if pieces.offset().is_some() => {
                let (bound, which) = if pieces.date().year() > 0 {
                    (Timestamp::MAX, "latest")
                } else {
                    (Timestamp::MIN, "earliest")
                };
                ApiError::invalid(
                    field,
                    format!("`{raw}` is out of range ({which} supported: {bound})"),
                )
            }
            _ => ApiError::invalid(field, format!("`{raw}` is not an RFC 3339 time")),
        }
    })
}

/// A stable identity from labels, for sources that send none.
pub(crate) fn fingerprint(labels: &BTreeMap<String, String>) -> String {
    let mut hasher = Sha256::new();
    for (k, v) in labels {
        hasher.update(k.as_bytes());
        hasher.update([0xff]);
        hasher.update(v.as_bytes());
        hasher.update([0xfe]);
    }
    hex::encode(&hasher.finalize()[..8])
}

/// A one-line summary, bounded.
pub(crate) fn summary(candidates: &[Option<&String>], fallback: &str) -> String {
    let text = candidates
        .iter()
        .flatten()
        .map(|s| s.trim())
        .find(|s| !s.is_empty())
        .unwrap_or(fallback);
    let line = text.lines().next().unwrap_or(fallback);
    line.chars()
        .take(fireline_core::command::MAX_TITLE)
        .collect()
}

/// What every receiver hands on.
pub type Alerts = Vec<AlertInput>;
