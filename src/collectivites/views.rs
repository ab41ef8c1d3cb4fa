//! The collectivité as the API shows and accepts it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::{conditional::ETagged, pagination::Identified, Cursor, Limit};

/// What kind of local authority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CollectiviteKind {
    Commune,
    Epci,
    Departement,
    Region,
    Other,
}

impl CollectiviteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Commune => "commune",
            Self::Epci => "epci",
            Self::Departement => "departement",
            Self::Region => "region",
            Self::Other => "other",
        }
    }

    pub fn from_db(value: &str) -> Self {
        match value {
            "commune" => Self::Commune,
            "epci" => Self::Epci,
            "departement" => Self::Departement,
            "region" => Self::Region,
            _ => Self::Other,
        }
    }
}

/// A programme the territory takes part in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Membership {
    /// The programme's code.
    #[schema(example = "petites-villes-de-demain")]
    pub programme: String,
    /// When the territory joined the programme.
    #[serde(default)]
    pub joined_on: Option<NaiveDate>,
}

/// A territory: a commune, an intercommunality (EPCI), a department, a region …
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f2-8d21-7c55-b2a4-5f1e0c7a9b10",
    "kind": "commune",
    "name": "Ablis",
    "insee_code": "78003",
    "cog_year": 2021,
    "siren": null,
    "epci_siren": "200073344",
    "department_code": "78",
    "region_code": "11",
    "population": 3439,
    "programmes": [{"programme": "petites-villes-de-demain", "joined_on": "2021-01-22"}],
    "version": 1,
    "created_at": "2026-11-26T09:00:00Z",
    "updated_at": "2026-11-26T09:00:00Z"
}))]
pub struct Collectivite {
    pub id: Uuid,
    pub kind: CollectiviteKind,
    pub name: String,
    /// INSEE commune code (communes only): 5 characters, `2A`/`2B` for Corsica.
    pub insee_code: Option<String>,
    /// Year of the COG code list `insee_code` belongs to (codes change with mergers).
    pub cog_year: Option<i32>,
    /// The authority's own SIREN (9 digits, Luhn).
    pub siren: Option<String>,
    /// For a commune, the SIREN of its intercommunality.
    pub epci_siren: Option<String>,
    pub department_code: Option<String>,
    pub region_code: Option<String>,
    pub population: Option<i32>,
    /// The programmes it takes part in.
    pub programmes: Vec<Membership>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ETagged for Collectivite {
    fn version(&self) -> i64 {
        self.version
    }
}

impl Identified for Collectivite {
    fn id(&self) -> Uuid {
        self.id
    }
}

/// A new territory. For a commune, `insee_code` and `cog_year` are required and
/// `department_code` is derived from the INSEE code when absent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "kind": "commune",
    "name": "Ablis",
    "insee_code": "78003",
    "cog_year": 2021,
    "epci_siren": "200073344",
    "region_code": "11",
    "population": 3439,
    "programmes": [{"programme": "petites-villes-de-demain", "joined_on": "2021-01-22"}]
}))]
pub struct CollectiviteInput {
    pub kind: CollectiviteKind,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^([0-9]{2}|2A|2B)[0-9]{3}$")]
    pub insee_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1943, maximum = 2100)]
    pub cog_year: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub siren: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epci_siren: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0)]
    pub population: Option<i32>,
    /// The programmes it takes part in; on update, the whole list is replaced.
    #[serde(default)]
    pub programmes: Vec<Membership>,
}

/// A JSON merge patch of a territory: the members to change, `null` to clear an optional one.
/// `programmes`, when given, replaces the whole list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"population": 3512, "programmes": [{"programme": "petites-villes-de-demain", "joined_on": "2021-01-22"}]}))]
#[allow(dead_code)]
pub struct CollectivitePatch {
    kind: Option<CollectiviteKind>,
    name: Option<String>,
    insee_code: Option<String>,
    cog_year: Option<i32>,
    siren: Option<String>,
    epci_siren: Option<String>,
    department_code: Option<String>,
    region_code: Option<String>,
    population: Option<i32>,
    programmes: Option<Vec<Membership>>,
}

/// Filters of the territory list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CollectiviteFilter {
    /// Page size, 1 to 500.
    #[serde(default)]
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500, example = 50)]
    pub limit: Limit,
    /// `next_cursor` of the previous page.
    #[param(value_type = Option<String>)]
    pub cursor: Option<Cursor>,
    /// Only territories taking part in this programme (its code).
    #[param(example = "petites-villes-de-demain")]
    pub programme: Option<String>,
    pub kind: Option<CollectiviteKind>,
    /// Only territories of this region (COG code, such as `84`).
    #[param(example = "84")]
    pub region: Option<String>,
    /// Only territories of this department (such as `2A` or `974`).
    #[param(example = "2A")]
    pub department: Option<String>,
    /// Only the commune with this INSEE code.
    pub insee_code: Option<String>,
    /// Accent- and case-insensitive search in the name (`chateau` finds `Château-Gontier`).
    #[serde(default, deserialize_with = "crate::http::query::search_term")]
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Only territories changed strictly after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime, example = "2026-01-01T00:00:00Z")]
    pub updated_after: Option<DateTime<Utc>>,
}
