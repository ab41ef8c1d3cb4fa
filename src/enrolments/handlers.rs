//! The enrolment operations: create, read, list, history, and one operation per transition.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use diesel_async::AsyncConnection;
use uuid::Uuid;

use crate::auth::{Caller, Scope};
use crate::db::DbPool;
use crate::enrolments::lifecycle::{self, Change};
use crate::enrolments::store;
use crate::enrolments::turns::Turns;
use crate::enrolments::views::{
    AttendanceInput, Enrolment, EnrolmentFilter, EnrolmentInput, History, TransitionInput,
};
use crate::error::ApiError;
use crate::http::conditional::{created_response, read_response, updated_response};
use crate::http::{IfMatch, IfNoneMatch, JsonBody, Page, QueryParams, ResourceKey};
use crate::idempotency::{self, IdempotencyKey};
use crate::openapi::responses::{
    BadRequest, BodyErrors, Common, Conflict, NotFound, PreconditionFailed,
};
use crate::values::text;
use crate::{chefs_de_projet, sessions};

/// List enrolments
///
/// Enrolments in creation order, one page at a time, with their waitlist positions.
#[utoipa::path(
    tag = "enrolments",
    operation_id = "list_enrolments",
    security(("oauth2" = ["enrolments:read"])),
    params(EnrolmentFilter),
    responses(
        (status = 200, description = "One page of enrolments", body = Page<Enrolment>,
            headers(
                ("Link" = String, description = "`<url>; rel=\"next\"` when another page follows"),
                ("X-Feed-Cursor" = String, description = "The change-feed cursor this page is consistent with: follow `GET /api/v1/changes?after=` from it after a full pull"))),
        (status = 400, response = BadRequest),
        Common,
    )
)]
#[get("/enrolments")]
pub async fn list_enrolments(
    caller: Caller,
    pool: web::Data<DbPool>,
    query: QueryParams<EnrolmentFilter>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EnrolmentsRead)?;
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

/// Read an enrolment
///
/// With `If-None-Match` holding the current `ETag`, the answer is 304 with no body.
#[utoipa::path(
    tag = "enrolments",
    operation_id = "get_enrolment",
    security(("oauth2" = ["enrolments:read"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The enrolment's id"),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` the client holds: 304 if it is still current"),
    ),
    responses(
        (status = 200, description = "The enrolment", body = Enrolment,
            headers(("ETag" = String, description = "The enrolment's version, quoted"))),
        (status = 304, description = "The client's copy is current"),
        (status = 404, response = NotFound),
        Common,
    )
)]
#[get("/enrolments/{id}")]
pub async fn get_enrolment(
    caller: Caller,
    pool: web::Data<DbPool>,
    key: ResourceKey,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EnrolmentsRead)?;
    let mut conn = pool.get().await?;
    let enrolment = store::find(&mut conn, key.0, &caller.visibility()).await?;
    Ok(read_response(&enrolment, &if_none_match))
}

/// An enrolment's history
///
/// Every transition, oldest first: from, to, who, why, when.
#[utoipa::path(
    tag = "enrolments",
    operation_id = "get_enrolment_history",
    security(("oauth2" = ["enrolments:read"])),
    params(("id" = uuid::Uuid, Path, description = "The enrolment's id")),
    responses(
        (status = 200, description = "The transitions", body = History),
        (status = 404, response = NotFound),
        Common,
    )
)]
#[get("/enrolments/{id}/history")]
pub async fn get_enrolment_history(
    caller: Caller,
    pool: web::Data<DbPool>,
    key: ResourceKey,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EnrolmentsRead)?;
    let mut conn = pool.get().await?;
    let data = store::history(&mut conn, key.0, &caller.visibility()).await?;
    Ok(HttpResponse::Ok().json(History { data }))
}

