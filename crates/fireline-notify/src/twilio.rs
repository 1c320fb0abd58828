//! Twilio (or a Twilio-compatible provider): SMS through the Message resource and phone
//! calls through the Call resource, each a form POST with HTTP Basic authentication
//! (account SID and auth token):
//! <https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource>,
//! <https://www.twilio.com/docs/voice/api/call-resource#create-a-call-resource>.
//!
//! Twilio signs the requests it sends back (a reply to an SMS, a key pressed during a
//! call) with the auth token: [`twilio_signature`] and [`verify_twilio_signature`]
//! implement <https://www.twilio.com/docs/usage/security#validating-requests>.
//!
//! Phone numbers are personal data: errors and `Debug` show their last four digits only.

use std::fmt;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::http::{form_body, Http, Method, Post};
use crate::message::{Item, Message};
use crate::{Delivered, DeliveryError};

/// Where Twilio's API lives unless `[twilio] api_url` says otherwise.
pub const TWILIO_API_URL: &str = "https://api.twilio.com";
/// The header carrying Twilio's signature on the requests it sends.
pub const TWILIO_SIGNATURE_HEADER: &str = "X-Twilio-Signature";

/// Longest SMS body sent: two GSM-7 segments, so a page stays cheap and readable.
const SMS_MAX: usize = 320;
/// Longest spoken text (said twice in a call): Twilio takes at most 4,000 characters of
/// TwiML in `Twiml`.
const SAY_MAX: usize = 1200;
/// Most incidents read out in one call.
const SAY_ITEMS: usize = 3;

/// The server's Twilio account.
#[derive(Clone, PartialEq, Eq)]
pub struct TwilioConfig {
    /// The account SID (`AC…`).
    pub account_sid: String,
    /// The account's auth token: the API password, and the key Twilio signs its requests
    /// to Fireline with (never shown in `Debug`, logs or errors).
    pub auth_token: String,
    /// The number texts and calls come from, in E.164 form (`+15005550006`); for SMS it
    /// may also be an alphanumeric sender id where Twilio allows one.
    pub from: String,
    /// The API's base URL, [`TWILIO_API_URL`] unless a compatible provider is used.
    pub api_url: String,
}

// By hand: the auth token is a credential.
impl fmt::Debug for TwilioConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioConfig")
            .field("account_sid", &self.account_sid)
            .field("from", &self.from)
            .field("api_url", &self.api_url)
            .finish_non_exhaustive()
    }
}

/// `…` and the last four characters of a phone number: enough to tell contacts apart,
/// too little to call them.
pub(crate) fn last_four(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    let tail: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    format!("…{tail}")
}

/// What kind of Twilio resource a delivery creates.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// A text message.
    Sms,
    /// A phone call.
    Voice,
}

/// Texts or calls `to` with `message`.
pub(crate) fn send(
    http: &Http,
    config: &TwilioConfig,
    kind: Kind,
    to: &str,
    message: &Message,
) -> Result<Delivered, DeliveryError> {
    let to = to.trim();
    if !plausible_phone(to) {
        return Err(DeliveryError::Permanent(format!(
            "{} is not a phone number in E.164 form (+ country code and number)",
            last_four(to)
        )));
    }
    let (resource, content) = match kind {
        Kind::Sms => ("Messages", ("Body", sms_body(message))),
        Kind::Voice => ("Calls", ("Twiml", voice_twiml(message))),
    };
    let url = format!(
        "{}/2010-04-01/Accounts/{}/{resource}.json",
        config.api_url.trim_end_matches('/'),
        config.account_sid
    );
    let form = [
        ("To", to.to_owned()),
        ("From", config.from.clone()),
        content,
    ];
    let hide = |e| redact_numbers(crate::redacted(e, &[&config.auth_token]), to);
    let answer = http
        .send(&Post {
            channel: match kind {
                Kind::Sms => "twilio sms",
                Kind::Voice => "twilio voice",
            },
            method: Method::Post,
            url: &url,
            content_type: "application/x-www-form-urlencoded",
            headers: &[],
            basic_auth: Some((&config.account_sid, &config.auth_token)),
            body: form_body(&form).into_bytes(),
            error_text,
        })
        .map_err(hide)?;
    let value: serde_json::Value = serde_json::from_str(&answer.body).unwrap_or_default();
    let mut detail = format!("HTTP {}", answer.status);
    if let Some(sid) = value["sid"].as_str() {
        detail.push_str(&format!(", {sid}"));
    }
    if let Some(status) = value["status"].as_str() {
        detail.push_str(&format!(" {status}"));
    }
    Ok(Delivered {
        detail,
        reference: None,
    })
}

