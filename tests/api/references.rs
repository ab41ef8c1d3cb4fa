//! Partner references and batches: the shape of a sync.

use reqwest::Method;
use serde_json::{json, Value};

use anct_formations::auth::Scope;

use crate::support::fixtures::{session_body, World, ACV, PVD};
use crate::support::TestApp;

async fn put(app: &TestApp, path: &str, body: &Value) -> crate::support::Reply {
    app.send(app.request(Method::PUT, path).json(body)).await
}

#[tokio::test]
async fn a_session_is_created_then_updated_by_the_partners_reference() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let body = session_body(&world.training, 10, false);
    let reply = put(&app, "/api/v1/sessions/ref:cnfpt-2027-0042", &body).await;
    let created = reply.assert_json(201);
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/v1/sessions/{}", created["id"].as_str().unwrap()).as_str())
    );
    let mut changed = body.clone();
    changed["capacity"] = json!(25);
    let updated = put(&app, "/api/v1/sessions/ref:cnfpt-2027-0042", &changed)
        .await
        .assert_json(200);
    assert_eq!(
        (updated["id"].clone(), updated["capacity"].clone()),
        (created["id"].clone(), json!(25))
    );
    // `ref:` works wherever `{id}` does, in the caller's namespace only.
    let read = app
        .get("/api/v1/sessions/ref:cnfpt-2027-0042")
        .await
        .assert_json(200);
    assert_eq!(read, updated);
    let other = app.token_for(&[Scope::TrainingsRead], &[]).await;
    app.send(app.with_token(Method::GET, "/api/v1/sessions/ref:cnfpt-2027-0042", &other))
        .await
        .assert_problem(404, "not_found");
    app.get("/api/v1/sessions/ref:unknown")
        .await
        .assert_problem(404, "not_found");
    app.get("/api/v1/sessions/ref:")
        .await
        .assert_problem(404, "not_found");
    let problem = put(
        &app,
        &format!("/api/v1/sessions/{}", created["id"].as_str().unwrap()),
        &body,
    )
    .await
    .assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["code"], "reference_required");
    let stale = app
        .send(
            app.request(Method::PUT, "/api/v1/sessions/ref:cnfpt-2027-0042")
                .header("if-match", "\"1\"")
                .json(&body),
        )
        .await;
    stale.assert_problem(412, "precondition_failed");
}

