//! JSON POSTs for the Slack and generic webhooks, and what their outcomes mean.

use std::io::Read;
use std::time::Duration;

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
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            // No proxy from HTTP(S)_PROXY: through a proxy, the resolver would see the
            // proxy's address and the proxy would connect to whatever the URL names,
            // out of the outbound check's sight.
            .proxy(None)
            // Status codes are classified here, not turned into errors by ureq.
            .http_status_as_error(false)
            // A redirect would be re-sent as a GET without the body, or to wherever a
            // compromised receiver points; a 3xx is a misconfigured URL.
            .max_redirects(0)
            .user_agent(concat!("fireline/", env!("CARGO_PKG_VERSION")))
            .build();
        let agent = ureq::Agent::with_parts(
            config,
            ureq::unversioned::transport::DefaultConnector::new(),
            GuardedResolver::new(allow),
        );
        Http { agent }
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
        let host = url_host(url);
        let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        if !matches!(scheme.as_deref(), Some("http" | "https")) || host.is_empty() {
            return Err(DeliveryError::Permanent(format!(
                "{channel} URL is not an http(s) URL"
            )));
        }
        let mut request = self
            .agent
            .post(url)
            .header("Content-Type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let mut response = request
            .send(body)
            .map_err(|e| classify_error(channel, host, e))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            tracing::debug!(channel, host, status, "notification delivered");
            return Ok(Delivered {
                detail: format!("HTTP {status}"),
            });
        }
        let mut snippet = Vec::new();
        // The snippet only decorates the error; failing to read it changes nothing.
        let _ = response
            .body_mut()
            .as_reader()
            .take((SNIPPET_BYTES + url.len()) as u64)
            .read_to_end(&mut snippet);
        // Receivers quote the request (Express: `Cannot POST /hooks/<secret>`), and the
        // error ends up on incident timelines: the URL's secret parts go first.
        let snippet = one_line(&without_url_secrets(
            &String::from_utf8_lossy(&snippet),
            url,
        ));
        let mut detail = format!("{channel} to {host}: HTTP {status}");
        if !snippet.is_empty() {
            detail.push_str(": ");
            detail.push_str(&snippet);
        }
        Err(classify_status(status, detail))
    }
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
