//! The `{id}` of a resource path. Anything that is not a UUID names nothing, so it is a 404
//! like any other unknown id, never a 400 that would tell ids and garbage apart.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, FromRequest, HttpRequest};
use uuid::Uuid;

use crate::error::ApiError;

/// The resource named by the `{id}` segment of the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceKey(pub Uuid);

impl FromRequest for ResourceKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.match_info()
                .get("id")
                .and_then(|id| Uuid::parse_str(id).ok())
                .map(ResourceKey)
                .ok_or_else(ApiError::not_found),
        )
    }
}
