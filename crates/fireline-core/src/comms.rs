//! Communication: the policy's message templates ([`crate::policy::templates`]) rendered
//! with an incident's facts, the incident channel's name, and wording checks for public
//! text.
//!
//! Templates are minijinja (Jinja syntax). Rendering is pure: the caller passes `now`
//! and every value; nothing here reads a clock or a file.

use crate::policy::templates::{environment, template_error, TemplateError, TemplateKind};
use crate::policy::Policy;
use crate::{Channel, Incident};
use jiff::{SignedDuration, Timestamp};
use minijinja::Value;
use std::collections::BTreeMap;

/// What a message is rendered from, besides the incident.
#[derive(Debug, Clone)]
pub struct RenderInput<'a> {
    /// The channel it goes to.
    pub channel: Option<Channel>,
    /// The moment it is rendered (the update's time).
    pub now: Timestamp,
    /// When the channel's next update is owed, after this one.
    pub next_update: Option<Timestamp>,
    /// Values given by the person posting (`impact`, `root_cause`, `mitigation`, `eta`,
    /// `message`, …). They override computed values of the same name.
    pub vars: &'a BTreeMap<String, String>,
}

/// `45s`, `4m 10s`, `1h 5m`, `2d 4h`: [`crate::describe::duration`], the one rule for
/// durations, under the name templates' callers know.
pub fn human_duration(d: SignedDuration) -> String {
    crate::describe::duration(d)
}

fn hhmm(t: Timestamp) -> String {
    t.strftime("%H:%M").to_string()
}

/// The status in the seeds' public words: Investigating, Identified, Monitoring, Resolved.
pub fn status_word(status: crate::Status) -> &'static str {
    match status {
        crate::Status::Investigating => "Investigating",
        crate::Status::Identified => "Identified",
        crate::Status::Monitoring => "Monitoring",
        crate::Status::Resolved => "Resolved",
    }
}

fn incident_value(incident: &Incident) -> Value {
    let mut m: BTreeMap<&str, Value> = BTreeMap::new();
    m.insert("id", Value::from(incident.id.to_string()));
    m.insert("number", Value::from(incident.id.0));
    m.insert("title", Value::from(incident.title.clone()));
    m.insert(
        "summary",
        Value::from(incident.summary.clone().unwrap_or_default()),
    );
    m.insert("service", Value::from(incident.service.clone()));
    m.insert("severity", Value::from(incident.severity.clone()));
    m.insert("status", Value::from(incident.status.as_str()));
    m.insert("declared_at", Value::from(incident.declared_at.to_string()));
    m.insert("declared_by", Value::from(incident.declared_by.clone()));
    m.insert(
        "category",
        Value::from(incident.category.clone().unwrap_or_default()),
    );
    m.insert("flags", Value::from(incident.flags.clone()));
    let roles: BTreeMap<String, String> = incident
        .roles
        .iter()
        .map(|(r, who)| (r.to_string(), who.clone()))
        .collect();
    m.insert("roles", Value::from(roles));
    Value::from_iter(m)
}

/// Every variable a template sees (documented in docs/policy.md, "Templates").
fn context(incident: &Incident, input: &RenderInput<'_>) -> BTreeMap<String, Value> {
    let now = input.now;
    let end = incident.resolved_at.unwrap_or(now);
    let mut ctx: BTreeMap<String, Value> = BTreeMap::new();
    let mut put = |k: &str, v: Value| {
        ctx.insert(k.to_owned(), v);
    };
    put("incident", incident_value(incident));
    put(
        "now",
        Value::from(now.strftime("%Y-%m-%d %H:%M UTC").to_string()),
    );
    put("time", Value::from(hhmm(now)));
    put("date", Value::from(now.strftime("%B %-d, %Y").to_string()));
    put("status", Value::from(status_word(incident.status)));
    put(
        "since_declared",
        Value::from(human_duration(now.duration_since(incident.declared_at))),
    );
    put(
        "duration",
        Value::from(human_duration(end.duration_since(incident.declared_at))),
    );
    put("declared_time", Value::from(hhmm(incident.declared_at)));
    if let Some(resolved) = incident.resolved_at {
        put("resolved_time", Value::from(hhmm(resolved)));
    }
    if let Some((at, by)) = &incident.acknowledged {
        put(
            "since_acknowledged",
            Value::from(human_duration(now.duration_since(*at))),
        );
        put("acknowledged_by", Value::from(by.clone()));
    }
    if let Some(next) = input.next_update {
        put("next_update", Value::from(format!("{} UTC", hhmm(next))));
        put("next_update_at", Value::from(next.to_string()));
    }
    if let Some(channel) = input.channel {
        put("channel", Value::from(channel.as_str()));
    }
    put(
        "declared_stamp",
        Value::from(incident.declared_at.strftime("%Y-%m-%d-%H%M%S").to_string()),
    );
    for (k, v) in input.vars {
        if k != "incident" {
            put(k, Value::from(v.clone()));
        }
    }
    ctx
}

