//! Web Push: RFC 8291 message encryption and RFC 8292 VAPID.
//!
//! A browser (the web UI installed as an app) subscribes with the server's
//! [`VapidKey::public_key`] as its `applicationServerKey` and hands over its
//! `PushSubscription.toJSON()`, which [`Subscription::parse`] checks. To page someone,
//! [`request`] builds the POST for the push service: the payload encrypted for that one
//! browser (`aes128gcm`, RFC 8188 as profiled by RFC 8291), the `Authorization: vapid`
//! header (RFC 8292) and the RFC 8030 headers. The service worker reads the JSON that
//! [`notification_payload`] makes. [`classify`] says what the push service's answer
//! means, [`Refusal::Gone`] meaning the subscription no longer exists.
//!
//! Pure: no I/O and no clock (`now` is an argument). The only randomness is the
//! per-message ephemeral key and salt, and the VAPID key's generation (`getrandom`).
//!
//! **Secrets:** the endpoint is a capability URL (whoever knows it can push to the
//! device, given a VAPID key the service accepts), the `p256dh` and `auth` keys let one
//! read the messages, and the VAPID private key signs as this server. `Debug` output and
//! errors name the endpoint's host only and never show a key or a token.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hkdf::Hkdf;
use p256::ecdsa::signature::Signer as _;
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use p256::elliptic_curve::zeroize::Zeroizing;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;

use crate::Message;

/// The largest plaintext one push message carries. A push service must accept 4096
/// bytes of body (RFC 8030 §7.2); the `aes128gcm` header takes 86 of them, the padding
/// delimiter 1 and the AES-GCM tag 16 (RFC 8291 §4).
pub const MAX_PAYLOAD: usize = 3993;

/// How long a VAPID token is valid: RFC 8292 §2 allows at most 24 hours.
pub const VAPID_VALIDITY_SECONDS: i64 = 12 * 60 * 60;

/// The `rs` (record size) of the `aes128gcm` header: a single record always fits.
const RECORD_SIZE: u32 = 4096;
/// Bytes of an uncompressed P-256 point (`0x04 || x || y`).
const POINT_LEN: usize = 65;
/// Bytes of the subscription's `auth` secret.
const AUTH_LEN: usize = 16;
/// Bytes of an `aes128gcm` salt.
const SALT_LEN: usize = 16;
/// Push services' endpoints are a few hundred characters; anything much longer is not one.
const MAX_ENDPOINT_LEN: usize = 2048;
/// RFC 8030 §5.4: a topic is at most 32 characters of the base64url alphabet.
const MAX_TOPIC_LEN: usize = 32;
/// The ES256 JOSE header of every VAPID token, as RFC 8292 §2 shows it.
const JWT_HEADER: &str = r#"{"typ":"JWT","alg":"ES256"}"#;

/// What went wrong building a push message. Never quotes a key, a token or the
/// endpoint's path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebPushError {
    /// The subscription is unusable; `field` is `subscription` (the JSON as a whole),
    /// `endpoint`, `keys`, `keys.p256dh` or `keys.auth`.
    #[error("invalid push subscription: {field} {reason}")]
    Subscription {
        /// The offending field, as named in `PushSubscription.toJSON()`.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A stored VAPID private key does not decode to a P-256 scalar.
    #[error("invalid VAPID private key: {0}")]
    VapidKey(&'static str),
    /// The VAPID `sub` claim must be a `mailto:` or `https:` URL (RFC 8292 §2.1).
    #[error("VAPID subject {0:?} must be a mailto: address or an https: URL")]
    Subject(String),
    /// The plaintext does not fit in one push message.
    #[error("push payload is {len} bytes; at most {MAX_PAYLOAD} fit in one push message")]
    PayloadTooLarge {
        /// The plaintext's length in bytes.
        len: usize,
    },
    /// A `Topic` must be 1 to 32 characters of the base64url alphabet (RFC 8030 §5.4).
    #[error("push topic {0:?} must be 1 to 32 characters of A-Z a-z 0-9 - _")]
    Topic(String),
    /// The operating system's random number generator failed.
    #[error("no randomness for Web Push: {0}")]
    Random(String),
    /// A cryptographic step failed that cannot fail with valid inputs.
    #[error("Web Push encryption failed: {0}")]
    Crypto(&'static str),
}

fn invalid(field: &'static str, reason: impl Into<String>) -> WebPushError {
    WebPushError::Subscription {
        field,
        reason: reason.into(),
    }
}

/// Which endpoint schemes [`Subscription::parse`] and [`Subscription::validate`] accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoints {
    /// `https:` only, as every real push service uses: for subscriptions from browsers.
    HttpsOnly,
    /// `http:` too: for tests against a local fake push service.
    AllowHttp,
}

/// One browser's push subscription, as `PushSubscription.toJSON()` gives it: the
/// endpoint to POST to, and the keys (base64url, unpadded) to encrypt for.
///
/// `Debug` shows the endpoint's host only: the endpoint is a capability URL.
#[derive(Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The push service URL for this browser; a capability, keep it secret.
    pub endpoint: String,
    /// The browser's P-256 public key: base64url of the 65-byte uncompressed point.
    pub p256dh: String,
    /// The browser's authentication secret: base64url of 16 bytes.
    pub auth: String,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("host", &self.host())
            .finish_non_exhaustive()
    }
}

impl Subscription {
    /// Reads `PushSubscription.toJSON()` output,
    /// `{"endpoint": "https://…", "expirationTime": null, "keys": {"p256dh": "…", "auth": "…"}}`,
    /// and [validates](Subscription::validate) it. Other members are ignored.
    pub fn parse(json: &str, endpoints: Endpoints) -> Result<Subscription, WebPushError> {
        // Read as a `Value` rather than derived structs: serde's messages quote the
        // unexpected value, which here may be a key or the endpoint.
        let value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
            let at = format!("line {}, column {}", e.line(), e.column());
            invalid("subscription", format!("is not JSON ({at})"))
        })?;
        let text = |value: Option<&serde_json::Value>, field: &'static str| match value {
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(invalid(field, "is not a string")),
            None => Err(invalid(field, "is missing")),
        };
        if !value.is_object() {
            return Err(invalid("subscription", "is not a JSON object"));
        }
        let keys = value.get("keys");
        if keys.is_some_and(|k| !k.is_object()) {
            return Err(invalid("keys", "is not an object"));
        }
        let subscription = Subscription {
            endpoint: text(value.get("endpoint"), "endpoint")?,
            p256dh: text(keys.and_then(|k| k.get("p256dh")), "keys.p256dh")?,
            auth: text(keys.and_then(|k| k.get("auth")), "keys.auth")?,
        };
        subscription.validate(endpoints)?;
        Ok(subscription)
    }

    /// Checks that the endpoint is an `https:` URL (or `http:`, if `endpoints` allows)
    /// with a host and no credentials, that `p256dh` decodes to an uncompressed point on
    /// P-256, and that `auth` decodes to 16 bytes. The error names the first bad field.
    pub fn validate(&self, endpoints: Endpoints) -> Result<(), WebPushError> {
        endpoint_origin(&self.endpoint, endpoints)?;
        self.ua_public()?;
        self.auth_secret()?;
        Ok(())
    }

    /// The subscription as `PushSubscription.toJSON()` gives it (without
    /// `expirationTime`): what [`Subscription::parse`] reads back.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "endpoint": self.endpoint,
            "keys": {"p256dh": self.p256dh, "auth": self.auth},
        })
        .to_string()
    }

    /// The endpoint's host (and port): safe to log, unlike the endpoint.
    pub fn host(&self) -> &str {
        url_host(&self.endpoint)
    }

    /// The browser's public key, checked to be an uncompressed point on P-256.
    fn ua_public(&self) -> Result<PublicKey, WebPushError> {
        const FIELD: &str = "keys.p256dh";
        let bytes = decode(&self.p256dh).ok_or_else(|| invalid(FIELD, "is not base64url"))?;
        if bytes.len() != POINT_LEN {
            return Err(invalid(
                FIELD,
                format!(
                    "decodes to {} bytes, not the 65 of an uncompressed P-256 point",
                    bytes.len()
                ),
            ));
        }
        if bytes[0] != 0x04 {
            return Err(invalid(
                FIELD,
                "is not an uncompressed point (no 0x04 prefix)",
            ));
        }
        PublicKey::from_sec1_bytes(&bytes)
            .map_err(|_| invalid(FIELD, "is not a point on the P-256 curve"))
    }

    /// The browser's 16-byte authentication secret.
    fn auth_secret(&self) -> Result<[u8; AUTH_LEN], WebPushError> {
        const FIELD: &str = "keys.auth";
        let bytes = decode(&self.auth).ok_or_else(|| invalid(FIELD, "is not base64url"))?;
        let len = bytes.len();
        <[u8; AUTH_LEN]>::try_from(bytes)
            .map_err(|_| invalid(FIELD, format!("decodes to {len} bytes, not 16")))
    }
}

