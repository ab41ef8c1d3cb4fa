//! Webhooks: a partner registers a URL and receives the changes it may read, signed per
//! Standard Webhooks, retried until its receiver recovers, once per change whatever the number
//! of instances; private targets are refused.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use anct_formations::auth::Scope;
use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::support::fixtures::{error_fields, session_body, World, ACV, PVD};
use crate::support::receiver::{Received, Receiver};
use crate::support::{Options, Reply, TestApp};

const PATIENCE: Duration = Duration::from_secs(20);

/// Verifies a delivery as a receiver would, from the Standard Webhooks text alone: the
/// signatures (space-separated `v1,<base64>`) that match HMAC-SHA256 of `id.timestamp.body`
/// under the secret's bytes.
fn signed_with(received: &Received, secret: &str) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", received.id, received.timestamp, received.body).as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    received.signature.split(' ').any(|s| s == expected)
}

async fn register(app: &TestApp, token: &str, body: Value) -> Reply {
    app.send(
        app.with_token(Method::POST, "/api/v1/webhooks", token)
            .json(&body),
    )
    .await
}

/// Registers `url` for `types` as the app's administrator; returns (endpoint, secret).
async fn endpoint(app: &TestApp, url: &str, types: &[&str]) -> (Value, String) {
    let created = app
        .post_json("/api/v1/webhooks", &json!({"url": url, "types": types}))
        .await
        .assert_json(201);
    let secret = created["secret"].as_str().unwrap().to_string();
    (created, secret)
}

/// A delivery once the worker has recorded its last answer (the receiver sees a request just
/// before the worker records how it went).
async fn settled(app: &TestApp, path: &str) -> Value {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let detail = app.get(path).await.assert_json(200);
        if detail["status"] != "pending" || tokio::time::Instant::now() >= deadline {
            return detail;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn id_of(value: &Value) -> &str {
    value["id"].as_str().unwrap()
}

#[tokio::test]
async fn a_change_arrives_signed_and_verifiable() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let receiver = Receiver::start(0);
    let (created, secret) = endpoint(&app, &receiver.url, &["session"]).await;
    assert!(secret.starts_with("whsec_"), "{created}");
    assert_eq!(created["enabled"], true);
    assert!(app
        .get(&format!("/api/v1/webhooks/{}", id_of(&created)))
        .await
        .assert_json(200)
        .get("secret")
        .is_none());

    let session = app.session(&world.training, 12, false).await;
    let received = receiver.wait_until(PATIENCE, |r| !r.is_empty()).await;
    assert_eq!(received.len(), 1, "one change, one request: {received:?}");
    let delivery = &received[0];
    assert!(signed_with(delivery, &secret), "{delivery:?}");
    assert!(!signed_with(
        delivery,
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    ));
    let sent_at: i64 = delivery.timestamp.parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - sent_at).abs() < 60);

    // The body is the change exactly as the feed shows it.
    let change = delivery.json();
    assert_eq!(change["type"], "session");
    assert_eq!(change["action"], "upsert");
    assert_eq!(
        change["data"],
        app.get(&format!("/api/v1/sessions/{}", id_of(&session)))
            .await
            .json()
    );
    let feed = app
        .get("/api/v1/changes?types=session")
        .await
        .assert_json(200);
    assert_eq!(feed["data"][0], change);

    // The partner sees the delivery, its body and its attempt.
    let path = format!("/api/v1/webhooks/{}/deliveries", id_of(&created));
    let deliveries = app.get(&path).await.assert_json(200);
    let listed = &deliveries["data"][0];
    assert_eq!(listed["id"], delivery.id.as_str());
    let detail = settled(&app, &format!("{path}/{}", delivery.id)).await;
    assert_eq!(detail["status"], "succeeded", "{detail}");
    assert_eq!(detail["payload"], change);
    assert_eq!(detail["attempt_log"][0]["status_code"], 204);
    assert_eq!(detail["attempt_log"][0]["error"], Value::Null);
}

