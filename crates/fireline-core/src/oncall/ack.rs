//! Acknowledge links: a signed, expiring token that can acknowledge one incident and do
//! nothing else, so a responder can act from a phone's mail client without signing in.
//!
//! The token is `INCIDENT.PERSON.ISSUED.EXPIRES.SIGNATURE`: the incident number, the
//! person it was sent to (so the timeline says who acknowledged), when it was issued and
//! when it expires (Unix seconds), and an HMAC-SHA256 over all four under a server secret
//! every replica shares. The issue time ties the link to the episode it was sent for: a
//! link issued before the incident was last reopened belongs to an earlier episode and
//! acknowledges nothing ([`check_episode`]).
//!
//! Links of the older form `INCIDENT.PERSON.EXPIRES.SIGNATURE` (sent before issue times
//! were signed) still verify, with no issue time: they act only on an incident that was
//! never reopened.
//! Nothing is stored per token; changing the secret revokes every link at once.

use crate::{EventData, IncidentId, RecordedEvent};
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use sha2::Sha256;

/// Why a token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AckTokenError {
    /// Not of the right form.
    #[error("this acknowledge link is malformed")]
    Malformed,
    /// The signature does not match: altered, or signed by another server.
    #[error("this acknowledge link is not valid")]
    BadSignature,
    /// Past its expiry.
    #[error("this acknowledge link expired at {0}")]
    Expired(Timestamp),
    /// Sent before the incident was last reopened: it was for an earlier episode.
    #[error(
        "this acknowledge link was sent for an earlier episode of {incident}: the incident \
         was resolved and reopened at {reopened} after the link was sent"
    )]
    EarlierEpisode {
        /// The incident.
        incident: IncidentId,
        /// When it was last reopened.
        reopened: Timestamp,
    },
}

/// What a genuine, unexpired token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckLink {
    /// The incident it may acknowledge.
    pub incident: IncidentId,
    /// The person it was sent to.
    pub person: String,
    /// When it was issued (to the second); `None` for links of the older form.
    pub issued: Option<Timestamp>,
}

fn mac(
    secret: &[u8],
    number: u64,
    person: &str,
    issued: Option<i64>,
    expires: i64,
) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    // Each form has its own prefix, so no token of one form verifies as the other.
    match issued {
        Some(issued) => {
            mac.update(format!("fireline-ack-v2:{number}:{person}:{issued}:{expires}").as_bytes())
        }
        None => mac.update(format!("fireline-ack:{number}:{person}:{expires}").as_bytes()),
    }
    mac
}

/// A token with which `person` acknowledges `incident` from `issued` until `expires`.
/// Person ids are roster ids (letters, digits, `-`, `_`), which need no escaping in a
/// URL.
pub fn ack_token(
    secret: &[u8],
    incident: IncidentId,
    person: &str,
    issued: Timestamp,
    expires: Timestamp,
) -> String {
    let (issued, expires) = (issued.as_second(), expires.as_second());
    let signature = mac(secret, incident.0, person, Some(issued), expires)
        .finalize()
        .into_bytes();
    format!(
        "{}.{person}.{issued}.{expires}.{}",
        incident.0,
        hex::encode(signature)
    )
}

