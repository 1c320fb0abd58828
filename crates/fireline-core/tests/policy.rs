//! Policy checking and planning, data-driven: a policy, a scenario, and the actions
//! expected as `+offset kind detail` lines.

use fireline_core::policy::duration::format_fixed;
use fireline_core::policy::{check, Policy};
use fireline_core::simulate::{simulate, Fired, Scenario, Step, StepAction};
use fireline_core::{Channel, Stage};
use fireline_core::{EventData, Status};
use jiff::{SignedDuration, Timestamp};

const BASE: &str = r#"
name = "test"
[calendar]
time_zone = "UTC"
[severities.S1]
name = "Critical"
rank = 1
major = true
page = ["schedule:primary"]
monitoring = "30m"
[severities.S1.clocks]
acknowledge = "5m"
first_response = { within = "10m", from = "acknowledged" }
mitigate = "1h"
resolve = "2h"
[severities.S1.updates]
internal = "20m"
[severities.S2]
name = "Major"
rank = 2
page = ["schedule:secondary"]
[severities.S2.clocks]
acknowledge = "30m"
"#;

fn policy(extra: &str) -> Policy {
    let text = format!("{BASE}{extra}");
    Policy::from_toml(&text).unwrap_or_else(|p| panic!("policy should be valid: {p:#?}"))
}

fn start() -> Timestamp {
    "2026-03-02T14:00:00Z".parse().expect("ts") // a Monday
}

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

fn step(after: SignedDuration, action: StepAction) -> Step {
    Step {
        after,
        by: None,
        action,
    }
}

fn line(f: &Fired) -> String {
    let offset = format!("+{}", format_fixed(f.at.duration_since(start())));
    let detail = match &f.event {
        EventData::Paged { targets, .. } => targets.join(","),
        EventData::Escalated { level, reason, .. } => format!("{level} ({reason})"),
        EventData::SlaBreached { clock, .. } => clock.to_string(),
        EventData::UpdateDue { channel, .. } => channel.to_string(),
        EventData::CustomerNoticeDue {
            required, due_by, ..
        } => format!(
            "{required} {}",
            format_fixed(due_by.duration_since(start()))
        ),
        EventData::PostmortemDue { stage, .. } => stage.to_string(),
        EventData::PostmortemReminder { stage, due_by, .. } => format!(
            "{stage} due +{}",
            format_fixed(due_by.duration_since(start()))
        ),
        EventData::FollowupDue { label, .. } => label.clone(),
        _ => String::new(),
    };
    format!("{offset} {} {detail}", f.kind())
        .trim_end()
        .to_owned()
}

fn run(
    policy: &Policy,
    severity: &str,
    category: Option<&str>,
    flags: &[&str],
    until: SignedDuration,
    steps: Vec<Step>,
) -> Vec<String> {
    let scenario = Scenario {
        start: start(),
        severity: severity.into(),
        title: "t".into(),
        service: "s".into(),
        category: category.map(str::to_owned),
        flags: flags.iter().map(|f| f.to_string()).collect(),
        until: Some(start() + until),
        steps,
    };
    simulate(policy, &scenario)
        .expect("simulates")
        .iter()
        .map(line)
        .collect()
}

#[test]
fn clocks_breach_once_and_met_clocks_stay_quiet() {
    let p = policy("");
    let out = run(
        &p,
        "S1",
        None,
        &[],
        mins(70),
        vec![
            step(mins(3), StepAction::Acknowledge),
            step(mins(8), StepAction::Note("looking".into())),
            step(mins(19), StepAction::Update(Channel::Internal)),
        ],
    );
    assert_eq!(
        out,
        vec![
            "+0m page schedule:primary",
            "+39m update_due internal",
            "+59m update_due internal",
            "+1h sla_breach mitigate"
        ]
    );
}

#[test]
fn first_response_runs_from_acknowledgement() {
    let p = policy("");
    let out = run(
        &p,
        "S1",
        None,
        &[],
        mins(30),
        vec![step(mins(2), StepAction::Acknowledge)],
    );
    assert!(
        out.contains(&"+12m sla_breach first_response".to_owned()),
        "{out:?}"
    );
    assert!(!out.iter().any(|l| l.contains("acknowledge")), "{out:?}");
}

