//! The OpenAPI 3 document. Paths come from the handlers' own annotations as the router
//! is built (`utoipa-axum`), so a route cannot exist undocumented.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The document's fixed parts; paths and schemas are added by the router.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "fireline",
        description = "Incident response: declare, acknowledge, coordinate and resolve incidents. \
                       Every route but /health needs `Authorization: Bearer <token>`; \
                       errors are `{\"error\":{\"code\",\"message\",\"field\"}}`."
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "incidents", description = "Incidents and their timelines"),
        (name = "postmortems", description = "Post-mortems drafted from the timeline, their stages, and action items"),
        (name = "tokens", description = "API tokens (admin)"),
        (name = "receivers", description = "Alert receivers, authorized by an integration key (unknown keys: 404)"),
        (name = "integrations", description = "Integrations and their keys (admin)"),
        (name = "oncall", description = "The on-call roster: people, teams, schedules, who is on call, calendar feeds"),
        (name = "meta", description = "Health, identity, severities and this document")
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        // Calendar feeds only: calendar apps subscribe to a URL and cannot send headers.
        components.add_security_scheme(
            "feed_token",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "token",
                "A calendar feed's read-only secret (flc_…, from GET /api/v1/calendar-feeds), accepted on that .ics feed only; API tokens are refused here",
            ))),
        );
    }
}

/// The complete document, as served at `/api/v1/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    crate::routes::split().1
}
