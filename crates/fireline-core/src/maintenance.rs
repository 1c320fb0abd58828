//! Scheduled maintenance as customers see it: where a window with a public notice
//! stands (scheduled, in progress, completed) and which of its three messages to
//! subscribers are due. Pure: the policy's windows and `now` are arguments.
//!
//! A window has three steps, each news only for a while (docs/status-page.md,
//! "Scheduled maintenance"):
//!
//! | step | at | still news until |
//! |---|---|---|
//! | announced | `start - announce` | the start |
//! | started | `start` | the end |
//! | completed | `end` | an hour after the end ([`STALE_AFTER`]) |
//!
//! A step past its "until" is stale and never sent: after a long outage subscribers
//! hear the one step that is still true, not a backlog; a window added to the policy
//! already in progress starts at once, its announcement skipped (the start message says
//! all it would have). A window removed from the policy has no steps left. An
//! announcement lead of zero has no announcement at all.

use crate::policy::{Maintenance, MaintenanceNotice};
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

/// How long after a window ends its completion is still news.
pub const STALE_AFTER: SignedDuration = SignedDuration::from_hours(1);

/// How long a completed window stays on the status page (while it is in the policy),
/// like the page's incident history.
pub const HISTORY: SignedDuration = SignedDuration::from_hours(90 * 24);

/// How far back a worker with no memory of earlier cycles (fresh, or under a changed
/// policy) reports stale steps: older ones were dealt with, or reported, long ago.
pub const CATCH_UP: SignedDuration = SignedDuration::from_hours(24);

/// One of a window's messages to subscribers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// Scheduled, told ahead.
    Announced,
    /// Under way.
    Started,
    /// Over.
    Completed,
}

impl Step {
    /// Every step, in order.
    pub const ALL: [Step; 3] = [Step::Announced, Step::Started, Step::Completed];

    /// Its name in keys and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Announced => "announced",
            Step::Started => "started",
            Step::Completed => "completed",
        }
    }
}

/// Where a public window stands, as the status page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Announced, not started.
    Scheduled,
    /// Between start and end.
    InProgress,
    /// Over (shown for [`HISTORY`]).
    Completed,
}

impl Phase {
    /// Its name on the page and in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Scheduled => "scheduled",
            Phase::InProgress => "in_progress",
            Phase::Completed => "completed",
        }
    }
}

/// A public window's id: a digest of its name, so keys, feed entries and webhooks can
/// tell windows apart without the internal name ever leaving.
pub fn window_id(window: &Maintenance) -> String {
    hex::encode(Sha256::digest(window.name.as_bytes()))[..16].to_owned()
}

/// When `window` is announced: `announce` before its start.
pub fn announce_at(window: &Maintenance, notice: &MaintenanceNotice) -> Timestamp {
    window
        .start
        .checked_sub(notice.announce)
        .unwrap_or(Timestamp::MIN)
}

/// Where a public window stands at `now`: `None` before it is announced, once it has
/// been completed longer than [`HISTORY`], and for internal windows.
pub fn phase(window: &Maintenance, now: Timestamp) -> Option<Phase> {
    let notice = window.notice.as_ref()?;
    if now >= window.end {
        let shown_until = window.end.saturating_add(HISTORY).unwrap_or(Timestamp::MAX);
        return (now < shown_until).then_some(Phase::Completed);
    }
    if now >= window.start {
        return Some(Phase::InProgress);
    }
    (now >= announce_at(window, notice)).then_some(Phase::Scheduled)
}

/// One step of one public window.
#[derive(Debug, Clone)]
pub struct DueStep<'a> {
    /// The window.
    pub window: &'a Maintenance,
    /// What customers are told of it.
    pub notice: &'a MaintenanceNotice,
    /// Which step.
    pub step: Step,
    /// When it falls due.
    pub at: Timestamp,
}

impl DueStep<'_> {
    /// The step's key, `maintenance/{window id}/{start instant}/{step}`: the same on
    /// every replica and after a restart, so each subscriber's message is stored once.
    /// A window whose start moves is a new window (its subscribers hear of it again).
    pub fn key(&self) -> String {
        format!(
            "maintenance/{}/{}/{}",
            window_id(self.window),
            self.window.start.as_microsecond(),
            self.step.as_str()
        )
    }
}

