//! Delivers one notification over one channel: a Slack-compatible incoming webhook,
//! SMTP e-mail, a generic webhook signed with HMAC-SHA256, an ntfy topic, Pushover, a
//! text message or phone call through Twilio, or a team chat channel: Slack through its
//! Web API with a bot token, Mattermost and Rocket.Chat incoming webhooks, a Microsoft
//! Teams Workflows webhook (an Adaptive Card), a Discord webhook, or a Matrix room.
//!
//! Each chat destination gets its provider's documented payload, with user text
//! escaped for its format (Slack mrkdwn, Markdown, HTML) so a title cannot make links or
//! mentions, and cut to the provider's limits rather than refused.
//!
//! Blocking by design: the engine calls [`Notifier::send`] inside `spawn_blocking`, so
//! this crate needs no runtime. `now` is an argument, as everywhere in Fireline: it
//! stamps the webhook signature and the e-mail `Date`.
//!
//! **Destinations:** HTTP requests go to public addresses only, checked on the resolved
//! address at connection time, unless the configuration allows more ([`outbound`]).
//!
//! That includes the Mattermost, Rocket.Chat, Teams and Discord webhook URLs and the
//! Matrix homeserver, which come from the roster. The provider APIs the admin
//! configures (Pushover's, Twilio's, Slack's Web API) are not checked, as the SMTP relay
//! is not.
//!
//! **Secrets:** Slack webhook URLs, generic webhook URLs (which may carry tokens), ntfy
//! topic URLs and tokens, signing secrets, Pushover tokens and user keys, Twilio auth
//! tokens, Slack bot tokens, chat webhook URLs and Matrix access tokens never appear in
//! logs, errors or `Debug` output; only the host does. Phone numbers show their last
//! four digits only.

mod chat;
mod discord;
mod email;
mod http;
mod matrix;
mod mattermost;
mod mattermost_app;
mod message;
mod ntfy;
pub mod outbound;
mod pushover;
mod slack;
mod slack_api;
mod slack_app;
mod teams;
mod twilio;
mod webhook;
pub mod webpush;

use std::fmt;
use std::time::{Duration, SystemTime};

use lettre::Transport;

pub use chat::{escape_html, escape_markdown};
pub use discord::discord_payload;
pub use email::{email, SmtpConfig, SmtpTls};
pub use matrix::{matrix_content, matrix_txn_id};
pub use mattermost::{mattermost_payload, rocketchat_payload};
pub use mattermost_app::{
    MattermostAction, MattermostActionKey, MattermostButtons, MattermostContextError,
};
pub use message::{Item, Message};
pub use outbound::{check_literal, Allow, AllowError, Category, Refused};
pub use pushover::{
    PushoverConfig, EMERGENCY_EXPIRE_SECONDS, EMERGENCY_RETRY_SECONDS, PUSHOVER_API_URL,
};
pub use slack::{escape_mrkdwn, slack_payload};
pub use slack_api::{slack_api_payload, SlackApiConfig, SLACK_API_URL};
pub use slack_app::{
    slack_signature, verify_slack_signature, SlackResponder, SlackSignatureError, SlackWebApi,
    SLACK_ACKNOWLEDGE, SLACK_ESCALATE, SLACK_NOTE, SLACK_REPLAY_WINDOW, SLACK_RESOLVE,
    SLACK_SIGNATURE_HEADER, SLACK_TIMESTAMP_HEADER,
};
pub use teams::teams_payload;
pub use twilio::{
    sms_body, twilio_signature, verify_twilio_signature, voice_twiml, TwilioConfig, TWILIO_API_URL,
    TWILIO_SIGNATURE_HEADER,
};
pub use webhook::{sign, verify, webhook_body, SignatureError, SIGNATURE_HEADER, TIMESTAMP_HEADER};

