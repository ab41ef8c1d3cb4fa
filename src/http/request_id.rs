//! `X-Request-Id`: echoed when the caller sends a sane one, generated otherwise, returned on every
//! response and carried by every log line written while the request is served.
//!
//! The same middleware is the last line of defence for the error format: any error response that
//! is not already problem+json (actix's own 404, 405, extractor errors…) is rewritten as one.

use actix_web::{
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    error::InternalError,
    http::header::{self, HeaderName, HeaderValue},
    middleware::Next,
    Error, HttpResponse, ResponseError,
};

use crate::error::{ApiError, PROBLEM_JSON};

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What the logs and error bodies need to know about the request being served.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub id: String,
    pub path: String,
}

tokio::task_local! {
    static CONTEXT: RequestContext;
}

/// The id of the request served by the current task, if any.
pub fn current() -> Option<String> {
    CONTEXT.try_with(|c| c.id.clone()).ok()
}

/// The path of the request served by the current task, if any.
pub fn current_path() -> Option<String> {
    CONTEXT.try_with(|c| c.path.clone()).ok()
}

/// Accepts a caller's id when it is 1–128 visible ASCII characters; anything else is replaced.
fn accept_incoming(value: Option<&HeaderValue>) -> Option<String> {
    let text = value?.to_str().ok()?;
    let valid = (1..=128).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic());
    valid.then(|| text.to_string())
}

/// Marks an error response whose body follows another standard (OAuth 2.0 token errors,
/// RFC 6749 §5.2) and must not be rewritten as a problem.
#[derive(Debug, Clone, Copy)]
pub struct KeepErrorBody;

/// The request-id and error-format middleware.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = accept_incoming(req.headers().get(X_REQUEST_ID))
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let context = RequestContext {
        id: id.clone(),
        path: req.path().to_string(),
    };
    let header_value = HeaderValue::from_str(&id).ok();
    CONTEXT
        .scope(context, async move {
            match next.call(req).await {
                Ok(response) => {
                    let (request, response) = response.map_into_boxed_body().into_parts();
                    let mut response = ServiceResponse::new(request, ensure_problem_body(response));
                    if let Some(value) = header_value {
                        response.headers_mut().insert(X_REQUEST_ID, value);
                    }
                    Ok(response)
                }
                // Rendered here, while the request context is set; the request itself is gone.
                Err(error) => {
                    let mut response = ensure_problem_body(error.error_response());
                    if let Some(value) = header_value {
                        response.headers_mut().insert(X_REQUEST_ID, value);
                    }
                    Err(InternalError::from_response(error, response).into())
                }
            }
        })
        .await
}

/// Rewrites an error response whose body is not problem+json (or is empty) as a problem.
fn ensure_problem_body(response: HttpResponse) -> HttpResponse {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if is_problem || response.extensions().contains::<KeepErrorBody>() {
        return response;
    }
    let headers = response.headers().clone();
    let detail = match response.into_body().try_into_bytes() {
        Ok(bytes) if !bytes.is_empty() && bytes.len() < 512 => {
            String::from_utf8_lossy(&bytes).into_owned()
        }
        _ => String::new(),
    };
    let mut rewritten = generic_error(status, detail).error_response();
    // Keep what the original said beyond its body (Allow, Retry-After …).
    for (name, value) in headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewritten.headers_mut().append(name.clone(), value.clone());
        }
    }
    rewritten
}

/// The problem for a status raised outside our handlers (actix itself).
fn generic_error(status: actix_web::http::StatusCode, detail: String) -> ApiError {
    let (code, default_detail) = match status.as_u16() {
        400 => ("bad_request", "The request could not be read"),
        404 => ("not_found", "No resource exists at this address"),
        405 => ("method_not_allowed", "This method is not allowed here"),
        408 => ("request_timeout", "The request was not received in time"),
        413 => ("payload_too_large", "The request is too large"),
        414 => ("uri_too_long", "The request URI is too long"),
        415 => ("unsupported_media_type", "Unsupported media type"),
        431 => ("headers_too_large", "The request headers are too large"),
        503 => (
            "service_unavailable",
            "The service is unavailable; retry later",
        ),
        _ if status.is_server_error() => ("internal_error", "An unexpected error occurred"),
        _ => ("request_failed", "The request failed"),
    };
    let detail = if detail.is_empty() || status.is_server_error() {
        default_detail.to_string()
    } else {
        detail
    };
    ApiError::new(status, code, detail)
}
