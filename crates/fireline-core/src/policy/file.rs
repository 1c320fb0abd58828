//! Reading a policy from TOML: the file's shape, and its conversion into a checked
//! [`Policy`] with every problem collected rather than the first one only.

use super::check::{Problem, Problems};
use super::*;
use crate::{Channel, ClockKind, Severity, Stage};
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    calendar: Option<RawCalendar>,
    severities: BTreeMap<String, RawSeverity>,
    #[serde(default)]
    escalation: Vec<RawLevel>,
    #[serde(default)]
    categories: BTreeMap<String, RawCategory>,
    #[serde(default)]
    customer_notice: Vec<RawNotice>,
    #[serde(default)]
    post_incident: Option<RawPostIncident>,
    #[serde(default)]
    alerts: Option<RawAlerts>,
    #[serde(default)]
    routes: Vec<RawRoute>,
    #[serde(default)]
    maintenance: Vec<RawMaintenance>,
    #[serde(default)]
    templates: Option<RawTemplates>,
    #[serde(default)]
    notify: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    incident_channel: Option<RawIncidentChannel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIncidentChannel {
    severities: Vec<String>,
}

/// `[incident_channel]`: the severities whose incidents get a chat channel of their own.
fn incident_channel(
    p: &mut Problems,
    raw: Option<RawIncidentChannel>,
    ids: &[String],
) -> Vec<String> {
    let Some(raw) = raw else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, s) in raw.severities.iter().enumerate() {
        match ids.iter().find(|id| id.eq_ignore_ascii_case(s.trim())) {
            Some(id) if !out.contains(id) => out.push(id.clone()),
            Some(_) => {}
            None => p.add(
                format!("incident_channel.severities[{i}]"),
                format!("unknown severity `{s}`"),
                format!("severities defined here: {}", ids.join(", ")),
            ),
        }
    }
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplates {
    set: Option<String>,
    channel_name: Option<String>,
    internal_update: Option<String>,
    status_page_update: Option<String>,
    customer_email: Option<String>,
    outage_notice: Option<String>,
    resolution_notice: Option<String>,
    escalation: Option<String>,
    handoff: Option<String>,
}

