//! Partner references: a partner names what it writes with its own reference, in its own
//! namespace. `ref:<reference>` works wherever `{id}` does; `PUT …/ref:<reference>` creates or
//! updates — the natural shape of a sync — and batches do the same for up to 1,000 sessions or
//! enrolments, with one result per item.
//!
//! - `upsert`: create-or-update by reference, for sessions and enrolments
//! - `batch`: the batch request and its per-item results
//! - `enrolment_batch`: the enrolment batch, set by set
//! - `handlers`: the HTTP operations

pub mod batch;
pub mod enrolment_batch;
pub mod handlers;
pub mod upsert;
