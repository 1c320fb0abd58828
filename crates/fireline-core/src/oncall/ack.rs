//! Acknowledge links: a signed, expiring token that can acknowledge one incident and do
//! nothing else, so a responder can act from a phone's mail client without signing in.
//!
//! The token is `INCIDENT.PERSON.EXPIRES.SIGNATURE`: the incident number, the person it
//! was sent to (so the timeline says who acknowledged), the expiry in Unix seconds, and
//! an HMAC-SHA256 over all three under a server secret every replica shares.
//! Nothing is stored per token; changing the secret revokes every link at once.

use crate::IncidentId;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use sha2::Sha256;

/// Why a token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AckTokenError {
    /// Not three dot-separated parts of the right form.
    #[error("this acknowledge link is malformed")]
    Malformed,
    /// The signature does not match: altered, or signed by another server.
    #[error("this acknowledge link is not valid")]
    BadSignature,
    /// Past its expiry.
    #[error("this acknowledge link expired at {0}")]
    Expired(Timestamp),
}

fn mac(secret: &[u8], number: u64, person: &str, expires: i64) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(format!("fireline-ack:{number}:{person}:{expires}").as_bytes());
    mac
}

/// A token with which `person` acknowledges `incident` until `expires`. Person ids are
/// roster ids (letters, digits, `-`, `_`), which need no escaping in a URL.
pub fn ack_token(secret: &[u8], incident: IncidentId, person: &str, expires: Timestamp) -> String {
    let expires = expires.as_second();
    let signature = mac(secret, incident.0, person, expires)
        .finalize()
        .into_bytes();
    format!(
        "{}.{person}.{expires}.{}",
        incident.0,
        hex::encode(signature)
    )
}

/// The incident a token may acknowledge at `now`, and the person it was sent to, if it
/// is genuine and unexpired.
pub fn verify_ack_token(
    secret: &[u8],
    token: &str,
    now: Timestamp,
) -> Result<(IncidentId, String), AckTokenError> {
    if secret.is_empty() {
        // A server without a key signs nothing it could verify.
        return Err(AckTokenError::BadSignature);
    }
    let mut parts = token.split('.');
    let (Some(number), Some(person), Some(expires), Some(signature), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(AckTokenError::Malformed);
    };
    let number: u64 = number.parse().map_err(|_| AckTokenError::Malformed)?;
    let expires: i64 = expires.parse().map_err(|_| AckTokenError::Malformed)?;
    let signature = hex::decode(signature).map_err(|_| AckTokenError::Malformed)?;
    // Constant-time comparison: the signature must not leak byte by byte.
    if person.is_empty() {
        return Err(AckTokenError::Malformed);
    }
    mac(secret, number, person, expires)
        .verify_slice(&signature)
        .map_err(|_| AckTokenError::BadSignature)?;
    let expiry = Timestamp::from_second(expires).map_err(|_| AckTokenError::Malformed)?;
    if now >= expiry {
        return Err(AckTokenError::Expired(expiry));
    }
    Ok((IncidentId(number), person.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn a_token_acknowledges_its_incident_until_it_expires() {
        let secret = b"s3cret";
        let token = ack_token(secret, IncidentId(42), "alice", at("2026-03-02T15:00:00Z"));
        assert_eq!(
            verify_ack_token(secret, &token, at("2026-03-02T14:00:00Z")),
            Ok((IncidentId(42), "alice".to_owned()))
        );
        assert_eq!(
            verify_ack_token(secret, &token, at("2026-03-02T15:00:00Z")),
            Err(AckTokenError::Expired(at("2026-03-02T15:00:00Z")))
        );
    }

    #[test]
    fn altered_or_foreign_tokens_are_refused() {
        let secret = b"s3cret";
        let token = ack_token(secret, IncidentId(42), "alice", at("2026-03-02T15:00:00Z"));
        let now = at("2026-03-02T14:00:00Z");
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
            "1.2.3.4.5",
            "42..1.00",
        ] {
            assert!(verify_ack_token(secret, bad, now).is_err(), "{bad}");
        }
    }
}
