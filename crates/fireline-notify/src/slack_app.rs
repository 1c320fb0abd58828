//! What a Slack app needs besides posting: checking that a request came from Slack (its
//! signing secret, <https://api.slack.com/authentication/verifying-requests-from-slack>)
//! and answering an interaction through the `response_url` Slack gave with it.
//!
//! The signature is `v0=` and the hex HMAC-SHA256, keyed with the app's signing secret,
//! of `v0:{X-Slack-Request-Timestamp}:{raw body}`; requests older than five minutes are
//! refused, so a captured one cannot be replayed.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::http::Http;
use crate::{Allow, DeliveryError};

/// The header with Slack's signature, `v0=<64 hex digits>`.
pub const SLACK_SIGNATURE_HEADER: &str = "X-Slack-Signature";
/// The header with the Unix time in seconds the signature covers.
pub const SLACK_TIMESTAMP_HEADER: &str = "X-Slack-Request-Timestamp";
/// How far a request's timestamp may be from now: Slack's own advice.
pub const SLACK_REPLAY_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

const VERSION: &str = "v0";

/// The `action_id` of the Acknowledge button on messages an app with interactivity
/// posts; the button's `value` is the incident (`INC-7`).
pub const SLACK_ACKNOWLEDGE: &str = "fireline-acknowledge";
/// The Resolve button's `action_id` (see [`SLACK_ACKNOWLEDGE`]).
pub const SLACK_RESOLVE: &str = "fireline-resolve";
/// The Escalate button's `action_id` (see [`SLACK_ACKNOWLEDGE`]).
pub const SLACK_ESCALATE: &str = "fireline-escalate";
/// The Add note button's `action_id` (see [`SLACK_ACKNOWLEDGE`]): it opens a form.
pub const SLACK_NOTE: &str = "fireline-note";

/// Why a request was not taken as Slack's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlackSignatureError {
    /// A header is missing or not of Slack's form.
    #[error("missing or malformed {0} header")]
    Malformed(&'static str),
    /// The timestamp is more than five minutes from now (a replay, or a wrong clock).
    #[error("the request is {age_seconds}s old; Slack's are signed within 5 minutes")]
    Stale {
        /// Now minus the timestamp (negative: from the future).
        age_seconds: i64,
    },
    /// The signature does not match the body under the signing secret.
    #[error("the signature does not match the signing secret")]
    Mismatch,
}

/// `v0=` + hex(HMAC-SHA256(`secret`, `v0:{timestamp}:{body}`)): what Slack sends.
pub fn slack_signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    format!(
        "{VERSION}={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

/// Checks a request as Slack documents: the timestamp within [`SLACK_REPLAY_WINDOW`] of
/// `now`, and the signature equal (in constant time) to [`slack_signature`].
pub fn verify_slack_signature(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: jiff::Timestamp,
) -> Result<(), SlackSignatureError> {
    let timestamp = timestamp
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 18 && t.bytes().all(|b| b.is_ascii_digit()))
        .ok_or(SlackSignatureError::Malformed(SLACK_TIMESTAMP_HEADER))?;
    let expected = signature
        .map(str::trim)
        .and_then(|s| s.strip_prefix("v0="))
        .filter(|hex| hex.len() == 64)
        .and_then(|hex| hex::decode(hex).ok())
        .ok_or(SlackSignatureError::Malformed(SLACK_SIGNATURE_HEADER))?;
    let seconds: i64 = timestamp
        .parse()
        .map_err(|_| SlackSignatureError::Malformed(SLACK_TIMESTAMP_HEADER))?;
    let age_seconds = now.as_second().saturating_sub(seconds);
    if age_seconds.saturating_abs() > SLACK_REPLAY_WINDOW.as_secs() {
        return Err(SlackSignatureError::Stale { age_seconds });
    }
    mac(secret, timestamp, body)
        .verify_slice(&expected)
        .map_err(|_| SlackSignatureError::Mismatch)
}

fn mac(secret: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        // HMAC hashes or pads keys of any length; the error exists only for other MACs.
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(VERSION.as_bytes());
    mac.update(b":");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac
}

/// Answers Slack interactions through their `response_url` (a message only the person
/// who clicked sees, or one that replaces the message clicked). The URL comes with a
/// signed request, yet it is still called through the outbound guard like any other.
pub struct SlackResponder {
    http: Http,
}

impl std::fmt::Debug for SlackResponder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackResponder").finish_non_exhaustive()
    }
}

impl SlackResponder {
    /// A responder whose requests take at most `timeout` and reach only what `allow`
    /// permits beyond public addresses.
    pub fn new(timeout: Duration, allow: Allow) -> SlackResponder {
        SlackResponder {
            http: Http::new(timeout, allow),
        }
    }

    /// POSTs `body` (Slack's message JSON: `text`, `response_type`, `replace_original`,
    /// …) to `response_url`. Blocking: call it off the async runtime.
    pub fn respond(
        &self,
        response_url: &str,
        body: &serde_json::Value,
    ) -> Result<(), DeliveryError> {
        if !response_url.starts_with("https://") && !response_url.starts_with("http://") {
            return Err(DeliveryError::Permanent(
                "the response_url is not an http(s) URL".to_owned(),
            ));
        }
        self.http
            .post("slack", response_url, &[], body.to_string())
            .map(|_| ())
    }
}

