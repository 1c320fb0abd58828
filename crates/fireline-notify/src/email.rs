//! E-mail over SMTP: the message text and the transport.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::SmtpTransport;
use serde::{Deserialize, Serialize};

use crate::message::{Item, Message};
use crate::{ConfigError, DeliveryError};

/// Header carrying the message's idempotency key.
const KEY_HEADER: &str = "X-Fireline-Key";

/// RFC 2369's unsubscribe header: `<https://…>`.
const LIST_UNSUBSCRIBE: &str = "List-Unsubscribe";

/// RFC 8058's header saying the `List-Unsubscribe` URL takes a one-click POST.
const LIST_UNSUBSCRIBE_POST: &str = "List-Unsubscribe-Post";

/// How to reach the SMTP relay.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// Relay host name; also the name its TLS certificate must carry.
    pub host: String,
    /// Relay port: usually 587 for `starttls`, 465 for `tls`, 25 for `none`.
    pub port: u16,
    /// Transport security.
    pub tls: SmtpTls,
    /// Login name, if the relay requires authentication.
    pub username: Option<String>,
    /// Password for `username`. Never printed: `Debug` masks it.
    pub password: Option<String>,
    /// Sender address, `ops@example.com` or `Fireline <ops@example.com>`.
    pub from: String,
    /// Limit for each network operation (connect, each command).
    pub timeout: Duration,
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "********"))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// SMTP transport security.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text; only for a relay on localhost or a trusted network.
    None,
    /// Plain connection upgraded with STARTTLS, which is required (no fallback to plain).
    StartTls,
    /// TLS from the first byte ("implicit TLS", SMTPS).
    Tls,
}

impl SmtpTls {
    /// The configuration spelling: `none`, `starttls` or `tls`.
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpTls::None => "none",
            SmtpTls::StartTls => "starttls",
            SmtpTls::Tls => "tls",
        }
    }
}

impl fmt::Display for SmtpTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SmtpTls {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(SmtpTls::None),
            "starttls" => Ok(SmtpTls::StartTls),
            "tls" => Ok(SmtpTls::Tls),
            _ => Err(ConfigError::UnknownTls(s.to_owned())),
        }
    }
}

/// A ready SMTP transport and the checked sender.
pub(crate) struct Smtp {
    pub(crate) transport: SmtpTransport,
    pub(crate) from: String,
    pub(crate) host: String,
}

impl Smtp {
    pub(crate) fn new(config: &SmtpConfig) -> Result<Smtp, ConfigError> {
        let host = config.host.trim();
        if host.is_empty() {
            return Err(ConfigError::EmptySmtpHost);
        }
        if config.timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout);
        }
        parse_mailbox(&config.from).map_err(|reason| ConfigError::InvalidFrom {
            from: config.from.clone(),
            reason,
        })?;
        let tls = match config.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::StartTls => Tls::Required(tls_parameters(host)?),
            SmtpTls::Tls => Tls::Wrapper(tls_parameters(host)?),
        };
        // `builder_dangerous` only means "you choose the TLS mode"; we always set it.
        let mut builder = SmtpTransport::builder_dangerous(host)
            .port(config.port)
            .tls(tls)
            .timeout(Some(config.timeout));
        match (&config.username, &config.password) {
            (Some(user), Some(password)) => {
                builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
            }
            (None, None) => {}
            _ => return Err(ConfigError::IncompleteCredentials),
        }
        Ok(Smtp {
            transport: builder.build(),
            from: config.from.clone(),
            host: host.to_owned(),
        })
    }
}

fn tls_parameters(host: &str) -> Result<TlsParameters, ConfigError> {
    TlsParameters::new(host.to_owned()).map_err(|e| ConfigError::Tls(e.to_string()))
}

/// Parses one address, `ops@example.com` or `Name <ops@example.com>`.
pub(crate) fn parse_mailbox(address: &str) -> Result<Mailbox, String> {
    // lettre's parser is lenient about surrounding text in some forms; a line break is
    // never part of an address and would otherwise be a header-injection attempt.
    if address.chars().any(char::is_control) {
        return Err("contains a control character".to_owned());
    }
    address.trim().parse::<Mailbox>().map_err(|e| e.to_string())
}

