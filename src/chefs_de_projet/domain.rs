//! Chef de projet rules.

use uuid::Uuid;

use crate::chefs_de_projet::views::{ChefDeProjetInput, ChefStatus};
use crate::error::{ApiError, FieldError};
use crate::values::text::{self, Errors};
use crate::values::Email;

/// A chef de projet whose fields all hold; programmes are still codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChefDraft {
    pub first_name: String,
    pub last_name: String,
    pub email: Email,
    pub phone: Option<String>,
    pub collectivite_id: Uuid,
    pub programmes: Vec<String>,
    pub status: ChefStatus,
}

/// A phone number: digits with the usual separators, 6 to 20 digits.
fn phone(value: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(text) = value.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let digits = text.chars().filter(char::is_ascii_digit).count();
    let allowed = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '+' | '(' | ')'));
    if allowed && (6..=20).contains(&digits) && text.len() <= 30 {
        Ok(Some(text.to_string()))
    } else {
        Err(FieldError::new(
            "phone",
            "invalid_phone",
            "phone must be a phone number such as +33 1 23 45 67 89",
        ))
    }
}

impl TryFrom<ChefDeProjetInput> for ChefDraft {
    type Error = ApiError;

    fn try_from(input: ChefDeProjetInput) -> Result<Self, ApiError> {
        let mut errors = Errors::default();
        let first_name = errors.check(text::required("first_name", &input.first_name, 100));
        let last_name = errors.check(text::required("last_name", &input.last_name, 100));
        let email = errors.check(Email::parse("email", &input.email));
        let phone = errors.check(phone(input.phone.as_deref()));
        let mut programmes: Vec<String> = Vec::new();
        for (i, code) in input.programmes.iter().enumerate() {
            let code = code.trim().to_string();
            if programmes.contains(&code) {
                errors.push(FieldError::new(
                    format!("programmes[{i}]"),
                    "duplicate",
                    format!("programme {code} is listed twice"),
                ));
            } else {
                programmes.push(code);
            }
        }
        errors.finish(|| {
            Some(Self {
                first_name: first_name?,
                last_name: last_name?,
                email: email?,
                phone: phone?,
                collectivite_id: input.collectivite_id,
                programmes,
                status: input.status.unwrap_or(ChefStatus::Active),
            })
        })
    }
}
