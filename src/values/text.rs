//! Free text fields: trimmed, bounded, blank optional text treated as absent.

use crate::error::FieldError;

/// Trimmed text of 1..=`max` characters.
pub fn required(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        Err(FieldError::new(
            field,
            "required",
            format!("{field} must not be empty"),
        ))
    } else if trimmed.chars().count() > max {
        Err(FieldError::new(
            field,
            "too_long",
            format!("{field} must be at most {max} characters"),
        ))
    } else if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        Err(FieldError::new(
            field,
            "invalid_characters",
            format!("{field} must not contain control characters"),
        ))
    } else {
        Ok(trimmed.to_string())
    }
}

/// Optional text: absent or blank becomes `None`.
pub fn optional(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, FieldError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => required(field, text, max).map(Some),
    }
}

/// Collects the field errors of several checks, so one response names every invalid field.
#[derive(Debug, Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    /// The value of `result`, or `None` with its error recorded.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        result.map_err(|e| self.0.push(e)).ok()
    }

    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when no check failed, else the 422 naming every failure.
    pub fn finish<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T, crate::error::ApiError> {
        if self.0.is_empty() {
            if let Some(value) = value() {
                return Ok(value);
            }
        }
        Err(crate::error::ApiError::validation(self.0))
    }
}
