//! Sessions: dates, capacity, seat counts, cancellation and completion.

use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::fixtures::{session_body, World, PVD};
use crate::support::TestApp;

const PATH: &str = "/api/v1/sessions";

#[tokio::test]
async fn a_session_is_created_with_live_seat_counts() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let session = app.session(&world.training, 2, false).await;
    assert_eq!(session["status"], "scheduled");
    assert_eq!(
        (
            session["seats_confirmed"].as_i64(),
            session["seats_left"].as_i64()
        ),
        (Some(0), Some(2))
    );
    assert_eq!(session["location"]["city"], "Rennes");
    app.enrol(&session, &world.chef).await;
    let path = format!("{PATH}/{}", session["id"].as_str().unwrap());
    let after = app.get(&path).await.assert_json(200);
    assert_eq!(
        (
            after["seats_confirmed"].as_i64(),
            after["seats_left"].as_i64()
        ),
        (Some(1), Some(1))
    );
    assert!(
        after["version"].as_i64() > session["version"].as_i64(),
        "seat counts are part of the version"
    );
    app.patch_json(&path, &json!({"seats_confirmed": 0}))
        .await
        .assert_problem(422, "validation_failed");
    app.patch_json(&path, &json!({"status": "cancelled"}))
        .await
        .assert_problem(422, "validation_failed");
}

#[tokio::test]
async fn dates_windows_places_and_capacity_are_checked() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let now = Utc::now();
    let cases = [
        (
            json!({"ends_at": (now + Duration::days(19)).to_rfc3339()}),
            "ends_at",
            "not_after_start",
        ),
        (
            json!({"enrolment_closes_at": (now - Duration::days(2)).to_rfc3339()}),
            "enrolment_closes_at",
            "not_after_opening",
        ),
        (
            json!({"enrolment_closes_at": (now + Duration::days(25)).to_rfc3339()}),
            "enrolment_closes_at",
            "after_start",
        ),
        (json!({"capacity": 0}), "capacity", "out_of_range"),
        (json!({"location": null}), "location", "required"),
        (
            json!({"location": {"city": "Rennes", "insee_code": "3523"}}),
            "location.insee_code",
            "invalid_insee_code",
        ),
        (
            json!({"location": {"city": ""}}),
            "location.city",
            "required",
        ),
        (
            json!({"training_id": "0193a1f2-7c4e-7b3a-9f10-2b6f1c9d4e01"}),
            "training_id",
            "unknown_training",
        ),
        (
            json!({"starts_at": "next monday"}),
            "starts_at",
            "invalid_value",
        ),
    ];
    for (change, field, code) in cases {
        let mut body = session_body(&world.training, 10, false);
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        let problem = app
            .post_json(PATH, &body)
            .await
            .assert_problem(422, "validation_failed");
        let found = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == field && e["code"] == code);
        assert!(found, "{change} → {problem}");
    }
    let mut remote = session_body(&world.training, 10, false);
    remote["remote"] = json!(true);
    remote["location"] = Value::Null;
    let created = app.post_json(PATH, &remote).await.assert_json(201);
    assert_eq!(created["location"], Value::Null);
}

#[tokio::test]
async fn capacity_cannot_drop_below_the_confirmed_and_raising_it_promotes_the_waitlist() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let session = app.session(&world.training, 2, false).await;
    let mut enrolments = Vec::new();
    for i in 0..4 {
        let chef = app
            .chef(&world.commune, &format!("chef{i}@ablis.fr"), &[PVD])
            .await;
        enrolments.push(app.enrol(&session, &chef).await);
    }
    let statuses: Vec<_> = enrolments
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    );
    let path = format!("{PATH}/{}", session["id"].as_str().unwrap());
    app.patch_json(&path, &json!({"capacity": 1}))
        .await
        .assert_problem(409, "capacity_below_confirmed");
    let raised = app
        .patch_json(&path, &json!({"capacity": 3}))
        .await
        .assert_json(200);
    assert_eq!(
        (
            raised["seats_confirmed"].as_i64(),
            raised["seats_waitlisted"].as_i64()
        ),
        (Some(3), Some(1))
    );
    let third = app
        .get(&format!(
            "/api/v1/enrolments/{}",
            enrolments[2]["id"].as_str().unwrap()
        ))
        .await
        .assert_json(200);
    assert_eq!(third["status"], "confirmed");
    let fourth = app
        .get(&format!(
            "/api/v1/enrolments/{}",
            enrolments[3]["id"].as_str().unwrap()
        ))
        .await
        .assert_json(200);
    assert_eq!(
        (
            fourth["status"].as_str(),
            fourth["waitlist_position"].as_i64()
        ),
        (Some("waitlisted"), Some(1))
    );
}

