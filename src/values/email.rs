//! E-mail addresses: checked for shape (the only real check is a message that arrives).

use crate::error::FieldError;

/// The addresses the OpenAPI document promises to accept: an ASCII local part of at most 64
/// characters, `@`, a dotted ASCII domain. `Email::parse` accepts these (and a little more).
pub const EMAIL_PATTERN: &str =
    "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+$";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, text: &str) -> Result<Self, FieldError> {
        let email = text.trim();
        let invalid = || {
            FieldError::new(
                field,
                "invalid_email",
                format!("{field} must be an e-mail address such as prenom.nom@mairie.fr"),
            )
        };
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.len() >= 3
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(invalid());
        }
        Ok(Self(email.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn shapes() {
        for good in [
            "camille.martin@mairie-ablis.fr",
            "a.b+pvd@anct.gouv.fr",
            "x@élysée.fr",
        ] {
            assert!(Email::parse("email", good).is_ok(), "{good}");
        }
        for bad in [
            "", "no-at", "a@b", "a@@b.fr", "a b@c.fr", "@c.fr", "a@.fr", "a@c..fr",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad}");
        }
    }
}