/// Where one notification goes.
#[derive(Clone, PartialEq, Eq)]
pub enum Destination {
    /// A Slack (or Mattermost, Rocket.Chat, …) incoming-webhook URL. The URL is the
    /// credential.
    Slack {
        /// The webhook URL.
        url: String,
    },
    /// One e-mail address, sent through the configured SMTP relay.
    Email {
        /// Recipient, `oncall@example.com` or `Name <oncall@example.com>`.
        to: String,
    },
    /// A generic JSON webhook, signed when a secret is set.
    Webhook {
        /// Where to POST.
        url: String,
        /// HMAC-SHA256 key for [`SIGNATURE_HEADER`]; unsigned when `None`.
        secret: Option<String>,
    },
    /// An ntfy topic (`https://ntfy.sh/alice-pages`, or on a self-hosted server). The
    /// topic name is as good as a password.
    Ntfy {
        /// The topic's URL.
        url: String,
        /// An access token for a protected topic, sent as `Authorization: Bearer`.
        token: Option<String>,
    },
    /// A Pushover user or group key; the application token is the server's
    /// ([`PushoverConfig`], through [`Notifier::with_providers`]).
    Pushover {
        /// The user or group key.
        user: String,
    },
    /// A mobile number, texted through Twilio ([`TwilioConfig`]).
    Sms {
        /// The number in E.164 form, `+15551234567`.
        to: String,
    },
    /// A phone number, called through Twilio ([`TwilioConfig`]).
    Voice {
        /// The number in E.164 form, `+15551234567`.
        to: String,
    },
    /// Slack Web API `chat.postMessage` with a bot token, at the server's Slack API
    /// ([`SlackApiConfig`], the public one unless configured).
    SlackBot {
        /// A channel id like `C0123ABC`, or a channel name.
        channel: String,
        /// The app's bot token (`xoxb-…`), sent as `Authorization: Bearer`.
        token: String,
    },
    /// A Mattermost incoming webhook: Markdown `text` and `attachments`. The URL is the
    /// credential.
    Mattermost {
        /// The webhook URL (`https://chat.example.com/hooks/…`).
        url: String,
    },
    /// A Rocket.Chat incoming webhook: `text` and `attachments`. The URL is the
    /// credential.
    RocketChat {
        /// The webhook URL (`https://chat.example.com/hooks/…/…`).
        url: String,
    },
    /// A Microsoft Teams Workflows webhook ("Post to a channel when a webhook request
    /// is received"), sent a message with one Adaptive Card. The URL (with its `sig`)
    /// is the credential.
    Teams {
        /// The workflow's HTTP trigger URL.
        url: String,
    },
    /// A Discord channel webhook: `content` and `embeds`, mentioning no one. The URL is
    /// the credential.
    Discord {
        /// The webhook URL (`https://discord.com/api/webhooks/…/…`).
        url: String,
    },
    /// A Matrix room, posted to through the client-server API with an access token.
    Matrix {
        /// The homeserver's base URL, `https://matrix.example.org`.
        homeserver: String,
        /// The room id, `!abc123:example.org`.
        room: String,
        /// The posting user's access token, sent as `Authorization: Bearer`.
        token: String,
    },
}

// By hand so that logging a destination cannot leak a webhook URL or secret.
impl fmt::Debug for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::Slack { url } => f
                .debug_struct("Slack")
                .field("host", &http::url_host(url))
                .finish_non_exhaustive(),
            Destination::Email { to } => f.debug_struct("Email").field("to", to).finish(),
            Destination::Webhook { url, secret } => f
                .debug_struct("Webhook")
                .field("host", &http::url_host(url))
                .field("signed", &secret.is_some())
                .finish_non_exhaustive(),
            Destination::Ntfy { url, token } => f
                .debug_struct("Ntfy")
                .field("host", &http::url_host(url))
                .field("token", &token.is_some())
                .finish_non_exhaustive(),
            Destination::Pushover { .. } => f.debug_struct("Pushover").finish_non_exhaustive(),
            Destination::Sms { to } => f
                .debug_struct("Sms")
                .field("to", &twilio::last_four(to))
                .finish(),
            Destination::Voice { to } => f
                .debug_struct("Voice")
                .field("to", &twilio::last_four(to))
                .finish(),
            // The channel is a name or id anyone in the workspace sees; the token is not.
            Destination::SlackBot { channel, .. } => f
                .debug_struct("SlackBot")
                .field("channel", channel)
                .finish_non_exhaustive(),
            Destination::Mattermost { url } => host_only(f, "Mattermost", url),
            Destination::RocketChat { url } => host_only(f, "RocketChat", url),
            Destination::Teams { url } => host_only(f, "Teams", url),
            Destination::Discord { url } => host_only(f, "Discord", url),
            Destination::Matrix { homeserver, .. } => f
                .debug_struct("Matrix")
                .field("homeserver", &http::url_host(homeserver))
                .finish_non_exhaustive(),
        }
    }
}

