//! Session rules: dates in order, the enrolment window before the start, a place unless remote.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{ApiError, FieldError};
use crate::sessions::views::{Location, SessionInput};
use crate::values::text::{self, Errors};
use crate::values::{InseeCode, RegionCode};

/// A session whose fields all hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDraft {
    pub training_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub remote: bool,
    pub location: Option<Location>,
    pub capacity: i32,
    pub enrolment_opens_at: DateTime<Utc>,
    pub enrolment_closes_at: DateTime<Utc>,
    pub requires_approval: bool,
}

fn location(errors: &mut Errors, location: &Location) -> Option<Location> {
    let label = errors.check(text::optional(
        "location.label",
        location.label.as_deref(),
        200,
    ));
    let city = errors.check(text::required("location.city", &location.city, 200));
    let insee_code = match location.insee_code.as_deref().map(str::trim) {
        None | Some("") => Some(None),
        Some(code) => errors
            .check(InseeCode::parse("location.insee_code", code))
            .map(|c| Some(c.as_str().to_string())),
    };
    let region_code = match location.region_code.as_deref().map(str::trim) {
        None | Some("") => Some(None),
        Some(code) => errors
            .check(RegionCode::parse("location.region_code", code))
            .map(|c| Some(c.as_str().to_string())),
    };
    Some(Location {
        label: label?,
        city: city?,
        insee_code: insee_code?,
        region_code: region_code?,
    })
}

impl TryFrom<SessionInput> for SessionDraft {
    type Error = ApiError;

    fn try_from(input: SessionInput) -> Result<Self, ApiError> {
        let mut errors = Errors::default();
        if input.ends_at <= input.starts_at {
            errors.push(FieldError::new(
                "ends_at",
                "not_after_start",
                "ends_at must be after starts_at",
            ));
        }
        if input.enrolment_closes_at <= input.enrolment_opens_at {
            errors.push(FieldError::new(
                "enrolment_closes_at",
                "not_after_opening",
                "enrolment_closes_at must be after enrolment_opens_at",
            ));
        }
        if input.enrolment_closes_at > input.starts_at {
            errors.push(FieldError::new(
                "enrolment_closes_at",
                "after_start",
                "the enrolment window must close no later than starts_at",
            ));
        }
        if !(1..=10_000).contains(&input.capacity) {
            errors.push(FieldError::new(
                "capacity",
                "out_of_range",
                "capacity must be from 1 to 10000",
            ));
        }
        let place = match &input.location {
            Some(place) => location(&mut errors, place).map(Some),
            None if input.remote => Some(None),
            None => {
                errors.push(FieldError::new(
                    "location",
                    "required",
                    "a session that is not remote needs a location (at least its city)",
                ));
                None
            }
        };
        errors.finish(|| {
            Some(Self {
                training_id: input.training_id,
                starts_at: input.starts_at,
                ends_at: input.ends_at,
                remote: input.remote,
                location: place?,
                capacity: input.capacity,
                enrolment_opens_at: input.enrolment_opens_at,
                enrolment_closes_at: input.enrolment_closes_at,
                requires_approval: input.requires_approval,
            })
        })
    }
}
