//! SIREN: the nine-digit number of a French legal entity, with a Luhn check digit.

use crate::error::FieldError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Siren(String);

impl Siren {
    pub fn parse(field: &str, text: &str) -> Result<Self, FieldError> {
        let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() != 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(
                field,
                "invalid_siren",
                format!("{field} must be 9 digits"),
            ));
        }
        if !luhn_valid(&digits) {
            return Err(FieldError::new(
                field,
                "invalid_siren_checksum",
                format!("{field} fails the Luhn check: a digit is wrong"),
            ));
        }
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn() {
        // Real EPCI SIRENs from the programmes' files.
        for good in [
            "200070993",
            "243400819",
            "200096956",
            "242010056",
            "200 073 344",
        ] {
            assert!(Siren::parse("siren", good).is_ok(), "{good}");
        }
        assert_eq!(
            Siren::parse("siren", "200070994").unwrap_err().code,
            "invalid_siren_checksum"
        );
        assert_eq!(
            Siren::parse("siren", "NA").unwrap_err().code,
            "invalid_siren"
        );
        assert_eq!(
            Siren::parse("siren", "12345678").unwrap_err().code,
            "invalid_siren"
        );
    }
}