#[test]
fn raising_severity_pages_the_new_level_and_replans_clocks() {
    let p = policy("");
    let out = run(
        &p,
        "S2",
        None,
        &[],
        mins(45),
        vec![step(mins(10), StepAction::Severity("S1".into()))],
    );
    // S2's ack clock was 30m; S1's is 5m from declaration, so it is already breached:
    // it fires at once, ordered by when it was due (+5m) before the page (+10m).
    assert_eq!(
        out[..3],
        [
            "+0m page schedule:secondary",
            "+10m sla_breach acknowledge",
            "+10m page schedule:primary"
        ]
    );
    let lowered = run(
        &p,
        "S1",
        None,
        &[],
        mins(20),
        vec![step(mins(1), StepAction::Severity("S2".into()))],
    );
    assert_eq!(
        lowered,
        vec!["+0m page schedule:primary"],
        "lowering pages nobody; S2's 30m ack clock is not due yet"
    );
}

#[test]
fn escalation_triggers_each_fire_once_at_the_earliest_condition() {
    let p = policy(
        r#"
[categories.database-crash]
rto = "1h"
[[escalation]]
name = "L1"
targets = ["schedule:secondary"]
triggers = [{ when = "not_acknowledged", after = "10m" }]
[[escalation]]
name = "L2"
targets = ["person:lead"]
triggers = [{ when = "no_progress", after = "30m" }, { when = "open_longer_than", after = "90m" }]
[[escalation]]
name = "L3"
targets = ["person:vp"]
triggers = [{ when = "rto_fraction", fraction = 0.8 }]
[[escalation]]
name = "L4"
targets = ["team:security"]
triggers = [{ when = "flag", flag = "security" }, { when = "declared", severities = ["S2"] }]
[[escalation]]
name = "L5"
targets = ["person:cto"]
triggers = [{ when = "manual" }]
"#,
    );
    let escalations = |out: Vec<String>| {
        out.into_iter()
            .filter(|l| l.contains("escalate"))
            .collect::<Vec<_>>()
    };
    let out = escalations(run(
        &p,
        "S1",
        Some("database-crash"),
        &[],
        mins(100),
        vec![
            step(mins(12), StepAction::Acknowledge),
            step(mins(20), StepAction::Status(Status::Identified)),
        ],
    ));
    assert_eq!(
        out,
        vec![
            "+10m escalate 1 (not acknowledged within 10m)",
            "+48m escalate 3 (80% of the recovery-time objective elapsed)",
            "+50m escalate 2 (no status progress within 30m)",
        ]
    );
    let flagged = escalations(run(
        &p,
        "S2",
        None,
        &["security"],
        mins(5),
        vec![step(mins(1), StepAction::Acknowledge)],
    ));
    // Both L4 triggers hold at declaration: the first listed is the reason given.
    assert_eq!(flagged, vec!["+0m escalate 4 (flagged security)"]);
    let no_category = escalations(run(
        &p,
        "S1",
        None,
        &[],
        mins(60),
        vec![
            step(mins(1), StepAction::Acknowledge),
            step(mins(25), StepAction::Status(Status::Monitoring)),
        ],
    ));
    assert!(
        no_category.is_empty(),
        "no RTO without a category; monitoring is not stalled: {no_category:?}"
    );
}

#[test]
fn monitoring_is_verified_only_if_it_holds() {
    let p = policy("");
    let held = run(
        &p,
        "S1",
        None,
        &[],
        mins(80),
        vec![
            step(mins(1), StepAction::Acknowledge),
            step(mins(2), StepAction::Note("x".into())),
            step(mins(10), StepAction::Status(Status::Monitoring)),
            step(mins(50), StepAction::Resolve),
        ],
    );
    assert!(
        held.contains(&"+40m monitoring_verified".to_owned()),
        "{held:?}"
    );
    let relapsed = run(
        &p,
        "S1",
        None,
        &[],
        mins(80),
        vec![
            step(mins(1), StepAction::Acknowledge),
            step(mins(10), StepAction::Status(Status::Monitoring)),
            step(mins(25), StepAction::Status(Status::Investigating)),
        ],
    );
    assert!(
        !relapsed.iter().any(|l| l.contains("monitoring_verified")),
        "{relapsed:?}"
    );
}

