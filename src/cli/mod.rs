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
    /// Manage API clients.
    Client {
        #[command(subcommand)]
        action: ClientCommand,
    },
    /// Manage the keys that sign access tokens.
    Keys {
        #[command(subcommand)]
        action: KeysCommand,
    },
    /// Import reference data.
    Import {
        #[command(subcommand)]
        what: ImportCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Create a client and print its credentials (the secret is shown only this once).
    Create {
        #[arg(long)]
        name: String,
        /// Comma-separated scopes, such as programmes:read,trainings:read (admin implies all).
        #[arg(long)]
        scopes: String,
        /// Comma-separated programme codes the client is restricted to (default: all).
        #[arg(long)]
        programmes: Option<String>,
        /// Print `{"client_id": …, "client_secret": …}` only.
        #[arg(long)]
        json: bool,
    },
    /// Disable a client: its tokens stop working at once.
    Disable {
        client_id: String,
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Start signing with a new key; the previous one keeps verifying until its tokens expire.
    Rotate,
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
        Command::Client { action } => {
            let config = Config::from_env()?;
            prepare_database(&config).await?;
            let mut conn = connect(&config).await?;
            match action {
                ClientCommand::Create {
                    name,
                    scopes,
                    programmes,
                    json,
                } => {
                    let scopes = crate::auth::scopes::parse_list(&scopes)
                        .map_err(|unknown| format!("unknown scopes: {}", unknown.join(", ")))?;
                    if scopes.is_empty() {
                        return Err("give at least one scope".into());
                    }
                    let codes: Vec<String> = programmes
                        .unwrap_or_default()
                        .split(',')
                        .map(|c| c.trim().to_string())
                        .filter(|c| !c.is_empty())
                        .collect();
                    let ids = crate::programmes::store::resolve_codes(
                        &mut conn,
                        &codes,
                        |i| format!("--programmes[{i}]"),
                        &crate::auth::Visibility::All,
                    )
                    .await
                    .map_err(|e| e.detail.clone())?;
                    let credentials =
                        crate::auth::clients::create(&mut conn, &name, &scopes, &ids).await?;
                    if json {
                        println!("{}", serde_json::to_string(&credentials)?);
                    } else {
                        println!("client_id:     {}", credentials.client_id);
                        println!(
                            "client_secret: {}  (shown once: keep it now)",
                            credentials.client_secret
                        );
                    }
                }
                ClientCommand::Disable { client_id, reason } => {
                    crate::auth::clients::disable(&mut conn, &client_id, reason.as_deref()).await?;
                    println!("disabled {client_id}");
                }
            }
            Ok(())
        }
        Command::Keys {
            action: KeysCommand::Rotate,
        } => {
            let config = Config::from_env()?;
            prepare_database(&config).await?;
            let mut conn = connect(&config).await?;
            // Keep a retired key while tokens it signed may live, with a margin.
            let kid = crate::auth::keys::rotate(&mut conn, config.token_ttl * 2).await?;
            println!("new signing key {kid}; instances pick it up within a minute");
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
            server::start(&config, pool, listener).await?.await?;
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

async fn connect(
    config: &Config,
) -> Result<diesel_async::AsyncPgConnection, Box<dyn std::error::Error>> {
    Ok(db::pool::connect(
        config.database_url.clone(),
        config.connect_timeout,
        Duration::from_secs(600),
    )
    .await?)
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
