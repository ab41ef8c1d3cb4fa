//! Programmes (Petites villes de demain, Action cœur de ville …): the model resource every other
//! one follows.
//!
//! - `views`: what the API sends and accepts (serde + OpenAPI schemas)
//! - `domain`: validated values and the rules
//! - `rows`: the `programmes` table as diesel sees it
//! - `store`: the queries
//! - `handlers`: the HTTP operations

pub mod domain;
pub mod handlers;
pub mod rows;
pub mod store;
pub mod views;
