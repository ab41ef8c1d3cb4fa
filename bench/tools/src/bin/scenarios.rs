//! The benchmark scenarios the HTTP load generator (wrk) does not cover, each printing one JSON
//! line:
//! - `pace <url> <rate/s> <seconds> [<bearer token>]`: a fixed-rate run over 64 connections
//!   (wrk2's model); each latency counts from the request's scheduled start, so a stall is not
//!   hidden (no coordinated omission);
//! - `feed <base url> <token>`: read the whole change feed, 1,000 changes a page;
//! - `batch <base url> <token> <database url> <session label> [<streams>]`: enrol the 2,000
//!   bench chefs de projet on each session of that label in batches of 1,000, sent one after the
//!   other by each of `streams` (default 1) concurrent senders;
//! - `approvals <base url> <token> <database url>`: approve 1,000 pending enrolments at once on a
//!   session of capacity 30.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1000.0
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("http client")
}

/// Connections of the fixed-rate run, as many as wrk's runs.
const PACE_CONNECTIONS: usize = 64;

/// wrk2's model: a fixed set of keep-alive connections; request `i` is due at `start + i/rate`
/// and the next free connection sends it as soon as it is due. Its latency counts from when it
/// was due, so a stall delays (and is charged to) every request scheduled behind it.
async fn pace(url: String, rate: f64, seconds: f64, token: Option<String>) -> Value {
    let total = (rate * seconds) as usize;
    let start = tokio::time::Instant::now() + Duration::from_millis(100);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::with_capacity(PACE_CONNECTIONS);
    for _ in 0..PACE_CONNECTIONS {
        let (url, token, next) = (url.clone(), token.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let http = client();
            let mut measured = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    break measured;
                }
                let due = start + Duration::from_secs_f64(i as f64 / rate);
                tokio::time::sleep_until(due).await;
                let mut request = http.get(&url);
                if let Some(token) = &token {
                    request = request.bearer_auth(token);
                }
                let ok = match request.send().await {
                    Ok(reply) => {
                        let ok = reply.status().is_success();
                        let _ = reply.bytes().await;
                        ok
                    }
                    Err(_) => false,
                };
                measured.push((tokio::time::Instant::now() - due, ok));
            }
        }));
    }
    let began = Instant::now();
    let mut latencies = Vec::with_capacity(total);
    let mut errors = 0;
    for worker in workers {
        for (latency, ok) in worker.await.expect("request task") {
            latencies.push(latency);
            errors += usize::from(!ok);
        }
    }
    let elapsed = began.elapsed().as_secs_f64();
    latencies.sort();
    json!({
        "requests": total, "errors": errors, "rate": rate,
        "achieved_per_second": total as f64 / elapsed,
        "p50_ms": percentile(&latencies, 0.50), "p99_ms": percentile(&latencies, 0.99),
        "max_ms": percentile(&latencies, 1.0),
    })
}

