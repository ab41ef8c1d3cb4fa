//! Collectivités (territories): the local authorities that employ chefs de projet, and the
//! programmes they take part in.
//!
//! - `views`: what the API sends and accepts
//! - `domain`: validated values and the rules
//! - `rows`: the `collectivites` and `collectivite_programmes` tables
//! - `store`: the queries
//! - `handlers`: the HTTP operations
//! - `import`: loading communes from the programmes' published files

pub mod domain;
pub mod handlers;
pub mod import;
pub mod rows;
pub mod store;
pub mod views;
