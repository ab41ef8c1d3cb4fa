//! Programme rules: a request becomes a `ProgrammeDraft` only if every field is valid.

use chrono::NaiveDate;

use crate::error::{ApiError, FieldError};
use crate::programmes::views::{ProgrammeInput, ProgrammeStatus};
use crate::values::text::{self, Errors};

/// A programme code: a lowercase slug of 2–64 characters (`petites-villes-de-demain`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgrammeCode(String);

impl ProgrammeCode {
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let valid_chars = text.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
        if !(2..=64).contains(&text.len()) {
            Err(FieldError::new(
                "code",
                "invalid_length",
                "code must be 2 to 64 characters long",
            ))
        } else if !valid_chars {
            Err(FieldError::new(
                "code",
                "invalid_format",
                "code must be a lowercase slug (a-z, 0-9 and single hyphens)",
            ))
        } else {
            Ok(Self(text.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A programme whose fields all hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgrammeDraft {
    pub code: ProgrammeCode,
    pub name: String,
    pub description: Option<String>,
    pub status: ProgrammeStatus,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
}

impl TryFrom<ProgrammeInput> for ProgrammeDraft {
    type Error = ApiError;

    fn try_from(input: ProgrammeInput) -> Result<Self, ApiError> {
        let mut errors = Errors::default();
        let code = errors.check(ProgrammeCode::parse(&input.code));
        let name = errors.check(text::required("name", &input.name, 200));
        let description = errors.check(text::optional(
            "description",
            input.description.as_deref(),
            5000,
        ));
        if input
            .ended_on
            .is_some_and(|ended_on| ended_on < input.started_on)
        {
            errors.push(FieldError::new(
                "ended_on",
                "before_start",
                "ended_on must not be before started_on",
            ));
        }
        errors.finish(|| {
            Some(Self {
                code: code?,
                name: name?,
                description: description?,
                status: input.status.unwrap_or(ProgrammeStatus::Active),
                started_on: input.started_on,
                ended_on: input.ended_on,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(code: &str, name: &str, started: &str, ended: Option<&str>) -> ProgrammeInput {
        ProgrammeInput {
            code: code.into(),
            name: name.into(),
            description: None,
            status: None,
            started_on: started.parse().unwrap(),
            ended_on: ended.map(|e| e.parse().unwrap()),
        }
    }

    #[test]
    fn codes_are_slugs() {
        for good in ["pvd", "petites-villes-de-demain", "acv2"] {
            assert!(ProgrammeCode::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "a",
            "Petites",
            "a--b",
            "-a",
            "a-",
            "é-t",
            "a b",
            &"x".repeat(65),
        ] {
            assert!(ProgrammeCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        let error = ProgrammeDraft::try_from(input("BAD", " ", "2024-01-01", Some("2023-01-01")))
            .unwrap_err();
        let fields: Vec<_> = error.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["code", "name", "ended_on"]);
    }

    #[test]
    fn a_valid_input_is_trimmed_and_active_by_default() {
        let draft =
            ProgrammeDraft::try_from(input("pvd", " Petites villes ", "2020-10-01", None)).unwrap();
        assert_eq!(draft.name, "Petites villes");
        assert_eq!(draft.status, ProgrammeStatus::Active);
    }
}
