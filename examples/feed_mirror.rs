//! A reference client for partners: mirrors the change feed into a local store and survives
//! being killed at any moment.
//!
//! ```sh
//! cargo run --example feed_mirror -- --base-url http://127.0.0.1:8080 \
//!     --client-id cli_… --client-secret … --store mirror.json
//! ```
//!
//! The store is one JSON file: the resources by type and id, and the feed cursor they are
//! consistent with. Each page is applied and saved with its cursor in one atomic write (a
//! temporary file renamed over the old one), so a crash loses at most the page in progress, which
//! the feed gives again; applying a change whose version is not newer than the stored one does
//! nothing, so replays are harmless. On first start (no store) the feed is read from the
//! beginning of its retention window; a partner with more history than that would first pull the
//! lists and start from their `X-Feed-Cursor`. A 410 means the store is too old: delete it and
//! start again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Store {
    /// Resume the feed after this cursor.
    cursor: Option<String>,
    /// type → id → (version, data); deleted resources are removed.
    resources: BTreeMap<String, BTreeMap<String, Stored>>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    version: i64,
    data: Value,
}

impl Store {
    fn load(path: &Path) -> Store {
        std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Atomic: the old file stays whole until the new one replaces it.
    fn save(&self, path: &Path) -> std::io::Result<()> {
        let temporary = path.with_extension("tmp");
        std::fs::write(&temporary, serde_json::to_vec(self)?)?;
        std::fs::rename(temporary, path)
    }

    /// Applies one change; older or repeated versions change nothing.
    fn apply(&mut self, change: &Value) {
        let (Some(kind), Some(id), Some(version)) = (
            change["type"].as_str(),
            change["id"].as_str(),
            change["version"].as_i64(),
        ) else {
            return;
        };
        let of_type = self.resources.entry(kind.to_string()).or_default();
        if of_type
            .get(id)
            .is_some_and(|stored| stored.version >= version)
        {
            return;
        }
        match change["action"].as_str() {
            Some("delete") => {
                of_type.remove(id);
            }
            _ => {
                of_type.insert(
                    id.to_string(),
                    Stored {
                        version,
                        data: change["data"].clone(),
                    },
                );
            }
        }
    }
}

struct Options {
    base_url: String,
    client_id: String,
    client_secret: String,
    store: PathBuf,
    limit: u32,
    wait: u32,
    /// Stop after a page with no change (for scripts and tests); otherwise run forever.
    until_idle: bool,
    /// Pause between pages, in milliseconds.
    pause_ms: u64,
}

fn options() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mut options = Options {
        base_url: "http://127.0.0.1:8080".into(),
        client_id: String::new(),
        client_secret: String::new(),
        store: PathBuf::from("mirror.json"),
        limit: 100,
        wait: 20,
        until_idle: false,
        pause_ms: 0,
    };
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--base-url" => options.base_url = value()?,
            "--client-id" => options.client_id = value()?,
            "--client-secret" => options.client_secret = value()?,
            "--store" => options.store = PathBuf::from(value()?),
            "--limit" => options.limit = value()?.parse().map_err(|_| "--limit: a number")?,
            "--wait" => options.wait = value()?.parse().map_err(|_| "--wait: a number")?,
            "--pause-ms" => {
                options.pause_ms = value()?.parse().map_err(|_| "--pause-ms: a number")?
            }
            "--until-idle" => options.until_idle = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if options.client_id.is_empty() || options.client_secret.is_empty() {
        return Err("--client-id and --client-secret are required".into());
    }
    Ok(options)
}

async fn token(client: &reqwest::Client, options: &Options) -> Result<String, String> {
    let reply = client
        .post(format!("{}/api/v1/oauth/token", options.base_url))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", options.client_id.as_str()),
            ("client_secret", options.client_secret.as_str()),
        ])
        .send()
        .await
        .map_err(|e| format!("token request failed: {e}"))?;
    let body: Value = reply
        .json()
        .await
        .map_err(|e| format!("token response: {e}"))?;
    body["access_token"]
        .as_str()
        .map(str::to_string)
        .ok_or(format!("no token: {body}"))
}

async fn run(options: Options) -> Result<(), String> {
    // Built inside this package, reqwest has rustls without a default crypto provider (the
    // service picks ring); a standalone client would simply enable reqwest's default TLS.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let mut store = Store::load(&options.store);
    let mut bearer = token(&client, &options).await?;
    loop {
        let mut url = format!(
            "{}/api/v1/changes?limit={}&wait={}",
            options.base_url,
            options.limit,
            if options.until_idle { 0 } else { options.wait }
        );
        if let Some(cursor) = &store.cursor {
            url.push_str(&format!("&after={cursor}"));
        }
        let reply = match client.get(&url).bearer_auth(&bearer).send().await {
            Ok(reply) => reply,
            Err(error) => {
                eprintln!("feed unreachable ({error}); retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        match reply.status().as_u16() {
            200 => {}
            401 => {
                bearer = token(&client, &options).await?;
                continue;
            }
            410 => {
                return Err(
                    "the store is older than the feed's retention: delete it and start again"
                        .into(),
                )
            }
            429 | 503 => {
                let wait = reply
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok()?.parse().ok())
                    .unwrap_or(2);
                tokio::time::sleep(Duration::from_secs(wait)).await;
                continue;
            }
            status => {
                return Err(format!(
                    "feed answered {status}: {}",
                    reply.text().await.unwrap_or_default()
                ))
            }
        }
        let page: Value = reply.json().await.map_err(|e| format!("feed page: {e}"))?;
        let changes = page["data"].as_array().cloned().unwrap_or_default();
        for change in &changes {
            store.apply(change);
        }
        store.cursor = page["next_cursor"].as_str().map(str::to_string);
        store
            .save(&options.store)
            .map_err(|e| format!("cannot save {}: {e}", options.store.display()))?;
        if changes.is_empty() && options.until_idle {
            return Ok(());
        }
        if options.pause_ms > 0 {
            tokio::time::sleep(Duration::from_millis(options.pause_ms)).await;
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let result = match options() {
        Ok(options) => run(options).await,
        Err(error) => Err(error),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("feed_mirror: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
