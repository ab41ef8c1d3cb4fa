//! The OpenAPI 3.1 document, generated from the route table, and the interactive docs.

pub mod responses;

use utoipa::openapi::OpenApi as Document;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

use utoipa::openapi::security::{ClientCredentials, Flow, OAuth2, Scopes, SecurityScheme};
use utoipa::Modify;

use crate::auth::Scope;
use crate::error::{FieldError, Problem};

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
    modifiers(&SecurityDoc),
    tags(
        (name = "authentication", description = "OAuth 2.0 client credentials and the public keys of tokens"),
        (name = "programmes", description = "ANCT programmes for local authorities (Petites villes de demain, Action cœur de ville …)"),
        (name = "collectivites", description = "Territories (communes, intercommunalities …) and the programmes they take part in"),
        (name = "chefs_de_projet", description = "The chefs de projet who run a programme locally (personal data)"),
        (name = "trainings", description = "CNFPT's training catalogue"),
        (name = "sessions", description = "Dated sessions of a training, with capacity and enrolment window"),
        (name = "enrolments", description = "Chefs de projet on sessions, and their lifecycle"),
        (name = "changes", description = "The change feed: every committed change, in commit order, for partners that sync"),
        (name = "operations", description = "Health probes"),
    ),
    components(
        schemas(Problem, FieldError),
        responses(
            responses::BadRequest,
            responses::NotFound,
            responses::Conflict,
            responses::PreconditionFailed,
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
    paths
}

/// The document as served and committed: pretty JSON with a final newline.
pub fn document_json() -> String {
    let mut json = document()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    json.push('\n');
    json
}