/// `Name { host, .. }` for a destination whose whole URL is a credential.
fn host_only(f: &mut fmt::Formatter<'_>, name: &str, url: &str) -> fmt::Result {
    f.debug_struct(name)
        .field("host", &http::url_host(url))
        .finish_non_exhaustive()
}

/// The SaaS providers the server has accounts with: all optional. A Pushover or Twilio
/// destination whose provider is missing fails permanently, saying what to configure;
/// Slack bot destinations use the public Slack API unless `slack` says otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Providers {
    /// Pushover, for [`Destination::Pushover`].
    pub pushover: Option<PushoverConfig>,
    /// Twilio, for [`Destination::Sms`] and [`Destination::Voice`].
    pub twilio: Option<TwilioConfig>,
    /// Slack's Web API, for [`Destination::SlackBot`]; `None` is [`SLACK_API_URL`].
    pub slack: Option<SlackApiConfig>,
    /// Where Mattermost sends clicks on fireline's buttons, for
    /// [`Destination::Mattermost`]: with it, messages carry Acknowledge, Resolve and
    /// Escalate buttons; `None` (the server does not answer them), links only.
    pub mattermost: Option<MattermostButtons>,
}

/// This server's Web Push identity ([`Notifier::with_web_push`]).
#[derive(Debug, Clone)]
pub struct WebPushConfig {
    /// The VAPID key pair browsers subscribe with.
    pub key: webpush::VapidKey,
    /// The contact push services may write to about this server: a `mailto:` address or
    /// an `https:` URL (RFC 8292 §2.1).
    pub subject: String,
}

/// How long a push service keeps a message for a device that is offline: a page still
/// matters after a phone was out of signal for a while, not after a day.
pub const PUSH_TTL_SECONDS: u32 = 4 * 60 * 60;

/// Why a push to one device failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// The push service no longer knows the subscription (HTTP 404 or 410): the device
    /// unsubscribed or its subscription expired. Stop using it; never retry.
    #[error("{0}")]
    Gone(String),
    /// Any other failure, classified as for every channel.
    #[error(transparent)]
    Failed(#[from] DeliveryError),
}

/// A successful delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// What the peer answered: `HTTP 200`, `250 OK queued as …`.
    pub detail: String,
    /// What the far end calls the message, where it can be edited later (Slack:
    /// `C0123ABC/1503435956.000247`, its channel and `ts`).
    pub reference: Option<String>,
}

/// A failed delivery, classified by whether trying again may help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// May succeed later: connection errors, timeouts, HTTP 5xx, 408 and 429, SMTP 4xx.
    #[error("temporary delivery failure: {0}")]
    Transient(String),
    /// Will fail again until someone changes something: other HTTP 4xx (and 3xx, as
    /// redirects are not followed), SMTP 5xx, e-mail without SMTP configured, a malformed
    /// address or URL, a destination [`outbound`] refuses.
    #[error("permanent delivery failure: {0}")]
    Permanent(String),
}

impl DeliveryError {
    /// Whether a retry may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, DeliveryError::Transient(_))
    }

    /// The description without the classification.
    pub fn detail(&self) -> &str {
        match self {
            DeliveryError::Transient(detail) | DeliveryError::Permanent(detail) => detail,
        }
    }
}

/// Settings the [`Notifier`] refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The SMTP host is empty.
    #[error("SMTP host is empty")]
    EmptySmtpHost,
    /// A timeout of zero would fail every delivery.
    #[error("timeout must be greater than zero")]
    ZeroTimeout,
    /// The SMTP sender does not parse as an address.
    #[error("invalid SMTP sender address {from:?}: {reason}")]
    InvalidFrom {
        /// The configured sender.
        from: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Only one of SMTP username and password is set.
    #[error("SMTP username and password must be set together")]
    IncompleteCredentials,
    /// Not one of `none`, `starttls`, `tls`.
    #[error("unknown SMTP TLS mode {0:?} (expected none, starttls or tls)")]
    UnknownTls(String),
    /// The TLS client for SMTP could not be set up.
    #[error("SMTP TLS setup failed: {0}")]
    Tls(String),
    /// A provider's setting is empty (`[twilio] auth_token`).
    #[error("[{provider}] {setting} is empty")]
    EmptyProviderSetting {
        /// `pushover` or `twilio`.
        provider: &'static str,
        /// The setting.
        setting: &'static str,
    },
    /// A provider's setting does not have the shape it must have.
    #[error("[{provider}] {setting}: {reason}")]
    InvalidProviderSetting {
        /// `pushover` or `twilio`.
        provider: &'static str,
        /// The setting.
        setting: &'static str,
        /// What is wrong with it (never the value of a credential).
        reason: String,
    },
}

