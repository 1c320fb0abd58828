//! Schedules: rotation layers stacked on one another, restricted to windows, with
//! overrides on top, and the arithmetic that says who is on call when.
//!
//! All calendar arithmetic happens in the layer's real time zone, so a daily 09:00
//! hand-off stays at 09:00 local time on both sides of a daylight-saving change.

use super::text::{hhmm, weekdays};
use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An on-call schedule: who is on call, computed from its layers and overrides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Id, the key under `[schedules]` in a roster file.
    #[serde(default)]
    pub id: String,
    /// Name shown to people (`SRE primary`).
    pub name: String,
    /// IANA time zone the layers' hand-off times and dates are read in, unless a layer
    /// names its own.
    pub time_zone: String,
    /// Rotation layers, lowest first: a later layer wins wherever it has someone.
    #[serde(default)]
    pub layers: Vec<Layer>,
    /// One-off replacements that beat every layer for their window.
    #[serde(default)]
    pub overrides: Vec<Override>,
}

/// A rotation through participants at a fixed shift length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    /// Name (`weekly`, `business hours`), recorded on the shifts it produces.
    pub name: String,
    /// People (ids) in rotation order.
    pub participants: Vec<String>,
    /// How long each person's turn lasts.
    pub shift: ShiftLength,
    /// Local time of day at which the first shift starts (and day-based shifts hand off).
    #[serde(with = "hhmm", default)]
    pub handoff: Time,
    /// Local date of the first shift; nobody is on call in this layer before it.
    pub start: Date,
    /// IANA time zone for this layer; the schedule's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Windows the layer is limited to; none means it always applies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restrictions: Vec<Restriction>,
}

/// How long a shift in a layer lasts.
///
/// Days and weeks are civil: a day-long shift handing off at 09:00 hands off at 09:00
/// local time every day, even when that day has 23 or 25 hours. Hours are absolute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShiftLength {
    /// This many elapsed hours.
    Hours(u32),
    /// This many calendar days.
    Days(u32),
    /// This many calendar weeks.
    Weeks(u32),
}

/// A daily window a layer is limited to, in the layer's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Restriction {
    /// The days on which the window starts; empty means every day.
    #[serde(with = "weekdays", default)]
    pub days: Vec<Weekday>,
    /// Local start time.
    #[serde(with = "hhmm")]
    pub from: Time,
    /// Local end time; when it is not after `from` the window runs past midnight into
    /// the next day (equal to `from`: a whole day).
    #[serde(with = "hhmm")]
    pub to: Time,
}

/// Someone on call instead of whoever the layers say, for a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// Who (a person id).
    pub person: String,
    /// From (inclusive).
    pub start: Timestamp,
    /// Until (exclusive).
    pub end: Timestamp,
}

/// A stretch of time one person is on call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shift {
    /// Person id.
    pub person: String,
    /// From (inclusive).
    pub start: Timestamp,
    /// Until (exclusive).
    pub end: Timestamp,
    /// The layer it came from; `None` for an override. For a merged final segment, the
    /// source of its first part.
    pub layer: Option<String>,
}

/// A change of who is on call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handoff {
    /// When.
    pub at: Timestamp,
    /// Who was on call until then (`None`: nobody).
    pub outgoing: Option<String>,
    /// Who is on call from then (`None`: nobody).
    pub incoming: Option<String>,
}

/// Why a shift length does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a shift length: write e.g. 12h, 1d, 3d, 1w, 2w, daily or weekly")]
pub struct ParseShiftLengthError {
    input: String,
}

impl FromStr for ShiftLength {
    type Err = ParseShiftLengthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseShiftLengthError {
            input: s.to_owned(),
        };
        let text = s.trim().to_ascii_lowercase();
        match text.as_str() {
            "daily" => return Ok(ShiftLength::Days(1)),
            "weekly" => return Ok(ShiftLength::Weeks(1)),
            _ => {}
        }
        let unit = text.chars().last().ok_or_else(err)?;
        let number = &text[..text.len() - unit.len_utf8()];
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let n: u32 = number.parse().map_err(|_| err())?;
        match unit {
            'h' => Ok(ShiftLength::Hours(n)),
            'd' => Ok(ShiftLength::Days(n)),
            'w' => Ok(ShiftLength::Weeks(n)),
            _ => Err(err()),
        }
    }
}

