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

/// Adds the refusals that the shared extractors make, to every operation they can happen
/// on, where the handler's own annotation does not list them already: 400 for a path or
/// query that cannot be read and for a body that cannot be read (malformed JSON, wrong
/// types, unknown or missing fields), 413 for a body over the route's limit, 415 for a
/// body not declared as JSON. So the document lists every status a route can answer,
/// without each handler repeating them. Idempotent.
pub fn complete(document: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};

    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build()
    };
    // `PUT /api/v1/roster` refuses `{}`. By hand: utoipa-gen 5.5 renders
    // `#[schema(min_properties = 1)]` as `maxProperties: 1`.
    if let Some(components) = document.components.as_mut() {
        if let Some(utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(roster))) =
            components.schemas.get_mut("RosterRequest")
        {
            roster.min_properties = Some(1);
        }
    }
    for item in document.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let parameters = operation.parameters.as_deref().unwrap_or_default();
            let reads_input = parameters.iter().any(|p| {
                matches!(p.parameter_in, ParameterIn::Path | ParameterIn::Query)
                    // The feeds' `?token=` is a credential, refused with 401.
                    && p.name != "token"
            });
            let has_body = operation.request_body.is_some();
            if let Some(body) = operation.request_body.as_mut() {
                for content in body.content.values_mut() {
                    not_null(&mut content.schema);
                }
            }
            let mut add = |status: &str, description: &str| {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| error(description).into());
            };
            if has_body {
                add(
                    "400",
                    "The request cannot be read: malformed JSON, a wrong type, an unknown or \
                     missing field, or a bad path or query parameter",
                );
                add("413", "The body is larger than this route accepts");
                add(
                    "415",
                    "The body is not declared as JSON (Content-Type: application/json)",
                );
            } else if reads_input {
                add(
                    "400",
                    "The request cannot be read: a bad path or query parameter, or an \
                     unknown query parameter",
                );
            }
        }
    }
}

/// An optional body (`request_body(content = Option<T>)`, "may be empty") is generated as
/// `oneOf: [null, T]`; but `null` is not an empty body, and a body of `null` is refused
/// (400): the body may be absent (`required: false`), and when present it is a `T`.
fn not_null(schema: &mut Option<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>>) {
    use utoipa::openapi::schema::{Schema, SchemaType, Type};
    use utoipa::openapi::RefOr;

    let Some(RefOr::T(Schema::OneOf(one_of))) = schema else {
        return;
    };
    let is_null = |item: &RefOr<Schema>| match item {
        RefOr::T(Schema::Object(o)) => o.schema_type == SchemaType::Type(Type::Null),
        _ => false,
    };
    if one_of.items.len() == 2 && one_of.items.iter().any(is_null) {
        let kept = one_of.items.iter().find(|item| !is_null(item)).cloned();
        *schema = kept;
    }
}
