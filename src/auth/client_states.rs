//! Which clients are enabled, remembered by each instance.
//!
//! Every authenticated request must know that its client is still enabled. Asking PostgreSQL
//! each time costs a statement per request; instead each instance remembers the answer and
//! forgets it when PostgreSQL announces that the client changed (`LISTEN anct_clients`, sent by
//! a trigger on `api_clients` when the change commits, migration 8). So a disabled client's
//! tokens stop working within the time the announcement takes to arrive (milliseconds).
//!
//! Nothing is remembered while the instance is not listening (before the first `LISTEN`, or
//! after its connection is lost, until it listens again): requests then ask the database. A
//! request that read the state while a change was being announced does not store what it read
//! (each announcement bumps a generation the request compares).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use diesel_async::SimpleAsyncConnection;
use futures_util::StreamExt;

use crate::db::pool::connect;

/// The channel the trigger announces client changes on.
const CHANNEL: &str = "anct_clients";
/// How often the listening connection is checked when no announcement comes.
const HEARTBEAT: Duration = Duration::from_secs(10);
/// The wait before listening again after the connection was lost.
const RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// The remembered states of clients: `true` when enabled.
#[derive(Default)]
pub struct ClientStates {
    known: RwLock<HashMap<String, bool>>,
    listening: AtomicBool,
    generation: AtomicU64,
}

/// What a request needs to store the state it is about to read.
pub struct Reading {
    generation: u64,
    listening: bool,
}

impl ClientStates {
    /// The remembered state of `client_id`, if any.
    pub fn get(&self, client_id: &str) -> Option<bool> {
        if !self.listening.load(Ordering::Acquire) {
            return None;
        }
        self.known
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(client_id)
            .copied()
    }

    /// Call before reading a client's state from the database.
    pub fn reading(&self) -> Reading {
        Reading {
            listening: self.listening.load(Ordering::Acquire),
            generation: self.generation.load(Ordering::Acquire),
        }
    }

    /// Remembers what a request read, unless a change was announced (or listening stopped)
    /// since it started reading.
    pub fn remember(&self, reading: Reading, client_id: &str, enabled: bool) {
        let mut known = self.known.write().unwrap_or_else(|p| p.into_inner());
        let unchanged = self.generation.load(Ordering::Acquire) == reading.generation;
        if reading.listening && unchanged && self.listening.load(Ordering::Acquire) {
            known.insert(client_id.to_string(), enabled);
        }
    }

    /// A client changed: forget it.
    fn changed(&self, client_id: &str) {
        let mut known = self.known.write().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        known.remove(client_id);
    }

    /// Starts or stops trusting what is remembered; either way everything is forgotten, since
    /// announcements may have been missed.
    fn set_listening(&self, listening: bool) {
        let mut known = self.known.write().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.listening.store(listening, Ordering::Release);
        known.clear();
    }

    /// Listens for client changes for as long as the runtime runs, reconnecting when the
    /// connection is lost.
    pub fn spawn_listener(
        self: &Arc<Self>,
        url: String,
        connect_timeout: Duration,
        statement_timeout: Duration,
    ) {
        let states = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(error) = states
                    .listen(&url, connect_timeout, statement_timeout)
                    .await
                {
                    log::warn!("not listening for client changes (asking the database): {error}");
                }
                states.set_listening(false);
                tokio::time::sleep(RECONNECT_DELAY).await;
            }
        });
    }

    async fn listen(
        &self,
        url: &str,
        connect_timeout: Duration,
        statement_timeout: Duration,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let mut conn = connect(url.to_string(), connect_timeout, statement_timeout).await?;
        conn.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
        self.set_listening(true);
        loop {
            // Announcements are buffered by the connection: dropping the stream to check the
            // connection loses none.
            let next = {
                let mut announcements = std::pin::pin!(conn.notifications_stream());
                tokio::time::timeout(HEARTBEAT, announcements.next()).await
            };
            match next {
                Ok(Some(Ok(announcement))) => self.changed(&announcement.payload),
                Ok(Some(Err(error))) => return Err(error.into()),
                Ok(None) => return Err("the listening connection closed".into()),
                Err(_quiet) => {
                    tokio::time::timeout(connect_timeout, conn.batch_execute("SELECT 1"))
                        .await
                        .map_err(|_| "the listening connection does not answer")??;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_remembered_while_not_listening() {
        let states = ClientStates::default();
        states.remember(states.reading(), "a", true);
        assert_eq!(states.get("a"), None);
        states.set_listening(true);
        states.remember(states.reading(), "a", true);
        assert_eq!(states.get("a"), Some(true));
        states.set_listening(false);
        assert_eq!(states.get("a"), None);
    }

    #[test]
    fn a_change_announced_during_a_read_is_not_overwritten_by_it() {
        let states = ClientStates::default();
        states.set_listening(true);
        let reading = states.reading();
        states.changed("a");
        states.remember(reading, "a", true);
        assert_eq!(states.get("a"), None);
        states.remember(states.reading(), "a", false);
        assert_eq!(states.get("a"), Some(false));
        states.changed("a");
        assert_eq!(states.get("a"), None);
    }
}
