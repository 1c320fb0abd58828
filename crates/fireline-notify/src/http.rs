//! Requests for the HTTP channels (Slack, chat webhooks, Matrix, generic webhooks, ntfy,
//! Pushover, Twilio), and what their outcomes mean.

use std::io::Read;
use std::time::Duration;

use base64::Engine as _;

use crate::outbound::{Allow, GuardedResolver, Refused};
use crate::{Delivered, DeliveryError};

/// How much of an error response to read: enough for Slack's `invalid_token`, and for
/// every URL part the quoted [`SNIPPET_CHARS`] could show to be read whole (and so be
/// recognised and removed), wherever it starts.
const SNIPPET_BYTES: usize = 1024;
/// How much of an error response to quote.
const SNIPPET_CHARS: usize = 200;

pub(crate) struct Http {
    agent: ureq::Agent,
}

impl Http {
    /// An agent whose every connection goes through [`GuardedResolver`]: the addresses a
    /// URL's host resolves to are checked against `allow` before connecting.
    pub(crate) fn new(timeout: Duration, allow: Allow) -> Http {
        let agent = ureq::Agent::with_parts(
            agent_config(timeout),
            ureq::unversioned::transport::DefaultConnector::new(),
            GuardedResolver::new(allow),
        );
        Http { agent }
    }

    /// An agent for the admin's own provider APIs (`[pushover] api_url`, `[twilio]
    /// api_url`): like the SMTP relay, they are configuration, not something roster
    /// editors type, so the outbound check does not apply (an SMS gateway on a private
    /// network needs no `[outbound] allow` entry that would open it to every webhook).
    pub(crate) fn trusted(timeout: Duration) -> Http {
        Http {
            agent: ureq::Agent::new_with_config(agent_config(timeout)),
        }
    }

    /// POSTs `body` as JSON. Errors name the host only: the rest of a webhook URL is a
    /// credential.
    pub(crate) fn post(
        &self,
        channel: &'static str,
        url: &str,
        headers: &[(&str, String)],
        body: String,
    ) -> Result<Delivered, DeliveryError> {
        let answer = self.send(&Post {
            channel,
            method: Method::Post,
            url,
            content_type: "application/json",
            headers,
            basic_auth: None,
            body: body.into_bytes(),
            error_text: |_| None,
        })?;
        Ok(Delivered {
            detail: format!("HTTP {}", answer.status),
            reference: None,
        })
    }

    /// Sends `post` once. A 2xx answer is returned with its body (up to
    /// [`ANSWER_BYTES`]) for the caller to read; anything else is classified
    /// ([`classify_status`]), its detail naming the host and quoting the provider's own
    /// error text ([`Post::error_text`]) or the start of the body, with the URL's secret
    /// parts removed.
    pub(crate) fn send(&self, post: &Post<'_>) -> Result<Answer, DeliveryError> {
        self.send_status(post).map_err(|(_, error)| error)
    }

