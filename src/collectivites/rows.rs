//! The `collectivites` and `collectivite_programmes` tables.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::collectivites::domain::CollectiviteDraft;
use crate::collectivites::views::{Collectivite, CollectiviteInput, CollectiviteKind, Membership};
use crate::db::schema::{collectivite_programmes, collectivites};

#[derive(Debug, Clone, Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = collectivites, check_for_backend(diesel::pg::Pg))]
pub struct CollectiviteRow {
    pub id: Uuid,
    pub kind: String,
    pub name: String,
    pub insee_code: Option<String>,
    pub cog_year: Option<i32>,
    pub siren: Option<String>,
    pub epci_siren: Option<String>,
    pub department_code: Option<String>,
    pub region_code: Option<String>,
    pub population: Option<i32>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The writable columns, for inserts and updates alike (`None` clears on update).
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = collectivites, treat_none_as_null = true)]
pub struct CollectiviteValues<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub insee_code: Option<&'a str>,
    pub cog_year: Option<i32>,
    pub siren: Option<&'a str>,
    pub epci_siren: Option<&'a str>,
    pub department_code: Option<&'a str>,
    pub region_code: Option<&'a str>,
    pub population: Option<i32>,
}

impl<'a> From<&'a CollectiviteDraft> for CollectiviteValues<'a> {
    fn from(draft: &'a CollectiviteDraft) -> Self {
        Self {
            kind: draft.kind.as_str(),
            name: &draft.name,
            insee_code: draft.insee.as_ref().map(|(code, _)| code.as_str()),
            cog_year: draft.insee.as_ref().map(|(_, year)| *year),
            siren: draft.siren.as_ref().map(|s| s.as_str()),
            epci_siren: draft.epci_siren.as_ref().map(|s| s.as_str()),
            department_code: draft.department.as_ref().map(|d| d.as_str()),
            region_code: draft.region.as_ref().map(|r| r.as_str()),
            population: draft.population,
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = collectivite_programmes)]
pub struct NewMembershipRow<'a> {
    pub collectivite_id: Uuid,
    pub programme_id: Uuid,
    pub joined_on: Option<NaiveDate>,
    pub external_ref: Option<&'a str>,
}

impl CollectiviteRow {
    pub fn into_view(self, programmes: Vec<Membership>) -> Collectivite {
        Collectivite {
            id: self.id,
            kind: CollectiviteKind::from_db(&self.kind),
            name: self.name,
            insee_code: self.insee_code,
            cog_year: self.cog_year,
            siren: self.siren,
            epci_siren: self.epci_siren,
            department_code: self.department_code,
            region_code: self.region_code,
            population: self.population,
            programmes,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

impl From<&Collectivite> for CollectiviteInput {
    fn from(c: &Collectivite) -> Self {
        Self {
            kind: c.kind,
            name: c.name.clone(),
            insee_code: c.insee_code.clone(),
            cog_year: c.cog_year,
            siren: c.siren.clone(),
            epci_siren: c.epci_siren.clone(),
            department_code: c.department_code.clone(),
            region_code: c.region_code.clone(),
            population: c.population,
            programmes: c.programmes.clone(),
        }
    }
}
