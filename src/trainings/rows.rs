//! The `trainings` and `training_programmes` tables.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::trainings;
use crate::trainings::domain::TrainingDraft;
use crate::trainings::views::{Modality, Training, TrainingInput, TrainingStatus};

#[derive(Debug, Clone, Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = trainings, check_for_backend(diesel::pg::Pg))]
pub struct TrainingRow {
    pub id: Uuid,
    pub code: String,
    pub title: String,
    pub summary: Option<String>,
    pub objectives: Option<String>,
    pub duration_hours: f64,
    pub modality: String,
    pub provider: String,
    pub status: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The writable columns (`None` clears on update).
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = trainings, treat_none_as_null = true)]
pub struct TrainingValues<'a> {
    pub code: &'a str,
    pub title: &'a str,
    pub summary: Option<&'a str>,
    pub objectives: Option<&'a str>,
    pub duration_hours: f64,
    pub modality: &'a str,
    pub provider: &'a str,
    pub status: &'a str,
}

impl<'a> From<&'a TrainingDraft> for TrainingValues<'a> {
    fn from(draft: &'a TrainingDraft) -> Self {
        Self {
            code: &draft.code,
            title: &draft.title,
            summary: draft.summary.as_deref(),
            objectives: draft.objectives.as_deref(),
            duration_hours: draft.duration_hours,
            modality: draft.modality.as_str(),
            provider: &draft.provider,
            status: draft.status.as_str(),
        }
    }
}

impl TrainingRow {
    pub fn into_view(self, target_programmes: Vec<String>) -> Training {
        Training {
            id: self.id,
            code: self.code,
            title: self.title,
            summary: self.summary,
            objectives: self.objectives,
            duration_hours: self.duration_hours,
            modality: Modality::from_db(&self.modality),
            provider: self.provider,
            target_programmes,
            status: TrainingStatus::from_db(&self.status),
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

impl From<&Training> for TrainingInput {
    fn from(t: &Training) -> Self {
        Self {
            code: t.code.clone(),
            title: t.title.clone(),
            summary: t.summary.clone(),
            objectives: t.objectives.clone(),
            duration_hours: t.duration_hours,
            modality: t.modality,
            provider: Some(t.provider.clone()),
            target_programmes: t.target_programmes.clone(),
            status: Some(t.status),
        }
    }
}
