//! The webhook operations: a client manages its own endpoints (`webhooks:manage`) and sees
//! their deliveries; another client's endpoint answers 404.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::auth::{Caller, Scope};
use crate::db::DbPool;
use crate::error::ApiError;
use crate::http::conditional::{created_response, read_response, updated_response};
use crate::http::{IfMatch, IfNoneMatch, JsonBody, Page, QueryParams, ResourceKey};
use crate::idempotency::{self, IdempotencyKey};
use crate::openapi::responses::{
    BadRequest, BodyErrors, Common, Conflict, NotFound, PreconditionFailed,
};
use crate::webhooks::domain::EndpointDraft;
use crate::webhooks::guard::{self, TargetPolicy};
use crate::webhooks::signature;
use crate::webhooks::store;
use crate::webhooks::views::{
    CreatedWebhookEndpoint, Delivery, DeliveryDetail, DeliveryFilter, RotatedSecret,
    WebhookEndpoint, WebhookEndpointFilter, WebhookEndpointInput, WebhookEndpointPatch,
};

/// The `{delivery_id}` of a path; anything else names nothing (404).
fn delivery_id(request: &HttpRequest) -> Result<Uuid, ApiError> {
    request
        .match_info()
        .get("delivery_id")
        .and_then(|text| Uuid::parse_str(text).ok())
        .ok_or_else(ApiError::not_found)
}

fn new_secret() -> Result<String, ApiError> {
    signature::new_secret().map_err(ApiError::internal)
}

/// List webhook endpoints
///
/// The calling client's endpoints, in creation order.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "list_webhook_endpoints",
    security(("oauth2" = ["webhooks:manage"])),
    params(WebhookEndpointFilter),
    responses(
        (status = 200, description = "One page of endpoints", body = Page<WebhookEndpoint>,
            headers(("Link" = String, description = "`<url>; rel=\"next\"` when another page follows"))),
        (status = 400, response = BadRequest),
        Common,
    )
)]
#[get("/webhooks")]
pub async fn list_webhook_endpoints(
    caller: Caller,
    pool: web::Data<DbPool>,
    query: QueryParams<WebhookEndpointFilter>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksManage)?;
    let filter = query.0;
    let mut conn = pool.get().await?;
    let rows = store::list(&mut conn, &caller.client_id, &filter).await?;
    Ok(Page::from_rows(rows, filter.limit).into_unsynced_response(&request))
}

/// Register a webhook endpoint
///
/// From now on, every change of the given types that the client may read (its scopes, its
/// programmes) is POSTed to `url`, signed per the Standard Webhooks convention: headers
/// `webhook-id` (the delivery's id, the same on every retry), `webhook-timestamp` (Unix
/// seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`
/// keyed with the secret's bytes). The body is the change as the feed shows it. Any 2xx
/// acknowledges; anything else (or no answer within 10 s) is retried with exponential backoff
/// for about three days, after which the endpoint is disabled with the reason.
///
/// The URL must be http(s) and resolve to public addresses only (no private, loopback or
/// link-local targets). The answer carries the signing secret: the only time it is shown.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "create_webhook_endpoint",
    security(("oauth2" = ["webhooks:manage"])),
    request_body = WebhookEndpointInput,
    responses(
        (status = 201, description = "Registered; the secret is shown this once", body = CreatedWebhookEndpoint,
            headers(
                ("Location" = String, description = "The endpoint's URL"),
                ("ETag" = String, description = "The endpoint's version, quoted"))),
        BodyErrors,
        Common,
    )
)]
#[post("/webhooks")]
pub async fn create_webhook_endpoint(
    caller: Caller,
    idempotency: IdempotencyKey,
    pool: web::Data<DbPool>,
    policy: web::Data<TargetPolicy>,
    body: JsonBody<WebhookEndpointInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksManage)?;
    let raw = body.raw().to_vec();
    idempotency::run(&pool, &caller, &idempotency, &raw, async |conn| {
        let draft = EndpointDraft::try_from(body.into_inner()?)?;
        store::require_readable(&caller.scopes, &draft.types)?;
        guard::check_target(&draft.url, **policy).await?;
        let secret = new_secret()?;
        let endpoint = store::create(conn, &caller.client_id, &draft, &secret).await?;
        let location = format!("/api/v1/webhooks/{}", endpoint.id);
        Ok(created_response(
            &CreatedWebhookEndpoint { endpoint, secret },
            location,
        ))
    })
    .await
}

