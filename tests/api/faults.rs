//! Faults: PostgreSQL restarted under a write load, the pool exhausted, SIGTERM during load,
//! slow and oversized requests, two instances racing on one database. Nothing acknowledged is
//! lost, nothing hangs, every failure is a clear answer.

use std::{
    io::{Read, Write},
    net::TcpStream,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anct_formations::auth::{clients, Scope};
use anct_formations::{config::Config, db, server};
use diesel_async::SimpleAsyncConnection;
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::database;
use crate::support::fixtures::World;
use crate::support::private_postgres::PrivatePostgres;
use crate::support::{Options, TestApp};

/// What one write got.
#[derive(Debug, Clone)]
struct Outcome {
    code: String,
    status: u16,
    retry_after: bool,
    problem: Option<String>,
    at: Instant,
}

#[tokio::test]
async fn a_postgresql_restart_under_write_load_loses_no_acknowledged_write() {
    let cluster = PrivatePostgres::start();
    let url = cluster.url("anct_faults");
    db::bootstrap::ensure_database(&url).await.unwrap();
    let config = Config::from_lookup(|n| (n == "DATABASE_URL").then(|| url.clone())).unwrap();
    server::migrate(&config, Duration::from_secs(30))
        .await
        .unwrap();
    let app = Arc::new(
        TestApp::start(
            Options {
                checkout_timeout_ms: 1000,
                ..Options::default()
            },
            url.clone(),
        )
        .await,
    );
    let outcomes: Arc<Mutex<Vec<Outcome>>> = Arc::default();
    let running = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut writers = Vec::new();
    for writer in 0..6 {
        let (app, outcomes, running) = (app.clone(), outcomes.clone(), running.clone());
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            while std::sync::atomic::AtomicBool::load(
                &running,
                std::sync::atomic::Ordering::Relaxed,
            ) {
                n += 1;
                let code = format!("load-{writer}-{n}");
                let sent = app
                    .request(Method::POST, "/api/v1/programmes")
                    .json(&json!({"code": code, "name": code, "started_on": "2026-01-01"}))
                    .send()
                    .await;
                let outcome = match sent {
                    Ok(reply) => {
                        let status = reply.status().as_u16();
                        let retry_after = reply.headers().contains_key("retry-after");
                        let body: Value = reply.json().await.unwrap_or_default();
                        Outcome {
                            code,
                            status,
                            retry_after,
                            problem: body["code"].as_str().map(String::from),
                            at: Instant::now(),
                        }
                    }
                    Err(error) => panic!("the service stopped answering: {error}"),
                };
                let unavailable = outcome.status == 503;
                outcomes.lock().unwrap().push(outcome);
                if unavailable {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cluster = Arc::new(cluster);
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.stop()).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.start_again())
        .await
        .unwrap();
    let back = Instant::now();
    tokio::time::sleep(Duration::from_secs(4)).await;
    running.store(false, std::sync::atomic::Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap();
    }

    let outcomes = outcomes.lock().unwrap().clone();
    let unexpected: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| !matches!(o.status, 201 | 503))
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:?}");
    let unavailable: Vec<&Outcome> = outcomes.iter().filter(|o| o.status == 503).collect();
    assert!(!unavailable.is_empty(), "the outage was felt");
    assert!(
        unavailable
            .iter()
            .all(|o| o.retry_after && o.problem.as_deref() == Some("database_unavailable")),
        "503s say when to retry"
    );
    let first_after = outcomes
        .iter()
        .filter(|o| o.status == 201 && o.at > back)
        .map(|o| o.at - back)
        .min()
        .expect("writes succeed again");
    assert!(
        first_after < Duration::from_secs(5),
        "served again {first_after:?} after the database returned"
    );
    // Every acknowledged write is there.
    let acknowledged: Vec<String> = outcomes
        .iter()
        .filter(|o| o.status == 201)
        .map(|o| o.code.clone())
        .collect();
    let mut conn = app.db().await;
    use anct_formations::db::schema::programmes;
    use diesel::{ExpressionMethods, QueryDsl};
    use diesel_async::RunQueryDsl;
    let stored: Vec<String> = programmes::table
        .filter(programmes::code.eq_any(&acknowledged))
        .select(programmes::code)
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        stored.len(),
        acknowledged.len(),
        "an acknowledged write was lost"
    );
    println!(
        "restart: {} writes, {} acknowledged and verified, {} answered 503, served again after {first_after:?}",
        outcomes.len(),
        acknowledged.len(),
        unavailable.len()
    );
}