#[test]
fn resolution_starts_notices_and_post_incident_deadlines_in_business_days() {
    let p = policy(
        r#"
[[customer_notice]]
severities = ["S1"]
open_longer_than = "30m"
required = true
send_within = "24h"
[post_incident]
draft = "24h"
review = "3bd"
publish = "5bd"
review_meeting = "48h"
followups = [{ label = "1 week", after = "7d" }]
"#,
    );
    let out = run(
        &p,
        "S1",
        None,
        &[],
        SignedDuration::from_hours(24 * 10),
        vec![
            step(mins(1), StepAction::Acknowledge),
            step(mins(2), StepAction::Note("x".into())),
            step(mins(40), StepAction::Status(Status::Monitoring)),
            step(mins(80), StepAction::Resolve),
            step(
                SignedDuration::from_hours(20),
                StepAction::Postmortem(Stage::Draft),
            ),
        ],
    );
    let after: Vec<&str> = out
        .iter()
        .map(String::as_str)
        .skip_while(|l| !l.contains("customer"))
        .collect();
    assert_eq!(
        after,
        vec![
            "+1h20m customer_notice_due true 1d1h20m",
            // Reminders 4 hours (the default) before each stage not done by then; the
            // draft was done at +20h, before its reminder.
            "+1d21h20m postmortem_reminder review_meeting due +2d1h20m",
            "+2d1h20m postmortem_due review_meeting",
            // Monday 15:20 + 3 business days = Thursday; + 5 = the next Monday.
            "+2d21h20m postmortem_reminder review due +3d1h20m",
            "+3d1h20m postmortem_due review",
            "+6d21h20m postmortem_reminder publish due +7d1h20m",
            "+7d1h20m followup_due 1 week",
            "+7d1h20m postmortem_due publish",
        ]
    );
    let short = run(
        &p,
        "S1",
        None,
        &[],
        mins(30),
        vec![
            step(mins(1), StepAction::Acknowledge),
            step(mins(20), StepAction::Resolve),
        ],
    );
    assert!(
        !short.iter().any(|l| l.contains("customer")),
        "open 20m, not over 30m: {short:?}"
    );
}

#[test]
fn reopening_re_arms_the_policy() {
    let p = policy("");
    let out = run(
        &p,
        "S1",
        None,
        &[],
        mins(200),
        vec![
            step(mins(1), StepAction::Acknowledge),
            step(mins(2), StepAction::Note("x".into())),
            step(mins(10), StepAction::Update(Channel::Internal)),
            step(mins(20), StepAction::Resolve),
            step(mins(100), StepAction::Reopen),
            step(mins(101), StepAction::Acknowledge),
            step(mins(102), StepAction::Resolve),
        ],
    );
    assert_eq!(
        out,
        vec!["+0m page schedule:primary", "+1h40m page schedule:primary"]
    );
}

#[test]
fn optional_cadences_do_not_remind() {
    let p = Policy::from_toml(&BASE.replace(
        "internal = \"20m\"",
        "internal = { every = \"20m\", required = false }",
    ))
    .expect("valid");
    let out = run(
        &p,
        "S1",
        None,
        &[],
        mins(50),
        vec![
            step(mins(1), StepAction::Acknowledge),
            step(mins(2), StepAction::Note("x".into())),
        ],
    );
    assert!(!out.iter().any(|l| l.contains("update_due")), "{out:?}");
}

#[test]
fn scenario_steps_that_the_state_refuses_are_errors_naming_the_step() {
    let p = policy("");
    let scenario = Scenario {
        start: start(),
        severity: "S1".into(),
        title: "t".into(),
        service: "s".into(),
        category: None,
        flags: vec![],
        until: None,
        steps: vec![
            step(mins(1), StepAction::Acknowledge),
            step(mins(2), StepAction::Acknowledge),
        ],
    };
    let err = simulate(&p, &scenario)
        .expect_err("second ack refused")
        .to_string();
    assert!(
        err.contains("step 1 (+2m)") && err.contains("already acknowledged"),
        "{err}"
    );
}

