//! Acknowledge links: `GET /ack/{token}` shows the incident and a button;
//! `POST /ack/{token}` acknowledges it. No sign-in: the signed token is the authority,
//! for one incident and one action. GET never acts, so link previews (chat unfurls,
//! mail scanners) cannot acknowledge by visiting the link. A link acts only on the episode
//! it was sent for: once the incident is reopened, older links say so and do nothing.
//!
//! The link's check ([`check_link`]) and the acknowledgement ([`acknowledge_as`]) also
//! serve a page's phone call (`routes/twilio.rs`, which also acknowledges SMS replies)
//! and Pushover's callback (`routes/pushover.rs`), so every way of acknowledging without
//! signing in decides the same way.

use crate::{ApiError, AppState};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use fireline_core::oncall::ack::{check_episode, verify_ack_token, AckLink, AckTokenError};
use fireline_core::oncall::verify::{
    address_digest, is_contact_check, verify_contact_check_token, ContactCheck, VerifiedContact,
};
use fireline_core::oncall::Person;
use fireline_core::{decide, Command, Incident, IncidentId, RecordedEvent};
use jiff::Timestamp;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/ack/{token}", get(show).post(acknowledge))
}

/// An acknowledge link's page (`templates/public/ack.html`).
#[derive(Template)]
#[template(path = "public/ack.html")]
struct AckPage<'a> {
    title: &'a str,
    said: Said<'a>,
}

/// What the page says besides its title.
enum Said<'a> {
    /// The link is not genuine, or has expired.
    Refused { reason: String },
    /// The link is for an earlier episode of the incident.
    EarlierEpisode {
        reason: String,
        current: &'a Incident,
    },
    /// The incident, and what pressing the button would do (`GET`).
    Offer {
        incident: &'a Incident,
        offer: Offer<'a>,
    },
    /// Done (`POST`).
    Acknowledged {
        incident: &'a Incident,
        person: &'a str,
    },
    /// Not done: the incident's state refused it (acknowledged already, resolved).
    NotAcknowledged { message: String },
    /// A test page's confirm link, before the button is pressed.
    ConfirmOffer { name: String, kind: &'a str },
    /// A test page confirmed: the contact is verified.
    Confirmed { name: String, kind: &'a str },
}

/// What the `GET` page offers.
enum Offer<'a> {
    AlreadyAcknowledged { by: &'a str, at: Timestamp },
    Resolved,
    Button { person: &'a str },
}

fn page(status: StatusCode, title: &str, said: Said<'_>) -> Response {
    let html = match (AckPage { title, said }).render() {
        Ok(html) => html,
        Err(e) => return crate::ui::not_rendered(&e),
    };
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // The token is in the URL: keep it out of caches and other sites' logs.
            (header::CACHE_CONTROL, "no-store"),
        ],
        // The UI's CSP, no framing (a framed button invites clickjacking) and no Referer.
        crate::ui::PAGE_HEADERS,
        html,
    )
        .into_response()
}

fn refused(error: impl std::fmt::Display) -> Response {
    page(
        StatusCode::FORBIDDEN,
        "Link not valid",
        Said::Refused {
            reason: error.to_string(),
        },
    )
}

/// The incident's events and its state.
async fn incident(
    state: &AppState,
    id: IncidentId,
) -> Result<(Vec<RecordedEvent>, Incident), ApiError> {
    let events = state.store.events(id).await?;
    let incident = Incident::fold(id, &events)?;
    Ok((events, incident))
}

/// A link for an earlier episode of the incident: it does nothing, and says why.
fn earlier_episode(error: &AckTokenError, current: &Incident) -> Response {
    page(
        StatusCode::CONFLICT,
        &format!("Link for an earlier episode of {}", current.id),
        Said::EarlierEpisode {
            reason: error.to_string(),
            current,
        },
    )
}

/// Why an acknowledge link does nothing.
pub(super) enum LinkRefused {
    /// Not genuine, or expired.
    Invalid(AckTokenError),
    /// Sent for an earlier episode of the incident, which is now `current`.
    EarlierEpisode(AckTokenError, Box<Incident>),
}

impl LinkRefused {
    /// In words, for answers that are not pages (a call, a callback).
    pub(super) fn reason(&self) -> String {
        match self {
            LinkRefused::Invalid(e) | LinkRefused::EarlierEpisode(e, _) => e.to_string(),
        }
    }
}

/// The link's incident, if the link is genuine, unexpired and for the incident's
/// current episode; otherwise why not. Acknowledge links, the calls they are read out
/// in and Pushover's callbacks all check their token here.
pub(super) async fn check_link(
    state: &AppState,
    token: &str,
) -> Result<Result<(AckLink, Incident), LinkRefused>, ApiError> {
    let secret = &state.pager.links().ack_secret;
    let link = match verify_ack_token(secret, token, state.clock.now()) {
        Ok(link) => link,
        Err(e) => return Ok(Err(LinkRefused::Invalid(e))),
    };
    let (events, current) = incident(state, link.incident).await?;
    if let Err(e) = check_episode(&link, &events) {
        return Ok(Err(LinkRefused::EarlierEpisode(e, Box::new(current))));
    }
    Ok(Ok((link, current)))
}