#[tokio::test]
async fn an_exhausted_pool_answers_503_quickly() {
    let app = TestApp::spawn_with(Options {
        pool_size: 2,
        checkout_timeout_ms: 300,
        ..Options::default()
    })
    .await;
    let world = World::new(&app).await;
    let session = app.session(&world.training, 10, false).await;
    let id = session["id"].as_str().unwrap().to_string();
    // Another transaction holds the session: updates of it wait, each holding a connection.
    let mut side = app.db().await;
    side.batch_execute(&format!(
        "BEGIN; SELECT 1 FROM sessions WHERE id = '{id}' FOR UPDATE"
    ))
    .await
    .unwrap();
    let app = Arc::new(app);
    let mut blocked = Vec::new();
    for capacity in [11, 12] {
        let (app, id) = (app.clone(), id.clone());
        blocked.push(tokio::spawn(async move {
            app.patch_json(
                &format!("/api/v1/sessions/{id}"),
                &json!({"capacity": capacity}),
            )
            .await
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let reply = app.get("/api/v1/programmes").await;
    let waited = started.elapsed();
    reply.assert_problem(503, "database_unavailable");
    assert!(reply.header("retry-after").is_some());
    assert!(
        waited < Duration::from_millis(1500),
        "answered in {waited:?}"
    );
    side.batch_execute("COMMIT").await.unwrap();
    for request in blocked {
        let reply = request.await.unwrap();
        assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    }
    app.get("/api/v1/programmes").await.assert_json(200);
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish_refuses_new_ones_and_exits_cleanly() {
    let database_url = database::fresh_database().await;
    let credentials = {
        use diesel_async::AsyncConnection;
        let mut conn = diesel_async::AsyncPgConnection::establish(&database_url)
            .await
            .unwrap();
        clients::create(&mut conn, "sigterm", &[Scope::Admin], &[])
            .await
            .unwrap()
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_anct-formations"))
        .arg("serve")
        .env("DATABASE_URL", &database_url)
        .env("BIND_ADDRESS", format!("127.0.0.1:{port}"))
        .env("SHUTDOWN_TIMEOUT_S", "10")
        .env("HTTP_WORKERS", "2")
        .env("RATE_LIMIT_PER_MINUTE", "0")
        .env("WEBHOOK_WORKER", "false")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the binary starts");
    let http = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..100 {
        if let Ok(reply) = http.get(format!("{base}/health/ready")).send().await {
            ready = reply.status().is_success();
            if ready {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "the service became ready");
    let token: Value = http
        .post(format!("{base}/api/v1/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", credentials.client_id.as_str()),
            ("client_secret", credentials.client_secret.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_string();

    // Long polls: in flight for three seconds each.
    let mut in_flight = Vec::new();
    for _ in 0..4 {
        let (http, base, token) = (reqwest::Client::new(), base.clone(), token.clone());
        in_flight.push(tokio::spawn(async move {
            let started = Instant::now();
            let reply = http
                .get(format!("{base}/api/v1/changes?after=999999&wait=3"))
                .bearer_auth(token)
                .send()
                .await;
            (reply.map(|r| r.status().as_u16()), started.elapsed())
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // New connections are refused soon after.
    let mut refused = false;
    for _ in 0..40 {
        if TcpStream::connect(("127.0.0.1", port)).is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(refused, "no new connection accepted after SIGTERM");
    for request in in_flight {
        let (reply, took) = request.await.unwrap();
        assert_eq!(reply.expect("the in-flight request completed"), 200);
        assert!(took >= Duration::from_millis(2900), "{took:?}");
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the service did not exit");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "clean exit: {status:?}");
}

/// Sends `request` on a raw connection, then waits for the answer's status line.
fn raw_exchange(base: &str, request: &[u8], patience: Duration) -> String {
    let address = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(patience)).unwrap();
    stream.write_all(request).unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
        }
        if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.len() > 200 {
            break;
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn slow_and_oversized_requests_get_408_and_413() {
    let app = TestApp::spawn_with(Options {
        request_timeout_ms: 500,
        max_body_bytes: 1024,
        ..Options::default()
    })
    .await;
    let base = app.base.clone();
    let token = app.token.clone();
    let (headers, body, oversized) = tokio::task::spawn_blocking(move || {
        // Headers that never end.
        let headers = raw_exchange(
            &base,
            b"GET /health/live HTTP/1.1\r\nHost: test\r\nX-Slow: ",
            Duration::from_secs(5),
        );
        // A body that never completes.
        let request = format!(
            "POST /api/v1/programmes HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"code\": \"slow\""
        );
        let body = raw_exchange(&base, request.as_bytes(), Duration::from_secs(5));
        // A declared length beyond the limit: refused without reading.
        let request = format!(
            "POST /api/v1/programmes HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n\r\n"
        );
        let oversized = raw_exchange(&base, request.as_bytes(), Duration::from_secs(5));
        (headers, body, oversized)
    })
    .await
    .unwrap();
    assert!(headers.starts_with("HTTP/1.1 408"), "{headers:?}");
    assert!(body.starts_with("HTTP/1.1 408"), "{body:?}");
    assert!(body.contains("request_timeout"), "{body}");
    assert!(oversized.starts_with("HTTP/1.1 413"), "{oversized:?}");
    assert!(oversized.contains("payload_too_large"), "{oversized}");
    let list = app.get("/api/v1/programmes").await.assert_json(200);
    assert_eq!(list["data"], json!([]), "nothing half-written");
}

#[tokio::test]
async fn two_instances_keep_capacity_uniqueness_and_feed_order() {
    let first = Arc::new(TestApp::spawn().await);
    let second = Arc::new(
        TestApp::start(
            Options {
                jwt_issuer: Some(first.base.clone()),
                ..Options::default()
            },
            first.database_url.clone(),
        )
        .await,
    );
    let world = World::new(&first).await;
    let session = first.session(&world.training, 30, false).await;
    let mut chefs = Vec::new();
    for i in 0..100 {
        chefs.push(
            first
                .chef(
                    &world.commune,
                    &format!("chef{i}@mairie-ablis.fr"),
                    &["petites-villes-de-demain"],
                )
                .await,
        );
    }
    let (_, start) = {
        let page = first
            .get("/api/v1/changes?limit=1000")
            .await
            .assert_json(200);
        ((), page["next_cursor"].as_str().unwrap().to_string())
    };

    // Feed readers on both instances, following while the enrolments race.
    let running = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut readers = Vec::new();
    for app in [first.clone(), second.clone()] {
        let (running, start) = (running.clone(), start.clone());
        readers.push(tokio::spawn(async move {
            let mut seen: Vec<Value> = Vec::new();
            let mut after = start;
            loop {
                let still = std::sync::atomic::AtomicBool::load(
                    &running,
                    std::sync::atomic::Ordering::Relaxed,
                );
                let page = app
                    .get(&format!(
                        "/api/v1/changes?types=enrolment,session&limit=37&after={after}"
                    ))
                    .await
                    .assert_json(200);
                let data = page["data"].as_array().unwrap().clone();
                after = page["next_cursor"].as_str().unwrap().to_string();
                let empty = data.is_empty();
                seen.extend(data);
                if empty && !still {
                    return seen;
                }
            }
        }));
    }
    // Every chef enrolled twice at once, once through each instance.
    let mut attempts = Vec::new();
    for chef in &chefs {
        for app in [first.clone(), second.clone()] {
            let body = json!({"session_id": session["id"], "chef_de_projet_id": chef["id"]});
            attempts.push(tokio::spawn(async move {
                app.post_json("/api/v1/enrolments", &body).await
            }));
        }
    }
    let mut statuses = std::collections::HashMap::<u16, usize>::new();
    for attempt in attempts {
        let reply = attempt.await.unwrap();
        *statuses.entry(reply.status.as_u16()).or_default() += 1;
        if reply.status.as_u16() == 409 {
            reply.assert_problem(409, "already_enrolled");
        }
    }
    assert_eq!(statuses.get(&201), Some(&100), "{statuses:?}");
    assert_eq!(statuses.get(&409), Some(&100), "{statuses:?}");
    let now = first
        .get(&format!(
            "/api/v1/sessions/{}",
            session["id"].as_str().unwrap()
        ))
        .await
        .assert_json(200);
    assert_eq!(now["seats_confirmed"], 30);
    assert_eq!(now["seats_waitlisted"], 70);
    assert_eq!(now["seats_left"], 0);

    running.store(false, std::sync::atomic::Ordering::Relaxed);
    let enrolments = first
        .get(&format!(
            "/api/v1/enrolments?session_id={}&limit=500",
            session["id"].as_str().unwrap()
        ))
        .await
        .assert_json(200);
    let enrolments = enrolments["data"].as_array().unwrap().clone();
    assert_eq!(enrolments.len(), 100);
    for reader in readers {
        let seen = reader.await.unwrap();
        let positions: Vec<i64> = seen
            .iter()
            .map(|c| c["cursor"].as_str().unwrap().parse().unwrap())
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "feed order: positions strictly increase"
        );
        // The last change of each enrolment is its current state.
        let mut last: std::collections::HashMap<String, Value> = Default::default();
        for change in seen.iter().filter(|c| c["type"] == "enrolment") {
            last.insert(
                change["id"].as_str().unwrap().to_string(),
                change["data"].clone(),
            );
        }
        assert_eq!(last.len(), 100);
        for enrolment in &enrolments {
            assert_eq!(last[enrolment["id"].as_str().unwrap()], *enrolment);
        }
    }
}
