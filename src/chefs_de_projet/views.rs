//! The chef de projet as the API shows and accepts them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::{conditional::ETagged, pagination::Identified, Cursor, Limit};

/// Whether the person still holds the position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChefStatus {
    Active,
    Left,
}

impl ChefStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Left => "left",
        }
    }

    pub fn from_db(value: &str) -> Self {
        match value {
            "left" => Self::Left,
            _ => Self::Active,
        }
    }
}

/// A chef de projet. After erasure, the personal fields hold placeholders and `erased_at` is set.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f3-0a4b-7d2e-8c11-3e5f7a9b1c2d",
    "first_name": "Camille",
    "last_name": "Martin",
    "email": "camille.martin@mairie-ablis.fr",
    "phone": "+33 1 30 88 00 00",
    "collectivite_id": "0193a1f2-8d21-7c55-b2a4-5f1e0c7a9b10",
    "programmes": ["petites-villes-de-demain"],
    "status": "active",
    "erased_at": null,
    "version": 1,
    "created_at": "2026-11-26T09:00:00Z",
    "updated_at": "2026-11-26T09:00:00Z"
}))]
pub struct ChefDeProjet {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    /// Unique, whatever its case.
    pub email: String,
    pub phone: Option<String>,
    /// The employer.
    pub collectivite_id: Uuid,
    /// Codes of the programmes the person works for.
    pub programmes: Vec<String>,
    pub status: ChefStatus,
    /// When the person's data was erased (GDPR); `null` otherwise.
    pub erased_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ETagged for ChefDeProjet {
    fn version(&self) -> i64 {
        self.version
    }
}

impl Identified for ChefDeProjet {
    fn id(&self) -> Uuid {
        self.id
    }
}

/// A new chef de projet. `status` defaults to `active`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "first_name": "Camille",
    "last_name": "Martin",
    "email": "camille.martin@mairie-ablis.fr",
    "phone": "+33 1 30 88 00 00",
    "collectivite_id": "0193a1f2-8d21-7c55-b2a4-5f1e0c7a9b10",
    "programmes": ["petites-villes-de-demain"]
}))]
pub struct ChefDeProjetInput {
    #[schema(min_length = 1, max_length = 100)]
    pub first_name: String,
    #[schema(min_length = 1, max_length = 100)]
    pub last_name: String,
    #[schema(max_length = 254, format = "email")]
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 30)]
    pub phone: Option<String>,
    pub collectivite_id: Uuid,
    /// Codes of the programmes the person works for; on update the whole list is replaced.
    #[serde(default)]
    pub programmes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ChefStatus>,
}

/// A JSON merge patch of a chef de projet; `programmes`, when given, replaces the list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "left"}))]
#[allow(dead_code)]
pub struct ChefDeProjetPatch {
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    collectivite_id: Option<Uuid>,
    programmes: Option<Vec<String>>,
    status: Option<ChefStatus>,
}

/// Filters of the chef de projet list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChefFilter {
    /// Page size, 1 to 500.
    #[serde(default)]
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500, example = 50)]
    pub limit: Limit,
    /// `next_cursor` of the previous page.
    #[param(value_type = Option<String>)]
    pub cursor: Option<Cursor>,
    /// Only people working for this programme (its code).
    pub programme: Option<String>,
    /// Only people employed by this territory.
    pub collectivite_id: Option<Uuid>,
    pub status: Option<ChefStatus>,
    /// Only people whose employer is in this region (COG code).
    pub region: Option<String>,
    /// Only people whose employer is in this department.
    pub department: Option<String>,
    /// Accent- and case-insensitive search in names and e-mail.
    #[serde(default, deserialize_with = "crate::http::query::search_term")]
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Only people changed strictly after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime, example = "2026-01-01T00:00:00Z")]
    pub updated_after: Option<DateTime<Utc>>,
}