/// The e-mail for `message`: subject = headline, a text/plain body listing each item
/// with its links (the acknowledge link alone on its line, so mail clients make all of
/// it clickable), and the `X-Fireline-Key` header. A message with an unsubscribe link
/// also carries it as RFC 8058 one-click headers (`List-Unsubscribe`,
/// `List-Unsubscribe-Post`), so mail clients offer their own unsubscribe button. `from`
/// and `to` are single addresses; a malformed one is a [`DeliveryError::Permanent`].
pub fn email(message: &Message, from: &str, to: &str) -> Result<lettre::Message, DeliveryError> {
    let from = parse_mailbox(from)
        .map_err(|e| DeliveryError::Permanent(format!("invalid sender address {from:?}: {e}")))?;
    let to = parse_mailbox(to)
        .map_err(|e| DeliveryError::Permanent(format!("invalid recipient address {to:?}: {e}")))?;
    let key = HeaderValue::new(
        HeaderName::new_from_ascii_str(KEY_HEADER),
        one_line(&message.key),
    );
    let mut builder = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(one_line(&message.headline))
        .raw_header(key);
    if let Some(url) = &message.unsubscribe_url {
        builder = builder
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str(LIST_UNSUBSCRIBE),
                format!("<{}>", one_line(url)),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str(LIST_UNSUBSCRIBE_POST),
                "List-Unsubscribe=One-Click".to_owned(),
            ));
    }
    builder
        .header(ContentType::TEXT_PLAIN)
        .body(email_body(message))
        .map_err(|e| DeliveryError::Permanent(format!("cannot build e-mail: {e}")))
}

fn email_body(message: &Message) -> String {
    let mut body = String::new();
    body.push_str(&message.headline);
    body.push_str("\n\n");
    if let Some(text) = message.text.as_deref().filter(|t| !t.trim().is_empty()) {
        body.push_str(text.trim_end());
        body.push_str("\n\n");
    }
    for item in &message.items {
        item_text(&mut body, item);
        body.push('\n');
    }
    if let Some(url) = &message.unsubscribe_url {
        body.push_str(&format!("Unsubscribe:\n{url}\n\n"));
    }
    body.push_str("-- \nSent by Fireline, ref ");
    body.push_str(&message.key);
    body.push('\n');
    body
}

fn item_text(body: &mut String, item: &Item) {
    body.push_str(&format!("{}: {}\n", item.incident, item.title));
    body.push_str(&format!("Severity: {}\n", item.severity));
    body.push_str(&format!("Service:  {}\n", item.service));
    body.push_str(&format!("Status:   {}\n", item.status));
    if let Some(reason) = item.reason.as_deref().filter(|r| !r.is_empty()) {
        body.push_str(&format!("Reason:   {reason}\n"));
    }
    if let Some(url) = &item.ack_url {
        body.push_str(&format!("Acknowledge:\n{url}\n"));
    }
    if let Some(url) = &item.runbook_url {
        body.push_str(&format!("Runbook:  {url}\n"));
    }
    if let Some(url) = &item.incident_url {
        body.push_str(&format!("Incident: {url}\n"));
    }
}

