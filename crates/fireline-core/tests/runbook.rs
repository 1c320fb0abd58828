//! Runbooks: parsing, lint, import of the seed playbooks' structures, phases on the clock.

use fireline_core::runbook::import::import;
use fireline_core::runbook::{lint, parse, phase_status, Checklist, SectionKind};
use jiff::Timestamp;
use std::collections::BTreeSet;
use std::path::Path;

const AGENT_DOWN: &str = r#"---
id: agent-down
title: Agent Down
alerts: [AgentDown]
labels: {team: agents}
services: [agent]
severity: SEV1
---
# Agent Down

## Symptoms
- [ ] Alert: `AgentDown` firing
- [ ] Health check returning 503

## Investigation

```bash
# 1. Check pod status
kubectl get pods -n prod

# 2. Check recent events
kubectl get events -n prod | head -20
```

## Common Causes & Resolutions

### Cause 1: OOM

```
OOMKilled
```

- [ ] Raise the memory limit
- [x] Raise the memory limit

## Runbook notes

See [the dashboard guide](../guides/dashboards.md) and [upstream](https://example.com).
"#;

#[test]
fn front_matter_sections_steps_and_commands() {
    let book = parse(AGENT_DOWN).expect("parses");
    assert_eq!(book.id, "agent-down");
    assert_eq!(book.title, "Agent Down");
    assert_eq!(book.alerts, ["AgentDown"]);
    assert_eq!(book.labels.get("team").map(String::as_str), Some("agents"));
    assert_eq!(book.services, ["agent"]);
    assert_eq!(book.severity.as_deref(), Some("SEV1"));
    let sections: Vec<_> = book
        .sections
        .iter()
        .map(|s| (s.heading.as_str(), s.kind, s.line))
        .collect();
    assert_eq!(
        sections,
        [
            ("Symptoms", Some(SectionKind::Symptoms), 11),
            ("Investigation", Some(SectionKind::Investigation), 15),
            (
                "Common Causes & Resolutions",
                Some(SectionKind::Resolution),
                25
            ),
            ("Runbook notes", None, 36),
        ]
    );
    let steps: Vec<_> = book
        .steps
        .iter()
        .map(|s| (s.id.as_str(), s.text.as_str(), s.command.as_deref(), s.line))
        .collect();
    assert_eq!(
        steps,
        [
            (
                "symptoms.alert-agentdown-firing",
                "Alert: `AgentDown` firing",
                None,
                12
            ),
            (
                "symptoms.health-check-returning-503",
                "Health check returning 503",
                None,
                13
            ),
            (
                "investigation.check-pod-status",
                "Check pod status",
                Some("kubectl get pods -n prod"),
                18
            ),
            (
                "investigation.check-recent-events",
                "Check recent events",
                Some("kubectl get events -n prod | head -20"),
                21
            ),
            (
                "common-causes-resolutions.raise-the-memory-limit",
                "Raise the memory limit",
                None,
                33
            ),
            (
                "common-causes-resolutions.raise-the-memory-limit-2",
                "Raise the memory limit",
                None,
                34
            ),
        ]
    );
    assert_eq!(book.links, [(38, "../guides/dashboards.md".to_string())]);
}

#[test]
fn step_ids_survive_unrelated_edits() {
    let edited = AGENT_DOWN.replace(
        "## Symptoms\n",
        "## Symptoms\n\nA new paragraph.\n- [ ] A new first step\n",
    );
    let before = parse(AGENT_DOWN).expect("parses");
    let after = parse(&edited).expect("parses");
    for step in &before.steps {
        assert!(
            after.steps.iter().any(|s| s.id == step.id),
            "{} kept",
            step.id
        );
    }
}

#[test]
fn parse_errors_have_lines_and_hints() {
    let no_front = parse("# Title\n").expect_err("no front matter");
    assert_eq!(no_front.line, 1);
    assert!(no_front.hint.contains("---"));
    let bad_id = parse("---\ntitle: T\nid: Agent Down\n---\n").expect_err("bad id");
    assert_eq!(bad_id.line, 3);
    assert!(bad_id.hint.contains("agent-down"), "{}", bad_id.hint);
    let unknown = parse("---\nid: a\nalertz: [X]\n---\n# T\n").expect_err("unknown key");
    assert!(unknown.message.contains("alertz"), "{}", unknown.message);
}

const PHASED: &str = "---
id: general
title: General checklist
---
## Phase 1: Detect (0-5 min)
- [ ] Acknowledge
### Notes
- [ ] Assess severity

## Phase 2: Investigate (5-15 min)
- [ ] Collect logs

## Phase 5: Postmortem (24-48 hours)
- [ ] Publish postmortem

## Links
- [ ] Not in a phase
";

#[test]
fn phases_from_headings_with_windows() {
    let book = parse(PHASED).expect("parses");
    let phases: Vec<_> = book
        .phases
        .iter()
        .map(|p| (p.name.as_str(), p.from_minutes, p.to_minutes))
        .collect();
    assert_eq!(
        phases,
        [
            ("Phase 1: Detect", 0, 5),
            ("Phase 2: Investigate", 5, 15),
            ("Phase 5: Postmortem", 1440, 2880)
        ]
    );
    let of: Vec<_> = book.steps.iter().map(|s| s.phase.as_deref()).collect();
    assert_eq!(
        of,
        [
            Some("Phase 1: Detect"),
            Some("Phase 1: Detect"),
            Some("Phase 2: Investigate"),
            Some("Phase 5: Postmortem"),
            None
        ]
    );
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

#[test]
fn overdue_phases_on_given_times() {
    let book = parse(PHASED).expect("parses");
    let mut checklist = Checklist {
        runbook: book.id.clone(),
        title: book.title.clone(),
        steps: book.steps.clone(),
        phases: book.phases.clone(),
        done: Default::default(),
    };
    let declared = ts("2025-01-01T00:00:00Z");
    let overdue = |c: &Checklist, now: &str| -> Vec<bool> {
        phase_status(c, declared, ts(now))
            .iter()
            .map(|p| p.overdue)
            .collect()
    };
    // At the end of a window exactly, nothing is late yet.
    assert_eq!(
        overdue(&checklist, "2025-01-01T00:05:00Z"),
        [false, false, false]
    );
    assert_eq!(
        overdue(&checklist, "2025-01-01T00:05:01Z"),
        [true, false, false]
    );
    checklist
        .done
        .insert("phase-1-detect-0-5-min.acknowledge".into(), None);
    checklist
        .done
        .insert("phase-1-detect-0-5-min.assess-severity".into(), None);
    assert_eq!(
        overdue(&checklist, "2025-01-01T00:20:00Z"),
        [false, true, false]
    );
    assert_eq!(
        overdue(&checklist, "2025-01-03T00:00:01Z"),
        [false, true, true]
    );
    let status = phase_status(&checklist, declared, ts("2025-01-01T00:20:00Z"));
    assert_eq!(status[1].starts_at, ts("2025-01-01T00:05:00Z"));
    assert_eq!(status[1].ends_at, ts("2025-01-01T00:15:00Z"));
    assert_eq!((status[0].done, status[0].total), (2, 2));
    assert_eq!(checklist.progress(), (2, 5));
}

fn no_files(_: &Path) -> bool {
    false
}

#[test]
fn lint_reports_problems_with_locations() {
    let files = vec![
        ("rb/agent-down.md".to_string(), AGENT_DOWN.to_string()),
        (
            "rb/copy.md".to_string(),
            "---\nid: agent-down\ntitle: Copy\n---\n## Impact\nNone.\n".to_string(),
        ),
        ("rb/broken.md".to_string(), "no front matter".to_string()),
    ];
    let known: BTreeSet<String> = ["HighErrorRate".to_string()].into();
    let (books, problems) = lint(&files, Some(&known), &no_files);
    assert_eq!(books.len(), 2);
    let got: Vec<String> = problems
        .iter()
        .map(|p| format!("{}: {}", p.at, p.message))
        .collect();
    assert_eq!(
        got,
        [
            "rb/agent-down.md:4: unknown alert `AgentDown`",
            "rb/agent-down.md:38: broken link `../guides/dashboards.md`",
            "rb/copy.md:2: duplicate id `agent-down`",
            "rb/copy.md:2: missing recommended section `Symptoms`",
            "rb/copy.md:2: missing recommended section `Investigation` or `Common causes & resolutions`",
            "rb/copy.md:2: no checklist steps",
            "rb/broken.md:1: no front matter",
        ]
    );
    assert!(problems.iter().all(|p| !p.hint.is_empty()));
    assert!(problems[2].hint.contains("rb/agent-down.md:2"));
    // The link resolves against the file's folder.
    let (_, problems) = lint(&files[..1], None, &|p: &Path| {
        p == Path::new("rb/../guides/dashboards.md")
    });
    assert_eq!(problems, []);
}

fn imported(fixture: &str, name: &str) -> Vec<(String, String)> {
    let out = import(fixture, name);
    let files: Vec<(String, String)> = out
        .iter()
        .map(|i| (format!("out/{}.md", i.id), i.markdown.clone()))
        .collect();
    let (_, problems) = lint(&files, None, &no_files);
    assert_eq!(problems, [], "imported runbooks lint clean");
    files
}

fn ids_and_steps(files: &[(String, String)]) -> Vec<(String, usize)> {
    files
        .iter()
        .map(|(_, md)| {
            let book = parse(md).expect("parses");
            (book.id, book.steps.len())
        })
        .collect()
}

#[test]
fn import_seed_000_common_incidents() {
    let files = imported(
        include_str!("fixtures/seeds/000_common_incidents.md"),
        "000",
    );
    assert_eq!(
        ids_and_steps(&files),
        [
            ("authentication-failures".to_string(), 4),
            ("workflow-failures".to_string(), 5)
        ]
    );
    let book = parse(&files[0].1).expect("parses");
    assert_eq!(
        book.steps[0].text,
        "Check `MAHAVISHNU_AUTH_SECRET` environment variable"
    );
    assert_eq!(book.steps[0].section, "Remediation Steps");
}

#[test]
fn import_seed_002_top_issues() {
    let files = imported(include_str!("fixtures/seeds/002_top_issues.md"), "002");
    assert_eq!(
        ids_and_steps(&files),
        [
            ("database-connection-pool-exhausted".to_string(), 2),
            ("application-pod-crashed-oom".to_string(), 3)
        ]
    );
    let book = parse(&files[1].1).expect("parses");
    assert_eq!(book.steps[0].text, "Check OOM");
    assert_eq!(
        book.steps[0].command.as_deref(),
        Some("kubectl describe pod orchestrator-xxx | grep OOMKilled")
    );
    let kinds: Vec<_> = book.sections.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            Some(SectionKind::Symptoms),
            Some(SectionKind::Resolution),
            Some(SectionKind::Resolution),
            Some(SectionKind::Prevention)
        ]
    );
}