/// The steps of one window with a notice, each with its time and the instant after
/// which it is no longer news; an announcement with no lead has none.
fn steps_of(window: &Maintenance) -> Vec<(DueStep<'_>, Timestamp)> {
    let Some(notice) = window.notice.as_ref() else {
        return Vec::new();
    };
    let step = |step, at| DueStep {
        window,
        notice,
        step,
        at,
    };
    let mut out = Vec::with_capacity(3);
    let announce = announce_at(window, notice);
    if announce < window.start {
        out.push((step(Step::Announced, announce), window.start));
    }
    out.push((step(Step::Started, window.start), window.end));
    let stale = window
        .end
        .saturating_add(STALE_AFTER)
        .unwrap_or(Timestamp::MAX);
    out.push((step(Step::Completed, window.end), stale));
    out
}

/// What a cycle should do about maintenance steps.
#[derive(Debug, Clone, Default)]
pub struct Steps<'a> {
    /// Still news: send to subscribers now.
    pub due: Vec<DueStep<'a>>,
    /// Fell due since the last cycle (or, without one, within [`CATCH_UP`]) but are no
    /// longer news: never sent, to be logged.
    pub stale: Vec<DueStep<'a>>,
}

/// The steps of `windows` for a cycle at `now`. `since` is the last cycle that saw the
/// same policy: steps due by then were handled by it, so only later ones are listed;
/// without it (a fresh worker, a changed policy) every step still news is due, which
/// is how a window added in progress starts at once. Keys make listing a step twice
/// harmless; `since` only saves the work.
pub fn steps(windows: &[Maintenance], since: Option<Timestamp>, now: Timestamp) -> Steps<'_> {
    let mut out = Steps::default();
    let catch_up = now.saturating_sub(CATCH_UP).unwrap_or(Timestamp::MIN);
    for window in windows {
        for (step, until) in steps_of(window) {
            if step.at > now || since.is_some_and(|s| step.at <= s) {
                continue;
            }
            if now < until {
                out.due.push(step);
            } else if step.at > since.unwrap_or(catch_up) {
                out.stale.push(step);
            }
        }
    }
    out
}

