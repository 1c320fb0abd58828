//! What a notification says, independent of the channel that carries it.

use serde::{Deserialize, Serialize};

/// One notification: a page, a bundle of pages, or a plain notice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Idempotency key. Sent as `Idempotency-Key` on webhooks, `X-Fireline-Key` on
    /// e-mail and `key` in the webhook JSON, so a receiver can drop a retried delivery.
    pub key: String,
    /// One line saying what this is: `Paged: [SEV1] Checkout 5xx`, `3 pages for you`.
    pub headline: String,
    /// The incidents concerned: one for a page, several for a bundled burst, none for a
    /// plain notice.
    pub items: Vec<Item>,
    /// Free text: hand-off notes, an escalation reason, "repeats ran out".
    pub text: Option<String>,
    /// A page a person must wake up for (a paging severity's page, an escalation,
    /// escalation run out): channels that can ring loudly do (ntfy `urgent`, Pushover
    /// emergency, Web Push `Urgency: high`); reminders and notices are not urgent.
    #[serde(default)]
    pub urgent: bool,
    /// For a test page (no incident): the link that confirms it reached the person. A
    /// call asks for a key press that posts to it; other channels carry it in `text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_url: Option<String>,
    /// For a status page subscriber: the link that unsubscribes them. E-mail carries it
    /// in the body and as RFC 8058 one-click `List-Unsubscribe` headers; webhooks as
    /// `unsubscribe_url` in the JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe_url: Option<String>,
}

/// One incident within a [`Message`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Incident id, e.g. `INC-12`.
    pub incident: String,
    /// Incident title.
    pub title: String,
    /// Severity name, e.g. `SEV1`.
    pub severity: String,
    /// Affected service.
    pub service: String,
    /// Incident status, e.g. `triggered`.
    pub status: String,
    /// Why the recipient hears of it: "declared SEV1", "escalation level 2: …".
    pub reason: Option<String>,
    /// Link to the incident's page in the web UI (`/ui/incidents/INC-12`).
    pub incident_url: Option<String>,
    /// Link to the runbook.
    pub runbook_url: Option<String>,
    /// Link that acknowledges the incident.
    pub ack_url: Option<String>,
}