#[test]
fn import_seed_003_runbooks_and_phased_checklist() {
    let files = imported(include_str!("fixtures/seeds/003_runbooks.md"), "003");
    let ids: Vec<String> = ids_and_steps(&files)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        ids,
        [
            "agent-down",
            "high-error-rate",
            "general-incident-response-checklist"
        ]
    );
    let agent = parse(&files[0].1).expect("parses");
    assert_eq!(agent.alerts, ["AgentDown"]);
    assert_eq!(agent.severity.as_deref(), Some("SEV1"));
    assert!(agent
        .steps
        .iter()
        .any(|s| s.id == "investigation.check-pod-status"
            && s.command
                .as_deref()
                .is_some_and(|c| c.starts_with("kubectl get pods"))));
    // The communication template is a message, not commands.
    assert!(agent
        .steps
        .iter()
        .all(|s| s.section != "Communication Template"));
    let phased = parse(&files[2].1).expect("parses");
    assert_eq!(phased.phases.len(), 5);
    assert_eq!(phased.phases[4].to_minutes, 48 * 60);
    assert_eq!(phased.steps.len(), 23);
}

#[test]
fn import_seed_004_common_incident_scenarios() {
    let files = imported(include_str!("fixtures/seeds/004_scenarios.md"), "004");
    assert_eq!(
        ids_and_steps(&files),
        [
            ("high-error-rate".to_string(), 6),
            ("database-connection-issues".to_string(), 6)
        ]
    );
    let book = parse(&files[0].1).expect("parses");
    assert_eq!(book.alerts, ["HighErrorRate"]);
}
