//! What a caller may see. A client restricted to programmes sees only what belongs to them:
//! programmes themselves, territories that take part in one, chefs de projet working for one,
//! trainings targeting one (or open to all), their sessions, and the enrolments of the chefs de
//! projet it sees. Anything else is answered as if it did not exist (404, or an unknown
//! reference in a body).

use uuid::Uuid;

use crate::error::{ApiError, FieldError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    All,
    Programmes(Vec<Uuid>),
}

impl Visibility {
    /// The programmes of a restricted caller.
    pub fn restricted_to(&self) -> Option<&[Uuid]> {
        match self {
            Visibility::All => None,
            Visibility::Programmes(ids) => Some(ids),
        }
    }

    pub fn sees_programme(&self, id: Uuid) -> bool {
        self.restricted_to().is_none_or(|ids| ids.contains(&id))
    }

    /// For a restricted caller, a resource it writes must stay visible to it: it must keep at
    /// least one of the caller's programmes in `field`.
    pub fn require_one_of_mine(&self, field: &str, programme_ids: &[Uuid]) -> Result<(), ApiError> {
        match self.restricted_to() {
            Some(mine) if !programme_ids.iter().any(|p| mine.contains(p)) => {
                Err(ApiError::validation(vec![FieldError::new(
                    field,
                    "outside_your_programmes",
                    format!("{field} must include at least one of the programmes your client is restricted to"),
                )]))
            }
            _ => Ok(()),
        }
    }
}