/// Enrol a chef de projet on a session
///
/// Without `requires_approval`, the enrolment is `confirmed` while seats are left, `waitlisted`
/// after; with it, `pending_approval`. Each rule has its own 422 code: `unknown_session`,
/// `unknown_chef_de_projet`, `chef_not_active`, `training_not_published`,
/// `programme_not_targeted`, `session_not_scheduled`, `enrolment_not_open`, `enrolment_closed`.
/// A second active enrolment of the same chef on the session is a 409 (`already_enrolled`).
#[utoipa::path(
    tag = "enrolments",
    operation_id = "create_enrolment",
    security(("oauth2" = ["enrolments:write"])),
    request_body = EnrolmentInput,
    responses(
        (status = 201, description = "Enrolled", body = Enrolment,
            headers(
                ("Location" = String, description = "The new enrolment's URL"),
                ("ETag" = String, description = "The enrolment's version, quoted"))),
        (status = 409, response = Conflict),
        BodyErrors,
        Common,
    )
)]
#[post("/enrolments")]
pub async fn create_enrolment(
    caller: Caller,
    idempotency: IdempotencyKey,
    pool: web::Data<DbPool>,
    body: JsonBody<EnrolmentInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EnrolmentsWrite)?;
    let raw = body.raw().to_vec();
    idempotency::run(&pool, &caller, &idempotency, &raw, async |conn| {
        let input = body.into_inner()?;
        let id = enrol_as(conn, &caller, &input).await?;
        let enrolment = store::find(conn, id, &caller.visibility()).await?;
        Ok(created_response(
            &enrolment,
            format!("/api/v1/enrolments/{id}"),
        ))
    })
    .await
}

/// Enrols for `caller`: what the caller does not see does not exist for it, then every
/// eligibility rule of the lifecycle.
pub async fn enrol_as(
    conn: &mut diesel_async::AsyncPgConnection,
    caller: &Caller,
    input: &EnrolmentInput,
) -> Result<Uuid, ApiError> {
    let visibility = caller.visibility();
    if sessions::store::find(conn, input.session_id, &visibility)
        .await
        .is_err()
    {
        return Err(lifecycle::unknown_session());
    }
    if !chefs_de_projet::store::is_visible(conn, input.chef_de_projet_id, &visibility).await? {
        return Err(lifecycle::unknown_chef());
    }
    let actor = caller.actor();
    conn.transaction::<_, ApiError, _>(async |conn| {
        lifecycle::enrol(conn, input.session_id, input.chef_de_projet_id, &actor).await
    })
    .await
}

/// A required, trimmed reason of at most 500 characters.
fn required_reason(input: &TransitionInput) -> Result<String, ApiError> {
    text::required("reason", input.reason.as_deref().unwrap_or_default(), 500)
        .map_err(|e| ApiError::validation(vec![e]))
}

fn optional_reason(reason: Option<&str>) -> Result<Option<String>, ApiError> {
    text::optional("reason", reason, 500).map_err(|e| ApiError::validation(vec![e]))
}

/// Runs one transition under `If-Match` and answers with the enrolment as it is after it.
async fn transition(
    conn: &mut diesel_async::AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    if_match: &IfMatch,
    change: Change,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.actor();
    let visibility = caller.visibility();
    conn.transaction::<_, ApiError, _>(async |conn| {
        lifecycle::apply(conn, id, change, &actor, if_match, &visibility).await
    })
    .await?;
    let enrolment = store::find(conn, id, &visibility).await?;
    Ok(updated_response(&enrolment))
}

/// Approve an enrolment
///
/// `pending_approval` → `confirmed`, or `waitlisted` when the session is full. Any other status
/// is a 409 (`invalid_transition`).
#[utoipa::path(
    tag = "enrolments",
    operation_id = "approve_enrolment",
    security(("oauth2" = ["enrolments:write"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The enrolment's id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the change is based on"),
    ),
    request_body = TransitionInput,
    responses(
        (status = 200, description = "The enrolment after the transition", body = Enrolment),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        BodyErrors,
        Common,
    )
)]
#[post("/enrolments/{id}/approve")]
pub async fn approve_enrolment(
    caller: Caller,
    idempotency: IdempotencyKey,
    pool: web::Data<DbPool>,
    turns: Turns,
    key: ResourceKey,
    if_match: IfMatch,
    body: JsonBody<TransitionInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EnrolmentsWrite)?;
    let raw = body.raw().to_vec();
    let _turn = turns.of_enrolment(key.0).await?;
    idempotency::run(&pool, &caller, &idempotency, &raw, async |conn| {
        let body = body.into_inner()?;
        let reason = optional_reason(body.reason.as_deref())?;
        transition(conn, &caller, key.0, &if_match, Change::Approve(reason)).await
    })
    .await
}

