//! Enrolments: every eligibility rule, every transition allowed and refused, history, waitlist.

use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::fixtures::{World, ACV, PVD};
use crate::support::TestApp;

const PATH: &str = "/api/v1/enrolments";

async fn status_of(app: &TestApp, enrolment: &Value) -> Value {
    app.get(&format!("{PATH}/{}", enrolment["id"].as_str().unwrap()))
        .await
        .assert_json(200)
}

#[tokio::test]
async fn each_eligibility_rule_has_its_own_error() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let session = app.session(&world.training, 10, false).await;
    let enrol = |session: &Value, chef: &Value| {
        let body = json!({"session_id": session["id"], "chef_de_projet_id": chef["id"]});
        let app = &app;
        async move { app.post_json(PATH, &body).await }
    };

    // A chef who left.
    let leaver = app.chef(&world.commune, "leaver@ablis.fr", &[PVD]).await;
    app.patch_json(
        &format!("/api/v1/chefs_de_projet/{}", leaver["id"].as_str().unwrap()),
        &json!({"status": "left"}),
    )
    .await
    .assert_json(200);
    enrol(&session, &leaver)
        .await
        .assert_problem(422, "chef_not_active");

    // A training reserved to another programme.
    let acv_training = app.training("ACV-01", &[ACV], "published").await;
    let acv_session = app.session(&acv_training, 10, false).await;
    enrol(&acv_session, &world.chef)
        .await
        .assert_problem(422, "programme_not_targeted");

    // A training not published.
    let draft = app.training("DRAFT-01", &[], "draft").await;
    let draft_session = app.session(&draft, 10, false).await;
    enrol(&draft_session, &world.chef)
        .await
        .assert_problem(422, "training_not_published");

    // Windows not open yet, or closed.
    let path = format!("/api/v1/sessions/{}", session["id"].as_str().unwrap());
    let now = Utc::now();
    app.patch_json(
        &path,
        &json!({"enrolment_opens_at": (now + Duration::days(1)).to_rfc3339()}),
    )
    .await
    .assert_json(200);
    enrol(&session, &world.chef)
        .await
        .assert_problem(422, "enrolment_not_open");
    app.patch_json(
        &path,
        &json!({
            "enrolment_opens_at": (now - Duration::days(3)).to_rfc3339(),
            "enrolment_closes_at": (now - Duration::days(1)).to_rfc3339()
        }),
    )
    .await
    .assert_json(200);
    enrol(&session, &world.chef)
        .await
        .assert_problem(422, "enrolment_closed");

    // Unknown references name their field.
    let body = json!({"session_id": "0193a1f2-7c4e-7b3a-9f10-2b6f1c9d4e01", "chef_de_projet_id": world.chef["id"]});
    let problem = app
        .post_json(PATH, &body)
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "session_id");
    let open = app.session(&world.training, 10, false).await;
    let body = json!({"session_id": open["id"], "chef_de_projet_id": "0193a1f2-7c4e-7b3a-9f10-2b6f1c9d4e01"});
    let problem = app
        .post_json(PATH, &body)
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "chef_de_projet_id");

    // A training open to all takes any programme's chef; one active enrolment per session.
    let open_training = app.training("ALL-01", &[], "published").await;
    let open_session = app.session(&open_training, 10, false).await;
    let first = app.enrol(&open_session, &world.chef).await;
    enrol(&open_session, &world.chef)
        .await
        .assert_problem(409, "already_enrolled");
    app.transition(&first, "cancel", json!({"reason": "Conflit d'agenda"}))
        .await
        .assert_json(200);
    let again = app.enrol(&open_session, &world.chef).await;
    assert_eq!(
        again["status"], "confirmed",
        "a cancelled enrolment does not block a new one"
    );
    let all = app
        .get(&format!(
            "{PATH}?session_id={}",
            open_session["id"].as_str().unwrap()
        ))
        .await
        .assert_json(200);
    assert_eq!(all["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_approval_path_with_history() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let session = app.session(&world.training, 1, true).await;
    let first = app.enrol(&session, &world.chef).await;
    assert_eq!(first["status"], "pending_approval");
    assert_eq!(first["waitlist_position"], Value::Null);
    let reply = app.transition(&first, "approve", json!({})).await;
    let approved = reply.assert_json(200);
    assert_eq!(approved["status"], "confirmed");
    assert_eq!(reply.header("etag"), Some("\"2\""));

    let other = app.chef(&world.commune, "other@ablis.fr", &[PVD]).await;
    let second = app.enrol(&session, &other).await;
    let waitlisted = app
        .transition(&second, "approve", json!({"reason": "Validé"}))
        .await
        .assert_json(200);
    assert_eq!(
        (
            waitlisted["status"].as_str(),
            waitlisted["waitlist_position"].as_i64()
        ),
        (Some("waitlisted"), Some(1))
    );

    let third_chef = app.chef(&world.commune, "third@ablis.fr", &[PVD]).await;
    let third = app.enrol(&session, &third_chef).await;
    app.transition(&third, "refuse", json!({}))
        .await
        .assert_problem(422, "validation_failed");
    let refused = app
        .transition(&third, "refuse", json!({"reason": "Hors public"}))
        .await
        .assert_json(200);
    assert_eq!(
        (refused["status"].as_str(), refused["reason"].as_str()),
        (Some("refused"), Some("Hors public"))
    );

    // The confirmed one cancels: the first waitlisted takes the seat.
    app.transition(&first, "cancel", json!({}))
        .await
        .assert_problem(422, "validation_failed");
    app.transition(&first, "cancel", json!({"reason": "Empêchement"}))
        .await
        .assert_json(200);
    let promoted = status_of(&app, &second).await;
    assert_eq!(
        (
            promoted["status"].as_str(),
            promoted["waitlist_position"].as_i64()
        ),
        (Some("confirmed"), None)
    );

    let history = app
        .get(&format!(
            "{PATH}/{}/history",
            second["id"].as_str().unwrap()
        ))
        .await
        .assert_json(200);
    let steps: Vec<(Value, Value, Value, Value)> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["from_status"].clone(),
                t["to_status"].clone(),
                t["actor"].clone(),
                t["reason"].clone(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            (
                Value::Null,
                json!("pending_approval"),
                json!(app.client_id),
                Value::Null
            ),
            (
                json!("pending_approval"),
                json!("waitlisted"),
                json!(app.client_id),
                json!("Validé")
            ),
            (
                json!("waitlisted"),
                json!("confirmed"),
                json!("system"),
                json!("seat_freed")
            ),
        ]
    );
    for transition in history["data"].as_array().unwrap() {
        assert!(transition["occurred_at"].as_str().unwrap().ends_with('Z'));
    }
    app.get(&format!(
        "{PATH}/0193a1f2-7c4e-7b3a-9f10-2b6f1c9d4e01/history"
    ))
    .await
    .assert_problem(404, "not_found");
}

