//! Conditional requests: the `ETag` is the resource's version; `If-None-Match` on a read gives
//! 304 when the client's copy is current; `If-Match` on a write that no longer matches gives 412
//! with the current state.

use std::future::{ready, Ready};

use actix_web::{
    dev::Payload,
    http::header::{self, HeaderValue},
    FromRequest, HttpRequest, HttpResponse,
};

use crate::error::ApiError;

/// The entity tag of a resource at `version`: `"<version>"`.
pub fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("a number is a valid header value")
}

/// A representation that carries a version, and so an `ETag`.
pub trait ETagged {
    fn version(&self) -> i64;
}

/// One entity tag as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tag {
    Any,
    Strong(String),
    Weak(String),
}

fn parse_tags(request: &HttpRequest, name: header::HeaderName) -> Option<Vec<Tag>> {
    let values: Vec<&HeaderValue> = request.headers().get_all(name).collect();
    // An empty header says nothing: it is treated as absent.
    if values.iter().all(|v| v.as_bytes().trim_ascii().is_empty()) {
        return None;
    }
    let mut tags = Vec::new();
    for value in values {
        for item in value.to_str().unwrap_or_default().split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            if item == "*" {
                tags.push(Tag::Any);
            } else if let Some(weak) = item.strip_prefix("W/") {
                tags.push(Tag::Weak(weak.trim_matches('"').to_string()));
            } else {
                // Unquoted versions (`If-Match: 3`) are accepted too: a common client slip.
                tags.push(Tag::Strong(item.trim_matches('"').to_string()));
            }
        }
    }
    Some(tags)
}

/// `If-Match`, compared strongly (RFC 9110 §13.1.1).
#[derive(Debug, Default)]
pub struct IfMatch(Option<Vec<Tag>>);

impl IfMatch {
    /// Fails with 412 and the current state when the header is present and does not match.
    pub fn check<T: ETagged + serde::Serialize>(&self, current: &T) -> Result<(), ApiError> {
        let Some(tags) = &self.0 else {
            return Ok(());
        };
        let version = current.version().to_string();
        let matches = tags.iter().any(|tag| match tag {
            Tag::Any => true,
            Tag::Strong(v) => *v == version,
            Tag::Weak(_) => false,
        });
        if matches {
            Ok(())
        } else {
            Err(ApiError::precondition_failed(
                serde_json::to_value(current).unwrap_or_default(),
            ))
        }
    }
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(IfMatch(parse_tags(req, header::IF_MATCH))))
    }
}

/// `If-None-Match`, compared weakly (RFC 9110 §13.1.2).
#[derive(Debug, Default)]
pub struct IfNoneMatch(Option<Vec<Tag>>);

impl IfNoneMatch {
    /// Whether the client already holds `version`, so a 304 is the answer.
    pub fn holds(&self, version: i64) -> bool {
        let version = version.to_string();
        self.0.as_ref().is_some_and(|tags| {
            tags.iter().any(|tag| match tag {
                Tag::Any => true,
                Tag::Strong(v) | Tag::Weak(v) => *v == version,
            })
        })
    }
}

impl FromRequest for IfNoneMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(IfNoneMatch(parse_tags(req, header::IF_NONE_MATCH))))
    }
}

/// 200 with the representation and its `ETag`, or 304 when the client's copy is current.
pub fn read_response<T: ETagged + serde::Serialize>(
    resource: &T,
    if_none_match: &IfNoneMatch,
) -> HttpResponse {
    let version = resource.version();
    if if_none_match.holds(version) {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag(version)))
            .finish();
    }
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(resource)
}

/// 200 with the updated representation and its new `ETag`.
pub fn updated_response<T: ETagged + serde::Serialize>(resource: &T) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(resource.version())))
        .json(resource)
}

/// 201 with `Location` and `ETag`.
pub fn created_response<T: ETagged + serde::Serialize>(
    resource: &T,
    location: String,
) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::ETAG, etag(resource.version())))
        .insert_header((header::LOCATION, location))
        .json(resource)
}
