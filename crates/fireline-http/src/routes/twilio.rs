//! What Twilio sends back: `POST /ack/{token}/voice`, the key a person pressed in a
//! page's phone call (the call's `<Gather>` posts there), and `POST /hooks/twilio/sms`,
//! a text message to the Twilio number (`ACK 12`). Not for browsers, and not in the
//! OpenAPI document (like the acknowledge links).
//!
//! Both are refused (403) unless `X-Twilio-Signature` is Twilio's signature, under the
//! configured auth token, of the URL Twilio called and the form it posted
//! (<https://www.twilio.com/docs/usage/security#validating-requests>). The URL is the
//! configured `public_url` plus the request's path and query, as Twilio was given it:
//! behind a proxy, the address this server sees is not the one Twilio signed.
//!
//! Acknowledging goes through the acknowledge links' own function
//! ([`super::ack::acknowledge_as`]); answers are TwiML.

use super::ack::{acknowledge_as, check_confirm, check_link, confirm};
use super::form::param;
use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use fireline_core::oncall::verify::is_contact_check;
use fireline_core::oncall::{ContactKind, Roster};
use fireline_core::{EventData, IncidentId};
use fireline_store::IncidentFilter;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/ack/{token}/voice", post(voice))
        .route("/hooks/twilio/sms", post(sms))
}

/// How to write a reply, in every answer that did not acknowledge.
const HOW: &str = "Reply ACK and the incident's number to acknowledge it, e.g. ACK 12, \
                   or ACK alone for your latest page.";

/// A TwiML answer.
fn twiml(body: &str) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>{body}"),
    )
        .into_response()
}

/// `text` escaped for XML, with characters XML forbids replaced (the status feed's
/// escaper).
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Writing to a String cannot fail.
    let _ = askama::filters::Escaper::write_escaped_str(&super::status::XmlEscape, &mut out, text);
    out
}

/// TwiML that says `text` in the call.
fn say(text: &str) -> Response {
    twiml(&format!("<Response><Say>{}</Say></Response>", xml(text)))
}

/// TwiML that texts `text` back.
fn message(text: &str) -> Response {
    twiml(&format!(
        "<Response><Message>{}</Message></Response>",
        xml(text)
    ))
}

