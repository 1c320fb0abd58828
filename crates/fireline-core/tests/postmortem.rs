//! The post-mortem draft from a fixed event log, its HTML export, stages and action items.

use fireline_core::describe::duration;
use fireline_core::policy::post_incident::Template;
use fireline_core::postmortem::{
    analyze, check_stage, close, render_draft, to_html, ActionItem, ActionStatus, DraftInput,
    Phase, Priority, Related,
};
use fireline_core::{
    Channel, DomainError, EventData, Incident, IncidentId, Recipient, RecordedEvent, Status,
};
use fireline_core::{ClockKind, Stage};
use jiff::{SignedDuration, Timestamp};

fn at(hhmm: &str) -> Timestamp {
    format!("2026-03-02T{hhmm}:00Z").parse().expect("time")
}

/// The incident log the draft tests read, numbered in order.
fn log() -> Vec<RecordedEvent> {
    [opening(), response()]
        .concat()
        .into_iter()
        .enumerate()
        .map(|(i, (t, actor, data))| RecordedEvent {
            id: i as i64 + 1,
            seq: i as u64 + 1,
            at: at(t),
            actor: actor.into(),
            data,
        })
        .collect()
}

/// Declared from an alert that started three minutes earlier, paged, acknowledged.
fn opening() -> Vec<(&'static str, &'static str, EventData)> {
    vec![
        (
            "14:00",
            "integration:prom",
            EventData::Declared {
                title: "Checkout 5xx".into(),
                severity: "SEV2".into(),
                service: "checkout".into(),
                summary: None,
                category: None,
                flags: vec![],
                policy: None,
            },
        ),
        (
            "14:00",
            "integration:prom",
            EventData::AlertAttached {
                integration: "prom".into(),
                dedup_key: "HighErrors".into(),
                summary: "5xx above 5%".into(),
                labels: Default::default(),
                annotations: Default::default(),
                starts_at: Some(at("13:57")),
                link: None,
                route: None,
                runbook: None,
                digest: "d".into(),
                reason: "new alert".into(),
                group: "g".into(),
                targets: vec![],
            },
        ),
        (
            "14:00",
            "fireline",
            EventData::Paged {
                key: "c0:page:SEV2".into(),
                severity: "SEV2".into(),
                targets: vec!["schedule:primary".into()],
                recipients: vec![Recipient {
                    person: "bob".into(),
                    via: "schedule:primary".into(),
                }],
                unreached: vec![],
            },
        ),
        (
            "14:01",
            "fireline",
            EventData::Notified {
                key: "k1".into(),
                person: "bob".into(),
                channel: "slack".into(),
                detail: "ok".into(),
                bundled: 1,
            },
        ),
        ("14:04", "bob", EventData::Acknowledged),
    ]
}

/// Raised, a clock breached, escalated with one notification failing, an update posted,
/// mitigated and resolved.
fn response() -> Vec<(&'static str, &'static str, EventData)> {
    vec![
        (
            "14:10",
            "bob",
            EventData::SeverityChanged {
                from: "SEV2".into(),
                to: "SEV1".into(),
                reason: Some("all regions".into()),
            },
        ),
        (
            "14:15",
            "fireline",
            EventData::SlaBreached {
                key: "c0:sla_breach:initial_update".into(),
                clock: ClockKind::InitialUpdate,
                target: "15m".into(),
            },
        ),
        (
            "14:15",
            "fireline",
            EventData::UpdateDue {
                key: "c0:update_due:internal:1".into(),
                channel: Channel::Internal,
            },
        ),
        (
            "14:20",
            "fireline",
            EventData::Escalated {
                key: Some("c0:escalate:1".into()),
                level: 1,
                name: "Secondary".into(),
                targets: vec!["schedule:secondary".into(), "team:db".into()],
                reason: "no status progress within 20m".into(),
                recipients: vec![Recipient {
                    person: "carol".into(),
                    via: "schedule:secondary".into(),
                }],
                unreached: vec!["team:db".into()],
            },
        ),
        (
            "14:21",
            "fireline",
            EventData::NotificationFailed {
                key: "k2".into(),
                person: "carol".into(),
                channel: "email".into(),
                error: "mailbox full".into(),
                attempts: 3,
            },
        ),
        (
            "14:25",
            "bob",
            EventData::UpdatePosted {
                channel: Channel::Internal,
                text: "Rolling back | deploy 4f2c".into(),
            },
        ),
        (
            "14:40",
            "bob",
            EventData::StatusChanged {
                from: Status::Investigating,
                to: Status::Monitoring,
                message: Some("rollback done".into()),
            },
        ),
        (
            "15:10",
            "bob",
            EventData::Resolved {
                summary: Some("<b>stable</b>".into()),
            },
        ),
    ]
}