/// `[templates]`: a built-in set, the policy's own templates, each compiled now so a
/// broken one is a policy problem rather than a failure in the middle of an incident.
fn templates(p: &mut Problems, raw: Option<RawTemplates>) -> super::templates::Templates {
    use super::templates::{compile, TemplateKind, Templates, SETS};
    let mut out = Templates::default();
    let Some(raw) = raw else {
        return out;
    };
    if let Some(set) = raw.set {
        if SETS.contains(&set.as_str()) {
            out.set = set;
        } else {
            p.add(
                "templates.set",
                format!("unknown template set `{set}`"),
                format!("built-in sets are {}", SETS.join(", ")),
            );
        }
    }
    let given = [
        (TemplateKind::InternalUpdate, raw.internal_update),
        (TemplateKind::StatusPageUpdate, raw.status_page_update),
        (TemplateKind::CustomerEmail, raw.customer_email),
        (TemplateKind::OutageNotice, raw.outage_notice),
        (TemplateKind::ResolutionNotice, raw.resolution_notice),
        (TemplateKind::Escalation, raw.escalation),
        (TemplateKind::Handoff, raw.handoff),
    ];
    let hint = "templates are minijinja (Jinja) text: {{ variable }}, {% if x %}…{% endif %}; see docs/policy.md#templates";
    for (kind, source) in given {
        let Some(source) = source else { continue };
        let at = format!("templates.{kind}");
        if source.trim().is_empty() {
            p.add(&at, "the template is empty", hint);
        } else if let Err(e) = compile(&source) {
            p.add(&at, e.message, hint);
        } else {
            out.overrides.insert(kind, source);
        }
    }
    if let Some(source) = raw.channel_name {
        if let Err(e) = compile(&source) {
            p.add("templates.channel_name", e.message, hint);
        } else if source.trim().is_empty() {
            p.add("templates.channel_name", "the channel name is empty", hint);
        } else {
            out.channel_name = Some(source);
        }
    }
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlerts {
    default_severity: Option<String>,
    #[serde(default)]
    severity_map: BTreeMap<String, String>,
    group_window: Option<String>,
    refire: Option<String>,
    reopen_within: Option<String>,
    auto_resolve: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatcher {
    label: Option<String>,
    annotation: Option<String>,
    equals: Option<String>,
    not_equals: Option<String>,
    regex: Option<String>,
    absent: Option<bool>,
    present: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThreshold {
    value: String,
    divide_by: Option<String>,
    above: Option<f64>,
    below: Option<f64>,
    severity: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    name: String,
    #[serde(default, rename = "match")]
    matchers: Vec<RawMatcher>,
    #[serde(default)]
    drop: bool,
    service: Option<String>,
    severity: Option<String>,
    #[serde(default)]
    thresholds: Vec<RawThreshold>,
    runbook: Option<String>,
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    group_by: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMaintenance {
    name: String,
    start: String,
    end: String,
    #[serde(default, rename = "match")]
    matchers: Vec<RawMatcher>,
    title: Option<String>,
    description: Option<String>,
    components: Option<Vec<String>>,
    announce: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    time_zone: Option<String>,
    working_days: Option<Vec<String>>,
    #[serde(default)]
    holidays: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeverity {
    name: String,
    #[serde(default)]
    description: String,
    rank: i64,
    #[serde(default)]
    major: bool,
    #[serde(default)]
    examples: Vec<String>,
    #[serde(default)]
    page: Vec<String>,
    monitoring: Option<String>,
    #[serde(default)]
    clocks: BTreeMap<String, RawClock>,
    #[serde(default)]
    updates: BTreeMap<String, RawCadence>,
    /// Read as values first, so a mistake inside one is reported at its path
    /// (`severities.SEV1.notices.customer`) rather than only by line.
    #[serde(default)]
    notices: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawClock {
    Short(String),
    Full {
        within: String,
        #[serde(default)]
        from: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawCadence {
    Short(String),
    Full {
        every: String,
        #[serde(default)]
        required: Option<bool>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNoticeDeadline {
    after: Option<String>,
    within: Option<String>,
    remind_before: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLevel {
    name: String,
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    triggers: Vec<RawTrigger>,
    repeat: Option<RawRepeat>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRepeat {
    times: u32,
    every: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrigger {
    when: String,
    after: Option<String>,
    fraction: Option<f64>,
    flag: Option<String>,
    #[serde(default)]
    severities: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    name: Option<String>,
    rto: Option<String>,
    rpo: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotice {
    severities: Vec<String>,
    #[serde(default)]
    open_longer_than: Option<String>,
    #[serde(default = "yes")]
    required: bool,
    send_within: String,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPostIncident {
    #[serde(default)]
    severities: Vec<String>,
    draft: Option<String>,
    review: Option<String>,
    publish: Option<String>,
    review_meeting: Option<String>,
    #[serde(default)]
    followups: Vec<RawFollowup>,
    template: Option<String>,
    remind_before: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFollowup {
    label: String,
    after: String,
}

const DURATION_HINT: &str = "write a duration such as 15m, 1h30m, 7d or 3bd (business days)";

fn duration(p: &mut Problems, at: &str, text: &str) -> Option<PolicyDuration> {
    match text.parse::<PolicyDuration>() {
        Ok(d) => Some(d),
        Err(e) => {
            p.add(at, e.to_string(), DURATION_HINT);
            None
        }
    }
}

fn positive(p: &mut Problems, at: &str, text: &str, what: &str) -> Option<PolicyDuration> {
    let d = duration(p, at, text)?;
    if d.approx().is_zero() {
        p.add(
            at,
            format!("{what} of zero"),
            "use a positive duration, or remove the key",
        );
        return None;
    }
    Some(d)
}

fn weekday(name: &str) -> Option<Weekday> {
    Some(match name.trim().to_ascii_lowercase().get(..3)? {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return None,
    })
}

fn calendar(p: &mut Problems, raw: Option<RawCalendar>) -> Calendar {
    let mut cal = Calendar::default();
    let Some(raw) = raw else { return cal };
    if let Some(tz) = raw.time_zone {
        match TimeZone::get(&tz) {
            Ok(zone) => cal.time_zone = zone,
            Err(_) => p.add(
                "calendar.time_zone",
                format!("unknown time zone `{tz}`"),
                "use an IANA name such as UTC, Europe/Berlin or America/New_York",
            ),
        }
    }
    if let Some(days) = raw.working_days {
        let mut parsed = Vec::new();
        for (i, d) in days.iter().enumerate() {
            match weekday(d) {
                Some(w) if !parsed.contains(&w) => parsed.push(w),
                Some(_) => p.add(
                    format!("calendar.working_days[{i}]"),
                    format!("`{d}` is listed twice"),
                    "list each weekday once",
                ),
                None => p.add(
                    format!("calendar.working_days[{i}]"),
                    format!("`{d}` is not a weekday"),
                    "use mon, tue, wed, thu, fri, sat, sun",
                ),
            }
        }
        if parsed.is_empty() {
            p.add(
                "calendar.working_days",
                "no working days: business-day deadlines would never come",
                "list at least one weekday",
            );
        }
        cal.working_days = parsed;
    }
    for (i, h) in raw.holidays.iter().enumerate() {
        match h.parse::<Date>() {
            Ok(d) => cal.holidays.push(d),
            Err(_) => p.add(
                format!("calendar.holidays[{i}]"),
                format!("`{h}` is not a date"),
                "write YYYY-MM-DD",
            ),
        }
    }
    cal
}

/// `[categories.*]`: each with its recovery objectives.
fn categories(p: &mut Problems, raw: BTreeMap<String, RawCategory>) -> Vec<Category> {
    let mut categories = Vec::new();
    for (id, c) in raw {
        let at = format!("categories.{id}");
        if id.is_empty()
            || !id
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
        {
            p.add(
                &at,
                format!("category id `{id}` is not kebab-case"),
                "use lower-case words joined by '-', e.g. database-crash",
            );
        }
        let rto = c
            .rto
            .as_deref()
            .and_then(|r| positive(p, &format!("{at}.rto"), r, "an RTO"));
        let rpo = c
            .rpo
            .as_deref()
            .and_then(|r| duration(p, &format!("{at}.rpo"), r));
        categories.push(Category {
            name: c.name.unwrap_or_else(|| id.clone()),
            id,
            rto,
            rpo,
        });
    }
    categories
}

/// `[notify]`: each key a kind of notice, each value who is told.
fn notify(p: &mut Problems, raw: BTreeMap<String, Vec<String>>) -> NotifySettings {
    let mut out = NotifySettings::default();
    for (key, list) in raw {
        let at = format!("notify.{key}");
        let kind = match key.parse::<NoticeKind>() {
            Ok(kind) => kind,
            Err(e) => {
                p.add(at, e, "see docs/policy.md, \"Who is told\"");
                continue;
            }
        };
        if list.is_empty() {
            p.add(
                &at,
                "nobody would be told",
                "name someone, e.g. [\"role:commander\"], or remove the line for the default",
            );
        }
        let mut audience = Vec::new();
        for (i, text) in list.iter().enumerate() {
            match text.parse::<Audience>() {
                Ok(a) => audience.push(a),
                Err(e) => p.add(
                    format!("{at}[{i}]"),
                    e,
                    "write role:commander, oncall, schedule:NAME, person:NAME, team:NAME or channel:NAME",
                ),
            }
        }
        out.audiences.insert(kind, audience);
    }
    out
}

fn targets(p: &mut Problems, at: &str, raw: &[String]) -> Vec<Target> {
    raw.iter()
        .enumerate()
        .filter_map(|(i, t)| match t.parse::<Target>() {
            Ok(t) => Some(t),
            Err(e) => {
                p.add(
                    format!("{at}[{i}]"),
                    e,
                    "write schedule:NAME, person:NAME, team:NAME or channel:NAME",
                );
                None
            }
        })
        .collect()
}

fn clock_kind(name: &str) -> Option<ClockKind> {
    ClockKind::ALL.into_iter().find(|c| c.as_str() == name)
}

fn severity_policy(p: &mut Problems, id: &str, raw: RawSeverity) -> SeverityPolicy {
    let at = format!("severities.{id}");
    if raw.rank < 1 {
        p.add(
            format!("{at}.rank"),
            format!("rank {} is not positive", raw.rank),
            "rank 1 is the most severe; use 1, 2, 3…",
        );
    }
    let mut clocks = Vec::new();
    for (name, rule) in raw.clocks {
        let here = format!("{at}.clocks.{name}");
        let Some(clock) = clock_kind(&name) else {
            p.add(
                &here,
                format!("unknown clock `{name}`"),
                "clocks are acknowledge, first_response, initial_update, mitigate, resolve",
            );
            continue;
        };
        let (within, from) = match rule {
            RawClock::Short(w) => (w, None),
            RawClock::Full { within, from } => (within, from),
        };
        let anchor = match from.as_deref() {
            None | Some("declared") => Anchor::Declared,
            Some("acknowledged") if clock != ClockKind::Acknowledge => Anchor::Acknowledged,
            Some("acknowledged") => {
                p.add(
                    format!("{here}.from"),
                    "the acknowledge clock cannot start at acknowledgement",
                    "remove `from`, or set it to declared",
                );
                Anchor::Declared
            }
            Some(other) => {
                p.add(
                    format!("{here}.from"),
                    format!("unknown anchor `{other}`"),
                    "use declared or acknowledged",
                );
                Anchor::Declared
            }
        };
        if let Some(within) = positive(p, &here, &within, "a clock") {
            clocks.push(ClockRule {
                clock,
                within,
                from: anchor,
            });
        }
    }
    clocks.sort_by_key(|c| c.clock);
    let mut updates = Vec::new();
    for (name, cadence) in raw.updates {
        let here = format!("{at}.updates.{name}");
        let channel = match name.parse::<Channel>() {
            Ok(c) => c,
            Err(e) => {
                p.add(&here, e, "channels are internal, status_page and customer");
                continue;
            }
        };
        let (every, required) = match cadence {
            RawCadence::Short(e) => (e, true),
            RawCadence::Full { every, required } => (every, required.unwrap_or(true)),
        };
        if let Some(every) = positive(p, &here, &every, "an update cadence") {
            updates.push(Cadence {
                channel,
                every,
                required,
            });
        }
    }
    updates.sort_by_key(|c| c.channel);
    let notices = notices(p, &at, raw.notices);
    let monitoring = raw
        .monitoring
        .as_deref()
        .and_then(|m| duration(p, &format!("{at}.monitoring"), m));
    let page = targets(p, &format!("{at}.page"), &raw.page);
    SeverityPolicy {
        severity: Severity {
            id: id.to_owned(),
            name: raw.name,
            description: raw.description,
            rank: u32::try_from(raw.rank.max(1)).unwrap_or(1),
        },
        examples: raw.examples,
        major: raw.major,
        clocks,
        updates,
        notices,
        page,
        monitoring,
    }
}

const NOTICE_HINT: &str = "write e.g. customer = { within = \"30m\", remind_before = \"10m\" }, or { after = \"2h\", within = \"30m\" } for an update owed only if still open 2 hours in";

/// `[severities.ID.notices]`: one-shot update deadlines, one per channel; `at` is
/// `severities.ID`.
fn notices(p: &mut Problems, at: &str, raw: BTreeMap<String, toml::Value>) -> Vec<NoticeDeadline> {
    let mut out = Vec::new();
    for (name, value) in raw {
        let here = format!("{at}.notices.{name}");
        let channel = match name.parse::<Channel>() {
            Ok(c) => c,
            Err(e) => {
                p.add(&here, e, "channels are internal, status_page and customer");
                continue;
            }
        };
        let fields = match value {
            // The short form, as clocks and cadences have one: due this long after the
            // (re)opening, no reminder.
            toml::Value::String(within) => RawNoticeDeadline {
                after: None,
                within: Some(within),
                remind_before: None,
            },
            toml::Value::Table(_) => match value.try_into::<RawNoticeDeadline>() {
                Ok(fields) => fields,
                Err(e) => {
                    p.add(&here, e.message().trim(), NOTICE_HINT);
                    continue;
                }
            },
            other => {
                p.add(
                    &here,
                    format!(
                        "expected a duration such as \"30m\" or a table, found {}",
                        other.type_str()
                    ),
                    NOTICE_HINT,
                );
                continue;
            }
        };
        if let Some(notice) = notice(p, &here, channel, fields) {
            out.push(notice);
        }
    }
    out.sort_by_key(|n| n.channel);
    out
}

/// One channel's deadline: `within` required and positive, `after` zero or more,
/// `remind_before` in hours (not business days) and shorter than `within`.
fn notice(
    p: &mut Problems,
    here: &str,
    channel: Channel,
    raw: RawNoticeDeadline,
) -> Option<NoticeDeadline> {
    let after = match raw.after.as_deref() {
        Some(a) => duration(p, &format!("{here}.after"), a),
        None => Some(PolicyDuration::Fixed(jiff::SignedDuration::ZERO)),
    };
    let within = match raw.within.as_deref() {
        Some(w) => positive(p, &format!("{here}.within"), w, "a notice deadline"),
        None => {
            p.add(
                format!("{here}.within"),
                "missing: when the update is due",
                NOTICE_HINT,
            );
            None
        }
    };
    let remind_before = match raw.remind_before.as_deref() {
        None => Some(None),
        Some(text) => {
            let at = format!("{here}.remind_before");
            match duration(p, &at, text) {
                Some(PolicyDuration::BusinessDays(_)) => {
                    p.add(
                        &at,
                        "business days cannot be counted back from a deadline",
                        "write minutes or hours, e.g. \"10m\"",
                    );
                    None
                }
                Some(d) if d.approx().is_zero() => Some(None),
                Some(d) if within.is_some_and(|w| d.approx() >= w.approx()) => {
                    p.add(
                        &at,
                        "the reminder would come before the update is even owed",
                        "make it shorter than `within`, or remove it",
                    );
                    None
                }
                Some(d) => Some(Some(d)),
                None => None,
            }
        }
    };
    Some(NoticeDeadline {
        channel,
        after: after?,
        within: within?,
        remind_before: remind_before?,
    })
}

fn known_severities(p: &mut Problems, at: &str, listed: &[String], ids: &[String]) -> Vec<String> {
    listed
        .iter()
        .enumerate()
        .filter_map(
            |(i, s)| match ids.iter().find(|id| id.eq_ignore_ascii_case(s.trim())) {
                Some(id) => Some(id.clone()),
                None => {
                    p.add(
                        format!("{at}[{i}]"),
                        format!("unknown severity `{s}`"),
                        format!("severities defined here: {}", ids.join(", ")),
                    );
                    None
                }
            },
        )
        .collect()
}

fn trigger(p: &mut Problems, at: &str, raw: RawTrigger, ids: &[String]) -> Option<Trigger> {
    let severities = known_severities(p, &format!("{at}.severities"), &raw.severities, ids);
    let need_after = |p: &mut Problems| match raw.after.as_deref() {
        Some(a) => positive(p, &format!("{at}.after"), a, "a trigger delay"),
        None => {
            p.add(
                at,
                format!("`{}` needs `after`", raw.when),
                "add after = \"15m\" (for example)",
            );
            None
        }
    };
    let condition = match raw.when.as_str() {
        "declared" => Condition::Declared,
        "not_acknowledged" => Condition::NotAcknowledged(need_after(p)?),
        "no_progress" => Condition::NoProgress(need_after(p)?),
        "open_longer_than" => Condition::OpenLongerThan(need_after(p)?),
        "rto_fraction" => match raw.fraction {
            Some(f) if f > 0.0 && f <= 1.0 => Condition::RtoFraction(f),
            Some(f) => {
                p.add(
                    format!("{at}.fraction"),
                    format!("fraction {f} is not in (0, 1]"),
                    "write e.g. fraction = 0.8 for 80% of the RTO",
                );
                return None;
            }
            None => {
                p.add(
                    at,
                    "`rto_fraction` needs `fraction`",
                    "add fraction = 0.8 (for example)",
                );
                return None;
            }
        },
        "flag" => match raw.flag.as_deref().map(str::trim) {
            Some(f) if !f.is_empty() => Condition::Flag(f.to_owned()),
            _ => {
                p.add(
                    at,
                    "`flag` needs `flag`",
                    "add flag = \"data-loss\" (for example)",
                );
                return None;
            }
        },
        "manual" => Condition::Manual,
        other => {
            p.add(format!("{at}.when"), format!("unknown trigger `{other}`"), "use declared, not_acknowledged, no_progress, open_longer_than, rto_fraction, flag or manual");
            return None;
        }
    };
    if raw.severities.len() != severities.len() {
        return None;
    }
    Some(Trigger {
        condition,
        severities,
    })
}

fn field(p: &mut Problems, at: &str, text: &str) -> Option<routing::Field> {
    match text.split_once(':') {
        Some(("label", name)) if !name.is_empty() => Some(routing::Field::Label(name.to_owned())),
        Some(("annotation", name)) if !name.is_empty() => {
            Some(routing::Field::Annotation(name.to_owned()))
        }
        _ => {
            p.add(
                at,
                format!("`{text}` names no label or annotation"),
                "write label:NAME or annotation:NAME",
            );
            None
        }
    }
}

fn matcher(p: &mut Problems, at: &str, raw: RawMatcher) -> Option<routing::Matcher> {
    let field = match (raw.label, raw.annotation) {
        (Some(l), None) if !l.is_empty() => routing::Field::Label(l),
        (None, Some(a)) if !a.is_empty() => routing::Field::Annotation(a),
        _ => {
            p.add(
                at,
                "a matcher needs exactly one of `label` or `annotation`",
                "e.g. { label = \"alertname\", equals = \"HighLatency\" }",
            );
            return None;
        }
    };
    let mut tests = Vec::new();
    if let Some(v) = raw.equals {
        tests.push(routing::MatchTest::Equals(v));
    }
    if let Some(v) = raw.not_equals {
        tests.push(routing::MatchTest::NotEquals(v));
    }
    if let Some(r) = raw.regex {
        // Anchored, as in Prometheus and Alertmanager: the whole value must match.
        match regex::Regex::new(&format!("^(?:{r})$")) {
            Ok(re) => tests.push(routing::MatchTest::Regex(re)),
            Err(e) => {
                p.add(
                    format!("{at}.regex"),
                    format!("invalid regex: {e}"),
                    "use Rust regex syntax (like Prometheus's RE2)",
                );
                return None;
            }
        }
    }
    match raw.absent {
        Some(true) => tests.push(routing::MatchTest::Absent),
        Some(false) => tests.push(routing::MatchTest::Present),
        None => {}
    }
    if raw.present == Some(true) {
        tests.push(routing::MatchTest::Present);
    }
    if tests.len() != 1 {
        p.add(
            at,
            "a matcher needs exactly one test: equals, not_equals, regex, absent or present",
            "split it into several matchers",
        );
        return None;
    }
    tests.pop().map(|test| routing::Matcher { field, test })
}

fn matchers(p: &mut Problems, at: &str, raw: Vec<RawMatcher>) -> Vec<routing::Matcher> {
    raw.into_iter()
        .enumerate()
        .filter_map(|(i, m)| matcher(p, &format!("{at}[{i}]"), m))
        .collect()
}

fn alert_settings(
    p: &mut Problems,
    raw: Option<RawAlerts>,
    ids: &[String],
) -> routing::AlertSettings {
    let raw = raw.unwrap_or(RawAlerts {
        default_severity: None,
        severity_map: BTreeMap::new(),
        group_window: None,
        refire: None,
        reopen_within: None,
        auto_resolve: None,
    });
    let known = |p: &mut Problems, at: &str, s: &str| match ids
        .iter()
        .find(|id| id.eq_ignore_ascii_case(s.trim()))
    {
        Some(id) => Some(id.clone()),
        None => {
            p.add(
                at,
                format!("unknown severity `{s}`"),
                format!("severities defined here: {}", ids.join(", ")),
            );
            None
        }
    };
    let default_severity = match raw.default_severity.as_deref() {
        Some(s) => known(p, "alerts.default_severity", s).unwrap_or_default(),
        // The least severe level: an alert nobody classified should not wake people up.
        None => ids.last().cloned().unwrap_or_default(),
    };
    let mut severity_map = BTreeMap::new();
    for (from, to) in raw.severity_map {
        if let Some(id) = known(p, &format!("alerts.severity_map.{from}"), &to) {
            severity_map.insert(from.to_ascii_lowercase(), id);
        }
    }
    let group_window = raw
        .group_window
        .as_deref()
        .and_then(|w| positive(p, "alerts.group_window", w, "a group window"))
        .unwrap_or(PolicyDuration::Fixed(jiff::SignedDuration::from_hours(1)));
    let reopen_within = raw
        .reopen_within
        .as_deref()
        .and_then(|w| duration(p, "alerts.reopen_within", w))
        .unwrap_or(PolicyDuration::Fixed(jiff::SignedDuration::from_hours(1)));
    let refire = match raw.refire.as_deref() {
        None | Some("reopen") => routing::Refire::Reopen(reopen_within),
        Some("new") => routing::Refire::New,
        Some(other) => {
            p.add(
                "alerts.refire",
                format!("unknown refire `{other}`"),
                "use reopen (with reopen_within) or new",
            );
            routing::Refire::Reopen(reopen_within)
        }
    };
    let auto_resolve = match raw.auto_resolve.as_deref() {
        None | Some("resolve") => routing::AutoResolve::Resolve,
        Some("monitoring") => routing::AutoResolve::Monitoring,
        Some("off") => routing::AutoResolve::Off,
        Some(other) => {
            p.add(
                "alerts.auto_resolve",
                format!("unknown auto_resolve `{other}`"),
                "use resolve, monitoring or off",
            );
            routing::AutoResolve::Resolve
        }
    };
    routing::AlertSettings {
        default_severity,
        severity_map,
        group_window,
        refire,
        auto_resolve,
    }
}

fn route(p: &mut Problems, i: usize, raw: RawRoute, ids: &[String]) -> routing::Route {
    let at = format!("routes[{i}]");
    let known = |p: &mut Problems, here: &str, s: &str| match ids
        .iter()
        .find(|id| id.eq_ignore_ascii_case(s.trim()))
    {
        Some(id) => Some(id.clone()),
        None => {
            p.add(
                here,
                format!("unknown severity `{s}`"),
                format!("severities defined here: {}", ids.join(", ")),
            );
            None
        }
    };
    if raw.name.trim().is_empty() {
        p.add(
            format!("{at}.name"),
            "the route has no name",
            "name it: it is shown on incidents it opens",
        );
    }
    let severity = raw
        .severity
        .as_deref()
        .and_then(|s| known(p, &format!("{at}.severity"), s));
    let mut thresholds = Vec::new();
    for (j, t) in raw.thresholds.into_iter().enumerate() {
        let here = format!("{at}.thresholds[{j}]");
        let value = field(p, &format!("{here}.value"), &t.value);
        let divide_by = t
            .divide_by
            .as_deref()
            .map(|d| field(p, &format!("{here}.divide_by"), d));
        let sev = known(p, &format!("{here}.severity"), &t.severity);
        if t.above.is_none() && t.below.is_none() {
            p.add(
                &here,
                "a threshold needs `above` or `below`",
                "e.g. above = 10.0",
            );
        }
        if let (Some(value), Some(severity), Some(divide_by)) =
            (value, sev, divide_by.map_or(Some(None), |d| d.map(Some)))
        {
            thresholds.push(routing::Threshold {
                value,
                divide_by,
                above: t.above,
                below: t.below,
                severity,
            });
        }
    }
    if raw.drop && (severity.is_some() || !thresholds.is_empty() || raw.service.is_some()) {
        p.add(
            format!("{at}.drop"),
            "a dropping route also sets what incidents get",
            "remove drop, or the other settings",
        );
    }
    let group_by: Vec<String> = raw
        .group_by
        .into_iter()
        .filter(|g| !g.trim().is_empty())
        .collect();
    routing::Route {
        matchers: matchers(p, &format!("{at}.match"), raw.matchers),
        name: raw.name,
        drop: raw.drop,
        service: raw.service.filter(|s| !s.trim().is_empty()),
        severity,
        thresholds,
        runbook: raw.runbook,
        targets: targets(p, &format!("{at}.targets"), &raw.targets),
        group_by,
    }
}

/// `[severities.*]`: every level, most severe (lowest rank) first, with distinct ids and
/// ranks, and no clock longer than the level's resolve target.
fn severities(p: &mut Problems, raw: BTreeMap<String, RawSeverity>) -> Vec<SeverityPolicy> {
    if raw.is_empty() {
        p.add(
            "severities",
            "no severities defined",
            "define at least [severities.SEV1]",
        );
    }
    let mut severities: Vec<SeverityPolicy> = Vec::new();
    for (id, sev) in raw {
        if severities
            .iter()
            .any(|s| s.severity.id.eq_ignore_ascii_case(&id))
        {
            p.add(
                format!("severities.{id}"),
                "severity ids differ only in case",
                "give each severity a distinct id",
            );
        }
        severities.push(severity_policy(p, &id, sev));
    }
    severities.sort_by_key(|s| s.severity.rank);
    for pair in severities.windows(2) {
        if pair[0].severity.rank == pair[1].severity.rank {
            p.add(
                format!("severities.{}.rank", pair[1].severity.id),
                format!(
                    "rank {} is also used by {}",
                    pair[1].severity.rank, pair[0].severity.id
                ),
                "give each severity its own rank",
            );
        }
    }
    for s in &severities {
        clocks_within_resolve(p, s);
    }
    severities
}

/// A clock that runs longer than the resolve target can never be the one that matters.
fn clocks_within_resolve(p: &mut Problems, s: &SeverityPolicy) {
    let Some(resolve) = s.clock(ClockKind::Resolve).map(|r| r.within) else {
        return;
    };
    for c in &s.clocks {
        if c.clock != ClockKind::Resolve && c.within.approx() > resolve.approx() {
            p.add(
                format!("severities.{}.clocks.{}", s.severity.id, c.clock),
                format!(
                    "the {} clock ({}) is longer than the resolve target ({resolve})",
                    c.clock, c.within
                ),
                "shorten it, or lengthen the resolve target",
            );
        }
    }
}

/// `[[escalation]]`: the levels, level 1 first, each reachable, and only the last one
/// repeating.
fn escalation(
    p: &mut Problems,
    raw: Vec<RawLevel>,
    ids: &[String],
    categories: &[Category],
) -> Vec<EscalationLevel> {
    let has_rto = categories.iter().any(|c| c.rto.is_some());
    let escalation: Vec<EscalationLevel> = raw
        .into_iter()
        .enumerate()
        .map(|(i, level)| escalation_level(p, i, level, ids, has_rto))
        .collect();
    let levels = escalation.len();
    for (i, level) in escalation.iter().enumerate() {
        if level.repeat.is_some() && i + 1 < levels {
            p.add(
                format!("escalation[{i}].repeat"),
                format!(
                    "level {} ({}) repeats, but only the last level repeats",
                    level.level, level.name
                ),
                "move `repeat` to the last [[escalation]] level",
            );
        }
    }
    escalation
}

/// One escalation level (`i` counts from 0); `has_rto` says whether any category has a
/// recovery-time objective, without which an RTO trigger never fires.
fn escalation_level(
    p: &mut Problems,
    i: usize,
    level: RawLevel,
    ids: &[String],
    has_rto: bool,
) -> EscalationLevel {
    let at = format!("escalation[{i}]");
    let n = i as u32 + 1;
    let level_targets = targets(p, &format!("{at}.targets"), &level.targets);
    if level.targets.is_empty() {
        p.add(
            format!("{at}.targets"),
            format!("level {n} ({}) reaches nobody", level.name),
            "add targets = [\"schedule:…\"]",
        );
    }
    let raw_count = level.triggers.len();
    let triggers: Vec<Trigger> = level
        .triggers
        .into_iter()
        .enumerate()
        .filter_map(|(j, t)| trigger(p, &format!("{at}.triggers[{j}]"), t, ids))
        .collect();
    if raw_count == 0 {
        p.add(format!("{at}.triggers"), format!("level {n} ({}) is unreachable: it has no triggers", level.name), "add a trigger, e.g. { when = \"manual\" } or { when = \"not_acknowledged\", after = \"15m\" }");
    }
    if !triggers.is_empty()
        && !has_rto
        && triggers
            .iter()
            .all(|t| matches!(t.condition, Condition::RtoFraction(_)))
    {
        p.add(format!("{at}.triggers"), format!("level {n} ({}) is unreachable: it only triggers on RTO, and no category has an rto", level.name), "add rto to a category, or another trigger");
    }
    let repeat = level.repeat.and_then(|r| repeat(p, &at, r));
    EscalationLevel {
        level: n,
        name: level.name,
        targets: level_targets,
        triggers,
        repeat,
    }
}

/// An escalation level's `repeat`, within 1 to 100 times.
fn repeat(p: &mut Problems, at: &str, raw: RawRepeat) -> Option<Repeat> {
    let every = positive(
        p,
        &format!("{at}.repeat.every"),
        &raw.every,
        "a repeat interval",
    )?;
    if raw.times == 0 || raw.times > 100 {
        p.add(
            format!("{at}.repeat.times"),
            format!("{} repeats", raw.times),
            "repeat the last level between 1 and 100 times, or remove `repeat`",
        );
        return None;
    }
    Some(Repeat {
        times: raw.times,
        every,
    })
}

/// `[[customer_notice]]`: when customers are told after the fact.
fn customer_notice(
    p: &mut Problems,
    raw: Vec<RawNotice>,
    ids: &[String],
) -> Vec<CustomerNoticeRule> {
    let mut customer_notice = Vec::new();
    for (i, n) in raw.into_iter().enumerate() {
        let at = format!("customer_notice[{i}]");
        let severities = known_severities(p, &format!("{at}.severities"), &n.severities, ids);
        let open_longer_than = match n.open_longer_than.as_deref() {
            Some(d) => duration(p, &format!("{at}.open_longer_than"), d),
            None => Some(PolicyDuration::Fixed(jiff::SignedDuration::ZERO)),
        };
        let send_within = positive(
            p,
            &format!("{at}.send_within"),
            &n.send_within,
            "a notice deadline",
        );
        if let (Some(open_longer_than), Some(send_within)) = (open_longer_than, send_within) {
            customer_notice.push(CustomerNoticeRule {
                severities,
                open_longer_than,
                required: n.required,
                send_within,
            });
        }
    }
    customer_notice
}

/// `[post_incident]`: which incidents need a post-mortem, its stage deadlines, template,
/// reminders and follow-ups; the defaults when the section is absent.
fn post_incident(p: &mut Problems, raw: Option<RawPostIncident>, ids: &[String]) -> PostIncident {
    let mut post_incident = PostIncident::default();
    let Some(raw) = raw else {
        return post_incident;
    };
    post_incident.severities =
        known_severities(p, "post_incident.severities", &raw.severities, ids);
    post_incident.stages = stage_deadlines(p, &raw);
    if let Some(name) = raw.template {
        if let Some(template) = postmortem_template(p, &name) {
            post_incident.template = template;
        }
    }
    if let Some(text) = raw.remind_before {
        if let Some(remind_before) = remind_before(p, &text, &post_incident.stages) {
            post_incident.remind_before = remind_before;
        }
    }
    post_incident.followups = followups(p, raw.followups);
    post_incident
}

/// The post-mortem stages' deadlines, in the order draft, review, publish: a later stage
/// due before an earlier one is a mistake.
fn stage_deadlines(p: &mut Problems, raw: &RawPostIncident) -> Vec<StageDeadline> {
    let mut stages = Vec::new();
    for (stage, value) in [
        (Stage::Draft, &raw.draft),
        (Stage::Review, &raw.review),
        (Stage::Publish, &raw.publish),
        (Stage::ReviewMeeting, &raw.review_meeting),
    ] {
        if let Some(v) = value {
            if let Some(within) = positive(p, &format!("post_incident.{stage}"), v, "a deadline") {
                stages.push(StageDeadline { stage, within });
            }
        }
    }
    let order = |s: Stage| {
        stages
            .iter()
            .find(|d| d.stage == s)
            .map(|d| d.within.approx())
    };
    if let (Some(review), Some(publish)) = (order(Stage::Review), order(Stage::Publish)) {
        if publish < review {
            p.add(
                "post_incident.publish",
                "publication is due before the review",
                "make publish later than review",
            );
        }
    }
    if let (Some(draft), Some(review)) = (order(Stage::Draft), order(Stage::Review)) {
        if review < draft {
            p.add(
                "post_incident.review",
                "the review is due before the draft",
                "make review later than draft",
            );
        }
    }
    stages
}

/// `post_incident.template`: one of the built-in post-mortem templates.
fn postmortem_template(p: &mut Problems, name: &str) -> Option<post_incident::Template> {
    match name.parse::<post_incident::Template>() {
        Ok(template) => Some(template),
        Err(e) => {
            p.add(
                "post_incident.template",
                e,
                format!(
                    "use one of {}",
                    post_incident::Template::ALL.map(|t| t.as_str()).join(", ")
                ),
            );
            None
        }
    }
}

/// `post_incident.remind_before`: `Some(None)` turns reminders off, `None` keeps the
/// default (the text was refused).
fn remind_before(
    p: &mut Problems,
    text: &str,
    stages: &[StageDeadline],
) -> Option<Option<PolicyDuration>> {
    // Zero turns reminders off; anything else must come before the earliest
    // deadline, or the reminder would land at resolution, which helps nobody.
    let d = duration(p, "post_incident.remind_before", text)?;
    if matches!(d, PolicyDuration::BusinessDays(_)) {
        p.add(
            "post_incident.remind_before",
            "business days cannot be counted back from a deadline",
            "write hours, e.g. \"4h\"",
        );
        return None;
    }
    if d.approx().is_zero() {
        return Some(None);
    }
    let earliest = stages.iter().map(|s| s.within.approx()).min();
    if earliest.is_some_and(|e| d.approx() >= e) {
        p.add(
            "post_incident.remind_before",
            "the reminder would come before the incident is even resolved",
            "make it shorter than the earliest stage deadline, or \"0m\" for none",
        );
    }
    Some(Some(d))
}

/// `post_incident.followups`: labelled checkpoints after resolution.
fn followups(p: &mut Problems, raw: Vec<RawFollowup>) -> Vec<Followup> {
    let mut followups = Vec::new();
    for (i, f) in raw.into_iter().enumerate() {
        let at = format!("post_incident.followups[{i}]");
        if f.label.trim().is_empty() {
            p.add(
                format!("{at}.label"),
                "empty label",
                "label it, e.g. \"1 week\"",
            );
        }
        if let Some(after) = positive(p, &format!("{at}.after"), &f.after, "a follow-up") {
            followups.push(Followup {
                label: f.label,
                after,
            });
        }
    }
    followups
}

/// `[[maintenance]]`: windows with RFC 3339 bounds, each ending after it starts.
fn maintenance(p: &mut Problems, raw: Vec<RawMaintenance>) -> Vec<routing::Maintenance> {
    let mut maintenance = Vec::new();
    for (i, mut m) in raw.into_iter().enumerate() {
        let at = format!("maintenance[{i}]");
        let start = m.start.parse::<jiff::Timestamp>();
        let end = m.end.parse::<jiff::Timestamp>();
        let matchers = matchers(p, &format!("{at}.match"), std::mem::take(&mut m.matchers));
        let notice = maintenance_notice(p, &at, &m, &matchers);
        match (start, end) {
            (Ok(start), Ok(end)) if start < end => maintenance.push(routing::Maintenance {
                name: m.name,
                start,
                end,
                matchers,
                notice,
            }),
            (Ok(_), Ok(_)) => p.add(
                &at,
                "the window ends before it starts",
                "make end later than start",
            ),
            _ => p.add(
                &at,
                "start and end must be RFC 3339 times",
                "e.g. start = \"2026-03-02T14:00:00Z\"",
            ),
        }
    }
    maintenance
}

/// Longest public title of a maintenance window, in characters.
const MAINTENANCE_TITLE_MAX: usize = 200;
/// Longest public description of a maintenance window, in characters.
const MAINTENANCE_DESCRIPTION_MAX: usize = 2000;

/// A window's public side: present when it has a `title`. Its other public keys without
/// a title are a mistake (nothing would be shown), so they are reported, not ignored.
/// Without `components`, the services its `service` label matchers name; without those
/// either, every component.
fn maintenance_notice(
    p: &mut Problems,
    at: &str,
    m: &RawMaintenance,
    matchers: &[routing::Matcher],
) -> Option<routing::MaintenanceNotice> {
    let Some(title) = &m.title else {
        if m.description.is_some() || m.components.is_some() || m.announce.is_some() {
            p.add(
                at,
                "description, components and announce are public, but the window has no title, so it is never shown",
                "add title = \"…\" (what customers will notice) to publish it, or remove them to keep it internal",
            );
        }
        return None;
    };
    let title = title.trim();
    if title.is_empty() || title.chars().count() > MAINTENANCE_TITLE_MAX {
        p.add(
            format!("{at}.title"),
            format!("the public title must be 1 to {MAINTENANCE_TITLE_MAX} characters"),
            "say what customers will notice, e.g. title = \"Database upgrade\"",
        );
    }
    let description = m
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    if description.is_some_and(|d| d.chars().count() > MAINTENANCE_DESCRIPTION_MAX) {
        p.add(
            format!("{at}.description"),
            format!(
                "the public description is longer than {MAINTENANCE_DESCRIPTION_MAX} characters"
            ),
            "keep it to what customers need; link to details from the text",
        );
    }
    let components = match &m.components {
        Some(list) => {
            for (j, c) in list.iter().enumerate() {
                if c.trim().is_empty() || c.len() > 200 {
                    p.add(
                        format!("{at}.components[{j}]"),
                        "a component is a service's name, 1 to 200 characters",
                        "name the service as incidents do, e.g. \"checkout\"; leave components out for all of them",
                    );
                }
            }
            list.iter().map(|c| c.trim().to_owned()).collect()
        }
        None => matchers
            .iter()
            .filter_map(|mt| match (&mt.field, &mt.test) {
                (routing::Field::Label(l), routing::MatchTest::Equals(v)) if l == "service" => {
                    Some(v.clone())
                }
                _ => None,
            })
            .collect(),
    };
    let announce = match &m.announce {
        None => routing::MaintenanceNotice::DEFAULT_ANNOUNCE,
        Some(text) => match duration(p, &format!("{at}.announce"), text) {
            Some(PolicyDuration::Fixed(d)) => d,
            Some(PolicyDuration::BusinessDays(_)) => {
                p.add(
                    format!("{at}.announce"),
                    "an announcement's lead is wall-clock time, not business days",
                    "write it in days or hours, e.g. announce = \"7d\" (\"0s\": first told at the start)",
                );
                routing::MaintenanceNotice::DEFAULT_ANNOUNCE
            }
            None => routing::MaintenanceNotice::DEFAULT_ANNOUNCE,
        },
    };
    Some(routing::MaintenanceNotice {
        title: title.to_owned(),
        description: description.map(str::to_owned),
        components,
        announce,
    })
}

impl Policy {
    /// Reads and checks a policy; on failure, every problem found.
    pub fn from_toml(text: &str) -> Result<Policy, Vec<Problem>> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| {
            vec![Problem::from_toml(
                text,
                &e,
                "see docs/policy.md for the format",
            )]
        })?;
        let mut p = Problems::default();
        if raw.name.trim().is_empty() {
            p.add(
                "name",
                "the policy has no name",
                "name it, e.g. name = \"payments\"",
            );
        }
        // A section with problems still yields its value, so one read reports every
        // problem in the file; the order here is the order they are listed in.
        let calendar = calendar(&mut p, raw.calendar);
        let severities = severities(&mut p, raw.severities);
        let ids: Vec<String> = severities.iter().map(|s| s.severity.id.clone()).collect();
        let categories = categories(&mut p, raw.categories);
        let escalation = escalation(&mut p, raw.escalation, &ids, &categories);
        let customer_notice = customer_notice(&mut p, raw.customer_notice, &ids);
        let post_incident = post_incident(&mut p, raw.post_incident, &ids);
        let alerts = alert_settings(&mut p, raw.alerts, &ids);
        let routes: Vec<routing::Route> = raw
            .routes
            .into_iter()
            .enumerate()
            .map(|(i, r)| route(&mut p, i, r, &ids))
            .collect();
        let maintenance = maintenance(&mut p, raw.maintenance);
        let templates = templates(&mut p, raw.templates);
        let notify = notify(&mut p, raw.notify);
        let incident_channel = incident_channel(&mut p, raw.incident_channel, &ids);

        if !p.0.is_empty() {
            return Err(p.0);
        }
        let digest = hex::encode(Sha256::digest(text.as_bytes()))[..12].to_owned();
        let catalog =
            crate::SeverityCatalog::new(severities.iter().map(|s| s.severity.clone()).collect());
        Ok(Policy {
            catalog,
            name: raw.name,
            description: raw.description,
            calendar,
            severities,
            escalation,
            categories,
            customer_notice,
            post_incident,
            alerts,
            routes,
            maintenance,
            templates,
            notify,
            incident_channel,
            digest,
            source: text.to_owned(),
        })
    }
}