/// The incident a token may acknowledge at `now`, the person it was sent to and when,
/// if it is genuine and unexpired. Whether it is for the incident's current episode is
/// [`check_episode`]'s question.
pub fn verify_ack_token(
    secret: &[u8],
    token: &str,
    now: Timestamp,
) -> Result<AckLink, AckTokenError> {
    if secret.is_empty() {
        // A server without a key signs nothing it could verify.
        return Err(AckTokenError::BadSignature);
    }
    let parts: Vec<&str> = token.split('.').collect();
    let (number, person, issued, expires, signature) = match parts[..] {
        [number, person, issued, expires, signature] => {
            (number, person, Some(issued), expires, signature)
        }
        [number, person, expires, signature] => (number, person, None, expires, signature),
        _ => return Err(AckTokenError::Malformed),
    };
    let number: u64 = number.parse().map_err(|_| AckTokenError::Malformed)?;
    let issued: Option<i64> = issued
        .map(|i| i.parse().map_err(|_| AckTokenError::Malformed))
        .transpose()?;
    let expires: i64 = expires.parse().map_err(|_| AckTokenError::Malformed)?;
    let signature = hex::decode(signature).map_err(|_| AckTokenError::Malformed)?;
    if person.is_empty() {
        return Err(AckTokenError::Malformed);
    }
    // Constant-time comparison: the signature must not leak byte by byte.
    mac(secret, number, person, issued, expires)
        .verify_slice(&signature)
        .map_err(|_| AckTokenError::BadSignature)?;
    let expiry = Timestamp::from_second(expires).map_err(|_| AckTokenError::Malformed)?;
    if now >= expiry {
        return Err(AckTokenError::Expired(expiry));
    }
    let issued = issued
        .map(|i| Timestamp::from_second(i).map_err(|_| AckTokenError::Malformed))
        .transpose()?;
    Ok(AckLink {
        incident: IncidentId(number),
        person: person.to_owned(),
        issued,
    })
}

