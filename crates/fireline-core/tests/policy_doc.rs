//! Keeps `docs/policy.md` true: every ```toml block in it is read by the real parser.
//!
//! A block's first line says what it is:
//!
//! - `# complete` — a whole policy file; it must parse with no problems.
//! - `# invalid: TEXT` — a fragment that must be refused, with a problem whose location or
//!   message contains `TEXT`.
//! - `# invalid complete: TEXT` — the same for a whole file.
//! - anything else — a fragment; it must parse with no problems.
//!
//! A fragment is merged into [`BASE`] (name plus severities `SEV1`–`SEV4`): tables merge
//! key by key, any other value (strings, numbers, arrays such as `[[escalation]]`)
//! replaces the base's. So a fragment may add `[severities.SEV1.clocks]` to the base's
//! SEV1, override `name`, or bring its own `[[escalation]]` levels.

use fireline_core::policy::{Condition, EscalationLevel, Policy, Problem, Target};
use fireline_core::{ClockKind, Stage};
use std::collections::BTreeSet;

const DOC: &str = include_str!("../../../docs/policy.md");

/// What fragments are merged into.
const BASE: &str = r#"
name = "doc-example"

[severities.SEV1]
name = "Critical"
rank = 1
major = true

[severities.SEV2]
name = "Major"
rank = 2
major = true

[severities.SEV3]
name = "Moderate"
rank = 3

[severities.SEV4]
name = "Minor"
rank = 4
"#;

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Complete,
    Fragment,
    Invalid { complete: bool, expect: String },
}

#[derive(Debug)]
struct Block {
    /// 1-based line of the opening fence in docs/policy.md.
    line: usize,
    text: String,
    kind: Kind,
}