/// The request's form, if Twilio signed it; otherwise why not (answered with
/// [`forbidden`]).
fn verified(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Vec<(String, String)>, &'static str> {
    let Some(token) = &state.twilio_auth_token else {
        return Err("Twilio is not configured here: no auth token to check the signature with");
    };
    let Some(signature) = headers
        .get(fireline_notify::TWILIO_SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
    else {
        return Err("no X-Twilio-Signature: refused");
    };
    let params: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let url = format!("{}{path}", state.pager.links().base_url);
    if !fireline_notify::verify_twilio_signature(token.expose(), &url, &params, signature) {
        return Err(
            "X-Twilio-Signature does not match (is public_url the address Twilio calls?): refused",
        );
    }
    Ok(params)
}

/// 403, saying `why` (and logging it, by the route's last word, never the token).
fn forbidden(uri: &Uri, why: &'static str) -> Response {
    tracing::info!(route = %uri.path().rsplit('/').next().unwrap_or_default(), "{why}");
    (StatusCode::FORBIDDEN, why).into_response()
}

/// The key pressed in a page's call: `1` acknowledges the incident of the acknowledge
/// link the call was made for, as the person it was sent to.
async fn voice(
    State(state): State<AppState>,
    Path(token): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = match verified(&state, &uri, &headers, &body) {
        Ok(params) => params,
        Err(why) => return forbidden(&uri, why),
    };
    if is_contact_check(&token) {
        return confirm_by_key(&state, &token, param(&params, "Digits")).await;
    }
    if param(&params, "Digits") != Some("1") {
        return say("Not acknowledged. Goodbye.");
    }
    let link = match check_link(&state, &token).await {
        Ok(Ok((link, _))) => link,
        Ok(Err(refused)) => {
            return say(&format!("Not acknowledged: {}. Goodbye.", refused.reason()))
        }
        Err(e) => return say(&format!("Not acknowledged: {}. Goodbye.", why_not(&e))),
    };
    let (id, person) = (link.incident, link.person.as_str());
    match acknowledge_as(&state, id, person, Some(&link)).await {
        Ok(_) => {
            tracing::info!(incident = %id, person = %person, "acknowledged by phone call");
            say(&format!("Acknowledged {id}. Goodbye."))
        }
        Err(e) => say(&format!("Not acknowledged: {}. Goodbye.", why_not(&e))),
    }
}

/// The key pressed in a test call: `1` confirms the phone reaches its person.
async fn confirm_by_key(state: &AppState, token: &str, digits: Option<&str>) -> Response {
    if digits != Some("1") {
        return say("Not confirmed. Goodbye.");
    }
    match check_confirm(state, token).await {
        Ok(Ok((_, check))) => match confirm(state, &check).await {
            Ok(()) => say("Confirmed: this phone can wake you. Goodbye."),
            Err(e) => say(&format!("Not confirmed: {}. Goodbye.", why_not(&e))),
        },
        Ok(Err(why)) => say(&format!("Not confirmed: {}. Goodbye.", why.reason())),
        Err(e) => say(&format!("Not confirmed: {}. Goodbye.", why_not(&e))),
    }
}

/// Why an acknowledgement was not made, in words for a person: the incident's own
/// refusals as they are, anything else (the database unreachable) without detail.
fn why_not(error: &ApiError) -> String {
    match error {
        ApiError::Conflict(message)
        | ApiError::Invalid { message, .. }
        | ApiError::NotFound(message) => message.trim_end_matches('.').to_owned(),
        other => {
            tracing::warn!(error = %other, "acknowledging from Twilio failed");
            "fireline could not do it just now; try again, or acknowledge in fireline".to_owned()
        }
    }
}

/// What an SMS asks for.
#[derive(Debug, PartialEq, Eq)]
enum Asked {
    /// `ACK 12`, `ack inc-12`, or `ACK` alone (the sender's latest page).
    Ack(Option<IncidentId>),
    /// Anything else.
    Unclear,
}

/// Reads `ACK`, `ACK 12`, `ack inc-12`, `Ack INC-12`, `ACK #12`, `ack12.`.
fn asked(body: &str) -> Asked {
    let text = body.trim().trim_end_matches(['.', '!']);
    let verb_end = text
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (verb, rest) = text.split_at(verb_end);
    if !verb.eq_ignore_ascii_case("ack") && !verb.eq_ignore_ascii_case("acknowledge") {
        return Asked::Unclear;
    }
    let rest = rest.trim().trim_start_matches('#');
    if rest.is_empty() {
        return Asked::Ack(None);
    }
    match rest.parse::<IncidentId>() {
        Ok(id) => Asked::Ack(Some(id)),
        Err(_) => Asked::Unclear,
    }
}

/// A phone number's digits (with a `+` in front), so `+1 (555) 123-4567` matches
/// `+15551234567`.
fn normalised(number: &str) -> String {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    format!("+{digits}")
}

/// `…` and the last four digits: enough for a log to tell numbers apart.
fn last_four(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    let tail: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    format!("…{tail}")
}

/// The people whose SMS contact is `from`.
fn people_texting_from(roster: &Roster, from: &str) -> Vec<String> {
    if !from.chars().any(|c| c.is_ascii_digit()) {
        // No number at all matches no contact, not an empty one.
        return Vec::new();
    }
    let from = normalised(from);
    roster
        .people
        .iter()
        .filter(|(_, person)| {
            person
                .contacts
                .iter()
                .any(|c| c.kind == ContactKind::Sms && normalised(&c.address) == from)
        })
        .map(|(id, _)| id.clone())
        .collect()
}

/// A text to the Twilio number: from a roster person's SMS contact, `ACK 12`
/// acknowledges INC-12 as that person, `ACK` alone their latest unacknowledged page. A
/// number on no roster contact changes nothing and gets no answer.
async fn sms(State(state): State<AppState>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let params = match verified(&state, &uri, &headers, &body) {
        Ok(params) => params,
        Err(why) => return forbidden(&uri, why),
    };
    let from = param(&params, "From").unwrap_or_default();
    let roster = match state.store.roster().await {
        Ok(roster) => roster,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let person = match people_texting_from(&roster, from).as_slice() {
        [] => {
            tracing::info!(from = %last_four(from), "SMS from a number on no roster contact: ignored");
            return twiml("<Response/>");
        }
        [person] => person.clone(),
        _ => return message(
            "This number is the SMS contact of several people; acknowledge in fireline instead.",
        ),
    };
    let id = match asked(param(&params, "Body").unwrap_or_default()) {
        Asked::Unclear => return message(HOW),
        Asked::Ack(Some(id)) => id,
        Asked::Ack(None) => match latest_page(&state, &person).await {
            Ok(Some(id)) => id,
            Ok(None) => {
                return message(&format!("You have no unacknowledged page. {HOW}"));
            }
            Err(e) => return message(&format!("Not acknowledged: {}.", why_not(&e))),
        },
    };
    match acknowledge_as(&state, id, &person, None).await {
        Ok(_) => {
            tracing::info!(incident = %id, person = %person, "acknowledged by SMS reply");
            message(&format!("Acknowledged {id}"))
        }
        Err(ApiError::NotFound(_)) => message(&format!("There is no incident {id}. {HOW}")),
        Err(e) => message(&format!("{id} not acknowledged: {}.", why_not(&e))),
    }
}

/// The open, unacknowledged incident that paged `person` most recently in its current
/// episode, if any.
pub(super) async fn latest_page(
    state: &AppState,
    person: &str,
) -> Result<Option<IncidentId>, ApiError> {
    let open = state
        .store
        .list_incidents(&IncidentFilter::default())
        .await?;
    let mut latest: Option<(jiff::Timestamp, IncidentId)> = None;
    for incident in open.iter().filter(|i| i.acknowledged_at.is_none()) {
        let events = state.store.events(incident.id).await?;
        // Pages before the last reopening were for an earlier episode.
        let paged = events
            .iter()
            .rev()
            .take_while(|e| !matches!(e.data, EventData::Reopened { .. }))
            .find(|e| e.data.recipients().iter().any(|r| r.person == person));
        if let Some(event) = paged {
            if latest.is_none_or(|(at, _)| event.at > at) {
                latest = Some((event.at, incident.id));
            }
        }
    }
    Ok(latest.map(|(_, id)| id))
}

#[cfg(test)]
mod tests {
    use super::{asked, normalised, Asked};
    use fireline_core::IncidentId;

    #[test]
    fn replies_are_read_leniently() {
        for (body, want) in [
            ("ACK 12", Asked::Ack(Some(IncidentId(12)))),
            ("ack inc-12", Asked::Ack(Some(IncidentId(12)))),
            ("Ack INC-12", Asked::Ack(Some(IncidentId(12)))),
            ("  ack #12. ", Asked::Ack(Some(IncidentId(12)))),
            ("ACK12", Asked::Ack(Some(IncidentId(12)))),
            ("Acknowledge 7!", Asked::Ack(Some(IncidentId(7)))),
            ("ACK", Asked::Ack(None)),
            ("ack.", Asked::Ack(None)),
            ("ACK twelve", Asked::Unclear),
            ("ACK 12 13", Asked::Unclear),
            ("ACK 0", Asked::Unclear),
            ("hello", Asked::Unclear),
            ("acked 12", Asked::Unclear),
            ("", Asked::Unclear),
        ] {
            assert_eq!(asked(body), want, "{body:?}");
        }
    }

    #[test]
    fn numbers_match_however_they_are_written() {
        assert_eq!(normalised("+1 (555) 123-4567"), normalised("+15551234567"));
        assert_ne!(normalised("+15551234567"), normalised("+15551234568"));
    }
}
