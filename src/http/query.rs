//! `QueryParams<T>`: the query string as a `T`. An unknown parameter or a value that cannot be
//! read is a 400 `invalid_query_parameter` naming the parameter: a misspelt filter must not
//! silently return everything.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};

#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned> FromRequest for QueryParams<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse(req.query_string()).map(QueryParams))
    }
}

/// Parses a query string into `T`. A parameter given empty (`?cursor=`, as forms send) is
/// absent; a value holding a NUL character is refused (no filter can match it).
pub fn parse<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let pairs: Vec<(std::borrow::Cow<str>, std::borrow::Cow<str>)> =
        form_urlencoded::parse(query.as_bytes())
            .filter(|(_, value)| !value.is_empty())
            .collect();
    if let Some((name, _)) = pairs.iter().find(|(_, value)| value.contains('\0')) {
        return Err(ApiError::invalid_query(vec![FieldError::new(
            name.as_ref(),
            "invalid_characters",
            format!("{name} must not contain the NUL character"),
        )]));
    }
    let kept = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&pairs)
        .finish();
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(kept.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let message = error.inner().to_string();
        let (field, code) = if let Some(name) = message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split('`').next())
        {
            (name.to_string(), "unknown_parameter")
        } else if let Some(name) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            (name.to_string(), "required")
        } else {
            (path, "invalid_value")
        };
        ApiError::invalid_query(vec![FieldError::new(field, code, message)])
    })
}
