//! Trainings: CNFPT's catalogue for the chefs de projet, each run as dated sessions.
//!
//! - `views`: what the API sends and accepts
//! - `domain`: validated values and the rules
//! - `rows`: the `trainings` and `training_programmes` tables
//! - `store`: the queries
//! - `handlers`: the HTTP operations

pub mod domain;
pub mod handlers;
pub mod rows;
pub mod store;
pub mod target_codes;
pub mod views;
