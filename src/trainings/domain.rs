//! Training rules.

use crate::error::{ApiError, FieldError};
use crate::trainings::views::{Modality, TrainingInput, TrainingStatus};
use crate::values::text::{self, Errors};

/// A training whose fields all hold; target programmes are still codes.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingDraft {
    pub code: String,
    pub title: String,
    pub summary: Option<String>,
    pub objectives: Option<String>,
    pub duration_hours: f64,
    pub modality: Modality,
    pub provider: String,
    pub target_programmes: Vec<String>,
    pub status: TrainingStatus,
}

/// A catalogue code: letters, digits, `.`, `_`, `-`, 1–64 characters, starting alphanumeric.
fn catalogue_code(text: &str) -> Result<String, FieldError> {
    let code = text.trim();
    let valid = (1..=64).contains(&code.len())
        && code
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if valid {
        Ok(code.to_string())
    } else {
        Err(FieldError::new(
            "code",
            "invalid_format",
            "code must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit",
        ))
    }
}

impl TryFrom<TrainingInput> for TrainingDraft {
    type Error = ApiError;

    fn try_from(input: TrainingInput) -> Result<Self, ApiError> {
        let mut errors = Errors::default();
        let code = errors.check(catalogue_code(&input.code));
        let title = errors.check(text::required("title", &input.title, 200));
        let summary = errors.check(text::optional("summary", input.summary.as_deref(), 2000));
        let objectives = errors.check(text::optional(
            "objectives",
            input.objectives.as_deref(),
            5000,
        ));
        let provider = errors.check(text::optional("provider", input.provider.as_deref(), 200));
        if !(input.duration_hours > 0.0 && input.duration_hours <= 1000.0) {
            errors.push(FieldError::new(
                "duration_hours",
                "out_of_range",
                "duration_hours must be more than 0 and at most 1000",
            ));
        }
        let mut targets: Vec<String> = Vec::new();
        for (i, code) in input.target_programmes.iter().enumerate() {
            let code = code.trim().to_string();
            if targets.contains(&code) {
                errors.push(FieldError::new(
                    format!("target_programmes[{i}]"),
                    "duplicate",
                    format!("programme {code} is listed twice"),
                ));
            } else {
                targets.push(code);
            }
        }
        errors.finish(|| {
            Some(Self {
                code: code?,
                title: title?,
                summary: summary?,
                objectives: objectives?,
                duration_hours: input.duration_hours,
                modality: input.modality,
                provider: provider?.unwrap_or_else(|| "CNFPT".into()),
                target_programmes: targets,
                status: input.status.unwrap_or(TrainingStatus::Draft),
            })
        })
    }
}
