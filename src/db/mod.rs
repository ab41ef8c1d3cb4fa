//! PostgreSQL access: the connection pool, embedded migrations, the schema and error mapping.

pub mod bootstrap;
pub mod error;
pub mod migrations;
pub mod pool;
pub mod reads;
pub mod schema;
pub mod search;

pub use error::{unique_violation, DbError};
pub use pool::{DbConn, DbPool};
pub use reads::ReadConnections;