/// Sends notifications. Cheap to share (`Send + Sync`); build one at start-up.
///
/// HTTP requests refuse loopback, link-local, private and other internal addresses
/// (see [`outbound`]) unless [`Notifier::with_outbound`] allows them.
pub struct Notifier {
    http: http::Http,
    /// For the admin's provider APIs, which the outbound check does not cover.
    providers_http: http::Http,
    smtp: Option<email::Smtp>,
    providers: Providers,
    web_push: Option<WebPushConfig>,
    timeout: Duration,
}

impl fmt::Debug for Notifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notifier")
            .field("smtp_host", &self.smtp.as_ref().map(|s| s.host.as_str()))
            .field("pushover", &self.providers.pushover.is_some())
            .field("twilio", &self.providers.twilio.is_some())
            .field(
                "slack_api",
                &self.providers.slack.as_ref().map(|s| s.api_url.as_str()),
            )
            .field("mattermost_buttons", &self.providers.mattermost.is_some())
            .field("web_push", &self.web_push.is_some())
            .finish_non_exhaustive()
    }
}

impl Notifier {
    /// A notifier whose HTTP requests each take at most `timeout` in all, and which sends
    /// e-mail through `smtp` if given (e-mail destinations fail permanently otherwise).
    /// Its HTTP requests reach public addresses only, until [`Notifier::with_outbound`].
    pub fn new(smtp: Option<SmtpConfig>, timeout: Duration) -> Result<Notifier, ConfigError> {
        if timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout);
        }
        let smtp = smtp.as_ref().map(email::Smtp::new).transpose()?;
        Ok(Notifier {
            http: http::Http::new(timeout, Allow::nothing()),
            providers_http: http::Http::trusted(timeout),
            smtp,
            providers: Providers::default(),
            web_push: None,
            timeout,
        })
    }

    /// Sends through the SaaS providers in `providers` (Pushover, Twilio, Slack's Web
    /// API), after checking that their settings are complete: no empty token, SID or
    /// sender, and http(s) API URLs. Pushover and Twilio destinations fail permanently
    /// when their provider is left out; Slack bots use [`SLACK_API_URL`].
    pub fn with_providers(self, providers: Providers) -> Result<Notifier, ConfigError> {
        if let Some(p) = &providers.pushover {
            non_empty("pushover", "token", &p.token)?;
            api_url("pushover", &p.api_url)?;
        }
        if let Some(t) = &providers.twilio {
            non_empty("twilio", "account_sid", &t.account_sid)?;
            if !t.account_sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(ConfigError::InvalidProviderSetting {
                    provider: "twilio",
                    setting: "account_sid",
                    reason: "an account SID is letters and digits (AC…)".to_owned(),
                });
            }
            non_empty("twilio", "auth_token", &t.auth_token)?;
            non_empty("twilio", "from", &t.from)?;
            api_url("twilio", &t.api_url)?;
        }
        if let Some(s) = &providers.slack {
            api_url("slack", &s.api_url)?;
        }
        Ok(Notifier { providers, ..self })
    }

    /// Lets HTTP requests to the roster's URLs (Slack, webhooks, ntfy, the chat webhooks
    /// and Matrix homeservers) also reach the
    /// addresses `allow` permits: the configuration's `[outbound] allow`. The SMTP relay
    /// and the provider APIs of [`Notifier::with_providers`] are never checked.
    pub fn with_outbound(self, allow: Allow) -> Notifier {
        Notifier {
            http: http::Http::new(self.timeout, allow),
            ..self
        }
    }

    /// Sends Web Push messages signed with `config`'s VAPID key, after checking its
    /// subject. Without it, [`Notifier::send_push`] fails permanently.
    pub fn with_web_push(self, config: WebPushConfig) -> Result<Notifier, ConfigError> {
        // Checked now, so a bad subject is refused at start-up rather than at 3 a.m.
        webpush::check_subject(&config.subject).map_err(|e| {
            ConfigError::InvalidProviderSetting {
                provider: "web_push",
                setting: "subject",
                reason: e.to_string(),
            }
        })?;
        Ok(Notifier {
            web_push: Some(config),
            ..self
        })
    }

    /// The VAPID public key browsers subscribe with, once Web Push is set up.
    pub fn web_push_public_key(&self) -> Option<String> {
        self.web_push.as_ref().map(|c| c.key.public_key())
    }

    /// Pushes `message` to one subscribed browser once: encrypted for it (RFC 8291),
    /// signed with the server's VAPID key, `Urgency: high` when the message is
    /// [urgent](Message::urgent), `Topic` the incident (a newer push for the same
    /// incident replaces one a sleeping phone has not fetched yet). The endpoint is
    /// checked against the outbound rules like any URL from outside.
    pub fn send_push(
        &self,
        subscription: &webpush::Subscription,
        message: &Message,
        now: jiff::Timestamp,
    ) -> Result<Delivered, PushError> {
        let config = self.web_push.as_ref().ok_or_else(|| {
            DeliveryError::Permanent("Web Push is not set up on this server".to_owned())
        })?;
        let topic = message
            .items
            .first()
            .map(|i| i.incident.as_str())
            .filter(|t| webpush::check_topic(t).is_ok());
        let request = webpush::request(
            &config.key,
            &config.subject,
            subscription,
            &webpush::notification_payload(message),
            webpush::Urgency::of(message),
            PUSH_TTL_SECONDS,
            topic,
            now,
        )
        .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
        let headers: Vec<(&str, String)> = request
            .headers
            .into_iter()
            .filter(|(name, _)| *name != "Content-Type")
            .collect();
        let answer = self
            .http
            .send_status(&http::Post {
                channel: "push",
                method: http::Method::Post,
                url: &request.url,
                content_type: "application/octet-stream",
                headers: &headers,
                basic_auth: None,
                body: request.body,
                error_text: |_| None,
            })
            .map_err(|(status, error)| match status.map(webpush::classify) {
                Some(Err(webpush::Refusal::Gone(_))) => PushError::Gone(error.detail().to_owned()),
                _ => PushError::Failed(error),
            })?;
        Ok(Delivered {
            detail: format!("HTTP {}", answer.status),
            reference: None,
        })
    }

    /// Delivers `message` to `destination` once; retrying is the caller's decision,
    /// guided by [`DeliveryError::is_transient`]. `now` stamps the signature and the
    /// e-mail's `Date`.
    pub fn send(
        &self,
        destination: &Destination,
        message: &Message,
        now: jiff::Timestamp,
    ) -> Result<Delivered, DeliveryError> {
        match destination {
            Destination::Slack { url } => {
                let body = slack_payload(message).to_string();
                self.http.post("slack", url, &[], body)
            }
            Destination::Webhook { url, secret } => {
                let body = webhook_body(message);
                let mut headers = vec![("Idempotency-Key", header_value(&message.key)?)];
                if let Some(secret) = secret {
                    if secret.is_empty() {
                        return Err(DeliveryError::Permanent(
                            "webhook secret is empty; remove it or set one".to_owned(),
                        ));
                    }
                    let timestamp = now.as_second();
                    headers.push((SIGNATURE_HEADER, sign(secret, timestamp, body.as_bytes())));
                    headers.push((TIMESTAMP_HEADER, timestamp.to_string()));
                }
                self.http.post("webhook", url, &headers, body)
            }
            Destination::Email { to } => self.send_email(to, message, now),
            Destination::Ntfy { url, token } => {
                ntfy::send(&self.http, url, token.as_deref(), message)
            }
            Destination::Pushover { user } => {
                let config = self.providers.pushover.as_ref().ok_or_else(|| {
                    DeliveryError::Permanent(
                        "Pushover is not configured: set [pushover] token \
                         (or FIRELINE_PUSHOVER_TOKEN)"
                            .to_owned(),
                    )
                })?;
                pushover::send(&self.providers_http, config, user, message)
            }
            Destination::Sms { to } => {
                let config = self.twilio("SMS is")?;
                twilio::send(&self.providers_http, config, twilio::Kind::Sms, to, message)
            }
            Destination::Voice { to } => {
                let config = self.twilio("voice calls are")?;
                twilio::send(
                    &self.providers_http,
                    config,
                    twilio::Kind::Voice,
                    to,
                    message,
                )
            }
            Destination::SlackBot { channel, token } => {
                let public = SlackApiConfig::default();
                let config = self.providers.slack.as_ref().unwrap_or(&public);
                slack_api::send(&self.providers_http, config, channel, token, message)
            }
            Destination::Mattermost { url } => mattermost::send(
                &self.http,
                mattermost::Flavor::Mattermost,
                url,
                message,
                self.providers.mattermost.as_ref(),
            ),
            Destination::RocketChat { url } => mattermost::send(
                &self.http,
                mattermost::Flavor::RocketChat,
                url,
                message,
                None,
            ),
            Destination::Teams { url } => teams::send(&self.http, url, message),
            Destination::Discord { url } => discord::send(&self.http, url, message),
            Destination::Matrix {
                homeserver,
                room,
                token,
            } => matrix::send(&self.http, homeserver, room, token, message),
        }
    }

    /// Edits the Slack message `reference` (`channel/ts`) posted with bot `token` to say
    /// `message` instead (`chat.update`); blocking, like [`Notifier::send`].
    pub fn update_slack_message(
        &self,
        reference: &str,
        token: &str,
        message: &Message,
    ) -> Result<Delivered, DeliveryError> {
        let public = SlackApiConfig::default();
        let config = self.providers.slack.as_ref().unwrap_or(&public);
        slack_api::update(&self.providers_http, config, reference, token, message)
    }

    /// Invites `members` (Slack member ids) into channel `id` with bot `token`: best
    /// effort, failures logged. Blocking.
    pub fn invite_to_slack_channel(&self, id: &str, token: &str, members: &[String]) {
        let public = SlackApiConfig::default();
        let config = self.providers.slack.as_ref().unwrap_or(&public);
        slack_api::invite_members(&self.providers_http, config, id, token, members);
    }

    /// Opens an incident's own Slack channel `name` with the bot `token` and invites
    /// `invite` (member ids) into it: its id, or `None` when it already existed. Once
    /// per incident, before the first post to it; blocking, like [`Notifier::send`].
    pub fn open_slack_channel(
        &self,
        name: &str,
        token: &str,
        invite: &[String],
    ) -> Result<Option<String>, DeliveryError> {
        let public = SlackApiConfig::default();
        let config = self.providers.slack.as_ref().unwrap_or(&public);
        slack_api::open_channel(&self.providers_http, config, name, token, invite)
    }

    /// The Twilio account, or why `what_is` ("SMS is") cannot be sent without one.
    fn twilio(&self, what_is: &str) -> Result<&TwilioConfig, DeliveryError> {
        self.providers.twilio.as_ref().ok_or_else(|| {
            DeliveryError::Permanent(format!(
                "{what_is} not configured: set [twilio] account_sid, auth_token and from \
                 (or FIRELINE_TWILIO_ACCOUNT_SID, _AUTH_TOKEN, _FROM)"
            ))
        })
    }

    fn send_email(
        &self,
        to: &str,
        message: &Message,
        now: jiff::Timestamp,
    ) -> Result<Delivered, DeliveryError> {
        let smtp = self.smtp.as_ref().ok_or_else(|| {
            DeliveryError::Permanent("e-mail is not configured (no SMTP settings)".to_owned())
        })?;
        let mut mail = email(message, &smtp.from, to)?;
        mail.headers_mut()
            .set(lettre::message::header::Date::new(SystemTime::from(now)));
        let response = smtp
            .transport
            .send(&mail)
            .map_err(|e| email::classify(&smtp.host, &e))?;
        let text = response.message().collect::<Vec<_>>().join(" ");
        tracing::debug!(channel = "email", host = %smtp.host, "notification delivered");
        Ok(Delivered {
            detail: format!("{} {text}", response.code()).trim_end().to_owned(),
            reference: None,
        })
    }
}