/// The host (and port) of `url`, without scheme, credentials, path or query.
fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}

/// The origin (`https://host[:port]`, lower case, default port omitted) of a push
/// endpoint: the VAPID token's audience. Errors name the host at most.
fn endpoint_origin(endpoint: &str, endpoints: Endpoints) -> Result<String, WebPushError> {
    const FIELD: &str = "endpoint";
    if endpoint.is_empty() {
        return Err(invalid(FIELD, "is empty"));
    }
    if endpoint.len() > MAX_ENDPOINT_LEN {
        return Err(invalid(
            FIELD,
            format!("is longer than {MAX_ENDPOINT_LEN} characters"),
        ));
    }
    if !endpoint.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(
            FIELD,
            "contains spaces, control or non-ASCII characters",
        ));
    }
    let Some((scheme, rest)) = endpoint.split_once("://") else {
        return Err(invalid(FIELD, "is not an absolute URL"));
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest[..end].to_ascii_lowercase();
    let (scheme, default_port) = match scheme.to_ascii_lowercase().as_str() {
        "https" => ("https", "443"),
        "http" if endpoints == Endpoints::AllowHttp => ("http", "80"),
        "http" => {
            return Err(invalid(
                FIELD,
                format!("must use https, not http (host {authority})"),
            ))
        }
        _ => return Err(invalid(FIELD, "must be an https URL")),
    };
    if authority.contains('@') {
        return Err(invalid(FIELD, "must not carry a user name or password"));
    }
    let (host, port) = split_port(&authority)
        .ok_or_else(|| invalid(FIELD, format!("has an invalid host or port ({authority})")))?;
    Ok(match port {
        Some(port) if port != default_port => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    })
}

/// `host[:port]` (host a name, an IPv4 address or a bracketed IPv6 address) split in
/// two, or `None` if either part is malformed.
fn split_port(authority: &str) -> Option<(&str, Option<&str>)> {
    let (host, port) = if authority.starts_with('[') {
        let close = authority.find(']')?;
        let (host, after) = authority.split_at(close + 1);
        let ok = host[1..close]
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        if !ok || close == 1 {
            return None;
        }
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':')?)),
        }
    } else {
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        let ok = host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
        if host.is_empty() || !ok {
            return None;
        }
        (host, port)
    };
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u16>().is_ok_and(|p| p != 0);
        if !valid {
            return None;
        }
    }
    Some((host, port))
}

/// This server's VAPID key pair (RFC 8292): signs the token that identifies the server
/// to push services. Browsers subscribe with its [public key](VapidKey::public_key), so
/// replacing it orphans every existing subscription.
///
/// `Debug` shows the public key only.
#[derive(Clone)]
pub struct VapidKey {
    secret: SecretKey,
}

impl fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VapidKey")
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

impl VapidKey {
    /// A new random key pair, from the operating system's random number generator.
    pub fn generate() -> Result<VapidKey, WebPushError> {
        Ok(VapidKey {
            secret: random_secret()?,
        })
    }

    /// The key pair whose private key [`VapidKey::private_key`] exported: base64url of
    /// the 32-byte big-endian scalar (trailing `=` padding tolerated).
    pub fn from_private_key(base64url: &str) -> Result<VapidKey, WebPushError> {
        let bytes =
            Zeroizing::new(decode(base64url).ok_or(WebPushError::VapidKey("not base64url"))?);
        if bytes.len() != 32 {
            return Err(WebPushError::VapidKey("does not decode to 32 bytes"));
        }
        let secret = SecretKey::from_slice(&bytes)
            .map_err(|_| WebPushError::VapidKey("not a valid P-256 private key"))?;
        Ok(VapidKey { secret })
    }

    /// The private key as base64url (unpadded) of the 32-byte scalar, for the server's
    /// settings. A secret: whoever has it can push as this server.
    pub fn private_key(&self) -> String {
        encode(&Zeroizing::new(self.secret.to_bytes()))
    }

    /// The public key as base64url (unpadded) of the 65-byte uncompressed point: the
    /// `applicationServerKey` the browser subscribes with, and the `k=` of the
    /// `Authorization` header.
    pub fn public_key(&self) -> String {
        encode(self.secret.public_key().to_encoded_point(false).as_bytes())
    }

    /// The `Authorization` header value, `vapid t=<JWT>, k=<public key>` (RFC 8292 §3):
    /// an ES256 JWT for `audience` (the push service's origin) valid until
    /// `now` + [`VAPID_VALIDITY_SECONDS`], naming `subject` as the contact.
    fn authorization(&self, audience: &str, subject: &str, now: jiff::Timestamp) -> String {
        let claims = serde_json::json!({
            "aud": audience,
            "exp": now.as_second().saturating_add(VAPID_VALIDITY_SECONDS),
            "sub": subject,
        });
        let signing_input = format!(
            "{}.{}",
            encode(JWT_HEADER.as_bytes()),
            encode(claims.to_string().as_bytes())
        );
        let signer = p256::ecdsa::SigningKey::from(&self.secret);
        // Deterministic (RFC 6979) ECDSA over SHA-256; the JWS form is r || s.
        let signature: p256::ecdsa::Signature = signer.sign(signing_input.as_bytes());
        format!(
            "vapid t={signing_input}.{}, k={}",
            encode(&signature.to_bytes()),
            self.public_key()
        )
    }
}

