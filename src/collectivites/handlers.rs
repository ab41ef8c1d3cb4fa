//! The territory operations.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use serde_json::{Map, Value};

use crate::auth::{Caller, Scope};
use crate::collectivites::domain::CollectiviteDraft;
use crate::collectivites::store;
use crate::collectivites::views::{
    Collectivite, CollectiviteFilter, CollectiviteInput, CollectivitePatch,
};
use crate::db::DbPool;
use crate::error::ApiError;
use crate::http::conditional::{created_response, read_response, updated_response};
use crate::http::{IfMatch, IfNoneMatch, JsonBody, Page, QueryParams, ResourceKey};
use crate::idempotency::{self, IdempotencyKey};
use crate::openapi::responses::{
    BadRequest, BodyErrors, Common, Conflict, NotFound, PreconditionFailed,
};

/// List territories
///
/// Live territories in creation order, one page at a time. Follow `next_cursor` (or the `Link`
/// header) until it is `null`.
#[utoipa::path(
    tag = "collectivites",
    operation_id = "list_collectivites",
    security(("oauth2" = ["collectivites:read"])),
    params(CollectiviteFilter),
    responses(
        (status = 200, description = "One page of territories", body = Page<Collectivite>,
            headers(
                ("Link" = String, description = "`<url>; rel=\"next\"` when another page follows"),
                ("X-Feed-Cursor" = String, description = "The change-feed cursor this page is consistent with: follow `GET /api/v1/changes?after=` from it after a full pull"))),
        (status = 400, response = BadRequest),
        Common,
    )
)]
#[get("/collectivites")]
pub async fn list_collectivites(
    caller: Caller,
    pool: web::Data<DbPool>,
    query: QueryParams<CollectiviteFilter>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CollectivitesRead)?;
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

/// Read a territory
///
/// With `If-None-Match` holding the current `ETag`, the answer is 304 with no body.
#[utoipa::path(
    tag = "collectivites",
    operation_id = "get_collectivite",
    security(("oauth2" = ["collectivites:read"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The territory's id"),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` the client holds: 304 if it is still current"),
    ),
    responses(
        (status = 200, description = "The territory", body = Collectivite,
            headers(("ETag" = String, description = "The territory's version, quoted"))),
        (status = 304, description = "The client's copy is current",
            headers(("ETag" = String, description = "The territory's version, quoted"))),
        (status = 404, response = NotFound),
        Common,
    )
)]
#[get("/collectivites/{id}")]
pub async fn get_collectivite(
    caller: Caller,
    pool: web::Data<DbPool>,
    key: ResourceKey,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CollectivitesRead)?;
    let mut conn = pool.get().await?;
    let collectivite = store::find(&mut conn, key.0, &caller.visibility()).await?;
    Ok(read_response(&collectivite, &if_none_match))
}

/// Create a territory
///
/// A commune is known by its INSEE code and code-list year, any territory by its SIREN: both are
/// unique among live territories (409). Programmes are named by code (422 for an unknown one).
#[utoipa::path(
    tag = "collectivites",
    operation_id = "create_collectivite",
    security(("oauth2" = ["collectivites:write"])),
    request_body = CollectiviteInput,
    responses(
        (status = 201, description = "Created", body = Collectivite,
            headers(
                ("Location" = String, description = "The new territory's URL"),
                ("ETag" = String, description = "The territory's version, quoted"))),
        (status = 409, response = Conflict),
        BodyErrors,
        Common,
    )
)]
#[post("/collectivites")]
pub async fn create_collectivite(
    caller: Caller,
    idempotency: IdempotencyKey,
    pool: web::Data<DbPool>,
    body: JsonBody<CollectiviteInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CollectivitesWrite)?;
    let raw = body.raw().to_vec();
    idempotency::run(&pool, &caller, &idempotency, &raw, async |conn| {
        let body = body.into_inner()?;
        let draft = CollectiviteDraft::try_from(body)?;
        let collectivite = store::create(conn, &draft, &caller.visibility()).await?;
        let location = format!("/api/v1/collectivites/{}", collectivite.id);
        Ok(created_response(&collectivite, location))
    })
    .await
}

/// Update a territory
///
/// A JSON merge patch (RFC 7386): send only the fields to change, `null` to clear an optional
/// one. With `If-Match`, the change applies only if the territory is still at that version
/// (otherwise 412 with the current state). A patch that changes nothing keeps the version.
#[utoipa::path(
    tag = "collectivites",
    operation_id = "update_collectivite",
    security(("oauth2" = ["collectivites:write"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The territory's id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the change is based on"),
    ),
    request_body(content = CollectivitePatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The updated territory", body = Collectivite,
            headers(("ETag" = String, description = "The territory's new version, quoted"))),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        BodyErrors,
        Common,
    )
)]
#[patch("/collectivites/{id}")]
pub async fn update_collectivite(
    caller: Caller,
    pool: web::Data<DbPool>,
    key: ResourceKey,
    if_match: IfMatch,
    body: JsonBody<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CollectivitesWrite)?;
    let body = body.into_inner()?;
    let mut conn = pool.get().await?;
    let collectivite =
        store::update(&mut conn, key.0, &if_match, body, &caller.visibility()).await?;
    Ok(updated_response(&collectivite))
}

/// Delete a territory
///
/// A soft delete: the territory disappears from reads and lists, partners syncing the API
/// learn of the deletion. A territory that employs chefs de projet cannot be deleted (409).
#[utoipa::path(
    tag = "collectivites",
    operation_id = "delete_collectivite",
    security(("oauth2" = ["collectivites:write"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The territory's id"),
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
#[delete("/collectivites/{id}")]
pub async fn delete_collectivite(
    caller: Caller,
    pool: web::Data<DbPool>,
    key: ResourceKey,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CollectivitesWrite)?;
    let mut conn = pool.get().await?;
    store::delete(&mut conn, key.0, &if_match, &caller.visibility()).await?;
    Ok(HttpResponse::NoContent().finish())
}
