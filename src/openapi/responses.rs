//! Reusable error responses, one per failure mode, each with an example problem.

// These types exist only to describe responses in the document; they are never built.
#![allow(dead_code)]

use std::collections::BTreeMap;

use utoipa::openapi::{response::Response, Ref, RefOr};
use utoipa::{IntoResponses, ToResponse};

use crate::error::Problem;

/// Malformed JSON, an unknown field, or a query parameter that cannot be read.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    examples(
        ("malformed_json" = (summary = "The body is not JSON", value = json!({
            "type": "urn:anct-formations:problem:malformed_json", "title": "The request is malformed",
            "status": 400, "detail": "The body is not valid JSON: EOF while parsing an object at line 1 column 9",
            "instance": "/api/v1/programmes", "code": "malformed_json", "request_id": "b4c7e0de-1f0a-4a53-8c0b-6f2e0d0a9a11"}))),
        ("unknown_field" = (summary = "A field the operation does not know", value = json!({
            "type": "urn:anct-formations:problem:unknown_field", "title": "The request is malformed",
            "status": 400, "detail": "Unknown field `colour`: this operation does not accept it",
            "instance": "/api/v1/programmes", "code": "unknown_field", "request_id": "b4c7e0de-1f0a-4a53-8c0b-6f2e0d0a9a11",
            "errors": [{"field": "colour", "code": "unknown_field", "message": "unknown field `colour`, expected one of `code`, `name`"}]}))),
        ("invalid_query_parameter" = (summary = "A query parameter out of range", value = json!({
            "type": "urn:anct-formations:problem:invalid_query_parameter", "title": "The request is malformed",
            "status": 400, "detail": "limit: limit must be a whole number from 1 to 500",
            "instance": "/api/v1/programmes", "code": "invalid_query_parameter", "request_id": "b4c7e0de-1f0a-4a53-8c0b-6f2e0d0a9a11",
            "errors": [{"field": "limit", "code": "invalid_value", "message": "limit must be a whole number from 1 to 500"}]})))
    )
)]
pub struct BadRequest(Problem);

/// Nothing exists at this address, or it is not visible to the caller.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:anct-formations:problem:not_found", "title": "Not found", "status": 404,
        "detail": "No resource exists at this address, or it is not visible to you",
        "instance": "/api/v1/programmes/0193a1f2-7c4e-7b3a-9f10-2b6f1c9d4e01", "code": "not_found",
        "request_id": "b4c7e0de-1f0a-4a53-8c0b-6f2e0d0a9a11"})
)]
pub struct NotFound(Problem);

/// The request conflicts with the current state (for example a duplicate code).
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:anct-formations:problem:programme_code_taken", "title": "Conflict with the current state",
        "status": 409, "detail": "A programme with code `petites-villes-de-demain` already exists",
        "instance": "/api/v1/programmes", "code": "programme_code_taken",
        "request_id": "b4c7e0de-1f0a-4a53-8c0b-6f2e0d0a9a11"})
)]
pub struct Conflict(Problem);

/// `If-Match` does not match the current version; `current` holds the resource as it is now.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:anct-formations:problem:precondition_failed", "title": "Precondition failed",
        "status": 412, "detail": "If-Match does not match the current version; the current state is in `current`",
        "instance": "/api/v1/programmes/0193a1f2-7c4e-7b3a-9f10-2b6f1c9d4e01", "code": "precondition_failed",
        "request_id": "b4c7e0de-1f0a-4a53-8c0b-6f2e0d0a9a11",
        "current": {"id": "0193a1f2-7c4e-7b3a-9f10-2b6f1c9d4e01", "code": "petites-villes-de-demain",
            "name": "Petites villes de demain", "description": null, "status": "active",
            "started_on": "2020-10-01", "ended_on": null, "version": 3,
            "created_at": "2026-11-26T09:00:00Z", "updated_at": "2026-11-26T10:30:00Z"}})
)]
pub struct PreconditionFailed(Problem);

/// The request body exceeds the size limit.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:anct-formations:problem:payload_too_large", "title": "The request body is too large",
        "status": 413, "detail": "The request body exceeds the limit of 1048576 bytes",
        "instance": "/api/v1/programmes", "code": "payload_too_large",
        "request_id": "b4c7e0de-1f0a-4a53-8c0b-6f2e0d0a9a11"})
)]
pub struct PayloadTooLarge(Problem);

/// The body did not arrive within the request timeout.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:anct-formations:problem:request_timeout", "title": "The request took too long",
        "status": 408, "detail": "The request body did not arrive within 10000 ms",
        "instance": "/api/v1/programmes", "code": "request_timeout",
        "request_id": "b4c7e0de-1f0a-4a53-8c0b-6f2e0d0a9a11"})
)]
pub struct RequestTimeout(Problem);

