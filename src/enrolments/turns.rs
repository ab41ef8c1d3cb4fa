//! Transitions of one session's enrolments take turns inside an instance.
//!
//! Every transition locks its session's row (capacity is counted under that lock). When many
//! requests change enrolments of the same session at once (a thousand approvals of a popular
//! session), they would each hold a pooled connection while waiting for that lock, and the other
//! requests of the instance would find the pool empty (503). Instead they wait here, holding no
//! connection, and take a connection when their turn comes. Across instances the row lock still
//! decides; this only keeps one instance's pool for the requests that can progress.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use std::future::{ready, Ready};

use actix_web::{dev::Payload, http::StatusCode, web, FromRequest, HttpRequest};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tokio::sync::OwnedMutexGuard;
use uuid::Uuid;

use crate::db::{schema::enrolments, ReadConnections};
use crate::error::ApiError;

/// The longest a transition waits for its turn before a 503.
const LONGEST_WAIT: Duration = Duration::from_secs(30);
/// Past this many sessions remembered, those nobody waits for are forgotten.
const TIDY_ABOVE: usize = 1024;

/// The queues of the sessions whose enrolments are being changed.
#[derive(Default)]
pub struct SessionTurns {
    queues: Mutex<HashMap<Uuid, Weak<tokio::sync::Mutex<()>>>>,
}

/// A turn: the session's enrolments are this request's to change until it is dropped.
pub type Turn = OwnedMutexGuard<()>;

impl SessionTurns {
    /// Waits for the turn of the session of enrolment `id`. `None` when there is no such
    /// enrolment (the transition will answer 404 itself).
    pub async fn of_enrolment(
        &self,
        reads: &ReadConnections,
        id: Uuid,
    ) -> Result<Option<Turn>, ApiError> {
        let conn = reads.get().await?;
        let session: Option<Uuid> = enrolments::table
            .find(id)
            .select(enrolments::session_id)
            .first(&mut &*conn)
            .await
            .optional()?;
        match session {
            Some(session) => self.of_session(session).await.map(Some),
            None => Ok(None),
        }
    }

    /// Waits for the turn of `session`.
    pub async fn of_session(&self, session: Uuid) -> Result<Turn, ApiError> {
        let queue = self.queue(session);
        tokio::time::timeout(LONGEST_WAIT, queue.lock_owned())
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "session_busy",
                    "Too many changes to this session's enrolments are waiting; retry later",
                )
                .with_header(
                    actix_web::http::header::RETRY_AFTER,
                    actix_web::http::header::HeaderValue::from_static("5"),
                )
            })
    }

    fn queue(&self, session: Uuid) -> Arc<tokio::sync::Mutex<()>> {
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(queue) = queues.get(&session).and_then(Weak::upgrade) {
            return queue;
        }
        if queues.len() >= TIDY_ABOVE {
            queues.retain(|_, queue| queue.strong_count() > 0);
        }
        let queue = Arc::new(tokio::sync::Mutex::new(()));
        queues.insert(session, Arc::downgrade(&queue));
        queue
    }
}

/// The extractor a transition handler takes to wait for its turn: the instance's turns and the
/// worker's read connections (to find the enrolment's session).
pub struct Turns {
    turns: web::Data<SessionTurns>,
    reads: web::Data<ReadConnections>,
}

impl Turns {
    /// Waits for the turn of the session of enrolment `id` (see `SessionTurns::of_enrolment`).
    pub async fn of_enrolment(&self, id: Uuid) -> Result<Option<Turn>, ApiError> {
        self.turns.of_enrolment(&self.reads, id).await
    }
}

impl FromRequest for Turns {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let turns = req.app_data::<web::Data<SessionTurns>>().cloned();
        let reads = req.app_data::<web::Data<ReadConnections>>().cloned();
        ready(match (turns, reads) {
            (Some(turns), Some(reads)) => Ok(Turns { turns, reads }),
            _ => Err(ApiError::internal("session turns are not configured")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_turn_at_a_time_per_session_and_forgotten_sessions_are_tidied() {
        let turns = SessionTurns::default();
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let first = turns.of_session(a).await.unwrap();
        // Another session is not held up.
        let other = turns.of_session(b).await.unwrap();
        let waiting = tokio::time::timeout(Duration::from_millis(50), turns.of_session(a)).await;
        assert!(waiting.is_err(), "a second turn of the same session waits");
        drop(first);
        let second = turns.of_session(a).await.unwrap();
        drop((second, other));
        for n in 0..(TIDY_ABOVE as u128 + 10) {
            drop(turns.of_session(Uuid::from_u128(n + 10)).await.unwrap());
        }
        assert!(turns.queues.lock().unwrap().len() <= TIDY_ABOVE);
    }
}
