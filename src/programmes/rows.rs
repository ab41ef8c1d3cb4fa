//! The `programmes` table.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::programmes;
use crate::programmes::domain::ProgrammeDraft;
use crate::programmes::views::{Programme, ProgrammeStatus};

#[derive(Debug, Clone, Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = programmes, check_for_backend(diesel::pg::Pg))]
pub struct ProgrammeRow {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub status: String,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = programmes)]
pub struct NewProgrammeRow<'a> {
    pub id: Uuid,
    pub code: &'a str,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub status: &'a str,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
}

/// The writable columns; `None` in `description`/`ended_on` clears them.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = programmes, treat_none_as_null = true)]
pub struct ProgrammeChanges<'a> {
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub status: &'a str,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
}

impl<'a> NewProgrammeRow<'a> {
    pub fn from_draft(id: Uuid, draft: &'a ProgrammeDraft) -> Self {
        Self {
            id,
            code: draft.code.as_str(),
            name: &draft.name,
            description: draft.description.as_deref(),
            status: draft.status.as_str(),
            started_on: draft.started_on,
            ended_on: draft.ended_on,
        }
    }
}

impl<'a> From<&'a ProgrammeDraft> for ProgrammeChanges<'a> {
    fn from(draft: &'a ProgrammeDraft) -> Self {
        Self {
            name: &draft.name,
            description: draft.description.as_deref(),
            status: draft.status.as_str(),
            started_on: draft.started_on,
            ended_on: draft.ended_on,
        }
    }
}

impl From<ProgrammeRow> for Programme {
    fn from(row: ProgrammeRow) -> Self {
        Programme {
            id: row.id,
            code: row.code,
            name: row.name,
            description: row.description,
            status: ProgrammeStatus::from_db(&row.status),
            started_on: row.started_on,
            ended_on: row.ended_on,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

impl From<&Programme> for crate::programmes::views::ProgrammeInput {
    fn from(programme: &Programme) -> Self {
        Self {
            code: programme.code.clone(),
            name: programme.name.clone(),
            description: programme.description.clone(),
            status: Some(programme.status),
            started_on: programme.started_on,
            ended_on: programme.ended_on,
        }
    }
}
