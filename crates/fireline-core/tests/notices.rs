//! One-shot update deadlines (`[severities.ID.notices]`), pure and on explicit times: a
//! policy, a scenario, and the actions expected as `+offset kind channel due +offset`
//! lines; and the policy file's mistakes, each located at the key.

use fireline_core::plan::{fire_due, pending};
use fireline_core::policy::duration::format_fixed;
use fireline_core::policy::{check, Policy};
use fireline_core::simulate::{simulate, Fired, Scenario, Step, StepAction};
use fireline_core::Channel;
use fireline_core::{EventData, RecordedEvent, Status};
use jiff::{SignedDuration, Timestamp};

/// S1: a customer update within 30 minutes, reminded 10 minutes before. S2: a customer
/// update only if still open 2 hours in, due by 2h30m, reminded at 2h20m. S3: none.
/// No clocks, cadences or pages, so only the deadlines act.
const POLICY: &str = r#"
name = "notices"
[severities.S1]
name = "Critical"
rank = 1
[severities.S1.notices]
customer = { within = "30m", remind_before = "10m" }
[severities.S2]
name = "Major"
rank = 2
[severities.S2.notices]
customer = { after = "2h", within = "30m", remind_before = "10m" }
[severities.S3]
name = "Minor"
rank = 3
"#;

fn policy() -> Policy {
    Policy::from_toml(POLICY).unwrap_or_else(|p| panic!("policy should be valid: {p:#?}"))
}

fn start() -> Timestamp {
    "2026-03-02T14:00:00Z".parse().expect("ts")
}

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

fn after(f: Timestamp) -> String {
    format!("+{}", format_fixed(f.duration_since(start())))
}

fn line(f: &Fired) -> String {
    let detail = match &f.event {
        EventData::NoticeReminder {
            channel, due_by, ..
        }
        | EventData::NoticeOverdue {
            channel, due_by, ..
        } => format!("{channel} due {}", after(*due_by)),
        other => other.kind().to_owned(),
    };
    format!("{} {} {detail}", after(f.at), f.kind())
}

/// What fireline does to an incident declared at `severity` on `start()`, with `steps`
/// (offset, action), until 6 hours in.
fn run(severity: &str, steps: &[(i64, StepAction)]) -> Vec<String> {
    let scenario = Scenario {
        start: start(),
        severity: severity.into(),
        title: "t".into(),
        service: "s".into(),
        category: None,
        flags: Vec::new(),
        until: Some(start() + mins(6 * 60)),
        steps: steps
            .iter()
            .map(|(m, action)| Step {
                after: mins(*m),
                by: None,
                action: action.clone(),
            })
            .collect(),
    };
    simulate(&policy(), &scenario)
        .expect("simulates")
        .iter()
        .map(line)
        .collect()
}

fn update(channel: Channel) -> StepAction {
    StepAction::Update(channel)
}

#[test]
fn a_notice_is_reminded_before_and_overdue_at_its_deadline_once() {
    assert_eq!(
        run("S1", &[]),
        [
            "+20m notice_reminder customer due +30m",
            "+30m notice_overdue customer due +30m",
        ]
    );
    // A severity without notices owes nothing.
    assert_eq!(run("S3", &[]), Vec::<String>::new());
}

#[test]
fn the_first_update_on_the_channel_meets_it() {
    // Before the reminder: nothing at all.
    assert_eq!(
        run("S1", &[(5, update(Channel::Customer))]),
        Vec::<String>::new()
    );
    // After the reminder, before the deadline: no overdue.
    assert_eq!(
        run("S1", &[(25, update(Channel::Customer))]),
        ["+20m notice_reminder customer due +30m"]
    );
    // Exactly at the deadline is in time (a step comes before an action at one instant).
    assert_eq!(
        run("S1", &[(30, update(Channel::Customer))]),
        ["+20m notice_reminder customer due +30m"]
    );
    // Late: the overdue stands, and nothing more follows the late update.
    assert_eq!(
        run("S1", &[(45, update(Channel::Customer))]),
        [
            "+20m notice_reminder customer due +30m",
            "+30m notice_overdue customer due +30m",
        ]
    );
}

#[test]
fn an_update_on_another_channel_does_not_meet_it() {
    assert_eq!(
        run(
            "S1",
            &[
                (5, update(Channel::Internal)),
                (6, update(Channel::StatusPage))
            ]
        ),
        [
            "+20m notice_reminder customer due +30m",
            "+30m notice_overdue customer due +30m",
        ]
    );
}

#[test]
fn resolved_before_the_deadline_nothing_more_is_owed() {
    assert_eq!(
        run("S1", &[(15, StepAction::Resolve)]),
        Vec::<String>::new()
    );
    assert_eq!(
        run("S1", &[(25, StepAction::Resolve)]),
        ["+20m notice_reminder customer due +30m"]
    );
}