#[tokio::test]
async fn transitions_that_the_lifecycle_does_not_allow_are_409() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let session = app.session(&world.training, 5, false).await;
    let confirmed = app.enrol(&session, &world.chef).await;
    assert_eq!(confirmed["status"], "confirmed", "no approval needed");
    app.transition(&confirmed, "approve", json!({}))
        .await
        .assert_problem(409, "invalid_transition");
    app.transition(&confirmed, "refuse", json!({"reason": "x"}))
        .await
        .assert_problem(409, "invalid_transition");
    app.transition(&confirmed, "attendance", json!({"attended": true}))
        .await
        .assert_problem(422, "session_not_started");
    app.transition(&confirmed, "cancel", json!({"reason": "x"}))
        .await
        .assert_json(200);
    for (action, body) in [
        ("cancel", json!({"reason": "again"})),
        ("approve", json!({})),
        ("attendance", json!({"attended": false})),
    ] {
        let problem = app
            .transition(&confirmed, action, body)
            .await
            .assert_problem(409, "invalid_transition");
        assert!(
            problem["detail"].as_str().unwrap().contains("cancelled"),
            "{problem}"
        );
    }
    app.transition(&confirmed, "attendance", json!({"attended": "yes"}))
        .await
        .assert_problem(422, "validation_failed");
    let unknown = json!({"id": "0193a1f2-7c4e-7b3a-9f10-2b6f1c9d4e01"});
    app.transition(&unknown, "approve", json!({}))
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn attendance_is_recorded_once_the_session_has_started() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let session = app.session(&world.training, 5, false).await;
    let present = app.enrol(&session, &world.chef).await;
    let other = app.chef(&world.commune, "other@ablis.fr", &[PVD]).await;
    let missing = app.enrol(&session, &other).await;
    let now = Utc::now();
    app.patch_json(
        &format!("/api/v1/sessions/{}", session["id"].as_str().unwrap()),
        &json!({
            "enrolment_opens_at": (now - Duration::days(10)).to_rfc3339(),
            "enrolment_closes_at": (now - Duration::days(5)).to_rfc3339(),
            "starts_at": (now - Duration::hours(3)).to_rfc3339(),
            "ends_at": (now + Duration::hours(3)).to_rfc3339(),
        }),
    )
    .await
    .assert_json(200);
    let attended = app
        .transition(&present, "attendance", json!({"attended": true}))
        .await
        .assert_json(200);
    assert_eq!(attended["status"], "attended");
    let absent = app
        .transition(
            &missing,
            "attendance",
            json!({"attended": false, "reason": "Malade"}),
        )
        .await
        .assert_json(200);
    assert_eq!(absent["status"], "absent");
    app.transition(&present, "cancel", json!({"reason": "trop tard"}))
        .await
        .assert_problem(409, "invalid_transition");
}