/// `check` reports every problem, each located and with a hint.
#[test]
fn check_locates_every_problem() {
    let text = r#"
name = "broken"
[calendar]
time_zone = "Mars/Olympus"
[severities.S1]
name = "one"
rank = 1
page = ["pager"]
[severities.S1.clocks]
acknowledge = "-5m"
mitigate = "3h"
resolve = "1h"
teatime = "5m"
[severities.S1.updates]
internal = "0m"
[severities.S2]
name = "two"
rank = 1
[[escalation]]
name = "nobody"
triggers = [{ when = "not_acknowledged", after = "5m", severities = ["S9"] }]
[[escalation]]
name = "never"
targets = ["person:x"]
[[escalation]]
name = "rto only"
targets = ["person:y"]
triggers = [{ when = "rto_fraction", fraction = 0.8 }]
[[escalation]]
name = "bad fraction"
targets = ["person:z"]
triggers = [{ when = "rto_fraction", fraction = 1.5 }, { when = "sometimes" }]
[post_incident]
review = "1h"
draft = "2h"
"#;
    let problems = check(text);
    let located: Vec<String> = problems
        .iter()
        .map(|p| format!("{}: {}", p.at, p.message))
        .collect();
    for expected in [
        "calendar.time_zone: unknown time zone `Mars/Olympus`",
        "severities.S1.page[0]: target `pager` needs a kind",
        "severities.S1.clocks.acknowledge: `-5m` is not a duration: durations cannot be negative",
        "severities.S1.clocks.mitigate: the mitigate clock (3h) is longer than the resolve target (1h)",
        "severities.S1.clocks.teatime: unknown clock `teatime`",
        "severities.S1.updates.internal: an update cadence of zero",
        "severities.S2.rank: rank 1 is also used by S1",
        "escalation[0].targets: level 1 (nobody) reaches nobody",
        "escalation[0].triggers[0].severities[0]: unknown severity `S9`",
        "escalation[1].triggers: level 2 (never) is unreachable: it has no triggers",
        "escalation[2].triggers: level 3 (rto only) is unreachable: it only triggers on RTO, and no category has an rto",
        "escalation[3].triggers[0].fraction: fraction 1.5 is not in (0, 1]",
        "escalation[3].triggers[1].when: unknown trigger `sometimes`",
        "post_incident.review: the review is due before the draft",
    ] {
        assert!(located.iter().any(|l| l.starts_with(expected)), "missing {expected:?} in {located:#?}");
    }
    assert!(
        problems.iter().all(|p| !p.hint.is_empty()),
        "every problem has a hint"
    );
    let syntax = check("name = \"x\"\n[severities.S1\nname = 1\n");
    assert_eq!(syntax.len(), 1);
    assert!(syntax[0].at.starts_with("line 2"), "{syntax:?}");
    assert!(
        check(fireline_core::policy::BUILTIN).is_empty(),
        "the built-in policy is clean"
    );
}

/// Regression: severity-limited delay triggers fire when the incident is raised into a
/// listed severity after the delay (if the condition still holds), never on a downgrade.
#[test]
fn severity_limited_triggers_fire_on_a_late_raise_but_not_a_downgrade() {
    let p = policy(
        r#"
[[escalation]]
name = "S1 unacknowledged"
targets = ["person:lead"]
triggers = [{ when = "not_acknowledged", after = "10m", severities = ["S1"] }]
[[escalation]]
name = "S2 open long"
targets = ["person:manager"]
triggers = [{ when = "open_longer_than", after = "15m", severities = ["S2"] }]
"#,
    );
    let escalations = |out: Vec<String>| {
        out.into_iter()
            .filter(|l| l.contains("escalate"))
            .collect::<Vec<_>>()
    };
    let raised = escalations(run(
        &p,
        "S2",
        None,
        &[],
        mins(40),
        vec![step(mins(12), StepAction::Severity("S1".into()))],
    ));
    assert_eq!(
        raised,
        vec!["+12m escalate 1 (not acknowledged within 10m)"],
        "S2 was open 15m only at +15m, when it was S1 already"
    );
    let acked_first = escalations(run(
        &p,
        "S2",
        None,
        &[],
        mins(40),
        vec![
            step(mins(5), StepAction::Acknowledge),
            step(mins(12), StepAction::Severity("S1".into())),
        ],
    ));
    assert!(
        acked_first.is_empty(),
        "acknowledged before the raise: {acked_first:?}"
    );
    let lowered = escalations(run(
        &p,
        "S1",
        None,
        &[],
        mins(40),
        vec![
            step(mins(1), StepAction::Acknowledge),
            step(mins(20), StepAction::Severity("S2".into())),
        ],
    ));
    assert!(
        lowered.is_empty(),
        "a downgrade into S2 after 15m escalates nothing: {lowered:?}"
    );
}

