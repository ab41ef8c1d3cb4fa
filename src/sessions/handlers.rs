//! The session operations.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use serde_json::{Map, Value};

use crate::auth::{Caller, Scope};
use crate::db::DbPool;
use crate::error::ApiError;
use crate::http::conditional::{created_response, read_response, updated_response};
use crate::http::{IfMatch, IfNoneMatch, JsonBody, Page, QueryParams, ResourceKey};
use crate::idempotency::{self, IdempotencyKey};
use crate::openapi::responses::{
    BadRequest, BodyErrors, Common, Conflict, NotFound, PreconditionFailed, UnprocessableEntity,
};
use crate::sessions::domain::SessionDraft;
use crate::sessions::store;
use crate::sessions::views::{CancelSession, Session, SessionFilter, SessionInput, SessionPatch};

/// List sessions
///
/// Live sessions in creation order, one page at a time. Follow `next_cursor` (or the `Link`
/// header) until it is `null`.
#[utoipa::path(
    tag = "sessions",
    operation_id = "list_sessions",
    security(("oauth2" = ["trainings:read"])),
    params(SessionFilter),
    responses(
        (status = 200, description = "One page of sessions", body = Page<Session>,
            headers(
                ("Link" = String, description = "`<url>; rel=\"next\"` when another page follows"),
                ("X-Feed-Cursor" = String, description = "The change-feed cursor this page is consistent with: follow `GET /api/v1/changes?after=` from it after a full pull"))),
        (status = 400, response = BadRequest),
        Common,
    )
)]
#[get("/sessions")]
pub async fn list_sessions(
    caller: Caller,
    pool: web::Data<DbPool>,
    query: QueryParams<SessionFilter>,
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

/// Read a session
///
/// With `If-None-Match` holding the current `ETag`, the answer is 304 with no body.
#[utoipa::path(
    tag = "sessions",
    operation_id = "get_session",
    security(("oauth2" = ["trainings:read"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The session's id"),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` the client holds: 304 if it is still current"),
    ),
    responses(
        (status = 200, description = "The session", body = Session,
            headers(("ETag" = String, description = "The session's version, quoted"))),
        (status = 304, description = "The client's copy is current",
            headers(("ETag" = String, description = "The session's version, quoted"))),
        (status = 404, response = NotFound),
        Common,
    )
)]
#[get("/sessions/{id}")]
pub async fn get_session(
    caller: Caller,
    pool: web::Data<DbPool>,
    key: ResourceKey,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::TrainingsRead)?;
    let mut conn = pool.get().await?;
    let session = store::find(&mut conn, key.0, &caller.visibility()).await?;
    Ok(read_response(&session, &if_none_match))
}

/// Create a session
///
/// The training must exist and not be archived (422). The enrolment window must close no later
/// than the start, and a session that is not remote needs a location.
#[utoipa::path(
    tag = "sessions",
    operation_id = "create_session",
    security(("oauth2" = ["trainings:write"])),
    request_body = SessionInput,
    responses(
        (status = 201, description = "Created", body = Session,
            headers(
                ("Location" = String, description = "The new session's URL"),
                ("ETag" = String, description = "The session's version, quoted"))),
        BodyErrors,
        Common,
    )
)]
#[post("/sessions")]
pub async fn create_session(
    caller: Caller,
    idempotency: IdempotencyKey,
    pool: web::Data<DbPool>,
    body: JsonBody<SessionInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::TrainingsWrite)?;
    let raw = body.raw().to_vec();
    idempotency::run(&pool, &caller, &idempotency, &raw, async |conn| {
        let body = body.into_inner()?;
        let draft = SessionDraft::try_from(body)?;
        let session = store::create(conn, &draft, &caller.visibility()).await?;
        let location = format!("/api/v1/sessions/{}", session.id);
        Ok(created_response(&session, location))
    })
    .await
}

