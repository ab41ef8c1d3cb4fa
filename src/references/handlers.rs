//! `PUT /api/v1/sessions/ref:{reference}`, `PUT /api/v1/enrolments/ref:{reference}` and the
//! batch upserts of sessions and enrolments.

use std::collections::HashMap;

use actix_web::{post, put, web, HttpRequest, HttpResponse};
use diesel_async::AsyncConnection;

use crate::auth::{Caller, Scope};
use crate::chefs_de_projet::views::{ChefDeProjet, ChefDeProjetInput};
use crate::collectivites::views::{Collectivite, CollectiviteInput};
use crate::db::DbPool;
use crate::enrolments::views::{Enrolment, EnrolmentInput};
use crate::error::ApiError;
use crate::http::conditional::ETagged;
use crate::http::conditional::{created_response, updated_response};
use crate::http::pagination::Identified;
use crate::http::resource_key::{path_key, PathKey};
use crate::http::{IfMatch, JsonBody};
use crate::idempotency::{self, IdempotencyKey};
use crate::openapi::responses::{BodyErrors, Common, Conflict, NotFound, PreconditionFailed};
use crate::programmes::views::{Programme, ProgrammeInput};
use crate::references::batch::{check_size, read_item, BatchRequest, BatchResponse};
use crate::references::enrolment_batch;
use crate::references::upsert::{self, Upserted};
use crate::sessions::views::{Session, SessionInput};
use crate::trainings::views::{Training, TrainingInput};

/// The reference of a `PUT …/ref:{reference}` path.
fn reference_of(request: &HttpRequest) -> Result<String, ApiError> {
    if let PathKey::Reference(reference) =
        path_key(request.match_info().get("id").unwrap_or_default())
    {
        return Ok(reference.to_string());
    }
    // A sibling path (`/sessions/batch`) that takes no PUT: 405, like any other.
    let unrouted = crate::http::fallback::unrouted(request);
    if unrouted.status == actix_web::http::StatusCode::METHOD_NOT_ALLOWED {
        return Err(unrouted);
    }
    Err(ApiError::invalid_field(
        "id",
        "reference_required",
        "PUT creates or updates by your reference: use …/ref:<reference> (1 to 200 characters without spaces)",
    ))
}