/// [`check_link`], with the page that says why not.
async fn checked(state: &AppState, token: &str) -> Result<(AckLink, Incident), Response> {
    match check_link(state, token).await {
        Ok(Ok(found)) => Ok(found),
        Ok(Err(LinkRefused::Invalid(e))) => Err(refused(e)),
        Ok(Err(LinkRefused::EarlierEpisode(e, current))) => Err(earlier_episode(&e, &current)),
        Err(e) => Err(e.into_response()),
    }
}

/// Acknowledges incident `id` as `person` through the one command path: every way of
/// acknowledging without signing in (a link, a key pressed in a call, Pushover's
/// callback, an SMS reply) comes here. With `link`, only on the episode the link was sent
/// for, checked again on the log the acknowledgement is decided on (and appended after,
/// version-checked), so a reopening since the link was checked counts.
pub(super) async fn acknowledge_as(
    state: &AppState,
    id: IncidentId,
    person: &str,
    link: Option<&AckLink>,
) -> Result<Incident, ApiError> {
    let decision = |facts: &fireline_engine::Facts<'_>| {
        if let Some(link) = link {
            check_episode(link, facts.events)
                .map_err(|e| fireline_core::DomainError::Conflict(e.to_string()))?;
        }
        decide(
            facts.incident,
            &Command::Acknowledge,
            facts.policy.catalog(),
        )
    };
    let applied = state
        .commands
        .execute_with(id, person, None, decision)
        .await?;
    Ok(applied.incident)
}

/// Why a confirm link confirms nothing, in words for its reader.
pub(super) enum NotConfirmed {
    /// Forged, malformed or expired.
    Invalid(AckTokenError),
    /// The person or the tested address is no longer in the roster.
    Changed,
}

impl NotConfirmed {
    /// In words, for a page or a call.
    pub(super) fn reason(&self) -> String {
        match self {
            NotConfirmed::Invalid(e) => e.to_string().replace("acknowledge link", "test link"),
            NotConfirmed::Changed => {
                "this contact has changed since the test was sent: send a new test".to_owned()
            }
        }
    }
}

/// The person and contact a confirm link is for, if it is genuine, unexpired and the
/// contact is still in the roster as tested.
pub(super) async fn check_confirm(
    state: &AppState,
    token: &str,
) -> Result<Result<(Person, ContactCheck), NotConfirmed>, ApiError> {
    let secret = &state.pager.links().ack_secret;
    let check = match verify_contact_check_token(secret, token, state.clock.now()) {
        Ok(check) => check,
        Err(e) => return Ok(Err(NotConfirmed::Invalid(e))),
    };
    // With the push contact of subscribed devices, which test pages go to as well.
    let roster = fireline_engine::paging::paging_roster(state.store.as_ref()).await?;
    let person = roster.people.get(&check.person).filter(|p| {
        p.contacts_of(check.kind)
            .any(|c| address_digest(&c.address) == check.address_digest)
    });
    Ok(match person {
        Some(person) => Ok((person.clone(), check)),
        None => Err(NotConfirmed::Changed),
    })
}

/// Records a test page as confirmed: from now on the contact counts as one that
/// reaches its person.
pub(super) async fn confirm(state: &AppState, check: &ContactCheck) -> Result<(), ApiError> {
    state
        .store
        .verify_contact(&VerifiedContact {
            person: check.person.clone(),
            kind: check.kind,
            address_digest: check.address_digest.clone(),
            verified_at: state.clock.now(),
        })
        .await?;
    tracing::info!(person = %check.person, kind = %check.kind, "contact verified by a test page");
    Ok(())
}

async fn confirm_page(state: &AppState, token: &str, press: bool) -> Response {
    let (person, check) = match check_confirm(state, token).await {
        Ok(Ok(found)) => found,
        Ok(Err(why)) => {
            return page(
                StatusCode::FORBIDDEN,
                "Test link not valid",
                Said::Refused {
                    reason: why.reason(),
                },
            )
        }
        Err(e) => return e.into_response(),
    };
    let kind = check.kind.as_str();
    if !press {
        let name = person.name.clone();
        return page(
            StatusCode::OK,
            "Did this reach you?",
            Said::ConfirmOffer { name, kind },
        );
    }
    match confirm(state, &check).await {
        Ok(()) => page(
            StatusCode::OK,
            "Confirmed",
            Said::Confirmed {
                name: person.name,
                kind,
            },
        ),
        Err(e) => e.into_response(),
    }
}

async fn show(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    if is_contact_check(&token) {
        return confirm_page(&state, &token, false).await;
    }
    let (link, current) = match checked(&state, &token).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let offer = if let Some((at, by)) = &current.acknowledged {
        Offer::AlreadyAcknowledged { by, at: *at }
    } else if !current.status.is_open() {
        Offer::Resolved
    } else {
        Offer::Button {
            person: &link.person,
        }
    };
    page(
        StatusCode::OK,
        &format!("Acknowledge {}?", link.incident),
        Said::Offer {
            incident: &current,
            offer,
        },
    )
}