/// Whether `link` is for the incident's current episode, given the incident's events: a
/// link issued before the incident's last reopening was sent for an earlier episode and
/// must not acknowledge this one. Issue times are whole seconds, so a reopening in the
/// second the link was issued counts as before it (a page that follows a reopening is
/// sent in the same second). A link of the older form, without an issue time, is
/// accepted only if the incident was never reopened.
pub fn check_episode(link: &AckLink, events: &[RecordedEvent]) -> Result<(), AckTokenError> {
    let last_reopened = events
        .iter()
        .filter(|e| matches!(e.data, EventData::Reopened { .. }))
        .map(|e| e.at)
        .max();
    let Some(reopened) = last_reopened else {
        return Ok(());
    };
    let earlier = match link.issued {
        Some(issued) => reopened.as_second() > issued.as_second(),
        None => true,
    };
    if earlier {
        return Err(AckTokenError::EarlierEpisode {
            incident: link.incident,
            reopened,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn link(number: u64, person: &str, issued: &str) -> AckLink {
        AckLink {
            incident: IncidentId(number),
            person: person.to_owned(),
            issued: Some(at(issued)),
        }
    }

    const ISSUED: &str = "2026-03-02T14:00:00Z";

    fn token(secret: &[u8], number: u64, person: &str) -> String {
        ack_token(
            secret,
            IncidentId(number),
            person,
            at(ISSUED),
            at("2026-03-02T15:00:00Z"),
        )
    }

    #[test]
    fn a_token_acknowledges_its_incident_until_it_expires() {
        let secret = b"s3cret";
        let token = token(secret, 42, "alice");
        assert_eq!(
            verify_ack_token(secret, &token, at("2026-03-02T14:10:00Z")),
            Ok(link(42, "alice", ISSUED))
        );
        assert_eq!(
            verify_ack_token(secret, &token, at("2026-03-02T15:00:00Z")),
            Err(AckTokenError::Expired(at("2026-03-02T15:00:00Z")))
        );
    }

    #[test]
    fn altered_or_foreign_tokens_are_refused() {
        let secret = b"s3cret";
        let token = token(secret, 42, "alice");
        let now = at("2026-03-02T14:10:00Z");
        let someone_else = token.replacen(".alice.", ".mallory.", 1);
        assert_eq!(
            verify_ack_token(secret, &someone_else, now),
            Err(AckTokenError::BadSignature)
        );
        let other_incident = token.replacen("42.", "43.", 1);
        assert_eq!(
            verify_ack_token(secret, &other_incident, now),
            Err(AckTokenError::BadSignature)
        );
        let longer = token.replacen(".1772", ".1872", 1);
        assert_eq!(
            verify_ack_token(secret, &longer, now),
            Err(AckTokenError::BadSignature)
        );
        // Moving the issue time later (to pass for a later episode) breaks the signature.
        let issued = at(ISSUED).as_second();
        let later = token.replacen(&format!(".{issued}."), &format!(".{}.", issued + 3600), 1);
        assert_ne!(later, token);
        assert_eq!(
            verify_ack_token(secret, &later, now),
            Err(AckTokenError::BadSignature)
        );
        // Dropping the issue time (to pass as a link of the older form) does too.
        let expires = at("2026-03-02T15:00:00Z").as_second();
        let dropped = token.replacen(&format!(".{issued}.{expires}."), &format!(".{expires}."), 1);
        assert_ne!(dropped, token);
        assert_eq!(
            verify_ack_token(secret, &dropped, now),
            Err(AckTokenError::BadSignature)
        );
        assert_eq!(
            verify_ack_token(b"other", &token, now),
            Err(AckTokenError::BadSignature)
        );
        assert_eq!(
            verify_ack_token(b"", &token, now),
            Err(AckTokenError::BadSignature),
            "a server without a key verifies nothing"
        );
        for bad in [
            "",
            "42",
            "42.a.x.y",
            "a.b.1.00",
            "42.a.1.zz",
            "42.a.x.1.00",
            "1.2.3.4.5.6",
            "42..1.00",
        ] {
            assert!(verify_ack_token(secret, bad, now).is_err(), "{bad}");
        }
    }

    #[test]
    fn links_of_the_older_form_still_verify_without_an_issue_time() {
        let secret = b"s3cret";
        let expires = at("2026-03-02T15:00:00Z").as_second();
        let signature = mac(secret, 42, "alice", None, expires)
            .finalize()
            .into_bytes();
        let old = format!("42.alice.{expires}.{}", hex::encode(signature));
        assert_eq!(
            verify_ack_token(secret, &old, at(ISSUED)),
            Ok(AckLink {
                incident: IncidentId(42),
                person: "alice".to_owned(),
                issued: None,
            })
        );
    }

    fn event(seq: u64, when: &str, data: EventData) -> RecordedEvent {
        RecordedEvent {
            id: seq as i64,
            seq,
            at: at(when),
            actor: "alice".to_owned(),
            data,
        }
    }

    fn reopened(seq: u64, when: &str) -> RecordedEvent {
        event(seq, when, EventData::Reopened { reason: None })
    }

    #[test]
    fn an_old_ack_link_does_not_acknowledge_a_reopened_incident() {
        let resolved = EventData::Resolved { summary: None };
        let mut events = vec![event(1, "2026-03-02T13:00:00Z", resolved.clone())];
        let first_episode = link(42, "alice", ISSUED);
        assert_eq!(
            check_episode(&first_episode, &events),
            Ok(()),
            "never reopened"
        );

        events.push(reopened(2, "2026-03-02T14:30:00Z"));
        assert_eq!(
            check_episode(&first_episode, &events),
            Err(AckTokenError::EarlierEpisode {
                incident: IncidentId(42),
                reopened: at("2026-03-02T14:30:00Z"),
            })
        );
        // A link sent for the reopened episode (in the second of the reopening or later).
        assert_eq!(
            check_episode(&link(42, "alice", "2026-03-02T14:30:00Z"), &events),
            Ok(())
        );
        assert_eq!(
            check_episode(&link(42, "alice", "2026-03-02T14:31:00Z"), &events),
            Ok(())
        );
        // Reopened again: the second episode's link is now an earlier one too.
        events.push(event(3, "2026-03-02T14:40:00Z", resolved));
        events.push(reopened(4, "2026-03-02T14:50:00Z"));
        assert!(check_episode(&link(42, "alice", "2026-03-02T14:31:00Z"), &events).is_err());

        // A link of the older form cannot say when it was sent: only a never-reopened
        // incident takes it.
        let old = AckLink {
            issued: None,
            ..first_episode
        };
        assert_eq!(check_episode(&old, &events[..1]), Ok(()));
        assert!(check_episode(&old, &events).is_err());
    }
}