impl fmt::Display for ShiftLength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShiftLength::Hours(n) => write!(f, "{n}h"),
            ShiftLength::Days(n) => write!(f, "{n}d"),
            ShiftLength::Weeks(n) => write!(f, "{n}w"),
        }
    }
}

impl Serialize for ShiftLength {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ShiftLength {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl ShiftLength {
    /// Whether the shift has no length (a layer with one has nobody on call).
    pub fn is_zero(self) -> bool {
        matches!(
            self,
            ShiftLength::Hours(0) | ShiftLength::Days(0) | ShiftLength::Weeks(0)
        )
    }

    /// A rough length, for choosing how far to look around an instant.
    pub(crate) fn approx(self) -> SignedDuration {
        // 25-hour days: long enough for a day that gains an hour.
        let hours = match self {
            ShiftLength::Hours(n) => i64::from(n),
            ShiftLength::Days(n) => i64::from(n) * 25,
            ShiftLength::Weeks(n) => i64::from(n) * 7 * 25,
        };
        SignedDuration::from_hours(hours)
    }
}

/// A real time zone by IANA name; `None` for unknown names (and fixed offsets, which
/// would get daylight saving wrong).
pub(crate) fn zone(name: &str) -> Option<TimeZone> {
    TimeZone::get(name.trim()).ok()
}

/// A civil date and time in `tz`; a time skipped by a clock change moves forward by the
/// gap and a repeated one takes its first occurrence (RFC 5545's rule, and what people
/// expect of "09:00 local").
fn instant(tz: &TimeZone, dt: DateTime) -> Option<Timestamp> {
    tz.to_ambiguous_timestamp(dt).compatible().ok()
}

/// One layer's rotation, with its zone resolved.
struct Rotation<'a> {
    layer: &'a Layer,
    tz: TimeZone,
    anchor: DateTime,
    origin: Timestamp,
}

impl<'a> Rotation<'a> {
    /// `None` when the layer can never have anyone on call (bad zone, nobody in it, or a
    /// zero shift length): `Roster::check` reports those.
    fn new(layer: &'a Layer, schedule_zone: &str) -> Option<Rotation<'a>> {
        if layer.participants.is_empty() || layer.shift.is_zero() {
            return None;
        }
        let tz = zone(layer.time_zone.as_deref().unwrap_or(schedule_zone))?;
        let anchor = layer.start.to_datetime(layer.handoff);
        let origin = instant(&tz, anchor)?;
        Some(Rotation {
            layer,
            tz,
            anchor,
            origin,
        })
    }

    /// When shift `k` starts (`None` past the representable range).
    fn start_of(&self, k: i64) -> Option<Timestamp> {
        match self.layer.shift {
            ShiftLength::Hours(n) => {
                let secs = k.checked_mul(i64::from(n))?.checked_mul(3600)?;
                self.origin
                    .checked_add(SignedDuration::from_secs(secs))
                    .ok()
            }
            ShiftLength::Days(n) | ShiftLength::Weeks(n) => {
                let days = k
                    .checked_mul(i64::from(n))?
                    .checked_mul(self.days_per_unit())?;
                let span = Span::new().try_days(days).ok()?;
                let dt = self.anchor.checked_add(span).ok()?;
                instant(&self.tz, dt)
            }
        }
    }

    fn days_per_unit(&self) -> i64 {
        match self.layer.shift {
            ShiftLength::Weeks(_) => 7,
            _ => 1,
        }
    }

    /// The index of the shift covering `t`; `None` before the layer starts.
    fn index_at(&self, t: Timestamp) -> Option<i64> {
        if t < self.origin {
            return None;
        }
        let mut k = match self.layer.shift {
            ShiftLength::Hours(n) => {
                let elapsed = t.duration_since(self.origin).as_secs();
                elapsed / (i64::from(n) * 3600)
            }
            ShiftLength::Days(n) | ShiftLength::Weeks(n) => {
                let date = self.tz.to_datetime(t).date();
                let days = self
                    .anchor
                    .date()
                    .until(date)
                    .map(|s| i64::from(s.get_days()))
                    .unwrap_or(0);
                days.div_euclid(i64::from(n) * self.days_per_unit())
            }
        };
        // The estimate is off by at most one where a clock change moves the hand-off
        // across midnight; walk to the exact shift.
        while self.start_of(k + 1).is_some_and(|s| s <= t) {
            k += 1;
        }
        while k > 0 && self.start_of(k).is_none_or(|s| s > t) {
            k -= 1;
        }
        Some(k)
    }

    /// Unrestricted shifts clipped to `[from, to)`, in order.
    fn shifts(&self, from: Timestamp, to: Timestamp) -> Vec<Shift> {
        let mut out = Vec::new();
        if to <= from || to <= self.origin {
            return out;
        }
        let mut k = self.index_at(from).unwrap_or(0);
        let len = self.layer.participants.len() as i64;
        while let Some(start) = self.start_of(k) {
            if start >= to {
                break;
            }
            let end = self.start_of(k + 1).unwrap_or(Timestamp::MAX);
            let person = &self.layer.participants[k.rem_euclid(len) as usize];
            out.push(Shift {
                person: person.clone(),
                start: start.max(from),
                end: end.min(to),
                layer: Some(self.layer.name.clone()),
            });
            if end >= to {
                break;
            }
            k += 1;
        }
        out
    }

    /// The restriction windows meeting `[from, to)`, clipped, sorted and merged.
    fn windows(&self, from: Timestamp, to: Timestamp) -> Vec<(Timestamp, Timestamp)> {
        let mut out: Vec<(Timestamp, Timestamp)> = Vec::new();
        // A window that runs past midnight started the day before `from`'s date.
        let (Ok(first), last) = (
            self.tz.to_datetime(from).date().yesterday(),
            self.tz.to_datetime(to).date(),
        ) else {
            return out;
        };
        let mut day = first;
        while day <= last {
            for r in &self.layer.restrictions {
                if !r.days.is_empty() && !r.days.contains(&day.weekday()) {
                    continue;
                }
                let end_day = if r.to <= r.from {
                    day.tomorrow().ok()
                } else {
                    Some(day)
                };
                let start = instant(&self.tz, day.to_datetime(r.from));
                let end = end_day.and_then(|d| instant(&self.tz, d.to_datetime(r.to)));
                if let (Some(s), Some(e)) = (start, end) {
                    let (s, e) = (s.max(from), e.min(to));
                    if s < e {
                        out.push((s, e));
                    }
                }
            }
            day = match day.tomorrow() {
                Ok(d) => d,
                Err(_) => break,
            };
        }
        out.sort();
        let mut merged: Vec<(Timestamp, Timestamp)> = Vec::with_capacity(out.len());
        for (s, e) in out {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        merged
    }

    /// Shifts clipped to `[from, to)` and to the layer's restriction windows.
    fn restricted_shifts(&self, from: Timestamp, to: Timestamp) -> Vec<Shift> {
        let shifts = self.shifts(from, to);
        if self.layer.restrictions.is_empty() {
            return shifts;
        }
        let windows = self.windows(from, to);
        let mut out = Vec::new();
        let mut w = 0;
        for shift in shifts {
            while w < windows.len() && windows[w].1 <= shift.start {
                w += 1;
            }
            let mut i = w;
            while i < windows.len() && windows[i].0 < shift.end {
                let (s, e) = (windows[i].0.max(shift.start), windows[i].1.min(shift.end));
                if s < e {
                    out.push(Shift {
                        start: s,
                        end: e,
                        ..shift.clone()
                    });
                }
                i += 1;
            }
        }
        out
    }
}

/// Whether `t` lies in one of `shifts` (sorted, not overlapping); which one.
fn covering(shifts: &[Shift], t: Timestamp) -> Option<&Shift> {
    let i = shifts.partition_point(|s| s.start <= t);
    i.checked_sub(1)
        .and_then(|i| shifts.get(i))
        .filter(|s| s.end > t)
}

fn after(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_add(d).unwrap_or(Timestamp::MAX)
}

fn before(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_sub(d).unwrap_or(Timestamp::MIN)
}

impl Schedule {
    /// One layer's shifts in `[from, to)`, clipped to the window and to the layer's
    /// restrictions, in order; empty for a layer index that does not exist. Each shift
    /// is one turn of the rotation (or the part of it inside a restriction window), so
    /// consecutive shifts of an unrestricted layer go through the participants in order.
    pub fn layer_shifts(&self, layer: usize, from: Timestamp, to: Timestamp) -> Vec<Shift> {
        self.layers
            .get(layer)
            .and_then(|l| Rotation::new(l, &self.time_zone))
            .map(|r| r.restricted_shifts(from, to))
            .unwrap_or_default()
    }

    /// The final schedule in `[from, to)`: consecutive segments with later layers over
    /// earlier ones and overrides over all, adjacent segments of one person merged, and
    /// the times nobody is on call simply absent.
    pub fn shifts(&self, from: Timestamp, to: Timestamp) -> Vec<Shift> {
        if to <= from {
            return Vec::new();
        }
        let layers: Vec<Vec<Shift>> = (0..self.layers.len())
            .map(|i| self.layer_shifts(i, from, to))
            .collect();
        let overrides: Vec<Shift> = self
            .overrides
            .iter()
            .filter(|o| o.start < o.end && o.start < to && o.end > from)
            .map(|o| Shift {
                person: o.person.clone(),
                start: o.start.max(from),
                end: o.end.min(to),
                layer: None,
            })
            .collect();

        let mut bounds: Vec<Timestamp> = vec![from, to];
        for s in layers.iter().flatten().chain(&overrides) {
            bounds.push(s.start);
            bounds.push(s.end);
        }
        bounds.sort();
        bounds.dedup();

        let mut out: Vec<Shift> = Vec::new();
        for pair in bounds.windows(2) {
            let (start, end) = (pair[0], pair[1]);
            // The last override listed wins where overrides overlap: it is the newer one.
            let top = overrides
                .iter()
                .rev()
                .find(|o| o.start <= start && start < o.end)
                .or_else(|| layers.iter().rev().find_map(|l| covering(l, start)));
            let Some(top) = top else { continue };
            match out.last_mut() {
                Some(last) if last.end == start && last.person == top.person => last.end = end,
                _ => out.push(Shift {
                    person: top.person.clone(),
                    start,
                    end,
                    layer: top.layer.clone(),
                }),
            }
        }
        out
    }

    /// Who is on call at `t`, as the final segment covering it (its start and end are
    /// where that person's stretch begins and ends, looked for up to about a year either
    /// side); `None` when nobody is.
    pub fn on_call_at(&self, t: Timestamp) -> Option<Shift> {
        let horizon = SignedDuration::from_hours(24 * 400);
        let mut reach = self
            .layers
            .iter()
            .map(|l| l.shift.approx())
            .max()
            .unwrap_or(SignedDuration::from_hours(24))
            .max(SignedDuration::from_hours(1));
        loop {
            let (from, to) = (before(t, reach), after(t, reach));
            let found = self
                .shifts(from, to)
                .into_iter()
                .find(|s| s.start <= t && t < s.end)?;
            let whole = reach >= horizon
                || ((found.start > from || from == Timestamp::MIN)
                    && (found.end < to || to == Timestamp::MAX));
            if whole {
                return Some(found);
            }
            reach = reach.checked_mul(4).unwrap_or(horizon).min(horizon);
        }
    }

    /// The windows in `[from, to)` when nobody is on call.
    pub fn gaps(&self, from: Timestamp, to: Timestamp) -> Vec<(Timestamp, Timestamp)> {
        let mut out = Vec::new();
        let mut cursor = from;
        for s in self.shifts(from, to) {
            if s.start > cursor {
                out.push((cursor, s.start));
            }
            cursor = s.end;
        }
        if cursor < to {
            out.push((cursor, to));
        }
        out
    }

    /// Every change of who is on call in `(from, to]`, including changes to and from
    /// nobody.
    pub fn handoffs(&self, from: Timestamp, to: Timestamp) -> Vec<Handoff> {
        if to <= from {
            return Vec::new();
        }
        // One nanosecond past `to`, so a change exactly at `to` is seen.
        let end = after(to, SignedDuration::from_nanos(1));
        let mut timeline: Vec<(Timestamp, Option<String>)> = Vec::new();
        let mut cursor = from;
        for s in self.shifts(from, end) {
            if s.start > cursor {
                timeline.push((cursor, None));
            }
            timeline.push((s.start, Some(s.person)));
            cursor = s.end;
        }
        if cursor < end {
            timeline.push((cursor, None));
        }
        timeline
            .windows(2)
            .filter(|w| w[0].1 != w[1].1 && w[1].0 > from && w[1].0 <= to)
            .map(|w| Handoff {
                at: w[1].0,
                outgoing: w[0].1.clone(),
                incoming: w[1].1.clone(),
            })
            .collect()
    }

    /// Every person id the schedule names (layers and overrides), once each.
    pub fn people(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .layers
            .iter()
            .flat_map(|l| l.participants.iter())
            .chain(self.overrides.iter().map(|o| &o.person))
            .map(String::as_str)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}