/// Header values are one line; a stray line break in a headline must not end the header.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// SMTP 4xx, network trouble and timeouts may pass; 5xx and client-side refusals
/// (no common auth mechanism, STARTTLS unsupported) will not.
pub(crate) fn classify(host: &str, error: &lettre::transport::smtp::Error) -> DeliveryError {
    let text = format!("SMTP {host}: {error}");
    if error.is_permanent() || error.is_client() {
        DeliveryError::Permanent(text)
    } else {
        DeliveryError::Transient(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Message {
        Message {
            key: "c0:page:INC-12".into(),
            headline: "Paged: [SEV1] Checkout 5xx".into(),
            items: vec![Item {
                incident: "INC-12".into(),
                title: "Checkout 5xx".into(),
                severity: "SEV1".into(),
                service: "checkout".into(),
                status: "triggered".into(),
                reason: Some("declared SEV1".into()),
                incident_url: Some("https://f.example/ui/incidents/INC-12".into()),
                runbook_url: None,
                ack_url: Some("https://f.example/ack/abc".into()),
            }],
            text: None,
            urgent: true,
            confirm_url: None,
            unsubscribe_url: None,
        }
    }

    #[test]
    fn addresses_are_validated() {
        for good in [
            "ops@example.com",
            "Ops Team <ops@example.com>",
            " ops@example.com ",
        ] {
            assert!(parse_mailbox(good).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            "ops",
            "ops@",
            "@example.com",
            "ops@example.com\r\nBcc: x@evil.example",
            "a@example.com, b@example.com",
        ] {
            assert!(parse_mailbox(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn malformed_recipient_is_permanent() {
        let result = email(&page(), "ops@example.com", "not an address");
        assert!(
            matches!(result, Err(DeliveryError::Permanent(_))),
            "{result:?}"
        );
        let result = email(&page(), "nobody", "oncall@example.com");
        assert!(
            matches!(result, Err(DeliveryError::Permanent(_))),
            "{result:?}"
        );
    }

    #[test]
    fn email_has_subject_key_and_links() -> Result<(), DeliveryError> {
        let mut message = page();
        message.headline = "Paged:\r\nBcc: x@evil.example".into();
        let mail = email(&message, "Fireline <ops@example.com>", "oncall@example.com")?;
        let raw = String::from_utf8_lossy(&mail.formatted()).into_owned();
        let (headers, _) = raw.split_once("\r\n\r\n").unwrap_or_default();
        assert!(
            headers.contains("Subject: Paged:  Bcc: x@evil.example\r\n"),
            "{raw}"
        );
        assert!(!headers.contains("\r\nBcc:"), "{raw}");
        // Plain ASCII bodies stay 7bit, readable in any client and in the raw source.
        assert!(headers.contains("Content-Transfer-Encoding: 7bit"), "{raw}");
        assert!(raw.contains("X-Fireline-Key: c0:page:INC-12\r\n"), "{raw}");
        assert!(raw.contains("Content-Type: text/plain"), "{raw}");
        assert!(
            raw.contains("Acknowledge:\r\nhttps://f.example/ack/abc\r\n"),
            "{raw}"
        );
        assert!(raw.contains("Severity: SEV1"), "{raw}");
        Ok(())
    }

    #[test]
    fn an_unsubscribe_link_is_in_the_body_and_the_one_click_headers() -> Result<(), DeliveryError> {
        let mut message = page();
        let plain = email(&message, "ops@example.com", "ann@example.com")?;
        let raw = String::from_utf8_lossy(&plain.formatted()).into_owned();
        assert!(!raw.contains("List-Unsubscribe"), "{raw}");
        message.unsubscribe_url = Some("https://f.example/status/unsubscribe/abc".into());
        let mail = email(&message, "ops@example.com", "ann@example.com")?;
        let raw = String::from_utf8_lossy(&mail.formatted()).into_owned();
        let (headers, body) = raw.split_once("\r\n\r\n").unwrap_or_default();
        assert!(
            headers.contains("List-Unsubscribe: <https://f.example/status/unsubscribe/abc>\r\n"),
            "{raw}"
        );
        assert!(
            headers.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"),
            "{raw}"
        );
        assert!(
            body.contains("Unsubscribe:\r\nhttps://f.example/status/unsubscribe/abc\r\n"),
            "{raw}"
        );
        Ok(())
    }

    #[test]
    fn tls_names_parse_and_print() {
        for (name, tls) in [
            ("none", SmtpTls::None),
            ("starttls", SmtpTls::StartTls),
            ("tls", SmtpTls::Tls),
        ] {
            assert_eq!(name.parse::<SmtpTls>().ok(), Some(tls));
            assert_eq!(tls.to_string(), name);
        }
        assert_eq!("STARTTLS".parse::<SmtpTls>().ok(), Some(SmtpTls::StartTls));
        assert!(matches!("ssl".parse::<SmtpTls>(), Err(ConfigError::UnknownTls(s)) if s == "ssl"));
    }

    #[test]
    fn debug_masks_the_password() {
        let config = SmtpConfig {
            host: "smtp.example.com".into(),
            port: 587,
            tls: SmtpTls::StartTls,
            username: Some("fireline".into()),
            password: Some("hunter2".into()),
            from: "ops@example.com".into(),
            timeout: Duration::from_secs(10),
        };
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("********"), "{debug}");
    }
}
