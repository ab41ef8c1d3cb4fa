//! Codes of the Code officiel géographique (COG): commune, department and region.

use crate::error::FieldError;

/// An INSEE commune code: five characters, the department then three digits; Corsica's `2A`/`2B`,
/// overseas `971`–`978`. `999999`, `20xxx` (Corsica before 1976) or `99xxx` (foreign
/// countries) are not communes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InseeCode(String);

impl InseeCode {
    pub fn parse(field: &str, text: &str) -> Result<Self, FieldError> {
        let code = text.trim().to_ascii_uppercase();
        let bytes = code.as_bytes();
        let invalid = |why: &str| {
            FieldError::new(
                field,
                "invalid_insee_code",
                format!("{field} must be an INSEE commune code (5 characters, such as 80001, 2A004 or 97411): {why}"),
            )
        };
        if bytes.len() != 5 {
            return Err(invalid("wrong length"));
        }
        if !bytes[2..].iter().all(u8::is_ascii_digit) {
            return Err(invalid("the last three characters must be digits"));
        }
        let department = &code[..2];
        match department {
            "2A" | "2B" => {}
            "97" if (b'1'..=b'8').contains(&bytes[2]) => {}
            _ if bytes[..2].iter().all(u8::is_ascii_digit) => {
                let number: u8 = department.parse().unwrap_or(0);
                if !(1..=95).contains(&number) || number == 20 {
                    return Err(invalid("no such department"));
                }
            }
            _ => return Err(invalid("no such department")),
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The department the commune is in: `80`, `2A`, `974`.
    pub fn department(&self) -> DepartmentCode {
        let length = if self.0.starts_with("97") { 3 } else { 2 };
        DepartmentCode(self.0[..length].to_string())
    }
}

/// A department code: `01`–`95` (not `20`), `2A`, `2B`, `971`–`978`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentCode(String);

impl DepartmentCode {
    pub fn parse(field: &str, text: &str) -> Result<Self, FieldError> {
        let code = text.trim().to_ascii_uppercase();
        let valid = match code.as_str() {
            "2A" | "2B" => true,
            c if c.len() == 3 && c.starts_with("97") => (b'1'..=b'8').contains(&c.as_bytes()[2]),
            c if c.len() == 2 && c.bytes().all(|b| b.is_ascii_digit()) => {
                let n: u8 = c.parse().unwrap_or(0);
                (1..=95).contains(&n) && n != 20
            }
            _ => false,
        };
        if valid {
            Ok(Self(code))
        } else {
            Err(FieldError::new(
                field,
                "invalid_department_code",
                format!("{field} must be a department code such as 01, 2A or 974"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A region code of the COG: two digits (`11` Île-de-France, `94` Corse, `01`–`06` overseas).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionCode(String);

impl RegionCode {
    pub fn parse(field: &str, text: &str) -> Result<Self, FieldError> {
        let code = text.trim();
        if code.len() == 2 && code.bytes().all(|b| b.is_ascii_digit()) && code != "00" {
            Ok(Self(code.to_string()))
        } else {
            Err(FieldError::new(
                field,
                "invalid_region_code",
                format!("{field} must be a two-digit region code such as 11 or 84"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The region of a region name as written in the programmes' files (accents and case
    /// ignored); `None` for a name that is not a current region.
    pub fn from_name(name: &str) -> Option<Self> {
        let folded: String = crate::values::insee::fold(name);
        REGIONS
            .iter()
            .find(|(_, region)| fold(region) == folded)
            .map(|(code, _)| Self((*code).to_string()))
    }
}

/// The regions of the COG since 2016.
pub const REGIONS: [(&str, &str); 18] = [
    ("01", "Guadeloupe"),
    ("02", "Martinique"),
    ("03", "Guyane"),
    ("04", "La Réunion"),
    ("06", "Mayotte"),
    ("11", "Île-de-France"),
    ("24", "Centre-Val de Loire"),
    ("27", "Bourgogne-Franche-Comté"),
    ("28", "Normandie"),
    ("32", "Hauts-de-France"),
    ("44", "Grand Est"),
    ("52", "Pays de la Loire"),
    ("53", "Bretagne"),
    ("75", "Nouvelle-Aquitaine"),
    ("76", "Occitanie"),
    ("84", "Auvergne-Rhône-Alpes"),
    ("93", "Provence-Alpes-Côte d'Azur"),
    ("94", "Corse"),
];

/// Lowercase ASCII letters and digits only, accents removed: for comparing names.
pub fn fold(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let base = match c {
                'à' | 'â' | 'ä' | 'À' | 'Â' | 'Ä' => 'a',
                'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
                'î' | 'ï' | 'Î' | 'Ï' => 'i',
                'ô' | 'ö' | 'Ô' | 'Ö' => 'o',
                'ù' | 'û' | 'ü' | 'Ù' | 'Û' | 'Ü' => 'u',
                'ç' | 'Ç' => 'c',
                other => other.to_ascii_lowercase(),
            };
            base.is_ascii_alphanumeric().then_some(base)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commune_codes() {
        for good in [
            "80001", "2A004", "2b033", "97411", "97801", "01001", "95690",
        ] {
            assert!(InseeCode::parse("insee_code", good).is_ok(), "{good}");
        }
        for bad in [
            "999999", "9999", "20004", "00001", "96001", "99100", "97901", "2C004", "8000A", "",
        ] {
            let error = InseeCode::parse("insee_code", bad).unwrap_err();
            assert_eq!(error.code, "invalid_insee_code", "{bad}");
        }
        assert_eq!(
            InseeCode::parse("x", "97411")
                .unwrap()
                .department()
                .as_str(),
            "974"
        );
        assert_eq!(
            InseeCode::parse("x", "2A004")
                .unwrap()
                .department()
                .as_str(),
            "2A"
        );
    }

    #[test]
    fn region_names_are_matched_whatever_the_accents() {
        assert_eq!(
            RegionCode::from_name("Provence-Alpes-Côte d'Azur")
                .unwrap()
                .as_str(),
            "93"
        );
        assert_eq!(
            RegionCode::from_name("ile-de-france").unwrap().as_str(),
            "11"
        );
        assert_eq!(RegionCode::from_name("Région"), None);
    }
}