#[tokio::test]
async fn if_match_guards_transitions() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let session = app.session(&world.training, 5, true).await;
    let pending = app.enrol(&session, &world.chef).await;
    let path = format!("{PATH}/{}/approve", pending["id"].as_str().unwrap());
    let stale = app
        .send(
            app.request(Method::POST, &path)
                .header("if-match", "\"7\"")
                .json(&json!({})),
        )
        .await;
    let problem = stale.assert_problem(412, "precondition_failed");
    assert_eq!(problem["current"]["status"], "pending_approval");
    let fresh = app
        .send(
            app.request(Method::POST, &path)
                .header("if-match", "\"1\"")
                .json(&json!({})),
        )
        .await;
    assert_eq!(fresh.assert_json(200)["status"], "confirmed");
    let reply = app
        .send(
            app.request(
                Method::GET,
                &format!("{PATH}/{}", pending["id"].as_str().unwrap()),
            )
            .header("if-none-match", "\"2\""),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 304);
}

#[tokio::test]
async fn enrolments_filter_by_programme_chef_session_and_status() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let session = app.session(&world.training, 1, false).await;
    let confirmed = app.enrol(&session, &world.chef).await;
    let other = app.chef(&world.commune, "other@ablis.fr", &[PVD]).await;
    let waitlisted = app.enrol(&session, &other).await;
    let ids = |body: Value| -> Vec<Value> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].clone())
            .collect()
    };
    let get = |query: String| {
        let app = &app;
        async move { ids(app.get(&format!("{PATH}?{query}")).await.assert_json(200)) }
    };
    assert_eq!(
        get("status=waitlisted".into()).await,
        [waitlisted["id"].clone()]
    );
    assert_eq!(
        get(format!(
            "chef_de_projet_id={}",
            world.chef["id"].as_str().unwrap()
        ))
        .await,
        [confirmed["id"].clone()]
    );
    assert_eq!(get(format!("programme={PVD}")).await.len(), 2);
    assert_eq!(get(format!("programme={ACV}")).await.len(), 0);
    app.get(&format!("{PATH}?status=maybe"))
        .await
        .assert_problem(400, "invalid_query_parameter");
}

/// A burst of approvals on one session, on an instance with 2 pooled connections and a 300 ms
/// checkout timeout: the approvals wait for their session's turn without holding connections,
/// so none gets a 503 and the other requests of the instance are still served meanwhile.
#[tokio::test]
async fn a_burst_of_approvals_on_one_session_leaves_the_pool_to_others() {
    let app = TestApp::spawn_with(crate::support::app::Options {
        pool_size: 2,
        checkout_timeout_ms: 300,
        ..Default::default()
    })
    .await;
    let world = World::new(&app).await;
    let session = app.session(&world.training, 10, true).await;
    let mut pending = Vec::new();
    for i in 0..150 {
        let chef = app
            .chef(&world.commune, &format!("burst{i}@ablis.fr"), &[PVD])
            .await;
        pending.push(app.enrol(&session, &chef).await);
    }
    let approvals = futures_util::future::join_all(
        pending
            .iter()
            .map(|e| app.transition(e, "approve", json!({}))),
    );
    let others = async {
        let mut statuses = Vec::new();
        for _ in 0..20 {
            statuses.push(app.get("/api/v1/programmes").await.status.as_u16());
        }
        statuses
    };
    let (replies, others) = tokio::join!(approvals, others);
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert!(others.iter().all(|s| *s == 200), "{others:?}");
    let confirmed = replies
        .iter()
        .filter(|r| r.json()["status"] == "confirmed")
        .count();
    assert_eq!(confirmed, 10);
}