#[test]
fn the_last_level_repeats_until_acknowledged_then_escalation_is_exhausted() {
    let p = policy(
        r#"
[[escalation]]
name = "Secondary"
targets = ["schedule:secondary"]
triggers = [{ when = "not_acknowledged", after = "10m" }]
[[escalation]]
name = "Lead"
targets = ["person:lead"]
triggers = [{ when = "not_acknowledged", after = "20m" }]
repeat = { times = 2, every = "15m" }
"#,
    );
    let unanswered = run(&p, "S2", None, &[], mins(120), vec![]);
    assert_eq!(
        unanswered,
        vec![
            "+0m page schedule:secondary",
            "+10m escalate 1 (not acknowledged within 10m)",
            "+20m escalate 2 (not acknowledged within 20m)",
            "+30m sla_breach acknowledge",
            "+35m escalate 2 (repeat 1 of 2: nobody has acknowledged)",
            "+50m escalate 2 (repeat 2 of 2: nobody has acknowledged)",
            "+1h5m escalation_exhausted",
        ]
    );
    // An acknowledgement between repeats stops the rest.
    let answered = run(
        &p,
        "S2",
        None,
        &[],
        mins(120),
        vec![step(mins(40), StepAction::Acknowledge)],
    );
    assert_eq!(
        answered.last().map(String::as_str),
        Some("+35m escalate 2 (repeat 1 of 2: nobody has acknowledged)")
    );
}

#[test]
fn only_the_last_level_may_repeat() {
    let text = format!(
        "{BASE}{}",
        r#"
[[escalation]]
name = "Secondary"
targets = ["schedule:secondary"]
triggers = [{ when = "not_acknowledged", after = "10m" }]
repeat = { times = 2, every = "15m" }
[[escalation]]
name = "Lead"
targets = ["person:lead"]
triggers = [{ when = "manual" }]
repeat = { times = 0, every = "0m" }
"#
    );
    let problems = Policy::from_toml(&text).expect_err("refused");
    let at: Vec<&str> = problems.iter().map(|p| p.at.as_str()).collect();
    assert!(at.contains(&"escalation[0].repeat"), "{problems:#?}");
    assert!(at.contains(&"escalation[1].repeat.every"), "{problems:#?}");
}

#[test]
fn postmortem_reminders_come_before_each_deadline_once_unless_the_stage_is_done() {
    let p = policy(
        r#"
[post_incident]
draft = "24h"
review = "3bd"
remind_before = "6h"
"#,
    );
    let steps = |draft_done: Option<i64>| {
        let mut steps = vec![
            step(mins(1), StepAction::Acknowledge),
            step(mins(60), StepAction::Resolve),
        ];
        if let Some(h) = draft_done {
            steps.push(step(
                SignedDuration::from_hours(h),
                StepAction::Postmortem(Stage::Draft),
            ));
        }
        steps
    };
    let pm = |out: Vec<String>| -> Vec<String> {
        out.into_iter()
            .filter(|l| l.contains("postmortem"))
            .collect()
    };
    // Resolved Monday 15:00: draft due Tuesday 15:00, review Thursday 15:00.
    assert_eq!(
        pm(run(
            &p,
            "S1",
            None,
            &[],
            SignedDuration::from_hours(24 * 5),
            steps(None)
        )),
        vec![
            "+19h postmortem_reminder draft due +1d1h",
            "+1d1h postmortem_due draft",
            "+2d19h postmortem_reminder review due +3d1h",
            "+3d1h postmortem_due review",
        ]
    );
    // Draft done before its reminder: neither reminder nor breach for it.
    assert_eq!(
        pm(run(
            &p,
            "S1",
            None,
            &[],
            SignedDuration::from_hours(24 * 5),
            steps(Some(10))
        )),
        vec![
            "+2d19h postmortem_reminder review due +3d1h",
            "+3d1h postmortem_due review",
        ]
    );
    // Done between reminder and deadline: the reminder came, the breach does not.
    assert_eq!(
        pm(run(
            &p,
            "S1",
            None,
            &[],
            SignedDuration::from_hours(24 * 5),
            steps(Some(22))
        ))[..1],
        ["+19h postmortem_reminder draft due +1d1h".to_owned()]
    );

    // The default is 4h; "0m" turns reminders off.
    let default = policy("[post_incident]\ndraft = \"24h\"\n");
    assert!(pm(run(
        &default,
        "S1",
        None,
        &[],
        SignedDuration::from_hours(48),
        steps(None)
    ))
    .contains(&"+21h postmortem_reminder draft due +1d1h".to_owned()));
    let off = policy("[post_incident]\ndraft = \"24h\"\nremind_before = \"0m\"\n");
    assert_eq!(
        pm(run(
            &off,
            "S1",
            None,
            &[],
            SignedDuration::from_hours(48),
            steps(None)
        )),
        vec!["+1d1h postmortem_due draft"]
    );
}

