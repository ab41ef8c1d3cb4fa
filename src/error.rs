//! One error type for the whole API, rendered as RFC 9457 `application/problem+json`.
//!
//! Every failure a client can meet has a stable machine `code`. Internal causes are logged with the
//! request id and never sent.

use std::{fmt, time::Duration};

use actix_web::{
    http::{
        header::{self, HeaderName, HeaderValue},
        StatusCode,
    },
    HttpResponse, ResponseError,
};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::http::request_id;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A field-level reason in a validation failure.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// Where the problem is: a JSON field path (`started_on`, `location.city`), or a query
    /// parameter or header name.
    #[schema(example = "ended_on")]
    pub field: String,
    /// Stable code of the rule that failed.
    #[schema(example = "before_start")]
    pub code: String,
    /// Human-readable explanation.
    #[schema(example = "ended_on must not be before started_on")]
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// RFC 9457 problem details, as sent for every error.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:anct-formations:problem:validation_failed",
    "title": "The request is not valid",
    "status": 422,
    "detail": "1 field is not valid",
    "instance": "/api/v1/programmes",
    "code": "validation_failed",
    "request_id": "0d6c5a3e-4c1b-4e58-9a51-0d3a3f0c2b7e",
    "errors": [{"field": "code", "code": "invalid_format", "message": "code must be a lowercase slug (a-z, 0-9 and single hyphens)"}]
}))]
pub struct Problem {
    /// URI of the problem type: `urn:anct-formations:problem:<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the problem type.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// Explanation of this occurrence.
    pub detail: String,
    /// The request path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Stable machine-readable code (see the list in the API description).
    pub code: String,
    /// The request id, also in the `X-Request-Id` header and the server logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Each invalid field, for validation failures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The resource as it is now, with a 412 Precondition Failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub current: Option<Value>,
}

/// Error of any API operation. Boxed, so that `Result<_, ApiError>` stays small on the happy path.
#[derive(Debug)]
pub struct ApiError(Box<ApiErrorParts>);

/// What an `ApiError` holds.
#[derive(Debug)]
pub struct ApiErrorParts {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub current: Option<Value>,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// What went wrong inside, for the log only.
    cause: Option<String>,
}

impl std::ops::Deref for ApiError {
    type Target = ApiErrorParts;

    fn deref(&self) -> &ApiErrorParts {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ApiErrorParts {
        &mut self.0
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self(Box::new(ApiErrorParts {
            status,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            current: None,
            headers: Vec::new(),
            cause: None,
        }))
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn malformed_json(detail: impl Into<String>) -> Self {
        Self::bad_request("malformed_json", detail)
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "No resource exists at this address, or it is not visible to you",
        )
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    /// 422 listing every invalid field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.len() {
            1 => format!("{}: {}", errors[0].field, errors[0].message),
            n => format!("{n} fields are not valid"),
        };
        let mut error = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            detail,
        );
        error.errors = errors;
        error
    }

    pub fn invalid_field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, code, message)])
    }

    /// 400 for a query parameter that cannot be read.
    pub fn invalid_query(errors: Vec<FieldError>) -> Self {
        let mut error = Self::bad_request(
            "invalid_query_parameter",
            errors.first().map_or("invalid query string".into(), |e| {
                format!("{}: {}", e.field, e.message)
            }),
        );
        error.errors = errors;
        error
    }

    pub fn precondition_failed(current: Value) -> Self {
        let mut error = Self::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
            "If-Match does not match the current version; the current state is in `current`",
        );
        error.current = Some(current);
        error
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("The request body exceeds the limit of {limit} bytes"),
        )
    }

    pub fn request_timeout(allowed: Duration) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!(
                "The request body did not arrive within {} ms",
                allowed.as_millis()
            ),
        )
        .with_header(
            actix_web::http::header::CONNECTION,
            HeaderValue::from_static("close"),
        )
    }

    pub fn unsupported_media_type(expected: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("The request body must be sent as {expected}"),
        )
    }

    pub fn database_unavailable(retry_after: Duration, cause: impl fmt::Display) -> Self {
        let mut error = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "The database is unavailable; retry later",
        )
        .with_cause(cause);
        error.headers.push((
            header::RETRY_AFTER,
            HeaderValue::from(retry_after.as_secs().max(1)),
        ));
        error
    }

    pub fn internal(cause: impl fmt::Display) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "An unexpected error occurred; it has been logged with the request id",
        )
        .with_cause(cause)
    }

    pub fn with_cause(mut self, cause: impl fmt::Display) -> Self {
        self.cause = Some(cause.to_string());
        self
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The problem document for this error, as sent to the client.
    pub fn to_problem(&self, instance: Option<String>, request_id: Option<String>) -> Problem {
        Problem {
            problem_type: format!("urn:anct-formations:problem:{}", self.code),
            title: title_of(self.status).into(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            instance,
            code: self.code.into(),
            request_id,
            errors: self.errors.clone(),
            current: self.current.clone(),
        }
    }
}

/// A short, fixed title per status, as RFC 9457 recommends (the detail says the specifics).
pub fn title_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "The request is malformed",
        401 => "Authentication is required",
        403 => "This operation is not allowed for you",
        404 => "Not found",
        405 => "Method not allowed",
        406 => "Not acceptable",
        408 => "The request took too long",
        409 => "Conflict with the current state",
        410 => "Gone",
        412 => "Precondition failed",
        413 => "The request body is too large",
        415 => "Unsupported media type",
        422 => "The request is not valid",
        428 => "Precondition required",
        429 => "Too many requests",
        503 => "Service unavailable",
        _ if status.is_server_error() => "Internal server error",
        _ => "Request failed",
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(cause) = &self.cause {
            if self.status.is_server_error() {
                log::error!("{} ({}): {}", self.code, self.status.as_u16(), cause);
            } else {
                log::warn!("{} ({}): {}", self.code, self.status.as_u16(), cause);
            }
        }
        let problem = self.to_problem(request_id::current_path(), request_id::current());
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        for (name, value) in &self.headers {
            response.insert_header((name.clone(), value.clone()));
        }
        response.body(serde_json::to_vec(&problem).unwrap_or_default())
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(error: crate::db::DbError) -> Self {
        error.into_api_error()
    }
}