/// 200 concurrent approvals on a session of capacity 20: exactly 20 confirmed, 180 waitlisted
/// at positions 1..180 with no gap; cancelling a confirmed one promotes position 1.
#[tokio::test]
async fn two_hundred_concurrent_approvals_never_overbook() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let session = app.session(&world.training, 20, true).await;
    let mut pending = Vec::new();
    for i in 0..200 {
        let chef = app
            .chef(&world.commune, &format!("chef{i}@ablis.fr"), &[PVD])
            .await;
        pending.push(app.enrol(&session, &chef).await);
    }
    let approvals = pending
        .iter()
        .map(|e| app.transition(e, "approve", json!({})));
    let replies = futures_util::future::join_all(approvals).await;
    let mut confirmed = Vec::new();
    let mut positions = Vec::new();
    for reply in &replies {
        let body = reply.assert_json(200);
        match body["status"].as_str().unwrap() {
            "confirmed" => confirmed.push(body),
            "waitlisted" => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(confirmed.len(), 20);
    // Positions as they stand now, read back through the list.
    let mut path = format!(
        "{PATH}?session_id={}&status=waitlisted&limit=500",
        session["id"].as_str().unwrap()
    );
    let page = app.get(&path).await.assert_json(200);
    let mut first_in_line = Value::Null;
    for enrolment in page["data"].as_array().unwrap() {
        let position = enrolment["waitlist_position"].as_i64().unwrap();
        if position == 1 {
            first_in_line = enrolment["id"].clone();
        }
        positions.push(position);
    }
    positions.sort_unstable();
    assert_eq!(positions, (1..=180).collect::<Vec<i64>>());
    let counts = app
        .get(&format!(
            "/api/v1/sessions/{}",
            session["id"].as_str().unwrap()
        ))
        .await
        .assert_json(200);
    assert_eq!(
        (
            counts["seats_confirmed"].as_i64(),
            counts["seats_waitlisted"].as_i64(),
            counts["seats_left"].as_i64()
        ),
        (Some(20), Some(180), Some(0))
    );

    app.transition(&confirmed[0], "cancel", json!({"reason": "Désistement"}))
        .await
        .assert_json(200);
    let promoted = app
        .get(&format!("{PATH}/{}", first_in_line.as_str().unwrap()))
        .await
        .assert_json(200);
    assert_eq!(promoted["status"], "confirmed");
    path = format!(
        "{PATH}?session_id={}&status=waitlisted&limit=500",
        session["id"].as_str().unwrap()
    );
    let mut after: Vec<i64> = app.get(&path).await.assert_json(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["waitlist_position"].as_i64().unwrap())
        .collect();
    after.sort_unstable();
    assert_eq!(after, (1..=179).collect::<Vec<i64>>());
    let counts = app
        .get(&format!(
            "/api/v1/sessions/{}",
            session["id"].as_str().unwrap()
        ))
        .await
        .assert_json(200);
    assert_eq!(
        (
            counts["seats_confirmed"].as_i64(),
            counts["seats_waitlisted"].as_i64()
        ),
        (Some(20), Some(179))
    );
}

/// The database itself refuses over-booking, whatever the code does.
#[tokio::test]
async fn the_database_enforces_capacity_and_one_active_enrolment() {
    use diesel_async::SimpleAsyncConnection;
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let session = app.session(&world.training, 1, false).await;
    app.enrol(&session, &world.chef).await;
    let other = app.chef(&world.commune, "other@ablis.fr", &[PVD]).await;
    let mut conn = app.db().await;
    let overbook = format!(
        "INSERT INTO enrolments (id, session_id, chef_de_projet_id, status) VALUES (gen_random_uuid(), '{}', '{}', 'confirmed')",
        session["id"].as_str().unwrap(),
        other["id"].as_str().unwrap()
    );
    let error = conn.batch_execute(&overbook).await.unwrap_err().to_string();
    assert!(error.contains("sessions_capacity_respected"), "{error}");
    let duplicate = format!(
        "INSERT INTO enrolments (id, session_id, chef_de_projet_id, status) VALUES (gen_random_uuid(), '{}', '{}', 'pending_approval')",
        session["id"].as_str().unwrap(),
        world.chef["id"].as_str().unwrap()
    );
    let error = conn
        .batch_execute(&duplicate)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("enrolments_active_key"), "{error}");
}
