//! What fireline's Mattermost buttons need: the signed `context` each one carries.
//!
//! Mattermost sends a click on an interactive message button to the button's
//! `integration.url` as JSON, with the `context` the button was posted with
//! (<https://developers.mattermost.com/integrate/plugins/interactive-messages/>), and
//! does not sign the request. So the context carries its own proof: an HMAC-SHA256 of
//! the incident and the action under a key only fireline has, derived from the slash
//! command's token. A context someone made up, or one whose incident or action was
//! changed, does not verify, and the click is refused.

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

/// What a Mattermost button does; its name in the button's `context` and its `id`
/// (letters only: Mattermost's action ids take no punctuation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MattermostAction {
    /// Acknowledge the incident.
    Acknowledge,
    /// Resolve it.
    Resolve,
    /// Page the next escalation level now.
    Escalate,
}

impl MattermostAction {
    /// The word in a button's context: `acknowledge`, `resolve`, `escalate`.
    pub fn as_str(self) -> &'static str {
        match self {
            MattermostAction::Acknowledge => "acknowledge",
            MattermostAction::Resolve => "resolve",
            MattermostAction::Escalate => "escalate",
        }
    }

    fn parse(word: &str) -> Option<MattermostAction> {
        [
            MattermostAction::Acknowledge,
            MattermostAction::Resolve,
            MattermostAction::Escalate,
        ]
        .into_iter()
        .find(|a| a.as_str() == word)
    }
}

/// Why a button's context was not taken as fireline's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MattermostContextError {
    /// A field is missing, or not of the form fireline writes.
    #[error("the button's context has no valid {0}")]
    Malformed(&'static str),
    /// The MAC does not match the incident and action under this server's key.
    #[error("the button's context is not signed by this server")]
    Mismatch,
}

/// The key buttons' contexts are signed with. Derived from the slash command's token, so
/// there is one secret to set and rotating it retires every button posted before.
/// Never shown in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct MattermostActionKey([u8; 32]);

impl std::fmt::Debug for MattermostActionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MattermostActionKey(****)")
    }
}

/// What the derived key is for: a key for buttons is never the token itself, so a
/// context's MAC tells nothing about the token Mattermost sends with commands.
const KEY_PURPOSE: &[u8] = b"fireline mattermost button context v1";

impl MattermostActionKey {
    /// The key derived from the slash command's `token` (HMAC-SHA256 of a fixed label).
    pub fn from_command_token(token: &str) -> MattermostActionKey {
        let mut mac = hmac(token.as_bytes());
        mac.update(KEY_PURPOSE);
        MattermostActionKey(mac.finalize().into_bytes().into())
    }

    /// The `context` of a button doing `action` on `incident` (`INC-7`):
    /// `{"incident", "action", "mac"}`, the MAC in hex.
    pub fn context(&self, incident: &str, action: MattermostAction) -> Value {
        let mac = self.mac(incident, action.as_str()).finalize().into_bytes();
        json!({
            "incident": incident,
            "action": action.as_str(),
            "mac": hex::encode(mac),
        })
    }

    /// The incident and action of a button's `context`, if this key signed them (the
    /// MAC compared in constant time).
    pub fn verify(
        &self,
        context: &Value,
    ) -> Result<(String, MattermostAction), MattermostContextError> {
        let incident = context["incident"]
            .as_str()
            .filter(|i| !i.is_empty() && i.len() <= 64)
            .ok_or(MattermostContextError::Malformed("incident"))?;
        let word = context["action"]
            .as_str()
            .ok_or(MattermostContextError::Malformed("action"))?;
        let expected = context["mac"]
            .as_str()
            .filter(|m| m.len() == 64)
            .and_then(|m| hex::decode(m).ok())
            .ok_or(MattermostContextError::Malformed("mac"))?;
        self.mac(incident, word)
            .verify_slice(&expected)
            .map_err(|_| MattermostContextError::Mismatch)?;
        // Only after the MAC: a signed context names an action fireline wrote.
        let action =
            MattermostAction::parse(word).ok_or(MattermostContextError::Malformed("action"))?;
        Ok((incident.to_owned(), action))
    }

    fn mac(&self, incident: &str, action: &str) -> Hmac<Sha256> {
        let mut mac = hmac(&self.0);
        // Lengths first, so no incident/action pair reads as another.
        for part in [incident, action] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }
}

fn hmac(key: &[u8]) -> Hmac<Sha256> {
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC hashes or pads keys of any length; the error exists only for other MACs.
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

/// Where a Mattermost server sends clicks on fireline's buttons, and the key their
/// contexts are signed with: with these, messages to `mattermost` channels carry
/// Acknowledge, Resolve and Escalate buttons instead of an Acknowledge link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MattermostButtons {
    /// The actions URL: `{public_url}/hooks/mattermost/actions`.
    pub actions_url: String,
    /// The key of each button's context.
    pub key: MattermostActionKey,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_context_verifies_only_as_it_was_signed() {
        let key = MattermostActionKey::from_command_token("nezum4kpu3faiec7r7c5zt6tfy");
        let context = key.context("INC-7", MattermostAction::Resolve);
        assert_eq!(
            key.verify(&context),
            Ok(("INC-7".to_owned(), MattermostAction::Resolve))
        );
        let mut moved = context.clone();
        moved["incident"] = json!("INC-8");
        assert_eq!(key.verify(&moved), Err(MattermostContextError::Mismatch));
        let mut acted = context.clone();
        acted["action"] = json!("acknowledge");
        assert_eq!(key.verify(&acted), Err(MattermostContextError::Mismatch));
        let other = MattermostActionKey::from_command_token("another-token");
        assert_eq!(
            other.verify(&context),
            Err(MattermostContextError::Mismatch)
        );
        let mut unsigned = context;
        unsigned["mac"] = json!("00");
        assert_eq!(
            key.verify(&unsigned),
            Err(MattermostContextError::Malformed("mac"))
        );
        assert!(!format!("{key:?}").contains(|c: char| c.is_ascii_digit()));
    }
}
