//! `Idempotency-Key`: retries are safe.

use reqwest::Method;
use serde_json::{json, Value};

use anct_formations::auth::Scope;

use crate::support::fixtures::{World, PVD};
use crate::support::TestApp;

fn programme(code: &str) -> Value {
    json!({"code": code, "name": "Petites villes de demain", "started_on": "2020-10-01"})
}

#[tokio::test]
async fn the_same_key_and_body_replay_the_first_response() {
    let app = TestApp::spawn().await;
    let send = |body: Value, key: &str| {
        let request = app
            .request(Method::POST, "/api/v1/programmes")
            .header("idempotency-key", key)
            .json(&body);
        let app = &app;
        async move { app.send(request).await }
    };
    let first = send(programme(PVD), "key-1").await;
    let created = first.assert_json(201);
    assert!(first.header("idempotent-replayed").is_none());
    let again = send(programme(PVD), "key-1").await;
    assert_eq!(
        again.assert_json(201),
        created,
        "the first response, not a 409 for the code"
    );
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("etag"), first.header("etag"));
    let listed = app.get("/api/v1/programmes").await.assert_json(200);
    assert_eq!(listed["data"].as_array().unwrap().len(), 1, "done once");

    let problem = send(programme("other"), "key-1")
        .await
        .assert_problem(422, "idempotency_key_reused");
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("another request"));

    // Errors are answers too: the same invalid request gets the same 422, not a new attempt.
    let invalid = json!({"code": "BAD CODE", "name": "x", "started_on": "2020-10-01"});
    let error = send(invalid.clone(), "key-2").await;
    let body = error.assert_problem(422, "validation_failed");
    let replay = send(invalid, "key-2").await;
    assert_eq!(replay.status.as_u16(), 422);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.json()["errors"], body["errors"]);

    let reply = app
        .send(
            app.request(Method::POST, "/api/v1/programmes")
                .header("idempotency-key", "")
                .json(&programme("x")),
        )
        .await;
    reply.assert_problem(400, "invalid_idempotency_key");
}

#[tokio::test]
async fn keys_belong_to_their_client() {
    let app = TestApp::spawn().await;
    let other = app
        .token_for(&[Scope::ProgrammesWrite, Scope::ProgrammesRead], &[])
        .await;
    let mine = app
        .send(
            app.request(Method::POST, "/api/v1/programmes")
                .header("idempotency-key", "shared")
                .json(&programme(PVD)),
        )
        .await;
    mine.assert_json(201);
    let theirs = app
        .send(
            app.with_token(Method::POST, "/api/v1/programmes", &other)
                .header("idempotency-key", "shared")
                .json(&programme("action-coeur-de-ville")),
        )
        .await;
    assert_eq!(
        theirs.status.as_u16(),
        201,
        "another client's key space: {}",
        theirs.text
    );
    assert!(theirs.header("idempotent-replayed").is_none());
}

#[tokio::test]
async fn concurrent_retries_with_one_key_enrol_once() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let session = app.session(&world.training, 5, false).await;
    let body = json!({"session_id": session["id"], "chef_de_projet_id": world.chef["id"]});
    let attempts = (0..20).map(|_| {
        let request = app
            .request(Method::POST, "/api/v1/enrolments")
            .header("idempotency-key", "enrol-once")
            .json(&body);
        app.send(request)
    });
    let replies = futures_util::future::join_all(attempts).await;
    let mut created = Vec::new();
    for reply in &replies {
        match reply.status.as_u16() {
            201 => created.push(reply.json()["id"].clone()),
            409 => {
                reply.assert_problem(409, "idempotency_key_in_use");
            }
            other => panic!("unexpected {other}: {}", reply.text),
        }
    }
    assert!(!created.is_empty());
    assert!(
        created.iter().all(|id| *id == created[0]),
        "every 201 is the same enrolment"
    );
    let enrolments = app
        .get(&format!(
            "/api/v1/enrolments?session_id={}",
            session["id"].as_str().unwrap()
        ))
        .await
        .assert_json(200);
    assert_eq!(
        enrolments["data"].as_array().unwrap().len(),
        1,
        "enrolled once"
    );
    // A transition retried with its key is applied once.
    let enrolment = json!({"id": created[0]});
    let path = format!(
        "/api/v1/enrolments/{}/cancel",
        enrolment["id"].as_str().unwrap()
    );
    for _ in 0..2 {
        let reply = app
            .send(
                app.request(Method::POST, &path)
                    .header("idempotency-key", "cancel-once")
                    .json(&json!({"reason": "Doublon"})),
            )
            .await;
        assert_eq!(reply.assert_json(200)["status"], "cancelled");
    }
    let history = app
        .get(&format!(
            "/api/v1/enrolments/{}/history",
            enrolment["id"].as_str().unwrap()
        ))
        .await
        .assert_json(200);
    assert_eq!(
        history["data"].as_array().unwrap().len(),
        2,
        "created, cancelled: once"
    );
}