async fn acknowledge(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    if is_contact_check(&token) {
        return confirm_page(&state, &token, true).await;
    }
    let (link, _) = match checked(&state, &token).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let (id, person) = (link.incident, link.person.as_str());
    match acknowledge_as(&state, id, person, Some(&link)).await {
        Ok(incident) => {
            tracing::info!(incident = %id, person = %person, "acknowledged by link");
            page(
                StatusCode::OK,
                &format!("{id} acknowledged"),
                Said::Acknowledged {
                    incident: &incident,
                    person,
                },
            )
        }
        // Acknowledged already (by someone else, or twice): say so, do not fail loudly.
        Err(ApiError::Conflict(message)) => page(
            StatusCode::CONFLICT,
            &format!("{id} not acknowledged"),
            Said::NotAcknowledged { message },
        ),
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::{AckPage, Offer, Said};
    use askama::Template;
    use fireline_core::{EventData, Incident, IncidentId, RecordedEvent};

    fn incident() -> Incident {
        let declared = RecordedEvent {
            id: 1,
            seq: 1,
            at: "2027-01-15T08:00:00Z".parse().expect("time"),
            actor: "alice".into(),
            data: EventData::Declared {
                title: "<script>alert(1)</script> & \"co\"".into(),
                severity: "SEV1".into(),
                service: "check'out".into(),
                summary: None,
                category: None,
                flags: vec![],
                policy: None,
            },
        };
        Incident::fold(IncidentId(7), &[declared]).expect("folds")
    }

    fn render(title: &str, said: Said<'_>) -> String {
        AckPage { title, said }.render().expect("renders")
    }

    #[test]
    fn every_page_escapes_what_it_shows() {
        let i = incident();
        let summary = "<dl><dt>Incident</dt><dd>INC-7 — &lt;script&gt;alert(1)&lt;/script&gt; \
                       &amp; &quot;co&quot;</dd><dt>Severity</dt><dd>SEV1</dd><dt>Service</dt>\
                       <dd>check&#39;out</dd><dt>Status</dt><dd>investigating</dd></dl>";
        let offer = render(
            "Acknowledge INC-7?",
            Said::Offer {
                incident: &i,
                offer: Offer::Button { person: "o'<b>" },
            },
        );
        assert!(offer.starts_with("<!doctype html>"), "{offer}");
        assert!(offer.contains("<title>Acknowledge INC-7? · fireline</title>"));
        assert!(offer.contains("<h1>Acknowledge INC-7?</h1>"));
        assert!(offer.contains(summary), "{offer}");
        assert!(offer.contains(
            "<form method=\"post\"><button type=\"submit\">Acknowledge INC-7 as o&#39;&lt;b&gt;</button></form>"
        ), "{offer}");
        let by = render(
            "Acknowledge INC-7?",
            Said::Offer {
                incident: &i,
                offer: Offer::AlreadyAcknowledged {
                    by: "<i>bob</i>",
                    at: "2027-01-15T08:05:00Z".parse().expect("time"),
                },
            },
        );
        assert!(
            by.contains(
                "<p>Already acknowledged by &lt;i&gt;bob&lt;/i&gt; at 2027-01-15T08:05:00Z.</p>"
            ),
            "{by}"
        );
        assert!(!by.contains("<form"));
        let resolved = render(
            "t",
            Said::Offer {
                incident: &i,
                offer: Offer::Resolved,
            },
        );
        assert!(resolved.contains("<p>This incident is resolved.</p>"));
        let refused = render(
            "Link not valid",
            Said::Refused {
                reason: "the link has <expired>".into(),
            },
        );
        assert!(refused.contains("<p>the link has &lt;expired&gt;.</p><p>Acknowledge from"));
        let earlier = render(
            "Link for an earlier episode of INC-7",
            Said::EarlierEpisode {
                reason: "sent before the reopening".into(),
                current: &i,
            },
        );
        assert!(earlier.contains(&format!(
            "<p>sent before the reopening. It does not acknowledge the incident as it is now.</p>{summary}"
        )), "{earlier}");
        let done = render(
            "INC-7 acknowledged",
            Said::Acknowledged {
                incident: &i,
                person: "&bob",
            },
        );
        assert!(done.contains(&format!(
            "<p>Thanks, &amp;bob: escalation has stopped.</p>{summary}"
        )));
        let not = render(
            "INC-7 not acknowledged",
            Said::NotAcknowledged {
                message: "already acknowledged by <bob>".into(),
            },
        );
        assert!(not.contains("<p>already acknowledged by &lt;bob&gt;</p>"));
        for page in [offer, by, resolved, refused, earlier, done, not] {
            assert!(!page.contains("<script"), "{page}");
            assert!(page.trim_end().ends_with("</body></html>"), "{page}");
        }
    }
}
