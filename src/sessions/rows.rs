//! The `sessions` table.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::sessions;
use crate::sessions::domain::SessionDraft;
use crate::sessions::views::{Location, Session, SessionInput, SessionStatus};

#[derive(Debug, Clone, Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = sessions, check_for_backend(diesel::pg::Pg))]
pub struct SessionRow {
    pub id: Uuid,
    pub training_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub remote: bool,
    pub location_label: Option<String>,
    pub location_city: Option<String>,
    pub location_insee_code: Option<String>,
    pub region_code: Option<String>,
    pub capacity: i32,
    pub enrolment_opens_at: DateTime<Utc>,
    pub enrolment_closes_at: DateTime<Utc>,
    pub requires_approval: bool,
    pub status: String,
    pub seats_confirmed: i32,
    pub seats_waitlisted: i32,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The writable columns (`None` clears the location on update).
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = sessions, treat_none_as_null = true)]
pub struct SessionValues<'a> {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub remote: bool,
    pub location_label: Option<&'a str>,
    pub location_city: Option<&'a str>,
    pub location_insee_code: Option<&'a str>,
    pub region_code: Option<&'a str>,
    pub capacity: i32,
    pub enrolment_opens_at: DateTime<Utc>,
    pub enrolment_closes_at: DateTime<Utc>,
    pub requires_approval: bool,
}

impl<'a> From<&'a SessionDraft> for SessionValues<'a> {
    fn from(draft: &'a SessionDraft) -> Self {
        let place = draft.location.as_ref();
        Self {
            starts_at: draft.starts_at,
            ends_at: draft.ends_at,
            remote: draft.remote,
            location_label: place.and_then(|p| p.label.as_deref()),
            location_city: place.map(|p| p.city.as_str()),
            location_insee_code: place.and_then(|p| p.insee_code.as_deref()),
            region_code: place.and_then(|p| p.region_code.as_deref()),
            capacity: draft.capacity,
            enrolment_opens_at: draft.enrolment_opens_at,
            enrolment_closes_at: draft.enrolment_closes_at,
            requires_approval: draft.requires_approval,
        }
    }
}

impl From<SessionRow> for Session {
    fn from(row: SessionRow) -> Self {
        let location = row.location_city.map(|city| Location {
            label: row.location_label,
            city,
            insee_code: row.location_insee_code,
            region_code: row.region_code,
        });
        Session {
            id: row.id,
            training_id: row.training_id,
            starts_at: row.starts_at,
            ends_at: row.ends_at,
            remote: row.remote,
            location,
            capacity: row.capacity,
            enrolment_opens_at: row.enrolment_opens_at,
            enrolment_closes_at: row.enrolment_closes_at,
            requires_approval: row.requires_approval,
            status: SessionStatus::from_db(&row.status),
            seats_confirmed: row.seats_confirmed,
            seats_waitlisted: row.seats_waitlisted,
            seats_left: (row.capacity - row.seats_confirmed).max(0),
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

impl From<&Session> for SessionInput {
    fn from(s: &Session) -> Self {
        Self {
            training_id: s.training_id,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            remote: s.remote,
            location: s.location.clone(),
            capacity: s.capacity,
            enrolment_opens_at: s.enrolment_opens_at,
            enrolment_closes_at: s.enrolment_closes_at,
            requires_approval: s.requires_approval,
        }
    }
}