/// The app's own calls to Slack's Web API with its bot token, for answering people:
/// who a member is (`users.info`, which shows the e-mail address with the
/// `users:read.email` scope: for people the roster links by e-mail rather than a
/// `slack_user`), and opening a form (`views.open`, the Add note modal).
pub struct SlackWebApi {
    http: Http,
    api_url: String,
    token: String,
}

impl std::fmt::Debug for SlackWebApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackWebApi")
            .field("api_url", &self.api_url)
            .finish_non_exhaustive()
    }
}

impl SlackWebApi {
    /// The Web API of the workspace `token` (a bot token) belongs to, at `api_url`
    /// (the admin's setting, like `[slack] api_url`: not subject to the outbound guard).
    pub fn new(api_url: &str, token: &str, timeout: Duration) -> SlackWebApi {
        SlackWebApi {
            http: Http::trusted(timeout),
            api_url: api_url.trim_end_matches('/').to_owned(),
            token: token.trim().to_owned(),
        }
    }

    /// Opens `view` (a modal's JSON) for the person whose click gave `trigger_id`
    /// (`views.open`; the trigger lasts three seconds). Blocking.
    pub fn open_view(
        &self,
        trigger_id: &str,
        view: &serde_json::Value,
    ) -> Result<(), DeliveryError> {
        let body = serde_json::json!({ "trigger_id": trigger_id, "view": view });
        let answer = crate::slack_api::call(
            &self.http,
            &self.api_url,
            "views.open",
            &self.token,
            crate::slack_api::Body::Json(&body),
        )?;
        crate::slack_api::answered(answer.status, &answer.body)
            .map(|_| ())
            .map_err(|e| crate::redacted(e, &[self.token.as_str()]))
    }

    /// The e-mail address of member `user`, if Slack shows one. Blocking.
    pub fn email_of(&self, user: &str) -> Result<Option<String>, DeliveryError> {
        let answer = crate::slack_api::call(
            &self.http,
            &self.api_url,
            "users.info",
            &self.token,
            crate::slack_api::Body::Form(&[("user", user.to_owned())]),
        )?;
        let value: serde_json::Value = serde_json::from_str(&answer.body).unwrap_or_default();
        if value["ok"].as_bool() != Some(true) {
            let code = value["error"].as_str().unwrap_or("no error code");
            return Err(DeliveryError::Permanent(format!(
                "slack api users.info: {}",
                code.chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .take(64)
                    .collect::<String>()
            )));
        }
        Ok(value["user"]["profile"]["email"]
            .as_str()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_owned))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(seconds).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }

    // Slack's own example, from "Verifying requests from Slack".
    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TIMESTAMP: &str = "1531420618";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    #[test]
    fn slacks_documented_example_verifies() {
        assert_eq!(
            slack_signature(SECRET, TIMESTAMP, BODY.as_bytes()),
            SIGNATURE
        );
        assert_eq!(
            verify_slack_signature(
                SECRET,
                Some(TIMESTAMP),
                Some(SIGNATURE),
                BODY.as_bytes(),
                at(1_531_420_618 + 60)
            ),
            Ok(())
        );
    }

    #[test]
    fn forged_stale_and_malformed_requests_are_refused() {
        let now = at(1_531_420_618);
        let check = |ts: Option<&str>, sig: Option<&str>, body: &str, now| {
            verify_slack_signature(SECRET, ts, sig, body.as_bytes(), now)
        };
        assert_eq!(
            check(
                Some(TIMESTAMP),
                Some(SIGNATURE),
                &BODY.replace("text=", "text=ack"),
                now
            ),
            Err(SlackSignatureError::Mismatch)
        );
        assert_eq!(
            verify_slack_signature(
                "another",
                Some(TIMESTAMP),
                Some(SIGNATURE),
                BODY.as_bytes(),
                now
            ),
            Err(SlackSignatureError::Mismatch)
        );
        assert_eq!(
            check(
                Some(TIMESTAMP),
                Some(SIGNATURE),
                BODY,
                at(1_531_420_618 + 301)
            ),
            Err(SlackSignatureError::Stale { age_seconds: 301 })
        );
        assert_eq!(
            check(
                Some(TIMESTAMP),
                Some(SIGNATURE),
                BODY,
                at(1_531_420_618 - 301)
            ),
            Err(SlackSignatureError::Stale { age_seconds: -301 })
        );
        for (ts, sig) in [
            (None, Some(SIGNATURE)),
            (Some("-5"), Some(SIGNATURE)),
            (Some(TIMESTAMP), None),
            (
                Some(TIMESTAMP),
                Some("v1=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"),
            ),
            (Some(TIMESTAMP), Some("v0=zz")),
        ] {
            assert!(
                matches!(
                    check(ts, sig, BODY, now),
                    Err(SlackSignatureError::Malformed(_))
                ),
                "{ts:?} {sig:?}"
            );
        }
    }
}
