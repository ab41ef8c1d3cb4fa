//! A database that goes away: 503 problem+json with Retry-After, and recovery without a restart.

use std::{
    net::ToSocketAddrs,
    time::{Duration, Instant},
};

use serde_json::json;

use crate::support::{database, db_proxy::DbProxy, Options, TestApp};

#[tokio::test]
async fn the_service_answers_503_while_the_database_is_down_and_recovers_by_itself() {
    let database_url = database::fresh_database().await;
    // postgres://user@host:port/name → host:port
    let authority = database_url
        .split("://")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let host_port = authority.rsplit('@').next().unwrap();
    let target = host_port.to_socket_addrs().unwrap().next().unwrap();
    let proxy = DbProxy::start(target);
    let through_proxy = database_url.replacen(host_port, &proxy.address.to_string(), 1);
    let app = TestApp::start(
        Options {
            database_url: Some(through_proxy),
            ..Options::default()
        },
        database_url,
    )
    .await;
    let programme =
        json!({"code": "pvd", "name": "Petites villes de demain", "started_on": "2020-10-01"});
    app.post_json("/api/v1/programmes", &programme)
        .await
        .assert_json(201);
    let training = app.training("PVD-01", &[], "published").await;
    // Read by one statement on the worker's shared read connection (`db::reads`), not the pool.
    let training_path = format!("/api/v1/trainings/{}", training["id"].as_str().unwrap());
    app.get(&training_path).await.assert_json(200);

    proxy.cut();
    for path in [
        "/api/v1/programmes",
        "/health/ready",
        training_path.as_str(),
    ] {
        let started = Instant::now();
        let reply = app.get(path).await;
        let body = reply.assert_problem(503, "database_unavailable");
        assert_eq!(reply.header("retry-after"), Some("2"));
        assert!(!body["detail"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("sql"));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "fails fast: {:?}",
            started.elapsed()
        );
    }
    let write = app
        .post_json(
            "/api/v1/programmes",
            &json!({"code": "acv", "name": "Action cœur de ville", "started_on": "2018-03-01"}),
        )
        .await;
    write.assert_problem(503, "database_unavailable");
    assert_eq!(
        app.get("/health/live").await.status.as_u16(),
        200,
        "still alive"
    );

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(10);
    let listed = loop {
        let reply = app.get("/api/v1/programmes").await;
        if reply.status.as_u16() == 200 || Instant::now() > deadline {
            break reply;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let listed = listed.assert_json(200);
    let codes: Vec<_> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].clone())
        .collect();
    assert_eq!(
        codes,
        [json!("pvd")],
        "the write refused during the outage did not happen"
    );
    assert_eq!(app.get("/health/ready").await.status.as_u16(), 200);
    // The shared read connections were lost with the others and are opened again.
    let deadline = Instant::now() + Duration::from_secs(10);
    let read = loop {
        let reply = app.get(&training_path).await;
        if reply.status.as_u16() == 200 || Instant::now() > deadline {
            break reply;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(read.assert_json(200)["code"], "PVD-01");
}
