//! The programme as the API shows and accepts it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::{conditional::ETagged, pagination::Identified, Cursor, Limit};

/// Whether a programme still runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProgrammeStatus {
    Active,
    Closed,
}

impl ProgrammeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProgrammeStatus::Active => "active",
            ProgrammeStatus::Closed => "closed",
        }
    }

    pub fn from_db(value: &str) -> Self {
        match value {
            "closed" => ProgrammeStatus::Closed,
            _ => ProgrammeStatus::Active,
        }
    }
}

/// A programme of ANCT for local authorities.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f2-7c4e-7b3a-9f10-2b6f1c9d4e01",
    "code": "petites-villes-de-demain",
    "name": "Petites villes de demain",
    "description": "Revitalisation des communes de moins de 20 000 habitants exerçant des fonctions de centralité.",
    "status": "active",
    "started_on": "2020-10-01",
    "ended_on": "2026-12-31",
    "version": 1,
    "created_at": "2026-11-26T09:00:00Z",
    "updated_at": "2026-11-26T09:00:00Z"
}))]
pub struct Programme {
    pub id: Uuid,
    /// Stable slug: lowercase letters, digits and single hyphens, 2–64 characters.
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub status: ProgrammeStatus,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    /// Incremented on every change; also the `ETag`.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ETagged for Programme {
    fn version(&self) -> i64 {
        self.version
    }
}

impl Identified for Programme {
    fn id(&self) -> Uuid {
        self.id
    }
}

/// A new programme. `status` defaults to `active`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "code": "petites-villes-de-demain",
    "name": "Petites villes de demain",
    "description": "Revitalisation des communes de moins de 20 000 habitants exerçant des fonctions de centralité.",
    "started_on": "2020-10-01",
    "ended_on": "2026-12-31"
}))]
pub struct ProgrammeInput {
    /// Stable slug: lowercase letters, digits and single hyphens, 2–64 characters. Cannot be
    /// changed once created.
    #[schema(min_length = 2, max_length = 64, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub code: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ProgrammeStatus>,
    pub started_on: NaiveDate,
    /// On or after `started_on`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_on: Option<NaiveDate>,
}

/// A JSON merge patch (RFC 7386) of a programme: the members to change; `null` clears an
/// optional one. `code` cannot be changed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "closed", "ended_on": "2026-12-31"}))]
#[allow(dead_code)]
pub struct ProgrammePatch {
    name: Option<String>,
    description: Option<String>,
    status: Option<ProgrammeStatus>,
    started_on: Option<NaiveDate>,
    ended_on: Option<NaiveDate>,
}

/// Filters of the programme list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProgrammeFilter {
    /// Page size, 1 to 500.
    #[serde(default)]
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500, example = 50)]
    pub limit: Limit,
    /// `next_cursor` of the previous page.
    #[param(value_type = Option<String>)]
    pub cursor: Option<Cursor>,
    /// Only programmes with this status.
    pub status: Option<ProgrammeStatus>,
    /// Accent- and case-insensitive search in code and name (`coeur` finds `Action cœur de ville`).
    #[serde(default, deserialize_with = "crate::http::query::search_term")]
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Only programmes changed strictly after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime, example = "2026-01-01T00:00:00Z")]
    pub updated_after: Option<DateTime<Utc>>,
}
