//! What can go wrong talking to PostgreSQL, and how each case reaches the client.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::error::ApiError;

/// `Retry-After` seconds sent when the database is unavailable; set once from the configuration.
static RETRY_AFTER_SECS: AtomicU64 = AtomicU64::new(2);

pub fn set_retry_after(retry_after: Duration) {
    RETRY_AFTER_SECS.store(retry_after.as_secs().max(1), Ordering::Relaxed);
}

/// How many queries found their connection lost, since start. Shared read connections opened
/// before the last loss are replaced (`crate::db::reads`).
static CONNECTION_LOSSES: AtomicU64 = AtomicU64::new(0);

pub fn connection_losses() -> u64 {
    CONNECTION_LOSSES.load(Ordering::Relaxed)
}

fn connection_lost() {
    CONNECTION_LOSSES.fetch_add(1, Ordering::Relaxed);
}

fn retry_after() -> Duration {
    Duration::from_secs(RETRY_AFTER_SECS.load(Ordering::Relaxed))
}

/// A database failure.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No connection could be had: the database is down, unreachable or the pool exhausted.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Query(#[from] DieselError),
}

impl DbError {
    /// 503 for an unavailable database (with `Retry-After`), 404 for a missing row, 500 otherwise.
    /// The SQL error itself is logged, never sent.
    pub fn into_api_error(self) -> ApiError {
        match self {
            DbError::Unavailable(cause) => ApiError::database_unavailable(retry_after(), cause),
            DbError::Query(error) => query_error(error),
        }
    }
}

impl From<DieselError> for ApiError {
    fn from(error: DieselError) -> Self {
        query_error(error)
    }
}

fn query_error(error: DieselError) -> ApiError {
    match &error {
        DieselError::NotFound => ApiError::not_found(),
        DieselError::DatabaseError(kind, info) => match kind {
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
                connection_lost();
                ApiError::database_unavailable(retry_after(), &error)
            }
            DatabaseErrorKind::SerializationFailure => ApiError::conflict(
                "concurrent_update",
                "A concurrent change got there first; retry the request",
            )
            .with_cause(&error),
            DatabaseErrorKind::UniqueViolation => {
                ApiError::conflict("conflict", "This would duplicate an existing resource")
                    .with_cause(&error)
            }
            // Statement or lock timeout, administrator shutdown, start-up: busy or restarting.
            _ if is_transient_message(info.message()) => {
                if !info.message().starts_with("canceling statement") {
                    connection_lost();
                }
                ApiError::database_unavailable(retry_after(), &error)
            }
            _ => ApiError::internal(&error),
        },
        _ => ApiError::internal(&error),
    }
}

/// diesel does not expose the SQLSTATE of these cases; PostgreSQL's messages for them are stable.
fn is_transient_message(message: &str) -> bool {
    const TRANSIENT: [&str; 6] = [
        "canceling statement due to statement timeout",
        "canceling statement due to lock timeout",
        "terminating connection",
        "the database system is shutting down",
        "the database system is starting up",
        "connection closed",
    ];
    TRANSIENT.iter().any(|t| message.contains(t))
}

/// The constraint a unique violation was raised by, if `error` is one.
pub fn unique_violation(error: &DieselError) -> Option<&str> {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            info.constraint_name()
        }
        _ => None,
    }
}
