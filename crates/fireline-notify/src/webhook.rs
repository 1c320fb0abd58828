//! The generic webhook: its JSON body and its HMAC-SHA256 signature.
//!
//! The signature covers `"{timestamp}." ++ body`, as Stripe and Slack do: because the
//! timestamp is signed, a receiver that refuses old timestamps also refuses replays.

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::message::Message;

/// Header carrying `v1=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "X-Fireline-Signature";
/// Header carrying the Unix time in seconds that the signature covers.
pub const TIMESTAMP_HEADER: &str = "X-Fireline-Timestamp";

/// Version of the webhook body; bumped only on incompatible changes.
const BODY_VERSION: u32 = 1;
const SCHEME: &str = "v1=";

/// Why [`verify`] refused a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The timestamp header is not a whole number of seconds.
    #[error("malformed {TIMESTAMP_HEADER} header")]
    MalformedTimestamp,
    /// The signature header is not `v1=` followed by 64 hex digits.
    #[error("malformed {SIGNATURE_HEADER} header")]
    MalformedSignature,
    /// The timestamp is further from now than the tolerance allows (a replay or a
    /// badly wrong clock).
    #[error("timestamp is {age_seconds}s from now, outside the tolerance")]
    OutsideTolerance {
        /// Now minus the timestamp: positive when old, negative when in the future.
        age_seconds: i64,
    },
    /// The signature does not match the body, timestamp and secret.
    #[error("signature does not match")]
    Mismatch,
}

/// The JSON body of a generic webhook:
/// `{"version":1,"key","headline","text","items":[{incident,title,severity,service,status,reason,incident_url,runbook_url,ack_url}]}`.
/// Absent optional values are `null`. A message to a status page subscriber also has
/// `unsubscribe_url`, the link that ends the subscription.
pub fn webhook_body(message: &Message) -> String {
    let mut body = json!({
        "version": BODY_VERSION,
        "key": message.key,
        "headline": message.headline,
        "text": message.text,
        "items": message.items,
    });
    if let (Some(url), Some(fields)) = (&message.unsubscribe_url, body.as_object_mut()) {
        fields.insert("unsubscribe_url".to_owned(), json!(url));
    }
    body.to_string()
}

/// `"v1=" + hex(HMAC-SHA256(secret, "{timestamp}." ++ body))`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body).finalize().into_bytes();
    format!("{SCHEME}{}", hex::encode(digest))
}

