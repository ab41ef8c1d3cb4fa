//! Shared, pipelined connections for single-statement reads.
//!
//! Each HTTP worker has its own (`DATABASE_READ_CONNECTIONS`, default 1), opened on first use
//! there so the worker's own runtime drives it: a connection driven by another thread would cost
//! a cross-thread wake-up per answer.
//!
//! A read that is one statement (a training by id, a page of enrolments, the check that a client
//! is still enabled) needs no transaction and no connection of its own. Such reads share a few
//! connections: diesel-async pipelines the statements of concurrent requests on one connection
//! (each is sent without waiting for the previous answer), which costs PostgreSQL and the service
//! far fewer round trips and wake-ups than one pooled connection per request. Writes and
//! multi-statement reads keep using the pool.
//!
//! A connection that is lost (the server restarted, a network cut) is replaced on the next read
//! after any query reported the loss (see [`crate::db::error::connection_losses`]).

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc, RwLock,
};
use std::time::Duration;

use diesel_async::AsyncPgConnection;

use crate::db::{error::connection_losses, pool::connect, DbError};

/// A connection shared by concurrent reads; never put in a transaction.
pub type SharedConn = Arc<AsyncPgConnection>;

/// One shared connection, and the count of losses seen when it was opened.
struct Slot {
    current: RwLock<Option<(SharedConn, u64)>>,
    opening: tokio::sync::Mutex<()>,
}

/// The shared read connections of one instance, handed out in turn.
pub struct ReadConnections {
    slots: Vec<Slot>,
    next: AtomicUsize,
    url: String,
    connect_timeout: Duration,
    statement_timeout: Duration,
}

impl ReadConnections {
    pub fn new(
        count: usize,
        url: String,
        connect_timeout: Duration,
        statement_timeout: Duration,
    ) -> Self {
        let slots = (0..count.max(1))
            .map(|_| Slot {
                current: RwLock::new(None),
                opening: tokio::sync::Mutex::new(()),
            })
            .collect();
        Self {
            slots,
            next: AtomicUsize::new(0),
            url,
            connect_timeout,
            statement_timeout,
        }
    }

    /// A shared connection, opened (again) if it does not exist yet or may have been lost.
    pub async fn get(&self) -> Result<SharedConn, DbError> {
        let slot = &self.slots[self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len()];
        if let Some(conn) = usable(slot) {
            return Ok(conn);
        }
        // One request opens the connection; the others wait for it rather than opening their own.
        let _opening = slot.opening.lock().await;
        if let Some(conn) = usable(slot) {
            return Ok(conn);
        }
        let losses = connection_losses();
        let conn = connect(
            self.url.clone(),
            self.connect_timeout,
            self.statement_timeout,
        )
        .await
        .map_err(|e| DbError::Unavailable(e.to_string()))?;
        let conn = Arc::new(conn);
        *slot.current.write().unwrap_or_else(|e| e.into_inner()) = Some((conn.clone(), losses));
        Ok(conn)
    }
}

/// The slot's connection, unless a loss was reported since it was opened.
fn usable(slot: &Slot) -> Option<SharedConn> {
    let current = slot.current.read().unwrap_or_else(|e| e.into_inner());
    match &*current {
        Some((conn, losses)) if *losses == connection_losses() => Some(conn.clone()),
        _ => None,
    }
}
