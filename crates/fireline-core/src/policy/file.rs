//! Reading a policy from TOML: the file's shape, and its conversion into a checked
//! [`Policy`] with every problem collected rather than the first one only.

use super::check::{Problem, Problems};
use super::*;
use crate::Severity;
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
struct RawLevel {
    name: String,
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    triggers: Vec<RawTrigger>,
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
        page,
        monitoring,
    }
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

impl Policy {
    /// Reads and checks a policy; on failure, every problem found.
    pub fn from_toml(text: &str) -> Result<Policy, Vec<Problem>> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| {
            let location = e
                .span()
                .map(|span| {
                    let before = &text[..span.start.min(text.len())];
                    let line = before.matches('\n').count() + 1;
                    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                    format!("line {line}, column {column}")
                })
                .unwrap_or_else(|| "file".to_owned());
            vec![Problem {
                location,
                message: e.message().to_owned(),
                hint: "see docs/policy.md for the format".to_owned(),
            }]
        })?;
        let mut p = Problems::default();
        if raw.name.trim().is_empty() {
            p.add(
                "name",
                "the policy has no name",
                "name it, e.g. name = \"payments\"",
            );
        }
        let calendar = calendar(&mut p, raw.calendar);
        if raw.severities.is_empty() {
            p.add(
                "severities",
                "no severities defined",
                "define at least [severities.SEV1]",
            );
        }
        let mut severities: Vec<SeverityPolicy> = Vec::new();
        for (id, sev) in raw.severities {
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
            severities.push(severity_policy(&mut p, &id, sev));
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
            let resolve = s.clock(ClockKind::Resolve).map(|r| r.within);
            for c in &s.clocks {
                if let Some(resolve) = resolve {
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
        }
        let ids: Vec<String> = severities.iter().map(|s| s.severity.id.clone()).collect();

        let mut categories = Vec::new();
        for (id, c) in raw.categories {
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
                .and_then(|r| positive(&mut p, &format!("{at}.rto"), r, "an RTO"));
            let rpo = c
                .rpo
                .as_deref()
                .and_then(|r| duration(&mut p, &format!("{at}.rpo"), r));
            categories.push(Category {
                name: c.name.unwrap_or_else(|| id.clone()),
                id,
                rto,
                rpo,
            });
        }

        let mut escalation = Vec::new();
        for (i, level) in raw.escalation.into_iter().enumerate() {
            let at = format!("escalation[{i}]");
            let n = i as u32 + 1;
            let level_targets = targets(&mut p, &format!("{at}.targets"), &level.targets);
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
                .filter_map(|(j, t)| trigger(&mut p, &format!("{at}.triggers[{j}]"), t, &ids))
                .collect();
            if raw_count == 0 {
                p.add(format!("{at}.triggers"), format!("level {n} ({}) is unreachable: it has no triggers", level.name), "add a trigger, e.g. { when = \"manual\" } or { when = \"not_acknowledged\", after = \"15m\" }");
            }
            let has_rto = categories.iter().any(|c| c.rto.is_some());
            if !triggers.is_empty()
                && !has_rto
                && triggers
                    .iter()
                    .all(|t| matches!(t.condition, Condition::RtoFraction(_)))
            {
                p.add(format!("{at}.triggers"), format!("level {n} ({}) is unreachable: it only triggers on RTO, and no category has an rto", level.name), "add rto to a category, or another trigger");
            }
            escalation.push(EscalationLevel {
                level: n,
                name: level.name,
                targets: level_targets,
                triggers,
            });
        }

        let mut customer_notice = Vec::new();
        for (i, n) in raw.customer_notice.into_iter().enumerate() {
            let at = format!("customer_notice[{i}]");
            let severities =
                known_severities(&mut p, &format!("{at}.severities"), &n.severities, &ids);
            let open_longer_than = match n.open_longer_than.as_deref() {
                Some(d) => duration(&mut p, &format!("{at}.open_longer_than"), d),
                None => Some(PolicyDuration::Fixed(jiff::SignedDuration::ZERO)),
            };
            let send_within = positive(
                &mut p,
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

        let mut post_incident = PostIncident::default();
        if let Some(raw_pi) = raw.post_incident {
            post_incident.severities =
                known_severities(&mut p, "post_incident.severities", &raw_pi.severities, &ids);
            for (stage, value) in [
                (Stage::Draft, raw_pi.draft),
                (Stage::Review, raw_pi.review),
                (Stage::Publish, raw_pi.publish),
                (Stage::ReviewMeeting, raw_pi.review_meeting),
            ] {
                if let Some(v) = value {
                    if let Some(within) =
                        positive(&mut p, &format!("post_incident.{stage}"), &v, "a deadline")
                    {
                        post_incident.stages.push(StageDeadline { stage, within });
                    }
                }
            }
            let order = |s: Stage| {
                post_incident
                    .stages
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
            for (i, f) in raw_pi.followups.into_iter().enumerate() {
                let at = format!("post_incident.followups[{i}]");
                if f.label.trim().is_empty() {
                    p.add(
                        format!("{at}.label"),
                        "empty label",
                        "label it, e.g. \"1 week\"",
                    );
                }
                if let Some(after) =
                    positive(&mut p, &format!("{at}.after"), &f.after, "a follow-up")
                {
                    post_incident.followups.push(Followup {
                        label: f.label,
                        after,
                    });
                }
            }
        }

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
            digest,
        })
    }
}
