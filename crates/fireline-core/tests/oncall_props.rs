//! Properties of on-call arithmetic over random layers, zones (with and without daylight
//! saving) and instants, checked against a slow, obviously-correct oracle that walks
//! shift by shift from the layer's start.

use fireline_core::oncall::{Layer, Override, Restriction, Schedule, Shift, ShiftLength};
use jiff::civil::{date, time, Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use proptest::prelude::*;

const ZONES: [&str; 6] = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "Asia/Kolkata",
    "America/St_Johns",
];

/// Hours that no zone above changes its clocks at, so "is this local time in the
/// window" has one answer the oracle can compute from local time alone.
const WINDOW_HOURS: [i8; 9] = [0, 6, 8, 9, 12, 17, 18, 20, 22];

const WEEK: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

fn base() -> Date {
    date(2024, 1, 1)
}

fn base_ts() -> Timestamp {
    "2024-01-01T00:00:00Z".parse().expect("base")
}

fn shift_length() -> impl Strategy<Value = ShiftLength> {
    prop_oneof![
        (1u32..=48).prop_map(ShiftLength::Hours),
        (1u32..=14).prop_map(ShiftLength::Days),
        (1u32..=3).prop_map(ShiftLength::Weeks),
    ]
}

fn restriction() -> impl Strategy<Value = Restriction> {
    (
        proptest::collection::vec(any::<bool>(), 7),
        0..WINDOW_HOURS.len(),
        0..WINDOW_HOURS.len(),
    )
        .prop_map(|(days, from, to)| Restriction {
            days: WEEK
                .iter()
                .zip(days)
                .filter(|(_, on)| *on)
                .map(|(d, _)| *d)
                .collect(),
            from: time(WINDOW_HOURS[from], 0, 0, 0),
            to: time(WINDOW_HOURS[to], 0, 0, 0),
        })
}

/// A layer of 1–5 distinct participants, so "who comes next" has one answer.
fn layer(restricted: bool) -> impl Strategy<Value = Layer> {
    (
        1usize..=5,
        shift_length(),
        0i8..24,
        prop_oneof![Just(0i8), Just(30i8)],
        0i64..200,
        proptest::option::of(0..ZONES.len()),
        proptest::collection::vec(restriction(), if restricted { 0..=2 } else { 0..=0 }),
    )
        .prop_map(|(n, shift, h, m, day, zone, restrictions)| Layer {
            name: format!("layer-{n}-{shift}"),
            participants: (0..n).map(|i| format!("p{i}")).collect(),
            shift,
            handoff: time(h, m, 0, 0),
            start: base().checked_add(day.days()).expect("date"),
            time_zone: zone.map(|z| ZONES[z].to_owned()),
            restrictions,
        })
}

fn override_() -> impl Strategy<Value = Override> {
    (0i64..300 * 86_400, 3_600i64..3 * 86_400, 0usize..3).prop_map(|(at, len, who)| Override {
        person: format!("o{who}"),
        start: base_ts() + SignedDuration::from_secs(at),
        end: base_ts() + SignedDuration::from_secs(at + len),
    })
}

fn schedule() -> impl Strategy<Value = Schedule> {
    (
        0..ZONES.len(),
        proptest::collection::vec(layer(true), 1..=3),
        proptest::collection::vec(override_(), 0..=2),
    )
        .prop_map(|(zone, layers, overrides)| Schedule {
            id: "s".into(),
            name: "S".into(),
            time_zone: ZONES[zone].to_owned(),
            layers,
            overrides,
        })
}

/// An instant from a few days before the base to about ten months after.
fn instant() -> impl Strategy<Value = Timestamp> {
    (-5 * 86_400i64..300 * 86_400).prop_map(|s| base_ts() + SignedDuration::from_secs(s))
}

fn zone_of(layer: &Layer, schedule: &Schedule) -> TimeZone {
    TimeZone::get(layer.time_zone.as_deref().unwrap_or(&schedule.time_zone)).expect("zone")
}

/// When shift `k` starts, straight from the definition.
fn oracle_start(layer: &Layer, tz: &TimeZone, k: i64) -> Timestamp {
    let anchor = layer.start.to_datetime(layer.handoff);
    let at = |dt: jiff::civil::DateTime| {
        tz.to_ambiguous_timestamp(dt)
            .compatible()
            .expect("in range")
    };
    match layer.shift {
        ShiftLength::Hours(n) => at(anchor) + SignedDuration::from_hours(k * i64::from(n)),
        ShiftLength::Days(n) => at(anchor.checked_add((k * i64::from(n)).days()).expect("dt")),
        ShiftLength::Weeks(n) => at(anchor
            .checked_add((k * 7 * i64::from(n)).days())
            .expect("dt")),
    }
}

fn oracle_in_window(layer: &Layer, tz: &TimeZone, t: Timestamp) -> bool {
    if layer.restrictions.is_empty() {
        return true;
    }
    let local = tz.to_datetime(t);
    let (day, now) = (local.date(), local.time());
    let yesterday = day.yesterday().expect("date").weekday();
    let on = |r: &Restriction, d: Weekday| r.days.is_empty() || r.days.contains(&d);
    layer.restrictions.iter().any(|r| {
        if r.from < r.to {
            on(r, day.weekday()) && r.from <= now && now < r.to
        } else {
            (on(r, day.weekday()) && now >= r.from) || (on(r, yesterday) && now < r.to)
        }
    })
}