    /// [`Http::send`], with the HTTP status of a refusal beside the error (`None` when
    /// no answer came): Web Push must tell a subscription that is gone (404, 410) from
    /// other refusals.
    pub(crate) fn send_status(
        &self,
        post: &Post<'_>,
    ) -> Result<Answer, (Option<u16>, DeliveryError)> {
        let (channel, url) = (post.channel, post.url);
        let host = url_host(url);
        let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        if !matches!(scheme.as_deref(), Some("http" | "https")) || host.is_empty() {
            return Err((
                None,
                DeliveryError::Permanent(format!("{channel} URL is not an http(s) URL")),
            ));
        }
        let request = match post.method {
            Method::Post => self.agent.post(url),
            Method::Put => self.agent.put(url),
        };
        let mut request = request.header("Content-Type", post.content_type);
        for (name, value) in post.headers {
            request = request.header(*name, value);
        }
        if let Some((user, password)) = post.basic_auth {
            let credentials =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            request = request.header("Authorization", format!("Basic {credentials}"));
        }
        let mut response = request
            .send(post.body.as_slice())
            .map_err(|e| (None, classify_error(channel, host, e)))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            tracing::debug!(channel, host, status, "notification delivered");
            let mut body = Vec::new();
            // Only providers that answer with JSON read it, and they say so if it is
            // missing: a body cut short or unreadable is not a failed delivery.
            let _ = response
                .body_mut()
                .as_reader()
                .take(ANSWER_BYTES as u64)
                .read_to_end(&mut body);
            return Ok(Answer {
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        let mut snippet = Vec::new();
        // The snippet only decorates the error; failing to read it changes nothing.
        let _ = response
            .body_mut()
            .as_reader()
            .take((SNIPPET_BYTES + url.len()) as u64)
            .read_to_end(&mut snippet);
        let text = String::from_utf8_lossy(&snippet);
        let text = (post.error_text)(&text).unwrap_or_else(|| text.into_owned());
        // Receivers quote the request (Express: `Cannot POST /hooks/<secret>`), and the
        // error ends up on incident timelines: the URL's secret parts go first.
        let snippet = one_line(&without_url_secrets(&text, url));
        let mut detail = format!("{channel} to {host}: HTTP {status}");
        if !snippet.is_empty() {
            detail.push_str(": ");
            detail.push_str(&snippet);
        }
        Err((Some(status), classify_status(status, detail)))
    }
}

/// The agent settings every channel shares.
fn agent_config(timeout: Duration) -> ureq::config::Config {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        // No proxy from HTTP(S)_PROXY: through a proxy, the resolver would see the
        // proxy's address and the proxy would connect to whatever the URL names, out of
        // the outbound check's sight.
        .proxy(None)
        // Status codes are classified here, not turned into errors by ureq.
        .http_status_as_error(false)
        // A redirect would be re-sent as a GET without the body, or to wherever a
        // compromised receiver points; a 3xx is a misconfigured URL.
        .max_redirects(0)
        .user_agent(concat!("fireline/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// How much of a successful answer to read: a provider's JSON receipt is a few hundred
/// bytes (Twilio's message resource a few kilobytes).
const ANSWER_BYTES: usize = 64 * 1024;

/// The request method: POST for every channel but Matrix, whose send endpoint is a PUT
/// (the transaction id in its path makes a retry the same request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Post,
    Put,
}

/// One request with a body (a POST, or a PUT for Matrix).
pub(crate) struct Post<'a> {
    /// `ntfy`, `pushover`, `twilio`…: names the channel in errors and logs.
    pub(crate) channel: &'static str,
    /// POST or PUT.
    pub(crate) method: Method,
    /// Where to.
    pub(crate) url: &'a str,
    /// The body's media type.
    pub(crate) content_type: &'static str,
    /// More headers.
    pub(crate) headers: &'a [(&'a str, String)],
    /// User and password for HTTP Basic authentication (Twilio's account SID and auth
    /// token).
    pub(crate) basic_auth: Option<(&'a str, &'a str)>,
    /// The body.
    pub(crate) body: Vec<u8>,
    /// The provider's documented error text in an error answer's body (Twilio's
    /// `message` and `code`, Pushover's `errors`), if the body holds one.
    pub(crate) error_text: fn(&str) -> Option<String>,
}

/// A 2xx answer.
pub(crate) struct Answer {
    /// Its status code.
    pub(crate) status: u16,
    /// Its body (lossily UTF-8).
    pub(crate) body: String,
}

/// `pairs` as `application/x-www-form-urlencoded` (the WHATWG serializer: letters,
/// digits and `*-._` as they are, space as `+`, every other byte `%XX`).
pub(crate) fn form_body(pairs: &[(&str, String)]) -> String {
    fn push(out: &mut String, text: &str) {
        for byte in text.bytes() {
            match byte {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                    out.push(char::from(byte))
                }
                b' ' => out.push('+'),
                other => out.push_str(&format!("%{other:02X}")),
            }
        }
    }
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        push(&mut out, name);
        out.push('=');
        push(&mut out, value);
    }
    out
}

/// 5xx, 408 (request timeout) and 429 (rate limited) may pass; any other non-2xx will
/// not until the URL or the receiver changes.
pub(crate) fn classify_status(status: u16, detail: String) -> DeliveryError {
    if status >= 500 || status == 408 || status == 429 {
        DeliveryError::Transient(detail)
    } else {
        DeliveryError::Permanent(detail)
    }
}

fn classify_error(channel: &str, host: &str, error: ureq::Error) -> DeliveryError {
    use ureq::Error as E;
    let prefix = format!("{channel} to {host}");
    match error {
        // Their text may quote the URL, so it is not passed on.
        E::BadUri(_) | E::Http(_) | E::RequireHttpsOnly(_) => {
            DeliveryError::Permanent(format!("{prefix}: invalid URL"))
        }
        E::InvalidProxyUrl => DeliveryError::Permanent(format!("{prefix}: invalid proxy URL")),
        E::Timeout(which) => DeliveryError::Transient(format!("{prefix}: timed out ({which})")),
        E::Io(io) => DeliveryError::Transient(format!("{prefix}: {io}")),
        // The outbound check refused the address: it will refuse it again until the URL
        // or `[outbound] allow` changes.
        E::Other(other) if other.is::<Refused>() => {
            DeliveryError::Permanent(format!("{prefix}: {other}"))
        }
        // Everything else is the network or the peer misbehaving (DNS, refused
        // connections, TLS, protocol errors), which can come right.
        other => DeliveryError::Transient(format!("{prefix}: {other}")),
    }
}

