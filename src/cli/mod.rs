//! The `anct-formations` command line: `serve` (the default), `migrate`, `seed`, `import`,
//! `openapi`.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    time::Duration,
};

use chrono::Datelike;

use clap::{Parser, Subcommand};

use crate::collectivites::import::{import_communes, ImportReport};
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
    /// Create the programmes, import the communes of data/ and, on an empty catalogue, a small
    /// demo set (trainings, sessions, chefs de projet, enrolments). Safe to run again.
    Seed {
        /// The folder holding the programmes' CSV files.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// Skip the demo set.
        #[arg(long)]
        no_demo: bool,
    },
    /// Import reference data.
    Import {
        #[command(subcommand)]
        what: ImportCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Load the communes of a programme from a CSV file as ANCT publishes them (see data/).
    /// Rejected rows are reported with their line and reason; the others are imported.
    /// Running it again with the same file changes nothing.
    Communes {
        /// The programme's code, such as petites-villes-de-demain.
        #[arg(long)]
        programme: String,
        /// The CSV file.
        file: PathBuf,
        /// Check everything against the database, report, and keep nothing.
        #[arg(long)]
        dry_run: bool,
        /// The year of the INSEE code list (COG) of the file's codes, for communes not yet
        /// known. Default: the current year.
        #[arg(long)]
        cog_year: Option<i32>,
    },
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
        Command::Import {
            what:
                ImportCommand::Communes {
                    programme,
                    file,
                    dry_run,
                    cog_year,
                },
        } => {
            let config = Config::from_env()?;
            prepare_database(&config).await?;
            let input = std::fs::File::open(&file)
                .map_err(|e| format!("cannot open {}: {e}", file.display()))?;
            let mut conn = db::pool::connect(
                config.database_url.clone(),
                config.connect_timeout,
                Duration::from_secs(600),
            )
            .await?;
            let cog_year = cog_year.unwrap_or_else(|| chrono::Utc::now().year());
            let report = import_communes(&mut conn, &programme, input, cog_year, dry_run).await?;
            print_report(&file, &programme, &report);
            Ok(())
        }
        Command::Seed { data_dir, no_demo } => {
            let config = Config::from_env()?;
            prepare_database(&config).await?;
            let mut conn = db::pool::connect(
                config.database_url.clone(),
                config.connect_timeout,
                Duration::from_secs(600),
            )
            .await?;
            for line in crate::seed::seed(&mut conn, &data_dir, !no_demo).await? {
                println!("seed: {line}");
            }
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

fn print_report(file: &Path, programme: &str, report: &ImportReport) {
    let verb = if report.dry_run {
        "would import"
    } else {
        "imported"
    };
    println!(
        "{}: {verb} into {programme}: {} rows, {} created, {} updated, {} unchanged, {} memberships added or changed, {} rejected{}",
        file.display(),
        report.rows,
        report.created,
        report.updated,
        report.unchanged,
        report.memberships_changed,
        report.rejected.len(),
        if report.dry_run { " (dry run: nothing was written)" } else { "" }
    );
    for rejection in &report.rejected {
        println!("  line {}: {}", rejection.line, rejection.reason);
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
