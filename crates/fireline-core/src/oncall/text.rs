//! The text forms roster files use for times of day, weekdays and durations, as serde
//! helpers: people write `09:00`, `mon` and `5m`, and the JSON the store keeps uses the
//! same forms so a stored roster reads like the file it came from.

use jiff::civil::{Time, Weekday};
use jiff::SignedDuration;
use serde::{Deserialize, Deserializer, Serializer};

/// `09:00` or `09:00:30`.
pub(crate) fn parse_time(text: &str) -> Result<Time, String> {
    let t = text.trim();
    let parts: Vec<&str> = t.split(':').collect();
    let number = |s: &str, max: i8, what: &str| -> Result<i8, String> {
        if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "`{text}` is not a time of day: write HH:MM, e.g. 09:00"
            ));
        }
        let n: i8 = s.parse().map_err(|_| format!("`{text}`: bad {what}"))?;
        if n > max {
            return Err(format!("`{text}`: {what} must be at most {max}"));
        }
        Ok(n)
    };
    let (h, m, s) = match parts.as_slice() {
        [h, m] => (number(h, 23, "hour")?, number(m, 59, "minute")?, 0),
        [h, m, s] => (
            number(h, 23, "hour")?,
            number(m, 59, "minute")?,
            number(s, 59, "second")?,
        ),
        _ => {
            return Err(format!(
                "`{text}` is not a time of day: write HH:MM, e.g. 09:00"
            ))
        }
    };
    Time::new(h, m, s, 0).map_err(|e| format!("`{text}`: {e}"))
}

/// `09:00`, or `09:00:30` when there are seconds.
pub(crate) fn format_time(t: Time) -> String {
    if t.second() == 0 {
        format!("{:02}:{:02}", t.hour(), t.minute())
    } else {
        format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
    }
}

/// `mon` … `sun`, or the full English name, in any case.
pub(crate) fn parse_weekday(text: &str) -> Result<Weekday, String> {
    let t = text.trim().to_ascii_lowercase();
    let day = match t.get(..3).unwrap_or("") {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return Err(format!("`{text}` is not a weekday: write mon, tue, … sun")),
    };
    let full = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    if t.len() == 3 || full.contains(&t.as_str()) {
        Ok(day)
    } else {
        Err(format!("`{text}` is not a weekday: write mon, tue, … sun"))
    }
}

/// `mon` … `sun`.
pub(crate) fn format_weekday(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "mon",
        Weekday::Tuesday => "tue",
        Weekday::Wednesday => "wed",
        Weekday::Thursday => "thu",
        Weekday::Friday => "fri",
        Weekday::Saturday => "sat",
        Weekday::Sunday => "sun",
    }
}

/// Serde for a [`Time`] written `HH:MM`.
pub mod hhmm {
    use super::*;

    /// Writes the value in its text form.
    pub fn serialize<S: Serializer>(t: &Time, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_time(*t))
    }

    /// Reads the value from its text form; a bad one names the form to write.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Time, D::Error> {
        let text = String::deserialize(d)?;
        parse_time(&text).map_err(serde::de::Error::custom)
    }
}

/// Serde for a list of weekdays written `["mon", "tue"]`.
pub mod weekdays {
    use super::*;
    use serde::ser::SerializeSeq;

    /// Writes the value in its text form.
    pub fn serialize<S: Serializer>(days: &[Weekday], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(days.len()))?;
        for d in days {
            seq.serialize_element(format_weekday(*d))?;
        }
        seq.end()
    }

    /// Reads the value from its text form; a bad one names the form to write.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Weekday>, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        names
            .iter()
            .map(|n| parse_weekday(n).map_err(serde::de::Error::custom))
            .collect()
    }
}

/// Serde for a [`SignedDuration`] written `5m`, `1h 30m` (ISO 8601 `PT5M` is read too).
pub mod friendly {
    use super::*;

    /// Writes the value in its text form.
    pub fn serialize<S: Serializer>(d: &SignedDuration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{d:#}"))
    }

    /// Reads the value from its text form; a bad one names the form to write.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SignedDuration, D::Error> {
        let text = String::deserialize(d)?;
        text.trim().parse::<SignedDuration>().map_err(|e| {
            serde::de::Error::custom(format!(
                "`{text}` is not a duration ({e}): write e.g. 0m, 5m, 1h30m"
            ))
        })
    }
}

/// Serde for an optional [`SignedDuration`], written as [`friendly`] when present.
pub mod friendly_opt {
    use super::*;

    /// Writes the value in its text form.
    pub fn serialize<S: Serializer>(d: &Option<SignedDuration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::friendly::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    /// `null` (as the API writes an unset value) is unset.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<SignedDuration>, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        text.trim()
            .parse::<SignedDuration>()
            .map(Some)
            .map_err(|e| {
                serde::de::Error::custom(format!(
                    "`{text}` is not a duration ({e}): write e.g. 0m, 5m, 1h30m"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_weekdays_and_durations_read_as_people_write_them() {
        assert_eq!(parse_time("09:00"), Ok(jiff::civil::time(9, 0, 0, 0)));
        assert_eq!(parse_time("23:59:30"), Ok(jiff::civil::time(23, 59, 30, 0)));
        for bad in ["9:00", "24:00", "09:60", "0900", "", "09:00:00:00"] {
            assert!(parse_time(bad).is_err(), "{bad:?}");
        }
        assert_eq!(format_time(jiff::civil::time(9, 5, 0, 0)), "09:05");
        assert_eq!(parse_weekday("Monday"), Ok(Weekday::Monday));
        assert_eq!(parse_weekday("sun"), Ok(Weekday::Sunday));
        assert!(parse_weekday("mond").is_err());
        assert!(parse_weekday("xyz").is_err());
        let five: SignedDuration = "5m".parse().expect("friendly");
        assert_eq!(five, SignedDuration::from_mins(5));
        assert_eq!(format!("{five:#}"), "5m");
    }
}