/// The host (and port) of `url`, without scheme, credentials, path or query.
pub(crate) fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}

/// The parts of `url` that may be credentials — userinfo, path, query, fragment — as a
/// receiver might quote them: as sent, percent-decoded, and with JSON's escaped slashes.
/// Longest first, so a whole path and query goes before its pieces. Parts too short to
/// be secret on their own (`/`) are left.
fn url_secrets(url: &str) -> Vec<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, target) = rest.split_at(end);
    let mut parts: Vec<String> = Vec::new();
    if let Some((userinfo, _)) = authority.rsplit_once('@') {
        parts.push(userinfo.to_owned());
        parts.extend(userinfo.split(':').map(str::to_owned));
    }
    let (target, fragment) = target.split_once('#').unwrap_or((target, ""));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    parts.extend([target, path, query, fragment].map(str::to_owned));
    // Pieces a receiver may quote alone: query values, and path segments long enough to
    // be tokens (not words such as `hooks`).
    parts.extend(
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(_, v)| v.to_owned()),
    );
    parts.extend(
        path.split('/')
            .filter(|segment| segment.len() >= 12)
            .map(str::to_owned),
    );
    let mut all = Vec::new();
    for part in parts {
        let decoded = percent_decoded(&part);
        let escaped = part.replace('/', "\\/");
        all.extend([part, decoded, escaped]);
    }
    all.retain(|p| p.trim_matches('/').len() >= 2);
    all.sort_by_key(|p| std::cmp::Reverse(p.len()));
    all.dedup();
    all
}

/// `text` with every secret-looking part of `url` ([`url_secrets`]) replaced by `…`.
fn without_url_secrets(text: &str, url: &str) -> String {
    let mut text = text.to_owned();
    for secret in url_secrets(url) {
        if text.contains(&secret) {
            text = text.replace(&secret, "…");
        }
    }
    text
}

/// `%XX` escapes (and `+`, as in a form-encoded query) decoded; invalid UTF-8 replaced.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn one_line(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.trim();
    if flat.chars().count() > SNIPPET_CHARS {
        let mut cut: String = flat.chars().take(SNIPPET_CHARS).collect();
        cut.push('…');
        cut
    } else {
        flat.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_only() {
        assert_eq!(
            url_host("https://hooks.slack.com/services/T/B/X"),
            "hooks.slack.com"
        );
        assert_eq!(url_host("http://127.0.0.1:8080?x=1"), "127.0.0.1:8080");
        assert_eq!(url_host("https://u:p@h.example#f"), "h.example");
        assert_eq!(url_host("https://u:p@h.example/a@b"), "h.example");
    }

    #[test]
    fn status_classes() {
        let class = |s| classify_status(s, String::new()).is_transient();
        for transient in [500, 502, 503, 504, 408, 429] {
            assert!(class(transient), "{transient}");
        }
        for permanent in [301, 302, 400, 401, 403, 404, 410, 413, 422] {
            assert!(!class(permanent), "{permanent}");
        }
    }

    #[test]
    fn form_bodies_are_encoded_as_browsers_do() {
        assert_eq!(
            form_body(&[
                ("To", "+15551234567".to_owned()),
                ("Body", "a&b=c d—é".to_owned()),
                ("x", "*-._~".to_owned()),
            ]),
            "To=%2B15551234567&Body=a%26b%3Dc+d%E2%80%94%C3%A9&x=*-._%7E"
        );
        assert_eq!(form_body(&[]), "");
    }

    #[test]
    fn non_http_urls_are_permanent() {
        let http = Http::new(Duration::from_secs(1), Allow::nothing());
        for url in [
            "ftp://x.example/",
            "hooks.slack.com/x",
            "https://",
            "file:///etc/passwd",
        ] {
            let result = http.post("webhook", url, &[], String::new());
            assert!(
                matches!(result, Err(DeliveryError::Permanent(_))),
                "{url}: {result:?}"
            );
        }
    }
}