/// Create or update a session by your reference
///
/// The path is `/api/v1/sessions/ref:<your reference>`. Creates the session (201) if the
/// reference is new to your client, else applies the body to it (200) like a merge patch:
/// fields left out keep their value. `If-Match` applies to the update.
#[utoipa::path(
    tag = "sessions",
    operation_id = "put_session_by_reference",
    security(("oauth2" = ["trainings:write"])),
    params(
        ("id" = String, Path, description = "`ref:` followed by your reference", example = "ref:cnfpt-2027-0042"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` an update is based on"),
    ),
    request_body = SessionInput,
    responses(
        (status = 201, description = "Created", body = Session,
            headers(("Location" = String, description = "The session's URL by id"), ("ETag" = String, description = "Its version, quoted"))),
        (status = 200, description = "Updated", body = Session, headers(("ETag" = String, description = "Its version, quoted"))),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        BodyErrors,
        Common,
    )
)]
#[put("/sessions/{id}")]
pub async fn put_session(
    caller: Caller,
    pool: web::Data<DbPool>,
    request: HttpRequest,
    if_match: IfMatch,
    body: JsonBody<SessionInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::TrainingsWrite)?;
    let reference = reference_of(&request)?;
    let input = body.into_inner()?;
    let mut conn = pool.get().await?;
    let upserted = upsert::session(&mut conn, &caller, &reference, input, &if_match).await?;
    Ok(upserted_response(upserted, "sessions"))
}

/// Create an enrolment by your reference
///
/// The path is `/api/v1/enrolments/ref:<your reference>`. Enrols (201, with every rule of the
/// create operation) if the reference is new to your client; a repeat with the same chef de
/// projet and session answers 200 with the enrolment as it is; another pair is a 422. An
/// enrolment then changes through its transitions.
#[utoipa::path(
    tag = "enrolments",
    operation_id = "put_enrolment_by_reference",
    security(("oauth2" = ["enrolments:write"])),
    params(("id" = String, Path, description = "`ref:` followed by your reference", example = "ref:cnfpt-insc-7781")),
    request_body = EnrolmentInput,
    responses(
        (status = 201, description = "Enrolled", body = Enrolment,
            headers(("Location" = String, description = "The enrolment's URL by id"), ("ETag" = String, description = "Its version, quoted"))),
        (status = 200, description = "Already enrolled under this reference", body = Enrolment),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        BodyErrors,
        Common,
    )
)]
#[put("/enrolments/{id}")]
pub async fn put_enrolment(
    caller: Caller,
    pool: web::Data<DbPool>,
    request: HttpRequest,
    body: JsonBody<EnrolmentInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EnrolmentsWrite)?;
    let reference = reference_of(&request)?;
    let input = body.into_inner()?;
    let mut conn = pool.get().await?;
    let visibility = caller.visibility();
    let upserted = upsert::enrolment(&mut conn, &caller, &reference, input)
        .await?
        .then(async |id| crate::enrolments::store::find(&mut conn, id, &visibility).await)
        .await?;
    Ok(upserted_response(upserted, "enrolments"))
}

/// Upsert sessions in a batch
///
/// Up to 1,000 items, each a session body plus its `ref`, applied like
/// `PUT /sessions/ref:<ref>`, in one transaction where each item has its own savepoint: an
/// invalid item gets its problem in `results` and the valid ones are kept.
#[utoipa::path(
    tag = "sessions",
    operation_id = "upsert_sessions",
    security(("oauth2" = ["trainings:write"])),
    request_body = BatchRequest,
    responses(
        (status = 200, description = "One result per item", body = BatchResponse),
        BodyErrors,
        Common,
    )
)]
#[post("/sessions/batch")]
pub async fn upsert_sessions(
    caller: Caller,
    idempotency: IdempotencyKey,
    pool: web::Data<DbPool>,
    body: JsonBody<BatchRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::TrainingsWrite)?;
    let raw = body.raw().to_vec();
    idempotency::run(&pool, &caller, &idempotency, &raw, async |conn| {
        let batch = body.into_inner()?;
        check_size(&batch)?;
        let no_precondition = IfMatch::default();
        let response = conn
            .transaction::<_, ApiError, _>(async |conn| {
                let mut response = BatchResponse::new();
                for (index, item) in batch.items.into_iter().enumerate() {
                    let (reference, input) = read_item::<SessionInput>(index, item);
                    let outcome = match (&reference, input) {
                        (Some(reference), Ok(input)) => {
                            upsert::session(conn, &caller, reference, input, &no_precondition).await
                        }
                        (_, Err(error)) => Err(error),
                        (None, Ok(_)) => Err(ApiError::internal("an item without reference")),
                    };
                    match outcome {
                        Ok(Upserted::Created(s)) => {
                            response.push_ok(index, reference.unwrap_or_default(), s.id, true)
                        }
                        Ok(Upserted::Updated(s)) => {
                            response.push_ok(index, reference.unwrap_or_default(), s.id, false)
                        }
                        Err(error) => response.push_error(index, reference, &error),
                    }
                }
                Ok(response)
            })
            .await?;
        Ok(HttpResponse::Ok().json(response))
    })
    .await
}

/// Upsert enrolments in a batch
///
/// Up to 1,000 items, each `{ref, session_id, chef_de_projet_id}`, applied like
/// `PUT /enrolments/ref:<ref>` (same rules, same problems), in one transaction read and written
/// set by set: an invalid or ineligible item gets its problem in `results` and the others are
/// kept.
#[utoipa::path(
    tag = "enrolments",
    operation_id = "upsert_enrolments",
    security(("oauth2" = ["enrolments:write"])),
    request_body = BatchRequest,
    responses(
        (status = 200, description = "One result per item", body = BatchResponse),
        BodyErrors,
        Common,
    )
)]
#[post("/enrolments/batch")]
pub async fn upsert_enrolments(
    caller: Caller,
    idempotency: IdempotencyKey,
    pool: web::Data<DbPool>,
    body: JsonBody<BatchRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EnrolmentsWrite)?;
    let raw = body.raw().to_vec();
    idempotency::run(&pool, &caller, &idempotency, &raw, async |conn| {
        let batch = body.into_inner()?;
        check_size(&batch)?;
        let mut unreadable = Vec::new();
        let mut items = Vec::new();
        for (index, item) in batch.items.into_iter().enumerate() {
            match read_item::<EnrolmentInput>(index, item) {
                (Some(reference), Ok(input)) => items.push(enrolment_batch::Item {
                    index,
                    reference,
                    input,
                }),
                (reference, Err(error)) => unreadable.push((index, reference, error)),
                (None, Ok(_)) => {
                    let error = ApiError::internal("an item without reference");
                    unreadable.push((index, None, error));
                }
            }
        }
        let references: HashMap<usize, String> = items
            .iter()
            .map(|item| (item.index, item.reference.clone()))
            .collect();
        let mut outcomes = conn
            .transaction::<_, ApiError, _>(async |conn| {
                enrolment_batch::apply(conn, &caller, items).await
            })
            .await?;
        let mut unreadable: HashMap<usize, (Option<String>, ApiError)> = unreadable
            .into_iter()
            .map(|(index, reference, error)| (index, (reference, error)))
            .collect();
        let mut response = BatchResponse::new();
        for index in 0..references.len() + unreadable.len() {
            if let Some((reference, error)) = unreadable.remove(&index) {
                response.push_error(index, reference, &error);
                continue;
            }
            let reference = references.get(&index).cloned();
            match outcomes.remove(&index) {
                Some(Ok((id, created))) => {
                    response.push_ok(index, reference.unwrap_or_default(), id, created)
                }
                Some(Err(error)) => response.push_error(index, reference, &error),
                None => response.push_error(
                    index,
                    reference,
                    &ApiError::internal("an item without outcome"),
                ),
            }
        }
        Ok(HttpResponse::Ok().json(response))
    })
    .await
}

/// Create or update a training by your reference
///
/// The path is `/api/v1/trainings/ref:<your reference>`. Creates (201) if the reference is new to
/// your client, else applies the body (200) like a merge patch: fields left out keep their value.
/// `If-Match` applies to the update.
#[utoipa::path(
    tag = "trainings",
    operation_id = "put_training_by_reference",
    security(("oauth2" = ["trainings:write"])),
    params(
        ("id" = String, Path, description = "`ref:` followed by your reference", example = "ref:partner-0042"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` an update is based on"),
    ),
    request_body = TrainingInput,
    responses(
        (status = 201, description = "Created", body = Training,
            headers(("Location" = String, description = "The URL by id"), ("ETag" = String, description = "Its version, quoted"))),
        (status = 200, description = "Updated", body = Training, headers(("ETag" = String, description = "Its version, quoted"))),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        BodyErrors,
        Common,
    )
)]
#[put("/trainings/{id}")]
pub async fn put_training_by_reference(
    caller: Caller,
    pool: web::Data<DbPool>,
    request: HttpRequest,
    if_match: IfMatch,
    body: JsonBody<TrainingInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::TrainingsWrite)?;
    let reference = reference_of(&request)?;
    let input = body.into_inner()?;
    let mut conn = pool.get().await?;
    let upserted = upsert::training(&mut conn, &caller, &reference, input, &if_match).await?;
    Ok(upserted_response(upserted, "trainings"))
}

