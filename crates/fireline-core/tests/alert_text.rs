//! Text from monitoring is normalised, never refused after acceptance: every alert that
//! a receiver accepted can open an incident.

use fireline_core::alert::{
    clean_text, decide_alert, one_line, route, unrecorded_reason, AlertInput, AlertOutcome,
    AlertStatus, Situation,
};
use fireline_core::command::{MAX_SERVICE, MAX_TEXT, MAX_TITLE};
use fireline_core::policy::Policy;
use fireline_core::{declare, EventData};
use jiff::Timestamp;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn alert(summary: &str) -> AlertInput {
    AlertInput {
        dedup_key: "k1".into(),
        status: AlertStatus::Firing,
        summary: summary.into(),
        source_severity: Some("critical".into()),
        service: None,
        labels: BTreeMap::from([("alertname".to_owned(), "InstanceDown".to_owned())]),
        annotations: BTreeMap::new(),
        starts_at: None,
        ends_at: None,
        group: None,
        link: None,
    }
}

/// Normalises `alert` as the receivers and the processor do, then opens its incident;
/// returns the declaration's event data.
fn opened(mut alert: AlertInput) -> EventData {
    let policy = Policy::builtin();
    alert.normalise();
    let now = Timestamp::from_second(1_800_000_000).expect("a time");
    let routed = route(&policy, &alert, "int_1", "checkout", now);
    match decide_alert(&policy, &alert, "int_1", &routed, Situation::default(), now) {
        AlertOutcome::Declare(declaration, _) => {
            declare(&declaration, &policy).expect("an accepted alert opens its incident")
        }
        other => panic!("expected a new incident, got {other:?}"),
    }
}

fn title(data: &EventData) -> &str {
    match data {
        EventData::Declared { title, .. } => title,
        other => panic!("not a declaration: {other:?}"),
    }
}

#[test]
fn alert_with_tab_in_summary_opens_an_incident() {
    let data = opened(alert("Instance db1\tdown"));
    assert_eq!(title(&data), "Instance db1 down");
}

#[test]
fn alert_with_newlines_in_summary_opens_an_incident_titled_on_one_line() {
    let data = opened(alert("Disk full\r\non db1\n\n  (sda)"));
    assert_eq!(title(&data), "Disk full on db1 (sda)");
}

#[test]
fn alert_with_del_esc_and_nul_opens_an_incident() {
    let data = opened(alert("a\u{7f}b\u{1b}[31mred\u{0}!"));
    assert_eq!(title(&data), "a\u{FFFD}b\u{FFFD}[31mred!");
}

#[test]
fn alert_with_nul_in_key_and_labels_keeps_no_nul() {
    let mut a = alert("s\u{0}");
    a.dedup_key = "k\u{0}".into();
    a.labels = BTreeMap::from([("a\u{0}".to_owned(), "b\u{0}".to_owned())]);
    a.annotations = BTreeMap::from([("description".to_owned(), "line 1\nline\u{0} 2".to_owned())]);
    a.normalise();
    assert_eq!(a.dedup_key, "k");
    assert_eq!(a.summary, "s");
    assert_eq!(a.labels.get("a").map(String::as_str), Some("b"));
    // Descriptions keep their lines.
    assert_eq!(
        a.annotations.get("description").map(String::as_str),
        Some("line 1\nline 2")
    );
}

#[test]
fn alert_with_long_description_opens_an_incident_with_the_description_cut() {
    let mut a = alert("Latency high");
    a.annotations
        .insert("description".into(), "x".repeat(MAX_TEXT + 5_000));
    match opened(a) {
        EventData::Declared { summary, .. } => {
            let summary = summary.expect("the description becomes the summary");
            assert_eq!(summary.chars().count(), MAX_TEXT);
            assert!(summary.ends_with('…'));
        }
        other => panic!("not a declaration: {other:?}"),
    }
}

#[test]
fn alert_with_multi_line_service_label_opens_an_incident() {
    let mut a = alert("Checkout slow");
    a.labels.insert("service".into(), "checkout\napi".into());
    match opened(a) {
        EventData::Declared { service, .. } => assert_eq!(service, "checkout api"),
        other => panic!("not a declaration: {other:?}"),
    }
}

#[test]
fn alert_with_blank_summary_is_titled_by_its_alert_name() {
    let data = opened(alert(" \t\n "));
    assert_eq!(title(&data), "InstanceDown");
}

#[test]
fn long_titles_are_cut_with_an_ellipsis() {
    let line = one_line(&"y".repeat(MAX_TITLE * 2), MAX_TITLE);
    assert_eq!(line.chars().count(), MAX_TITLE);
    assert!(line.ends_with('…'));
    assert_eq!(one_line("short", MAX_SERVICE), "short");
}

#[test]
fn clean_text_leaves_ordinary_text_alone() {
    assert_eq!(
        clean_text("plain ü text\nwith lines\tand tabs"),
        "plain ü text\nwith lines\tand tabs"
    );
}

#[test]
fn a_resolved_alert_never_seen_firing_is_recorded_with_a_reason() {
    let policy = Policy::builtin();
    let mut a = alert("gone");
    a.status = AlertStatus::Resolved;
    let now = Timestamp::from_second(1_800_000_000).expect("a time");
    let routed = route(&policy, &a, "int_1", "checkout", now);
    let outcome = decide_alert(&policy, &a, "int_1", &routed, Situation::default(), now);
    assert_eq!(outcome, AlertOutcome::Nothing);
    let reason = unrecorded_reason(&routed, &a, None).expect("a reason");
    assert!(reason.contains("resolved"), "{reason}");
}

proptest! {
    /// Whatever text monitoring sends, a firing alert opens an incident.
    #[test]
    fn any_summary_opens_an_incident(summary in any::<String>(), service in any::<String>(), description in any::<String>()) {
        let mut a = alert(&summary);
        a.labels.insert("service".into(), service);
        a.annotations.insert("description".into(), description);
        let data = opened(a);
        let t = title(&data);
        prop_assert!(!t.is_empty());
        prop_assert!(!t.chars().any(char::is_control));
    }
}