fn oracle_layer(layer: &Layer, schedule: &Schedule, t: Timestamp) -> Option<String> {
    let tz = zone_of(layer, schedule);
    if t < oracle_start(layer, &tz, 0) {
        return None;
    }
    let mut k = 0;
    while oracle_start(layer, &tz, k + 1) <= t {
        k += 1;
    }
    oracle_in_window(layer, &tz, t)
        .then(|| layer.participants[k as usize % layer.participants.len()].clone())
}

fn oracle(schedule: &Schedule, t: Timestamp) -> Option<String> {
    if let Some(o) = schedule
        .overrides
        .iter()
        .rev()
        .find(|o| o.start <= t && t < o.end)
    {
        return Some(o.person.clone());
    }
    schedule
        .layers
        .iter()
        .rev()
        .find_map(|l| oracle_layer(l, schedule, t))
}

fn well_formed(shifts: &[Shift], from: Timestamp, to: Timestamp) -> Result<(), TestCaseError> {
    for s in shifts {
        prop_assert!(from <= s.start && s.start < s.end && s.end <= to, "{s:?}");
    }
    for w in shifts.windows(2) {
        prop_assert!(w[0].end <= w[1].start, "overlap: {w:?}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn on_call_at_agrees_with_the_final_schedule_and_with_the_oracle(
        schedule in schedule(),
        t in instant(),
        before in 1i64..20 * 86_400,
        after in 1i64..20 * 86_400,
    ) {
        let (from, to) = (t - SignedDuration::from_secs(before), t + SignedDuration::from_secs(after));
        let shifts = schedule.shifts(from, to);
        well_formed(&shifts, from, to)?;
        for w in shifts.windows(2) {
            prop_assert!(
                !(w[0].end == w[1].start && w[0].person == w[1].person),
                "unmerged: {w:?}"
            );
        }
        let segment = shifts.iter().find(|s| s.start <= t && t < s.end);
        let now = schedule.on_call_at(t);
        prop_assert_eq!(now.as_ref().map(|s| &s.person), segment.map(|s| &s.person));
        prop_assert_eq!(now.as_ref().map(|s| s.person.clone()), oracle(&schedule, t));
        if let (Some(now), Some(segment)) = (now, segment) {
            // The same stretch, seen through a wider window.
            prop_assert!(now.start <= segment.start && segment.end <= now.end, "{now:?} vs {segment:?}");
        }

        // Gaps are exactly what the shifts leave.
        let mut cursor = from;
        let mut gaps = Vec::new();
        for s in &shifts {
            if s.start > cursor { gaps.push((cursor, s.start)); }
            cursor = s.end;
        }
        if cursor < to { gaps.push((cursor, to)); }
        prop_assert_eq!(schedule.gaps(from, to), gaps);
    }

    #[test]
    fn an_unrestricted_layer_tiles_its_window_and_rotates_in_order(
        layer in layer(false),
        zone in 0..ZONES.len(),
        offset in 0i64..300 * 86_400,
        length in 1i64..40 * 86_400,
    ) {
        let schedule = Schedule {
            id: "s".into(),
            name: "S".into(),
            time_zone: ZONES[zone].to_owned(),
            layers: vec![layer.clone()],
            overrides: vec![],
        };
        let tz = zone_of(&layer, &schedule);
        let origin = oracle_start(&layer, &tz, 0);
        let from = origin + SignedDuration::from_secs(offset);
        let to = from + SignedDuration::from_secs(length);
        let shifts = schedule.layer_shifts(0, from, to);
        prop_assert!(!shifts.is_empty());
        well_formed(&shifts, from, to)?;
        prop_assert_eq!(shifts[0].start, from);
        prop_assert_eq!(shifts[shifts.len() - 1].end, to);
        for w in shifts.windows(2) {
            prop_assert_eq!(w[0].end, w[1].start, "a gap or overlap");
            let i = layer.participants.iter().position(|p| *p == w[0].person).expect("participant");
            prop_assert_eq!(&w[1].person, &layer.participants[(i + 1) % layer.participants.len()]);
            // Day and week shifts hand off at the hand-off time, local, whenever that
            // time exists on the day.
            if !matches!(layer.shift, ShiftLength::Hours(_)) {
                let local = tz.to_datetime(w[1].start);
                let wanted = local.date().to_datetime(layer.handoff);
                if tz.to_ambiguous_timestamp(wanted).unambiguous().is_ok() {
                    prop_assert_eq!(local.time(), layer.handoff, "at {}", w[1].start);
                }
            }
        }
        for s in &shifts {
            prop_assert_eq!(oracle_layer(&layer, &schedule, s.start), Some(s.person.clone()));
        }
    }

    #[test]
    fn handoffs_are_exactly_the_changes_of_person(
        schedule in schedule(),
        t in instant(),
        length in 1i64..20 * 86_400,
    ) {
        let (from, to) = (t, t + SignedDuration::from_secs(length));
        for h in schedule.handoffs(from, to) {
            prop_assert!(from < h.at && h.at <= to);
            prop_assert_ne!(&h.outgoing, &h.incoming);
            prop_assert_eq!(&h.incoming, &oracle(&schedule, h.at));
            prop_assert_eq!(&h.outgoing, &oracle(&schedule, h.at - SignedDuration::from_nanos(1)));
        }
    }
}