#[tokio::test]
async fn a_receiver_that_fails_three_times_gets_the_delivery_once_it_recovers() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let receiver = Receiver::start(3);
    let (created, secret) = endpoint(&app, &receiver.url, &["enrolment"]).await;
    let session = app.session(&world.training, 5, false).await;
    let enrolment = app.enrol(&session, &world.chef).await;

    let received = receiver
        .wait_until(PATIENCE, |r| r.iter().any(|x| x.answered < 300))
        .await;
    let answers: Vec<u16> = received.iter().map(|r| r.answered).collect();
    assert_eq!(answers, [503, 503, 503, 204], "{received:?}");
    let ids: BTreeSet<&str> = received.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 1, "every retry carries the same webhook-id");
    assert!(received.iter().all(|r| signed_with(r, &secret)));
    assert_eq!(received[3].json()["id"], enrolment["id"]);
    // Backoff: each wait longer than the one before (150 ms × 3ⁿ, ±20%).
    let detail = settled(
        &app,
        &format!(
            "/api/v1/webhooks/{}/deliveries/{}",
            id_of(&created),
            received[0].id
        ),
    )
    .await;
    assert_eq!(detail["status"], "succeeded");
    assert_eq!(detail["attempts"], 4);
    let log = detail["attempt_log"].as_array().unwrap();
    let codes: Vec<&Value> = log.iter().map(|a| &a["status_code"]).collect();
    assert_eq!(codes, [&json!(503), &json!(503), &json!(503), &json!(204)]);
    assert!(log[0]["error"]
        .as_str()
        .unwrap()
        .contains("HTTP 503: receiver down for maintenance"));
    let times: Vec<chrono::DateTime<chrono::Utc>> = log
        .iter()
        .map(|a| a["attempted_at"].as_str().unwrap().parse().unwrap())
        .collect();
    let gaps: Vec<i64> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).num_milliseconds())
        .collect();
    assert!(
        gaps[0] >= 100 && gaps[1] > gaps[0] && gaps[2] > gaps[1],
        "{gaps:?}"
    );
    // Nothing is sent again once acknowledged.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 4);
}

#[tokio::test]
async fn two_instances_deliver_every_event_exactly_once() {
    let first = TestApp::spawn().await;
    let second = TestApp::start(
        Options {
            jwt_issuer: Some(first.base.clone()),
            ..Options::default()
        },
        first.database_url.clone(),
    )
    .await;
    let world = World::new(&first).await;
    let receiver = Receiver::start(0);
    let (_, secret) = endpoint(&first, &receiver.url, &["session", "enrolment"]).await;

    // 40 sessions and an enrolment on each, written through both instances at once.
    let mut writes = Vec::new();
    for i in 0..40 {
        let app = if i % 2 == 0 { &first } else { &second };
        let training = world.training.clone();
        let chef = world.chef.clone();
        writes.push(async move {
            let body = session_body(&training, 3, false);
            let session = app
                .send(app.request(Method::POST, "/api/v1/sessions").json(&body))
                .await
                .assert_json(201);
            app.enrol(&session, &chef).await;
        });
    }
    futures_util::future::join_all(writes).await;

    // Every change of those types, as the feed lists them.
    let mut expected = BTreeSet::new();
    let mut after = String::new();
    loop {
        let page = first
            .get(&format!(
                "/api/v1/changes?types=session,enrolment&limit=1000{after}"
            ))
            .await
            .assert_json(200);
        let data = page["data"].as_array().unwrap();
        if data.is_empty() {
            break;
        }
        expected.extend(
            data.iter()
                .map(|c| c["cursor"].as_str().unwrap().to_string()),
        );
        after = format!("&after={}", page["next_cursor"].as_str().unwrap());
    }
    assert!(expected.len() >= 80, "{} changes", expected.len());

    let received = receiver
        .wait_until(PATIENCE, |r| r.len() >= expected.len())
        .await;
    // Let any duplicate arrive before counting.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let received = if receiver.received().len() > received.len() {
        receiver.received()
    } else {
        received
    };
    let mut per_id: HashMap<&str, usize> = HashMap::new();
    for r in &received {
        *per_id.entry(r.id.as_str()).or_default() += 1;
        assert!(signed_with(r, &secret));
    }
    assert!(
        per_id.values().all(|n| *n == 1),
        "a delivery was sent twice"
    );
    let cursors: BTreeSet<String> = received
        .iter()
        .map(|r| r.json()["cursor"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(cursors.len(), received.len(), "one delivery per change");
    assert_eq!(cursors, expected, "every change delivered");
}

#[tokio::test]
async fn private_addresses_are_refused_at_registration() {
    let app = TestApp::spawn_with(Options {
        webhook_allow_private: false,
        ..Options::default()
    })
    .await;
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.0.0.7/hook",
        "http://192.168.1.20/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
    ] {
        let problem = app
            .post_json("/api/v1/webhooks", &json!({"url": url}))
            .await
            .assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["field"], "url", "{url}");
        assert_eq!(problem["errors"][0]["code"], "forbidden_address", "{url}");
    }
    for (url, code) in [
        ("ftp://partner.example.fr/hook", "unsupported_scheme"),
        ("file:///etc/passwd", "unsupported_scheme"),
        (
            "https://user:secret@partner.example.fr/",
            "credentials_in_url",
        ),
        ("partner.example.fr/hook", "invalid_url"),
    ] {
        let problem = app
            .post_json("/api/v1/webhooks", &json!({"url": url}))
            .await
            .assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["code"], code, "{url}");
    }
    // Nothing was registered, and a patch cannot sneak a private target in either.
    let list = app.get("/api/v1/webhooks").await.assert_json(200);
    assert_eq!(list["data"], json!([]));
    app.endpoint_without_checks("https://partner.example.fr/hook")
        .await;
    let list = app.get("/api/v1/webhooks").await.assert_json(200);
    let id = list["data"][0]["id"].as_str().unwrap();
    let problem = app
        .patch_json(
            &format!("/api/v1/webhooks/{id}"),
            &json!({"url": "http://127.0.0.1/hook"}),
        )
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["code"], "forbidden_address");
}