/// Every ```toml block, in order, or what is wrong with the markers or fences.
fn toml_blocks(doc: &str) -> Result<Vec<Block>, String> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, bool, String)> = None;
    for (i, line) in doc.lines().enumerate() {
        let trimmed = line.trim_start();
        match open.as_mut() {
            None if trimmed.starts_with("```") => {
                let info = trimmed.trim_start_matches('`').trim();
                open = Some((i + 1, info == "toml", String::new()));
            }
            None => {}
            Some(_) if trimmed.starts_with("```") => {
                if let Some((line, true, text)) = open.take() {
                    let first = text.lines().next().unwrap_or("").trim();
                    let kind = if first == "# complete" {
                        Kind::Complete
                    } else if let Some(rest) = first.strip_prefix("# invalid") {
                        let (complete, rest) = match rest.trim_start().strip_prefix("complete") {
                            Some(r) => (true, r),
                            None => (false, rest),
                        };
                        let expect = rest.trim_start().trim_start_matches(':').trim().to_owned();
                        if expect.is_empty() {
                            return Err(format!("docs/policy.md:{line}: write `# invalid: TEXT` with TEXT from the expected problem"));
                        }
                        Kind::Invalid { complete, expect }
                    } else {
                        Kind::Fragment
                    };
                    blocks.push(Block { line, text, kind });
                }
            }
            Some((_, _, text)) => {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    if let Some((line, _, _)) = open {
        return Err(format!("docs/policy.md:{line}: unterminated ``` fence"));
    }
    Ok(blocks)
}

fn merge(base: &mut toml::Table, fragment: toml::Table) {
    for (key, value) in fragment {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(f)) => merge(b, f),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// The policy text a block stands for.
fn policy_text(block: &Block) -> Result<String, String> {
    let complete = matches!(
        block.kind,
        Kind::Complete | Kind::Invalid { complete: true, .. }
    );
    if complete {
        return Ok(block.text.clone());
    }
    let mut base: toml::Table = BASE
        .parse()
        .map_err(|e| format!("the test's base policy is not TOML: {e}"))?;
    let fragment: toml::Table = block.text.parse().map_err(|e| {
        format!(
            "docs/policy.md:{}: a fragment must be TOML (a syntax error needs `# invalid complete`): {e}",
            block.line
        )
    })?;
    merge(&mut base, fragment);
    toml::to_string(&base)
        .map_err(|e| format!("docs/policy.md:{}: cannot re-serialise: {e}", block.line))
}

fn show(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {}: {} (hint: {})", p.at, p.message, p.hint))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses every block as it says; the policies of the valid ones, or every block that
/// is wrong.
fn check_doc(doc: &str) -> Result<Vec<Policy>, String> {
    let blocks = toml_blocks(doc)?;
    let mut failures = Vec::new();
    let mut policies = Vec::new();
    for block in &blocks {
        let text = match policy_text(block) {
            Ok(text) => text,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        match (&block.kind, Policy::from_toml(&text)) {
            (Kind::Complete | Kind::Fragment, Ok(policy)) => policies.push(policy),
            (Kind::Complete | Kind::Fragment, Err(problems)) => failures.push(format!(
                "docs/policy.md:{} ({:?}) should parse clean, but:\n{}\n--- policy read ---\n{text}",
                block.line,
                block.kind,
                show(&problems)
            )),
            (Kind::Invalid { .. }, Ok(_)) => failures.push(format!(
                "docs/policy.md:{} is marked `# invalid` but parses clean\n--- policy read ---\n{text}",
                block.line
            )),
            (Kind::Invalid { .. }, Err(problems)) if problems.is_empty() => failures.push(
                format!("docs/policy.md:{}: refused with no problems listed", block.line),
            ),
            (Kind::Invalid { expect, .. }, Err(problems)) => {
                let found = problems
                    .iter()
                    .any(|p| p.at.contains(expect.as_str()) || p.message.contains(expect.as_str()));
                if !found {
                    failures.push(format!(
                        "docs/policy.md:{} is refused, but no problem mentions `{expect}`:\n{}",
                        block.line,
                        show(&problems)
                    ));
                }
            }
        }
    }
    if !failures.is_empty() {
        return Err(format!(
            "{} of {} toml blocks in docs/policy.md are wrong:\n\n{}",
            failures.len(),
            blocks.len(),
            failures.join("\n\n")
        ));
    }
    Ok(policies)
}

fn doc_policies() -> Vec<Policy> {
    check_doc(DOC).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_toml_example_in_the_policy_doc_is_what_it_claims() {
    let blocks = toml_blocks(DOC).unwrap_or_else(|e| panic!("{e}"));
    // Guard against a vacuous pass (a renamed fence, a moved file).
    assert!(
        blocks.len() >= 20,
        "only {} toml blocks found",
        blocks.len()
    );
    for kind in ["complete", "fragment", "invalid"] {
        assert!(
            blocks.iter().any(|b| matches!(
                (&b.kind, kind),
                (Kind::Complete, "complete")
                    | (Kind::Fragment, "fragment")
                    | (Kind::Invalid { .. }, "invalid")
            )),
            "docs/policy.md has no {kind} toml block"
        );
    }
    doc_policies();
}

/// The examples between them show every clock, channel, stage, trigger and target kind.
/// The exhaustive matches below stop compiling when the model gains a variant, so a new
/// feature cannot land without an example.
#[test]
fn the_policy_doc_shows_every_feature() {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for p in &doc_policies() {
        features_of(p, &mut seen);
    }
    let missing: Vec<String> = every_feature()
        .into_iter()
        .filter(|w| !seen.contains(w))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/policy.md has no valid example of: {missing:?}"
    );
}

/// The features policy `p` uses, by the names [`every_feature`] gives them.
fn features_of(p: &Policy, seen: &mut BTreeSet<String>) {
    for s in &p.severities {
        for c in &s.clocks {
            seen.insert(format!("clock {}", c.clock));
            if c.from == fireline_core::policy::Anchor::Acknowledged {
                seen.insert("from acknowledged".into());
            }
        }
        for u in &s.updates {
            seen.insert(format!("channel {}", u.channel));
            if !u.required {
                seen.insert("optional cadence".into());
            }
        }
        for t in &s.page {
            seen.insert(target_kind(t));
        }
        if s.monitoring.is_some() {
            seen.insert("monitoring".into());
        }
    }
    for level in &p.escalation {
        escalation_features(level, seen);
    }
    for c in &p.categories {
        if c.rto.is_some() && c.rpo.is_some() {
            seen.insert("rto and rpo".into());
        }
    }
    if !p.customer_notice.is_empty() {
        seen.insert("customer_notice".into());
    }
    for d in &p.post_incident.stages {
        seen.insert(format!("stage {}", d.stage));
        if matches!(
            d.within,
            fireline_core::policy::PolicyDuration::BusinessDays(_)
        ) {
            seen.insert("business days".into());
        }
    }
    if !p.post_incident.followups.is_empty() {
        seen.insert("followups".into());
    }
    if !p.calendar.holidays.is_empty() {
        seen.insert("holidays".into());
    }
    if !p.routes.is_empty() {
        seen.insert("routes".into());
    }
    if !p.maintenance.is_empty() {
        seen.insert("maintenance".into());
    }
}

fn escalation_features(level: &EscalationLevel, seen: &mut BTreeSet<String>) {
    for t in &level.targets {
        seen.insert(target_kind(t));
    }
    for t in &level.triggers {
        let kind = match t.condition {
            Condition::Declared => "declared",
            Condition::NotAcknowledged(_) => "not_acknowledged",
            Condition::NoProgress(_) => "no_progress",
            Condition::OpenLongerThan(_) => "open_longer_than",
            Condition::RtoFraction(_) => "rto_fraction",
            Condition::Flag(_) => "flag",
            Condition::Manual => "manual",
        };
        seen.insert(format!("trigger {kind}"));
        if !t.severities.is_empty() {
            seen.insert("trigger severities".into());
        }
    }
    if level.repeat.is_some() {
        seen.insert("repeat".into());
    }
}

/// Every feature a policy file can use.
fn every_feature() -> Vec<String> {
    let mut wanted: Vec<String> = Vec::new();
    wanted.extend(ClockKind::ALL.iter().map(|c| format!("clock {c}")));
    wanted.extend(
        fireline_core::Channel::ALL
            .iter()
            .map(|c| format!("channel {c}")),
    );
    wanted.extend(Stage::ALL.iter().map(|s| format!("stage {s}")));
    for t in [
        "declared",
        "not_acknowledged",
        "no_progress",
        "open_longer_than",
        "rto_fraction",
        "flag",
        "manual",
    ] {
        wanted.push(format!("trigger {t}"));
    }
    for t in ["schedule", "person", "team", "channel"] {
        wanted.push(format!("target {t}"));
    }
    for w in [
        "from acknowledged",
        "optional cadence",
        "monitoring",
        "trigger severities",
        "repeat",
        "rto and rpo",
        "customer_notice",
        "business days",
        "followups",
        "holidays",
        "routes",
        "maintenance",
    ] {
        wanted.push(w.to_owned());
    }
    wanted
}

fn target_kind(t: &Target) -> String {
    let kind = match t {
        Target::Schedule(_) => "schedule",
        Target::Person(_) => "person",
        Target::Team(_) => "team",
        Target::Channel(_) => "channel",
    };
    format!("target {kind}")
}

/// The checker itself: a broken example, a fragment that is wrongly marked invalid, and
/// an invalid block refused for another reason than it says are all caught.
#[test]
fn the_doc_checker_catches_wrong_examples() {
    let fails = |doc: &str| check_doc(doc).is_err();
    let ok = "```toml\n[severities.SEV1.clocks]\nacknowledge = \"5m\"\n```\n";
    assert!(!fails(ok), "a valid fragment passes");
    assert!(fails(
        "```toml\n[severities.SEV1.clocks]\nacknowledge = \"5 minutes\"\n```\n"
    ));
    assert!(fails(
        "```toml\n[severities.SEV1.clocks]\nacknowlege = \"5m\"\n```\n"
    ));
    assert!(fails(
        "```toml\n# complete\n[severities.SEV1.clocks]\nacknowledge = \"5m\"\n```\n"
    ));
    assert!(fails(
        "```toml\n# invalid: clocks\n[severities.SEV1.clocks]\nacknowledge = \"5m\"\n```\n"
    ));
    assert!(fails("```toml\n# invalid: calendar\n[severities.SEV1.clocks]\nacknowledge = \"5 minutes\"\n```\n"));
    assert!(!fails("```toml\n# invalid: severities.SEV1.clocks.acknowledge\n[severities.SEV1.clocks]\nacknowledge = \"5 minutes\"\n```\n"));
    assert!(fails(
        "```toml\n# invalid\n[severities.SEV1.clocks]\nacknowledge = \"5 minutes\"\n```\n"
    ));
    assert!(fails("```toml\n[severities.SEV1.clocks]\n"));
    // Other fences are not read as policies.
    assert!(!fails("```yaml\nstart: now\n```\n```text\nnot toml\n```\n"));
}