/// E.164: `+`, a country code not starting with 0, at most 15 digits in all.
fn plausible_phone(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

/// Twilio's error answer, `{"code":21211,"message":"The 'To' number … is not a valid
/// phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}`,
/// as one line.
fn error_text(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let message = value["message"].as_str()?;
    let mut text = message.to_owned();
    if let Some(code) = value["code"].as_u64() {
        text.push_str(&format!(" (Twilio error {code}"));
        if let Some(more) = value["more_info"].as_str() {
            text.push_str(&format!(", {more}"));
        }
        text.push(')');
    }
    Some(text)
}

/// `error` with the number `to`, and any other run of seven or more digits (Twilio
/// quotes numbers in its messages), reduced to its last four digits.
fn redact_numbers(error: DeliveryError, to: &str) -> DeliveryError {
    let hide = |text: &str| {
        let text = text.replace(to, &last_four(to));
        let mut out = String::with_capacity(text.len());
        let mut run = String::new();
        let flush = |run: &mut String, out: &mut String| {
            if run.len() >= 7 {
                out.push_str(&last_four(run));
            } else {
                out.push_str(run);
            }
            run.clear();
        };
        for c in text.chars() {
            if c.is_ascii_digit() {
                run.push(c);
            } else {
                flush(&mut run, &mut out);
                out.push(c);
            }
        }
        flush(&mut run, &mut out);
        out
    };
    match error {
        DeliveryError::Transient(detail) => DeliveryError::Transient(hide(&detail)),
        DeliveryError::Permanent(detail) => DeliveryError::Permanent(hide(&detail)),
    }
}

/// The incident number people type back: `12` for `INC-12`.
fn number(incident: &str) -> &str {
    match incident.get(..4) {
        Some(prefix) if prefix.eq_ignore_ascii_case("INC-") => &incident[4..],
        _ => incident,
    }
}

/// A text message: `[SEV1] INC-12 Checkout 5xx — reply ACK 12 to acknowledge.
/// https://…/ui/incidents/INC-12` for a page (a notice puts its reason before the
/// title); the ids and titles of a bundle with one
/// reply for all; the headline (and text) of a plain notice. At most 320 characters,
/// the title giving way first.
pub fn sms_body(message: &Message) -> String {
    match message.items.as_slice() {
        [] => {
            let mut body = message.headline.clone();
            if let Some(text) = message.text.as_deref().filter(|t| !t.trim().is_empty()) {
                body.push_str(": ");
                body.push_str(text.trim());
            }
            cut(&one_line(&body), SMS_MAX)
        }
        [item] => {
            let mut tail = String::new();
            if item.ack_url.is_some() {
                tail.push_str(&format!(
                    " — reply ACK {} to acknowledge.",
                    number(&item.incident)
                ));
            }
            if let Some(url) = item.incident_url.as_deref() {
                tail.push(' ');
                tail.push_str(url);
            }
            // A notice says what it is about (an update due, a clock breached) before
            // the title, which gives way first; a page's reason is the page itself.
            let head = match item.reason.as_deref().filter(|_| !message.urgent) {
                Some(reason) => format!(
                    "[{}] {} {}: ",
                    item.severity,
                    item.incident,
                    cut(&one_line(reason), SMS_MAX / 2)
                ),
                None => format!("[{}] {} ", item.severity, item.incident),
            };
            let room = SMS_MAX.saturating_sub(head.chars().count() + tail.chars().count());
            format!("{head}{}{tail}", cut(&one_line(&item.title), room.max(10)))
        }
        items => {
            let mut tail = String::new();
            if let Some(first) = items.iter().find(|i| i.ack_url.is_some()) {
                let one_incident = items.iter().all(|i| i.incident == first.incident);
                tail.push_str(&if one_incident {
                    format!(" — reply ACK {} to acknowledge.", number(&first.incident))
                } else {
                    format!(
                        " — reply ACK <number> to acknowledge, e.g. ACK {}.",
                        number(&first.incident)
                    )
                });
            }
            let head = format!("{}: ", one_line(&message.headline));
            let listed: Vec<String> = items
                .iter()
                .map(|i| match i.reason.as_deref().filter(|_| !message.urgent) {
                    // Notices: what each is about, which the title would not say.
                    Some(reason) => format!("{} {}", i.incident, one_line(reason)),
                    None => format!("[{}] {} {}", i.severity, i.incident, one_line(&i.title)),
                })
                .collect();
            let room = SMS_MAX.saturating_sub(head.chars().count() + tail.chars().count());
            format!("{head}{}{tail}", cut(&listed.join("; "), room.max(20)))
        }
    }
}

/// The TwiML a call plays: the incident read out (severity, title, service; up to three
/// of a bundle) and, when the first incident has an acknowledge link, a `<Gather>` of
/// one key posting to its `/voice` ("Press 1 to acknowledge"), said twice, then
/// "Goodbye". A notice without a link is read out twice, with nothing to press.
pub fn voice_twiml(message: &Message) -> String {
    let said = xml_escape(&cut(&spoken(message), SAY_MAX));
    let mut twiml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>");
    let ack = message.items.iter().find_map(|i| {
        i.ack_url
            .as_deref()
            .map(|url| (number(&i.incident).to_owned(), url))
    });
    match ack {
        Some((incident, url)) => {
            let prompt = if message.items.len() == 1 {
                "Press 1 to acknowledge.".to_owned()
            } else {
                format!("Press 1 to acknowledge incident {}.", xml_escape(&incident))
            };
            let gather = format!(
                "<Gather numDigits=\"1\" action=\"{}\" method=\"POST\"><Say>{said} {prompt}</Say></Gather>",
                xml_escape(&format!("{url}/voice"))
            );
            twiml.push_str(&gather);
            twiml.push_str(&gather);
        }
        None => match message.confirm_url.as_deref() {
            // A test call: one key proves this phone reaches its person.
            Some(url) => {
                let gather = format!(
                    "<Gather numDigits=\"1\" action=\"{}\" method=\"POST\"><Say>{said} Press 1 to confirm that this phone can wake you.</Say></Gather>",
                    xml_escape(&format!("{url}/voice"))
                );
                twiml.push_str(&gather);
                twiml.push_str(&gather);
            }
            None => twiml.push_str(&format!("<Say>{said}</Say><Say>{said}</Say>")),
        },
    }
    twiml.push_str("<Say>Goodbye</Say></Response>");
    twiml
}

/// What a call says before the prompt.
fn spoken(message: &Message) -> String {
    if message.items.is_empty() {
        let mut text = format!("Fireline. {}.", one_line(&message.headline));
        // A test page's text is its confirm link, which no one wants read out.
        let extra = message
            .text
            .as_deref()
            .filter(|_| message.confirm_url.is_none());
        if let Some(extra) = extra.filter(|t| !t.trim().is_empty()) {
            text.push(' ');
            text.push_str(&one_line(extra));
        }
        return text;
    }
    let read = |item: &Item| {
        format!(
            "{} incident {}: {}. Service {}.",
            item.severity,
            number(&item.incident),
            one_line(&item.title),
            one_line(&item.service)
        )
    };
    let mut text = if message.urgent {
        "Fireline page.".to_owned()
    } else {
        "Fireline.".to_owned()
    };
    for item in message.items.iter().take(SAY_ITEMS) {
        text.push(' ');
        text.push_str(&read(item));
    }
    let more = message.items.len().saturating_sub(SAY_ITEMS);
    if more > 0 {
        text.push_str(&format!(" And {more} more."));
    }
    text
}

/// Escapes text for XML content and attributes, and drops characters XML 1.0 forbids.
pub(crate) fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {}
            c => out.push(c),
        }
    }
    out
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` cut to at most `max` characters, ending in `…` if cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Twilio's signature of a request it sends to `url` with the form `params`: the
/// base64 HMAC-SHA1, keyed with the auth token, of the full URL (query included)
/// followed by each POST parameter's name and value, sorted by name, with no separators.
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    base64::engine::general_purpose::STANDARD.encode(
        signature_mac(auth_token, url, params)
            .finalize()
            .into_bytes(),
    )
}

/// Whether `signature` (the `X-Twilio-Signature` header) is Twilio's signature of a
/// request to `url` with `params`, compared in constant time.
pub fn verify_twilio_signature(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    signature: &str,
) -> bool {
    if auth_token.is_empty() {
        // Nothing a server without the token checks can be trusted.
        return false;
    }
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    signature_mac(auth_token, url, params)
        .verify_slice(&expected)
        .is_ok()
}

fn signature_mac(auth_token: &str, url: &str, params: &[(String, String)]) -> Hmac<Sha1> {
    let mut mac = match Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()) {
        Ok(mac) => mac,
        // HMAC hashes or pads keys of any length; the error exists only for other MACs.
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(url.as_bytes());
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    // By name, as Twilio sorts; a repeated name by value, so the order is defined.
    sorted.sort();
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Message {
        Message {
            key: "k".into(),
            headline: "Paged: [SEV1] Checkout 5xx".into(),
            items: vec![Item {
                incident: "INC-12".into(),
                title: "Checkout 5xx".into(),
                severity: "SEV1".into(),
                service: "checkout".into(),
                status: "triggered".into(),
                incident_url: Some("https://f.example/ui/incidents/INC-12".into()),
                ack_url: Some("https://f.example/ack/12.alice.1.2.sig".into()),
                ..Item::default()
            }],
            urgent: true,
            ..Message::default()
        }
    }

    #[test]
    fn an_sms_notice_says_what_it_is_about_before_the_title() {
        let mut notice = page();
        notice.urgent = false;
        notice.items[0].reason = Some("internal update due (you are its commander)".into());
        assert_eq!(
            sms_body(&notice),
            "[SEV1] INC-12 internal update due (you are its commander): Checkout 5xx \
             — reply ACK 12 to acknowledge. https://f.example/ui/incidents/INC-12"
        );
        let mut bundle = notice.clone();
        bundle.headline = "2 notifications for you".into();
        let mut breach = bundle.items[0].clone();
        breach.reason = Some("acknowledge clock breached (target 5m)".into());
        bundle.items.push(breach);
        assert_eq!(
            sms_body(&bundle),
            "2 notifications for you: INC-12 internal update due (you are its commander); \
             INC-12 acknowledge clock breached (target 5m) — reply ACK 12 to acknowledge."
        );
    }

    #[test]
    fn a_test_call_asks_for_one_key_that_confirms_the_phone() {
        let test = Message {
            key: "test/alice/voice/ab/1".into(),
            headline: "Test page for Alice".into(),
            text: Some("Confirm it reached you: https://f.example/ack/t.alice.voice.x".into()),
            urgent: true,
            confirm_url: Some("https://f.example/ack/t.alice.voice.x".into()),
            unsubscribe_url: None,
            ..Message::default()
        };
        let twiml = voice_twiml(&test);
        assert!(
            twiml.contains(
                "<Gather numDigits=\"1\" action=\"https://f.example/ack/t.alice.voice.x/voice\" \
                 method=\"POST\"><Say>Fireline. Test page for Alice. Press 1 to confirm that \
                 this phone can wake you.</Say></Gather>"
            ),
            "{twiml}"
        );
        assert!(
            !twiml.contains("https://f.example/ack/t.alice.voice.x<"),
            "{twiml}"
        );
    }

    #[test]
    fn an_sms_page_says_how_to_acknowledge() {
        assert_eq!(
            sms_body(&page()),
            "[SEV1] INC-12 Checkout 5xx — reply ACK 12 to acknowledge. \
             https://f.example/ui/incidents/INC-12"
        );
        let mut long = page();
        long.items[0].title = "t".repeat(1000);
        let body = sms_body(&long);
        assert!(body.chars().count() <= SMS_MAX, "{body}");
        assert!(
            body.ends_with("reply ACK 12 to acknowledge. https://f.example/ui/incidents/INC-12")
        );
    }

    #[test]
    fn a_call_reads_the_incident_and_offers_one_key() {
        let mut message = page();
        message.items[0].title = "Checkout <5xx> & \"friends\"".into();
        let twiml = voice_twiml(&message);
        let gather = "<Gather numDigits=\"1\" action=\"https://f.example/ack/12.alice.1.2.sig/voice\" method=\"POST\"><Say>Fireline page. SEV1 incident 12: Checkout &lt;5xx&gt; &amp; &quot;friends&quot;. Service checkout. Press 1 to acknowledge.</Say></Gather>";
        assert_eq!(
            twiml,
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>{gather}{gather}<Say>Goodbye</Say></Response>"
            )
        );
        message.items[0].ack_url = None;
        let twiml = voice_twiml(&message);
        assert!(!twiml.contains("Gather"), "{twiml}");
        assert!(!twiml.contains("Press 1"), "{twiml}");
    }

    #[test]
    fn numbers_are_shown_by_their_last_four_digits() {
        assert_eq!(last_four("+15551234567"), "…4567");
        let error = redact_numbers(
            DeliveryError::Permanent(
                "The 'To' number +15551234567 is not valid; 14155238886".into(),
            ),
            "+15551234567",
        );
        assert_eq!(error.detail(), "The 'To' number …4567 is not valid; …8886");
    }
}
