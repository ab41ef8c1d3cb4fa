//! The session as the API shows and accepts it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::{conditional::ETagged, pagination::Identified, Cursor, Limit};

/// Where a session stands. Changed by the `cancel` and `complete` operations only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    Scheduled,
    Cancelled,
    Completed,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Cancelled => "cancelled",
            Self::Completed => "completed",
        }
    }

    pub fn from_db(value: &str) -> Self {
        match value {
            "cancelled" => Self::Cancelled,
            "completed" => Self::Completed,
            _ => Self::Scheduled,
        }
    }
}

/// Where an in-person or hybrid session takes place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// Venue, such as `CNFPT, délégation Bretagne`.
    #[serde(default)]
    pub label: Option<String>,
    pub city: String,
    /// INSEE code of the commune.
    #[serde(default)]
    pub insee_code: Option<String>,
    /// COG region code.
    #[serde(default)]
    pub region_code: Option<String>,
}

/// A session of a training.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f3-9d8e-7f60-a1b2-c3d4e5f60718",
    "training_id": "0193a1f3-4b5c-7e6f-9a01-b2c3d4e5f607",
    "starts_at": "2027-03-15T08:30:00Z",
    "ends_at": "2027-03-16T16:30:00Z",
    "remote": false,
    "location": {"label": "CNFPT Bretagne", "city": "Rennes", "insee_code": "35238", "region_code": "53"},
    "capacity": 20,
    "enrolment_opens_at": "2027-01-05T00:00:00Z",
    "enrolment_closes_at": "2027-03-01T00:00:00Z",
    "requires_approval": true,
    "status": "scheduled",
    "seats_confirmed": 12,
    "seats_waitlisted": 0,
    "seats_left": 8,
    "version": 3,
    "created_at": "2026-11-26T09:00:00Z",
    "updated_at": "2026-11-26T10:00:00Z"
}))]
pub struct Session {
    pub id: Uuid,
    pub training_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Whether the session is followed remotely (then `location` may be null).
    pub remote: bool,
    pub location: Option<Location>,
    pub capacity: i32,
    pub enrolment_opens_at: DateTime<Utc>,
    pub enrolment_closes_at: DateTime<Utc>,
    /// Whether enrolments wait for CNFPT's approval (`pending_approval`) before taking a seat.
    pub requires_approval: bool,
    pub status: SessionStatus,
    /// Read-only: confirmed enrolments (the only ones holding a seat).
    pub seats_confirmed: i32,
    /// Read-only: enrolments on the waitlist.
    pub seats_waitlisted: i32,
    /// Read-only: `capacity - seats_confirmed`.
    pub seats_left: i32,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ETagged for Session {
    fn version(&self) -> i64 {
        self.version
    }
}

impl Identified for Session {
    fn id(&self) -> Uuid {
        self.id
    }
}

/// A new session. The enrolment window must close no later than the start.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "training_id": "0193a1f3-4b5c-7e6f-9a01-b2c3d4e5f607",
    "starts_at": "2027-03-15T08:30:00Z",
    "ends_at": "2027-03-16T16:30:00Z",
    "remote": false,
    "location": {"label": "CNFPT Bretagne", "city": "Rennes", "insee_code": "35238", "region_code": "53"},
    "capacity": 20,
    "enrolment_opens_at": "2027-01-05T00:00:00Z",
    "enrolment_closes_at": "2027-03-01T00:00:00Z",
    "requires_approval": true
}))]
pub struct SessionInput {
    pub training_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[serde(default)]
    pub remote: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[schema(minimum = 1, maximum = 10000)]
    pub capacity: i32,
    pub enrolment_opens_at: DateTime<Utc>,
    pub enrolment_closes_at: DateTime<Utc>,
    #[serde(default)]
    pub requires_approval: bool,
}

/// A JSON merge patch of a session. `training_id` cannot change; `status` changes through the
/// `cancel` and `complete` operations. Raising `capacity` confirms waitlisted enrolments.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"capacity": 25}))]
#[allow(dead_code)]
pub struct SessionPatch {
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    remote: Option<bool>,
    location: Option<Location>,
    capacity: Option<i32>,
    enrolment_opens_at: Option<DateTime<Utc>>,
    enrolment_closes_at: Option<DateTime<Utc>>,
    requires_approval: Option<bool>,
}

/// The reason of a cancellation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Intervenant indisponible"}))]
pub struct CancelSession {
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// Filters of the session list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SessionFilter {
    /// Page size, 1 to 500.
    #[serde(default)]
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500, example = 50)]
    pub limit: Limit,
    /// `next_cursor` of the previous page.
    #[param(value_type = Option<String>)]
    pub cursor: Option<Cursor>,
    pub training_id: Option<Uuid>,
    /// Only sessions of trainings open to this programme (targeting it, or open to all).
    pub programme: Option<String>,
    /// Only sessions held in this region (COG code).
    pub region: Option<String>,
    pub status: Option<SessionStatus>,
    pub remote: Option<bool>,
    /// Only sessions starting at or after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub starts_after: Option<DateTime<Utc>>,
    /// Only sessions starting before this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub starts_before: Option<DateTime<Utc>>,
    /// Only sessions changed strictly after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime, example = "2026-01-01T00:00:00Z")]
    pub updated_after: Option<DateTime<Utc>>,
}