/// A P-256 private key from the operating system's random number generator.
fn random_secret() -> Result<SecretKey, WebPushError> {
    // A random 32-byte string is a valid scalar (non-zero, below the group order)
    // except with probability about 2^-32; a few retries make failure impossible in
    // practice without looping forever on a broken generator.
    for _ in 0..8 {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut bytes[..]).map_err(|e| WebPushError::Random(e.to_string()))?;
        if let Ok(secret) = SecretKey::from_slice(&bytes[..]) {
            return Ok(secret);
        }
    }
    Err(WebPushError::Random(
        "no valid P-256 scalar in 8 draws".to_owned(),
    ))
}

/// Encrypts `plaintext` for `subscription` (RFC 8291, `aes128gcm` content coding of
/// RFC 8188) with a fresh ephemeral key and salt: the body of a push message. Refuses a
/// plaintext over [`MAX_PAYLOAD`] bytes.
pub fn encrypt(subscription: &Subscription, plaintext: &[u8]) -> Result<Vec<u8>, WebPushError> {
    let ephemeral = random_secret()?;
    let mut salt = [0u8; SALT_LEN];
    getrandom::fill(&mut salt).map_err(|e| WebPushError::Random(e.to_string()))?;
    encrypt_with(subscription, plaintext, &ephemeral, &salt)
}

/// [`encrypt`] with the randomness given: the application server's ephemeral key
/// `as_secret` and the `salt`. Never reuse either; this exists so that known-answer
/// tests (RFC 8291 Appendix A) can fix them.
fn encrypt_with(
    subscription: &Subscription,
    plaintext: &[u8],
    as_secret: &SecretKey,
    salt: &[u8; SALT_LEN],
) -> Result<Vec<u8>, WebPushError> {
    if plaintext.len() > MAX_PAYLOAD {
        return Err(WebPushError::PayloadTooLarge {
            len: plaintext.len(),
        });
    }
    let ua_public = subscription.ua_public()?;
    let auth = subscription.auth_secret()?;
    let ua_point = ua_public.to_encoded_point(false);
    let as_point = as_secret.public_key().to_encoded_point(false);
    let ecdh = p256::ecdh::diffie_hellman(as_secret.to_nonzero_scalar(), ua_public.as_affine());

    // RFC 8291 §3.4: combine the ECDH secret with the authentication secret…
    let mut key_info = Vec::with_capacity(14 + 2 * POINT_LEN);
    key_info.extend_from_slice(b"WebPush: info\0");
    key_info.extend_from_slice(ua_point.as_bytes());
    key_info.extend_from_slice(as_point.as_bytes());
    let mut ikm = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(&auth), ecdh.raw_secret_bytes())
        .expand(&key_info, &mut ikm[..])
        .map_err(|_| WebPushError::Crypto("HKDF expand (IKM)"))?;
    // …then derive the content encryption key and nonce as RFC 8188 §2.2 and §2.3 do.
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm[..]);
    let mut cek = Zeroizing::new([0u8; 16]);
    let mut nonce = [0u8; 12];
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek[..])
        .map_err(|_| WebPushError::Crypto("HKDF expand (CEK)"))?;
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
        .map_err(|_| WebPushError::Crypto("HKDF expand (nonce)"))?;

    // One record (RFC 8291 §4): the plaintext, then the last-record delimiter 0x02, no
    // further padding. The nonce is used as derived: the only record's sequence number
    // is 0.
    let mut record = Zeroizing::new(Vec::with_capacity(plaintext.len() + 1));
    record.extend_from_slice(plaintext);
    record.push(0x02);
    let ciphertext = Aes128Gcm::new_from_slice(&cek[..])
        .map_err(|_| WebPushError::Crypto("AES-128-GCM key"))?
        .encrypt(Nonce::from_slice(&nonce), record.as_slice())
        .map_err(|_| WebPushError::Crypto("AES-128-GCM"))?;

    // Header (RFC 8188 §2.1): salt || rs || idlen || keyid, the keyid being the
    // ephemeral public key.
    let mut body = Vec::with_capacity(SALT_LEN + 5 + POINT_LEN + ciphertext.len());
    body.extend_from_slice(salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(POINT_LEN as u8);
    body.extend_from_slice(as_point.as_bytes());
    body.extend_from_slice(&ciphertext);
    Ok(body)
}

/// How urgently the push service should deliver (RFC 8030 §5.3): a phone in power
/// saving may hold back anything below `high`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Urgency {
    /// `very-low`: only when on power and Wi-Fi.
    VeryLow,
    /// `low`: on power or Wi-Fi.
    Low,
    /// `normal`: on neither, but not in power saving.
    #[default]
    Normal,
    /// `high`: even in power saving; for pages a person must wake up for.
    High,
}

impl Urgency {
    /// The `Urgency` header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::VeryLow => "very-low",
            Urgency::Low => "low",
            Urgency::Normal => "normal",
            Urgency::High => "high",
        }
    }

    /// `high` for an [urgent](Message::urgent) message, `normal` otherwise.
    pub fn of(message: &Message) -> Urgency {
        if message.urgent {
            Urgency::High
        } else {
            Urgency::Normal
        }
    }
}

/// One push message, ready to POST. `Debug` shows the endpoint's host, the header
/// names and the body's length only.
#[derive(Clone, PartialEq, Eq)]
pub struct PushRequest {
    /// Where to POST: the subscription's endpoint (a capability URL).
    pub url: String,
    /// `TTL`, `Urgency`, `Topic` (if any), `Content-Encoding`, `Content-Type` and
    /// `Authorization`, in that order. The client adds `Content-Length`.
    pub headers: Vec<(&'static str, String)>,
    /// The encrypted payload (`aes128gcm`), at most 4096 bytes.
    pub body: Vec<u8>,
}

impl fmt::Debug for PushRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| *name).collect();
        f.debug_struct("PushRequest")
            .field("host", &url_host(&self.url))
            .field("headers", &names)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Builds the push message that delivers `payload` to `subscription` (RFC 8030 §5): the
/// payload encrypted for the browser, a VAPID token for the endpoint's origin signed with
/// `key` (`sub` = `subject`, a `mailto:` or `https:` contact for the push service's
/// operator; expiry `now` + 12 h), and the `TTL` (seconds the service may hold the
/// message for an offline device), `Urgency` and optional `Topic` headers (a newer
/// message with the same topic replaces an undelivered older one).
///
/// The endpoint must be an `http:` or `https:` URL; whether `http:` is acceptable is
/// decided once, when the subscription is accepted ([`Subscription::parse`]).
#[allow(clippy::too_many_arguments)] // Each is a separate input of RFC 8030/8292.
pub fn request(
    key: &VapidKey,
    subject: &str,
    subscription: &Subscription,
    payload: &[u8],
    urgency: Urgency,
    ttl: u32,
    topic: Option<&str>,
    now: jiff::Timestamp,
) -> Result<PushRequest, WebPushError> {
    let audience = endpoint_origin(&subscription.endpoint, Endpoints::AllowHttp)?;
    check_subject(subject)?;
    if let Some(topic) = topic {
        check_topic(topic)?;
    }
    let body = encrypt(subscription, payload)?;
    let mut headers = vec![
        ("TTL", ttl.to_string()),
        ("Urgency", urgency.as_str().to_owned()),
    ];
    if let Some(topic) = topic {
        headers.push(("Topic", topic.to_owned()));
    }
    headers.extend([
        ("Content-Encoding", "aes128gcm".to_owned()),
        ("Content-Type", "application/octet-stream".to_owned()),
        ("Authorization", key.authorization(&audience, subject, now)),
    ]);
    Ok(PushRequest {
        url: subscription.endpoint.clone(),
        headers,
        body,
    })
}