/// Checks a signed request as a receiver would: the timestamp must be within
/// `tolerance` of `now` (either side), and the signature must match, compared in
/// constant time.
pub fn verify(
    secret: &str,
    timestamp_header: &str,
    signature_header: &str,
    body: &[u8],
    now: jiff::Timestamp,
    tolerance: jiff::SignedDuration,
) -> Result<(), SignatureError> {
    let timestamp_header = timestamp_header.trim();
    // `i64::from_str` would also take "+12"; only plain digits are what we send.
    if timestamp_header.is_empty()
        || timestamp_header.len() > 18
        || !timestamp_header.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(SignatureError::MalformedTimestamp);
    }
    let timestamp: i64 = timestamp_header
        .parse()
        .map_err(|_| SignatureError::MalformedTimestamp)?;
    let expected = signature_header
        .trim()
        .strip_prefix(SCHEME)
        .filter(|hex| hex.len() == 64)
        .and_then(|hex| hex::decode(hex).ok())
        .ok_or(SignatureError::MalformedSignature)?;

    let age_seconds = now.as_second().saturating_sub(timestamp);
    let tolerance = tolerance.as_secs().saturating_abs();
    if age_seconds > tolerance || age_seconds < -tolerance {
        return Err(SignatureError::OutsideTolerance { age_seconds });
    }
    mac(secret, timestamp, body)
        .verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        // HMAC hashes or pads keys of any length; the error exists only for other MACs.
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::{SignedDuration, Timestamp};

    const FIVE_MINUTES: SignedDuration = SignedDuration::from_secs(300);

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn sign_matches_a_known_vector() {
        // Computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac s3cret
        assert_eq!(
            sign("s3cret", 1_700_000_000, br#"{"a":1}"#),
            "v1=1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e098940"
        );
    }

    #[test]
    fn verify_accepts_what_sign_produced() {
        let sig = sign("s3cret", 1_700_000_000, b"body");
        let now = at(1_700_000_100);
        assert_eq!(
            verify("s3cret", "1700000000", &sig, b"body", now, FIVE_MINUTES),
            Ok(())
        );
    }

    #[test]
    fn verify_refuses_tampering_wrong_secret_and_bad_times() {
        let sig = sign("s3cret", 1_700_000_000, b"body");
        let now = at(1_700_000_000);
        let check = |secret, ts, sig: &str, body: &[u8], now| {
            verify(secret, ts, sig, body, now, FIVE_MINUTES)
        };
        assert_eq!(
            check("s3cret", "1700000000", &sig, b"bodx", now),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check("other", "1700000000", &sig, b"body", now),
            Err(SignatureError::Mismatch)
        );
        // The timestamp is signed: moving it breaks the signature even within tolerance.
        assert_eq!(
            check("s3cret", "1700000001", &sig, b"body", now),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check("s3cret", "1700000000", &sig, b"body", at(1_700_000_301)),
            Err(SignatureError::OutsideTolerance { age_seconds: 301 })
        );
        assert_eq!(
            check("s3cret", "1700000000", &sig, b"body", at(1_699_999_699)),
            Err(SignatureError::OutsideTolerance { age_seconds: -301 })
        );
        assert_eq!(
            check("s3cret", "1700000000", &sig, b"body", at(1_700_000_300)),
            Ok(())
        );
    }

    #[test]
    fn verify_refuses_malformed_headers() {
        let sig = sign("s3cret", 1_700_000_000, b"body");
        let now = at(1_700_000_000);
        for ts in [
            "",
            "abc",
            "+1700000000",
            "-1",
            "1700000000.5",
            "99999999999999999999",
        ] {
            assert_eq!(
                verify("s3cret", ts, &sig, b"body", now, FIVE_MINUTES),
                Err(SignatureError::MalformedTimestamp),
                "{ts:?}"
            );
        }
        let hex = &sig[3..];
        for bad in [
            String::new(),
            hex.to_owned(),
            format!("v0={hex}"),
            format!("v1={}", &hex[..63]),
            format!("v1={}zz", &hex[..62]),
            format!("v1={hex}00"),
        ] {
            assert_eq!(
                verify("s3cret", "1700000000", &bad, b"body", now, FIVE_MINUTES),
                Err(SignatureError::MalformedSignature),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn body_carries_key_and_items() {
        let message = Message {
            key: "c0:page:1".into(),
            headline: "Paged".into(),
            items: vec![crate::Item {
                incident: "INC-1".into(),
                ..Default::default()
            }],
            text: None,
            urgent: true,
            confirm_url: None,
            unsubscribe_url: None,
        };
        let body: serde_json::Value =
            serde_json::from_str(&webhook_body(&message)).unwrap_or_default();
        assert_eq!(body["version"], 1);
        assert_eq!(body["key"], "c0:page:1");
        assert_eq!(body["items"][0]["incident"], "INC-1");
        assert!(body["text"].is_null());
        assert!(body["items"][0]["ack_url"].is_null());
        assert!(body.get("unsubscribe_url").is_none(), "{body}");
        let to_subscriber = Message {
            unsubscribe_url: Some("https://f.example/status/unsubscribe/abc".into()),
            ..message
        };
        let body: serde_json::Value =
            serde_json::from_str(&webhook_body(&to_subscriber)).unwrap_or_default();
        assert_eq!(
            body["unsubscribe_url"],
            "https://f.example/status/unsubscribe/abc"
        );
    }
}
