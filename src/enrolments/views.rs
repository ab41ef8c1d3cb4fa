//! The enrolment as the API shows and accepts it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::{conditional::ETagged, pagination::Identified, Cursor, Limit};

/// Where an enrolment stands. Only `confirmed` holds a seat; the first three are "active".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnrolmentStatus {
    PendingApproval,
    Waitlisted,
    Confirmed,
    Refused,
    Cancelled,
    Attended,
    Absent,
}

impl EnrolmentStatus {
    pub const ACTIVE: [EnrolmentStatus; 3] =
        [Self::PendingApproval, Self::Waitlisted, Self::Confirmed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingApproval => "pending_approval",
            Self::Waitlisted => "waitlisted",
            Self::Confirmed => "confirmed",
            Self::Refused => "refused",
            Self::Cancelled => "cancelled",
            Self::Attended => "attended",
            Self::Absent => "absent",
        }
    }

    pub fn from_db(value: &str) -> Self {
        match value {
            "pending_approval" => Self::PendingApproval,
            "waitlisted" => Self::Waitlisted,
            "confirmed" => Self::Confirmed,
            "refused" => Self::Refused,
            "attended" => Self::Attended,
            "absent" => Self::Absent,
            _ => Self::Cancelled,
        }
    }

    pub fn is_active(self) -> bool {
        Self::ACTIVE.contains(&self)
    }
}

/// A chef de projet's enrolment on a session.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f4-1a2b-7c3d-8e4f-506172839405",
    "session_id": "0193a1f3-9d8e-7f60-a1b2-c3d4e5f60718",
    "chef_de_projet_id": "0193a1f3-0a4b-7d2e-8c11-3e5f7a9b1c2d",
    "status": "waitlisted",
    "waitlist_position": 3,
    "reason": null,
    "version": 2,
    "created_at": "2026-11-26T09:00:00Z",
    "updated_at": "2026-11-26T09:05:00Z"
}))]
pub struct Enrolment {
    pub id: Uuid,
    pub session_id: Uuid,
    pub chef_de_projet_id: Uuid,
    pub status: EnrolmentStatus,
    /// Read-only: place in the session's waitlist (1 is next), `null` unless waitlisted.
    pub waitlist_position: Option<i64>,
    /// The reason given with the last transition.
    pub reason: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ETagged for Enrolment {
    fn version(&self) -> i64 {
        self.version
    }
}

impl Identified for Enrolment {
    fn id(&self) -> Uuid {
        self.id
    }
}

/// A new enrolment.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "session_id": "0193a1f3-9d8e-7f60-a1b2-c3d4e5f60718",
    "chef_de_projet_id": "0193a1f3-0a4b-7d2e-8c11-3e5f7a9b1c2d"
}))]
pub struct EnrolmentInput {
    pub session_id: Uuid,
    pub chef_de_projet_id: Uuid,
}

/// The reason of a transition: required to refuse or cancel, optional to approve.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Remplacé par la session de juin"}))]
pub struct TransitionInput {
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// Attendance of a confirmed enrolment, once the session has started.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"attended": true}))]
pub struct AttendanceInput {
    /// `true` → `attended`, `false` → `absent`.
    pub attended: bool,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// One transition of an enrolment.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "from_status": "pending_approval",
    "to_status": "confirmed",
    "actor": "cnfpt-sync",
    "reason": null,
    "occurred_at": "2026-11-26T09:05:00Z"
}))]
pub struct Transition {
    /// `null` for the enrolment's creation.
    pub from_status: Option<EnrolmentStatus>,
    pub to_status: EnrolmentStatus,
    /// Who made it: an API client, or `system` for automatic ones (promotion, session cancelled).
    pub actor: String,
    pub reason: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

/// The full history of an enrolment, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    pub data: Vec<Transition>,
}

/// Filters of the enrolment list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EnrolmentFilter {
    /// Page size, 1 to 500.
    #[serde(default)]
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500, example = 50)]
    pub limit: Limit,
    /// `next_cursor` of the previous page.
    #[param(value_type = Option<String>)]
    pub cursor: Option<Cursor>,
    pub session_id: Option<Uuid>,
    pub chef_de_projet_id: Option<Uuid>,
    /// Only enrolments of chefs de projet working for this programme (its code).
    pub programme: Option<String>,
    pub status: Option<EnrolmentStatus>,
    /// Only enrolments changed strictly after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime, example = "2026-01-01T00:00:00Z")]
    pub updated_after: Option<DateTime<Utc>>,
}
