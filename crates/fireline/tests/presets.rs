//! The policy presets in `policies/`, one per seed playbook in the shared seeds: each
//! passes `fireline policy check`, and `fireline policy simulate` of its scenario does what
//! the seed's text says, action by action and minute by minute. Every expected row was
//! worked out by hand from the seed (the section is cited beside it), not copied from
//! the simulator's output.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_fireline");

fn repo() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).to_path_buf()
}

fn policy_path(name: &str) -> PathBuf {
    repo().join("policies").join(format!("{name}.toml"))
}

fn fireline(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("FIRELINE_CONFIG")
        .env_remove("FIRELINE_POLICY")
        .output()
        .expect("fireline runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `2026-03-05 14:05` (or `… 14:01:36` when the seconds are not zero), UTC.
fn ts(s: &str) -> Timestamp {
    s.parse::<DateTime>()
        .expect("a civil date and time")
        .to_zoned(TimeZone::UTC)
        .expect("UTC always resolves")
        .timestamp()
}

fn show(t: Timestamp) -> String {
    let z = t.to_zoned(TimeZone::UTC);
    if z.second() == 0 {
        z.strftime("%Y-%m-%d %H:%M").to_string()
    } else {
        z.strftime("%Y-%m-%d %H:%M:%S").to_string()
    }
}

fn json_time(v: &Value) -> String {
    show(
        v.as_str()
            .expect("a time string")
            .parse::<Timestamp>()
            .expect("an RFC 3339 time"),
    )
}

fn strings(v: &Value) -> String {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|t| t.as_str().expect("a string"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One action as `at | kind | detail`, the detail being what tells it apart.
fn row(at: &str, kind: &str, detail: &str) -> String {
    format!("{} | {kind} | {detail}", show(ts(at)))
}

/// The same reminder every `minutes` from `from` to `to`, both included.
fn every(from: &str, to: &str, minutes: i64, kind: &str, detail: &str) -> Vec<String> {
    let (mut t, end) = (ts(from), ts(to));
    let mut out = Vec::new();
    while t <= end {
        out.push(row(&show(t), kind, detail));
        t = t
            .checked_add(SignedDuration::from_mins(minutes))
            .expect("in range");
    }
    out
}

fn action_row(v: &Value) -> String {
    let kind = v["kind"].as_str().expect("kind");
    let detail = match kind {
        "page" => format!(
            "{} {}",
            v["severity"].as_str().expect("severity"),
            strings(&v["targets"])
        ),
        "escalate" => format!(
            "{} {} ({})",
            v["level"].as_u64().expect("level"),
            strings(&v["targets"]),
            v["reason"].as_str().expect("reason")
        ),
        "sla_breach" => format!(
            "{} {}",
            v["clock"].as_str().expect("clock"),
            v["target"].as_str().expect("target")
        ),
        "update_due" => v["channel"].as_str().expect("channel").to_owned(),
        "customer_notice_due" => format!(
            "{} by {}",
            if v["required"].as_bool().expect("required") {
                "required"
            } else {
                "recommended"
            },
            json_time(&v["due_by"])
        ),
        "escalation_exhausted" => format!(
            "{} {}",
            v["level"].as_u64().expect("level"),
            strings(&v["targets"])
        ),
        "monitoring_verified" => String::new(),
        "postmortem_due" => v["stage"].as_str().expect("stage").to_owned(),
        "followup_due" => v["label"].as_str().expect("label").to_owned(),
        "postmortem_reminder" => format!(
            "{} by {}",
            v["stage"].as_str().expect("stage"),
            json_time(&v["due_by"])
        ),
        "notice_reminder" | "notice_overdue" => format!(
            "{} by {}",
            v["channel"].as_str().expect("channel"),
            json_time(&v["due_by"])
        ),
        other => panic!("unexpected action kind {other}: {v}"),
    };
    format!("{} | {kind} | {detail}", json_time(&v["at"]))
}

/// `fireline policy simulate --json` of a preset and a scenario file, as rows, without
/// post-mortem reminders: the presets' tests check what the playbooks ask for, and the
/// reminders (fireline's, 4h before each deadline) are checked by
/// `presets_remind_before_post_mortem_deadlines` and core's `tests/policy.rs`.
fn simulate(policy: &str, scenario: &Path) -> Vec<String> {
    simulate_all(policy, scenario)
        .into_iter()
        .filter(|row| !row.contains("| postmortem_reminder |"))
        .collect()
}

#[test]
fn presets_remind_before_post_mortem_deadlines() {
    let rows = simulate_all(
        "agentic-flow",
        &repo().join("policies").join("agentic-flow.scenario.yaml"),
    );
    let reminders: Vec<&String> = rows
        .iter()
        .filter(|r| r.contains("postmortem_reminder"))
        .collect();
    // The draft was done before its reminder; review and publication were not.
    assert_eq!(
        reminders,
        vec![
            &row(
                "2026-03-10 13:20",
                "postmortem_reminder",
                "review by 2026-03-10 17:20"
            ),
            &row(
                "2026-03-12 13:20",
                "postmortem_reminder",
                "publish by 2026-03-12 17:20"
            ),
        ]
    );
}

/// Every row `fireline policy simulate --json` prints.
fn simulate_all(policy: &str, scenario: &Path) -> Vec<String> {
    let out = fireline(&[
        "policy",
        "simulate",
        "--policy",
        policy_path(policy).to_str().expect("utf-8 path"),
        "--scenario",
        scenario.to_str().expect("utf-8 path"),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "simulate {policy} {}: {:?}\n{}",
        scenario.display(),
        out.status,
        text(&out.stderr)
    );
    text(&out.stdout)
        .lines()
        .map(|line| action_row(&serde_json::from_str(line).expect("each line is JSON")))
        .collect()
}

/// Simulates the preset's own scenario, `policies/NAME.scenario.yaml`.
fn simulate_preset(name: &str) -> Vec<String> {
    simulate(
        name,
        &repo()
            .join("policies")
            .join(format!("{name}.scenario.yaml")),
    )
}

/// Simulates a scenario given inline.
fn simulate_inline(policy: &str, scenario: &str) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("scenario.yaml");
    std::fs::write(&path, scenario).expect("write scenario");
    simulate(policy, &path)
}

/// Compares in time order; actions due at the same instant in any order.
fn assert_actions(actual: Vec<String>, mut expected: Vec<String>) {
    let mut actual = actual;
    actual.sort();
    expected.sort();
    assert_eq!(
        actual,
        expected,
        "\nactual:\n  {}\nexpected:\n  {}\n",
        actual.join("\n  "),
        expected.join("\n  ")
    );
}

// ---------------------------------------------------------------------------------------
// policy check

#[test]
fn every_policy_file_passes_check() {
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(repo().join("policies")).expect("policies/ lists") {
        let path = entry.expect("a directory entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let out = fireline(&["policy", "check", path.to_str().expect("utf-8 path")]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            path.display(),
            text(&out.stderr)
        );
        assert!(text(&out.stdout).contains(": ok"), "{}", text(&out.stdout));
        // No paging severity without a step for "still not acknowledged", and
        // alerts reach the most severe level.
        assert!(
            !text(&out.stderr).contains("warning") && !text(&out.stdout).contains("warning"),
            "{}: {}",
            path.display(),
            text(&out.stderr)
        );
        checked.push(path.file_stem().expect("a name").to_owned());
    }
    for preset in [
        "mahavishnu",
        "agentic-flow",
        "llm-orchestrator-dr",
        "production-agents",
        "reflexion",
    ] {
        assert!(
            checked.iter().any(|c| c == preset),
            "policies/{preset}.toml was checked"
        );
        assert!(
            repo()
                .join("policies")
                .join(format!("{preset}.scenario.yaml"))
                .is_file(),
            "policies/{preset}.scenario.yaml exists"
        );
    }
}

#[test]
fn check_names_the_location_of_a_problem_in_a_broken_copy() {
    let original = std::fs::read_to_string(policy_path("agentic-flow")).expect("read preset");
    let dir = tempfile::tempdir().expect("temp dir");

    // A duration the format does not know.
    let needle = "acknowledge = \"5m\"";
    assert!(
        original.contains(needle),
        "the SEV1 acknowledge clock is in the file"
    );
    let bad = dir.path().join("bad-duration.toml");
    std::fs::write(
        &bad,
        original.replacen(needle, "acknowledge = \"5 minutes\"", 1),
    )
    .expect("write copy");
    let out = fireline(&["policy", "check", bad.to_str().expect("utf-8 path")]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("severities.SEV1.clocks.acknowledge"),
        "names the key: {stderr}"
    );
    assert!(stderr.contains("5 minutes"), "quotes the value: {stderr}");

    // A TOML syntax error: reported by line and column.
    let broken = dir.path().join("bad-syntax.toml");
    std::fs::write(
        &broken,
        original.replacen("name = \"agentic-flow\"", "name = \"agentic-flow", 1),
    )
    .expect("write copy");
    let out = fireline(&["policy", "check", broken.to_str().expect("utf-8 path")]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("line 5, column"),
        "names the line: {stderr}"
    );

    // A trigger that refers to a severity the preset does not define.
    let bad = dir.path().join("bad-severity.toml");
    std::fs::write(
        &bad,
        original.replacen(
            "{ when = \"declared\", severities = [\"SEV1\"] }",
            "{ when = \"declared\", severities = [\"P0\"] }",
            1,
        ),
    )
    .expect("write copy");
    let out = fireline(&["policy", "check", bad.to_str().expect("utf-8 path")]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("escalation[1].triggers[0].severities[0]"),
        "names the trigger: {stderr}"
    );
}

// ---------------------------------------------------------------------------------------
// Seed 000, Mahavishnu → policies/mahavishnu.toml

#[test]
fn mahavishnu_scenario_follows_seed_000() {
    // P1 flagged security, declared Mon 2026-03-02 14:00; acknowledged 15:10; raised to
    // P0 15:20; resolved 16:00.
    let expected = vec![
        // §Level 1 Support: every incident starts at Level 1 (preset's choice).
        row(
            "2026-03-02 14:00",
            "escalate",
            "1 team:level-1-support (declared at a listed severity)",
        ),
        // §Level 3 Support: "Security incidents".
        row(
            "2026-03-02 14:00",
            "escalate",
            "3 team:level-3-support (flagged security)",
        ),
        // §High (P1): "Response time: Within 1 hour"; acknowledged at 15:10.
        row("2026-03-02 15:00", "sla_breach", "acknowledge 1h"),
        // §Level 2 Support, when Level 1 has not acknowledged within P1's response time
        // (preset's choice): still not acknowledged at 15:00.
        row(
            "2026-03-02 15:00",
            "escalate",
            "2 team:level-2-support (not acknowledged within 1h)",
        ),
        // Raised to P0 at 15:20: the response clock has already been breached once and
        // Level 2 reached (each action fires once). The seed sets no paging, cadence,
        // monitoring or post-incident deadline, so nothing else happens.
    ];
    assert_actions(simulate_preset("mahavishnu"), expected);
}

// ---------------------------------------------------------------------------------------
// Seed 001, Agentic Flow → policies/agentic-flow.toml

#[test]
fn agentic_flow_scenario_follows_seed_001() {
    // SEV1 declared Thu 2026-03-05 14:00; acknowledged 14:07; commander assigned 14:10;
    // internal update 14:12, status page 14:14; identified 14:40; SEV2 at 16:30;
    // monitoring 16:45; resolved 17:20; draft done Fri 10:00.
    let mut expected = vec![
        // §SEV1 Escalation: "Immediate page to on-call SRE + Engineering Lead + Product
        // Manager"; §Slack Channels: "#incidents - All SEV1/SEV2 incidents".
        row("2026-03-05 14:00", "page", "SEV1 schedule:sre-primary person:engineering-lead person:product-manager channel:#incidents"),
        // §Level 2: Engineering Lead, Escalate When "SEV1 incident declared".
        row("2026-03-05 14:00", "escalate", "2 person:engineering-lead (declared at a listed severity)"),
        // §SEV1: "Detection to Acknowledgment: <5 minutes"; acknowledged 14:07.
        row("2026-03-05 14:05", "sla_breach", "acknowledge 5m"),
        // §Level 1: On-Call SRE, the rotation's "Secondary On-Call: 1 week rotation
        // (backup)", when the primary has not acknowledged within SEV1's 5 minutes.
        row(
            "2026-03-05 14:05",
            "escalate",
            "1 schedule:sre-secondary (not acknowledged within 5m)",
        ),
        // §SEV1: "Acknowledgment to First Response: <10 minutes": the 14:10 assignment is
        // 3 minutes after the acknowledgement: no breach. "Initial Status Update: Within
        // 15 minutes": the 14:12 update is in time: no breach.
        // §SEV1: "Internal Slack updates every 5 minutes": due 14:05 and 14:10, then 5
        // minutes after the 14:12 update and after each reminder, until SEV2 at 16:30.
        row("2026-03-05 14:05", "update_due", "internal"),
        row("2026-03-05 14:10", "update_due", "internal"),
        // §External Communication > Status Page: "Update within 15 minutes of SEV1/SEV2
        // declaration": reminded 5 minutes before (the preset's choice); the 14:14 update
        // meets it, so no overdue.
        row("2026-03-05 14:10", "notice_reminder", "status_page by 2026-03-05 14:15"),
        // §SEV1 Communication: "Customer email notification within 30 minutes": reminded
        // 10 minutes before; no customer update while open (the example's e-mail is sent
        // after resolution), so overdue at 14:30, once: not again when lowered to SEV2.
        row("2026-03-05 14:20", "notice_reminder", "customer by 2026-03-05 14:30"),
        row("2026-03-05 14:30", "notice_overdue", "customer by 2026-03-05 14:30"),
        // §SEV1: "Target Resolution: <1 hour".
        row("2026-03-05 15:00", "sla_breach", "resolve 1h"),
        // §Level 3: VP Engineering, "SEV1 incident exceeding 2 hours".
        row("2026-03-05 16:00", "escalate", "3 person:vp-engineering (open longer than 2h)"),
        // §SEV2: "Internal Slack updates every 15 minutes" from the last reminder (16:27).
        row("2026-03-05 16:42", "update_due", "internal"),
        row("2026-03-05 16:57", "update_due", "internal"),
        row("2026-03-05 17:12", "update_due", "internal"),
        // §SEV2: "Status page update every 30 minutes" from the last reminder (16:29).
        row("2026-03-05 16:59", "update_due", "status_page"),
        // §Step 4: "Monitor for 30 Minutes": monitoring from 16:45.
        row("2026-03-05 17:15", "monitoring_verified", ""),
        // §External Communication > Customer Email: "Required for SEV1 incidents affecting
        // >30 minutes", "Send within 24 hours of resolution" (resolved 17:20, open 3h20m).
        row("2026-03-05 17:20", "customer_notice_due", "required by 2026-03-06 17:20"),
        // §Post-Mortem Process > Timeline: the draft (24h) was done Friday 10:00;
        // "Internal Review: Within 3 business days" of Thu 17:20 = Fri, Mon, Tue;
        // "External Publication: Within 5 business days" = Fri, Mon, Tue, Wed, Thu.
        row("2026-03-10 17:20", "postmortem_due", "review"),
        row("2026-03-12 17:20", "postmortem_due", "publish"),
        // §Level 4: CTO, "SEV1 incident exceeding 4 hours": resolved after 3h20m, and a
        // SEV2 since 16:30: not reached.
    ];
    // §SEV1: internal every 5 minutes after the 14:12 update: 14:17 … 16:27.
    expected.extend(every(
        "2026-03-05 14:17",
        "2026-03-05 16:27",
        5,
        "update_due",
        "internal",
    ));
    // §SEV1: "Public status page update every 15 minutes" after the 14:14 update: 14:29 … 16:29.
    expected.extend(every(
        "2026-03-05 14:29",
        "2026-03-05 16:29",
        15,
        "update_due",
        "status_page",
    ));
    assert_actions(simulate_preset("agentic-flow"), expected);
}

#[test]
fn agentic_flow_sev2_not_improving_and_open_over_four_hours() {
    // A SEV2 acknowledged and updated at once, never making progress, resolved after 4h30m.
    let actual = simulate_inline(
        "agentic-flow",
        "start: 2026-03-05T14:00:00Z
severity: SEV2
title: Multi-Model Router success rate below 95%
service: router
events:
  - {after: 10m, do: acknowledge}
  - {after: 10m, do: update, channel: internal}
  - {after: 10m, do: update, channel: status_page}
  - {after: 4h30m, do: resolve}
",
    );
    let mut expected = vec![
        // §SEV2 Escalation: "Page on-call SRE, notify Engineering Lead via Slack"; #incidents.
        row(
            "2026-03-05 14:00",
            "page",
            "SEV2 schedule:sre-primary person:engineering-lead channel:#incidents",
        ),
        // §Level 2: "SEV2 incident not improving after 1 hour" (no status change since 14:00).
        row(
            "2026-03-05 15:00",
            "escalate",
            "2 person:engineering-lead (no status progress within 1h)",
        ),
        // §SEV2 Communication: "Customer notification if issue persists >2 hours": owed
        // from 16:00, due by 16:30 (the preset's choice), reminded at 16:20; nobody posts
        // to customers. The 14:10 status-page update met §External Communication's "within
        // 15 minutes of SEV1/SEV2 declaration" before its 14:10 reminder.
        row(
            "2026-03-05 16:20",
            "notice_reminder",
            "customer by 2026-03-05 16:30",
        ),
        row(
            "2026-03-05 16:30",
            "notice_overdue",
            "customer by 2026-03-05 16:30",
        ),
        // §SEV2: "Target Resolution: <4 hours".
        row("2026-03-05 18:00", "sla_breach", "resolve 4h"),
        // §Customer Email: "Optional for SEV2 incidents affecting >4 hours", within 24h.
        row(
            "2026-03-05 18:30",
            "customer_notice_due",
            "recommended by 2026-03-06 18:30",
        ),
        // §Post-Mortem Process > Timeline, from Thu 18:30: draft 24h, review 3 business
        // days (Tue), publication 5 business days (Thu).
        row("2026-03-06 18:30", "postmortem_due", "draft"),
        row("2026-03-10 18:30", "postmortem_due", "review"),
        row("2026-03-12 18:30", "postmortem_due", "publish"),
    ];
    // §SEV2: "Internal Slack updates every 15 minutes" after the 14:10 update, while open.
    expected.extend(every(
        "2026-03-05 14:25",
        "2026-03-05 18:25",
        15,
        "update_due",
        "internal",
    ));
    // §SEV2: "Status page update every 30 minutes" after the 14:10 update, while open.
    expected.extend(every(
        "2026-03-05 14:40",
        "2026-03-05 18:10",
        30,
        "update_due",
        "status_page",
    ));
    assert_actions(actual, expected);
}

/// §SEV2/§SEV3 Communication's customer notifications "if issue persists >2 hours" and
/// "unless >4 hours" are owed only past those times, and a customer update then meets
/// them; the status page is owed within 15 minutes of a SEV2 declaration.
#[test]
fn agentic_flow_customer_notification_only_when_it_persists() {
    let notices = |scenario: &str| -> Vec<String> {
        simulate_inline("agentic-flow", scenario)
            .into_iter()
            .filter(|r| r.contains("| notice_"))
            .collect()
    };
    // A SEV2 resolved within 2 hours: no customer notification, and the status page
    // update at 14:12 came after its reminder but in time.
    assert_actions(
        notices(
            "start: 2026-03-05T14:00:00Z
severity: SEV2
title: Router degraded
service: router
events:
  - {after: 12m, do: update, channel: status_page}
  - {after: 1h50m, do: resolve}
",
        ),
        vec![row(
            "2026-03-05 14:10",
            "notice_reminder",
            "status_page by 2026-03-05 14:15",
        )],
    );
    // A SEV2 still open at 2 hours whose customers hear at 16:05: met, nothing more; its
    // status page is never updated: overdue at 14:15.
    assert_actions(
        notices(
            "start: 2026-03-05T14:00:00Z
severity: SEV2
title: Router degraded
service: router
events:
  - {after: 2h5m, do: update, channel: customer}
  - {after: 3h, do: resolve}
",
        ),
        vec![
            row(
                "2026-03-05 14:10",
                "notice_reminder",
                "status_page by 2026-03-05 14:15",
            ),
            row(
                "2026-03-05 14:15",
                "notice_overdue",
                "status_page by 2026-03-05 14:15",
            ),
        ],
    );
    // A SEV3 open 5 hours: customers are owed a notification past 4 hours (by 18:30).
    assert_actions(
        notices(
            "start: 2026-03-05T14:00:00Z
severity: SEV3
title: Cache hit rate low
service: agentdb
events:
  - {after: 5h, do: resolve}
",
        ),
        vec![
            row(
                "2026-03-05 18:20",
                "notice_reminder",
                "customer by 2026-03-05 18:30",
            ),
            row(
                "2026-03-05 18:30",
                "notice_overdue",
                "customer by 2026-03-05 18:30",
            ),
        ],
    );
}

/// Regression: a severity-limited delay trigger fires when the incident is raised into
/// the severity after the delay: a SEV2 raised to SEV1 after 2h reaches §Level 3 ("SEV1
/// incident exceeding 2 hours") at the raise.
#[test]
fn agentic_flow_sev2_raised_to_sev1_after_two_hours_reaches_level_3() {
    let actual = simulate_inline(
        "agentic-flow",
        "start: 2026-03-05T14:00:00Z
severity: SEV2
title: Agent Booster p95 latency above 50ms
service: agent-booster
until: 2026-03-05T19:00:00Z
events:
  - {after: 5m, do: acknowledge}
  - {after: 30m, do: status, value: identified}
  - {after: 2h30m, do: severity, value: SEV1}
",
    );
    let escalations: Vec<String> = actual
        .into_iter()
        .filter(|r| r.contains("| escalate |"))
        .collect();
    assert_actions(
        escalations,
        vec![
            // §Level 2: SEV2 not improving for 1 hour after the 14:30 status change.
            row(
                "2026-03-05 15:30",
                "escalate",
                "2 person:engineering-lead (no status progress within 1h)",
            ),
            // §Level 3: "SEV1 incident exceeding 2 hours": a SEV1 from 16:30, open since 14:00.
            row(
                "2026-03-05 16:30",
                "escalate",
                "3 person:vp-engineering (open longer than 2h)",
            ),
            // §Level 4: "SEV1 incident exceeding 4 hours".
            row(
                "2026-03-05 18:00",
                "escalate",
                "4 person:cto (open longer than 4h)",
            ),
        ],
    );
}

// ---------------------------------------------------------------------------------------
// Seed 002, LLM orchestrator disaster recovery → policies/llm-orchestrator-dr.toml

#[test]
fn llm_orchestrator_dr_scenario_follows_seed_002() {
    // P1 "Database primary down", category database-crash, declared Mon 2026-03-02 14:00;
    // acknowledged 14:35; internal update 14:36; P0 at 14:40; identified 14:45;
    // monitoring 14:50; resolved 15:25; incident summary (draft) Tue 10:00.
    let expected = vec![
        // §P1 - High: "Action: Engage on-call, notify L2".
        row(
            "2026-03-02 14:00",
            "page",
            "P1 schedule:oncall schedule:l2-oncall",
        ),
        // §When to Escalate > Immediate (Page L2): "RTO at risk (>80% of target time
        // elapsed)"; §Recovery Time Guidelines: Database crash, Target RTO 2 minutes:
        // 80% of 2m = 1m36s.
        row(
            "2026-03-02 14:01:36",
            "escalate",
            "2 schedule:l2-oncall (80% of the recovery-time objective elapsed)",
        ),
        // §Communication Templates > Status Update (Every 15 min for P0/P1).
        row("2026-03-02 14:15", "update_due", "internal"),
        row("2026-03-02 14:30", "update_due", "internal"),
        // §P1 - High (30 min response); acknowledged 14:35.
        row("2026-03-02 14:30", "sla_breach", "acknowledge 30m"),
        // §How to Escalate: "Page on-call L2": paged at 14:01:36 and still not
        // acknowledged, L2 is paged again every 15 minutes, twice (preset's choice, from
        // P0's "15 min response"); the 14:35 acknowledgement comes before exhaustion.
        row(
            "2026-03-02 14:16:36",
            "escalate",
            "2 schedule:l2-oncall (repeat 1 of 2: nobody has acknowledged)",
        ),
        row(
            "2026-03-02 14:31:36",
            "escalate",
            "2 schedule:l2-oncall (repeat 2 of 2: nobody has acknowledged)",
        ),
        // §P0 - Critical, raised at 14:40: on-call engaged; "Page L2 immediately" was done
        // at 14:01:36 (each escalation level fires once).
        row("2026-03-02 14:40", "page", "P0 schedule:oncall"),
        // Every 15 min after the 14:36 update, then after each reminder, while open.
        row("2026-03-02 14:51", "update_due", "internal"),
        row("2026-03-02 15:06", "update_due", "internal"),
        row("2026-03-02 15:21", "update_due", "internal"),
        // §Post-Incident Actions > Immediate: "Verify system stable for 30 minutes"
        // (monitoring from 14:50).
        row("2026-03-02 15:20", "monitoring_verified", ""),
        // §Post-Incident Actions > Within 24 hours: "Update affected customers (if external)".
        row(
            "2026-03-02 15:25",
            "customer_notice_due",
            "recommended by 2026-03-03 15:25",
        ),
        // §Post-Incident Actions > Immediate (Within 1 hour).
        row(
            "2026-03-02 16:25",
            "followup_due",
            "status page resolved, incident log, thank responders",
        ),
        // §Within 24 hours: "Write incident summary" was done Tue 10:00: no draft reminder;
        // "Schedule post-mortem", "Create follow-up tickets".
        row(
            "2026-03-03 15:25",
            "followup_due",
            "post-mortem scheduled, follow-up tickets created",
        ),
        // §Within 1 week: "Conduct post-mortem (blameless)"; runbooks, prevention, monitoring.
        row("2026-03-09 15:25", "postmortem_due", "review_meeting"),
        row(
            "2026-03-09 15:25",
            "followup_due",
            "runbooks, preventive measures, monitoring/alerts updated",
        ),
    ];
    assert_actions(simulate_preset("llm-orchestrator-dr"), expected);
}

#[test]
fn llm_orchestrator_dr_escalation_rules() {
    // A P1 with no category: acknowledged at once, status never moves.
    let actual = simulate_inline(
        "llm-orchestrator-dr",
        "start: 2026-03-02T14:00:00Z
severity: P1
title: Authentication outage
service: llm-orchestrator
until: 2026-03-02T14:20:00Z
events:
  - {after: 2m, do: acknowledge}
",
    );
    assert_actions(
        actual,
        vec![
            // §P1 - High: "Engage on-call, notify L2".
            row(
                "2026-03-02 14:00",
                "page",
                "P1 schedule:oncall schedule:l2-oncall",
            ),
            // §Status Update (Every 15 min for P0/P1).
            row("2026-03-02 14:15", "update_due", "internal"),
            // §When to Escalate > 15 Minutes: "No progress on recovery".
            row(
                "2026-03-02 14:15",
                "escalate",
                "2 schedule:l2-oncall (no status progress within 15m)",
            ),
        ],
    );
    // A P2 application crash: RTO 30 seconds.
    let actual = simulate_inline(
        "llm-orchestrator-dr",
        "start: 2026-03-02T14:00:00Z
severity: P2
title: Application pod crashed (OOM)
service: llm-orchestrator
category: application-crash
until: 2026-03-02T14:05:00Z
events:
  - {after: 1m, do: acknowledge}
",
    );
    assert_actions(
        actual,
        vec![
            // §P2 - Medium: "Action: Engage on-call".
            row("2026-03-02 14:00", "page", "P2 schedule:oncall"),
            // §Recovery Time Guidelines: Application crash, Target RTO 30 seconds; 80% = 24s.
            row(
                "2026-03-02 14:00:24",
                "escalate",
                "2 schedule:l2-oncall (80% of the recovery-time objective elapsed)",
            ),
        ],
    );
    // A P2 raised to P0 after 5 minutes.
    let actual = simulate_inline(
        "llm-orchestrator-dr",
        "start: 2026-03-02T14:00:00Z
severity: P2
title: Workflow execution failures spreading
service: llm-orchestrator
until: 2026-03-02T14:20:00Z
events:
  - {after: 2m, do: acknowledge}
  - {after: 5m, do: severity, value: P0}
",
    );
    assert_actions(
        actual,
        vec![
            // §P2 - Medium: "Engage on-call".
            row("2026-03-02 14:00", "page", "P2 schedule:oncall"),
            // §P0 - Critical, from 14:05: on-call engaged, and §When to Escalate >
            // Immediate (Page L2): "P0 incident".
            row("2026-03-02 14:05", "page", "P0 schedule:oncall"),
            row(
                "2026-03-02 14:05",
                "escalate",
                "2 schedule:l2-oncall (declared at a listed severity)",
            ),
            // §Status Update (Every 15 min for P0/P1), counted from the start.
            row("2026-03-02 14:15", "update_due", "internal"),
        ],
    );
    // A P3 flagged data-loss.
    let actual = simulate_inline(
        "llm-orchestrator-dr",
        "start: 2026-03-02T14:00:00Z
severity: P3
title: Logging issues, some audit records lost
service: llm-orchestrator
flags: [data-loss]
until: 2026-03-02T14:20:00Z
",
    );
    assert_actions(
        actual,
        vec![
            // §P3 - Low: "Create ticket" (nobody paged); §When to Escalate > Immediate
            // (Page L2): "Data loss".
            row(
                "2026-03-02 14:00",
                "escalate",
                "2 schedule:l2-oncall (flagged data-loss)",
            ),
            // Nobody acknowledges: L2 is paged again 15 minutes later (preset's choice).
            row(
                "2026-03-02 14:15",
                "escalate",
                "2 schedule:l2-oncall (repeat 1 of 2: nobody has acknowledged)",
            ),
        ],
    );
}

// ---------------------------------------------------------------------------------------
// Seed 003, production agents runbooks → policies/production-agents.toml

#[test]
fn production_agents_scenario_follows_seed_003() {
    // P0 "Agent service down" declared Mon 2026-03-02 14:00; acknowledged 14:07; internal
    // update 14:09; identified 14:20; monitoring 14:35; P1 at 14:40; resolved 14:50;
    // draft Tue 10:00.
    let expected = vec![
        // §Severity Levels: P0 "Immediate page"; §Contact List: Primary @on-call-engineer (PagerDuty).
        row("2026-03-02 14:00", "page", "P0 schedule:on-call-engineer"),
        // §Severity Levels: P0 Response Time 5 min; §Phase 1: Detection & Acknowledgment (0-5 min).
        row("2026-03-02 14:05", "sla_breach", "acknowledge 5m"),
        // §Contact List: INCIDENT COMMANDER Secondary @engineering-lead, when the primary
        // has not acknowledged within P0's 5 min (preset's choice).
        row(
            "2026-03-02 14:05",
            "escalate",
            "2 person:engineering-lead (not acknowledged within 5m)",
        ),
        // §Phase 1 (0-5 min): "Stakeholders notified"; first update 14:09.
        row("2026-03-02 14:05", "sla_breach", "initial_update 5m"),
        // Runbook 1 > Communication Template: "Updates every 10 minutes", from the 14:09
        // update, until the downgrade to P1 at 14:40.
        row("2026-03-02 14:19", "update_due", "internal"),
        row("2026-03-02 14:29", "update_due", "internal"),
        row("2026-03-02 14:39", "update_due", "internal"),
        // §Phase 3: Mitigation (15-30 min); monitoring (mitigated) only at 14:35.
        row("2026-03-02 14:30", "sla_breach", "mitigate 30m"),
        // Runbook 2: "Watch for 5-10 minutes": 10 minutes of monitoring from 14:35.
        row("2026-03-02 14:45", "monitoring_verified", ""),
        // §Phase 4: Resolution (30-60 min): resolved 14:50, in time. §Phase 5: Postmortem
        // (24-48 hours): drafted Tue 10:00 (before 24h); published by 48h after 14:50.
        row("2026-03-04 14:50", "postmortem_due", "publish"),
        // §Severity Levels: P1 "Page if not resolved" (15 min): at 14:15 this was a P0,
        // already paged.
    ];
    assert_actions(simulate_preset("production-agents"), expected);
}

#[test]
fn production_agents_pages_an_unresolved_p1_after_15_minutes() {
    let actual = simulate_inline(
        "production-agents",
        "start: 2026-03-02T14:00:00Z
severity: P1
title: P95 latency above 30s
service: production-agent
until: 2026-03-02T14:30:00Z
events:
  - {after: 10m, do: acknowledge}
",
    );
    assert_actions(
        actual,
        vec![
            // §Severity Levels: P1 - High | 15 min | "Page if not resolved"; acknowledged
            // at 14:10, in time; no cadence for P1.
            row(
                "2026-03-02 14:15",
                "escalate",
                "1 schedule:on-call-engineer (open longer than 15m)",
            ),
        ],
    );
}

/// Regression: a P1 raised to P0 while nobody has acknowledged calls the secondary
/// incident commander at the raise, as the P0 acknowledge clock is breached then too.
#[test]
fn production_agents_p1_raised_to_p0_unacknowledged_calls_the_secondary() {
    let actual = simulate_inline(
        "production-agents",
        "start: 2026-03-02T14:00:00Z
severity: P1
title: High error rate
service: production-agent
until: 2026-03-02T14:12:00Z
events:
  - {after: 10m, do: severity, value: P0}
",
    );
    let escalations: Vec<String> = actual
        .into_iter()
        .filter(|r| r.contains("| escalate |"))
        .collect();
    assert_actions(
        escalations,
        vec![
            // §Severity Levels: P0 Response Time 5 min; §Contact List: Secondary
            // @engineering-lead: a P0 from 14:10 and unacknowledged for 10 minutes.
            row(
                "2026-03-02 14:10",
                "escalate",
                "2 person:engineering-lead (not acknowledged within 5m)",
            ),
        ],
    );
}

// ---------------------------------------------------------------------------------------
// Seed 004, Reflexion agent → policies/reflexion.toml

#[test]
fn reflexion_scenario_follows_seed_004() {
    // P1 flagged data-loss, declared Mon 2026-03-02 14:00; internal update 14:10;
    // acknowledged 15:05; P0 at 15:15; update 15:30; identified 15:45; monitoring 16:10;
    // resolved 16:45.
    let stakeholders =
        "schedule:on-call-engineer team:engineering team:product-managers team:customer-support";
    let expected = vec![
        // §Contact Information: On-Call Engineer; §2. Initial Response step 4: "Notify
        // stakeholders (for P0/P1): Engineering team, Product managers, Customer support".
        row("2026-03-02 14:00", "page", &format!("P1 {stakeholders}")),
        // §Emergency Contacts: Database Administrator, for "Data loss or corruption" (preset's choice).
        row(
            "2026-03-02 14:00",
            "escalate",
            "5 person:dba (flagged data-loss)",
        ),
        // §5. Communication: "Update incident channel every 30 minutes", from the 14:10 update.
        row("2026-03-02 14:40", "update_due", "internal"),
        // §P1: "Response time: < 1 hour"; acknowledged 15:05.
        row("2026-03-02 15:00", "sla_breach", "acknowledge 1h"),
        // §Contact Information: Escalation Manager, when P1's response time passes
        // unacknowledged (preset's choice).
        row(
            "2026-03-02 15:00",
            "escalate",
            "2 person:escalation-manager (not acknowledged within 1h)",
        ),
        row("2026-03-02 15:10", "update_due", "internal"),
        // Raised to P0 at 15:15: stakeholders told again at the higher severity. P0's
        // initial update (15 minutes) was met by the 14:10 update.
        row("2026-03-02 15:15", "page", &format!("P0 {stakeholders}")),
        // Every 30 minutes after the 15:30 update, while open.
        row("2026-03-02 16:00", "update_due", "internal"),
        row("2026-03-02 16:30", "update_due", "internal"),
        // §6. Resolution and Monitoring: "Monitor for 30+ minutes" (monitoring from 16:10).
        row("2026-03-02 16:40", "monitoring_verified", ""),
        // §Post-Incident Activities > 1. Post-Incident Review (within 48 hours).
        row("2026-03-04 16:45", "postmortem_due", "review_meeting"),
        // §2. Follow-up Actions: Immediate (within 1 week), Short-term (within 1 month,
        // 30 days), Long-term (within 3 months, 90 days).
        row(
            "2026-03-09 16:45",
            "followup_due",
            "1 week: root cause fixed, monitoring added, documentation updated",
        ),
        row(
            "2026-04-01 16:45",
            "followup_due",
            "1 month: alerting improved, automated recovery, chaos tests",
        ),
        row(
            "2026-05-31 16:45",
            "followup_due",
            "3 months: architecture, redundancy and failover, team training",
        ),
    ];
    assert_actions(simulate_preset("reflexion"), expected);
}

// ---------------------------------------------------------------------------------------
// Every preset pages on a critical alert from each receiver, and follows its
// seed when a page is not acknowledged.

/// The policies in `policies/`, each with its most severe level and what that level pages
/// at once (as rows at the alert's time), worked out from the preset's own comments.
const TOP_PAGES: [(&str, &str, &[&str]); 6] = [
    ("default", "SEV1", &["page | SEV1 schedule:primary"]),
    (
        "agentic-flow",
        "SEV1",
        &[
            // §SEV1 Escalation: "Immediate page to on-call SRE + Engineering Lead + Product Manager".
            "page | SEV1 schedule:sre-primary person:engineering-lead person:product-manager channel:#incidents",
            // §Level 2: Engineering Lead, "SEV1 incident declared".
            "escalate | 2 person:engineering-lead (declared at a listed severity)",
        ],
    ),
    (
        "llm-orchestrator-dr",
        "P0",
        &[
            // §P0 - Critical: on-call engaged, "Action: Page L2 immediately".
            "page | P0 schedule:oncall",
            "escalate | 2 schedule:l2-oncall (declared at a listed severity)",
        ],
    ),
    (
        "mahavishnu",
        "P0",
        // §Level 1 Support: every incident starts at Level 1 (preset's choice).
        &["escalate | 1 team:level-1-support (declared at a listed severity)"],
    ),
    (
        "production-agents",
        "P0",
        // §Severity Levels: P0 "Immediate page"; Primary: @on-call-engineer (PagerDuty).
        &["page | P0 schedule:on-call-engineer"],
    ),
    (
        "reflexion",
        "P0",
        // §Contact Information: On-Call Engineer; "Notify stakeholders (for P0/P1)".
        &["page | P0 schedule:on-call-engineer team:engineering team:product-managers team:customer-support"],
    ),
];

/// The three receivers, each with a critical alert in its own shape
/// (`tests/fixtures/alerts/RECEIVER-critical.json`).
const RECEIVERS: [&str; 3] = ["alertmanager", "pagerduty", "generic"];

/// When the fixtures' alerts arrive (they started firing 30 s before).
fn received() -> Timestamp {
    "2026-03-05T14:00:00Z".parse().expect("a time")
}

/// The fixture's alert as the receiver's own parser makes it (and the processor reads it).
fn critical_alert(receiver: &str) -> fireline_core::alert::AlertInput {
    use fireline_http::receivers::{alertmanager, generic, pagerduty};
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/alerts")
        .join(format!("{receiver}-critical.json"));
    let body = std::fs::read_to_string(&path).expect("read the fixture");
    let now = received();
    let mut alerts = match receiver {
        "alertmanager" => {
            alertmanager::normalise(serde_json::from_str(&body).expect("a webhook body"), now)
                .expect("a valid webhook")
        }
        "pagerduty" => match pagerduty::normalise(
            serde_json::from_str(&body).expect("an Events v2 body"),
            now,
            || "generated".to_owned(),
        ) {
            Ok(pagerduty::Action::Alerts(alerts, _)) => alerts,
            other => panic!("a trigger event: {other:?}"),
        },
        "generic" => generic::normalise(serde_json::from_str(&body).expect("a generic alert"), now)
            .expect("a valid alert"),
        other => panic!("no receiver {other}"),
    };
    assert_eq!(alerts.len(), 1, "{receiver}: one alert");
    let mut alert = alerts.remove(0);
    alert.normalise();
    assert_eq!(
        alert.source_severity.as_deref(),
        Some("critical"),
        "{receiver}: the alert says critical"
    );
    alert
}

/// What `preset` does with the critical alert from `receiver`, as the alert processor
/// does it: route it, decide it (a new incident), declare it, and fire what is due at
/// once. The severity it opens, and the paging rows (`page | …`, `escalate | …`).
fn on_critical_alert(preset: &str, receiver: &str) -> (String, Vec<String>) {
    use fireline_core::alert::{decide_alert, route, AlertOutcome, Situation};
    use fireline_core::{EventData, RecordedEvent};
    let text = std::fs::read_to_string(policy_path(preset)).expect("read preset");
    let policy = fireline_core::policy::Policy::from_toml(&text)
        .unwrap_or_else(|p| panic!("{preset}: {p:#?}"));
    let alert = critical_alert(receiver);
    let now = received();
    let routed = route(&policy, &alert, receiver, "unrouted", now);
    let AlertOutcome::Declare(declaration, attached) = decide_alert(
        &policy,
        &alert,
        receiver,
        &routed,
        Situation::default(),
        now,
    ) else {
        panic!("{preset}/{receiver}: a new alert opens an incident");
    };
    let declared = fireline_core::declare(&declaration, &policy)
        .unwrap_or_else(|e| panic!("{preset}/{receiver}: {e}"));
    let events: Vec<RecordedEvent> = std::iter::once(declared)
        .chain(attached)
        .enumerate()
        .map(|(i, data)| RecordedEvent {
            id: i as i64 + 1,
            seq: i as u64 + 1,
            at: now,
            actor: receiver.to_owned(),
            data,
        })
        .collect();
    let rows = fireline_core::plan::fire_due(&policy, &events, now)
        .events
        .into_iter()
        .filter_map(|e| match e.data {
            EventData::Paged {
                severity, targets, ..
            } => Some(format!("page | {severity} {}", targets.join(" "))),
            EventData::Escalated {
                level,
                targets,
                reason,
                ..
            } => Some(format!(
                "escalate | {level} {} ({reason})",
                targets.join(" ")
            )),
            _ => None,
        })
        .collect();
    (declaration.severity, rows)
}

/// Regression: under `agentic-flow`, an Alertmanager alert with `severity:
/// critical` opened a SEV4 (the preset had no `[alerts]`) and paged nobody.
#[test]
fn agentic_flow_pages_on_a_critical_alertmanager_alert() {
    let (severity, mut rows) = on_critical_alert("agentic-flow", "alertmanager");
    assert_eq!(
        severity, "SEV1",
        "§SEV1 - Critical Outage, not a SEV4 ticket"
    );
    rows.sort();
    assert_eq!(
        rows,
        vec![
            "escalate | 2 person:engineering-lead (declared at a listed severity)",
            "page | SEV1 schedule:sre-primary person:engineering-lead person:product-manager channel:#incidents",
        ]
    );
}

/// Every policy in `policies/` opens its most severe level (rank 1) on a critical alert
/// from Alertmanager, PagerDuty Events v2 and the generic receiver alike, and pages
/// people at once.
#[test]
fn every_preset_opens_its_top_severity_and_pages_on_a_critical_alert_from_each_receiver() {
    for (preset, top, pages) in TOP_PAGES {
        let text = std::fs::read_to_string(policy_path(preset)).expect("read preset");
        let policy = fireline_core::policy::Policy::from_toml(&text).expect("valid");
        assert_eq!(
            policy.severities[0].severity.id, top,
            "{preset}: {top} is the most severe level"
        );
        let mut expected: Vec<String> = pages.iter().map(|p| (*p).to_owned()).collect();
        expected.sort();
        for receiver in RECEIVERS {
            let (severity, mut rows) = on_critical_alert(preset, receiver);
            assert_eq!(severity, top, "{preset}: a critical {receiver} alert");
            rows.sort();
            assert_eq!(
                rows, expected,
                "{preset}: a critical {receiver} alert pages"
            );
            assert!(
                rows.iter()
                    .any(|r| r.split(' ').any(|t| ["schedule:", "person:", "team:"]
                        .iter()
                        .any(|k| t.starts_with(k)))),
                "{preset}/{receiver}: a person is reached, not only a channel: {rows:?}"
            );
        }
    }
}

/// The rows that page someone (`page`, `escalate`, `escalation_exhausted`) when an
/// incident declared at `severity` at 14:00 is never acknowledged, until `until`.
fn unacknowledged(preset: &str, severity: &str, until: &str) -> Vec<String> {
    simulate_inline(
        preset,
        &format!(
            "start: 2026-03-02T14:00:00Z
severity: {severity}
title: Nobody answers
service: checkout
until: {until}
"
        ),
    )
    .into_iter()
    .filter(|r| {
        r.contains("| page |")
            || r.contains("| escalate |")
            || r.contains("| escalation_exhausted |")
    })
    .collect()
}

#[test]
fn default_pages_the_secondary_when_a_sev1_is_not_acknowledged() {
    assert_actions(
        unacknowledged("default", "SEV1", "2026-03-02T14:11:00Z"),
        vec![
            row("2026-03-02 14:00", "page", "SEV1 schedule:primary"),
            row(
                "2026-03-02 14:10",
                "escalate",
                "1 schedule:secondary (not acknowledged within 10m)",
            ),
        ],
    );
}

/// Regression: an unacknowledged SEV1 paged nobody else for two hours.
#[test]
fn agentic_flow_pages_the_secondary_after_the_acknowledge_target() {
    // §SEV1: "Detection to Acknowledgment: <5 minutes".
    assert_actions(
        unacknowledged("agentic-flow", "SEV1", "2026-03-02T14:06:00Z"),
        vec![
            row(
                "2026-03-02 14:00",
                "page",
                "SEV1 schedule:sre-primary person:engineering-lead person:product-manager channel:#incidents",
            ),
            row(
                "2026-03-02 14:00",
                "escalate",
                "2 person:engineering-lead (declared at a listed severity)",
            ),
            // §On-Call Rotations: "Secondary On-Call: 1 week rotation (backup)".
            row(
                "2026-03-02 14:05",
                "escalate",
                "1 schedule:sre-secondary (not acknowledged within 5m)",
            ),
        ],
    );
    // §SEV2: "Detection to Acknowledgment: <15 minutes".
    assert_actions(
        unacknowledged("agentic-flow", "SEV2", "2026-03-02T14:16:00Z"),
        vec![
            row(
                "2026-03-02 14:00",
                "page",
                "SEV2 schedule:sre-primary person:engineering-lead channel:#incidents",
            ),
            row(
                "2026-03-02 14:15",
                "escalate",
                "1 schedule:sre-secondary (not acknowledged within 15m)",
            ),
        ],
    );
    // §SEV3: "Detection to Acknowledgment: <30 minutes".
    assert_actions(
        unacknowledged("agentic-flow", "SEV3", "2026-03-02T14:31:00Z"),
        vec![
            row(
                "2026-03-02 14:00",
                "page",
                "SEV3 schedule:sre-primary channel:#sre-oncall",
            ),
            row(
                "2026-03-02 14:30",
                "escalate",
                "1 schedule:sre-secondary (not acknowledged within 30m)",
            ),
        ],
    );
}

#[test]
fn llm_orchestrator_dr_pages_l2_again_while_a_p0_is_not_acknowledged() {
    // §P0 - Critical (15 min response): "Page L2 immediately", again every 15 minutes
    // while nobody acknowledges (preset's choice), then everyone hears it ran out.
    assert_actions(
        unacknowledged("llm-orchestrator-dr", "P0", "2026-03-02T15:00:00Z"),
        vec![
            row("2026-03-02 14:00", "page", "P0 schedule:oncall"),
            row(
                "2026-03-02 14:00",
                "escalate",
                "2 schedule:l2-oncall (declared at a listed severity)",
            ),
            row(
                "2026-03-02 14:15",
                "escalate",
                "2 schedule:l2-oncall (repeat 1 of 2: nobody has acknowledged)",
            ),
            row(
                "2026-03-02 14:30",
                "escalate",
                "2 schedule:l2-oncall (repeat 2 of 2: nobody has acknowledged)",
            ),
            row(
                "2026-03-02 14:45",
                "escalation_exhausted",
                "2 schedule:oncall schedule:l2-oncall",
            ),
        ],
    );
    // §P2 - Medium (1 hour response): L2 takes over when the on-call engineer has not
    // acknowledged within the hour.
    let rows = unacknowledged("llm-orchestrator-dr", "P2", "2026-03-02T15:01:00Z");
    assert_actions(
        rows,
        vec![
            row("2026-03-02 14:00", "page", "P2 schedule:oncall"),
            row(
                "2026-03-02 15:00",
                "escalate",
                "2 schedule:l2-oncall (not acknowledged within 1h)",
            ),
        ],
    );
}

#[test]
fn mahavishnu_pages_level_2_when_a_p0_is_not_acknowledged() {
    // §Critical (P0): "Response time: Immediate (within 15 minutes)".
    assert_actions(
        unacknowledged("mahavishnu", "P0", "2026-03-02T14:16:00Z"),
        vec![
            row(
                "2026-03-02 14:00",
                "escalate",
                "1 team:level-1-support (declared at a listed severity)",
            ),
            row(
                "2026-03-02 14:15",
                "escalate",
                "2 team:level-2-support (not acknowledged within 15m)",
            ),
        ],
    );
}

#[test]
fn production_agents_calls_the_secondary_when_a_p0_is_not_acknowledged() {
    // §Severity Levels: P0 5 min; §Contact List: "Secondary: @engineering-lead".
    assert_actions(
        unacknowledged("production-agents", "P0", "2026-03-02T14:06:00Z"),
        vec![
            row("2026-03-02 14:00", "page", "P0 schedule:on-call-engineer"),
            row(
                "2026-03-02 14:05",
                "escalate",
                "2 person:engineering-lead (not acknowledged within 5m)",
            ),
        ],
    );
}

#[test]
fn reflexion_pages_the_escalation_manager_when_a_p0_is_not_acknowledged() {
    // §P0: "Response time: Immediate (< 15 minutes)"; §Contact Information: Escalation Manager.
    assert_actions(
        unacknowledged("reflexion", "P0", "2026-03-02T14:16:00Z"),
        vec![
            row(
                "2026-03-02 14:00",
                "page",
                "P0 schedule:on-call-engineer team:engineering team:product-managers team:customer-support",
            ),
            row(
                "2026-03-02 14:15",
                "escalate",
                "2 person:escalation-manager (not acknowledged within 15m)",
            ),
        ],
    );
}