fn incident(events: &[RecordedEvent]) -> Incident {
    Incident::fold(IncidentId(7), events).expect("a valid log")
}

#[test]
fn analysis_measures_the_response_from_the_log() {
    let a = analyze(&log());
    let measures: Vec<(&str, String)> = a
        .measures
        .iter()
        .map(|m| (m.name, duration(m.took())))
        .collect();
    assert_eq!(
        measures,
        vec![
            ("detect", "3m".to_owned()),
            ("acknowledge", "4m".to_owned()),
            ("mitigate", "40m".to_owned()),
            ("resolve", "1h 10m".to_owned()),
        ]
    );
    assert_eq!(a.duration, SignedDuration::from_mins(70));
    assert_eq!(
        a.breaches,
        vec![("initial_update".into(), "15m".into(), at("14:15"))]
    );
    assert_eq!(a.acknowledged, vec![(at("14:04"), "bob".to_owned())]);
    assert_eq!(a.pages.len(), 2);
    assert_eq!(
        a.pages[1].reached,
        vec![("carol".to_owned(), "schedule:secondary".to_owned())]
    );
    assert_eq!(a.pages[1].unreached, vec!["team:db".to_owned()]);
    assert_eq!(
        a.notified,
        vec![(at("14:01"), "bob".into(), "slack".into())]
    );
    assert_eq!(a.failed.len(), 1);
    assert_eq!(a.severities, vec!["SEV2".to_owned(), "SEV1".to_owned()]);
}

