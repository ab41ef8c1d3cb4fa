//! The chef de projet operations.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use serde_json::{Map, Value};

use crate::auth::{Caller, Scope};
use crate::chefs_de_projet::domain::ChefDraft;
use crate::chefs_de_projet::store;
use crate::chefs_de_projet::views::{
    ChefDeProjet, ChefDeProjetInput, ChefDeProjetPatch, ChefFilter,
};
use crate::db::DbPool;
use crate::error::ApiError;
use crate::http::conditional::{created_response, read_response, updated_response};
use crate::http::{IfMatch, IfNoneMatch, JsonBody, Page, QueryParams, ResourceKey};
use crate::idempotency::{self, IdempotencyKey};
use crate::openapi::responses::{
    BadRequest, BodyErrors, Common, Conflict, NotFound, PreconditionFailed,
};

/// List chefs de projet
///
/// Live chefs de projet in creation order, one page at a time. Follow `next_cursor` (or the `Link`
/// header) until it is `null`.
#[utoipa::path(
    tag = "chefs_de_projet",
    operation_id = "list_chefs_de_projet",
    security(("oauth2" = ["people:read"])),
    params(ChefFilter),
    responses(
        (status = 200, description = "One page of chefs de projet", body = Page<ChefDeProjet>,
            headers(
                ("Link" = String, description = "`<url>; rel=\"next\"` when another page follows"),
                ("X-Feed-Cursor" = String, description = "The change-feed cursor this page is consistent with: follow `GET /api/v1/changes?after=` from it after a full pull"))),
        (status = 400, response = BadRequest),
        Common,
    )
)]
#[get("/chefs_de_projet")]
pub async fn list_chefs_de_projet(
    caller: Caller,
    pool: web::Data<DbPool>,
    query: QueryParams<ChefFilter>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PeopleRead)?;
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

/// Read a chef de projet
///
/// With `If-None-Match` holding the current `ETag`, the answer is 304 with no body.
#[utoipa::path(
    tag = "chefs_de_projet",
    operation_id = "get_chef_de_projet",
    security(("oauth2" = ["people:read"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The person's id"),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` the client holds: 304 if it is still current"),
    ),
    responses(
        (status = 200, description = "The chef de projet", body = ChefDeProjet,
            headers(("ETag" = String, description = "The person's version, quoted"))),
        (status = 304, description = "The client's copy is current",
            headers(("ETag" = String, description = "The person's version, quoted"))),
        (status = 404, response = NotFound),
        Common,
    )
)]
#[get("/chefs_de_projet/{id}")]
pub async fn get_chef_de_projet(
    caller: Caller,
    pool: web::Data<DbPool>,
    key: ResourceKey,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PeopleRead)?;
    let mut conn = pool.get().await?;
    let chef = store::find(&mut conn, key.0, &caller.visibility()).await?;
    Ok(read_response(&chef, &if_none_match))
}

/// Create a chef de projet
///
/// The e-mail address is unique whatever its case (409). The employer must be a live territory
/// and programmes are named by code (422 otherwise).
#[utoipa::path(
    tag = "chefs_de_projet",
    operation_id = "create_chef_de_projet",
    security(("oauth2" = ["people:write"])),
    request_body = ChefDeProjetInput,
    responses(
        (status = 201, description = "Created", body = ChefDeProjet,
            headers(
                ("Location" = String, description = "The new person's URL"),
                ("ETag" = String, description = "The person's version, quoted"))),
        (status = 409, response = Conflict),
        BodyErrors,
        Common,
    )
)]
#[post("/chefs_de_projet")]
pub async fn create_chef_de_projet(
    caller: Caller,
    idempotency: IdempotencyKey,
    pool: web::Data<DbPool>,
    body: JsonBody<ChefDeProjetInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PeopleWrite)?;
    let raw = body.raw().to_vec();
    idempotency::run(&pool, &caller, &idempotency, &raw, async |conn| {
        let body = body.into_inner()?;
        let draft = ChefDraft::try_from(body)?;
        let chef = store::create(conn, &draft, &caller.visibility()).await?;
        let location = format!("/api/v1/chefs_de_projet/{}", chef.id);
        Ok(created_response(&chef, location))
    })
    .await
}

/// Update a chef de projet
///
/// A JSON merge patch (RFC 7386): send only the fields to change, `null` to clear an optional
/// one. With `If-Match`, the change applies only if the chef de projet is still at that version
/// (otherwise 412 with the current state). A patch that changes nothing keeps the version.
#[utoipa::path(
    tag = "chefs_de_projet",
    operation_id = "update_chef_de_projet",
    security(("oauth2" = ["people:write"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The person's id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the change is based on"),
    ),
    request_body(content = ChefDeProjetPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The updated chef de projet", body = ChefDeProjet,
            headers(("ETag" = String, description = "The person's new version, quoted"))),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        BodyErrors,
        Common,
    )
)]
#[patch("/chefs_de_projet/{id}")]
pub async fn update_chef_de_projet(
    caller: Caller,
    pool: web::Data<DbPool>,
    key: ResourceKey,
    if_match: IfMatch,
    body: JsonBody<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PeopleWrite)?;
    let body = body.into_inner()?;
    let mut conn = pool.get().await?;
    let chef = store::update(&mut conn, key.0, &if_match, body, &caller.visibility()).await?;
    Ok(updated_response(&chef))
}

/// Delete a chef de projet
///
/// A soft delete: the chef de projet disappears from reads and lists, partners syncing the API
/// learn of the deletion. Their enrolments stay, for the statistics. To remove personal data for
/// good, use the erasure operation.
#[utoipa::path(
    tag = "chefs_de_projet",
    operation_id = "delete_chef_de_projet",
    security(("oauth2" = ["people:write"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The person's id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the deletion is based on"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        Common,
    )
)]
#[delete("/chefs_de_projet/{id}")]
pub async fn delete_chef_de_projet(
    caller: Caller,
    pool: web::Data<DbPool>,
    key: ResourceKey,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PeopleWrite)?;
    let mut conn = pool.get().await?;
    store::delete(&mut conn, key.0, &if_match, &caller.visibility()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Erase a chef de projet's personal data (GDPR)
///
/// Names, e-mail and phone are replaced by placeholders, the status becomes `left` and
/// `erased_at` is set; the record keeps its id so enrolment statistics stay whole, and partners
/// syncing the API receive the anonymised record. Erasing twice is harmless.
#[utoipa::path(
    tag = "chefs_de_projet",
    operation_id = "erase_chef_de_projet",
    security(("oauth2" = ["people:write"])),
    params(("id" = uuid::Uuid, Path, description = "The chef de projet's id")),
    responses(
        (status = 200, description = "The anonymised record", body = ChefDeProjet,
            headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 404, response = NotFound),
        Common,
    )
)]
#[post("/chefs_de_projet/{id}/erasure")]
pub async fn erase_chef_de_projet(
    caller: Caller,
    idempotency: IdempotencyKey,
    pool: web::Data<DbPool>,
    key: ResourceKey,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PeopleWrite)?;
    idempotency::run(&pool, &caller, &idempotency, &[], async |conn| {
        let chef =
            crate::enrolments::erasure::erase_chef(conn, key.0, &caller.visibility()).await?;
        Ok(updated_response(&chef))
    })
    .await
}