/// The body is not sent as JSON.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:anct-formations:problem:unsupported_media_type", "title": "Unsupported media type",
        "status": 415, "detail": "The request body must be sent as application/json (or application/merge-patch+json for PATCH)",
        "instance": "/api/v1/programmes", "code": "unsupported_media_type",
        "request_id": "b4c7e0de-1f0a-4a53-8c0b-6f2e0d0a9a11"})
)]
pub struct UnsupportedMediaType(Problem);

/// A field is missing, of the wrong type, or breaks a rule; `errors` names each one.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:anct-formations:problem:validation_failed", "title": "The request is not valid",
        "status": 422, "detail": "2 fields are not valid", "instance": "/api/v1/programmes",
        "code": "validation_failed", "request_id": "b4c7e0de-1f0a-4a53-8c0b-6f2e0d0a9a11",
        "errors": [
            {"field": "code", "code": "invalid_format", "message": "code must be a lowercase slug (a-z, 0-9 and single hyphens)"},
            {"field": "ended_on", "code": "before_start", "message": "ended_on must not be before started_on"}]})
)]
pub struct UnprocessableEntity(Problem);

/// An unexpected failure; it is logged with the request id, never detailed here.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:anct-formations:problem:internal_error", "title": "Internal server error",
        "status": 500, "detail": "An unexpected error occurred; it has been logged with the request id",
        "instance": "/api/v1/programmes", "code": "internal_error",
        "request_id": "b4c7e0de-1f0a-4a53-8c0b-6f2e0d0a9a11"})
)]
pub struct InternalError(Problem);

/// The database is unavailable (`database_unavailable`), or too many changes to one session's
/// enrolments are queued (`session_busy`, transitions only); retry after the `Retry-After` delay.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = u32, description = "Seconds to wait before retrying")),
    example = json!({
        "type": "urn:anct-formations:problem:database_unavailable", "title": "Service unavailable",
        "status": 503, "detail": "The database is unavailable; retry later",
        "instance": "/api/v1/programmes", "code": "database_unavailable",
        "request_id": "b4c7e0de-1f0a-4a53-8c0b-6f2e0d0a9a11"})
)]
pub struct ServiceUnavailable(Problem);

/// No access token, or one that is not valid (expired, wrong signature, disabled client …).
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"anct-formations\"`, with `error=\"invalid_token\"` for a bad token")),
    example = json!({
        "type": "urn:anct-formations:problem:missing_token", "title": "Authentication is required",
        "status": 401, "detail": "This operation needs an access token: `Authorization: Bearer <token>` (see POST /api/v1/oauth/token)",
        "instance": "/api/v1/programmes", "code": "missing_token",
        "request_id": "b4c7e0de-1f0a-4a53-8c0b-6f2e0d0a9a11"})
)]
pub struct Unauthorized(Problem);

/// The token lacks the scope this operation needs.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:anct-formations:problem:insufficient_scope", "title": "This operation is not allowed for you",
        "status": 403, "detail": "This operation needs the scope `programmes:write`",
        "instance": "/api/v1/programmes", "code": "insufficient_scope",
        "request_id": "b4c7e0de-1f0a-4a53-8c0b-6f2e0d0a9a11"})
)]
pub struct Forbidden(Problem);

/// The client sent too many requests; retry after the `Retry-After` delay.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = u32, description = "Seconds to wait before retrying")),
    example = json!({
        "type": "urn:anct-formations:problem:rate_limited", "title": "Too many requests",
        "status": 429, "detail": "Too many requests from this client; retry after the Retry-After delay",
        "instance": "/api/v1/programmes", "code": "rate_limited",
        "request_id": "b4c7e0de-1f0a-4a53-8c0b-6f2e0d0a9a11"})
)]
pub struct TooManyRequests(Problem);

/// Builds a response map from `(status, component name)` pairs, as references.
fn references(pairs: &[(&str, &str)]) -> BTreeMap<String, RefOr<Response>> {
    pairs
        .iter()
        .map(|(status, name)| {
            (
                status.to_string(),
                RefOr::Ref(Ref::from_response_name(*name)),
            )
        })
        .collect()
}

/// The failures every authenticated operation can meet: 401, 403, 429, 500, 503.
pub struct Common;

impl IntoResponses for Common {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        references(&[
            ("401", "Unauthorized"),
            ("403", "Forbidden"),
            ("429", "TooManyRequests"),
            ("500", "InternalError"),
            ("503", "ServiceUnavailable"),
        ])
    }
}

/// The failures of an operation that takes a JSON body: 400, 408, 413, 415, 422.
pub struct BodyErrors;

impl IntoResponses for BodyErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        references(&[
            ("400", "BadRequest"),
            ("408", "RequestTimeout"),
            ("413", "PayloadTooLarge"),
            ("415", "UnsupportedMediaType"),
            ("422", "UnprocessableEntity"),
        ])
    }
}
