//! The HTTP test suite: the real service, a real PostgreSQL, real requests.

mod support;

mod changes;
mod chefs_de_projet;
mod collectivites;
mod database_outage;
mod docs;
mod enrolments;
mod errors;
mod exports;
mod faults;
mod health;
mod hostile_input;
mod idempotency;
mod openapi_document;
mod programmes;
mod reference_client;
mod references;
mod restricted_clients;
mod security;
mod seed;
mod sessions;
mod trainings;
mod webhooks;