async fn feed(base: String, token: String) -> Value {
    let http = client();
    let began = Instant::now();
    let mut read = 0usize;
    let mut after = "0".to_string();
    loop {
        let page: Value = http
            .get(format!("{base}/api/v1/changes?limit=1000&after={after}"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("feed page")
            .json()
            .await
            .expect("feed JSON");
        let count = page["data"].as_array().map_or(0, Vec::len);
        read += count;
        after = page["next_cursor"].as_str().unwrap_or("0").to_string();
        if count == 0 {
            break;
        }
    }
    let seconds = began.elapsed().as_secs_f64();
    json!({"changes": read, "seconds": seconds, "per_second": read as f64 / seconds})
}

async fn database(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("database");
    tokio::spawn(connection);
    client
}

async fn ids(db: &tokio_postgres::Client, sql: &str) -> Vec<String> {
    db.query(sql, &[])
        .await
        .expect("query")
        .iter()
        .map(|row| row.get::<_, String>(0))
        .collect()
}

/// Sends the batches one after the other (or `streams` runs of them at once, as a partner
/// syncing with a few concurrent requests would). The bodies are built
/// and the answers read outside the timed part: the driver's own JSON work shares the machine
/// with the service and is not the service's time.
async fn batch(base: String, token: String, url: String, label: String, streams: usize) -> Value {
    let db = database(&url).await;
    let sessions: Vec<String> = db
        .query("SELECT id::text FROM sessions WHERE location_label = $1 ORDER BY id", &[&label])
        .await
        .expect("sessions")
        .iter()
        .map(|row| row.get(0))
        .collect();
    let chefs = ids(&db, "SELECT id::text FROM chefs_de_projet WHERE email LIKE '%@bench.anct.fr' ORDER BY email").await;
    let http = client();
    let mut bodies = Vec::new();
    // References as a partner numbers its records ("<run>-<session>-<n>"), unique across runs.
    let run = label.split_whitespace().skip(1).collect::<Vec<_>>().join("-").to_lowercase();
    for (s, session) in sessions.iter().enumerate() {
        for (half, chefs) in chefs.chunks(1000).enumerate() {
            let items: Vec<Value> = chefs
                .iter()
                .enumerate()
                .map(|(i, chef)| json!({"ref": format!("{run}-{s}-{}", half * 1000 + i), "session_id": session, "chef_de_projet_id": chef}))
                .collect();
            bodies.push(serde_json::to_vec(&json!({"items": items})).expect("batch body"));
        }
    }
    // Each stream sends its own run of batches (consecutive batches share a session, so
    // concurrent streams mostly enrol on different sessions), one after the other.
    let per_stream = bodies.len().div_ceil(streams.max(1));
    let mut runs = Vec::new();
    let mut bodies = bodies.into_iter();
    loop {
        let run: Vec<Vec<u8>> = bodies.by_ref().take(per_stream).collect();
        if run.is_empty() {
            break;
        }
        runs.push(run);
    }
    let began = Instant::now();
    let sends = runs.into_iter().map(|run| {
        let http = http.clone();
        let base = base.clone();
        let token = token.clone();
        async move {
            let mut replies = Vec::with_capacity(run.len());
            for body in run {
                let sent = Instant::now();
                let reply = http
                    .post(format!("{base}/api/v1/enrolments/batch"))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .expect("batch")
                    .bytes()
                    .await
                    .expect("batch answer");
                replies.push((reply, sent.elapsed()));
            }
            replies
        }
    });
    let (replies, mut latencies): (Vec<_>, Vec<_>) =
        futures_util::future::join_all(sends).await.into_iter().flatten().unzip();
    latencies.sort();
    let seconds = began.elapsed().as_secs_f64();
    let (mut created, mut failed) = (0, 0);
    for reply in replies {
        let reply: Value = serde_json::from_slice(&reply).expect("batch JSON");
        for result in reply["results"].as_array().into_iter().flatten() {
            if result["status"].as_u64().is_some_and(|s| s < 300) {
                created += 1;
            } else {
                failed += 1;
            }
        }
    }
    json!({"enrolments": created, "failed": failed, "seconds": seconds, "per_second": created as f64 / seconds,
           "streams": streams, "batch_ms": {"min": percentile(&latencies, 0.0), "p50": percentile(&latencies, 0.5),
           "max": percentile(&latencies, 1.0)}})
}

async fn approvals(base: String, token: String, url: String) -> Value {
    let db = database(&url).await;
    let pending = ids(&db, "SELECT e.id::text FROM enrolments e JOIN sessions s ON s.id = e.session_id WHERE s.location_label = 'Bench approvals' AND e.status = 'pending_approval'").await;
    let http = client();
    let began = Instant::now();
    let tasks: Vec<_> = pending
        .iter()
        .map(|id| {
            let (http, url, token) = (http.clone(), format!("{base}/api/v1/enrolments/{id}/approve"), token.clone());
            tokio::spawn(async move {
                http.post(url)
                    .bearer_auth(token)
                    .json(&json!({}))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            })
        })
        .collect();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for task in tasks {
        *statuses.entry(task.await.expect("approval")).or_default() += 1;
    }
    let seconds = began.elapsed().as_secs_f64();
    let row = db
        .query_one(
            "SELECT seats_confirmed, seats_waitlisted, capacity FROM sessions WHERE location_label = 'Bench approvals'",
            &[],
        )
        .await
        .expect("session");
    json!({
        "approvals": pending.len(), "seconds": seconds,
        "statuses": statuses.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "confirmed": row.get::<_, i32>(0), "waitlisted": row.get::<_, i32>(1), "capacity": row.get::<_, i32>(2),
    })
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned().expect("missing argument");
    let result = match args.first().map(String::as_str) {
        Some("pace") => {
            pace(arg(1), arg(2).parse().expect("rate"), arg(3).parse().expect("seconds"), args.get(4).cloned()).await
        }
        Some("feed") => feed(arg(1), arg(2)).await,
        Some("batch") => batch(arg(1), arg(2), arg(3), arg(4), args.get(5).and_then(|s| s.parse().ok()).unwrap_or(1)).await,
        Some("approvals") => approvals(arg(1), arg(2), arg(3)).await,
        _ => {
            eprintln!("usage: scenarios pace|feed|batch|approvals …");
            std::process::exit(2);
        }
    };
    println!("{result}");
}
