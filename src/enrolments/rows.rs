//! The `enrolments` and `enrolment_transitions` tables.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{enrolment_transitions, enrolments};
use crate::enrolments::views::{Enrolment, EnrolmentStatus, Transition};

#[derive(Debug, Clone, Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = enrolments, check_for_backend(diesel::pg::Pg))]
pub struct EnrolmentRow {
    pub id: Uuid,
    pub session_id: Uuid,
    pub chef_de_projet_id: Uuid,
    pub status: String,
    pub waitlist_order: Option<i64>,
    pub reason: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl EnrolmentRow {
    pub fn status(&self) -> EnrolmentStatus {
        EnrolmentStatus::from_db(&self.status)
    }

    pub fn into_view(self, waitlist_position: Option<i64>) -> Enrolment {
        Enrolment {
            id: self.id,
            session_id: self.session_id,
            chef_de_projet_id: self.chef_de_projet_id,
            status: EnrolmentStatus::from_db(&self.status),
            waitlist_position,
            reason: self.reason,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = enrolment_transitions, check_for_backend(diesel::pg::Pg))]
pub struct TransitionRow {
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor: String,
    pub reason: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

impl From<TransitionRow> for Transition {
    fn from(row: TransitionRow) -> Self {
        Transition {
            from_status: row.from_status.as_deref().map(EnrolmentStatus::from_db),
            to_status: EnrolmentStatus::from_db(&row.to_status),
            actor: row.actor,
            reason: row.reason,
            occurred_at: row.occurred_at,
        }
    }
}
