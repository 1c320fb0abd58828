//! Will a page wake whoever is on call? The people on a schedule in the coming days
//! without a contact that can wake them at night (a push device, SMS, a call, ntfy,
//! Pushover) — proven by a confirmed test page where that is known — and their shifts.

use super::verify::{is_verified, VerifiedContact};
use super::{ContactKind, Roster};
use jiff::Timestamp;
use serde::Serialize;
use std::collections::BTreeSet;

/// One shift taken by someone a page may not wake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShiftAtRisk {
    /// The schedule's id.
    pub schedule: String,
    /// From (inclusive).
    pub start: Timestamp,
    /// Until (exclusive).
    pub end: Timestamp,
}

/// Someone on call soon whom no verified contact can wake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotReady {
    /// The person's roster id.
    pub person: String,
    /// Their name.
    pub name: String,
    /// Contacts that could wake them but were never confirmed by a test page (empty:
    /// nothing that can wake them at all).
    pub unverified: Vec<ContactKind>,
    /// Their shifts in the window, in order.
    pub shifts: Vec<ShiftAtRisk>,
}

impl NotReady {
    /// What is missing, in words.
    pub fn problem(&self) -> String {
        if self.unverified.is_empty() {
            "has no contact that can wake them (push, SMS, voice call, ntfy or Pushover)".to_owned()
        } else {
            let kinds: Vec<&str> = self.unverified.iter().map(|k| k.as_str()).collect();
            format!(
                "has not confirmed a test page on {} (fireline person test {})",
                kinds.join(", "),
                self.person
            )
        }
    }
}

/// The people on call in `[from, to)` on any schedule whom nothing can wake, with their
/// shifts. `verified` is what test pages confirmed (`None` where it is not known, as in
/// an offline check: then any contact that can wake counts); `with_devices` are the
/// people with a device subscribed to Web Push, which counts as proven.
pub fn not_ready(
    roster: &Roster,
    from: Timestamp,
    to: Timestamp,
    verified: Option<&[VerifiedContact]>,
    with_devices: &BTreeSet<String>,
) -> Vec<NotReady> {
    let mut out: Vec<NotReady> = Vec::new();
    for (schedule_id, schedule) in &roster.schedules {
        for shift in schedule.shifts(from, to) {
            let Some(person) = roster.people.get(&shift.person) else {
                continue;
            };
            let waking: Vec<_> = person.contacts.iter().filter(|c| c.kind.wakes()).collect();
            let proven = with_devices.contains(&person.id)
                || waking.iter().any(|c| match verified {
                    Some(verified) => is_verified(verified, &person.id, c),
                    None => true,
                });
            if proven {
                continue;
            }
            let at_risk = ShiftAtRisk {
                schedule: schedule_id.clone(),
                start: shift.start,
                end: shift.end,
            };
            match out.iter_mut().find(|n| n.person == person.id) {
                Some(entry) => entry.shifts.push(at_risk),
                None => {
                    let mut unverified: Vec<ContactKind> = waking.iter().map(|c| c.kind).collect();
                    unverified.sort_unstable();
                    unverified.dedup();
                    out.push(NotReady {
                        person: person.id.clone(),
                        name: person.name.clone(),
                        unverified,
                        shifts: vec![at_risk],
                    });
                }
            }
        }
    }
    for entry in &mut out {
        entry.shifts.sort_by_key(|s| (s.start, s.schedule.clone()));
    }
    out.sort_by_key(|n| (n.shifts.first().map(|s| s.start), n.person.clone()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oncall::verify::address_digest;
    use jiff::SignedDuration;

    const ROSTER: &str = r#"
[people.alice]
name = "Alice"
contacts = [{ kind = "email", address = "alice@example.com" }]
[people.bob]
name = "Bob"
contacts = [{ kind = "sms", address = "+15551230002" }]
[people.carol]
name = "Carol"
contacts = [{ kind = "email", address = "carol@example.com" }]

[schedules.primary]
name = "Primary"
time_zone = "UTC"
[[schedules.primary.layers]]
name = "daily"
participants = ["alice", "bob"]
shift = "1d"
start = "2026-03-02"
"#;

    fn t0() -> Timestamp {
        "2026-03-02T00:00:00Z".parse().expect("t")
    }

    fn check(verified: Option<&[VerifiedContact]>, devices: &[&str]) -> Vec<NotReady> {
        let roster = Roster::from_toml_str(ROSTER).expect("roster");
        let devices = devices.iter().map(|d| (*d).to_owned()).collect();
        not_ready(
            &roster,
            t0(),
            t0() + SignedDuration::from_hours(24 * 4),
            verified,
            &devices,
        )
    }

    #[test]
    fn whoever_nothing_can_wake_is_listed_with_their_shifts() {
        let offline = check(None, &[]);
        assert_eq!(offline.len(), 1, "{offline:?}");
        let alice = &offline[0];
        assert_eq!(
            (alice.person.as_str(), alice.unverified.len()),
            ("alice", 0)
        );
        let starts: Vec<String> = alice.shifts.iter().map(|s| s.start.to_string()).collect();
        assert_eq!(starts, ["2026-03-02T00:00:00Z", "2026-03-04T00:00:00Z"]);
        assert!(alice.problem().contains("no contact that can wake them"));
        // Carol is on no schedule: nobody relies on waking her.
        assert!(offline.iter().all(|n| n.person != "carol"));
    }

    #[test]
    fn an_unconfirmed_phone_is_not_enough_where_tests_are_known() {
        let known = check(Some(&[]), &[]);
        let people: Vec<&str> = known.iter().map(|n| n.person.as_str()).collect();
        assert_eq!(people, ["alice", "bob"]);
        assert_eq!(known[1].unverified, [ContactKind::Sms]);
        assert!(
            known[1].problem().contains("fireline person test bob"),
            "{}",
            known[1].problem()
        );
        let confirmed = [VerifiedContact {
            person: "bob".into(),
            kind: ContactKind::Sms,
            address_digest: address_digest("+15551230002"),
            verified_at: t0(),
        }];
        let people: Vec<String> = check(Some(&confirmed), &["alice"])
            .into_iter()
            .map(|n| n.person)
            .collect();
        assert!(
            people.is_empty(),
            "bob confirmed, alice has a device: {people:?}"
        );
    }
}
