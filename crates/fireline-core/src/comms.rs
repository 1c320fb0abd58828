//! Communication: the policy's message templates, rendered with an incident's facts,
//! the incident channel's name, and wording checks for public text.
//!
//! Templates are minijinja (Jinja syntax). Rendering is pure: the caller passes `now`
//! and every value; nothing here reads a clock or a file.

use crate::policy::{Channel, Policy};
use crate::Incident;
use jiff::{SignedDuration, Timestamp};
use minijinja::{Environment, Value};
use std::collections::BTreeMap;
use std::fmt;

/// The messages a policy has templates for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TemplateKind {
    /// An update to responders and stakeholders (`internal` channel).
    InternalUpdate,
    /// An update on the public status page (`status_page` channel).
    StatusPageUpdate,
    /// An e-mail to customers (`customer` channel).
    CustomerEmail,
    /// The first notice that something is down.
    OutageNotice,
    /// The notice that it is over.
    ResolutionNotice,
    /// A message to whoever an incident is escalated to.
    Escalation,
    /// A hand-off between incident commanders or shifts.
    Handoff,
}

impl TemplateKind {
    /// Every kind.
    pub const ALL: [TemplateKind; 7] = [
        TemplateKind::InternalUpdate,
        TemplateKind::StatusPageUpdate,
        TemplateKind::CustomerEmail,
        TemplateKind::OutageNotice,
        TemplateKind::ResolutionNotice,
        TemplateKind::Escalation,
        TemplateKind::Handoff,
    ];

    /// Name in policy files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateKind::InternalUpdate => "internal_update",
            TemplateKind::StatusPageUpdate => "status_page_update",
            TemplateKind::CustomerEmail => "customer_email",
            TemplateKind::OutageNotice => "outage_notice",
            TemplateKind::ResolutionNotice => "resolution_notice",
            TemplateKind::Escalation => "escalation",
            TemplateKind::Handoff => "handoff",
        }
    }

    /// The template an update on `channel` uses when none is named.
    pub fn for_channel(channel: Channel) -> TemplateKind {
        match channel {
            Channel::Internal => TemplateKind::InternalUpdate,
            Channel::StatusPage => TemplateKind::StatusPageUpdate,
            Channel::Customer => TemplateKind::CustomerEmail,
        }
    }
}

impl fmt::Display for TemplateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for TemplateKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let wanted = s.trim().to_ascii_lowercase().replace('-', "_");
        TemplateKind::ALL
            .into_iter()
            .find(|k| k.as_str() == wanted)
            .ok_or_else(|| {
                format!(
                    "unknown template `{s}`: expected one of {}",
                    TemplateKind::ALL.map(|k| k.as_str()).join(", ")
                )
            })
    }
}

/// Names of the built-in template sets.
pub const SETS: [&str; 3] = ["standard", "agentic-flow", "reflexion"];

/// A policy's templates: a built-in set, with any template replaced by the policy's own.
#[derive(Debug, Clone, PartialEq)]
pub struct Templates {
    /// Built-in set (one of [`SETS`]).
    pub set: String,
    /// The policy's own templates, replacing the set's.
    pub overrides: BTreeMap<TemplateKind, String>,
    /// Template of the incident channel's name; `None` takes the set's.
    pub channel_name: Option<String>,
}

impl Default for Templates {
    fn default() -> Self {
        Templates {
            set: SETS[0].to_owned(),
            overrides: BTreeMap::new(),
            channel_name: None,
        }
    }
}

impl Templates {
    /// The source of `kind`'s template.
    pub fn source(&self, kind: TemplateKind) -> &str {
        self.overrides
            .get(&kind)
            .map_or_else(|| builtin(&self.set, kind), String::as_str)
    }

    /// The source of the channel-name template.
    pub fn channel_name_source(&self) -> &str {
        self.channel_name
            .as_deref()
            .unwrap_or_else(|| builtin_channel_name(&self.set))
    }
}

/// A set's channel name: seed 001 names a dedicated channel after the incident id
/// (`#<incident-id>`), seed 004 after the moment it was opened
/// (`#incident-YYYY-MM-DD-HHMMSS`).
fn builtin_channel_name(set: &str) -> &'static str {
    match set {
        "reflexion" => "#incident-{{ declared_stamp }}",
        _ => "#{{ incident.id | lower }}",
    }
}

