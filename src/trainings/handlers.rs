//! The training operations.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use serde_json::{Map, Value};

use crate::auth::{Caller, Scope};
use crate::db::{reads::ReadConnections, DbPool};
use crate::error::ApiError;
use crate::http::conditional::{created_response, read_response, updated_response};
use crate::http::{IfMatch, IfNoneMatch, JsonBody, Page, QueryParams, ResourceKey};
use crate::idempotency::{self, IdempotencyKey};
use crate::openapi::responses::{
    BadRequest, BodyErrors, Common, Conflict, NotFound, PreconditionFailed,
};
use crate::trainings::domain::TrainingDraft;
use crate::trainings::store;
use crate::trainings::views::{Training, TrainingFilter, TrainingInput, TrainingPatch};

/// List trainings
///
/// Live trainings in creation order, one page at a time. Follow `next_cursor` (or the `Link`
/// header) until it is `null`.
#[utoipa::path(
    tag = "trainings",
    operation_id = "list_trainings",
    security(("oauth2" = ["trainings:read"])),
    params(TrainingFilter),
    responses(
        (status = 200, description = "One page of trainings", body = Page<Training>,
            headers(
                ("Link" = String, description = "`<url>; rel=\"next\"` when another page follows"),
                ("X-Feed-Cursor" = String, description = "The change-feed cursor this page is consistent with: follow `GET /api/v1/changes?after=` from it after a full pull"))),
        (status = 400, response = BadRequest),
        Common,
    )
)]
#[get("/trainings")]
pub async fn list_trainings(
    caller: Caller,
    pool: web::Data<DbPool>,
    query: QueryParams<TrainingFilter>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::TrainingsRead)?;
    let filter = query.0;
    let mut conn = pool.get().await?;
    let visibility = caller.visibility();
    // The page and the feed cursor come from one snapshot: following the feed from that cursor
    // misses nothing and repeats nothing.
    let (rows, feed) = conn
        .build_transaction()
        .repeatable_read()
        .read_only()
        .run::<_, ApiError, _>(async |conn| {
            let rows = store::list(conn, &filter, &visibility).await?;
            Ok((rows, crate::changes::store::head(conn).await?))
        })
        .await?;
    Ok(Page::from_rows(rows, filter.limit).into_response(&request, feed))
}

/// Read a training
///
/// With `If-None-Match` holding the current `ETag`, the answer is 304 with no body.
#[utoipa::path(
    tag = "trainings",
    operation_id = "get_training",
    security(("oauth2" = ["trainings:read"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The training's id"),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` the client holds: 304 if it is still current"),
    ),
    responses(
        (status = 200, description = "The training", body = Training,
            headers(("ETag" = String, description = "The training's version, quoted"))),
        (status = 304, description = "The client's copy is current",
            headers(("ETag" = String, description = "The training's version, quoted"))),
        (status = 404, response = NotFound),
        Common,
    )
)]
#[get("/trainings/{id}")]
pub async fn get_training(
    caller: Caller,
    reads: web::Data<ReadConnections>,
    key: ResourceKey,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::TrainingsRead)?;
    let conn = reads.get().await?;
    let training = store::find(&conn, key.0, &caller.visibility()).await?;
    Ok(read_response(&training, &if_none_match))
}

/// Create a training
///
/// The catalogue code is unique among live trainings (409). Target programmes are named by code
/// (422 for an unknown one); none means the training is open to every programme. Only
/// `published` trainings take enrolments.
#[utoipa::path(
    tag = "trainings",
    operation_id = "create_training",
    security(("oauth2" = ["trainings:write"])),
    request_body = TrainingInput,
    responses(
        (status = 201, description = "Created", body = Training,
            headers(
                ("Location" = String, description = "The new training's URL"),
                ("ETag" = String, description = "The training's version, quoted"))),
        (status = 409, response = Conflict),
        BodyErrors,
        Common,
    )
)]
#[post("/trainings")]
pub async fn create_training(
    caller: Caller,
    idempotency: IdempotencyKey,
    pool: web::Data<DbPool>,
    body: JsonBody<TrainingInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::TrainingsWrite)?;
    let raw = body.raw().to_vec();
    idempotency::run(&pool, &caller, &idempotency, &raw, async |conn| {
        let body = body.into_inner()?;
        let draft = TrainingDraft::try_from(body)?;
        let training = store::create(conn, &draft, &caller.visibility()).await?;
        let location = format!("/api/v1/trainings/{}", training.id);
        Ok(created_response(&training, location))
    })
    .await
}

/// Update a training
///
/// A JSON merge patch (RFC 7386): send only the fields to change, `null` to clear an optional
/// one. With `If-Match`, the change applies only if the training is still at that version
/// (otherwise 412 with the current state). A patch that changes nothing keeps the version.
#[utoipa::path(
    tag = "trainings",
    operation_id = "update_training",
    security(("oauth2" = ["trainings:write"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The training's id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the change is based on"),
    ),
    request_body(content = TrainingPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The updated training", body = Training,
            headers(("ETag" = String, description = "The training's new version, quoted"))),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        BodyErrors,
        Common,
    )
)]
#[patch("/trainings/{id}")]
pub async fn update_training(
    caller: Caller,
    pool: web::Data<DbPool>,
    key: ResourceKey,
    if_match: IfMatch,
    body: JsonBody<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::TrainingsWrite)?;
    let body = body.into_inner()?;
    let mut conn = pool.get().await?;
    let training = store::update(&mut conn, key.0, &if_match, body, &caller.visibility()).await?;
    Ok(updated_response(&training))
}

/// Delete a training
///
/// A soft delete: the training disappears from reads and lists, partners syncing the API
/// learn of the deletion. A training with sessions cannot be deleted (409): archive it.
#[utoipa::path(
    tag = "trainings",
    operation_id = "delete_training",
    security(("oauth2" = ["trainings:write"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The training's id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the deletion is based on"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        Common,
    )
)]
#[delete("/trainings/{id}")]
pub async fn delete_training(
    caller: Caller,
    pool: web::Data<DbPool>,
    key: ResourceKey,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::TrainingsWrite)?;
    let mut conn = pool.get().await?;
    store::delete(&mut conn, key.0, &if_match, &caller.visibility()).await?;
    Ok(HttpResponse::NoContent().finish())
}
