//! Sessions: the dated runs of a training, in a place or remote, with a capacity and an
//! enrolment window. Seat counts are kept by the database as enrolments change.
//!
//! - `views`: what the API sends and accepts
//! - `domain`: validated values and the rules
//! - `rows`: the `sessions` table
//! - `store`: the queries
//! - `handlers`: the HTTP operations

pub mod domain;
pub mod handlers;
pub mod rows;
pub mod store;
pub mod views;
