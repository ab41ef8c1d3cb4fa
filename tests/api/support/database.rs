//! Test databases: a template migrated once per version of `migrations/`, then one cheap copy
//! per test (`CREATE DATABASE … TEMPLATE`). Safe across parallel tests and test processes.

use std::{
    collections::hash_map::DefaultHasher,
    hash::{Hash, Hasher},
    path::Path,
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use anct_formations::db::{bootstrap::with_database, migrations, pool};
use diesel::{sql_query, sql_types::Text, QueryableByName};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tokio::sync::OnceCell;

/// The server tests run against: `TEST_DATABASE_URL` (any database on it; the tests create
/// their own), else the local default.
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// `server_url()` pointing at database `name`.
pub fn url_of(name: &str) -> String {
    with_database(&server_url(), name)
        .expect("TEST_DATABASE_URL is a postgres:// URL with a database")
}

fn admin_url() -> String {
    url_of("postgres")
}

#[derive(QueryableByName)]
struct Database {
    #[diesel(sql_type = Text)]
    datname: String,
}

/// A hash of every file under `migrations/`, so a changed migration gets a fresh template.
fn migrations_fingerprint() -> u64 {
    fn visit(dir: &Path, hasher: &mut DefaultHasher) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("migrations/ is readable")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                visit(&path, hasher);
            } else {
                path.file_name().hash(hasher);
                std::fs::read(&path).expect("migration file").hash(hasher);
            }
        }
    }
    let mut hasher = DefaultHasher::new();
    visit(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"),
        &mut hasher,
    );
    hasher.finish()
}

async fn admin() -> AsyncPgConnection {
    AsyncPgConnection::establish(&admin_url())
        .await
        .expect("the test PostgreSQL is reachable (TEST_DATABASE_URL)")
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// Creates the template for the current migrations, once; also drops databases left by test
/// processes that no longer run.
async fn template() -> &'static str {
    TEMPLATE
        .get_or_init(|| async {
            let name = format!("anct_template_{:016x}", migrations_fingerprint());
            let mut conn = admin().await;
            // One process at a time builds templates and cleans up.
            sql_query("SELECT pg_advisory_lock(727272)")
                .execute(&mut conn)
                .await
                .unwrap();
            drop_stale_databases(&mut conn, &name).await;
            let ready: Vec<Database> =
                sql_query("SELECT datname FROM pg_database WHERE datname = $1 AND datistemplate")
                    .bind::<Text, _>(&name)
                    .load(&mut conn)
                    .await
                    .unwrap();
            if ready.is_empty() {
                sql_query(format!("DROP DATABASE IF EXISTS {name}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                let target = pool::connect(
                    url_of(&name),
                    Duration::from_secs(5),
                    Duration::from_secs(600),
                )
                .await
                .expect("connect to the new template");
                migrations::run_pending(target)
                    .await
                    .expect("migrations apply");
                sql_query(format!("ALTER DATABASE {name} IS_TEMPLATE true"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
            sql_query("SELECT pg_advisory_unlock(727272)")
                .execute(&mut conn)
                .await
                .unwrap();
            name
        })
        .await
}

/// Drops test databases whose process is gone, and templates of other migration versions.
async fn drop_stale_databases(conn: &mut AsyncPgConnection, current_template: &str) {
    let databases: Vec<Database> = sql_query(
        "SELECT datname FROM pg_database WHERE datname LIKE 'anct\\_test\\_%' OR datname LIKE 'anct\\_template\\_%'",
    )
    .load(conn)
    .await
    .unwrap();
    for database in databases {
        let name = database.datname;
        let stale = if let Some(rest) = name.strip_prefix("anct_test_") {
            let pid = rest.split('_').next().unwrap_or_default();
            !Path::new(&format!("/proc/{pid}")).exists()
        } else {
            name != current_template
        };
        if stale {
            if name.starts_with("anct_template_") {
                let _ = sql_query(format!("ALTER DATABASE {name} IS_TEMPLATE false"))
                    .execute(conn)
                    .await;
            }
            let _ = sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(conn)
                .await;
        }
    }
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A new database with every migration applied; returns its URL.
pub async fn fresh_database() -> String {
    let template = template().await;
    let name = format!(
        "anct_test_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let mut conn = admin().await;
    for attempt in 0.. {
        let created = sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .execute(&mut conn)
            .await;
        match created {
            Ok(_) => break,
            // Another copy of the template is being made at this instant.
            Err(error) if attempt < 50 && error.to_string().contains("being accessed") => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("cannot create {name}: {error}"),
        }
    }
    url_of(&name)
}