/// Refuse an enrolment
///
/// `pending_approval` → `refused`, with a reason (required).
#[utoipa::path(
    tag = "enrolments",
    operation_id = "refuse_enrolment",
    security(("oauth2" = ["enrolments:write"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The enrolment's id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the change is based on"),
    ),
    request_body = TransitionInput,
    responses(
        (status = 200, description = "The enrolment after the transition", body = Enrolment),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        BodyErrors,
        Common,
    )
)]
#[post("/enrolments/{id}/refuse")]
pub async fn refuse_enrolment(
    caller: Caller,
    idempotency: IdempotencyKey,
    pool: web::Data<DbPool>,
    turns: Turns,
    key: ResourceKey,
    if_match: IfMatch,
    body: JsonBody<TransitionInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EnrolmentsWrite)?;
    let raw = body.raw().to_vec();
    let _turn = turns.of_enrolment(key.0).await?;
    idempotency::run(&pool, &caller, &idempotency, &raw, async |conn| {
        let body = body.into_inner()?;
        let reason = required_reason(&body)?;
        transition(conn, &caller, key.0, &if_match, Change::Refuse(reason)).await
    })
    .await
}

/// Cancel an enrolment
///
/// `pending_approval`, `waitlisted` or `confirmed` → `cancelled`, with a reason (required). A
/// freed seat goes at once to the first waitlisted enrolment.
#[utoipa::path(
    tag = "enrolments",
    operation_id = "cancel_enrolment",
    security(("oauth2" = ["enrolments:write"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The enrolment's id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the change is based on"),
    ),
    request_body = TransitionInput,
    responses(
        (status = 200, description = "The enrolment after the transition", body = Enrolment),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        BodyErrors,
        Common,
    )
)]
#[post("/enrolments/{id}/cancel")]
pub async fn cancel_enrolment(
    caller: Caller,
    idempotency: IdempotencyKey,
    pool: web::Data<DbPool>,
    turns: Turns,
    key: ResourceKey,
    if_match: IfMatch,
    body: JsonBody<TransitionInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EnrolmentsWrite)?;
    let raw = body.raw().to_vec();
    let _turn = turns.of_enrolment(key.0).await?;
    idempotency::run(&pool, &caller, &idempotency, &raw, async |conn| {
        let body = body.into_inner()?;
        let reason = required_reason(&body)?;
        transition(conn, &caller, key.0, &if_match, Change::Cancel(reason)).await
    })
    .await
}

/// Record attendance
///
/// `confirmed` → `attended` or `absent`, once the session has started (422
/// `session_not_started` before).
#[utoipa::path(
    tag = "enrolments",
    operation_id = "record_enrolment_attendance",
    security(("oauth2" = ["enrolments:write"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The enrolment's id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the change is based on"),
    ),
    request_body = AttendanceInput,
    responses(
        (status = 200, description = "The enrolment after the transition", body = Enrolment),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        BodyErrors,
        Common,
    )
)]
#[post("/enrolments/{id}/attendance")]
pub async fn record_enrolment_attendance(
    caller: Caller,
    idempotency: IdempotencyKey,
    pool: web::Data<DbPool>,
    turns: Turns,
    key: ResourceKey,
    if_match: IfMatch,
    body: JsonBody<AttendanceInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EnrolmentsWrite)?;
    let raw = body.raw().to_vec();
    let _turn = turns.of_enrolment(key.0).await?;
    idempotency::run(&pool, &caller, &idempotency, &raw, async |conn| {
        let body = body.into_inner()?;
        let AttendanceInput { attended, reason } = body;
        let reason = optional_reason(reason.as_deref())?;
        transition(
            conn,
            &caller,
            key.0,
            &if_match,
            Change::Attendance { attended, reason },
        )
        .await
    })
    .await
}
