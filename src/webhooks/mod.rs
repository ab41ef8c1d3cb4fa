//! Webhooks: the change feed pushed to partners' URLs, signed (Standard Webhooks), retried for
//! days, delivered by any instance but each delivery by one at a time.
//!
//! - `views`: endpoints, deliveries and attempts as the API shows them
//! - `domain`: a valid endpoint
//! - `guard`: the server-side request forgery guard (URL rules, address checks, the resolver)
//! - `signature`: secrets and signatures
//! - `store`: endpoint and delivery queries for the API
//! - `queue`: fan-out of the feed into deliveries, claiming, recording outcomes, backoff
//! - `sender`: one signed POST
//! - `worker`: the loop each instance runs
//! - `handlers`: the HTTP operations

pub mod domain;
pub mod guard;
pub mod handlers;
pub mod queue;
pub mod sender;
pub mod signature;
pub mod store;
pub mod views;
pub mod worker;