#[tokio::test]
async fn an_enrolment_by_reference_is_made_once_and_then_moves_through_its_transitions() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let session = app.session(&world.training, 5, false).await;
    let body = json!({"session_id": session["id"], "chef_de_projet_id": world.chef["id"]});
    let created = put(&app, "/api/v1/enrolments/ref:insc-1", &body)
        .await
        .assert_json(201);
    let again = put(&app, "/api/v1/enrolments/ref:insc-1", &body)
        .await
        .assert_json(200);
    assert_eq!(
        again["id"], created["id"],
        "a retry finds it, no second enrolment"
    );
    let other_chef = app.chef(&world.commune, "other@ablis.fr", &[PVD]).await;
    let problem = put(
        &app,
        "/api/v1/enrolments/ref:insc-1",
        &json!({"session_id": session["id"], "chef_de_projet_id": other_chef["id"]}),
    )
    .await
    .assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["code"], "immutable");
    let cancelled = app
        .post_json(
            "/api/v1/enrolments/ref:insc-1/cancel",
            &json!({"reason": "Doublon"}),
        )
        .await
        .assert_json(200);
    assert_eq!(
        (cancelled["id"].clone(), cancelled["status"].clone()),
        (created["id"].clone(), json!("cancelled"))
    );
    let history = app
        .get("/api/v1/enrolments/ref:insc-1/history")
        .await
        .assert_json(200);
    assert_eq!(history["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_batch_keeps_the_valid_items_and_reports_the_others() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let session = app.session(&world.training, 1, false).await;
    let second = app.chef(&world.commune, "second@ablis.fr", &[PVD]).await;
    let batch = json!({"items": [
        {"ref": "insc-1", "session_id": session["id"], "chef_de_projet_id": world.chef["id"]},
        {"ref": "insc-2", "chef_de_projet_id": second["id"]},
        {"ref": "insc-3", "session_id": session["id"], "chef_de_projet_id": "0193a1f2-7c4e-7b3a-9f10-2b6f1c9d4e01"},
        {"session_id": session["id"], "chef_de_projet_id": second["id"]},
        {"ref": "insc-5", "session_id": session["id"], "chef_de_projet_id": second["id"], "colour": "blue"},
        {"ref": "insc-6", "session_id": session["id"], "chef_de_projet_id": second["id"]}
    ]});
    let result = app
        .post_json("/api/v1/enrolments/batch", &batch)
        .await
        .assert_json(200);
    assert_eq!(
        (result["created"].as_i64(), result["failed"].as_i64()),
        (Some(2), Some(4))
    );
    let statuses: Vec<i64> = result["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [201, 422, 422, 422, 400, 201]);
    let results = result["results"].as_array().unwrap();
    assert_eq!(
        results[1]["problem"]["errors"][0]["field"],
        "items[1].session_id"
    );
    assert_eq!(
        results[2]["problem"]["errors"][0]["code"],
        "unknown_chef_de_projet"
    );
    assert_eq!(results[3]["problem"]["errors"][0]["field"], "items[3].ref");
    assert_eq!(results[4]["problem"]["code"], "unknown_field");
    let waitlisted = app
        .get(&format!(
            "/api/v1/enrolments/{}",
            results[5]["id"].as_str().unwrap()
        ))
        .await
        .assert_json(200);
    assert_eq!(
        waitlisted["status"], "waitlisted",
        "capacity 1: the rules hold in batches too"
    );

    // The same batch again: nothing is created twice.
    let again = app
        .post_json("/api/v1/enrolments/batch", &batch)
        .await
        .assert_json(200);
    assert_eq!(
        (again["created"].as_i64(), again["updated"].as_i64()),
        (Some(0), Some(2))
    );
    let all = app
        .get(&format!(
            "/api/v1/enrolments?session_id={}",
            session["id"].as_str().unwrap()
        ))
        .await
        .assert_json(200);
    assert_eq!(all["data"].as_array().unwrap().len(), 2);

    app.post_json("/api/v1/enrolments/batch", &json!({"items": []}))
        .await
        .assert_problem(422, "validation_failed");
    let too_many: Vec<Value> = (0..1001).map(|i| json!({"ref": format!("r{i}")})).collect();
    app.post_json("/api/v1/enrolments/batch", &json!({"items": too_many}))
        .await
        .assert_problem(422, "validation_failed");
}

#[tokio::test]
async fn sessions_are_upserted_in_batches() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let mut items = Vec::new();
    for i in 0..30 {
        let mut item = session_body(&world.training, 10 + i, false);
        item["ref"] = json!(format!("cnfpt-{i}"));
        items.push(item);
    }
    let mut broken = session_body(&world.training, 10, false);
    broken["ref"] = json!("cnfpt-broken");
    broken["capacity"] = json!(0);
    items.push(broken);
    let result = app
        .post_json("/api/v1/sessions/batch", &json!({"items": items}))
        .await
        .assert_json(200);
    assert_eq!(
        (result["created"].as_i64(), result["failed"].as_i64()),
        (Some(30), Some(1))
    );
    assert_eq!(
        result["results"][30]["problem"]["errors"][0]["field"],
        "capacity"
    );
    let listed = app
        .get(&format!(
            "/api/v1/sessions?training_id={}&limit=500",
            world.training["id"].as_str().unwrap()
        ))
        .await
        .assert_json(200);
    assert_eq!(listed["data"].as_array().unwrap().len(), 30);
    let one = app
        .get("/api/v1/sessions/ref:cnfpt-7")
        .await
        .assert_json(200);
    assert_eq!(one["capacity"], 17);
}

#[tokio::test]
async fn every_resource_a_partner_writes_can_be_upserted_by_reference() {
    let app = TestApp::spawn().await;
    let programme = json!({"code": "villages-d-avenir", "name": "Villages d'avenir", "started_on": "2024-01-01"});
    put(&app, "/api/v1/programmes/ref:vda", &programme)
        .await
        .assert_json(201);
    let renamed = put(&app, "/api/v1/programmes/ref:vda", &json!({"code": "villages-d-avenir", "name": "Villages d’avenir", "started_on": "2024-01-01"}))
        .await
        .assert_json(200);
    assert_eq!(renamed["version"], 2);
    let training = json!({"code": "VDA-01", "title": "Lancer un projet de village", "duration_hours": 7, "modality": "remote",
                          "target_programmes": ["villages-d-avenir"], "status": "published"});
    let created = put(&app, "/api/v1/trainings/ref:cat-1", &training)
        .await
        .assert_json(201);
    let mut archived = training.clone();
    archived["status"] = json!("archived");
    let updated = put(&app, "/api/v1/trainings/ref:cat-1", &archived)
        .await
        .assert_json(200);
    assert_eq!(
        (updated["id"].clone(), updated["status"].clone()),
        (created["id"].clone(), json!("archived"))
    );
    let commune = json!({"kind": "commune", "name": "Ahun", "insee_code": "23001", "cog_year": 2021,
                         "programmes": [{"programme": "villages-d-avenir"}]});
    let territory = put(&app, "/api/v1/collectivites/ref:23001", &commune)
        .await
        .assert_json(201);
    let chef = json!({"first_name": "Inès", "last_name": "Benali", "email": "ines@ahun.fr",
                      "collectivite_id": territory["id"], "programmes": ["villages-d-avenir"]});
    put(&app, "/api/v1/chefs_de_projet/ref:rh-77", &chef)
        .await
        .assert_json(201);
    let read = app
        .get("/api/v1/chefs_de_projet/ref:rh-77")
        .await
        .assert_json(200);
    assert_eq!(read["email"], "ines@ahun.fr");
    // A restricted partner cannot create a programme, even by reference.
    let restricted = app
        .token_for(&[Scope::ProgrammesWrite], &["villages-d-avenir"])
        .await;
    let reply = app
        .send(
            app.with_token(Method::PUT, "/api/v1/programmes/ref:new", &restricted)
                .json(&json!({"code": "new-one", "name": "x", "started_on": "2024-01-01"})),
        )
        .await;
    reply.assert_problem(403, "restricted_client");
}

/// The batch reads and writes set by set (`references::enrolment_batch`), yet answers each item
/// exactly what `PUT /enrolments/ref:<ref>` answers: every rule, a reference repeated in the
/// batch, the seats earlier items take, the waitlist in item order.
#[tokio::test]
async fn a_batch_answers_each_item_as_a_single_upsert_would() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let open = app.session(&world.training, 2, false).await;
    let approval = app.session(&world.training, 5, true).await;
    let cancelled = app.session(&world.training, 5, false).await;
    app.post_json(
        &format!(
            "/api/v1/sessions/{}/cancel",
            cancelled["id"].as_str().unwrap()
        ),
        &json!({"reason": "Salle indisponible"}),
    )
    .await
    .assert_json(200);
    let c1 = &world.chef;
    let c2 = app.chef(&world.commune, "c2@ablis.fr", &[PVD]).await;
    let c3 = app.chef(&world.commune, "c3@ablis.fr", &[PVD]).await;
    let c4 = app.chef(&world.commune, "c4@ablis.fr", &[PVD]).await;
    let left = app.chef(&world.commune, "left@ablis.fr", &[PVD]).await;
    app.patch_json(
        &format!("/api/v1/chefs_de_projet/{}", left["id"].as_str().unwrap()),
        &json!({"status": "left"}),
    )
    .await
    .assert_json(200);
    let acv_commune = app.commune("Rambouillet", "78517", ACV).await;
    let acv_only = app.chef(&acv_commune, "acv@rambouillet.fr", &[ACV]).await;
    let item = |reference: &str, session: &Value, chef: &Value| json!({"ref": reference, "session_id": session["id"], "chef_de_projet_id": chef["id"]});
    let unknown = json!({"id": "0193a1f2-7c4e-7b3a-9f10-2b6f1c9d4e01"});
    let items = vec![
        item("r1", &open, c1),        // 201 confirmed
        item("r1", &open, c1),        // 200: the same reference, the same parties
        item("r1", &open, &c2),       // 422 immutable
        item("r2", &open, c1),        // 409 already_enrolled
        item("r3", &open, &c2),       // 201 confirmed: the last seat
        item("r4", &open, &c3),       // 201 waitlisted, first in line
        item("r5", &open, &c4),       // 201 waitlisted, second in line
        item("r6", &cancelled, c1),   // session_not_scheduled
        item("r7", &approval, c1),    // 201 pending_approval
        item("r8", &open, &left),     // chef_not_active
        item("r9", &open, &acv_only), // programme_not_targeted
        item("r10", &unknown, c1),    // unknown_session
        item("r11", &open, &unknown), // unknown_chef_de_projet
    ];
    let result = app
        .post_json("/api/v1/enrolments/batch", &json!({ "items": items }))
        .await
        .assert_json(200);
    let results = result["results"].as_array().unwrap();
    let outcome = |r: &Value| {
        let code = if r["problem"].is_null() {
            Value::Null
        } else {
            match r["problem"]["errors"].as_array().and_then(|e| e.first()) {
                Some(first) => first["code"].clone(),
                None => r["problem"]["code"].clone(),
            }
        };
        (r["status"].as_i64().unwrap(), code)
    };
    let expected = [
        (201, Value::Null),
        (200, Value::Null),
        (422, json!("immutable")),
        (409, json!("already_enrolled")),
        (201, Value::Null),
        (201, Value::Null),
        (201, Value::Null),
        (422, json!("session_not_scheduled")),
        (201, Value::Null),
        (422, json!("chef_not_active")),
        (422, json!("programme_not_targeted")),
        (422, json!("unknown_session")),
        (422, json!("unknown_chef_de_projet")),
    ];
    let got: Vec<_> = results.iter().map(outcome).collect();
    assert_eq!(got, expected.to_vec());
    assert_eq!(results[0]["id"], results[1]["id"]);
    assert_eq!(
        (
            result["created"].as_i64(),
            result["updated"].as_i64(),
            result["failed"].as_i64()
        ),
        (Some(5), Some(1), Some(7))
    );
    let status_of = |i: usize| {
        let id = results[i]["id"].as_str().unwrap().to_string();
        let app = &app;
        async move {
            app.get(&format!("/api/v1/enrolments/{id}"))
                .await
                .assert_json(200)
        }
    };
    assert_eq!(status_of(0).await["status"], "confirmed");
    assert_eq!(status_of(4).await["status"], "confirmed");
    let (first, second) = (status_of(5).await, status_of(6).await);
    assert_eq!(
        (first["status"].clone(), first["waitlist_position"].clone()),
        (json!("waitlisted"), json!(1))
    );
    assert_eq!(second["waitlist_position"], 2);
    assert_eq!(status_of(8).await["status"], "pending_approval");
    let history = app
        .get(&format!(
            "/api/v1/enrolments/{}/history",
            results[5]["id"].as_str().unwrap()
        ))
        .await
        .assert_json(200);
    assert_eq!(history["data"][0]["to_status"], "waitlisted");

    // Each failed item, sent alone as a single upsert under a fresh reference, gets the same
    // answer (r1 with other parties is only a failure because r1 exists: sent to r1 itself).
    for (i, body) in items.iter().enumerate() {
        if results[i]["problem"].is_null() {
            continue;
        }
        let reference = if i == 2 {
            "r1".to_string()
        } else {
            format!("single-{i}")
        };
        let mut body = body.clone();
        body.as_object_mut().unwrap().remove("ref");
        let reply = app
            .send(
                app.request(Method::PUT, &format!("/api/v1/enrolments/ref:{reference}"))
                    .json(&body),
            )
            .await;
        let problem = reply.json();
        let code = match problem["errors"].as_array().and_then(|e| e.first()) {
            Some(first) => first["code"].clone(),
            None => problem["code"].clone(),
        };
        assert_eq!(
            (reply.status.as_u16() as i64, code),
            expected[i],
            "item {i}"
        );
    }
    let seats = app
        .get(&format!(
            "/api/v1/sessions/{}",
            open["id"].as_str().unwrap()
        ))
        .await
        .assert_json(200);
    assert_eq!(
        (
            seats["seats_confirmed"].as_i64(),
            seats["seats_waitlisted"].as_i64()
        ),
        (Some(2), Some(2))
    );
}

