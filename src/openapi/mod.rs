//! The OpenAPI 3.1 document, generated from the route table, and the interactive docs.

pub mod constraints;
pub mod responses;

use utoipa::openapi::OpenApi as Document;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

use utoipa::openapi::security::{ClientCredentials, Flow, OAuth2, Scopes, SecurityScheme};
use utoipa::Modify;

use crate::auth::Scope;
use crate::error::{FieldError, Problem};

const IDEMPOTENCY_KEY: &str = "Makes the request safe to retry: the same key and body replay the first response (with `Idempotent-Replayed: true`); the same key with another request is a 422 (`idempotency_key_reused`); while the first is running, a 409 (`idempotency_key_in_use`). Keys are per client and kept 48 hours. A UUID is ideal.";

/// Adds the `Idempotency-Key` header, and the 409 it can cause, to every POST but the token
/// endpoint (which follows OAuth 2.0).
struct IdempotencyDoc;

impl Modify for IdempotencyDoc {
    fn modify(&self, openapi: &mut Document) {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        use utoipa::openapi::{Ref, RefOr, Required};
        for item in openapi.paths.paths.values_mut() {
            let Some(operation) = item.post.as_mut() else {
                continue;
            };
            if operation.operation_id.as_deref() == Some("issue_token") {
                continue;
            }
            let header = ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(IDEMPOTENCY_KEY))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                        .max_length(Some(255)),
                ))
                .example(Some(serde_json::json!(
                    "5f0c7c3e-5a7e-4b0f-9d7e-0a4b8f0e2c11"
                )))
                .build();
            operation
                .parameters
                .get_or_insert_with(Vec::new)
                .push(RefOr::T(header));
            operation
                .responses
                .responses
                .entry("409".into())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name("Conflict")));
        }
    }
}

/// Declares the OAuth 2.0 client-credentials scheme and its scopes.
struct SecurityDoc;

impl Modify for SecurityDoc {
    fn modify(&self, openapi: &mut Document) {
        let scopes = Scopes::from_iter(
            Scope::ALL.map(|s| (s.as_str().to_string(), s.description().to_string())),
        );
        let flow = Flow::ClientCredentials(ClientCredentials::new("/api/v1/oauth/token", scopes));
        let mut scheme = OAuth2::new([flow]);
        scheme.description = Some(
            "OAuth 2.0 client credentials (RFC 6749 §4.4). The token is an EdDSA-signed JWT; send it as `Authorization: Bearer <token>`.".into(),
        );
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("oauth2", SecurityScheme::OAuth2(scheme));
    }
}

const DESCRIPTION: &str = include_str!("description.md");

#[derive(OpenApi)]
#[openapi(
    info(
        title = "anct-formations",
        description = DESCRIPTION,
        license(name = "MIT", identifier = "MIT"),
    ),
    modifiers(&SecurityDoc, &IdempotencyDoc),
    tags(
        (name = "authentication", description = "OAuth 2.0 client credentials and the public keys of tokens"),
        (name = "programmes", description = "ANCT programmes for local authorities (Petites villes de demain, Action cœur de ville …)"),
        (name = "collectivites", description = "Territories (communes, intercommunalities …) and the programmes they take part in"),
        (name = "chefs_de_projet", description = "The chefs de projet who run a programme locally (personal data)"),
        (name = "trainings", description = "CNFPT's training catalogue"),
        (name = "sessions", description = "Dated sessions of a training, with capacity and enrolment window"),
        (name = "enrolments", description = "Chefs de projet on sessions, and their lifecycle"),
        (name = "changes", description = "The change feed: every committed change, in commit order, for partners that sync"),
        (name = "webhooks", description = "Changes pushed to partners' URLs, signed per Standard Webhooks, retried for days"),
        (name = "operations", description = "Health probes"),
    ),
    components(
        schemas(Problem, FieldError),
        responses(
            responses::BadRequest,
            responses::NotFound,
            responses::Conflict,
            responses::PreconditionFailed,
            responses::RequestTimeout,
            responses::PayloadTooLarge,
            responses::UnsupportedMediaType,
            responses::UnprocessableEntity,
            responses::InternalError,
            responses::ServiceUnavailable,
            responses::Unauthorized,
            responses::Forbidden,
            responses::TooManyRequests,
        )
    )
)]
struct ApiDoc;

/// The whole document: the static parts above plus every operation of the route table.
pub fn document() -> Document {
    let (_, paths) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::configure)
        .split_for_parts();
    let mut document = paths;
    // After the routes: the rules it adds are on their parameters and bodies.
    utoipa::Modify::modify(&constraints::Constraints, &mut document);
    document
}

/// The document as served and committed: pretty JSON with a final newline.
pub fn document_json() -> String {
    let mut json = document()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    json.push('\n');
    json
}
