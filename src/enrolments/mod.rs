//! Enrolments: a chef de projet on a session, through the lifecycle of DESIGN.md:
//!
//! ```text
//! pending_approval --approve--> confirmed | waitlisted (when full)     pending_approval --refuse--> refused
//! waitlisted --seat frees (automatic, first in line)--> confirmed
//! pending_approval | waitlisted | confirmed --cancel (reason)--> cancelled
//! confirmed --after the session starts--> attended | absent
//! session cancelled --> every active enrolment cancelled (reason session_cancelled)
//! ```
//!
//! - `views`: what the API sends and accepts
//! - `rows`: the `enrolments` and `enrolment_transitions` tables
//! - `lifecycle`: the transitions and their rules (the only code that changes a status)
//! - `store`: the reads (`waitlist_position`: a waitlist place inside the statement)
//! - `erasure`: a chef de projet's erasure, which cancels their active enrolments
//! - `handlers`: the HTTP operations

pub mod bulk;
pub mod erasure;
pub mod handlers;
pub mod lifecycle;
pub mod rows;
pub mod store;
pub mod turns;
pub mod views;
pub mod waitlist_position;
