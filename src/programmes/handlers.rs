//! The programme operations.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use serde_json::{Map, Value};

use crate::auth::{Caller, Scope};
use crate::db::DbPool;
use crate::error::ApiError;
use crate::http::conditional::{created_response, read_response, updated_response};
use crate::http::{IfMatch, IfNoneMatch, JsonBody, Page, QueryParams, ResourceKey};
use crate::idempotency::{self, IdempotencyKey};
use crate::openapi::responses::{
    BadRequest, BodyErrors, Common, Conflict, NotFound, PreconditionFailed,
};
use crate::programmes::domain::ProgrammeDraft;
use crate::programmes::store;
use crate::programmes::views::{Programme, ProgrammeFilter, ProgrammeInput, ProgrammePatch};

/// List programmes
///
/// Live programmes in creation order, one page at a time. Follow `next_cursor` (or the `Link`
/// header) until it is `null`.
#[utoipa::path(
    tag = "programmes",
    operation_id = "list_programmes",
    security(("oauth2" = ["programmes:read"])),
    params(ProgrammeFilter),
    responses(
        (status = 200, description = "One page of programmes", body = Page<Programme>,
            headers(
                ("Link" = String, description = "`<url>; rel=\"next\"` when another page follows"),
                ("X-Feed-Cursor" = String, description = "The change-feed cursor this page is consistent with: follow `GET /api/v1/changes?after=` from it after a full pull"))),
        (status = 400, response = BadRequest),
        Common,
    )
)]
#[get("/programmes")]
pub async fn list_programmes(
    caller: Caller,
    pool: web::Data<DbPool>,
    query: QueryParams<ProgrammeFilter>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ProgrammesRead)?;
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

/// Read a programme
///
/// With `If-None-Match` holding the current `ETag`, the answer is 304 with no body.
#[utoipa::path(
    tag = "programmes",
    operation_id = "get_programme",
    security(("oauth2" = ["programmes:read"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The programme's id"),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` the client holds: 304 if it is still current"),
    ),
    responses(
        (status = 200, description = "The programme", body = Programme,
            headers(("ETag" = String, description = "The programme's version, quoted"))),
        (status = 304, description = "The client's copy is current",
            headers(("ETag" = String, description = "The programme's version, quoted"))),
        (status = 404, response = NotFound),
        Common,
    )
)]
#[get("/programmes/{id}")]
pub async fn get_programme(
    caller: Caller,
    pool: web::Data<DbPool>,
    key: ResourceKey,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ProgrammesRead)?;
    let mut conn = pool.get().await?;
    let programme = store::find(&mut conn, key.0, &caller.visibility()).await?;
    Ok(read_response(&programme, &if_none_match))
}

/// Create a programme
///
/// The code must not be taken by another live programme.
#[utoipa::path(
    tag = "programmes",
    operation_id = "create_programme",
    security(("oauth2" = ["programmes:write"])),
    request_body = ProgrammeInput,
    responses(
        (status = 201, description = "Created", body = Programme,
            headers(
                ("Location" = String, description = "The new programme's URL"),
                ("ETag" = String, description = "The programme's version, quoted"))),
        (status = 409, response = Conflict),
        BodyErrors,
        Common,
    )
)]
#[post("/programmes")]
pub async fn create_programme(
    caller: Caller,
    idempotency: IdempotencyKey,
    pool: web::Data<DbPool>,
    body: JsonBody<ProgrammeInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ProgrammesWrite)?;
    caller.require_unrestricted()?;
    let raw = body.raw().to_vec();
    idempotency::run(&pool, &caller, &idempotency, &raw, async |conn| {
        let body = body.into_inner()?;
        let draft = ProgrammeDraft::try_from(body)?;
        let programme = store::create(conn, &draft).await?;
        let location = format!("/api/v1/programmes/{}", programme.id);
        Ok(created_response(&programme, location))
    })
    .await
}

/// Update a programme
///
/// A JSON merge patch (RFC 7386): send only the fields to change, `null` to clear an optional
/// one. With `If-Match`, the change applies only if the programme is still at that version
/// (otherwise 412 with the current state). A patch that changes nothing keeps the version.
#[utoipa::path(
    tag = "programmes",
    operation_id = "update_programme",
    security(("oauth2" = ["programmes:write"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The programme's id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the change is based on"),
    ),
    request_body(content = ProgrammePatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The updated programme", body = Programme,
            headers(("ETag" = String, description = "The programme's new version, quoted"))),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        BodyErrors,
        Common,
    )
)]
#[patch("/programmes/{id}")]
pub async fn update_programme(
    caller: Caller,
    pool: web::Data<DbPool>,
    key: ResourceKey,
    if_match: IfMatch,
    body: JsonBody<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ProgrammesWrite)?;
    let body = body.into_inner()?;
    let mut conn = pool.get().await?;
    let programme = store::update(&mut conn, key.0, &if_match, body, &caller.visibility()).await?;
    Ok(updated_response(&programme))
}

/// Delete a programme
///
/// A soft delete: the programme disappears from reads and lists, partners syncing the API
/// learn of the deletion, and its code can be used again.
#[utoipa::path(
    tag = "programmes",
    operation_id = "delete_programme",
    security(("oauth2" = ["programmes:write"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The programme's id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the deletion is based on"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        Common,
    )
)]
#[delete("/programmes/{id}")]
pub async fn delete_programme(
    caller: Caller,
    pool: web::Data<DbPool>,
    key: ResourceKey,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ProgrammesWrite)?;
    let mut conn = pool.get().await?;
    store::delete(&mut conn, key.0, &if_match, &caller.visibility()).await?;
    Ok(HttpResponse::NoContent().finish())
}