#[test]
fn after_owes_the_update_only_if_still_open_then_and_counts_updates_from_then() {
    // Resolved within 2 hours: nothing, not even a reminder.
    assert_eq!(
        run("S2", &[(119, StepAction::Resolve)]),
        Vec::<String>::new()
    );
    // Still open: owed from 2h, due by 2h30m, reminded at 2h20m.
    assert_eq!(
        run("S2", &[(4 * 60, StepAction::Resolve)]),
        [
            "+2h20m notice_reminder customer due +2h30m",
            "+2h30m notice_overdue customer due +2h30m",
        ]
    );
    // A customer update an hour in says nothing about the incident outlasting 2 hours.
    assert_eq!(
        run("S2", &[(60, update(Channel::Customer))]),
        [
            "+2h20m notice_reminder customer due +2h30m",
            "+2h30m notice_overdue customer due +2h30m",
        ]
    );
    // One after 2 hours does.
    assert_eq!(
        run("S2", &[(125, update(Channel::Customer))]),
        Vec::<String>::new()
    );
}

#[test]
fn reopening_owes_the_update_again_from_the_reopening() {
    assert_eq!(
        run(
            "S1",
            &[
                (5, update(Channel::Customer)),
                (10, StepAction::Resolve),
                (60, StepAction::Reopen),
            ]
        ),
        [
            "+1h20m notice_reminder customer due +1h30m",
            "+1h30m notice_overdue customer due +1h30m",
        ]
    );
    // Overdue in the first cycle; in the second an update in time meets the new
    // deadline, and the first cycle's actions do not repeat.
    assert_eq!(
        run(
            "S1",
            &[
                (40, StepAction::Resolve),
                (60, StepAction::Reopen),
                (75, update(Channel::Customer)),
            ]
        ),
        [
            "+20m notice_reminder customer due +30m",
            "+30m notice_overdue customer due +30m",
        ]
    );
}

#[test]
fn the_deadline_follows_the_current_severity() {
    let to = |s: &str| StepAction::Severity(s.into());
    // Raised to S1 ten minutes in: S1's deadline, from declaration.
    assert_eq!(
        run("S3", &[(10, to("S1"))]),
        [
            "+20m notice_reminder customer due +30m",
            "+30m notice_overdue customer due +30m",
        ]
    );
    // Raised at 25m: the reminder comes at the raise.
    assert_eq!(
        run("S3", &[(25, to("S1"))]),
        [
            "+25m notice_reminder customer due +30m",
            "+30m notice_overdue customer due +30m",
        ]
    );
    // Raised an hour in: the deadline has passed; overdue at the raise, no reminder.
    assert_eq!(
        run("S3", &[(60, to("S1"))]),
        ["+1h notice_overdue customer due +30m"]
    );
    // Lowered to S2 before S1's deadline: S2's applies instead.
    assert_eq!(
        run("S1", &[(10, to("S2"))]),
        [
            "+2h20m notice_reminder customer due +2h30m",
            "+2h30m notice_overdue customer due +2h30m",
        ]
    );
    // Lowered after S1's reminder: the channel was reminded once this cycle, so S2's
    // deadline comes without another reminder.
    assert_eq!(
        run("S1", &[(25, to("S2"))]),
        [
            "+20m notice_reminder customer due +30m",
            "+2h30m notice_overdue customer due +2h30m",
        ]
    );
    // Lowered to a severity with no notices: nothing is owed.
    assert_eq!(run("S1", &[(10, to("S3"))]), Vec::<String>::new());
}

fn declared_log() -> Vec<RecordedEvent> {
    vec![RecordedEvent {
        id: 1,
        seq: 1,
        at: start(),
        actor: "alice".into(),
        data: EventData::Declared {
            title: "t".into(),
            severity: "S1".into(),
            service: "s".into(),
            summary: None,
            category: None,
            flags: Vec::new(),
            policy: None,
        },
    }]
}

fn append(log: &mut Vec<RecordedEvent>, at: Timestamp, actor: &str, data: EventData) {
    let seq = log.len() as u64 + 1;
    log.push(RecordedEvent {
        id: seq as i64,
        seq,
        at,
        actor: actor.into(),
        data,
    });
}

#[test]
fn each_action_fires_once_however_often_the_engine_looks() {
    let p = policy();
    let mut log = declared_log();
    // Nothing yet at 19 minutes; the reminder is next.
    let early = fire_due(&p, &log, start() + mins(19));
    assert!(early.events.is_empty(), "{early:?}");
    assert_eq!(early.next_at, Some(start() + mins(20)));
    // An engine that was down until 31 minutes fires both at once, reminder first.
    let late = fire_due(&p, &log, start() + mins(31));
    let kinds: Vec<&str> = late.events.iter().map(|e| e.data.kind()).collect();
    assert_eq!(kinds, ["notice_reminder", "notice_overdue"]);
    assert_eq!(late.earliest_due, Some(start() + mins(20)));
    for e in late.events {
        append(&mut log, e.at, &e.actor, e.data);
    }
    for now in [31, 60, 24 * 60] {
        let again = fire_due(&p, &log, start() + mins(now));
        assert!(again.events.is_empty(), "+{now}m: {again:?}");
    }
    assert!(pending(&p, &log).is_empty(), "{:?}", pending(&p, &log));
}