/// The first step of `windows` due after `now`, so a worker can wake for it.
pub fn next_step_after(windows: &[Maintenance], now: Timestamp) -> Option<Timestamp> {
    windows
        .iter()
        .flat_map(steps_of)
        .map(|(s, _)| s.at)
        .filter(|at| *at > now)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> Timestamp {
        "2026-03-02T12:00:00Z".parse::<Timestamp>().expect("ts") + SignedDuration::from_hours(hours)
    }

    /// A public window from hour `start` to hour `end`, announced `lead` hours ahead.
    fn window(name: &str, start: i64, end: i64, lead: i64) -> Maintenance {
        Maintenance {
            name: name.into(),
            start: at(start),
            end: at(end),
            matchers: vec![],
            notice: Some(MaintenanceNotice {
                title: "Upgrade".into(),
                description: None,
                components: vec![],
                announce: SignedDuration::from_hours(lead),
            }),
        }
    }

    fn names(steps: &[DueStep<'_>]) -> Vec<String> {
        steps
            .iter()
            .map(|s| format!("{} {}", s.window.name, s.step.as_str()))
            .collect()
    }

    /// Steps due and stale for a worker that last looked at `since` (hours) and looks
    /// again at `now` (hours).
    fn check(windows: &[Maintenance], since: Option<i64>, now: i64, due: &[&str], stale: &[&str]) {
        let got = steps(windows, since.map(at), at(now));
        assert_eq!(names(&got.due), due, "due at {now} since {since:?}");
        assert_eq!(names(&got.stale), stale, "stale at {now} since {since:?}");
    }

    #[test]
    fn each_step_falls_due_at_its_time_and_once_per_worker() {
        let w = [window("db", 10, 12, 24)];
        check(&w, Some(-16), -15, &[], &[]);
        check(&w, Some(-15), -14, &["db announced"], &[]);
        check(&w, Some(-14), -12, &[], &[]);
        check(&w, Some(9), 10, &["db started"], &[]);
        check(&w, Some(10), 11, &[], &[]);
        check(&w, Some(11), 12, &["db completed"], &[]);
        check(&w, Some(12), 13, &[], &[]);
        assert_eq!(next_step_after(&w, at(0)), Some(at(10)));
        assert_eq!(next_step_after(&w, at(-20)), Some(at(-14)));
        assert_eq!(next_step_after(&w, at(12)), None);
    }

    #[test]
    fn a_fresh_worker_sends_only_the_step_that_is_still_news() {
        let w = [window("db", 10, 12, 5)];
        check(&w, None, 0, &[], &[]);
        check(&w, None, 5, &["db announced"], &[]);
        // In progress: the start, not the announcement it supersedes.
        check(&w, None, 11, &["db started"], &["db announced"]);
        // Within an hour of the end: the completion.
        check(
            &w,
            None,
            12,
            &["db completed"],
            &["db announced", "db started"],
        );
        // Long after: nothing; what fell due within a day is reported stale, and
        // what fell due before that is not reported again.
        check(
            &w,
            None,
            14,
            &[],
            &["db announced", "db started", "db completed"],
        );
        check(&w, None, 35, &[], &["db completed"]);
        check(&w, None, 12 + 48, &[], &[]);
    }

    #[test]
    fn steps_missed_over_a_long_outage_are_stale_not_a_backlog() {
        let w = [window("db", 10, 12, 24), window("cache", 30, 31, 1)];
        // Down from hour -20 to hour 29.5: db is over, cache is announced.
        let got = steps(&w, Some(at(-20)), at(29) + SignedDuration::from_mins(30));
        assert_eq!(names(&got.due), ["cache announced"]);
        assert_eq!(
            names(&got.stale),
            ["db announced", "db started", "db completed"]
        );
        // An hour stale: the completion is no longer sent.
        check(&w, Some(11), 13, &[], &["db completed"]);
    }

    #[test]
    fn a_window_added_late_starts_at_once_and_a_removed_one_says_nothing() {
        // Added (a fresh policy: no `since`) half-way through.
        let w = [window("late", 10, 20, 2)];
        check(&w, None, 15, &["late started"], &["late announced"]);
        // Added two days ahead with a week's lead: announced at once.
        let w = [window("soon", 48, 50, 7 * 24)];
        check(&w, None, 0, &["soon announced"], &[]);
        // Removed before it starts: nothing more is due.
        check(&[], None, 48, &[], &[]);
    }

    #[test]
    fn no_lead_means_no_announcement_and_internal_windows_have_no_steps() {
        let w = [window("now", 10, 12, 0)];
        check(&w, None, 9, &[], &[]);
        check(&w, None, 10, &["now started"], &[]);
        let internal = Maintenance {
            notice: None,
            ..window("internal", 10, 12, 24)
        };
        check(std::slice::from_ref(&internal), None, 11, &[], &[]);
        assert_eq!(phase(&internal, at(11)), None);
        assert_eq!(next_step_after(&[internal], at(0)), None);
    }

    #[test]
    fn the_page_shows_a_window_from_its_announcement_until_its_history_ends() {
        let w = window("db", 10, 12, 24);
        assert_eq!(phase(&w, at(-15)), None);
        assert_eq!(phase(&w, at(-14)), Some(Phase::Scheduled));
        assert_eq!(phase(&w, at(10)), Some(Phase::InProgress));
        assert_eq!(phase(&w, at(12)), Some(Phase::Completed));
        assert_eq!(phase(&w, at(12 + 90 * 24 - 1)), Some(Phase::Completed));
        assert_eq!(phase(&w, at(12 + 90 * 24)), None);
    }

    #[test]
    fn keys_name_the_window_by_digest_start_and_step() {
        let w = [window("secret internal name", 10, 12, 24)];
        let got = steps(&w, None, at(10));
        let key = got.due[0].key();
        assert_eq!(
            key,
            format!(
                "maintenance/{}/{}/started",
                window_id(&w[0]),
                at(10).as_microsecond()
            )
        );
        assert!(!key.contains("secret"), "{key}");
        assert_ne!(window_id(&w[0]), window_id(&window("other", 10, 12, 24)));
    }
}
