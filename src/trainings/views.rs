//! The training as the API shows and accepts it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::{conditional::ETagged, pagination::Identified, Cursor, Limit};

/// How the training is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    InPerson,
    Remote,
    Hybrid,
}

impl Modality {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InPerson => "in_person",
            Self::Remote => "remote",
            Self::Hybrid => "hybrid",
        }
    }

    pub fn from_db(value: &str) -> Self {
        match value {
            "remote" => Self::Remote,
            "hybrid" => Self::Hybrid,
            _ => Self::InPerson,
        }
    }
}

/// Where the training stands in the catalogue: only `published` trainings take enrolments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrainingStatus {
    Draft,
    Published,
    Archived,
}

impl TrainingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
            Self::Archived => "archived",
        }
    }

    pub fn from_db(value: &str) -> Self {
        match value {
            "published" => Self::Published,
            "archived" => Self::Archived,
            _ => Self::Draft,
        }
    }
}

/// A training of the catalogue.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f3-4b5c-7e6f-9a01-b2c3d4e5f607",
    "code": "PVD-REVITA-01",
    "title": "Revitaliser un centre-bourg",
    "summary": "Méthodes et outils pour un projet de revitalisation.",
    "objectives": "Construire un diagnostic partagé; bâtir un plan d'action.",
    "duration_hours": 14.0,
    "modality": "in_person",
    "provider": "CNFPT",
    "target_programmes": ["petites-villes-de-demain"],
    "status": "published",
    "version": 1,
    "created_at": "2026-11-26T09:00:00Z",
    "updated_at": "2026-11-26T09:00:00Z"
}))]
pub struct Training {
    pub id: Uuid,
    /// Catalogue code, unique.
    pub code: String,
    pub title: String,
    pub summary: Option<String>,
    pub objectives: Option<String>,
    pub duration_hours: f64,
    pub modality: Modality,
    pub provider: String,
    /// Codes of the programmes the training is for; empty means open to every programme.
    pub target_programmes: Vec<String>,
    pub status: TrainingStatus,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ETagged for Training {
    fn version(&self) -> i64 {
        self.version
    }
}

impl Identified for Training {
    fn id(&self) -> Uuid {
        self.id
    }
}

/// A new training. `status` defaults to `draft`; `provider` to `CNFPT`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "code": "PVD-REVITA-01",
    "title": "Revitaliser un centre-bourg",
    "summary": "Méthodes et outils pour un projet de revitalisation.",
    "duration_hours": 14,
    "modality": "in_person",
    "target_programmes": ["petites-villes-de-demain"],
    "status": "published"
}))]
pub struct TrainingInput {
    #[schema(pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    pub code: String,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2000)]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 5000)]
    pub objectives: Option<String>,
    #[schema(exclusive_minimum = 0, maximum = 1000)]
    pub duration_hours: f64,
    pub modality: Modality,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 200)]
    pub provider: Option<String>,
    #[serde(default)]
    pub target_programmes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TrainingStatus>,
}

/// A JSON merge patch of a training; `target_programmes`, when given, replaces the list.
/// `code` cannot be changed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "published"}))]
#[allow(dead_code)]
pub struct TrainingPatch {
    title: Option<String>,
    summary: Option<String>,
    objectives: Option<String>,
    duration_hours: Option<f64>,
    modality: Option<Modality>,
    provider: Option<String>,
    target_programmes: Option<Vec<String>>,
    status: Option<TrainingStatus>,
}

/// Filters of the training list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TrainingFilter {
    /// Page size, 1 to 500.
    #[serde(default)]
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500, example = 50)]
    pub limit: Limit,
    /// `next_cursor` of the previous page.
    #[param(value_type = Option<String>)]
    pub cursor: Option<Cursor>,
    /// Only trainings open to this programme: those targeting it and those open to all.
    pub programme: Option<String>,
    pub status: Option<TrainingStatus>,
    pub modality: Option<Modality>,
    /// Accent- and case-insensitive search in code and title.
    #[serde(default, deserialize_with = "crate::http::query::search_term")]
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Only trainings changed strictly after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime, example = "2026-01-01T00:00:00Z")]
    pub updated_after: Option<DateTime<Utc>>,
}