/// Batches and single enrolments racing on one session: the sessions are locked in id order by
/// every batch, so no deadlock, and the capacity holds: exactly `capacity` confirmed.
#[tokio::test]
async fn concurrent_batches_and_single_enrolments_never_overbook() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let session = app.session(&world.training, 30, false).await;
    let other = app.session(&world.training, 30, false).await;
    let mut chefs = Vec::new();
    for i in 0..120 {
        chefs.push(
            app.chef(&world.commune, &format!("race{i}@ablis.fr"), &[PVD])
                .await,
        );
    }
    // Four batches of 25, each touching both sessions (in opposite orders), and 20 singles.
    let batches = chefs[..100].chunks(25).enumerate().map(|(b, group)| {
        let items: Vec<Value> = group
            .iter()
            .flat_map(|chef| {
                let (first, second) = if b % 2 == 0 { (&session, &other) } else { (&other, &session) };
                [first, second].map(|s| {
                    json!({"ref": format!("race-{}-{}", s["id"].as_str().unwrap(), chef["id"].as_str().unwrap()),
                           "session_id": s["id"], "chef_de_projet_id": chef["id"]})
                })
            })
            .collect();
        let app = &app;
        async move {
            app.post_json("/api/v1/enrolments/batch", &json!({ "items": items }))
                .await
                .assert_json(200)
        }
    });
    let singles = chefs[100..].iter().map(|chef| {
        let app = &app;
        let session = &session;
        async move { app.enrol(session, chef).await }
    });
    let (batches, singles) = tokio::join!(
        futures_util::future::join_all(batches),
        futures_util::future::join_all(singles)
    );
    assert_eq!(singles.len(), 20);
    for batch in &batches {
        assert_eq!(
            (batch["created"].as_i64(), batch["failed"].as_i64()),
            (Some(50), Some(0))
        );
    }
    for s in [&session, &other] {
        let seats = app
            .get(&format!("/api/v1/sessions/{}", s["id"].as_str().unwrap()))
            .await
            .assert_json(200);
        let expected_waitlisted = if s == &session { 90 } else { 70 };
        assert_eq!(
            (
                seats["seats_confirmed"].as_i64(),
                seats["seats_waitlisted"].as_i64()
            ),
            (Some(30), Some(expected_waitlisted))
        );
    }
}