#[test]
fn postmortem_template_and_reminder_keys_are_checked() {
    let problems = |extra: &str| -> Vec<String> {
        match Policy::from_toml(&format!("{BASE}{extra}")) {
            Ok(_) => Vec::new(),
            Err(problems) => problems.iter().map(|p| p.at.clone()).collect(),
        }
    };
    assert_eq!(
        problems("[post_incident]\ntemplate = \"seed-9\"\n"),
        vec!["post_incident.template"]
    );
    assert_eq!(
        problems("[post_incident]\ndraft = \"24h\"\nremind_before = \"1bd\"\n"),
        vec!["post_incident.remind_before"]
    );
    assert_eq!(
        problems("[post_incident]\ndraft = \"4h\"\nremind_before = \"4h\"\n"),
        vec!["post_incident.remind_before"]
    );
    let p = policy("[post_incident]\ntemplate = \"production-agents\"\n");
    assert_eq!(
        p.post_incident.template,
        fireline_core::policy::post_incident::Template::ProductionAgents
    );
}

#[test]
fn a_policy_keeps_its_source_and_a_digest_of_it() {
    let text = BASE.to_owned() + "\n# a comment changes the text\n";
    let commented = Policy::from_toml(&text).expect("valid");
    let plain = Policy::from_toml(BASE).expect("valid");
    assert_eq!(commented.source, text, "shown read-only in the admin UI");
    assert_ne!(commented.digest, plain.digest);
    assert!(
        Policy::builtin().source.contains("[severities."),
        "the built-in's own file"
    );
}

/// `warnings(policy)` as `at: message` lines.
fn warned(extra: &str) -> Vec<String> {
    fireline_core::policy::warnings(&policy(extra))
        .iter()
        .map(|w| {
            assert!(!w.hint.is_empty(), "every warning has a hint: {w:?}");
            format!("{}: {}", w.at, w.message)
        })
        .collect()
}

/// Maps `critical` to S1, so only the escalation warnings are left.
const ALERTS: &str = r#"
[alerts]
severity_map = { critical = "S1", warning = "S2" }
"#;