/// RFC 8292 §2.1: the contact is a `mailto:` address or an `https:` URL.
pub(crate) fn check_subject(subject: &str) -> Result<(), WebPushError> {
    let bad = || WebPushError::Subject(subject.to_owned());
    if !subject.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    let lower = subject.to_ascii_lowercase();
    let ok = if let Some(address) = lower.strip_prefix("mailto:") {
        address
            .split_once('@')
            .is_some_and(|(user, domain)| !user.is_empty() && !domain.is_empty())
    } else if let Some(rest) = lower.strip_prefix("https://") {
        !rest.is_empty() && !rest.starts_with(['/', '?', '#'])
    } else {
        false
    };
    if ok {
        Ok(())
    } else {
        Err(bad())
    }
}

/// RFC 8030 §5.4: 1 to 32 characters of the URL- and filename-safe base64 alphabet.
pub(crate) fn check_topic(topic: &str) -> Result<(), WebPushError> {
    let ok = !topic.is_empty()
        && topic.len() <= MAX_TOPIC_LEN
        && topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(WebPushError::Topic(topic.to_owned()))
    }
}

/// Why a push service did not accept a message: see [`classify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// 404 or 410: the subscription has expired or been withdrawn. Delete it and tell
    /// its owner that this device no longer receives pages; never retry.
    #[error("push subscription is gone (HTTP {0})")]
    Gone(u16),
    /// 413: the body is larger than this push service takes. Permanent.
    #[error("push message too large for the push service (HTTP 413)")]
    TooLarge,
    /// Any other 3xx or 4xx (bad request, VAPID token refused, …): retrying the same
    /// message fails again.
    #[error("push service refused the message (HTTP {0})")]
    Permanent(u16),
    /// 408, 429 or 5xx: the push service is busy or failing; retry later.
    #[error("push service failed temporarily (HTTP {0})")]
    Transient(u16),
}

impl Refusal {
    /// Whether sending the message again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Refusal::Transient(_))
    }
}

/// What a push service's HTTP status means (RFC 8030 §5 and §8): 2xx (`201 Created`, or
/// `202 Accepted` when a receipt was asked for) is delivered to the push service;
/// everything else is a [`Refusal`].
pub fn classify(status: u16) -> Result<(), Refusal> {
    match status {
        200..=299 => Ok(()),
        404 | 410 => Err(Refusal::Gone(status)),
        413 => Err(Refusal::TooLarge),
        408 | 429 | 500..=599 => Err(Refusal::Transient(status)),
        _ => Err(Refusal::Permanent(status)),
    }
}

/// The JSON a service worker turns into a notification, from `message` and its first
/// item, at most [`MAX_PAYLOAD`] bytes:
///
/// | field     | type           | value |
/// |-----------|----------------|-------|
/// | `title`   | string         | the message's headline |
/// | `body`    | string         | the first item's incident, title, severity, service, status and reason, `+N more` for further items, then the message's text; lines separated by `\n` |
/// | `incident`| string or null | the first item's incident id (`INC-12`): a `tag` to replace an older notification for the same incident |
/// | `url`     | string or null | the first item's incident page, to open on a click |
/// | `ack_url` | string or null | the first item's acknowledge link, for an "Acknowledge" action |
/// | `urgent`  | bool           | the message is a page to wake up for (`requireInteraction`, vibration) |
/// | `key`     | string         | the message's idempotency key, to drop a retried delivery |
///
/// When too long, the body is cut (ending in `…`) first, then the title; the links are
/// kept whole unless they alone would not fit.
pub fn notification_payload(message: &Message) -> Vec<u8> {
    let first = message.items.first();
    let full = Fields {
        title: message.headline.clone(),
        body: body_text(message),
        incident: first.map(|i| i.incident.as_str()),
        url: first.and_then(|i| i.incident_url.as_deref()),
        // A test page's confirm link is its one action, as acknowledging is a page's.
        ack_url: first
            .and_then(|i| i.ack_url.as_deref())
            .or(message.confirm_url.as_deref()),
        urgent: message.urgent,
        key: &message.key,
    };
    if full.fits() {
        return full.json();
    }
    let mut fields = full.clone();
    fields.body = shrink(&full.body, |body| {
        Fields {
            body: body.to_owned(),
            ..fields.clone()
        }
        .fits()
    });
    if !fields.fits() {
        fields.title = shrink(&full.title, |title| {
            Fields {
                title: title.to_owned(),
                ..fields.clone()
            }
            .fits()
        });
    }
    if !fields.fits() {
        // Links so long that even an empty title and body do not fit: give them up
        // rather than send nothing, and cut what remains.
        fields.url = None;
        fields.ack_url = None;
        fields.incident = fields.incident.map(|i| prefix(i, 64));
        fields.key = prefix(fields.key, 200);
        fields.title = shrink(&full.title, |title| {
            Fields {
                title: title.to_owned(),
                ..fields.clone()
            }
            .fits()
        });
    }
    fields.json()
}

/// The fields of [`notification_payload`].
#[derive(Clone)]
struct Fields<'a> {
    title: String,
    body: String,
    incident: Option<&'a str>,
    url: Option<&'a str>,
    ack_url: Option<&'a str>,
    urgent: bool,
    key: &'a str,
}

impl Fields<'_> {
    fn json(&self) -> Vec<u8> {
        serde_json::json!({
            "title": self.title,
            "body": self.body,
            "incident": self.incident,
            "url": self.url,
            "ack_url": self.ack_url,
            "urgent": self.urgent,
            "key": self.key,
        })
        .to_string()
        .into_bytes()
    }

    fn fits(&self) -> bool {
        self.json().len() <= MAX_PAYLOAD
    }
}

/// The notification text: what the first item is, how many more there are, and the
/// message's free text.
fn body_text(message: &Message) -> String {
    let mut lines: Vec<String> = Vec::new();
    if let Some(item) = message.items.first() {
        lines.push(join(&[&item.incident, &item.title], ": "));
        lines.push(join(&[&item.severity, &item.service, &item.status], " · "));
        if let Some(reason) = &item.reason {
            lines.push(reason.clone());
        }
    }
    if message.items.len() > 1 {
        lines.push(format!("+{} more", message.items.len() - 1));
    }
    if let Some(text) = &message.text {
        lines.push(text.clone());
    }
    lines.retain(|line| !line.trim().is_empty());
    lines.join("\n")
}

fn join(parts: &[&str], separator: &str) -> String {
    let parts: Vec<&str> = parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect();
    parts.join(separator)
}

