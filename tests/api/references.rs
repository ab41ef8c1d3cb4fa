//! Partner references and batches: the shape of a sync.

use reqwest::Method;
use serde_json::{json, Value};

use anct_formations::auth::Scope;

use crate::support::fixtures::{session_body, World, PVD};
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
