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

/// Parses a query string into `T`. A value holding a NUL character is refused (no filter can
/// match it, and PostgreSQL cannot take it).
pub fn parse<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    if let Some((name, _)) =
        form_urlencoded::parse(query.as_bytes()).find(|(_, value)| value.contains('\0'))
    {
        return Err(ApiError::invalid_query(vec![FieldError::new(
            name.as_ref(),
            "invalid_characters",
            format!("{name} must not contain the NUL character"),
        )]));
    }
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
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

/// The longest search term (`?q=`), in characters.
pub const MAX_SEARCH_CHARS: usize = 200;

/// `?q=`: a search term of at most `MAX_SEARCH_CHARS` characters (`#[serde(deserialize_with)]`).
pub fn search_term<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let term = <Option<String> as serde::Deserialize>::deserialize(deserializer)?;
    match term {
        Some(t) if t.chars().count() > MAX_SEARCH_CHARS => Err(serde::de::Error::custom(format!(
            "q must be at most {MAX_SEARCH_CHARS} characters"
        ))),
        other => Ok(other),
    }
}
