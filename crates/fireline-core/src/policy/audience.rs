//! `[notify]`: who hears about what the policy decides besides pages — a breached
//! clock, an update due, a customer-notice deadline, a verified fix, a post-mortem
//! deadline, a follow-up, an update owed on a channel by a one-shot deadline — so
//! nothing the engine decides stays on the timeline only.

use super::Target;
use crate::{EventData, IncidentRole};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A kind of decision a person must hear about (pages have their own path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NoticeKind {
    /// A response clock ran out ([`EventData::SlaBreached`]).
    SlaBreach,
    /// An update is due on a channel ([`EventData::UpdateDue`]).
    UpdateDue,
    /// Customers must (or should) be told ([`EventData::CustomerNoticeDue`]).
    CustomerNotice,
    /// The fix held through monitoring ([`EventData::MonitoringVerified`]).
    Monitoring,
    /// A post-mortem stage is near its deadline or past it.
    Postmortem,
    /// A follow-up checkpoint is due ([`EventData::FollowupDue`]).
    Followup,
    /// A one-shot update deadline on a channel is near or passed
    /// ([`EventData::NoticeReminder`], [`EventData::NoticeOverdue`]).
    Notice,
}

impl NoticeKind {
    /// Every kind.
    pub const ALL: [NoticeKind; 7] = [
        NoticeKind::SlaBreach,
        NoticeKind::UpdateDue,
        NoticeKind::CustomerNotice,
        NoticeKind::Monitoring,
        NoticeKind::Postmortem,
        NoticeKind::Followup,
        NoticeKind::Notice,
    ];

    /// The key in `[notify]`.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::SlaBreach => "sla_breach",
            NoticeKind::UpdateDue => "update_due",
            NoticeKind::CustomerNotice => "customer_notice",
            NoticeKind::Monitoring => "monitoring",
            NoticeKind::Postmortem => "postmortem",
            NoticeKind::Followup => "followup",
            NoticeKind::Notice => "notice",
        }
    }

    /// The kind of notice `event` calls for, if it is one the policy fires for people.
    pub fn of(event: &EventData) -> Option<NoticeKind> {
        Some(match event {
            EventData::SlaBreached { .. } => NoticeKind::SlaBreach,
            EventData::UpdateDue { .. } => NoticeKind::UpdateDue,
            EventData::CustomerNoticeDue { .. } => NoticeKind::CustomerNotice,
            EventData::MonitoringVerified { .. } => NoticeKind::Monitoring,
            EventData::PostmortemDue { .. } | EventData::PostmortemReminder { .. } => {
                NoticeKind::Postmortem
            }
            EventData::FollowupDue { .. } => NoticeKind::Followup,
            EventData::NoticeReminder { .. } | EventData::NoticeOverdue { .. } => {
                NoticeKind::Notice
            }
            _ => return None,
        })
    }

    /// The action key of such an event: each fires once, so its notice is sent once.
    pub fn key(event: &EventData) -> Option<&str> {
        match event {
            EventData::SlaBreached { key, .. }
            | EventData::UpdateDue { key, .. }
            | EventData::CustomerNoticeDue { key, .. }
            | EventData::MonitoringVerified { key }
            | EventData::PostmortemDue { key, .. }
            | EventData::PostmortemReminder { key, .. }
            | EventData::FollowupDue { key, .. }
            | EventData::NoticeReminder { key, .. }
            | EventData::NoticeOverdue { key, .. } => Some(key),
            _ => None,
        }
    }
}

impl fmt::Display for NoticeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for NoticeKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        NoticeKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown notice `{s}`: expected one of {}",
                    NoticeKind::ALL.map(NoticeKind::as_str).join(", ")
                )
            })
    }
}

/// Who hears about one kind of notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Whoever holds this role on the incident; the incident's on-call while nobody does.
    Role(IncidentRole),
    /// The incident's on-call: whoever acknowledged it, else the people its latest page
    /// reached, else who its severity (or the first escalation level) pages now.
    OnCall,
    /// A schedule, person, team or channel, as paging targets are written.
    Target(Target),
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Audience::Role(role) => write!(f, "role:{role}"),
            Audience::OnCall => f.write_str("oncall"),
            Audience::Target(target) => target.fmt(f),
        }
    }
}

impl FromStr for Audience {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s == "oncall" || s == "on-call" {
            return Ok(Audience::OnCall);
        }
        if let Some(role) = s.strip_prefix("role:") {
            return role
                .parse::<IncidentRole>()
                .map(Audience::Role)
                .map_err(|e| e.to_string());
        }
        s.parse::<Target>().map(Audience::Target).map_err(|e| {
            format!("{e}; or role:commander, role:comms, … (an incident role), or oncall")
        })
    }
}

/// `[notify]`: for each kind of notice, who is told.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifySettings {
    /// What the policy says; a kind it does not name goes to [`NotifySettings::DEFAULT`]
    /// (notices of update deadlines to [`NotifySettings::DEFAULT_NOTICE`]).
    pub audiences: BTreeMap<NoticeKind, Vec<Audience>>,
}

impl NotifySettings {
    /// Who hears of a kind the policy says nothing about: the commander, or while
    /// nobody commands, the on-call.
    pub const DEFAULT: &'static [Audience] = &[Audience::Role(IncidentRole::Commander)];

    /// Who hears of an update owed on a channel ([`NoticeKind::Notice`]) when the policy
    /// says nothing: whoever holds comms, since posting it is their job; while nobody
    /// does, the on-call (as for every role).
    pub const DEFAULT_NOTICE: &'static [Audience] = &[Audience::Role(IncidentRole::Comms)];

    /// Who hears about `kind`.
    pub fn audience(&self, kind: NoticeKind) -> &[Audience] {
        let default = match kind {
            NoticeKind::Notice => Self::DEFAULT_NOTICE,
            _ => Self::DEFAULT,
        };
        self.audiences.get(&kind).map_or(default, Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audiences_read_as_written() {
        for text in [
            "role:commander",
            "oncall",
            "schedule:sre-primary",
            "person:alice",
        ] {
            let audience: Audience = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(audience.to_string(), text);
        }
        assert_eq!(
            "role:ic".parse(),
            Ok(Audience::Role(IncidentRole::Commander))
        );
        let err = "role:boss".parse::<Audience>().expect_err("unknown role");
        assert!(err.contains("unknown role"), "{err}");
        let err = "alice".parse::<Audience>().expect_err("bare name");
        assert!(err.contains("role:commander"), "{err}");
    }

    #[test]
    fn a_policy_that_says_nothing_tells_the_commander_and_comms_of_update_deadlines() {
        let settings = NotifySettings::default();
        for kind in NoticeKind::ALL {
            let expected = if kind == NoticeKind::Notice {
                IncidentRole::Comms
            } else {
                IncidentRole::Commander
            };
            assert_eq!(settings.audience(kind), &[Audience::Role(expected)]);
            assert_eq!(kind.as_str().parse(), Ok(kind));
        }
    }
}