#[tokio::test]
async fn cancelling_a_session_cancels_its_active_enrolments() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let session = app.session(&world.training, 1, false).await;
    let first = app.enrol(&session, &world.chef).await;
    let other = app.chef(&world.commune, "other@ablis.fr", &[PVD]).await;
    let second = app.enrol(&session, &other).await;
    let path = format!("{PATH}/{}", session["id"].as_str().unwrap());
    let cancelled = app
        .post_json(
            &format!("{path}/cancel"),
            &json!({"reason": "Intervenant indisponible"}),
        )
        .await
        .assert_json(200);
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(
        (
            cancelled["seats_confirmed"].as_i64(),
            cancelled["seats_waitlisted"].as_i64()
        ),
        (Some(0), Some(0))
    );
    for enrolment in [&first, &second] {
        let now = app
            .get(&format!(
                "/api/v1/enrolments/{}",
                enrolment["id"].as_str().unwrap()
            ))
            .await
            .assert_json(200);
        assert_eq!(now["status"], "cancelled");
        assert_eq!(now["reason"], "session_cancelled: Intervenant indisponible");
    }
    app.post_json(&format!("{path}/cancel"), &json!({}))
        .await
        .assert_problem(409, "session_not_scheduled");
    app.patch_json(&path, &json!({"capacity": 5}))
        .await
        .assert_problem(409, "session_not_scheduled");
    let problem = app
        .post_json(
            "/api/v1/enrolments",
            &json!({"session_id": session["id"], "chef_de_projet_id": world.chef["id"]}),
        )
        .await
        .assert_problem(422, "session_not_scheduled");
    assert!(problem["detail"].as_str().unwrap().contains("cancelled"));
    app.send(app.request(Method::DELETE, &path))
        .await
        .assert_problem(409, "session_has_enrolments");
}

#[tokio::test]
async fn a_session_is_completed_only_once_it_has_ended() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let session = app.session(&world.training, 5, false).await;
    let path = format!("{PATH}/{}", session["id"].as_str().unwrap());
    app.post_json(&format!("{path}/complete"), &json!({}))
        .await
        .assert_problem(422, "session_not_ended");
    let now = Utc::now();
    app.patch_json(
        &path,
        &json!({
            "enrolment_opens_at": (now - Duration::days(10)).to_rfc3339(),
            "enrolment_closes_at": (now - Duration::days(5)).to_rfc3339(),
            "starts_at": (now - Duration::days(3)).to_rfc3339(),
            "ends_at": (now - Duration::days(2)).to_rfc3339(),
        }),
    )
    .await
    .assert_json(200);
    let reply = app
        .send(app.request(Method::POST, &format!("{path}/complete")))
        .await;
    assert_eq!(reply.assert_json(200)["status"], "completed");
    // A session without enrolments can be deleted.
    let spare = app.session(&world.training, 5, false).await;
    let reply = app
        .send(app.request(
            Method::DELETE,
            &format!("{PATH}/{}", spare["id"].as_str().unwrap()),
        ))
        .await;
    assert_eq!(reply.status.as_u16(), 204);
}

#[tokio::test]
async fn sessions_filter_by_training_region_dates_and_status() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let open = app.training("ALL-01", &[], "published").await;
    let in_rennes = app.session(&world.training, 5, false).await;
    let mut remote_body = session_body(&open, 5, false);
    remote_body["remote"] = json!(true);
    remote_body["location"] = Value::Null;
    let remote = app.post_json(PATH, &remote_body).await.assert_json(201);
    let ids = |body: Value| -> Vec<Value> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].clone())
            .collect()
    };
    let get = |query: String| {
        let app = &app;
        async move { ids(app.get(&format!("{PATH}?{query}")).await.assert_json(200)) }
    };
    assert_eq!(get("region=53".into()).await, [in_rennes["id"].clone()]);
    assert_eq!(get("remote=true".into()).await, [remote["id"].clone()]);
    assert_eq!(
        get(format!("training_id={}", open["id"].as_str().unwrap())).await,
        [remote["id"].clone()]
    );
    assert_eq!(
        get(format!("programme={PVD}")).await.len(),
        2,
        "targeted and open to all"
    );
    let later = (Utc::now() + Duration::days(30))
        .to_rfc3339()
        .replace('+', "%2B");
    assert_eq!(get(format!("starts_after={later}")).await.len(), 0);
    assert_eq!(get(format!("starts_before={later}")).await.len(), 2);
    assert_eq!(get("status=cancelled".into()).await.len(), 0);
    app.get(&format!("{PATH}?remote=perhaps"))
        .await
        .assert_problem(400, "invalid_query_parameter");
}