/// Regression: a severity that pages people with no step for "still not
/// acknowledged" pages nobody else however long the page goes unanswered.
#[test]
fn a_paging_severity_without_a_not_acknowledged_step_is_a_warning() {
    // BASE pages S1 and S2 and has no escalation at all.
    let lines = warned(ALERTS);
    for id in ["S1", "S2"] {
        let expected = format!(
            "severities.{id}.page: {id} pages people, but no escalation level pages anyone \
             else when nobody acknowledges"
        );
        assert!(lines.contains(&expected), "{expected:?} in {lines:#?}");
    }
    assert_eq!(lines.len(), 2, "{lines:#?}");
    let hint = &fireline_core::policy::warnings(&policy(ALERTS))[0].hint;
    assert!(
        hint.contains(r#"when = "not_acknowledged", after = "5m", severities = ["S1"]"#),
        "the hint suggests S1's acknowledge clock: {hint}"
    );

    // A step for S1 only: S2 still warns.
    let s1_only = r#"
[[escalation]]
name = "Secondary"
targets = ["schedule:secondary-oncall"]
triggers = [{ when = "not_acknowledged", after = "5m", severities = ["S1"] }]
"#;
    assert_eq!(
        warned(&format!("{ALERTS}{s1_only}")),
        vec!["severities.S2.page: S2 pages people, but no escalation level pages anyone else when nobody acknowledges"]
    );

    // A step for every severity (no `severities` list): clean.
    let all = r#"
[[escalation]]
name = "Secondary"
targets = ["schedule:secondary-oncall"]
triggers = [{ when = "not_acknowledged", after = "10m" }]
"#;
    assert!(warned(&format!("{ALERTS}{all}")).is_empty());

    // A level reached at declaration cannot be reached again when nobody acknowledges,
    // and a step that only reaches a channel wakes nobody.
    let useless = r#"
[[escalation]]
name = "Lead"
targets = ["person:lead"]
triggers = [{ when = "declared", severities = ["S1"] }, { when = "not_acknowledged", after = "10m", severities = ["S1"] }]
[[escalation]]
name = "Channel"
targets = ["channel:#incidents"]
triggers = [{ when = "not_acknowledged", after = "10m", severities = ["S2"] }]
"#;
    assert_eq!(warned(&format!("{ALERTS}{useless}")).len(), 2);

    // ... unless it is the last level and repeats while nobody acknowledges.
    let repeats = r#"
[[escalation]]
name = "Lead"
targets = ["person:lead"]
triggers = [{ when = "declared" }]
repeat = { times = 2, every = "10m" }
"#;
    assert!(warned(&format!("{ALERTS}{repeats}")).is_empty());

    // A severity paged only by a level triggered at declaration counts as paging too,
    // located at that level; one that pages only a channel does not page people.
    let text = format!(
        "{}{ALERTS}",
        BASE.replace(
            "page = [\"schedule:primary\"]",
            "page = [\"channel:#incidents\"]"
        )
        .replace("page = [\"schedule:secondary\"]", "")
    );
    let quiet = Policy::from_toml(&text).expect("valid");
    assert!(fireline_core::policy::warnings(&quiet).is_empty());
    let by_level = format!(
        "{text}\n[[escalation]]\nname = \"L1\"\ntargets = [\"team:support\"]\ntriggers = [{{ when = \"declared\", severities = [\"S2\"] }}]\n"
    );
    let lines: Vec<String> =
        fireline_core::policy::warnings(&Policy::from_toml(&by_level).expect("valid"))
            .iter()
            .map(|w| format!("{}: {}", w.at, w.message))
            .collect();
    assert_eq!(
        lines,
        vec!["escalation[0]: S2 pages people, but no escalation level pages anyone else when nobody acknowledges"]
    );
}

/// Regression: a policy without `[alerts]` opens every alert at its least
/// severe level, so a `critical` alert paged nobody.
#[test]
fn alerts_that_cannot_reach_the_most_severe_level_are_a_warning() {
    let secondary = r#"
[[escalation]]
name = "Secondary"
targets = ["schedule:secondary-oncall"]
triggers = [{ when = "not_acknowledged", after = "10m" }]
"#;
    assert_eq!(
        warned(secondary),
        vec!["alerts: no alert can open S1 (Critical): no source severity word maps to it and no route sets it (an alert saying `critical` opens S2)"]
    );
    let below = r#"
[alerts]
severity_map = { critical = "S2" }
"#;
    let lines = warned(&format!("{secondary}{below}"));
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].starts_with("alerts.severity_map: no alert can open S1"),
        "{lines:#?}"
    );
    let hint = &fireline_core::policy::warnings(&policy(secondary))[0].hint;
    assert!(hint.contains(r#"critical = "S1""#), "{hint}");

    // Any way in counts: a word, the default, a route's severity or a threshold.
    for reach in [
        "[alerts]\nseverity_map = { page = \"s1\" }\n",
        "[alerts]\ndefault_severity = \"S1\"\n",
        "[[routes]]\nname = \"db\"\nmatch = [{ label = \"service\", equals = \"db\" }]\nseverity = \"S1\"\n",
        "[[routes]]\nname = \"latency\"\nmatch = [{ label = \"alertname\", equals = \"Slow\" }]\nthresholds = [{ value = \"annotation:p95\", above = 2.0, severity = \"S1\" }]\n",
    ] {
        assert!(
            warned(&format!("{secondary}{reach}")).is_empty(),
            "{reach}"
        );
    }
    // A route that drops its alerts opens nothing.
    let dropped = "[[routes]]\nname = \"noise\"\nmatch = [{ label = \"env\", equals = \"dev\" }]\ndrop = true\n";
    assert_eq!(warned(&format!("{secondary}{dropped}")).len(), 1);
}

/// Every policy shipped in `policies/` passes the warnings too: each preset pages on a
/// critical alert and follows up an unacknowledged page.
#[test]
fn the_shipped_policies_have_no_warnings() {
    for (name, text) in [
        ("default", fireline_core::policy::BUILTIN),
        (
            "agentic-flow",
            include_str!("../../../policies/agentic-flow.toml"),
        ),
        (
            "llm-orchestrator-dr",
            include_str!("../../../policies/llm-orchestrator-dr.toml"),
        ),
        (
            "mahavishnu",
            include_str!("../../../policies/mahavishnu.toml"),
        ),
        (
            "production-agents",
            include_str!("../../../policies/production-agents.toml"),
        ),
        (
            "reflexion",
            include_str!("../../../policies/reflexion.toml"),
        ),
    ] {
        let policy = Policy::from_toml(text).unwrap_or_else(|p| panic!("{name}: {p:#?}"));
        let warnings = fireline_core::policy::warnings(&policy);
        assert!(warnings.is_empty(), "{name}: {warnings:#?}");
    }
}

/// A maintenance window's public side: read with defaults (a week's lead, components
/// from its `service` matchers), and every mistake located with a hint.
#[test]
fn maintenance_windows_carry_checked_public_notices() {
    let p = policy(
        r#"
[[maintenance]]
name = "db upgrade (internal)"
start = "2026-03-02T14:00:00Z"
end = "2026-03-02T16:00:00Z"
match = [{ label = "service", equals = "db" }]
title = "  Database upgrade "
description = "Writes may be slow."

[[maintenance]]
name = "checkout deploy"
start = "2026-03-03T14:00:00Z"
end = "2026-03-03T15:00:00Z"
title = "Checkout upgrade"
components = ["checkout", "api"]
announce = "2d"

[[maintenance]]
name = "quiet"
start = "2026-03-04T14:00:00Z"
end = "2026-03-04T15:00:00Z"
"#,
    );
    let notices: Vec<_> = p.maintenance.iter().map(|m| m.notice.clone()).collect();
    let first = notices[0].clone().expect("public");
    assert_eq!(first.title, "Database upgrade");
    assert_eq!(first.description.as_deref(), Some("Writes may be slow."));
    assert_eq!(first.components, ["db"]);
    assert_eq!(first.announce, SignedDuration::from_hours(7 * 24));
    let second = notices[1].clone().expect("public");
    assert_eq!(second.components, ["checkout", "api"]);
    assert_eq!(second.announce, SignedDuration::from_hours(48));
    assert!(second.affects("api") && !second.affects("db"));
    assert_eq!(notices[2], None, "no title: internal");

    let text = format!(
        "{BASE}{}",
        r#"
[[maintenance]]
name = "untitled"
start = "2026-03-02T14:00:00Z"
end = "2026-03-02T16:00:00Z"
description = "public words nobody would see"
[[maintenance]]
name = "blank"
start = "2026-03-02T14:00:00Z"
end = "2026-03-02T16:00:00Z"
title = " "
components = ["checkout", ""]
announce = "3bd"
[[maintenance]]
name = "bad lead"
start = "2026-03-02T14:00:00Z"
end = "2026-03-02T16:00:00Z"
title = "Upgrade"
announce = "soon"
"#
    );
    let problems = check(&text);
    let located: Vec<String> = problems
        .iter()
        .map(|p| format!("{}: {}", p.at, p.message))
        .collect();
    for expected in [
        "maintenance[0]: description, components and announce are public, but the window has no title",
        "maintenance[1].title: the public title must be 1 to 200 characters",
        "maintenance[1].components[1]: a component is a service's name",
        "maintenance[1].announce: an announcement's lead is wall-clock time",
        "maintenance[2].announce: `soon` is not a duration",
    ] {
        assert!(
            located.iter().any(|l| l.starts_with(expected)),
            "missing {expected:?} in {located:#?}"
        );
    }
    assert_eq!(located.len(), 5, "{located:#?}");
    assert!(problems.iter().all(|p| !p.hint.is_empty()));
}