#[test]
fn draft_has_the_timeline_rows_in_utc_and_the_facts() {
    let events = log();
    let incident = incident(&events);
    let related = vec![Related {
        id: IncidentId(3),
        title: "Checkout | slow".into(),
        service: "checkout".into(),
        severity: "SEV3".into(),
        status: Status::Resolved,
        declared_at: "2026-02-01T09:00:00Z".parse().expect("ts"),
        reasons: vec!["same service".into(), "shared alert prom/HighErrors".into()],
    }];
    let md = render_draft(&DraftInput {
        incident: &incident,
        events: &events,
        related: &related,
        actions: &[],
        template: Template::Standard,
        stages: &[],
    });
    let rows: Vec<&str> = md
        .lines()
        .skip_while(|l| !l.starts_with("| Time (UTC) | Who | Event |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(
        rows,
        vec![
            "| 2026-03-02 14:00 | integration:prom | declared SEV2 on checkout: Checkout 5xx |",
            "| 2026-03-02 14:00 | integration:prom | alert: 5xx above 5% (new alert) |",
            "| 2026-03-02 14:00 | fireline | paged schedule primary for SEV2; reached bob |",
            "| 2026-03-02 14:01 | fireline | bob notified by slack |",
            "| 2026-03-02 14:04 | bob | acknowledged |",
            "| 2026-03-02 14:10 | bob | severity SEV2 → SEV1: all regions |",
            "| 2026-03-02 14:15 | fireline | initial update clock breached (target 15m) |",
            "| 2026-03-02 14:20 | fireline | escalated to level 1 Secondary (no status progress within 20m): schedule secondary, team db; reached carol; nobody at team db |",
            "| 2026-03-02 14:21 | fireline | could not notify carol by email after 3 attempts: mailbox full |",
            "| 2026-03-02 14:25 | bob | internal update: Rolling back \\| deploy 4f2c |",
            "| 2026-03-02 14:40 | bob | status investigating → monitoring: rollback done |",
            "| 2026-03-02 15:10 | bob | resolved: <b>stable</b> |",
        ],
        "update_due reminders stay out; a | in text is escaped"
    );
    for expected in [
        "| Time to detect | 3m | 2026-03-02 13:57 | 2026-03-02 14:00 |",
        "| Time to acknowledge | 4m | 2026-03-02 14:00 | 2026-03-02 14:04 |",
        "| Time to mitigate | 40m | 2026-03-02 14:00 | 2026-03-02 14:40 |",
        "| Time to resolve | 1h 10m | 2026-03-02 14:00 | 2026-03-02 15:10 |",
        "| Duration | 1h 10m |",
        "| Severity | SEV2 → SEV1 |",
        "**Clocks breached:** initial_update (target 15m, at 2026-03-02 14:15).",
        "**Escalations reached:** level 1 Secondary at 2026-03-02 14:20 (no status progress within 20m).",
        "| 2026-03-02 14:00 | page SEV2 | schedule:primary | bob (via schedule:primary) |  |",
        "| 2026-03-02 14:20 | escalation level 1 (Secondary) | schedule:secondary, team:db | carol (via schedule:secondary) | team:db |",
        "**Notifications:** bob by slack at 2026-03-02 14:01; carol by email failed at 2026-03-02 14:21 (mailbox full).",
        "**Answered by:** bob acknowledged at 2026-03-02 14:04, 4m after the first page.",
        "- 2026-03-02 14:25 internal: Rolling back \\| deploy 4f2c",
        "- `prom/HighErrors` 5xx above 5% (joined 2026-03-02 14:00)",
        "- **INC-3** (2026-02-01, SEV3, resolved): Checkout \\| slow — same service; shared alert prom/HighErrors",
        "## Root cause",
        "## Lessons learned",
    ] {
        assert!(md.lines().any(|l| l == expected), "missing {expected:?} in:\n{md}");
    }
}

#[test]
fn each_seed_template_keeps_its_sections() {
    let events = log();
    let incident = incident(&events);
    let draft = |template| {
        render_draft(&DraftInput {
            incident: &incident,
            events: &events,
            related: &[],
            actions: &[],
            template,
            stages: &[],
        })
    };
    let seed_001 = draft(Template::AgenticFlow);
    assert!(seed_001.starts_with("# Post-Mortem: Checkout 5xx\n"));
    for heading in [
        "## Executive Summary",
        "## Timeline (All times UTC)",
        "## Root Cause",
        "## Detection",
        "**Where did we get lucky?**",
        "## Related Incidents",
        "**Post-Mortem Review Meeting**: _date and time (UTC)_",
    ] {
        assert!(seed_001.contains(heading), "001 lacks {heading}");
    }
    let seed_003 = draft(Template::ProductionAgents);
    assert!(seed_003.starts_with("# Postmortem: Checkout 5xx\n"));
    for heading in [
        "**Duration:** 1h 10m",
        "## What Went Well",
        "## What Went Wrong",
        "## Prevention",
        "| Action | Owner | Due Date | Priority |",
        "**Postmortem Owner:**",
    ] {
        assert!(seed_003.contains(heading), "003 lacks {heading}");
    }
    assert_eq!("agentic-flow".parse(), Ok(Template::AgenticFlow));
    assert!("seed-9".parse::<Template>().is_err());
}

#[test]
fn html_export_escapes_everything_and_loads_nothing() {
    let md = "# Post-mortem: <script>alert(1)</script>\n\n\
              | Time | Event |\n|---|---|\n| 14:00 | a \\| b & \"c\" |\n\n\
              - **bold** and _prompt_ and `x<y`\n\n<img src=x onerror=alert(1)>\n\n\
              ![graph](https://example.com/g.png)\n";
    let html = to_html("A <title> & more", md);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<title>A &lt;title&gt; &amp; more</title>"));
    assert!(html.contains("<h1>Post-mortem: &lt;script&gt;alert(1)&lt;/script&gt;</h1>"));
    // pulldown-cmark: a header row in <thead>, and quotes left as they are in text.
    assert!(html.contains("<thead><tr><th>Time</th><th>Event</th></tr></thead>"));
    assert!(html.contains("<tr><td>14:00</td><td>a | b &amp; \"c\"</td></tr>"));
    assert!(
        html.contains("<li><strong>bold</strong> and <em>prompt</em> and <code>x&lt;y</code></li>")
    );
    assert!(html.contains("<p>&lt;img src=x onerror=alert(1)&gt;</p>"));
    // An image is its alt text: the page loads nothing.
    assert!(html.contains("<p>graph</p>"), "{html}");
    for forbidden in [
        "<script",
        "<img",
        "src=\"http",
        "example.com",
        "href=",
        "@import",
        "url(",
    ] {
        assert!(!html.contains(forbidden), "{forbidden} in:\n{html}");
    }
}

#[test]
fn html_export_escapes_raw_html_in_blocks_and_inline() {
    let md = "<script>alert(1)</script>\n\nText <script>alert(2)</script> and \
              <a href=\"https://evil.example\" onclick=\"x()\">a</a>.\n\n\
              <div onmouseover=\"x()\">\n*still text*\n</div>\n";
    let html = to_html("t", md);
    assert!(
        html.contains("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        "{html}"
    );
    assert!(
        html.contains("Text &lt;script&gt;alert(2)&lt;/script&gt; and &lt;a href="),
        "{html}"
    );
    assert!(html.contains("&lt;div onmouseover="), "{html}");
    // Attributes stay as text: no element is opened for them to belong to.
    for forbidden in ["<script", "<a ", "<div"] {
        assert!(!html.contains(forbidden), "{forbidden} in:\n{html}");
    }
}

#[test]
fn html_export_keeps_web_links_and_drops_script_links() {
    let md = "See [the dashboard](https://grafana.example/d/1?a=1&b=2), \
              [mail us](mailto:ops@example.com) and [click](javascript:alert(1)).\n\n\
              [also](JAVASCRIPT:alert(1)) [data](data:text/html;base64,PHNjcmlwdD4=) \
              [ref][r]\n\n[r]: javascript:alert(1)\n";
    let html = to_html("t", md);
    assert!(
        html.contains("<a href=\"https://grafana.example/d/1?a=1&amp;b=2\">the dashboard</a>"),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"mailto:ops@example.com\">mail us</a>"),
        "{html}"
    );
    // Not links: their text alone.
    assert!(html.contains(" and click.</p>"), "{html}");
    assert!(html.contains("<p>also data ref</p>"), "{html}");
    assert_eq!(html.matches("<a ").count(), 2, "{html}");
    assert!(!html.to_ascii_lowercase().contains("javascript:"), "{html}");
    assert!(!html.contains("data:"), "{html}");
}

#[test]
fn html_export_renders_code_fences_verbatim() {
    let md = "Steps:\n\n```sh\nkubectl rollout undo deploy/checkout && echo '<done>'\n# not a heading\n```\n\n    indented <b>code</b>\n";
    let html = to_html("t", md);
    assert!(
        html.contains(
            "<pre><code class=\"language-sh\">kubectl rollout undo deploy/checkout &amp;&amp; \
             echo '&lt;done&gt;'\n# not a heading\n</code></pre>"
        ),
        "{html}"
    );
    assert!(
        html.contains("<pre><code>indented &lt;b&gt;code&lt;/b&gt;\n</code></pre>"),
        "{html}"
    );
    assert!(!html.contains("<h1>"), "{html}");
}

#[test]
fn every_draft_renders_to_the_same_structure_in_html() {
    let events = log();
    let incident = incident(&events);
    let related = vec![Related {
        id: IncidentId(3),
        title: "Checkout | slow <b>".into(),
        service: "checkout".into(),
        severity: "SEV3".into(),
        status: Status::Resolved,
        declared_at: "2026-02-01T09:00:00Z".parse().expect("ts"),
        reasons: vec!["same service".into()],
    }];
    let actions = [item("2026-03-09", ActionStatus::Open)];
    for template in Template::ALL {
        let md = render_draft(&DraftInput {
            incident: &incident,
            events: &events,
            related: &related,
            actions: &actions,
            template,
            stages: &[],
        });
        let html = to_html("t", &md);
        let count = |prefix: &str| md.lines().filter(|l| l.starts_with(prefix)).count();
        // Every heading is a heading (no `---` read as an underline), every rule a rule,
        // every table row a row.
        for level in 1..=3 {
            let hashes = format!("{} ", "#".repeat(level));
            assert_eq!(
                html.matches(&format!("<h{level}>")).count(),
                count(&hashes),
                "{template:?} h{level}:\n{md}\n{html}"
            );
        }
        assert_eq!(html.matches("<hr />").count(), count("---"), "{template:?}");
        let separators = md
            .lines()
            .filter(|l| l.starts_with("|-") || l.starts_with("| -") || l.starts_with("|:"))
            .count();
        assert_eq!(
            html.matches("<tr>").count(),
            count("|") - separators,
            "{template:?}:\n{md}\n{html}"
        );
        assert!(
            html.contains("Checkout | slow &lt;b&gt;"),
            "{template:?}: {html}"
        );
        assert!(
            !html.contains("<p>|"),
            "{template:?}: a table read as text: {html}"
        );
    }
}

#[test]
fn stages_go_draft_then_review_then_publish() {
    let events = log();
    let resolved = incident(&events);
    let refused = |done: &[Stage], stage| check_stage(&resolved, done, stage).expect_err("refused");
    assert!(check_stage(&resolved, &[], Stage::Draft).is_ok());
    assert!(matches!(refused(&[], Stage::Review), DomainError::Conflict(m) if m.contains("draft")));
    assert!(matches!(
        refused(&[Stage::Draft], Stage::Publish),
        DomainError::Conflict(m) if m.contains("review")
    ));
    assert!(check_stage(&resolved, &[Stage::Draft], Stage::ReviewMeeting).is_ok());
    assert!(matches!(
        refused(&[Stage::Draft], Stage::Draft),
        DomainError::Conflict(m) if m.contains("already")
    ));
    let open = incident(&events[..5]);
    assert!(check_stage(&open, &[], Stage::Draft).is_err());

    assert_eq!(Phase::from_completed(&[]), Phase::Draft);
    assert_eq!(Phase::from_completed(&[Stage::Draft]), Phase::Review);
    assert_eq!(
        Phase::from_completed(&[Stage::Draft, Stage::Review, Stage::Publish]),
        Phase::Published
    );
    assert_eq!(Phase::next_stage(&[]), Some(Stage::Draft));
    assert_eq!(Phase::next_stage(&[Stage::Draft]), Some(Stage::Review));
    // Regression: with draft and review done the phase is still review, and advancing
    // publishes rather than completing the review again.
    let both = [Stage::Draft, Stage::Review];
    assert_eq!(Phase::from_completed(&both), Phase::Review);
    assert_eq!(Phase::next_stage(&both), Some(Stage::Publish));
    assert_eq!(
        Phase::next_stage(&[Stage::Draft, Stage::Review, Stage::Publish]),
        None
    );
}

fn item(due: &str, status: ActionStatus) -> ActionItem {
    ActionItem {
        id: 4,
        incident: IncidentId(7),
        title: "Add canary".into(),
        owner: "bob".into(),
        priority: Priority::P1,
        due: due.parse().expect("date"),
        status,
        note: None,
        created_at: at("16:00"),
        created_by: "alice".into(),
        updated_at: at("16:00"),
        updated_by: "alice".into(),
    }
}

#[test]
fn action_items_close_only_with_a_note_and_are_overdue_after_their_day() {
    let open = item("2026-03-02", ActionStatus::Open);
    assert!(!open.is_overdue(at("23:59")), "due today is not overdue");
    assert!(open.is_overdue("2026-03-03T00:00:00Z".parse().expect("ts")));
    assert!(!item("2026-03-01", ActionStatus::Done).is_overdue(at("12:00")));

    for note in [None, Some(""), Some("   ")] {
        let refused =
            close(&open, ActionStatus::Done, note, at("17:00"), "bob").expect_err("refused");
        assert!(matches!(
            refused,
            DomainError::Invalid { field: "note", .. }
        ));
    }
    let closed = close(
        &open,
        ActionStatus::WontDo,
        Some(" covered by INC-9 "),
        at("17:00"),
        "bob",
    )
    .expect("closes");
    assert_eq!(closed.status, ActionStatus::WontDo);
    assert_eq!(closed.note.as_deref(), Some("covered by INC-9"));
    assert_eq!(closed.updated_by, "bob");
    assert!(matches!(
        close(&closed, ActionStatus::Done, Some("x"), at("18:00"), "bob"),
        Err(DomainError::Conflict(_))
    ));
    assert!(matches!(
        close(
            &open,
            ActionStatus::InProgress,
            Some("x"),
            at("18:00"),
            "bob"
        ),
        Err(DomainError::Invalid {
            field: "status",
            ..
        })
    ));
    assert_eq!("p2".parse(), Ok(Priority::P2));
    assert!("P4".parse::<Priority>().is_err());
    assert_eq!("wont-do".parse(), Ok(ActionStatus::WontDo));
}
