//! `JsonBody<T>`: the request body as a `T`, or a problem that says exactly what is wrong.
//!
//! - no body, or invalid JSON (syntax, invalid UTF-8, too deeply nested) → 400 `malformed_json`
//! - a field the operation does not know → 400 `unknown_field` naming it
//! - a missing field, a wrong type or an invalid value → 422 `validation_failed` naming the field
//! - a body over the configured limit → 413; a media type other than JSON → 415

use std::{future::Future, marker::PhantomData, pin::Pin};

use actix_web::{dev::Payload, http::header, web::BytesMut, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};

/// Largest body accepted; registered as app data from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimit(pub usize);

/// How long a client may take to send a body once its headers arrived (408 beyond); registered
/// as app data from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct BodyTimeout(pub std::time::Duration);

/// A JSON request body, read but not yet judged: `into_inner` parses it into `T`. Handlers call
/// it after checking the caller's scope, so a client without the right sees a 403, not a
/// verdict on its body.
#[derive(Debug)]
pub struct JsonBody<T> {
    body: Result<Vec<u8>, ApiError>,
    _type: PhantomData<T>,
}

impl<T: DeserializeOwned> JsonBody<T> {
    /// The body as a `T`, or the problem with it (415, 413, 400, 422).
    pub fn into_inner(self) -> Result<T, ApiError> {
        parse(&self.body?)
    }

    /// The bytes received (empty when they could not be read), for idempotency fingerprints.
    pub fn raw(&self) -> &[u8] {
        self.body.as_deref().unwrap_or_default()
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<BodyLimit>()
            .map_or(1024 * 1024, |limit| limit.0);
        let media_type = check_media_type(req);
        let timeout = req
            .app_data::<BodyTimeout>()
            .map_or(std::time::Duration::from_secs(10), |t| t.0);
        let declared_length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            let body = async {
                media_type?;
                if declared_length.is_some_and(|length| length > limit) {
                    return Err(ApiError::payload_too_large(limit));
                }
                let read = async {
                    let mut body = BytesMut::new();
                    while let Some(chunk) = payload.next().await {
                        let chunk = chunk.map_err(|e| {
                            ApiError::bad_request(
                                "unreadable_body",
                                "The request body could not be read",
                            )
                            .with_cause(e)
                        })?;
                        if body.len() + chunk.len() > limit {
                            return Err(ApiError::payload_too_large(limit));
                        }
                        body.extend_from_slice(&chunk);
                    }
                    Ok(body.to_vec())
                };
                tokio::time::timeout(timeout, read)
                    .await
                    .unwrap_or_else(|_| Err(ApiError::request_timeout(timeout)))
            }
            .await;
            Ok(JsonBody {
                body,
                _type: PhantomData,
            })
        })
    }
}

/// JSON, `application/json` or any `application/*+json` (such as `merge-patch+json`), in UTF-8.
fn check_media_type(req: &HttpRequest) -> Result<(), ApiError> {
    const EXPECTED: &str = "application/json (or application/merge-patch+json for PATCH)";
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return Err(ApiError::unsupported_media_type(EXPECTED));
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::unsupported_media_type(EXPECTED))?
        .to_ascii_lowercase();
    let mut parts = value.split(';').map(str::trim);
    let essence = parts.next().unwrap_or_default();
    let is_json = essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"));
    let charset_ok = parts
        .filter_map(|p| p.strip_prefix("charset="))
        .all(|c| matches!(c.trim_matches('"'), "utf-8" | "utf8"));
    if is_json && charset_ok {
        Ok(())
    } else {
        Err(ApiError::unsupported_media_type(EXPECTED))
    }
}

/// Parses `body` as `T`, naming the field at fault when it does not fit.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::malformed_json(
            "The request body is empty; a JSON object is expected",
        ));
    }
    // serde would read an array as a struct, field by position: bodies are objects only.
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(
            match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
                Err(syntax) => {
                    ApiError::malformed_json(format!("The body is not valid JSON: {syntax}"))
                }
                Ok(_) => ApiError::invalid_field(
                    "body",
                    "invalid_type",
                    "the body must be a JSON object, not an array",
                ),
            },
        );
    }
    if has_escaped_nul(body) {
        return Err(ApiError::invalid_field(
            "body",
            "invalid_characters",
            "text must not contain the NUL character (\\u0000)",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        // A shape error in a document that is not even JSON (trailing text…) is malformed first.
        match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Err(syntax) => {
                ApiError::malformed_json(format!("The body is not valid JSON: {syntax}"))
            }
            Ok(_) => classify(error),
        }
    })?;
    deserializer
        .end()
        .map_err(|e| ApiError::malformed_json(format!("The body is not valid JSON: {e}")))?;
    Ok(value)
}

