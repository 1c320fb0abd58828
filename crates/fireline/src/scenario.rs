//! Scenario files (YAML) for `fireline policy simulate`.

use anyhow::{anyhow, bail, Context};
use fireline_core::policy::PolicyDuration;
use fireline_core::simulate::{Scenario, Step, StepAction};
use fireline_core::IncidentRole;
use fireline_core::{Channel, Stage};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    start: String,
    severity: String,
    title: String,
    service: String,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    flags: Vec<String>,
    #[serde(default)]
    until: Option<String>,
    #[serde(default)]
    events: Vec<RawStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    after: String,
    #[serde(rename = "do")]
    action: String,
    #[serde(default)]
    by: Option<String>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    stage: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    text: Option<String>,
}

fn fixed(text: &str) -> anyhow::Result<SignedDuration> {
    match text.parse::<PolicyDuration>().map_err(|e| anyhow!(e))? {
        PolicyDuration::Fixed(d) => Ok(d),
        PolicyDuration::BusinessDays(_) => {
            bail!("`{text}`: use wall-clock units (m, h, d) in scenarios")
        }
    }
}

fn timestamp(field: &str, text: &str) -> anyhow::Result<Timestamp> {
    text.parse().with_context(|| {
        format!("{field}: `{text}` is not an RFC 3339 time such as 2026-03-02T14:00:00Z")
    })
}

fn step(index: usize, raw: RawStep) -> anyhow::Result<Step> {
    let at = format!("events[{index}]");
    let need = |v: Option<String>, what: &str| {
        v.ok_or_else(|| anyhow!("{at}: `do: {}` needs `{what}`", raw.action))
    };
    let action = match raw.action.as_str() {
        "acknowledge" | "ack" => StepAction::Acknowledge,
        "status" => StepAction::Status(need(raw.value.clone(), "value")?.parse().map_err(|e| anyhow!("{at}: {e}"))?),
        "severity" => StepAction::Severity(need(raw.value.clone(), "value")?),
        "update" => StepAction::Update(need(raw.channel.clone(), "channel")?.parse::<Channel>().map_err(|e| anyhow!("{at}: {e}"))?),
        "note" => StepAction::Note(need(raw.text.clone().or(raw.value.clone()), "text")?),
        "assign" => StepAction::Assign(
            need(raw.role.clone(), "role")?.parse::<IncidentRole>().map_err(|e| anyhow!("{at}: {e}"))?,
            need(raw.value.clone().or(raw.by.clone()), "value")?,
        ),
        "resolve" => StepAction::Resolve,
        "reopen" => StepAction::Reopen,
        "postmortem" => StepAction::Postmortem(need(raw.stage.clone(), "stage")?.parse::<Stage>().map_err(|e| anyhow!("{at}: {e}"))?),
        other => bail!("{at}: unknown action `do: {other}` (acknowledge, status, severity, update, note, assign, resolve, reopen, postmortem)"),
    };
    let after = fixed(&raw.after).with_context(|| format!("{at}.after"))?;
    Ok(Step {
        after,
        by: raw.by,
        action,
    })
}

/// Parses a scenario file's text.
pub fn parse(text: &str) -> anyhow::Result<Scenario> {
    let raw: RawScenario = serde_saphyr::from_str(text).map_err(|e| anyhow!("{e}"))?;
    let steps = raw
        .events
        .into_iter()
        .enumerate()
        .map(|(i, s)| step(i, s))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let start = timestamp("start", &raw.start)?;
    let until = raw
        .until
        .as_deref()
        .map(|u| timestamp("until", u))
        .transpose()?;
    if until.is_some_and(|u| u < start) {
        bail!("until: before start");
    }
    Ok(Scenario {
        start,
        severity: raw.severity,
        title: raw.title,
        service: raw.service,
        category: raw.category,
        flags: raw.flags,
        until,
        steps,
    })
}