/// Create or update a territory by your reference
///
/// The path is `/api/v1/collectivites/ref:<your reference>`. Creates (201) if the reference is new to
/// your client, else applies the body (200) like a merge patch: fields left out keep their value.
/// `If-Match` applies to the update.
#[utoipa::path(
    tag = "collectivites",
    operation_id = "put_collectivite_by_reference",
    security(("oauth2" = ["collectivites:write"])),
    params(
        ("id" = String, Path, description = "`ref:` followed by your reference", example = "ref:partner-0042"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` an update is based on"),
    ),
    request_body = CollectiviteInput,
    responses(
        (status = 201, description = "Created", body = Collectivite,
            headers(("Location" = String, description = "The URL by id"), ("ETag" = String, description = "Its version, quoted"))),
        (status = 200, description = "Updated", body = Collectivite, headers(("ETag" = String, description = "Its version, quoted"))),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        BodyErrors,
        Common,
    )
)]
#[put("/collectivites/{id}")]
pub async fn put_collectivite_by_reference(
    caller: Caller,
    pool: web::Data<DbPool>,
    request: HttpRequest,
    if_match: IfMatch,
    body: JsonBody<CollectiviteInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CollectivitesWrite)?;
    let reference = reference_of(&request)?;
    let input = body.into_inner()?;
    let mut conn = pool.get().await?;
    let upserted = upsert::collectivite(&mut conn, &caller, &reference, input, &if_match).await?;
    Ok(upserted_response(upserted, "collectivites"))
}

/// Create or update a chef de projet by your reference
///
/// The path is `/api/v1/chefs_de_projet/ref:<your reference>`. Creates (201) if the reference is new to
/// your client, else applies the body (200) like a merge patch: fields left out keep their value.
/// `If-Match` applies to the update.
#[utoipa::path(
    tag = "chefs_de_projet",
    operation_id = "put_chef_de_projet_by_reference",
    security(("oauth2" = ["people:write"])),
    params(
        ("id" = String, Path, description = "`ref:` followed by your reference", example = "ref:partner-0042"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` an update is based on"),
    ),
    request_body = ChefDeProjetInput,
    responses(
        (status = 201, description = "Created", body = ChefDeProjet,
            headers(("Location" = String, description = "The URL by id"), ("ETag" = String, description = "Its version, quoted"))),
        (status = 200, description = "Updated", body = ChefDeProjet, headers(("ETag" = String, description = "Its version, quoted"))),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        BodyErrors,
        Common,
    )
)]
#[put("/chefs_de_projet/{id}")]
pub async fn put_chef_de_projet_by_reference(
    caller: Caller,
    pool: web::Data<DbPool>,
    request: HttpRequest,
    if_match: IfMatch,
    body: JsonBody<ChefDeProjetInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PeopleWrite)?;
    let reference = reference_of(&request)?;
    let input = body.into_inner()?;
    let mut conn = pool.get().await?;
    let upserted = upsert::chef_de_projet(&mut conn, &caller, &reference, input, &if_match).await?;
    Ok(upserted_response(upserted, "chefs_de_projet"))
}