#[tokio::test]
async fn deliveries_follow_the_client_s_scopes_and_programmes() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let acv_training = app.training("ACV-01", &[ACV], "published").await;
    let partner = app
        .token_for(&[Scope::WebhooksManage, Scope::TrainingsRead], &[PVD])
        .await;
    // A type it may not read is refused at registration.
    let receiver = Receiver::start(0);
    register(
        &app,
        &partner,
        json!({"url": receiver.url, "types": ["chef_de_projet"]}),
    )
    .await
    .assert_problem(403, "insufficient_scope");
    // Every type it may read: trainings and sessions, of its programme only.
    let created = register(&app, &partner, json!({"url": receiver.url}))
        .await
        .assert_json(201);
    let pvd_session = app.session(&world.training, 10, false).await;
    app.session(&acv_training, 10, false).await;
    app.enrol(&pvd_session, &world.chef).await;
    let marker = app.training("PVD-02", &[PVD], "draft").await;
    // Deliveries are sent side by side: wait for all three, then make sure no other comes.
    receiver
        .wait_until(PATIENCE, |r| {
            r.len() >= 3 && r.iter().any(|x| x.json()["id"] == marker["id"])
        })
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received = receiver.received();
    let seen: BTreeSet<(String, String)> = received
        .iter()
        .map(|r| {
            let c = r.json();
            (
                c["type"].as_str().unwrap().into(),
                c["id"].as_str().unwrap().into(),
            )
        })
        .collect();
    // The PVD session twice (created, then its seat count after the enrolment), the marker;
    // no ACV session, no enrolment (no enrolments:read).
    assert_eq!(received.len(), 3, "{received:?}");
    assert_eq!(
        seen,
        BTreeSet::from([
            ("session".to_string(), id_of(&pvd_session).to_string()),
            ("training".to_string(), id_of(&marker).to_string()),
        ])
    );
    // Another client sees nothing of this endpoint.
    let other = app.token_for(&[Scope::WebhooksManage], &[]).await;
    let reply = app
        .send(app.with_token(
            Method::GET,
            &format!("/api/v1/webhooks/{}", id_of(&created)),
            &other,
        ))
        .await;
    reply.assert_problem(404, "not_found");
    let reply = app
        .send(app.with_token(Method::GET, "/api/v1/webhooks", &other))
        .await;
    assert_eq!(reply.assert_json(200)["data"], json!([]));
}

