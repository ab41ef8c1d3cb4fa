//! anct-formations: the REST/JSON API holding the training path of the chefs de projet of
//! ANCT's programmes, run with CNFPT.

pub mod auth;
pub mod changes;
pub mod chefs_de_projet;
pub mod cli;
pub mod collectivites;
pub mod config;
pub mod db;
pub mod enrolments;
pub mod error;
pub mod exports;
pub mod health;
pub mod http;
pub mod idempotency;
pub mod logging;
pub mod metrics;
pub mod openapi;
pub mod programmes;
pub mod references;
pub mod routes;
pub mod seed;
pub mod server;
pub mod sessions;
pub mod trainings;
pub mod values;
pub mod webhooks;