/// Renders `source` for `incident`.
pub fn render_source(
    source: &str,
    incident: &Incident,
    input: &RenderInput<'_>,
) -> Result<String, TemplateError> {
    let env = environment();
    let template = env
        .template_from_str(source)
        .map_err(|e| template_error(&e))?;
    let rendered = template
        .render(context(incident, input))
        .map_err(|e| template_error(&e))?;
    Ok(rendered.trim_end().to_owned())
}

/// Renders the policy's `kind` template for `incident`.
pub fn render(
    policy: &Policy,
    kind: TemplateKind,
    incident: &Incident,
    input: &RenderInput<'_>,
) -> Result<String, TemplateError> {
    render_source(policy.templates.source(kind), incident, input)
}

/// The policy's `escalation` wording for an escalation page (its level and reason),
/// for the people that page reaches; `None` for any other event. The caller sends the
/// page with its built-in wording when this fails: a page is never lost to wording.
pub fn escalation_text(
    policy: &Policy,
    incident: &Incident,
    event: &crate::NewEvent,
) -> Option<Result<String, TemplateError>> {
    let crate::EventData::Escalated {
        level,
        name,
        reason,
        ..
    } = &event.data
    else {
        return None;
    };
    let vars = BTreeMap::from([
        ("level".to_owned(), format!("{level} ({name})")),
        ("message".to_owned(), reason.clone()),
    ]);
    let input = RenderInput {
        channel: None,
        now: event.at,
        next_update: None,
        vars: &vars,
    };
    Some(render(policy, TemplateKind::Escalation, incident, &input))
}

/// The incident's channel name under the policy (`#inc-7`, `#incident-2026-03-02-142300`).
pub fn channel_name(policy: &Policy, incident: &Incident) -> Result<String, TemplateError> {
    let vars = BTreeMap::new();
    let input = RenderInput {
        channel: None,
        now: incident.declared_at,
        next_update: None,
        vars: &vars,
    };
    render_source(policy.templates.channel_name_source(), incident, &input)
}

/// When `channel` next needs an update if one is posted at `now`: `now` plus the
/// channel's cadence at the incident's severity (`None` without a cadence, or once
/// resolved, when cadences stop).
pub fn next_update_after(
    policy: &Policy,
    incident: &Incident,
    channel: Channel,
    now: Timestamp,
) -> Option<Timestamp> {
    if !incident.status.is_open() {
        return None;
    }
    let cadence = policy
        .severity(&incident.severity)?
        .updates
        .iter()
        .find(|c| c.channel == channel)?;
    Some(cadence.every.after(now, &policy.calendar))
}

/// Warnings about public text: seed 001, "Never commit to specific ETAs publicly".
///
/// Flags the word "ETA" (not inside another word) and promises of a time ("by 15:00",
/// "within 2 hours", "in 30 minutes"). Not blocking: people decide.
pub fn public_wording_warnings(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && c != ':')
        .filter(|w| !w.is_empty())
        .collect();
    let mut warnings = Vec::new();
    let is_time = |w: &str| {
        let w = w.trim_end_matches(':');
        w.split_once(':').is_some_and(|(h, m)| {
            !h.is_empty()
                && h.len() <= 2
                && m.len() == 2
                && h.chars().all(|c| c.is_ascii_digit())
                && m.chars().all(|c| c.is_ascii_digit())
        })
    };
    let is_amount = |w: &str| w.chars().all(|c| c.is_ascii_digit()) && !w.is_empty();
    let units = [
        "minute", "minutes", "min", "mins", "hour", "hours", "hr", "hrs", "h", "m",
    ];
    let mut promise = words.iter().any(|w| w.trim_end_matches(':') == "eta");
    for window in words.windows(3) {
        let (a, b, c) = (window[0], window[1], window[2]);
        if matches!(a, "by" | "until" | "before") && is_time(b) {
            promise = true;
        }
        if matches!(a, "within" | "in") && is_amount(b) && units.contains(&c) {
            promise = true;
        }
    }
    if let [.., a, b] = words.as_slice() {
        if matches!(*a, "by" | "until" | "before") && is_time(b) {
            promise = true;
        }
    }
    if promise {
        warnings.push(
            "this public update seems to promise a time (an ETA): seed 001 says never commit to specific ETAs publicly"
                .to_owned(),
        );
    }
    warnings
}

/// When each required channel is next owed an update (`update_due` is planned then):
/// what the policy's cadence timers say now. Posting on a channel moves its time.
pub fn next_updates_due(
    policy: &Policy,
    events: &[crate::RecordedEvent],
) -> BTreeMap<Channel, Timestamp> {
    let mut due: BTreeMap<Channel, Timestamp> = BTreeMap::new();
    for action in crate::plan::pending(policy, events) {
        if let crate::EventData::UpdateDue { channel, .. } = action.event {
            let at = due.entry(channel).or_insert(action.at);
            *at = (*at).min(action.at);
        }
    }
    due
}
