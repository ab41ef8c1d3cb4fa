//! The training catalogue.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::fixtures::{World, ACV, PVD};
use crate::support::TestApp;

const PATH: &str = "/api/v1/trainings";

#[tokio::test]
async fn a_training_is_created_with_defaults_and_a_unique_code() {
    let app = TestApp::spawn().await;
    app.programme(PVD).await;
    let reply = app
        .post_json(
            PATH,
            &json!({"code": "PVD-REVITA-01", "title": "Revitaliser un centre-bourg",
                                  "duration_hours": 10.5, "modality": "hybrid"}),
        )
        .await;
    let training = reply.assert_json(201);
    assert_eq!(reply.header("etag"), Some("\"1\""));
    assert_eq!(training["status"], "draft");
    assert_eq!(training["provider"], "CNFPT");
    assert_eq!(training["duration_hours"], 10.5);
    assert_eq!(training["target_programmes"], json!([]), "open to all");
    app.post_json(
        PATH,
        &json!({"code": "PVD-REVITA-01", "title": "x", "duration_hours": 1, "modality": "remote"}),
    )
    .await
    .assert_problem(409, "training_code_taken");
    let path = format!("{PATH}/{}", training["id"].as_str().unwrap());
    app.patch_json(&path, &json!({"code": "OTHER"}))
        .await
        .assert_problem(422, "validation_failed");
    let published = app
        .patch_json(
            &path,
            &json!({"status": "published", "target_programmes": [PVD]}),
        )
        .await
        .assert_json(200);
    assert_eq!(published["target_programmes"], json!([PVD]));
}

#[tokio::test]
async fn invalid_trainings_are_refused_field_by_field() {
    let app = TestApp::spawn().await;
    let base = json!({"code": "T-1", "title": "x", "duration_hours": 7, "modality": "remote"});
    let cases = [
        (json!({"code": "with space"}), "code", "invalid_format"),
        (
            json!({"duration_hours": 0}),
            "duration_hours",
            "out_of_range",
        ),
        (
            json!({"duration_hours": 1001}),
            "duration_hours",
            "out_of_range",
        ),
        (
            json!({"modality": "telepathy"}),
            "modality",
            "invalid_value",
        ),
        (
            json!({"target_programmes": ["nope"]}),
            "target_programmes[0]",
            "unknown_programme",
        ),
        (json!({"title": "  "}), "title", "required"),
    ];
    for (change, field, code) in cases {
        let mut body = base.clone();
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        let problem = app
            .post_json(PATH, &body)
            .await
            .assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["field"], field, "{change} → {problem}");
        assert_eq!(problem["errors"][0]["code"], code, "{change} → {problem}");
    }
}

#[tokio::test]
async fn the_catalogue_of_a_programme_includes_trainings_open_to_all() {
    let app = TestApp::spawn().await;
    app.programme(PVD).await;
    app.programme(ACV).await;
    let pvd_only = app.training("PVD-01", &[PVD], "published").await;
    let acv_only = app.training("ACV-01", &[ACV], "published").await;
    let open = app.training("ALL-01", &[], "published").await;
    let draft = app.training("DRAFT-01", &[], "draft").await;
    let ids = |body: Value| -> Vec<Value> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].clone())
            .collect()
    };
    let pvd = ids(app
        .get(&format!("{PATH}?programme={PVD}&status=published"))
        .await
        .assert_json(200));
    assert_eq!(pvd, [pvd_only["id"].clone(), open["id"].clone()]);
    let acv = ids(app
        .get(&format!("{PATH}?programme={ACV}"))
        .await
        .assert_json(200));
    assert_eq!(
        acv,
        [
            acv_only["id"].clone(),
            open["id"].clone(),
            draft["id"].clone()
        ]
    );
    let found = ids(app.get(&format!("{PATH}?q=draft")).await.assert_json(200));
    assert_eq!(found, [draft["id"].clone()]);
}

#[tokio::test]
async fn a_training_with_sessions_is_archived_not_deleted() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    app.session(&world.training, 10, false).await;
    let path = format!("{PATH}/{}", world.training["id"].as_str().unwrap());
    app.send(app.request(Method::DELETE, &path))
        .await
        .assert_problem(409, "training_has_sessions");
    let archived = app
        .patch_json(&path, &json!({"status": "archived"}))
        .await
        .assert_json(200);
    assert_eq!(archived["status"], "archived");
    let body = crate::support::fixtures::session_body(&archived, 10, false);
    let problem = app
        .post_json("/api/v1/sessions", &body)
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["code"], "training_archived");
}