/// Create or update a programme by your reference
///
/// The path is `/api/v1/programmes/ref:<your reference>`. Creates (201) if the reference is new to
/// your client, else applies the body (200) like a merge patch: fields left out keep their value.
/// `If-Match` applies to the update.
#[utoipa::path(
    tag = "programmes",
    operation_id = "put_programme_by_reference",
    security(("oauth2" = ["programmes:write"])),
    params(
        ("id" = String, Path, description = "`ref:` followed by your reference", example = "ref:partner-0042"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` an update is based on"),
    ),
    request_body = ProgrammeInput,
    responses(
        (status = 201, description = "Created", body = Programme,
            headers(("Location" = String, description = "The URL by id"), ("ETag" = String, description = "Its version, quoted"))),
        (status = 200, description = "Updated", body = Programme, headers(("ETag" = String, description = "Its version, quoted"))),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        BodyErrors,
        Common,
    )
)]
#[put("/programmes/{id}")]
pub async fn put_programme_by_reference(
    caller: Caller,
    pool: web::Data<DbPool>,
    request: HttpRequest,
    if_match: IfMatch,
    body: JsonBody<ProgrammeInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ProgrammesWrite)?;
    let reference = reference_of(&request)?;
    let input = body.into_inner()?;
    let mut conn = pool.get().await?;
    let upserted = upsert::programme(&mut conn, &caller, &reference, input, &if_match).await?;
    Ok(upserted_response(upserted, "programmes"))
}

/// 201 with `Location` for a creation, 200 for an update.
fn upserted_response<T: ETagged + serde::Serialize + Identified>(
    upserted: Upserted<T>,
    collection: &str,
) -> HttpResponse {
    match upserted {
        Upserted::Created(resource) => {
            let location = format!("/api/v1/{collection}/{}", resource.id());
            created_response(&resource, location)
        }
        Upserted::Updated(resource) => updated_response(&resource),
    }
}
