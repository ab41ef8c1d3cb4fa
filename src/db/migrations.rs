//! Embedded diesel migrations, applied at start-up and by `anct-formations migrate`.
//!
//! An advisory lock makes instances that start together apply them once.

use diesel::{
    migration::MigrationSource, pg::Pg, sql_query, sql_types::Text, QueryableByName, RunQueryDsl,
};
use diesel_async::{async_connection_wrapper::AsyncConnectionWrapper, AsyncPgConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::db::DbError;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Key of the advisory lock held while migrating ("anctform" in ASCII).
const MIGRATION_LOCK: i64 = 0x616e_6374_666f_726d;

/// Applies every pending migration; returns the versions applied now.
pub async fn run_pending(conn: AsyncPgConnection) -> Result<Vec<String>, DbError> {
    tokio::task::spawn_blocking(move || {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::from(conn);
        sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).execute(&mut conn)?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
            .map_err(|e| DbError::Unavailable(format!("migration failed: {e}")));
        sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")).execute(&mut conn)?;
        applied
    })
    .await
    .map_err(|e| DbError::Unavailable(format!("migration task failed: {e}")))?
}

#[derive(QueryableByName)]
struct AppliedVersion {
    #[diesel(sql_type = Text)]
    version: String,
}

/// Whether every embedded migration is recorded as applied (readiness).
pub async fn all_applied(conn: &mut AsyncPgConnection) -> Result<bool, DbError> {
    let applied: Vec<AppliedVersion> = diesel_async::RunQueryDsl::load(
        sql_query("SELECT version FROM __diesel_schema_migrations"),
        conn,
    )
    .await?;
    let embedded = MigrationSource::<Pg>::migrations(&MIGRATIONS)
        .map_err(|e| DbError::Unavailable(format!("cannot read embedded migrations: {e}")))?;
    Ok(embedded.iter().all(|migration| {
        let version = migration.name().version().to_string();
        applied.iter().any(|a| a.version == version)
    }))
}