/// Update a session
///
/// A JSON merge patch (RFC 7386): send only the fields to change, `null` to clear an optional
/// one. With `If-Match`, the change applies only if the session is still at that version
/// (otherwise 412 with the current state). A patch that changes nothing keeps the version.
/// Seat counts and `status` are read-only; raising `capacity` confirms waitlisted enrolments,
/// lowering it below the confirmed ones is a 409 (`capacity_below_confirmed`), and a cancelled or
/// completed session cannot change (409 `session_not_scheduled`).
#[utoipa::path(
    tag = "sessions",
    operation_id = "update_session",
    security(("oauth2" = ["trainings:write"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The session's id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the change is based on"),
    ),
    request_body(content = SessionPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The updated session", body = Session,
            headers(("ETag" = String, description = "The session's new version, quoted"))),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        BodyErrors,
        Common,
    )
)]
#[patch("/sessions/{id}")]
pub async fn update_session(
    caller: Caller,
    pool: web::Data<DbPool>,
    key: ResourceKey,
    if_match: IfMatch,
    body: JsonBody<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::TrainingsWrite)?;
    let body = body.into_inner()?;
    let mut conn = pool.get().await?;
    let session = store::update(
        &mut conn,
        key.0,
        &if_match,
        body,
        &caller.actor(),
        &caller.visibility(),
    )
    .await?;
    Ok(updated_response(&session))
}

/// Delete a session
///
/// A soft delete: the session disappears from reads and lists, partners syncing the API
/// learn of the deletion. A session that has enrolments cannot be deleted (409): cancel it.
#[utoipa::path(
    tag = "sessions",
    operation_id = "delete_session",
    security(("oauth2" = ["trainings:write"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The session's id"),
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
#[delete("/sessions/{id}")]
pub async fn delete_session(
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

/// Cancel a session
///
/// A scheduled session becomes `cancelled`, and every active enrolment on it is cancelled with
/// the reason `session_cancelled` (plus the reason given here).
#[utoipa::path(
    tag = "sessions",
    operation_id = "cancel_session",
    security(("oauth2" = ["trainings:write"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The session's id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the cancellation is based on"),
    ),
    request_body = CancelSession,
    responses(
        (status = 200, description = "The cancelled session", body = Session,
            headers(("ETag" = String, description = "The session's new version, quoted"))),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        BodyErrors,
        Common,
    )
)]
#[post("/sessions/{id}/cancel")]
pub async fn cancel_session(
    caller: Caller,
    idempotency: IdempotencyKey,
    pool: web::Data<DbPool>,
    key: ResourceKey,
    if_match: IfMatch,
    body: JsonBody<CancelSession>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::TrainingsWrite)?;
    let raw = body.raw().to_vec();
    idempotency::run(&pool, &caller, &idempotency, &raw, async |conn| {
        let body = body.into_inner()?;
        let session = store::cancel(
            conn,
            key.0,
            &if_match,
            body.reason,
            &caller.actor(),
            &caller.visibility(),
        )
        .await?;
        Ok(updated_response(&session))
    })
    .await
}

/// Complete a session
///
/// A scheduled session that has ended becomes `completed` (422 `session_not_ended` before).
#[utoipa::path(
    tag = "sessions",
    operation_id = "complete_session",
    security(("oauth2" = ["trainings:write"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The session's id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the change is based on"),
    ),
    responses(
        (status = 200, description = "The completed session", body = Session,
            headers(("ETag" = String, description = "The session's new version, quoted"))),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = UnprocessableEntity),
        Common,
    )
)]
#[post("/sessions/{id}/complete")]
pub async fn complete_session(
    caller: Caller,
    idempotency: IdempotencyKey,
    pool: web::Data<DbPool>,
    key: ResourceKey,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::TrainingsWrite)?;
    idempotency::run(&pool, &caller, &idempotency, &[], async |conn| {
        let session = store::complete(conn, key.0, &if_match, &caller.visibility()).await?;
        Ok(updated_response(&session))
    })
    .await
}