#[test]
fn an_update_meets_it_in_the_plan_and_a_resolution_drops_it() {
    let p = policy();
    let mut log = declared_log();
    let kinds = |log: &[RecordedEvent]| -> Vec<&'static str> {
        pending(&p, log).iter().map(|a| a.event.kind()).collect()
    };
    assert_eq!(kinds(&log), ["notice_reminder", "notice_overdue"]);
    append(
        &mut log,
        start() + mins(3),
        "alice",
        EventData::UpdatePosted {
            channel: Channel::Internal,
            text: "looking".into(),
        },
    );
    assert_eq!(kinds(&log), ["notice_reminder", "notice_overdue"]);
    append(
        &mut log,
        start() + mins(4),
        "alice",
        EventData::UpdatePosted {
            channel: Channel::Customer,
            text: "we are on it".into(),
        },
    );
    assert!(kinds(&log).is_empty());
    let mut resolved = declared_log();
    append(
        &mut resolved,
        start() + mins(4),
        "alice",
        EventData::StatusChanged {
            from: Status::Investigating,
            to: Status::Monitoring,
            message: None,
        },
    );
    assert_eq!(kinds(&resolved), ["notice_reminder", "notice_overdue"]);
    append(
        &mut resolved,
        start() + mins(5),
        "alice",
        EventData::Resolved { summary: None },
    );
    assert!(kinds(&resolved).is_empty());
}

#[test]
fn the_short_form_is_a_deadline_from_declaration_without_reminder() {
    let p = Policy::from_toml(
        r#"
name = "short"
[severities.S1]
name = "Critical"
rank = 1
[severities.S1.notices]
status_page = "15m"
internal = { within = "1h", remind_before = "0m" }
"#,
    )
    .unwrap_or_else(|e| panic!("valid: {e:#?}"));
    let rule = p.severity("S1").expect("S1");
    let status_page = rule.notice(Channel::StatusPage).expect("status page");
    assert_eq!(status_page.within.to_string(), "15m");
    assert!(status_page.after.approx().is_zero());
    assert_eq!(status_page.remind_before, None);
    assert_eq!(
        rule.notice(Channel::Internal)
            .expect("internal")
            .remind_before,
        None,
        "0m means no reminder"
    );
    assert!(rule.notice(Channel::Customer).is_none());
}

#[test]
fn notice_mistakes_are_located_at_the_key() {
    let located = |notices: &str| -> Vec<String> {
        let text = format!(
            "name = \"x\"\n[severities.SEV1]\nname = \"Critical\"\nrank = 1\n[severities.SEV1.notices]\n{notices}\n"
        );
        let problems = check(&text);
        assert!(
            problems.iter().all(|p| !p.hint.is_empty()),
            "every problem has a hint: {problems:#?}"
        );
        problems
            .iter()
            .map(|p| format!("{}: {}", p.at, p.message))
            .collect()
    };
    for (notices, expected) in [
        (
            r#"customer = { within = "30 minutes" }"#,
            "severities.SEV1.notices.customer.within: `30 minutes` is not a duration",
        ),
        (
            r#"customer = { within = "0m" }"#,
            "severities.SEV1.notices.customer.within: a notice deadline of zero",
        ),
        (
            r#"customer = { after = "2h" }"#,
            "severities.SEV1.notices.customer.within: missing",
        ),
        (
            r#"customer = { after = "soon", within = "30m" }"#,
            "severities.SEV1.notices.customer.after: `soon` is not a duration",
        ),
        (
            r#"customer = { within = "30m", remind_before = "30m" }"#,
            "severities.SEV1.notices.customer.remind_before: the reminder would come before the update is even owed",
        ),
        (
            r#"customer = { within = "3bd", remind_before = "1bd" }"#,
            "severities.SEV1.notices.customer.remind_before: business days cannot be counted back",
        ),
        (
            r#"email = { within = "30m" }"#,
            "severities.SEV1.notices.email: unknown channel",
        ),
        (
            r#"customer = { witin = "30m" }"#,
            "severities.SEV1.notices.customer: unknown field `witin`",
        ),
        (
            "customer = 30",
            "severities.SEV1.notices.customer: expected a duration such as \"30m\" or a table, found integer",
        ),
    ] {
        let found = located(notices);
        assert!(
            found.iter().any(|l| l.starts_with(expected)),
            "{notices}: expected {expected:?} in {found:#?}"
        );
    }
    assert_eq!(
        located(r#"customer = { after = "0m", within = "30m", remind_before = "29m" }"#),
        Vec::<String>::new()
    );
}
