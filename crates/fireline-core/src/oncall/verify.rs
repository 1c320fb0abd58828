//! Proving a contact reaches its person: a test page carries a signed confirm link, and
//! following it (or pressing 1 in the test call) records the contact as verified.
//!
//! The token is `t.PERSON.KIND.DIGEST.ISSUED.EXPIRES.SIGNATURE`: the person, the kind of
//! contact, a digest of its address (so a changed number needs a new test, and the
//! address itself is never in a URL), when it was sent and when it expires, and an
//! HMAC-SHA256 over all of them under the same server secret as acknowledge links. Its
//! `t.` prefix can never be an acknowledge link's incident number.

use super::ack::AckTokenError;
use super::{Contact, ContactKind, Person};
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use sha2::{Digest, Sha256};

/// A contact shown to have reached its person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedContact {
    /// The person's roster id.
    pub person: String,
    /// The kind of contact.
    pub kind: ContactKind,
    /// [`address_digest`] of its address.
    pub address_digest: String,
    /// When the test was confirmed.
    pub verified_at: Timestamp,
}

/// What a genuine, unexpired confirm link says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactCheck {
    /// The person the test was for.
    pub person: String,
    /// The kind of contact tested.
    pub kind: ContactKind,
    /// [`address_digest`] of the tested address.
    pub address_digest: String,
}

/// A short, stable digest of an address (16 hex digits of its SHA-256), which says
/// whether a contact is still the one that was tested without storing it again.
pub fn address_digest(address: &str) -> String {
    let digest = Sha256::digest(address.trim().as_bytes());
    hex::encode(&digest[..8])
}

/// Whether `contact` of `person` is among `verified`.
pub fn is_verified(verified: &[VerifiedContact], person: &str, contact: &Contact) -> bool {
    let digest = address_digest(&contact.address);
    verified
        .iter()
        .any(|v| v.person == person && v.kind == contact.kind && v.address_digest == digest)
}

/// Whether a token from a link is a confirm link (else it is an acknowledge link).
pub fn is_contact_check(token: &str) -> bool {
    token.starts_with("t.")
}

fn mac(
    secret: &[u8],
    person: &str,
    kind: ContactKind,
    digest: &str,
    issued: i64,
    expires: i64,
) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(
        format!("fireline-contact-check:{person}:{kind}:{digest}:{issued}:{expires}").as_bytes(),
    );
    mac
}

/// A confirm link's token for `contact` of `person`, valid from `issued` to `expires`.
pub fn contact_check_token(
    secret: &[u8],
    person: &Person,
    contact: &Contact,
    issued: Timestamp,
    expires: Timestamp,
) -> String {
    let digest = address_digest(&contact.address);
    let (issued, expires) = (issued.as_second(), expires.as_second());
    let signature = mac(secret, &person.id, contact.kind, &digest, issued, expires)
        .finalize()
        .into_bytes();
    format!(
        "t.{}.{}.{digest}.{issued}.{expires}.{}",
        person.id,
        contact.kind,
        hex::encode(signature)
    )
}

/// The contact a confirm link proves, if the token is genuine and unexpired at `now`.
pub fn verify_contact_check_token(
    secret: &[u8],
    token: &str,
    now: Timestamp,
) -> Result<ContactCheck, AckTokenError> {
    if secret.is_empty() {
        return Err(AckTokenError::BadSignature);
    }
    let parts: Vec<&str> = token.split('.').collect();
    let ["t", person, kind, digest, issued, expires, signature] = parts[..] else {
        return Err(AckTokenError::Malformed);
    };
    let kind: ContactKind = kind.parse().map_err(|_| AckTokenError::Malformed)?;
    let issued: i64 = issued.parse().map_err(|_| AckTokenError::Malformed)?;
    let expires: i64 = expires.parse().map_err(|_| AckTokenError::Malformed)?;
    let signature = hex::decode(signature).map_err(|_| AckTokenError::Malformed)?;
    if person.is_empty() || digest.is_empty() {
        return Err(AckTokenError::Malformed);
    }
    mac(secret, person, kind, digest, issued, expires)
        .verify_slice(&signature)
        .map_err(|_| AckTokenError::BadSignature)?;
    let expiry = Timestamp::from_second(expires).map_err(|_| AckTokenError::Malformed)?;
    if now >= expiry {
        return Err(AckTokenError::Expired(expiry));
    }
    Ok(ContactCheck {
        person: person.to_owned(),
        kind,
        address_digest: digest.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Person {
        Person {
            id: "alice".into(),
            name: "Alice".into(),
            time_zone: "UTC".into(),
            contacts: vec![Contact {
                kind: ContactKind::Sms,
                address: "+15551230001".into(),
                secret: None,
            }],
            rules: vec![],
            bundle: None,
            slack_user: None,
            mattermost_user: None,
        }
    }

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn a_confirm_link_proves_one_contact_until_it_expires() {
        let person = alice();
        let token = contact_check_token(
            b"k",
            &person,
            &person.contacts[0],
            at("2026-03-02T14:00:00Z"),
            at("2026-03-02T15:00:00Z"),
        );
        assert!(is_contact_check(&token));
        assert!(!token.contains("5551230001"), "no number in a URL: {token}");
        let check =
            verify_contact_check_token(b"k", &token, at("2026-03-02T14:30:00Z")).expect("valid");
        assert_eq!(
            (check.person.as_str(), check.kind),
            ("alice", ContactKind::Sms)
        );
        let verified = [VerifiedContact {
            person: check.person,
            kind: check.kind,
            address_digest: check.address_digest,
            verified_at: at("2026-03-02T14:30:00Z"),
        }];
        assert!(is_verified(&verified, "alice", &person.contacts[0]));
        let mut changed = person.contacts[0].clone();
        changed.address = "+15551230009".into();
        assert!(
            !is_verified(&verified, "alice", &changed),
            "a new number needs a new test"
        );
        assert_eq!(
            verify_contact_check_token(b"k", &token, at("2026-03-02T15:00:00Z")),
            Err(AckTokenError::Expired(at("2026-03-02T15:00:00Z")))
        );
        assert_eq!(
            verify_contact_check_token(b"other", &token, at("2026-03-02T14:30:00Z")),
            Err(AckTokenError::BadSignature)
        );
        let forged = token.replacen("t.alice.", "t.mallory.", 1);
        assert_eq!(
            verify_contact_check_token(b"k", &forged, at("2026-03-02T14:30:00Z")),
            Err(AckTokenError::BadSignature)
        );
        assert_eq!(
            verify_contact_check_token(b"k", "12.alice.1.2.ab", at("2026-03-02T14:30:00Z")),
            Err(AckTokenError::Malformed)
        );
    }
}
