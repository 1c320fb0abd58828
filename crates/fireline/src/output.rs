//! Plain-text rendering for people; `--json` prints the API's JSON instead.

use fireline_http::wire::{EventView, IncidentDetail, IncidentSummaryView};
use jiff::Timestamp;
use serde_json::Value;

/// Writes command output to stdout. When the reader has gone (a closed pipe) there is
/// nobody to tell, so the program ends with success, as `cat` and `grep` do.
pub fn emit(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
    }
}

/// Prints rows as left-aligned columns under a header.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  ", w = *w));
            }
        }
        out.trim_end().to_owned()
    };
    let mut out = line(header.to_vec());
    out.push('\n');
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    out
}

/// `2026-11-22 10:04:05Z`, to the second.
pub fn when(t: &Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// `PATH: N problem(s)`, then each problem's place and message, and its hint when it has
/// one: how a refused policy or roster file is explained.
pub fn problems_message<'a>(
    path: &std::path::Path,
    problems: &[(&'a str, &'a str, &'a str)],
) -> String {
    let mut message = format!(
        "{}: {} problem{}",
        path.display(),
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for (at, text, hint) in problems {
        message.push_str(&format!("\n  {at}: {text}"));
        if !hint.is_empty() {
            message.push_str(&format!("\n    hint: {hint}"));
        }
    }
    message
}

/// An optional instant as [`when`], or `-`.
pub fn when_or_dash(t: Option<&Timestamp>) -> String {
    t.map(when).unwrap_or_else(|| "-".to_owned())
}

/// A stored list (tokens, users, integrations) for `list`: the API's JSON views with
/// `--json`, `empty` when there is nothing, else a table of `header` and `row`s.
pub fn listing<T, V: serde::Serialize>(
    items: &[T],
    json: bool,
    view: impl Fn(&T) -> V,
    empty: &str,
    header: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) -> Result<(), crate::exit::Failure> {
    if json {
        let views: Vec<V> = items.iter().map(view).collect();
        let text = serde_json::to_string_pretty(&views)
            .map_err(|e| crate::exit::Failure::general(e.to_string()))?;
        emit(&format!("{text}\n"));
    } else if items.is_empty() {
        emit(&format!("{empty}\n"));
    } else {
        let rows: Vec<Vec<String>> = items.iter().map(row).collect();
        emit(&table(header, &rows));
    }
    Ok(())
}

/// The incident list as a table.
pub fn incident_list(incidents: &[IncidentSummaryView]) -> String {
    if incidents.is_empty() {
        return "no incidents match\n".to_owned();
    }
    let rows: Vec<Vec<String>> = incidents
        .iter()
        .map(|i| {
            vec![
                i.id.clone(),
                i.severity.clone(),
                i.status.clone(),
                if i.acknowledged_at.is_some() {
                    "yes"
                } else {
                    "no"
                }
                .to_owned(),
                i.service.clone(),
                when(&i.declared_at),
                i.title.clone(),
            ]
        })
        .collect();
    table(
        &[
            "ID", "SEVERITY", "STATUS", "ACKED", "SERVICE", "DECLARED", "TITLE",
        ],
        &rows,
    )
}

fn text(data: &serde_json::Map<String, Value>, key: &str) -> String {
    data.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn list(data: &serde_json::Map<String, Value>, key: &str) -> String {
    data.get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn with_detail(base: String, data: &serde_json::Map<String, Value>, key: &str) -> String {
    match data.get(key).and_then(Value::as_str) {
        Some(extra) => format!("{base}: {extra}"),
        None => base,
    }
}

/// Who a page reached: ` → alice (schedule:primary); nobody for schedule:x`.
fn reached(d: &serde_json::Map<String, Value>) -> String {
    let people: Vec<String> = d
        .get("recipients")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| {
            format!(
                "{} ({})",
                r.get("person").and_then(Value::as_str).unwrap_or("?"),
                r.get("via").and_then(Value::as_str).unwrap_or("?")
            )
        })
        .collect();
    let mut out = String::new();
    if !people.is_empty() {
        out.push_str(&format!(" → {}", people.join(", ")));
    }
    let unreached = list(d, "unreached");
    if !unreached.is_empty() {
        out.push_str(&format!("; reached nobody for {unreached}"));
    }
    out
}

/// One timeline line's description.
pub fn describe(event: &EventView) -> String {
    let d = &event.data;
    match event.kind.as_str() {
        "declared" => format!(
            "declared {} on {}: {}",
            text(d, "severity"),
            text(d, "service"),
            text(d, "title")
        ),
        "acknowledged" => "acknowledged".to_owned(),
        "severity_changed" => with_detail(
            format!("severity {} → {}", text(d, "from"), text(d, "to")),
            d,
            "reason",
        ),
        "status_changed" => with_detail(
            format!("status {} → {}", text(d, "from"), text(d, "to")),
            d,
            "message",
        ),
        "role_assigned" => format!("{} is now {}", text(d, "assignee"), text(d, "role")),
        "note_added" => format!("note: {}", text(d, "text")),
        "resolved" => with_detail("resolved".to_owned(), d, "summary"),
        "reopened" => with_detail("reopened".to_owned(), d, "reason"),
        "alert_attached" => format!(
            "alert {}: {} ({})",
            text(d, "dedup_key"),
            text(d, "summary"),
            text(d, "reason")
        ),
        "alert_updated" => format!(
            "alert {} changed: {}",
            text(d, "dedup_key"),
            text(d, "summary")
        ),
        "alert_resolved" => format!("alert {} resolved", text(d, "dedup_key")),
        "update_posted" => format!("{} update: {}", text(d, "channel"), text(d, "text")),
        "postmortem_stage_completed" => format!("post-mortem {} done", text(d, "stage")),
        "paged" => format!(
            "paged {} ({}){}",
            list(d, "targets"),
            text(d, "severity"),
            reached(d)
        ),
        "escalated" => format!(
            "escalated to level {} {}: {} ({}){}",
            d.get("level").map(Value::to_string).unwrap_or_default(),
            text(d, "name"),
            list(d, "targets"),
            text(d, "reason"),
            reached(d)
        ),
        "escalation_exhausted" => format!(
            "ESCALATION EXHAUSTED: level {} repeated {} times, nobody acknowledged{}",
            d.get("level").map(Value::to_string).unwrap_or_default(),
            d.get("repeats").map(Value::to_string).unwrap_or_default(),
            reached(d)
        ),
        "notified" => {
            let bundled = d.get("bundled").and_then(Value::as_u64).unwrap_or(1);
            format!(
                "notified {} by {}{}",
                text(d, "person"),
                text(d, "channel"),
                if bundled > 1 {
                    format!(" (one message bundling {bundled})")
                } else {
                    String::new()
                }
            )
        }
        "notification_failed" => format!(
            "could not notify {} by {} after {} attempt(s): {}",
            text(d, "person"),
            text(d, "channel"),
            d.get("attempts").map(Value::to_string).unwrap_or_default(),
            text(d, "error")
        ),
        "sla_breached" => format!(
            "{} clock breached (target {})",
            text(d, "clock"),
            text(d, "target")
        ),
        "update_due" => format!("{} update due", text(d, "channel")),
        "customer_notice_due" => format!("customer notice due by {}", text(d, "due_by")),
        "monitoring_verified" => "monitoring period passed: fix verified".to_owned(),
        "postmortem_due" => format!("post-mortem {} due", text(d, "stage")),
        "followup_due" => format!("follow-up due: {}", text(d, "label")),
        "postmortem_reminder" => format!(
            "reminder: post-mortem {} due by {}",
            text(d, "stage"),
            text(d, "due_by")
        ),
        "runbook_attached" => format!(
            "runbook {} attached: {} ({} steps)",
            text(d, "runbook"),
            text(d, "title"),
            d.get("steps").and_then(Value::as_array).map_or(0, Vec::len)
        ),
        "checklist_step_checked" => {
            let verb = if d.get("done").and_then(Value::as_bool) == Some(false) {
                "unchecked"
            } else {
                "checked"
            };
            let line = format!("{verb} step {}", text(d, "step"));
            match d.get("output").and_then(Value::as_str) {
                Some(o) => format!("{line}: {}", o.lines().next().unwrap_or("")),
                None => line,
            }
        }
        other => format!("{other} {}", Value::Object(d.clone())),
    }
}

/// An incident with its timeline.
pub fn incident_detail(detail: &IncidentDetail) -> String {
    let i = &detail.incident;
    let mut out = format!("{}  {}  {}  {}\n", i.id, i.severity, i.status, i.title);
    out.push_str(&format!("  service:      {}\n", i.service));
    if let Some(category) = &i.category {
        out.push_str(&format!("  category:     {category}\n"));
    }
    if !i.flags.is_empty() {
        out.push_str(&format!("  flags:        {}\n", i.flags.join(", ")));
    }
    if let Some(policy) = &i.policy {
        out.push_str(&format!("  policy:       {policy}\n"));
    }
    if let Some(summary) = &i.summary {
        out.push_str(&format!("  summary:      {summary}\n"));
    }
    if let Some(channel) = &detail.channel_name {
        out.push_str(&format!("  channel:      {channel}\n"));
    }
    for (channel, at) in &detail.next_updates {
        out.push_str(&format!("  next update:  {channel} by {}\n", when(at)));
    }
    out.push_str(&format!(
        "  declared:     {} by {}\n",
        when(&i.declared_at),
        i.declared_by
    ));
    match (&i.acknowledged_at, &i.acknowledged_by) {
        (Some(at), Some(by)) => out.push_str(&format!("  acknowledged: {} by {by}\n", when(at))),
        _ => out.push_str("  acknowledged: no\n"),
    }
    if let Some(at) = &i.resolved_at {
        out.push_str(&format!("  resolved:     {}\n", when(at)));
    }
    if !i.roles.is_empty() {
        let roles: Vec<String> = i
            .roles
            .iter()
            .map(|(r, who)| format!("{r}={who}"))
            .collect();
        out.push_str(&format!("  roles:        {}\n", roles.join(", ")));
    }
    out.push_str(&format!("  version:      {}\n", i.version));
    if let Some(c) = &detail.checklist {
        out.push_str(&format!(
            "\nRunbook {} — {}: {}\n",
            c.runbook, c.title, c.progress
        ));
        for p in &c.phases {
            out.push_str(&format!(
                "  phase {}: {} – {}, {} of {}{}\n",
                p.name,
                when(&p.starts_at),
                when(&p.ends_at),
                p.done,
                p.total,
                if p.overdue { "  OVERDUE" } else { "" }
            ));
        }
        for s in &c.steps {
            out.push_str(&format!(
                "  [{}] {}  ({})\n",
                if s.done { "x" } else { " " },
                s.text,
                s.id
            ));
        }
    }
    out.push_str("\nTimeline (UTC)\n");
    let rows: Vec<Vec<String>> = detail
        .timeline
        .iter()
        .map(|e| vec![when(&e.at), e.actor.clone(), describe(e)])
        .collect();
    out.push_str(&table(&["AT", "ACTOR", "EVENT"], &rows));
    out
}

#[cfg(test)]
mod tests {
    use super::{describe, table};
    use fireline_http::wire::EventView;

    fn event(kind: &str, data: serde_json::Value) -> EventView {
        EventView {
            id: 1,
            seq: 2,
            at: "2026-03-02T14:00:00Z".parse().expect("time"),
            actor: "fireline".into(),
            kind: kind.into(),
            data: data.as_object().expect("object").clone(),
        }
    }

    #[test]
    fn pages_say_who_they_reached_and_who_they_did_not() {
        let line = describe(&event(
            "paged",
            serde_json::json!({"severity": "SEV1", "targets": ["schedule:primary", "schedule:night"],
                "recipients": [{"person": "alice", "via": "schedule:primary"}],
                "unreached": ["schedule:night"]}),
        ));
        assert_eq!(
            line,
            "paged schedule:primary, schedule:night (SEV1) → alice (schedule:primary); reached nobody for schedule:night"
        );
        let bundled = describe(&event(
            "notified",
            serde_json::json!({"person": "bob", "channel": "slack", "bundled": 3, "key": "k", "detail": "HTTP 200"}),
        ));
        assert_eq!(bundled, "notified bob by slack (one message bundling 3)");
    }

    #[test]
    fn columns_align_to_the_widest_cell() {
        let out = table(
            &["ID", "TITLE"],
            &[
                vec!["INC-1".into(), "a".into()],
                vec!["INC-100".into(), "b".into()],
            ],
        );
        assert_eq!(out, "ID       TITLE\nINC-1    a\nINC-100  b\n");
    }
}