/// Whether a JSON text holds `\u0000` in a string (no text value may: PostgreSQL cannot store
/// it). Every backslash in JSON starts an escape, so a left-to-right scan is exact.
fn has_escaped_nul(body: &[u8]) -> bool {
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'\\' {
            if body.get(i + 1) == Some(&b'u')
                && body.get(i + 2..i + 6).is_some_and(|hex| hex == b"0000")
            {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// Turns a deserialisation failure into the right problem.
pub fn classify(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    use serde_json::error::Category;
    let path = path_of(&error);
    let inner = error.into_inner();
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::malformed_json(format!("The body is not valid JSON: {inner}"))
        }
        Category::Data => data_error(path, strip_position(&inner.to_string())),
    }
}

/// The error for JSON that parses but does not fit the operation's shape.
pub fn data_error(path: String, message: &str) -> ApiError {
    if let Some(name) = quoted(message, "unknown field `") {
        let field = join(&path, name);
        let mut error = ApiError::bad_request(
            "unknown_field",
            format!("Unknown field `{field}`: this operation does not accept it"),
        );
        error.errors = vec![FieldError::new(field, "unknown_field", message)];
        return error;
    }
    if let Some(name) = quoted(message, "missing field `") {
        let field = join(&path, name);
        return ApiError::invalid_field(&field, "required", format!("{field} is required"));
    }
    let code = if message.starts_with("invalid type") {
        "invalid_type"
    } else {
        "invalid_value"
    };
    let field = if path.is_empty() { "body".into() } else { path };
    ApiError::invalid_field(&field, code, message)
}

/// The dotted path to the failing value; `.` (the root) becomes empty.
fn path_of(error: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = error.path().to_string();
    if path == "." {
        String::new()
    } else {
        path
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else if path == name || path.ends_with(&format!(".{name}")) {
        path.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// The text between `prefix` and the next backtick.
fn quoted<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(prefix)?;
    rest.split('`').next()
}

/// serde_json appends " at line L column C"; the field name says more to an API client.
fn strip_position(message: &str) -> &str {
    message.rsplit_once(" at line ").map_or(message, |(m, _)| m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        inner: Option<Inner>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        size: u8,
    }

    fn error_of(body: &str) -> ApiError {
        parse::<Sample>(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn each_failure_gets_its_code_and_field() {
        let e = error_of("{\"name\": ");
        assert_eq!((e.status.as_u16(), e.code), (400, "malformed_json"));
        let e = error_of("");
        assert_eq!((e.status.as_u16(), e.code), (400, "malformed_json"));
        let e = error_of(r#"{"name": "a", "colour": 1}"#);
        assert_eq!((e.status.as_u16(), e.code), (400, "unknown_field"));
        assert_eq!(e.errors[0].field, "colour");
        let e = error_of(r#"{"name": "a", "inner": {"size": 1, "x": 2}}"#);
        assert_eq!(e.errors[0].field, "inner.x");
        let e = error_of(r#"{"inner": null}"#);
        assert_eq!(
            (e.status.as_u16(), e.errors[0].field.as_str()),
            (422, "name")
        );
        assert_eq!(e.errors[0].code, "required");
        let e = error_of(r#"{"name": 5}"#);
        assert_eq!(
            (e.errors[0].field.as_str(), e.errors[0].code.as_str()),
            ("name", "invalid_type")
        );
        let e = error_of(r#"{"name": "a", "inner": {"size": 300}}"#);
        assert_eq!(e.errors[0].field, "inner.size");
        let e = error_of(r#"[1]"#);
        assert_eq!(e.errors[0].field, "body");
        let e = error_of(r#"{"name": "a"} trailing"#);
        assert_eq!(e.code, "malformed_json");
    }
}
