//! Durations as policies write them: `5m`, `1h30m`, `7d`, or business days `3bd`.

use super::calendar::Calendar;
use jiff::{SignedDuration, Timestamp};
use std::fmt;
use std::str::FromStr;

/// A span of time in a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyDuration {
    /// Wall-clock time.
    Fixed(SignedDuration),
    /// Whole working days of the policy's calendar, at the same local time of day.
    BusinessDays(u32),
}

/// Why a duration does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{input}` is not a duration: {reason} (write e.g. 15m, 1h30m, 7d, or 3bd for business days)"
)]
pub struct ParseDurationError {
    input: String,
    reason: &'static str,
}

impl FromStr for PolicyDuration {
    type Err = ParseDurationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| ParseDurationError {
            input: s.to_owned(),
            reason,
        };
        let text: String = s.trim().to_ascii_lowercase().split_whitespace().collect();
        if text.is_empty() {
            return Err(err("it is empty"));
        }
        if text.starts_with('-') {
            return Err(err("durations cannot be negative"));
        }
        if let Some(days) = text.strip_suffix("bd") {
            let n: u32 = days
                .parse()
                .map_err(|_| err("business days are a whole number"))?;
            return Ok(PolicyDuration::BusinessDays(n));
        }
        let mut total: i64 = 0;
        let mut number = String::new();
        let mut saw_unit = false;
        for c in text.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let unit: i64 = match c {
                'w' => 7 * 86_400,
                'd' => 86_400,
                'h' => 3_600,
                'm' => 60,
                's' => 1,
                _ => return Err(err("unknown unit (use w, d, h, m, s or bd)")),
            };
            let n: i64 = number
                .parse()
                .map_err(|_| err("each unit needs a number before it"))?;
            total = n
                .checked_mul(unit)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(|| err("too long"))?;
            number.clear();
            saw_unit = true;
        }
        if !number.is_empty() || !saw_unit {
            return Err(err("a number needs a unit"));
        }
        Ok(PolicyDuration::Fixed(SignedDuration::from_secs(total)))
    }
}

impl fmt::Display for PolicyDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyDuration::BusinessDays(n) => write!(f, "{n}bd"),
            PolicyDuration::Fixed(d) => f.write_str(&format_fixed(*d)),
        }
    }
}

/// `1h30m`, `2d`, `45s`, `0m`.
pub fn format_fixed(d: SignedDuration) -> String {
    let mut secs = d.as_secs();
    let sign = if secs < 0 { "-" } else { "" };
    secs = secs.abs();
    let mut out = String::from(sign);
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    if out.is_empty() || out == "-" {
        out = "0m".to_owned();
    }
    out
}

impl PolicyDuration {
    /// Parses a wall-clock duration (no business days) into whole seconds, for settings
    /// such as heartbeat intervals that are not measured on a calendar.
    pub fn wall_clock_secs(text: &str) -> Result<i64, String> {
        match text.parse::<PolicyDuration>() {
            Ok(PolicyDuration::Fixed(d)) => Ok(d.as_secs()),
            Ok(PolicyDuration::BusinessDays(_)) => {
                Err("use wall-clock units (s, m, h, d), not business days".to_owned())
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// The instant this long after `from`, on `calendar` for business days.
    pub fn after(&self, from: Timestamp, calendar: &Calendar) -> Timestamp {
        match self {
            PolicyDuration::Fixed(d) => from.saturating_add(*d).unwrap_or(from),
            PolicyDuration::BusinessDays(n) => calendar.add_business_days(from, *n),
        }
    }

    /// An approximate wall-clock length, for comparing targets (a business day counts
    /// as 24 hours and a week of them as 7 days: good enough to tell 1h from 3bd).
    pub fn approx(&self) -> SignedDuration {
        match self {
            PolicyDuration::Fixed(d) => *d,
            PolicyDuration::BusinessDays(n) => {
                SignedDuration::from_hours(i64::from(*n) * 24 * 7 / 5)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_compound_and_business_durations() {
        let fixed = |s: i64| PolicyDuration::Fixed(SignedDuration::from_secs(s));
        assert_eq!("15m".parse(), Ok(fixed(900)));
        assert_eq!("1h30m".parse(), Ok(fixed(5400)));
        assert_eq!("1h 30m".parse(), Ok(fixed(5400)));
        assert_eq!("7d".parse(), Ok(fixed(7 * 86_400)));
        assert_eq!("2w".parse(), Ok(fixed(14 * 86_400)));
        assert_eq!("3bd".parse(), Ok(PolicyDuration::BusinessDays(3)));
        assert_eq!("0m".parse(), Ok(fixed(0)));
        for bad in ["", "-5m", "5", "m", "5x", "1.5h", "bd", "3.5bd"] {
            assert!(bad.parse::<PolicyDuration>().is_err(), "{bad:?}");
        }
        assert_eq!(fixed(5400).to_string(), "1h30m");
        assert_eq!(PolicyDuration::BusinessDays(3).to_string(), "3bd");
    }
}
