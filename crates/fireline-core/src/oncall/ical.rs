//! Shifts as an iCalendar feed (RFC 5545), for people to subscribe to in their calendar.
//!
//! Event UIDs derive from the schedule, the person and the start, so a calendar client
//! that polls the feed sees the same event again rather than a new one each time.

use super::{Person, Schedule, Shift};
use jiff::Timestamp;
use sha2::{Digest, Sha256};

/// One VCALENDAR with a VEVENT per shift of `schedule`.
pub fn schedule_calendar(
    schedule: &Schedule,
    shifts: &[Shift],
    now: Timestamp,
    title: &str,
) -> String {
    let mut cal = Calendar::new(title);
    for shift in shifts {
        cal.event(schedule, shift, now);
    }
    cal.finish()
}

/// One VCALENDAR with a VEVENT per shift of `person`, across the schedules given with
/// their shifts (shifts of other people are left out).
pub fn person_calendar(
    person: &Person,
    schedules: &[(&Schedule, Vec<Shift>)],
    now: Timestamp,
    title: &str,
) -> String {
    let mut cal = Calendar::new(title);
    for (schedule, shifts) in schedules {
        for shift in shifts.iter().filter(|s| s.person == person.id) {
            cal.event(schedule, shift, now);
        }
    }
    cal.finish()
}

struct Calendar {
    out: String,
}

impl Calendar {
    fn new(title: &str) -> Calendar {
        let mut cal = Calendar { out: String::new() };
        cal.line("BEGIN:VCALENDAR");
        cal.line("VERSION:2.0");
        cal.line("PRODID:-//fireline//on-call//EN");
        cal.line("CALSCALE:GREGORIAN");
        cal.line("METHOD:PUBLISH");
        cal.line(&format!("X-WR-CALNAME:{}", escape(title)));
        cal
    }

    fn event(&mut self, schedule: &Schedule, shift: &Shift, now: Timestamp) {
        let source = match &shift.layer {
            Some(layer) => format!("Layer: {layer}"),
            None => "Override".to_owned(),
        };
        self.line("BEGIN:VEVENT");
        self.line(&format!("UID:{}", uid(schedule, shift)));
        self.line(&format!("DTSTAMP:{}", utc(now)));
        self.line(&format!("DTSTART:{}", utc(shift.start)));
        self.line(&format!("DTEND:{}", utc(shift.end)));
        self.line(&format!(
            "SUMMARY:{}",
            escape(&format!("On call: {} ({})", schedule.name, shift.person))
        ));
        self.line(&format!(
            "DESCRIPTION:{}",
            escape(&format!("Schedule: {}\n{source}", schedule.id))
        ));
        // On call is not busy: it should not block the person's calendar.
        self.line("TRANSP:TRANSPARENT");
        self.line("END:VEVENT");
    }

    fn line(&mut self, content: &str) {
        fold_into(&mut self.out, content);
    }

    fn finish(mut self) -> String {
        self.line("END:VCALENDAR");
        self.out
    }
}

fn uid(schedule: &Schedule, shift: &Shift) -> String {
    let mut hash = Sha256::new();
    hash.update(schedule.id.as_bytes());
    hash.update([0]);
    hash.update(shift.person.as_bytes());
    hash.update([0]);
    hash.update(shift.start.as_second().to_be_bytes());
    let digest = hex::encode(hash.finalize());
    format!("{}@fireline", &digest[..32])
}

/// `20260105T000000Z`.
fn utc(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// TEXT escaping (RFC 5545 §3.3.11).
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push_str("\\n");
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Appends a content line folded at 75 octets (RFC 5545 §3.1): continuation lines start
/// with a space, and a UTF-8 character is never split.
pub(crate) fn fold_into(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        let content = format!("SUMMARY:{}", "é".repeat(60));
        fold_into(&mut out, &content);
        for line in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{line:?} is {} octets", line.len());
        }
        let unfolded = out.trim_end_matches("\r\n").replace("\r\n ", "");
        assert_eq!(unfolded, content);
    }

    #[test]
    fn text_escapes_the_four_special_characters() {
        assert_eq!(escape("a\\b;c,d\ne\r\nf"), "a\\\\b\\;c\\,d\\ne\\nf");
    }
}