/// Built-in templates. Unknown sets fall back to `standard` (the parser refuses them).
fn builtin(set: &str, kind: TemplateKind) -> &'static str {
    use TemplateKind::*;
    match (set, kind) {
        // Seed 001, "Internal Communication" format.
        ("agentic-flow", InternalUpdate) => {
            "[{{ time }} UTC] STATUS: {{ status }}\n\
             Current Impact: {{ impact | default(\"Being assessed\") }}\n\
             Actions Taken: {{ actions | default(message) | default(\"Investigating\") }}\n\
             Next Steps: {{ next_steps | default(\"Continue investigation\") }}\n\
             ETA: {{ eta | default(\"Unknown\") }}"
        }
        // Seed 001, "External Communication (Status Page)": the four stock sentences.
        ("agentic-flow", StatusPageUpdate) => {
            "{% if message %}{{ message }}{% elif status == \"Investigating\" %}We are investigating reports of {{ incident.service }} unavailability.\
             {% elif status == \"Identified\" %}We have identified the issue and are implementing a fix.\
             {% elif status == \"Monitoring\" %}A fix has been deployed and we are monitoring the results.\
             {% else %}The incident has been resolved. All systems operational.{% endif %}"
        }
        // Seed 001, "Customer Email (if >30min outage)".
        ("agentic-flow", CustomerEmail) | ("agentic-flow", ResolutionNotice) => {
            "Subject: [{{ status }}] Service Disruption - {{ incident.service }}\n\n\
             Dear {{ audience | default(\"Agentic Flow Users\") }},\n\n\
             We experienced a service disruption affecting {{ incident.service }}\n\
             from {{ declared_time }} UTC{% if resolved_time %} to {{ resolved_time }} UTC{% endif %} on {{ date }} ({{ duration }}).\n\n\
             Impact: {{ impact | default(\"Being assessed\") }}\n\
             Root Cause: {{ root_cause | default(\"Under investigation\") }}\n\
             Resolution: {{ mitigation | default(message) | default(\"In progress\") }}\n\
             Prevention: {{ prevention | default(\"To follow in the post-mortem\") }}\n\n\
             We apologize for any inconvenience. A detailed post-mortem will be\n\
             published within 5 business days.\n\n\
             - {{ signature | default(\"Agentic Flow SRE Team\") }}"
        }
        // Seed 001, "Initial" internal message.
        ("agentic-flow", OutageNotice) => {
            "{{ incident.severity }}: {{ incident.title }} ({{ incident.service }}). {{ status }}.\
             {% if impact %} Impact: {{ impact }}{% endif %}"
        }
        // Seed 004, "Communication Template": every message uses it.
        ("reflexion", InternalUpdate)
        | ("reflexion", StatusPageUpdate)
        | ("reflexion", CustomerEmail)
        | ("reflexion", OutageNotice)
        | ("reflexion", ResolutionNotice) => {
            "## Incident Update - {{ now }}\n\n\
             **Status**: {{ status | upper }}\n\n\
             **Impact**: {{ impact | default(\"Being assessed\") }}\n\n\
             **Root Cause**: {{ root_cause | default(\"Under investigation\") }}\n\n\
             **Mitigation**: {{ mitigation | default(message) | default(\"Investigating\") }}\n\n\
             **Next Update**: {{ next_update | default(\"when there is news\") }}"
        }
        (_, InternalUpdate) => {
            "[{{ time }} UTC] {{ incident.id }} {{ incident.severity }} {{ status }}: {{ incident.title }}\n\
             {% if impact %}Impact: {{ impact }}\n{% endif %}\
             {% if message %}{{ message }}\n{% endif %}\
             Next update: {{ next_update | default(\"when there is news\") }}"
        }
        (_, StatusPageUpdate) => {
            "{{ status }}: {% if message %}{{ message }}{% else %}We are looking into problems with {{ incident.service }}.{% endif %}"
        }
        (_, CustomerEmail) => {
            "Subject: [{{ status }}] {{ incident.service }}\n\n\
             {{ message | default(\"We are working on a problem affecting \" ~ incident.service ~ \".\") }}\n\
             {% if impact %}\nImpact: {{ impact }}\n{% endif %}\
             {% if next_update %}\nNext update: {{ next_update }}\n{% endif %}"
        }
        (_, OutageNotice) => {
            "{{ incident.severity }} {{ incident.id }}: {{ incident.title }} ({{ incident.service }}) - {{ status }}.\
             {% if impact %} Impact: {{ impact }}{% endif %}"
        }
        (_, ResolutionNotice) => {
            "Resolved: {{ incident.title }} ({{ incident.service }}) after {{ duration }}.\
             {% if root_cause %} Root cause: {{ root_cause }}.{% endif %}\
             {% if message %} {{ message }}{% endif %}"
        }
        // Seed 001 "Escalation" and the hand-off share one wording in every set.
        (_, Escalation) => {
            "Escalating {{ incident.id }} ({{ incident.severity }}, {{ status }}, open {{ since_declared }}): {{ incident.title }}.\
             {% if level %} Level: {{ level }}.{% endif %}\
             {% if message %} {{ message }}{% endif %}"
        }
        (_, Handoff) => {
            "Hand-off for {{ incident.id }} ({{ incident.severity }}, {{ status }}): {{ incident.title }}\n\
             {% if from %}From: {{ from }}\n{% endif %}{% if to %}To: {{ to }}\n{% endif %}\
             Open for {{ since_declared }}.\n\
             {% if message %}{{ message }}\n{% endif %}\
             Next update: {{ next_update | default(\"when there is news\") }}"
        }
    }
}

/// A template that cannot be compiled: where in it, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    /// What is wrong, including the line within the template when known.
    pub message: String,
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // Messages are plain text (chat, e-mail bodies); escaping for HTML happens where
    // HTML is written, never here.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_keep_trailing_newline(false);
    env
}

fn template_error(e: &minijinja::Error) -> TemplateError {
    let detail = e.detail().unwrap_or_default();
    let what = format!("{}", e.kind());
    let message = match (e.line(), detail.is_empty()) {
        (Some(line), false) => format!("line {line} of the template: {what}: {detail}"),
        (Some(line), true) => format!("line {line} of the template: {what}"),
        (None, false) => format!("{what}: {detail}"),
        (None, true) => what,
    };
    TemplateError { message }
}

/// Compiles `source`, so a policy is refused with the problem's location rather than
/// failing when someone posts an update in the middle of an incident.
pub fn compile(source: &str) -> Result<(), TemplateError> {
    let env = environment();
    env.template_from_str(source)
        .map(|_| ())
        .map_err(|e| template_error(&e))
}

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
