//! The message templates a policy names: which built-in set, the policy's own templates
//! replacing the set's, and the incident channel's name. Each is checked (compiled) when
//! the policy is read, so a broken template is refused then rather than when someone posts
//! an update mid-incident; `comms` renders them.

use crate::Channel;
use minijinja::Environment;
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

/// The one template environment: templates are compiled with the settings they are
/// later rendered with, so a template that passed the check renders the same way.
pub(crate) fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // Messages are plain text (chat, e-mail bodies); escaping for HTML happens where
    // HTML is written, never here.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_keep_trailing_newline(false);
    env
}

pub(crate) fn template_error(e: &minijinja::Error) -> TemplateError {
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
