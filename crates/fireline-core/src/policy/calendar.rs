//! The working week that business-day deadlines count in.

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// Working days, holidays and the time zone they are read in.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    /// Where "Monday" and "09:00" are.
    pub time_zone: TimeZone,
    /// Which weekdays are worked.
    pub working_days: Vec<Weekday>,
    /// Dates not worked.
    pub holidays: Vec<Date>,
}

impl Default for Calendar {
    fn default() -> Self {
        Calendar {
            time_zone: TimeZone::UTC,
            working_days: vec![
                Weekday::Monday,
                Weekday::Tuesday,
                Weekday::Wednesday,
                Weekday::Thursday,
                Weekday::Friday,
            ],
            holidays: Vec::new(),
        }
    }
}

impl Calendar {
    /// Whether `date` is worked.
    pub fn is_working_day(&self, date: Date) -> bool {
        self.working_days.contains(&date.weekday()) && !self.holidays.contains(&date)
    }

    /// `n` working days after `from`, at the same local time: each following day that
    /// is worked counts one. A calendar with no working days never reaches a deadline,
    /// so it returns the far future (policy check refuses such calendars).
    pub fn add_business_days(&self, from: Timestamp, n: u32) -> Timestamp {
        if self.working_days.is_empty() {
            return Timestamp::MAX;
        }
        let local = from.to_zoned(self.time_zone.clone());
        let mut date = local.date();
        let mut counted = 0;
        // Bounded: a year of holidays cannot stop a week with working days for long.
        let mut guard = 0u32;
        while counted < n && guard < 100_000 {
            date = match date.checked_add(1.day()) {
                Ok(d) => d,
                Err(_) => return Timestamp::MAX,
            };
            if self.is_working_day(date) {
                counted += 1;
            }
            guard += 1;
        }
        date.to_datetime(local.time())
            .to_zoned(self.time_zone.clone())
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn business_days_skip_weekends_and_holidays() {
        let cal = Calendar {
            holidays: vec![jiff::civil::date(2026, 3, 9)],
            ..Calendar::default()
        };
        // Friday 14:00 + 1bd = Monday 14:00; + 3bd = Wednesday.
        assert_eq!(
            cal.add_business_days(ts("2026-03-06T14:00:00Z"), 1),
            ts("2026-03-10T14:00:00Z")
        );
        assert_eq!(
            cal.add_business_days(ts("2026-03-02T14:00:00Z"), 3),
            ts("2026-03-05T14:00:00Z")
        );
        // Saturday + 1bd = Monday (a holiday here) → Tuesday.
        assert_eq!(
            cal.add_business_days(ts("2026-03-07T10:00:00Z"), 1),
            ts("2026-03-10T10:00:00Z")
        );
    }

    #[test]
    fn business_days_keep_local_time_across_dst() {
        let cal = Calendar {
            time_zone: TimeZone::get("America/New_York").expect("tz"),
            ..Calendar::default()
        };
        // Fri 2026-03-06 09:00 EST (14:00Z); DST starts Sun 03-08; Mon 09:00 EDT is 13:00Z.
        assert_eq!(
            cal.add_business_days(ts("2026-03-06T14:00:00Z"), 1),
            ts("2026-03-09T13:00:00Z")
        );
    }
}