fn non_empty(
    provider: &'static str,
    setting: &'static str,
    value: &str,
) -> Result<(), ConfigError> {
    if value.trim().is_empty() {
        return Err(ConfigError::EmptyProviderSetting { provider, setting });
    }
    Ok(())
}

fn api_url(provider: &'static str, url: &str) -> Result<(), ConfigError> {
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    if !matches!(scheme.as_deref(), Some("http" | "https")) || http::url_host(url).is_empty() {
        return Err(ConfigError::InvalidProviderSetting {
            provider,
            setting: "api_url",
            reason: format!("{url:?} is not an http(s) URL"),
        });
    }
    Ok(())
}

/// `error` with each of `secrets` (credentials a provider might quote back) replaced by
/// `…`.
pub(crate) fn redacted(error: DeliveryError, secrets: &[&str]) -> DeliveryError {
    let hide = |text: String| {
        secrets
            .iter()
            .filter(|s| s.len() >= 4)
            .fold(text, |text, secret| text.replace(secret, "…"))
    };
    match error {
        DeliveryError::Transient(detail) => DeliveryError::Transient(hide(detail)),
        DeliveryError::Permanent(detail) => DeliveryError::Permanent(hide(detail)),
    }
}

/// The idempotency key goes into an HTTP header, which takes visible ASCII only.
fn header_value(key: &str) -> Result<String, DeliveryError> {
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        return Err(DeliveryError::Permanent(format!(
            "idempotency key {key:?} is not a valid header value"
        )));
    }
    Ok(key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifier_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Notifier>();
    }

    #[test]
    fn debug_never_shows_urls_or_secrets() {
        let slack = Destination::Slack {
            url: "https://hooks.slack.com/services/T000/B000/XXXXSECRET".into(),
        };
        let hook = Destination::Webhook {
            url: "https://user:pw@hooks.example.com/in?token=abc".into(),
            secret: Some("s3cret".into()),
        };
        let text = format!("{slack:?} {hook:?}");
        assert!(text.contains("hooks.slack.com"), "{text}");
        assert!(text.contains("hooks.example.com"), "{text}");
        for secret in ["XXXXSECRET", "services", "token", "pw", "s3cret"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }

    #[test]
    fn debug_of_the_new_destinations_hides_topics_keys_and_numbers() {
        let text = format!(
            "{:?} {:?} {:?} {:?}",
            Destination::Ntfy {
                url: "https://ntfy.example/alice-pages-s3cr3t".into(),
                token: Some("tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2".into()),
            },
            Destination::Pushover {
                user: "uQiRzpo4DXghDmr9QzzfQu27cmVRsG".into(),
            },
            Destination::Sms {
                to: "+15551234567".into(),
            },
            Destination::Voice {
                to: "+15557654321".into(),
            },
        );
        assert!(text.contains("ntfy.example"), "{text}");
        assert!(text.contains("…4567") && text.contains("…4321"), "{text}");
        for secret in ["alice-pages", "tk_Ag", "uQiRzpo4", "555123", "555765"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }

    #[test]
    fn debug_of_the_chat_destinations_shows_hosts_only() {
        let text = format!(
            "{:?} {:?} {:?} {:?} {:?} {:?}",
            Destination::SlackBot {
                channel: "C0123ABC".into(),
                token: "xoxb-1234-5678-SLACKSECRET".into(),
            },
            Destination::Mattermost {
                url: "https://mm.example/hooks/mmsecrettoken123".into(),
            },
            Destination::RocketChat {
                url: "https://rc.example/hooks/rcid/rcsecrettoken".into(),
            },
            Destination::Teams {
                url: "https://prod-1.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=TEAMSSIG".into(),
            },
            Destination::Discord {
                url: "https://discord.com/api/webhooks/123/DISCORDTOKEN".into(),
            },
            Destination::Matrix {
                homeserver: "https://matrix.example.org".into(),
                room: "!room:example.org".into(),
                token: "syt_MATRIXTOKEN".into(),
            },
        );
        for host in [
            "C0123ABC",
            "mm.example",
            "rc.example",
            "prod-1.westus.logic.azure.com",
            "discord.com",
            "matrix.example.org",
        ] {
            assert!(text.contains(host), "{host} not in {text}");
        }
        for secret in [
            "SLACKSECRET",
            "mmsecret",
            "rcsecret",
            "TEAMSSIG",
            "workflows",
            "DISCORDTOKEN",
            "MATRIXTOKEN",
            "hooks",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }

    #[test]
    fn the_slack_api_url_is_checked_and_defaults_to_slacks() {
        let notifier = || Notifier::new(None, Duration::from_secs(1)).expect("notifier");
        let bad = notifier().with_providers(Providers {
            slack: Some(SlackApiConfig {
                api_url: "slack.com/api".into(),
                interactive: false,
            }),
            ..Providers::default()
        });
        let error = bad.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("[slack] api_url"), "{error}");
        assert_eq!(SlackApiConfig::default().api_url, SLACK_API_URL);
        assert_eq!(SLACK_API_URL, "https://slack.com/api");
    }

    #[test]
    fn provider_settings_are_checked() {
        let notifier = || Notifier::new(None, Duration::from_secs(1)).expect("notifier");
        let twilio = TwilioConfig {
            account_sid: "AC123".into(),
            auth_token: "secret-token".into(),
            from: "+15005550006".into(),
            api_url: TWILIO_API_URL.into(),
        };
        let with = |pushover: Option<PushoverConfig>, twilio: Option<TwilioConfig>| {
            notifier()
                .with_providers(Providers {
                    pushover,
                    twilio,
                    slack: None,
                    mattermost: None,
                })
                .err()
        };
        assert_eq!(
            with(Some(PushoverConfig::new("t")), Some(twilio.clone())),
            None
        );
        assert_eq!(
            with(Some(PushoverConfig::new(" ")), None),
            Some(ConfigError::EmptyProviderSetting {
                provider: "pushover",
                setting: "token"
            })
        );
        let no_token = TwilioConfig {
            auth_token: String::new(),
            ..twilio.clone()
        };
        assert_eq!(
            with(None, Some(no_token)),
            Some(ConfigError::EmptyProviderSetting {
                provider: "twilio",
                setting: "auth_token"
            })
        );
        let bad_url = TwilioConfig {
            api_url: "api.twilio.com".into(),
            ..twilio.clone()
        };
        let error = with(None, Some(bad_url))
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("[twilio] api_url"), "{error}");
        let bad_sid = TwilioConfig {
            account_sid: "AC/../x".into(),
            ..twilio
        };
        assert!(matches!(
            with(None, Some(bad_sid)),
            Some(ConfigError::InvalidProviderSetting { .. })
        ));
        let shown = format!("{:?}", notifier().with_providers(Providers::default()));
        assert!(shown.contains("twilio: false"), "{shown}");
    }

    #[test]
    fn email_without_smtp_is_permanent() {
        let notifier = Notifier::new(None, Duration::from_secs(1));
        let Ok(notifier) = notifier else {
            panic!("{notifier:?}");
        };
        let result = notifier.send(
            &Destination::Email {
                to: "oncall@example.com".into(),
            },
            &Message::default(),
            jiff::Timestamp::UNIX_EPOCH,
        );
        assert!(
            matches!(result, Err(DeliveryError::Permanent(_))),
            "{result:?}"
        );
    }

    #[test]
    fn config_is_checked() {
        let config = SmtpConfig {
            host: "smtp.example.com".into(),
            port: 587,
            tls: SmtpTls::StartTls,
            username: Some("u".into()),
            password: None,
            from: "ops@example.com".into(),
            timeout: Duration::from_secs(5),
        };
        let notifier =
            |config: &SmtpConfig| Notifier::new(Some(config.clone()), Duration::from_secs(1)).err();
        assert_eq!(notifier(&config), Some(ConfigError::IncompleteCredentials));
        let ok = SmtpConfig {
            password: Some("p".into()),
            ..config.clone()
        };
        assert_eq!(notifier(&ok), None);
        let bad_from = SmtpConfig {
            from: "fireline".into(),
            ..ok.clone()
        };
        assert!(matches!(
            notifier(&bad_from),
            Some(ConfigError::InvalidFrom { .. })
        ));
        let no_host = SmtpConfig {
            host: " ".into(),
            ..ok.clone()
        };
        assert_eq!(notifier(&no_host), Some(ConfigError::EmptySmtpHost));
        let implicit_tls = SmtpConfig {
            tls: SmtpTls::Tls,
            port: 465,
            ..ok.clone()
        };
        assert_eq!(notifier(&implicit_tls), None);
        assert_eq!(
            Notifier::new(None, Duration::ZERO).err(),
            Some(ConfigError::ZeroTimeout)
        );
    }

    #[test]
    fn idempotency_key_must_fit_a_header() {
        assert!(header_value("c0:page:INC-12").is_ok());
        assert!(header_value("").is_err());
        assert!(header_value("a\r\nX-Evil: 1").is_err());
        assert!(header_value("clé").is_err());
    }
}
