//! Plain-text rendering for people; `--json` prints the API's JSON instead.

use fireline_core::describe::{self, Precision};
use fireline_core::{EventData, RecordedEvent};
use fireline_http::wire::{EventView, IncidentDetail, IncidentSummaryView};
use jiff::tz::TimeZone;
use jiff::Timestamp;

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

/// `2026-11-22 10:04:05Z`, to the second, in UTC (the `Z` says so on every line, as
/// CLI output is pasted into chats read in many zones).
pub fn when(t: &Timestamp) -> String {
    format!(
        "{}Z",
        describe::instant(*t, &TimeZone::UTC, Precision::Second)
    )
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

/// An event from the API back in core's terms, so it is worded by
/// `fireline_core::describe` exactly as the server's UI and post-mortems word it; `None`
/// for a kind this client does not know (a newer server).
fn recorded(event: &EventView) -> Option<RecordedEvent> {
    EventData::from_kind_and_fields(&event.kind, &event.data)
        .ok()
        .map(|data| RecordedEvent {
            id: event.id,
            seq: event.seq,
            at: event.at,
            actor: event.actor.clone(),
            data,
        })
}

/// A kind this client cannot read, named in words rather than shown as JSON.
fn unknown(event: &EventView) -> String {
    event.kind.replace('_', " ")
}

/// One timeline line's description, on one line.
pub fn describe(event: &EventView) -> String {
    recorded(event).map_or_else(
        || unknown(event),
        |e| describe::event(&e.data, &TimeZone::UTC).one_line(),
    )
}

/// The timeline's descriptions, in order: worded together, so a checked step is named by
/// the text of the runbook attached before it.
fn timeline(events: &[EventView]) -> Vec<String> {
    let parsed: Vec<Option<RecordedEvent>> = events.iter().map(recorded).collect();
    let known: Vec<RecordedEvent> = parsed.iter().flatten().cloned().collect();
    let mut lines = describe::timeline(&known, &TimeZone::UTC).into_iter();
    parsed
        .iter()
        .zip(events)
        .map(|(p, e)| {
            // `known` holds exactly the parsed events, in order: one line each.
            let line = if p.is_some() { lines.next() } else { None };
            line.map_or_else(|| unknown(e), |l| l.what.one_line())
        })
        .collect()
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
        .zip(timeline(&detail.timeline))
        .map(|(e, what)| vec![when(&e.at), e.actor.clone(), what])
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
            serde_json::json!({"key": "c0:page", "severity": "SEV1", "targets": ["schedule:primary", "schedule:night"],
                "recipients": [{"person": "alice", "via": "schedule:primary"}],
                "unreached": ["schedule:night"]}),
        ));
        assert_eq!(
            line,
            "paged schedule primary, schedule night for SEV1; reached alice; nobody at schedule night"
        );
        let bundled = describe(&event(
            "notified",
            serde_json::json!({"person": "bob", "channel": "slack", "bundled": 3, "key": "k", "detail": "HTTP 200"}),
        ));
        assert_eq!(bundled, "bob notified by slack (one message for 3 pages)");
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
