//! Free text fields: trimmed, bounded, blank optional text treated as absent.

use crate::error::FieldError;

/// What the OpenAPI document says of required text: no control character but tab and line
/// feed, and something besides white space. `required` enforces exactly this.
pub const REQUIRED_TEXT: &str = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$";

/// What the OpenAPI document says of optional text: no control character but tab and line
/// feed (blank means absent). `optional` enforces exactly this.
pub const OPTIONAL_TEXT: &str = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$";

/// White space as JSON Schema patterns see it (`\\s`, which includes U+FEFF).
fn is_blank(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

fn has_control(value: &str) -> bool {
    value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
}

fn invalid_characters(field: &str) -> FieldError {
    FieldError::new(
        field,
        "invalid_characters",
        format!("{field} must not contain control characters"),
    )
}

/// Trimmed text of 1..=`max` characters (counted as sent).
pub fn required(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let trimmed = value.trim_matches(is_blank);
    if has_control(value) {
        Err(invalid_characters(field))
    } else if trimmed.is_empty() {
        Err(FieldError::new(
            field,
            "required",
            format!("{field} must not be empty"),
        ))
    } else if value.chars().count() > max {
        Err(FieldError::new(
            field,
            "too_long",
            format!("{field} must be at most {max} characters"),
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
    match value {
        None => Ok(None),
        Some(text) if has_control(text) => Err(invalid_characters(field)),
        Some(text) if text.trim_matches(is_blank).is_empty() => Ok(None),
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