/// Read a webhook endpoint
///
/// Shows whether it is enabled and, when the service disabled it, why.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "get_webhook_endpoint",
    security(("oauth2" = ["webhooks:manage"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The endpoint's id"),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` the client holds: 304 if it is still current"),
    ),
    responses(
        (status = 200, description = "The endpoint", body = WebhookEndpoint,
            headers(("ETag" = String, description = "The endpoint's version, quoted"))),
        (status = 304, description = "The client's copy is current",
            headers(("ETag" = String, description = "The endpoint's version, quoted"))),
        (status = 404, response = NotFound),
        Common,
    )
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook_endpoint(
    caller: Caller,
    pool: web::Data<DbPool>,
    key: ResourceKey,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksManage)?;
    let mut conn = pool.get().await?;
    let endpoint = store::find(&mut conn, &caller.client_id, key.0).await?;
    Ok(read_response(&endpoint, &if_none_match))
}

/// Update a webhook endpoint
///
/// A JSON merge patch of `url`, `description`, `types`, `enabled`. Setting `enabled` to true
/// resumes deliveries, including those held while it was disabled. With `If-Match`, the change
/// applies only at that version (otherwise 412 with the current state).
#[utoipa::path(
    tag = "webhooks",
    operation_id = "update_webhook_endpoint",
    security(("oauth2" = ["webhooks:manage"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The endpoint's id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the change is based on"),
    ),
    request_body(content = WebhookEndpointPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The updated endpoint", body = WebhookEndpoint,
            headers(("ETag" = String, description = "The endpoint's new version, quoted"))),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        BodyErrors,
        Common,
    )
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook_endpoint(
    caller: Caller,
    pool: web::Data<DbPool>,
    policy: web::Data<TargetPolicy>,
    key: ResourceKey,
    if_match: IfMatch,
    body: JsonBody<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksManage)?;
    let body = body.into_inner()?;
    let mut conn = pool.get().await?;
    let endpoint = store::update(
        &mut conn,
        &caller.client_id,
        key.0,
        &if_match,
        body,
        &caller.scopes,
        **policy,
    )
    .await?;
    Ok(updated_response(&endpoint))
}

/// Delete a webhook endpoint
///
/// Stops deliveries at once and forgets the endpoint's deliveries and their log.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "delete_webhook_endpoint",
    security(("oauth2" = ["webhooks:manage"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The endpoint's id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the deletion is based on"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        Common,
    )
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook_endpoint(
    caller: Caller,
    pool: web::Data<DbPool>,
    key: ResourceKey,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksManage)?;
    let mut conn = pool.get().await?;
    store::delete(&mut conn, &caller.client_id, key.0, &if_match).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate an endpoint's signing secret
///
/// Returns a new secret, shown this once. For 24 hours both secrets sign every delivery
/// (`webhook-signature` then holds two `v1,` signatures, space-separated): switch the receiver
/// to the new secret within that time.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "rotate_webhook_secret",
    security(("oauth2" = ["webhooks:manage"])),
    params(("id" = uuid::Uuid, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "The new secret", body = RotatedSecret),
        (status = 404, response = NotFound),
        Common,
    )
)]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn rotate_webhook_secret(
    caller: Caller,
    idempotency: IdempotencyKey,
    pool: web::Data<DbPool>,
    key: ResourceKey,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksManage)?;
    idempotency::run(&pool, &caller, &idempotency, &[], async |conn| {
        let secret = new_secret()?;
        let previous_secret_expires_at =
            store::rotate_secret(conn, &caller.client_id, key.0, &secret).await?;
        Ok(HttpResponse::Ok().json(RotatedSecret {
            secret,
            previous_secret_expires_at,
        }))
    })
    .await
}

/// List an endpoint's deliveries
///
/// Oldest first, with where each stands: pending (and when it is next tried), succeeded or
/// failed, the last status code and error.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "list_webhook_deliveries",
    security(("oauth2" = ["webhooks:manage"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The endpoint's id"),
        DeliveryFilter,
    ),
    responses(
        (status = 200, description = "One page of deliveries", body = Page<Delivery>,
            headers(("Link" = String, description = "`<url>; rel=\"next\"` when another page follows"))),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        Common,
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_webhook_deliveries(
    caller: Caller,
    pool: web::Data<DbPool>,
    key: ResourceKey,
    query: QueryParams<DeliveryFilter>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksManage)?;
    let filter = query.0;
    let mut conn = pool.get().await?;
    let rows = store::list_deliveries(&mut conn, &caller.client_id, key.0, &filter).await?;
    Ok(Page::from_rows(rows, filter.limit).into_unsynced_response(&request))
}

/// Read a delivery
///
/// With the body it sends and every attempt so far (when, status code, latency, error).
#[utoipa::path(
    tag = "webhooks",
    operation_id = "get_webhook_delivery",
    security(("oauth2" = ["webhooks:manage"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The endpoint's id"),
        ("delivery_id" = uuid::Uuid, Path, description = "The delivery's id (its `webhook-id`)"),
    ),
    responses(
        (status = 200, description = "The delivery", body = DeliveryDetail),
        (status = 404, response = NotFound),
        Common,
    )
)]
#[get("/webhooks/{id}/deliveries/{delivery_id}")]
pub async fn get_webhook_delivery(
    caller: Caller,
    pool: web::Data<DbPool>,
    key: ResourceKey,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksManage)?;
    let delivery_id = delivery_id(&request)?;
    let mut conn = pool.get().await?;
    let detail = store::find_delivery(&mut conn, &caller.client_id, key.0, delivery_id).await?;
    Ok(HttpResponse::Ok().json(detail))
}

/// Redeliver
///
/// Sends the delivery again as soon as possible, with the same `webhook-id` and body and a
/// fresh budget of attempts: for a failed delivery once the receiver is fixed, or to replay
/// one. 409 while the endpoint is disabled.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "redeliver_webhook_delivery",
    security(("oauth2" = ["webhooks:manage"])),
    params(
        ("id" = uuid::Uuid, Path, description = "The endpoint's id"),
        ("delivery_id" = uuid::Uuid, Path, description = "The delivery's id (its `webhook-id`)"),
    ),
    responses(
        (status = 202, description = "Scheduled now", body = Delivery),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        Common,
    )
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/redeliver")]
pub async fn redeliver_webhook_delivery(
    caller: Caller,
    idempotency: IdempotencyKey,
    pool: web::Data<DbPool>,
    key: ResourceKey,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksManage)?;
    let delivery_id = delivery_id(&request)?;
    idempotency::run(&pool, &caller, &idempotency, &[], async |conn| {
        let delivery = store::redeliver(conn, &caller.client_id, key.0, delivery_id).await?;
        Ok(HttpResponse::Accepted().json(delivery))
    })
    .await
}
