//! The connection pool: bounded size, a checkout timeout (then 503), a connect timeout, and a
//! `statement_timeout` on every connection so no query can hold a worker for long.

use std::time::Duration;

use diesel::ConnectionError;
use diesel_async::{
    pooled_connection::{
        deadpool::{Object, Pool},
        AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
    },
    AsyncConnection, AsyncPgConnection, SimpleAsyncConnection,
};
use futures_util::FutureExt;

use crate::{
    config::Config,
    db::{reads::ReadConnections, DbError},
};

/// The pool every request draws from, and the shared connections of single-statement reads.
#[derive(Clone)]
pub struct DbPool {
    inner: Pool<AsyncPgConnection>,
    reads: ReadSettings,
}

/// How to open the shared read connections of a worker.
#[derive(Clone)]
struct ReadSettings {
    per_worker: usize,
    url: String,
    connect_timeout: Duration,
    statement_timeout: Duration,
}

/// A connection checked out of the pool; returned to it on drop.
pub type DbConn = Object<AsyncPgConnection>;

impl DbPool {
    /// Builds the pool. No connection is opened until one is needed, so the service can start
    /// while the database is down and recovers by itself when it comes back.
    pub fn new(config: &Config) -> Result<Self, DbError> {
        let connect_timeout = config.connect_timeout;
        let statement_timeout = config.statement_timeout;
        let mut manager_config = ManagerConfig::<AsyncPgConnection>::default();
        manager_config.recycling_method = RecyclingMethod::Fast;
        manager_config.custom_setup = Box::new(move |url| {
            connect(url.to_string(), connect_timeout, statement_timeout).boxed()
        });
        let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
            &config.database_url,
            manager_config,
        );
        let inner = Pool::builder(manager)
            .max_size(config.pool_size)
            .wait_timeout(Some(config.checkout_timeout))
            .create_timeout(Some(connect_timeout))
            .recycle_timeout(Some(connect_timeout))
            .runtime(deadpool::Runtime::Tokio1)
            // The connection returned last serves next: its prepared statements are warm, and
            // the ones beyond what the load needs stay idle.
            .queue_mode(deadpool::managed::QueueMode::Lifo)
            .build()
            .map_err(|e| DbError::Unavailable(e.to_string()))?;
        let reads = ReadSettings {
            per_worker: config.read_connections,
            url: config.database_url.clone(),
            connect_timeout,
            statement_timeout,
        };
        Ok(Self { inner, reads })
    }

    /// A connection, or `DbError::Unavailable` once the checkout timeout has passed.
    pub async fn get(&self) -> Result<DbConn, DbError> {
        self.inner
            .get()
            .await
            .map_err(|e| DbError::Unavailable(e.to_string()))
    }

    /// The shared read connections of one HTTP worker (see `crate::db::reads`); made in each
    /// worker, they open on first use there, so that worker's runtime drives them.
    pub fn reads_for_worker(&self) -> ReadConnections {
        ReadConnections::new(
            self.reads.per_worker,
            self.reads.url.clone(),
            self.reads.connect_timeout,
            self.reads.statement_timeout,
        )
    }

    /// How many connections exist, are idle, and how many requests wait for one.
    pub fn status(&self) -> deadpool::Status {
        self.inner.status()
    }

    /// Opens every connection of the pool now (best effort), so the first burst of requests does
    /// not wait for connection set-up while the workers are busy.
    pub async fn warm_up(&self) {
        let size = self.inner.status().max_size;
        let attempts = (0..size).map(|_| self.inner.get());
        let connections = futures_util::future::join_all(attempts).await;
        let opened = connections.iter().filter(|c| c.is_ok()).count();
        log::debug!("pool warmed up: {opened}/{size} connections");
    }
}

/// Opens one connection with the session settings every query relies on.
pub async fn connect(
    url: String,
    connect_timeout: Duration,
    statement_timeout: Duration,
) -> Result<AsyncPgConnection, ConnectionError> {
    let mut conn = tokio::time::timeout(connect_timeout, AsyncPgConnection::establish(&url))
        .await
        .map_err(|_| ConnectionError::BadConnection("connection timed out".into()))??;
    let setup = format!(
        "SET statement_timeout = {}; SET lock_timeout = {}; SET idle_in_transaction_session_timeout = {}; SET TIME ZONE 'UTC'; SET application_name = 'anct-formations'",
        statement_timeout.as_millis(),
        statement_timeout.as_millis(),
        statement_timeout.as_millis().max(1000) * 2,
    );
    conn.batch_execute(&setup)
        .await
        .map_err(ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}
