//! Territory rules: a request becomes a `CollectiviteDraft` only if every field holds.

use chrono::NaiveDate;

use crate::collectivites::views::{CollectiviteInput, CollectiviteKind, Membership};
use crate::error::{ApiError, FieldError};
use crate::values::text::{self, Errors};
use crate::values::{DepartmentCode, InseeCode, RegionCode, Siren};

/// A territory whose fields all hold. Programmes are still codes: the store resolves them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectiviteDraft {
    pub kind: CollectiviteKind,
    pub name: String,
    pub insee: Option<(InseeCode, i32)>,
    pub siren: Option<Siren>,
    pub epci_siren: Option<Siren>,
    pub department: Option<DepartmentCode>,
    pub region: Option<RegionCode>,
    pub population: Option<i32>,
    pub programmes: Vec<(String, Option<NaiveDate>)>,
}

impl TryFrom<CollectiviteInput> for CollectiviteDraft {
    type Error = ApiError;

    fn try_from(input: CollectiviteInput) -> Result<Self, ApiError> {
        let mut errors = Errors::default();
        let name = errors.check(text::required("name", &input.name, 200));
        // A blank code is no code, for every rule below.
        let no_insee_code = input
            .insee_code
            .as_deref()
            .map(str::trim)
            .is_none_or(str::is_empty);
        let insee_code = match input.insee_code.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(code) => errors.check(InseeCode::parse("insee_code", code)),
        };
        let insee = match (insee_code, input.cog_year) {
            (Some(code), Some(year)) if (1943..=2100).contains(&year) => Some((code, year)),
            (Some(_), Some(_)) => {
                errors.push(FieldError::new(
                    "cog_year",
                    "out_of_range",
                    "cog_year must be a year from 1943 to 2100",
                ));
                None
            }
            (Some(_), None) => {
                errors.push(FieldError::new(
                    "cog_year",
                    "required",
                    "cog_year (the year of the INSEE code list) is required with insee_code",
                ));
                None
            }
            (None, Some(_)) if no_insee_code => {
                errors.push(FieldError::new(
                    "cog_year",
                    "without_insee_code",
                    "cog_year is only meaningful with insee_code",
                ));
                None
            }
            (None, _) => None,
        };
        if input.kind == CollectiviteKind::Commune && no_insee_code {
            errors.push(FieldError::new(
                "insee_code",
                "required",
                "a commune needs its INSEE code",
            ));
        }
        let siren = optional(&mut errors, input.siren.as_deref(), |t| {
            Siren::parse("siren", t)
        });
        let epci_siren = optional(&mut errors, input.epci_siren.as_deref(), |t| {
            Siren::parse("epci_siren", t)
        });
        // An invalid code is recorded in `errors`; absent and invalid both leave `None` here.
        let mut department = optional(&mut errors, input.department_code.as_deref(), |t| {
            DepartmentCode::parse("department_code", t)
        })
        .flatten();
        if let Some((code, _)) = &insee {
            match &department {
                None => department = Some(code.department()),
                Some(given) if *given != code.department() => errors.push(FieldError::new(
                    "department_code",
                    "inconsistent_with_insee_code",
                    format!(
                        "department_code {} does not match the INSEE code {}",
                        given.as_str(),
                        code.as_str()
                    ),
                )),
                Some(_) => {}
            }
        }
        let region = optional(&mut errors, input.region_code.as_deref(), |t| {
            RegionCode::parse("region_code", t)
        });
        if input.population.is_some_and(|p| p < 0) {
            errors.push(FieldError::new(
                "population",
                "negative",
                "population must not be negative",
            ));
        }
        let programmes = memberships(&mut errors, &input.programmes);
        errors.finish(|| {
            Some(Self {
                kind: input.kind,
                name: name?,
                insee,
                siren: siren?,
                epci_siren: epci_siren?,
                department,
                region: region?,
                population: input.population,
                programmes,
            })
        })
    }
}

/// `Some(None)` when absent or blank, `Some(Some(v))` when valid, `None` when invalid.
fn optional<T>(
    errors: &mut Errors,
    value: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, FieldError>,
) -> Option<Option<T>> {
    match value.map(str::trim) {
        None | Some("") => Some(None),
        Some(text) => errors.check(parse(text)).map(Some),
    }
}

/// Each programme once.
fn memberships(errors: &mut Errors, list: &[Membership]) -> Vec<(String, Option<NaiveDate>)> {
    let mut result: Vec<(String, Option<NaiveDate>)> = Vec::new();
    for (i, membership) in list.iter().enumerate() {
        let code = membership.programme.trim().to_string();
        if result.iter().any(|(c, _)| *c == code) {
            errors.push(FieldError::new(
                format!("programmes[{i}].programme"),
                "duplicate",
                format!("programme {code} is listed twice"),
            ));
        } else {
            result.push((code, membership.joined_on));
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commune() -> CollectiviteInput {
        CollectiviteInput {
            kind: CollectiviteKind::Commune,
            name: "Ajaccio".into(),
            insee_code: Some("2A004".into()),
            cog_year: Some(2025),
            siren: None,
            epci_siren: Some("242010056".into()),
            department_code: None,
            region_code: Some("94".into()),
            population: Some(73822),
            programmes: vec![],
        }
    }

    #[test]
    fn a_blank_insee_code_is_no_code() {
        let mut input = commune();
        input.insee_code = Some(" ".into());
        let error = CollectiviteDraft::try_from(input.clone()).unwrap_err();
        let codes: Vec<(&str, &str)> = error
            .errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            codes,
            [
                ("cog_year", "without_insee_code"),
                ("insee_code", "required")
            ]
        );
    }

    #[test]
    fn the_department_follows_the_insee_code() {
        let draft = CollectiviteDraft::try_from(commune()).unwrap();
        assert_eq!(draft.department.unwrap().as_str(), "2A");
    }

    #[test]
    fn every_rule_is_reported() {
        let mut input = commune();
        input.cog_year = None;
        input.epci_siren = Some("242010057".into());
        input.department_code = Some("2B".into());
        input.population = Some(-1);
        input.programmes = vec![
            Membership {
                programme: "pvd".into(),
                joined_on: None,
            },
            Membership {
                programme: "pvd".into(),
                joined_on: None,
            },
        ];
        let error = CollectiviteDraft::try_from(input).unwrap_err();
        let codes: Vec<_> = error
            .errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            codes,
            [
                ("cog_year", "required"),
                ("epci_siren", "invalid_siren_checksum"),
                ("population", "negative"),
                ("programmes[1].programme", "duplicate"),
            ]
        );
    }
}