#[tokio::test]
async fn an_endpoint_that_keeps_failing_is_disabled_and_can_be_redelivered_to() {
    let app = TestApp::spawn_with(Options {
        webhook_max_attempts: 3,
        ..Options::default()
    })
    .await;
    let world = World::new(&app).await;
    let receiver = Receiver::start(usize::MAX);
    let (created, _) = endpoint(&app, &receiver.url, &["session"]).await;
    let path = format!("/api/v1/webhooks/{}", id_of(&created));
    app.session(&world.training, 10, false).await;

    let mut endpoint_now = Value::Null;
    for _ in 0..200 {
        endpoint_now = app.get(&path).await.assert_json(200);
        if endpoint_now["enabled"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(endpoint_now["enabled"], false, "{endpoint_now}");
    let reason = endpoint_now["disabled_reason"].as_str().unwrap();
    assert!(
        reason.contains("failed 3 attempts") && reason.contains("HTTP 503"),
        "{reason}"
    );
    assert_eq!(receiver.received().len(), 3);
    let failed = app
        .get(&format!("{path}/deliveries?status=failed"))
        .await
        .assert_json(200);
    let delivery = failed["data"][0].clone();
    assert_eq!(delivery["status"], "failed");
    assert_eq!(delivery["next_attempt_at"], Value::Null);

    // While disabled: new changes wait, redelivery is refused.
    let held = app.session(&world.training, 11, false).await;
    let redeliver = format!("{path}/deliveries/{}/redeliver", id_of(&delivery));
    app.post_json(&redeliver, &json!({}))
        .await
        .assert_problem(409, "endpoint_disabled");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 3);

    // Fixed and enabled again: the held change arrives, and the failed one on request.
    receiver.fail_next(0);
    let enabled = app
        .patch_json(&path, &json!({"enabled": true}))
        .await
        .assert_json(200);
    assert_eq!(enabled["disabled_reason"], Value::Null);
    let accepted = receiver
        .wait_until(PATIENCE, |r| r.iter().any(|x| x.answered < 300))
        .await;
    assert_eq!(
        accepted.last().unwrap().json()["id"],
        held["id"],
        "the change made while disabled"
    );
    let scheduled = app.post_json(&redeliver, &json!({})).await.assert_json(202);
    assert_eq!(scheduled["status"], "pending");
    assert_eq!(scheduled["attempts"], 0);
    let accepted = receiver
        .wait_until(PATIENCE, |r| {
            r.iter().filter(|x| x.answered < 300).count() == 2
        })
        .await;
    assert_eq!(accepted.last().unwrap().id, id_of(&delivery));
    let detail = settled(&app, &format!("{path}/deliveries/{}", id_of(&delivery))).await;
    assert_eq!(detail["status"], "succeeded");
    assert_eq!(detail["attempt_log"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn during_a_rotation_both_secrets_sign() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let receiver = Receiver::start(0);
    let (created, old) = endpoint(&app, &receiver.url, &["session"]).await;
    let path = format!("/api/v1/webhooks/{}", id_of(&created));
    let rotated = app
        .post_json(&format!("{path}/rotate-secret"), &json!({}))
        .await
        .assert_json(200);
    let new = rotated["secret"].as_str().unwrap();
    assert_ne!(new, old);
    assert!(rotated["previous_secret_expires_at"].is_string());
    app.session(&world.training, 10, false).await;
    let received = receiver.wait_until(PATIENCE, |r| !r.is_empty()).await;
    assert_eq!(received[0].signature.split(' ').count(), 2);
    assert!(signed_with(&received[0], new) && signed_with(&received[0], &old));
    let now = app.get(&path).await.assert_json(200);
    assert_eq!(
        now["previous_secret_expires_at"],
        rotated["previous_secret_expires_at"]
    );
}

#[tokio::test]
async fn endpoints_are_managed_like_any_resource() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(0);
    let (created, _) = endpoint(&app, &receiver.url, &[]).await;
    let path = format!("/api/v1/webhooks/{}", id_of(&created));
    assert_eq!(created["types"], json!([]));
    // Validation names each field; unknown fields and types are refused.
    let problem = app
        .post_json(
            "/api/v1/webhooks",
            &json!({"url": "nope", "description": "x".repeat(501)}),
        )
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(error_fields(&problem), ["url", "description"]);
    app.post_json(
        "/api/v1/webhooks",
        &json!({"url": receiver.url, "types": ["invoice"]}),
    )
    .await
    .assert_problem(422, "validation_failed");
    app.post_json(
        "/api/v1/webhooks",
        &json!({"url": receiver.url, "colour": "red"}),
    )
    .await
    .assert_problem(400, "unknown_field");
    // Conditional update, server-set fields read-only, disabling by the client.
    let stale = app
        .send(
            app.request(Method::PATCH, &path)
                .header("content-type", "application/merge-patch+json")
                .header("if-match", "\"7\"")
                .body(r#"{"enabled": false}"#),
        )
        .await;
    stale.assert_problem(412, "precondition_failed");
    app.patch_json(&path, &json!({"secret": "whsec_x"}))
        .await
        .assert_problem(422, "validation_failed");
    let disabled = app
        .patch_json(&path, &json!({"enabled": false, "types": ["session"]}))
        .await
        .assert_json(200);
    assert_eq!(disabled["version"], 2);
    assert_eq!(disabled["disabled_reason"], "Disabled by the client");
    assert_eq!(disabled["types"], json!(["session"]));
    // Deleted with its deliveries.
    let gone = app.send(app.request(Method::DELETE, &path)).await;
    assert_eq!(gone.status.as_u16(), 204);
    app.get(&path).await.assert_problem(404, "not_found");
    app.get(&format!("{path}/deliveries/{}", uuid::Uuid::nil()))
        .await
        .assert_problem(404, "not_found");
    app.get("/api/v1/webhooks/not-an-id/deliveries")
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn an_erasure_reaches_receivers_and_leaves_no_personal_data_in_deliveries() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let receiver = Receiver::start(usize::MAX);
    let (created, _) = endpoint(&app, &receiver.url, &["chef_de_projet"]).await;
    let chef = app
        .chef(&world.commune, "dominique.petit@mairie-ablis.fr", &[PVD])
        .await;
    // The receiver is down: the delivery with the person's data is still pending.
    receiver.wait_until(PATIENCE, |r| !r.is_empty()).await;
    let path = format!("/api/v1/webhooks/{}/deliveries", id_of(&created));
    let pending = app.get(&path).await.assert_json(200);
    let first = id_of(&pending["data"][0]).to_string();
    assert!(receiver.received()[0].body.contains("dominique.petit"));

    app.post_json(
        &format!("/api/v1/chefs_de_projet/{}/erasure", id_of(&chef)),
        &json!({}),
    )
    .await
    .assert_json(200);
    let detail = app.get(&format!("{path}/{first}")).await.assert_json(200);
    assert_eq!(detail["payload"]["data"], Value::Null, "{detail}");
    assert_eq!(detail["payload"]["id"], chef["id"]);
    // Once the receiver is back, it gets the erased record, and no personal data at all.
    receiver.fail_next(0);
    let received = receiver
        .wait_until(PATIENCE, |r| {
            r.iter()
                .any(|x| x.answered < 300 && x.json()["data"]["erased_at"].is_string())
        })
        .await;
    let delivered: Vec<&Received> = received.iter().filter(|r| r.answered < 300).collect();
    assert!(
        delivered
            .iter()
            .all(|r| !r.body.contains("dominique.petit")),
        "{delivered:?}"
    );
}

#[tokio::test]
async fn a_slow_receiver_does_not_hold_up_the_others() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let slow = Receiver::slow(Duration::from_millis(2500));
    let fast = Receiver::start(0);
    endpoint(&app, &slow.url, &["session"]).await;
    endpoint(&app, &fast.url, &["session"]).await;
    app.session(&world.training, 10, false).await;
    // The slow receiver has the first change and takes its time answering …
    slow.wait_until(PATIENCE, |r| !r.is_empty()).await;
    fast.wait_until(PATIENCE, |r| !r.is_empty()).await;
    let second = app.session(&world.training, 11, false).await;
    let started = std::time::Instant::now();
    // … while the fast one gets the next change at once.
    let received = fast
        .wait_until(PATIENCE, |r| {
            r.iter().any(|x| x.json()["id"] == second["id"])
        })
        .await;
    assert!(received.iter().any(|x| x.json()["id"] == second["id"]));
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    let all = slow
        .wait_until(PATIENCE, |r| {
            r.iter().any(|x| x.json()["id"] == second["id"])
        })
        .await;
    assert_eq!(all.len(), 2);
}
