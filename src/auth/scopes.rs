//! The scopes of DESIGN.md. `admin` implies every other one.

use std::fmt;

/// A permission a client holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    ProgrammesRead,
    ProgrammesWrite,
    CollectivitesRead,
    CollectivitesWrite,
    PeopleRead,
    PeopleWrite,
    TrainingsRead,
    TrainingsWrite,
    EnrolmentsRead,
    EnrolmentsWrite,
    ChangesRead,
    WebhooksManage,
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 13] = [
        Scope::ProgrammesRead,
        Scope::ProgrammesWrite,
        Scope::CollectivitesRead,
        Scope::CollectivitesWrite,
        Scope::PeopleRead,
        Scope::PeopleWrite,
        Scope::TrainingsRead,
        Scope::TrainingsWrite,
        Scope::EnrolmentsRead,
        Scope::EnrolmentsWrite,
        Scope::ChangesRead,
        Scope::WebhooksManage,
        Scope::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ProgrammesRead => "programmes:read",
            Scope::ProgrammesWrite => "programmes:write",
            Scope::CollectivitesRead => "collectivites:read",
            Scope::CollectivitesWrite => "collectivites:write",
            Scope::PeopleRead => "people:read",
            Scope::PeopleWrite => "people:write",
            Scope::TrainingsRead => "trainings:read",
            Scope::TrainingsWrite => "trainings:write",
            Scope::EnrolmentsRead => "enrolments:read",
            Scope::EnrolmentsWrite => "enrolments:write",
            Scope::ChangesRead => "changes:read",
            Scope::WebhooksManage => "webhooks:manage",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// What the scope lets a client do, for the OpenAPI document.
    pub fn description(self) -> &'static str {
        match self {
            Scope::ProgrammesRead => "Read programmes",
            Scope::ProgrammesWrite => "Create, change and delete programmes",
            Scope::CollectivitesRead => "Read territories",
            Scope::CollectivitesWrite => "Create, change and delete territories",
            Scope::PeopleRead => "Read chefs de projet (personal data)",
            Scope::PeopleWrite => "Create, change, delete and erase chefs de projet",
            Scope::TrainingsRead => "Read trainings and sessions",
            Scope::TrainingsWrite => "Manage trainings and sessions",
            Scope::EnrolmentsRead => "Read enrolments and their history",
            Scope::EnrolmentsWrite => "Enrol, approve, refuse, cancel, record attendance",
            Scope::ChangesRead => "Follow the change feed",
            Scope::WebhooksManage => "Manage webhook endpoints",
            Scope::Admin => "Everything (implies every other scope)",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses a space- or comma-separated list; the unknown names are returned as the error.
pub fn parse_list(text: &str) -> Result<Vec<Scope>, Vec<String>> {
    let mut scopes = Vec::new();
    let mut unknown = Vec::new();
    for name in text
        .split([' ', ','])
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        match Scope::parse(name) {
            Some(scope) if !scopes.contains(&scope) => scopes.push(scope),
            Some(_) => {}
            None => unknown.push(name.to_string()),
        }
    }
    if unknown.is_empty() {
        Ok(scopes)
    } else {
        Err(unknown)
    }
}

/// Whether `held` grants `wanted`.
pub fn grants(held: &[Scope], wanted: Scope) -> bool {
    held.contains(&Scope::Admin) || held.contains(&wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_and_admin_implies_all() {
        assert_eq!(
            parse_list("programmes:read, people:read programmes:read").unwrap(),
            [Scope::ProgrammesRead, Scope::PeopleRead]
        );
        assert_eq!(parse_list("people:read nope").unwrap_err(), ["nope"]);
        assert!(grants(&[Scope::Admin], Scope::WebhooksManage));
        assert!(!grants(&[Scope::PeopleRead], Scope::PeopleWrite));
    }
}