/// The longest prefix of `text` (by characters), followed by `…` when cut, for which
/// `fits` holds; empty if none does.
fn shrink(text: &str, fits: impl Fn(&str) -> bool) -> String {
    let chars: Vec<char> = text.chars().collect();
    let candidate = |n: usize| {
        let mut cut: String = chars[..n].iter().collect();
        if n < chars.len() {
            cut.push('…');
        }
        cut
    };
    if fits(text) {
        return text.to_owned();
    }
    // Longer prefixes make longer JSON: binary search for the longest that fits.
    let (mut low, mut high) = (0, chars.len());
    while low < high {
        let mid = (low + high).div_ceil(2);
        if fits(&candidate(mid)) {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    if low == 0 {
        String::new()
    } else {
        candidate(low)
    }
}

/// At most the first `max` characters of `text`.
fn prefix(text: &str, max: usize) -> &str {
    text.char_indices()
        .nth(max)
        .map_or(text, |(i, _)| &text[..i])
}

fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// base64url, unpadded as browsers give it; trailing `=` tolerated.
fn decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

#[cfg(test)]
mod tests {
    use hmac::{Hmac, Mac};
    use p256::ecdsa::signature::Verifier as _;

    use super::*;
    use crate::Item;

    // RFC 8291 §5 and Appendix A: the keys, salt and result of the worked example
    // (published test data, not credentials), whitespace removed.
    const RFC_PLAINTEXT: &[u8] = b"When I grow up, I want to be a watermelon";
    const RFC_UA_PUBLIC: &str =
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const RFC_UA_PRIVATE: &str = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
    const RFC_AS_PUBLIC: &str =
        "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
    const RFC_AS_PRIVATE: &str = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
    const RFC_SALT: &str = "DGv6ra1nlYgDCS1FRnbzlw";
    const RFC_AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
    const RFC_BODY: &str = concat!(
        "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml",
        "mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT",
        "pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
    );
    /// The endpoint of RFC 8291 §5's example request.
    const RFC_ENDPOINT: &str = "https://push.example.net/push/JzLQ3raZJfFBR0aqvOMsLrt54w4rJUsV";

    fn rfc_subscription() -> Subscription {
        Subscription {
            endpoint: RFC_ENDPOINT.into(),
            p256dh: RFC_UA_PUBLIC.into(),
            auth: RFC_AUTH.into(),
        }
    }

    fn bytes(text: &str) -> Vec<u8> {
        decode(text).expect("base64url")
    }

    fn secret(text: &str) -> SecretKey {
        SecretKey::from_slice(&bytes(text)).expect("P-256 scalar")
    }

    fn now() -> jiff::Timestamp {
        "2026-03-02T14:00:00Z".parse().expect("timestamp")
    }

    /// A user agent: a fresh key pair and auth secret, and the subscription for them.
    fn user_agent(endpoint: &str) -> (SecretKey, [u8; 16], Subscription) {
        let ua = random_secret().expect("key");
        let mut auth = [0u8; 16];
        getrandom::fill(&mut auth).expect("random");
        let subscription = Subscription {
            endpoint: endpoint.into(),
            p256dh: encode(ua.public_key().to_encoded_point(false).as_bytes()),
            auth: encode(&auth),
        };
        (ua, auth, subscription)
    }

    fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// The receiving side, written from RFC 8291 §3.4's pseudo-code with plain
    /// HMAC-SHA-256 (not the `hkdf` crate the sender uses); `None` on any failure.
    fn decrypt(body: &[u8], ua: &SecretKey, auth: &[u8]) -> Option<Vec<u8>> {
        let salt = body.get(..16)?;
        let rs = u32::from_be_bytes(body.get(16..20)?.try_into().ok()?);
        let idlen = usize::from(*body.get(20)?);
        let as_public = PublicKey::from_sec1_bytes(body.get(21..21 + idlen)?).ok()?;
        let ciphertext = body.get(21 + idlen..)?;
        if rs as usize != 4096 || ciphertext.len() > rs as usize {
            return None;
        }
        let ecdh = p256::ecdh::diffie_hellman(ua.to_nonzero_scalar(), as_public.as_affine());
        let ua_point = ua.public_key().to_encoded_point(false);
        let as_point = as_public.to_encoded_point(false);
        let prk_key = hmac_sha256(auth, &[ecdh.raw_secret_bytes()]);
        let ikm = hmac_sha256(
            &prk_key,
            &[
                b"WebPush: info\0",
                ua_point.as_bytes(),
                as_point.as_bytes(),
                &[1],
            ],
        );
        let prk = hmac_sha256(salt, &[&ikm]);
        let cek = hmac_sha256(&prk, &[b"Content-Encoding: aes128gcm\0", &[1]]);
        let nonce = hmac_sha256(&prk, &[b"Content-Encoding: nonce\0", &[1]]);
        let mut record = Aes128Gcm::new_from_slice(&cek[..16])
            .ok()?
            .decrypt(Nonce::from_slice(&nonce[..12]), ciphertext)
            .ok()?;
        // Strip padding zeros; the last record's delimiter must be 0x02.
        while record.last() == Some(&0) {
            record.pop();
        }
        (record.pop()? == 0x02).then_some(record)
    }

    #[test]
    fn rfc_8291_example_byte_for_byte() {
        let salt: [u8; 16] = bytes(RFC_SALT).try_into().expect("16 bytes");
        let as_secret = secret(RFC_AS_PRIVATE);
        assert_eq!(
            encode(as_secret.public_key().to_encoded_point(false).as_bytes()),
            RFC_AS_PUBLIC
        );
        let body =
            encrypt_with(&rfc_subscription(), RFC_PLAINTEXT, &as_secret, &salt).expect("encrypted");
        assert_eq!(encode(&body), RFC_BODY);
        assert_eq!(body.len(), 86 + RFC_PLAINTEXT.len() + 1 + 16);
    }

    #[test]
    fn the_test_decryption_reads_the_rfc_example() {
        let plaintext = decrypt(&bytes(RFC_BODY), &secret(RFC_UA_PRIVATE), &bytes(RFC_AUTH));
        assert_eq!(plaintext.as_deref(), Some(RFC_PLAINTEXT));
    }

    #[test]
    fn round_trip_with_fresh_keys() {
        let (ua, auth, subscription) = user_agent("https://push.example.net/p/abc");
        for plaintext in [
            &b""[..],
            b"x",
            b"ends with zeros and a delimiter\x02\x00\x00",
            &[0xA5; MAX_PAYLOAD],
        ] {
            let body = encrypt(&subscription, plaintext).expect("encrypted");
            assert!(body.len() <= 4096, "{}", body.len());
            assert_eq!(body[16..20], 4096u32.to_be_bytes());
            assert_eq!(body[20], 65);
            assert_eq!(decrypt(&body, &ua, &auth).as_deref(), Some(plaintext));
            // Fresh salt and key each time.
            assert_ne!(encrypt(&subscription, plaintext).expect("again"), body);
        }
        let mut body = encrypt(&subscription, b"page").expect("encrypted");
        let last = body.len() - 1;
        body[last] ^= 1;
        assert_eq!(decrypt(&body, &ua, &auth), None, "tampering detected");
        let (other, _, _) = user_agent("https://push.example.net/p/def");
        let body = encrypt(&subscription, b"page").expect("encrypted");
        assert_eq!(
            decrypt(&body, &other, &auth),
            None,
            "only the subscriber reads it"
        );
    }

    #[test]
    fn a_plaintext_over_3993_bytes_is_refused() {
        let (_, _, subscription) = user_agent("https://push.example.net/p/abc");
        let body = encrypt(&subscription, &[b'a'; MAX_PAYLOAD]).expect("largest");
        assert_eq!(body.len(), 4096);
        let error = encrypt(&subscription, &[b'a'; MAX_PAYLOAD + 1]).expect_err("too big");
        assert_eq!(error, WebPushError::PayloadTooLarge { len: 3994 });
        assert!(error.to_string().contains("at most 3993"), "{error}");
        let key = VapidKey::generate().expect("key");
        let refused = request(
            &key,
            "mailto:ops@example.com",
            &subscription,
            &[b'a'; 5000],
            Urgency::High,
            60,
            None,
            now(),
        );
        assert_eq!(refused, Err(WebPushError::PayloadTooLarge { len: 5000 }));
    }

    /// The JWT's header and claims and the `k=` key, if the signature verifies with `k`.
    fn verified_token(
        authorization: &str,
    ) -> Result<(serde_json::Value, serde_json::Value, String), String> {
        let rest = authorization
            .strip_prefix("vapid t=")
            .ok_or("not the vapid scheme")?;
        let (token, k) = rest.split_once(", k=").ok_or("no t and k")?;
        let parts: Vec<&str> = token.split('.').collect();
        let [header, claims, signature] = parts[..] else {
            return Err(format!("not a JWS: {token}"));
        };
        let signature = decode(signature).ok_or("signature not base64url")?;
        if signature.len() != 64 {
            return Err(format!(
                "signature is {} bytes, not r || s",
                signature.len()
            ));
        }
        let signature =
            p256::ecdsa::Signature::from_slice(&signature).map_err(|e| e.to_string())?;
        let k_bytes = decode(k).ok_or("k not base64url")?;
        let verifier =
            p256::ecdsa::VerifyingKey::from_sec1_bytes(&k_bytes).map_err(|e| e.to_string())?;
        verifier
            .verify(format!("{header}.{claims}").as_bytes(), &signature)
            .map_err(|e| format!("signature does not verify: {e}"))?;
        let json = |part: &str| -> Result<serde_json::Value, String> {
            serde_json::from_slice(&decode(part).ok_or("not base64url")?).map_err(|e| e.to_string())
        };
        Ok((json(header)?, json(claims)?, k.to_owned()))
    }

    #[test]
    fn vapid_token_verifies_and_carries_the_claims() {
        let key = VapidKey::generate().expect("key");
        let (_, _, subscription) = user_agent("https://FCM.googleapis.com:443/fcm/send/dGVzdA?x=1");
        let push = request(
            &key,
            "mailto:oncall@example.com",
            &subscription,
            b"{}",
            Urgency::High,
            3600,
            Some("INC-12"),
            now(),
        )
        .expect("request");
        let (header, claims, k) =
            verified_token(&header_of(&push, "Authorization")).expect("verifies");
        assert_eq!(header, serde_json::json!({"typ": "JWT", "alg": "ES256"}));
        assert_eq!(
            claims,
            serde_json::json!({
                "aud": "https://fcm.googleapis.com",
                "exp": now().as_second() + 12 * 3600,
                "sub": "mailto:oncall@example.com",
            })
        );
        assert_eq!(k, key.public_key());
        // Another key's signature does not verify under this `k`.
        let other = VapidKey::generate().expect("key");
        let forged = other
            .authorization("https://fcm.googleapis.com", "mailto:x@example.com", now())
            .replace(&other.public_key(), &key.public_key());
        assert!(verified_token(&forged).is_err(), "forged token accepted");
    }

    fn header_of(push: &PushRequest, name: &str) -> String {
        push.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {name} header in {:?}", push.headers))
    }

    #[test]
    fn request_carries_the_rfc_8030_headers() {
        let key = VapidKey::generate().expect("key");
        let (ua, auth, subscription) = user_agent("https://push.example.net/p/abc");
        let push = request(
            &key,
            "https://fireline.example/contact",
            &subscription,
            b"hello",
            Urgency::VeryLow,
            86_400,
            Some("INC-12_x"),
            now(),
        )
        .expect("request");
        assert_eq!(push.url, "https://push.example.net/p/abc");
        let names: Vec<&str> = push.headers.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "TTL",
                "Urgency",
                "Topic",
                "Content-Encoding",
                "Content-Type",
                "Authorization"
            ]
        );
        assert_eq!(header_of(&push, "TTL"), "86400");
        assert_eq!(header_of(&push, "Urgency"), "very-low");
        assert_eq!(header_of(&push, "Topic"), "INC-12_x");
        assert_eq!(header_of(&push, "Content-Encoding"), "aes128gcm");
        assert_eq!(header_of(&push, "Content-Type"), "application/octet-stream");
        assert_eq!(
            decrypt(&push.body, &ua, &auth).as_deref(),
            Some(&b"hello"[..])
        );

        let without = request(
            &key,
            "mailto:ops@example.com",
            &subscription,
            b"",
            Urgency::default(),
            0,
            None,
            now(),
        )
        .expect("request");
        assert!(without.headers.iter().all(|(n, _)| *n != "Topic"));
        assert_eq!(header_of(&without, "Urgency"), "normal");
        assert_eq!(header_of(&without, "TTL"), "0");

        // An http endpoint accepted for tests gets an http audience with its port.
        let (_, _, local) = user_agent("http://127.0.0.1:8080/push/1");
        let push = request(
            &key,
            "mailto:a@b.c",
            &local,
            b"",
            Urgency::Low,
            1,
            None,
            now(),
        )
        .expect("request");
        let (_, claims, _) = verified_token(&header_of(&push, "Authorization")).expect("verifies");
        assert_eq!(claims["aud"], "http://127.0.0.1:8080");
    }

    #[test]
    fn urgency_values() {
        let names: Vec<&str> = [
            Urgency::VeryLow,
            Urgency::Low,
            Urgency::Normal,
            Urgency::High,
        ]
        .into_iter()
        .map(Urgency::as_str)
        .collect();
        assert_eq!(names, ["very-low", "low", "normal", "high"]);
        let page = Message {
            urgent: true,
            ..Message::default()
        };
        assert_eq!(Urgency::of(&page), Urgency::High);
        assert_eq!(Urgency::of(&Message::default()), Urgency::Normal);
    }

    #[test]
    fn topics_and_subjects_are_checked() {
        let key = VapidKey::generate().expect("key");
        let (_, _, subscription) = user_agent("https://push.example.net/p/abc");
        let build = |subject: &str, topic: Option<&str>| {
            request(
                &key,
                subject,
                &subscription,
                b"",
                Urgency::Normal,
                60,
                topic,
                now(),
            )
        };
        let max_topic = "a".repeat(32);
        for topic in ["a", "INC-12", "A_z-09", max_topic.as_str()] {
            assert!(
                build("mailto:ops@example.com", Some(topic)).is_ok(),
                "{topic}"
            );
        }
        let long_topic = "a".repeat(33);
        for topic in ["", "inc 12", "inc/12", "inc=", "é", long_topic.as_str()] {
            assert_eq!(
                build("mailto:ops@example.com", Some(topic)).err(),
                Some(WebPushError::Topic(topic.to_owned())),
                "{topic}"
            );
        }
        for subject in [
            "mailto:ops@example.com",
            "MAILTO:a@b",
            "https://example.com/x",
        ] {
            assert!(build(subject, None).is_ok(), "{subject}");
        }
        for subject in [
            "",
            "ops@example.com",
            "mailto:",
            "mailto:ops",
            "mailto:@example.com",
            "http://example.com",
            "https://",
            "https:///path",
            "mailto:ops@example.com\r\nX: y",
        ] {
            assert_eq!(
                build(subject, None).err(),
                Some(WebPushError::Subject(subject.to_owned())),
                "{subject:?}"
            );
        }
    }

    #[test]
    fn push_service_answers_are_classified() {
        for ok in [200, 201, 202, 204] {
            assert_eq!(classify(ok), Ok(()), "{ok}");
        }
        assert_eq!(classify(404), Err(Refusal::Gone(404)));
        assert_eq!(classify(410), Err(Refusal::Gone(410)));
        assert_eq!(classify(413), Err(Refusal::TooLarge));
        for transient in [408, 429, 500, 502, 503, 504] {
            let refusal = classify(transient).expect_err("refused");
            assert_eq!(refusal, Refusal::Transient(transient));
            assert!(refusal.is_transient());
        }
        for permanent in [301, 400, 401, 403, 422] {
            let refusal = classify(permanent).expect_err("refused");
            assert_eq!(refusal, Refusal::Permanent(permanent));
            assert!(!refusal.is_transient());
        }
        assert!(!Refusal::Gone(410).is_transient());
        assert!(!Refusal::TooLarge.is_transient());
    }

    #[test]
    fn vapid_keys_export_and_import() {
        let key = VapidKey::generate().expect("key");
        let private = key.private_key();
        assert_eq!(bytes(&private).len(), 32);
        let public = bytes(&key.public_key());
        assert_eq!(public.len(), 65);
        assert_eq!(public[0], 0x04);
        let again = VapidKey::from_private_key(&private).expect("import");
        assert_eq!(again.public_key(), key.public_key());
        assert_eq!(again.private_key(), private);
        assert!(VapidKey::from_private_key(&format!("{private}=")).is_ok());
        assert_ne!(VapidKey::generate().expect("key").private_key(), private);

        // RFC 8291's application server key pair, as a known answer.
        let rfc = VapidKey::from_private_key(RFC_AS_PRIVATE).expect("import");
        assert_eq!(rfc.public_key(), RFC_AS_PUBLIC);

        let zero = encode(&[0u8; 32]);
        let order = "_____wAAAAD__________7zm-q2nF56E87nKwvxjJVE"; // n itself: not < n
        for bad in [
            "",
            "not base64!",
            &encode(&[1u8; 31]),
            &encode(&[1u8; 33]),
            &zero,
            order,
        ] {
            assert!(
                matches!(
                    VapidKey::from_private_key(bad),
                    Err(WebPushError::VapidKey(_))
                ),
                "{bad}"
            );
        }
    }

    fn field_of(result: Result<Subscription, WebPushError>) -> &'static str {
        match result {
            Err(WebPushError::Subscription { field, .. }) => field,
            other => panic!("expected a subscription error, got {other:?}"),
        }
    }

    fn subscription_json(endpoint: &str, p256dh: &str, auth: &str) -> String {
        serde_json::json!({
            "endpoint": endpoint,
            "expirationTime": null,
            "keys": {"p256dh": p256dh, "auth": auth},
        })
        .to_string()
    }

    #[test]
    fn a_browser_subscription_parses() {
        let json = subscription_json(RFC_ENDPOINT, RFC_UA_PUBLIC, RFC_AUTH);
        let parsed = Subscription::parse(&json, Endpoints::HttpsOnly).expect("valid");
        assert_eq!(parsed, rfc_subscription());
        assert_eq!(parsed.host(), "push.example.net");
        assert_eq!(
            Subscription::parse(&parsed.to_json(), Endpoints::HttpsOnly),
            Ok(parsed)
        );
    }

    #[test]
    fn bad_subscriptions_name_the_field() {
        let parse = |json: &str| Subscription::parse(json, Endpoints::HttpsOnly);
        let with = |endpoint: &str, p256dh: &str, auth: &str| {
            parse(&subscription_json(endpoint, p256dh, auth))
        };
        let compressed = encode(&bytes(RFC_UA_PUBLIC)[..33]);
        let mut off_curve = bytes(RFC_UA_PUBLIC);
        off_curve[64] ^= 1;
        let mut not_uncompressed = bytes(RFC_UA_PUBLIC);
        not_uncompressed[0] = 0x05;
        let cases: Vec<(Result<Subscription, WebPushError>, &str)> = vec![
            (parse("not json"), "subscription"),
            (parse("[]"), "subscription"),
            (parse(r#"{"keys": {}}"#), "endpoint"),
            (parse(r#"{"endpoint": 5}"#), "endpoint"),
            (
                parse(&format!(r#"{{"endpoint": "{RFC_ENDPOINT}", "keys": "x"}}"#)),
                "keys",
            ),
            (
                parse(&format!(r#"{{"endpoint": "{RFC_ENDPOINT}"}}"#)),
                "keys.p256dh",
            ),
            (with("", RFC_UA_PUBLIC, RFC_AUTH), "endpoint"),
            (
                with("push.example.net/x", RFC_UA_PUBLIC, RFC_AUTH),
                "endpoint",
            ),
            (
                with("http://push.example.net/x", RFC_UA_PUBLIC, RFC_AUTH),
                "endpoint",
            ),
            (
                with("ftp://push.example.net/x", RFC_UA_PUBLIC, RFC_AUTH),
                "endpoint",
            ),
            (with("https:///x", RFC_UA_PUBLIC, RFC_AUTH), "endpoint"),
            (
                with("https://u:p@push.example.net/x", RFC_UA_PUBLIC, RFC_AUTH),
                "endpoint",
            ),
            (
                with("https://push.example.net:99999/x", RFC_UA_PUBLIC, RFC_AUTH),
                "endpoint",
            ),
            (
                with("https://push example.net/x", RFC_UA_PUBLIC, RFC_AUTH),
                "endpoint",
            ),
            (
                with(
                    &format!("https://push.example.net/{}", "a".repeat(2048)),
                    RFC_UA_PUBLIC,
                    RFC_AUTH,
                ),
                "endpoint",
            ),
            (with(RFC_ENDPOINT, "", RFC_AUTH), "keys.p256dh"),
            (with(RFC_ENDPOINT, "%%%", RFC_AUTH), "keys.p256dh"),
            (with(RFC_ENDPOINT, &compressed, RFC_AUTH), "keys.p256dh"),
            (
                with(RFC_ENDPOINT, &encode(&off_curve), RFC_AUTH),
                "keys.p256dh",
            ),
            (
                with(RFC_ENDPOINT, &encode(&not_uncompressed), RFC_AUTH),
                "keys.p256dh",
            ),
            (with(RFC_ENDPOINT, RFC_UA_PUBLIC, ""), "keys.auth"),
            (
                with(RFC_ENDPOINT, RFC_UA_PUBLIC, &encode(&[7; 15])),
                "keys.auth",
            ),
            (with(RFC_ENDPOINT, RFC_UA_PUBLIC, "a+b/"), "keys.auth"),
        ];
        for (i, (result, field)) in cases.into_iter().enumerate() {
            let text = format!("{result:?}");
            assert_eq!(field_of(result), field, "case {i}: {text}");
            // Errors never quote the endpoint's path or a key.
            for secret in [
                "JzLQ3raZJfFBR0aqvOMsLrt54w4rJUsV",
                "u:p",
                RFC_AUTH,
                &RFC_UA_PUBLIC[..20],
            ] {
                assert!(!text.contains(secret), "case {i}: {text}");
            }
        }

        let error = with("http://push.example.net/x", RFC_UA_PUBLIC, RFC_AUTH).expect_err("http");
        assert_eq!(
            error.to_string(),
            "invalid push subscription: endpoint must use https, not http (host push.example.net)"
        );
        let error = with(RFC_ENDPOINT, &compressed, RFC_AUTH).expect_err("compressed");
        assert!(
            error
                .to_string()
                .contains("keys.p256dh decodes to 33 bytes"),
            "{error}"
        );
        let error = with(RFC_ENDPOINT, &encode(&off_curve), RFC_AUTH).expect_err("off curve");
        assert!(
            error.to_string().contains("not a point on the P-256 curve"),
            "{error}"
        );
    }

    #[test]
    fn http_endpoints_only_when_allowed() {
        let json = subscription_json("http://127.0.0.1:8080/push/1", RFC_UA_PUBLIC, RFC_AUTH);
        assert!(Subscription::parse(&json, Endpoints::HttpsOnly).is_err());
        let local = Subscription::parse(&json, Endpoints::AllowHttp).expect("allowed");
        assert!(local.validate(Endpoints::AllowHttp).is_ok());
        assert!(local.validate(Endpoints::HttpsOnly).is_err());
        for endpoint in [
            "https://[2001:db8::1]:8443/push",
            "https://push.example.net",
            "HTTPS://Push.Example.NET/x",
        ] {
            let sub = Subscription {
                endpoint: endpoint.into(),
                ..rfc_subscription()
            };
            assert_eq!(sub.validate(Endpoints::HttpsOnly), Ok(()), "{endpoint}");
        }
        assert_eq!(
            endpoint_origin("HTTPS://Push.Example.NET:443/x", Endpoints::HttpsOnly).as_deref(),
            Ok("https://push.example.net")
        );
        assert_eq!(
            endpoint_origin("https://[2001:DB8::1]:8443/push", Endpoints::HttpsOnly).as_deref(),
            Ok("https://[2001:db8::1]:8443")
        );
    }

    #[test]
    fn debug_hides_endpoints_keys_and_tokens() {
        let key = VapidKey::generate().expect("key");
        let subscription = rfc_subscription();
        let push = request(
            &key,
            "mailto:ops@example.com",
            &subscription,
            b"secret text",
            Urgency::High,
            60,
            None,
            now(),
        )
        .expect("request");
        let token = header_of(&push, "Authorization");
        let text = format!("{subscription:?} {key:?} {push:?}");
        assert!(text.contains("push.example.net"), "{text}");
        assert!(
            text.contains(&key.public_key()),
            "public key is fine: {text}"
        );
        let jwt = token["vapid t=".len()..].split(',').next().expect("jwt");
        for secret in [
            "JzLQ3raZJfFBR0aqvOMsLrt54w4rJUsV",
            "/push/",
            RFC_UA_PUBLIC,
            RFC_AUTH,
            &key.private_key(),
            jwt,
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }

    fn page() -> Message {
        Message {
            key: "c0:page:INC-12:alice".into(),
            headline: "Paged: [SEV1] Checkout 5xx".into(),
            items: vec![
                Item {
                    incident: "INC-12".into(),
                    title: "Checkout returns 5xx".into(),
                    severity: "SEV1".into(),
                    service: "checkout-api".into(),
                    status: "triggered".into(),
                    reason: Some("declared SEV1".into()),
                    incident_url: Some("https://fireline.example/ui/incidents/INC-12".into()),
                    runbook_url: Some("https://wiki.example/runbooks/checkout".into()),
                    ack_url: Some("https://fireline.example/ack/12.alice.sig".into()),
                },
                Item {
                    incident: "INC-13".into(),
                    ..Item::default()
                },
            ],
            text: Some("Repeats every 5m until acknowledged.".into()),
            urgent: true,
            confirm_url: None,
            unsubscribe_url: None,
        }
    }

    fn payload_json(message: &Message) -> serde_json::Value {
        let payload = notification_payload(message);
        assert!(payload.len() <= MAX_PAYLOAD, "{}", payload.len());
        serde_json::from_slice(&payload).expect("JSON")
    }

    #[test]
    fn notification_payload_fields() {
        assert_eq!(
            payload_json(&page()),
            serde_json::json!({
                "title": "Paged: [SEV1] Checkout 5xx",
                "body": "INC-12: Checkout returns 5xx\nSEV1 · checkout-api · triggered\n\
                         declared SEV1\n+1 more\nRepeats every 5m until acknowledged.",
                "incident": "INC-12",
                "url": "https://fireline.example/ui/incidents/INC-12",
                "ack_url": "https://fireline.example/ack/12.alice.sig",
                "urgent": true,
                "key": "c0:page:INC-12:alice",
            })
        );
        let notice = Message {
            key: "c0:notice:1".into(),
            headline: "Hand-off".into(),
            text: Some("You are on call.".into()),
            ..Message::default()
        };
        assert_eq!(
            payload_json(&notice),
            serde_json::json!({
                "title": "Hand-off",
                "body": "You are on call.",
                "incident": null,
                "url": null,
                "ack_url": null,
                "urgent": false,
                "key": "c0:notice:1",
            })
        );
    }

    #[test]
    fn long_text_is_trimmed_to_fit_and_links_survive() {
        let mut message = page();
        // Quotes and control characters take more room escaped than raw.
        message.text = Some("\"quoted\" \u{1}é漢 ".repeat(2000));
        let json = payload_json(&message);
        let body = json["body"].as_str().expect("body");
        assert!(body.starts_with("INC-12: Checkout returns 5xx\n"), "{body}");
        assert!(body.ends_with('…'), "{body}");
        assert_eq!(json["ack_url"], "https://fireline.example/ack/12.alice.sig");
        assert_eq!(json["url"], "https://fireline.example/ui/incidents/INC-12");
        assert_eq!(json["title"], "Paged: [SEV1] Checkout 5xx");
        // Trimmed no further than needed: one more character would not fit.
        assert!(notification_payload(&message).len() > MAX_PAYLOAD - 12);

        message.headline = "H".repeat(10_000);
        let json = payload_json(&message);
        assert_eq!(json["body"], "");
        assert!(json["title"].as_str().expect("title").ends_with('…'));
        assert_eq!(json["ack_url"], "https://fireline.example/ack/12.alice.sig");

        if let Some(item) = message.items.first_mut() {
            item.ack_url = Some(format!("https://fireline.example/ack/{}", "a".repeat(5000)));
        }
        let json = payload_json(&message);
        assert_eq!(json["ack_url"], serde_json::Value::Null);
        assert_eq!(json["incident"], "INC-12");
        assert_eq!(json["urgent"], true);
    }

    #[test]
    fn shrink_cuts_by_characters() {
        assert_eq!(shrink("abc", |_| true), "abc");
        assert_eq!(shrink("abcdef", |s| s.len() <= 6), "abcdef");
        assert_eq!(shrink("abcdefgh", |s| s.len() <= 6), "abc…");
        assert_eq!(shrink("éééé", |s| s.chars().count() <= 3), "éé…");
        assert_eq!(shrink("abc", |_| false), "");
        assert_eq!(prefix("ééé", 2), "éé");
        assert_eq!(prefix("ab", 5), "ab");
    }
}
