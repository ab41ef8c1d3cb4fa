//! Chefs de projet: the people who run a programme locally, employed by a territory. Personal
//! data: their erasure (GDPR) anonymises them and keeps anonymous enrolment statistics.
//!
//! - `views`: what the API sends and accepts
//! - `domain`: validated values and the rules
//! - `rows`: the `chefs_de_projet` and `chef_programmes` tables
//! - `store`: the queries
//! - `handlers`: the HTTP operations

pub mod domain;
pub mod handlers;
pub mod rows;
pub mod store;
pub mod views;
