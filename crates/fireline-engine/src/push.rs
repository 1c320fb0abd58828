//! Web Push delivery: one message to every device a person subscribed.
//!
//! A person's `push` contact stands for all their devices ([`crate::paging`] adds it to
//! the roster). Each device gets the message; it is delivered when at least one push
//! service accepted it. A device its push service no longer knows (404, 410) is taken
//! out of use with the reason, which its owner sees on the "On call" page, and is never
//! tried again; when no device is left the delivery fails like any unreachable contact,
//! so the page escalates.

use fireline_notify::webpush::{Endpoints, Subscription, VapidKey};
use fireline_notify::{Delivered, DeliveryError, Message, Notifier, PushError};
use fireline_store::Store;
use jiff::Timestamp;
use std::sync::Arc;

/// Pushes `message` to each of `person`'s devices in use.
pub(crate) async fn send(
    store: &Arc<dyn Store>,
    notifier: &Arc<Notifier>,
    now: Timestamp,
    person: &str,
    message: &Message,
) -> Result<Delivered, DeliveryError> {
    let devices = store
        .push_devices(Some(person))
        .await
        .map_err(|e| DeliveryError::Transient(format!("reading push devices: {e}")))?;
    let devices: Vec<_> = devices
        .into_iter()
        .filter(|d| d.removed.is_none())
        .collect();
    if devices.is_empty() {
        return Err(DeliveryError::Permanent(
            "no device is subscribed to pages any more; subscribe one on the web UI's \
             On call page"
                .to_owned(),
        ));
    }
    let mut reached = Vec::new();
    let mut failures = Vec::new();
    let mut transient = false;
    for device in devices {
        // Subscriptions were checked when they were accepted; http: endpoints among them
        // exist only where the configuration allowed them.
        let subscription = match Subscription::parse(&device.subscription, Endpoints::AllowHttp) {
            Ok(s) => s,
            Err(e) => {
                forget(
                    store,
                    &device.id,
                    now,
                    &format!("unusable subscription: {e}"),
                )
                .await;
                failures.push(format!("{}: {e}", device.label));
                continue;
            }
        };
        let notifier = Arc::clone(notifier);
        let message = message.clone();
        let sent =
            tokio::task::spawn_blocking(move || notifier.send_push(&subscription, &message, now))
                .await
                .unwrap_or_else(|e| {
                    Err(PushError::Failed(DeliveryError::Transient(format!(
                        "sender crashed: {e}"
                    ))))
                });
        match sent {
            Ok(_) => reached.push(device.label),
            Err(PushError::Gone(detail)) => {
                tracing::warn!(person, device = %device.label, "push device gone; no longer used");
                forget(
                    store,
                    &device.id,
                    now,
                    &format!("its push service no longer knows it ({detail})"),
                )
                .await;
                failures.push(format!("{}: gone", device.label));
            }
            Err(PushError::Failed(e)) => {
                transient |= e.is_transient();
                failures.push(format!("{}: {}", device.label, e.detail()));
            }
        }
    }
    if !reached.is_empty() {
        let mut detail = format!("pushed to {}", reached.join(", "));
        if !failures.is_empty() {
            detail.push_str(&format!(" (not to {})", failures.join("; ")));
        }
        return Ok(Delivered {
            detail,
            reference: None,
        });
    }
    let detail = format!("no device took the push: {}", failures.join("; "));
    Err(if transient {
        DeliveryError::Transient(detail)
    } else {
        DeliveryError::Permanent(detail)
    })
}

/// Takes a device out of use. A store error here only means it is tried (and found
/// gone) again next time.
async fn forget(store: &Arc<dyn Store>, id: &str, now: Timestamp, reason: &str) {
    if let Err(e) = store.remove_push_device(id, now, reason).await {
        tracing::warn!(error = %e, "could not mark a push device removed");
    }
}

/// The name of the setting that holds the server's VAPID private key, shared by every
/// replica: browsers subscribe with its public half, so it must never change by itself.
pub const VAPID_KEY_SETTING: &str = "web_push_vapid_key";

/// The server's VAPID key pair: made at first start and kept in the database, like the
/// acknowledge-link key.
pub async fn vapid_key(store: &dyn Store) -> Result<VapidKey, fireline_store::StoreError> {
    let fresh = VapidKey::generate()
        .map_err(|e| fireline_store::StoreError::Corrupt(format!("no VAPID key: {e}")))?;
    let stored = store
        .setting_or_init(VAPID_KEY_SETTING, &fresh.private_key())
        .await?;
    VapidKey::from_private_key(&stored).map_err(|e| {
        fireline_store::StoreError::Corrupt(format!("setting {VAPID_KEY_SETTING}: {e}"))
    })
}

/// The contact push services are given for this server (RFC 8292's `sub`): the public
/// URL's origin where it is `https:`, else a `mailto:` address at its host.
pub fn vapid_subject(public_url: &str) -> String {
    let rest = public_url.split_once("://").map_or(public_url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if public_url.to_ascii_lowercase().starts_with("https://") && !authority.is_empty() {
        format!("https://{authority}")
    } else {
        let host = authority.rsplit('@').next().unwrap_or_default();
        let host = host
            .split(':')
            .next()
            .filter(|h| !h.is_empty())
            .unwrap_or("localhost");
        format!("mailto:fireline@{host}")
    }
}

#[cfg(test)]
mod tests {
    use super::vapid_subject;

    #[test]
    fn the_vapid_subject_is_the_public_origin_or_a_mailbox_at_its_host() {
        assert_eq!(
            vapid_subject("https://fireline.example.com/base/"),
            "https://fireline.example.com"
        );
        assert_eq!(
            vapid_subject("http://127.0.0.1:8080"),
            "mailto:fireline@127.0.0.1"
        );
        assert_eq!(
            vapid_subject("http://localhost:8080/"),
            "mailto:fireline@localhost"
        );
    }
}
