//! The `anct-formations` command line: `serve` (the default), `migrate`, `openapi`.

use std::{net::TcpListener, time::Duration};

use clap::{Parser, Subcommand};

use crate::{config::Config, db, openapi, server};

#[derive(Debug, Parser)]
#[command(
    name = "anct-formations",
    version,
    about = "The anct-formations API service"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default): applies pending migrations first.
    Serve,
    /// Apply pending database migrations, creating the database if needed, then exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
}

/// How long start-up waits for an unreachable database before giving up.
const STARTUP_DATABASE_WAIT: Duration = Duration::from_secs(60);

/// Runs the command; the process exit code follows the result.
pub async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {
            print!("{}", openapi::document_json());
            Ok(())
        }
        Command::Migrate => {
            let config = Config::from_env()?;
            prepare_database(&config).await?;
            Ok(())
        }
        Command::Serve => {
            let config = Config::from_env()?;
            log::info!("configuration: {config:?}");
            prepare_database(&config).await?;
            let pool = db::DbPool::new(&config)?;
            let listener = TcpListener::bind(&config.bind_address)?;
            let address = listener.local_addr()?;
            let base = &config.public_base_url;
            log::info!("listening on http://{address}");
            println!("anct-formations is serving on http://{address}");
            println!("  interactive docs: {base}/docs/");
            println!("  OpenAPI document: {base}/api/v1/openapi.json");
            server::start(&config, pool, listener)?.await?;
            log::info!("stopped");
            Ok(())
        }
    }
}

async fn prepare_database(config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    match db::bootstrap::ensure_database(&config.database_url).await {
        Ok(true) => log::info!("created the database"),
        Ok(false) => {}
        // The server may be down for now, or the role may not create databases: migrating
        // below says what is wrong if the database is really missing.
        Err(error) => log::warn!("could not check that the database exists: {error}"),
    }
    let applied = server::migrate(config, STARTUP_DATABASE_WAIT).await?;
    if applied.is_empty() {
        log::info!("database schema is up to date");
    } else {
        log::info!("applied migrations: {}", applied.join(", "));
    }
    Ok(())
}
