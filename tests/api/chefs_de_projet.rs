//! Chefs de projet: personal data, unique e-mail, employer and programmes, erasure.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::fixtures::{World, ACV, PVD};
use crate::support::TestApp;

const PATH: &str = "/api/v1/chefs_de_projet";

#[tokio::test]
async fn a_chef_de_projet_is_created_read_and_updated() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let chef = &world.chef;
    assert_eq!(chef["programmes"], json!([PVD]));
    assert_eq!(chef["status"], "active");
    assert_eq!(chef["erased_at"], Value::Null);
    let path = format!("{PATH}/{}", chef["id"].as_str().unwrap());
    assert_eq!(&app.get(&path).await.assert_json(200), chef);
    let updated = app
        .patch_json(
            &path,
            &json!({"phone": "+33 1 30 88 00 00", "programmes": [PVD, ACV]}),
        )
        .await
        .assert_json(200);
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["programmes"], json!([ACV, PVD]));
    let left = app
        .patch_json(&path, &json!({"status": "left", "phone": null}))
        .await
        .assert_json(200);
    assert_eq!(
        (left["status"].as_str(), &left["phone"]),
        (Some("left"), &Value::Null)
    );
}

#[tokio::test]
async fn e_mail_addresses_are_unique_whatever_their_case() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let body = json!({"first_name": "Alex", "last_name": "Durand", "email": "CAMILLE.Martin@Mairie-Ablis.fr",
                      "collectivite_id": world.commune["id"]});
    app.post_json(PATH, &body)
        .await
        .assert_problem(409, "chef_email_taken");
    let other = app
        .post_json(
            PATH,
            &json!({"first_name": "Alex", "last_name": "Durand", "email": "alex@mairie-ablis.fr",
                                 "collectivite_id": world.commune["id"]}),
        )
        .await
        .assert_json(201);
    let path = format!("{PATH}/{}", other["id"].as_str().unwrap());
    app.patch_json(&path, &json!({"email": "Camille.Martin@mairie-ablis.fr"}))
        .await
        .assert_problem(409, "chef_email_taken");
}

#[tokio::test]
async fn invalid_people_are_refused_field_by_field() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let base = json!({"first_name": "Alex", "last_name": "Durand", "email": "alex@mairie.fr",
                      "collectivite_id": world.commune["id"], "programmes": [PVD]});
    let cases = [
        (json!({"email": "alex-at-mairie"}), "email", "invalid_email"),
        (json!({"first_name": ""}), "first_name", "required"),
        (json!({"phone": "call me"}), "phone", "invalid_phone"),
        (
            json!({"collectivite_id": "0193a1f2-7c4e-7b3a-9f10-2b6f1c9d4e01"}),
            "collectivite_id",
            "unknown_collectivite",
        ),
        (
            json!({"collectivite_id": "nope"}),
            "collectivite_id",
            "invalid_value",
        ),
        (
            json!({"programmes": ["unknown"]}),
            "programmes[0]",
            "unknown_programme",
        ),
        (
            json!({"programmes": [PVD, PVD]}),
            "programmes[1]",
            "duplicate",
        ),
        (json!({"status": "retired"}), "status", "invalid_value"),
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
async fn people_filter_by_programme_employer_region_status_and_name() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let other_commune = app.commune("Châteaubriant", "44036", ACV).await;
    let acv_chef = app
        .post_json(PATH, &json!({"first_name": "Hélène", "last_name": "Lefèvre", "email": "h.lefevre@chateaubriant.fr",
                                 "collectivite_id": other_commune["id"], "programmes": [ACV]}))
        .await
        .assert_json(201);
    let ids = |body: Value| -> Vec<Value> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].clone())
            .collect()
    };
    let get = |query: String| {
        let app = &app;
        async move { ids(app.get(&format!("{PATH}?{query}")).await.assert_json(200)) }
    };
    assert_eq!(
        get(format!("programme={ACV}")).await,
        [acv_chef["id"].clone()]
    );
    assert_eq!(
        get(format!(
            "collectivite_id={}",
            world.commune["id"].as_str().unwrap()
        ))
        .await,
        [world.chef["id"].clone()]
    );
    assert_eq!(get("q=helene".into()).await, [acv_chef["id"].clone()]);
    assert_eq!(get("q=LEFEVRE".into()).await, [acv_chef["id"].clone()]);
    assert_eq!(get("region=53".into()).await.len(), 2);
    assert_eq!(get("status=left".into()).await.len(), 0);
}

#[tokio::test]
async fn erasure_anonymises_the_person_keeps_statistics_and_frees_their_seat() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let session = app.session(&world.training, 1, false).await;
    let confirmed = app.enrol(&session, &world.chef).await;
    assert_eq!(confirmed["status"], "confirmed");
    let next_chef = app
        .chef(&world.commune, "next@mairie-ablis.fr", &[PVD])
        .await;
    let waiting = app.enrol(&session, &next_chef).await;
    assert_eq!(waiting["status"], "waitlisted");

    let path = format!("{PATH}/{}", world.chef["id"].as_str().unwrap());
    let erased = app
        .post_json(&format!("{path}/erasure"), &json!({}))
        .await
        .assert_json(200);
    assert_eq!(erased["first_name"], "[effacé]");
    assert_eq!(erased["last_name"], "[effacé]");
    assert!(
        !erased["email"].as_str().unwrap().contains("camille"),
        "{erased}"
    );
    assert_eq!(erased["phone"], Value::Null);
    assert_eq!(erased["status"], "left");
    assert!(erased["erased_at"].is_string());
    assert_eq!(
        erased["id"], world.chef["id"],
        "same record: statistics stay whole"
    );

    // The enrolment stays, cancelled; the freed seat went to the waitlist.
    let enrolment = app
        .get(&format!(
            "/api/v1/enrolments/{}",
            confirmed["id"].as_str().unwrap()
        ))
        .await
        .assert_json(200);
    assert_eq!(enrolment["status"], "cancelled");
    assert_eq!(enrolment["reason"], "chef_erased");
    let promoted = app
        .get(&format!(
            "/api/v1/enrolments/{}",
            waiting["id"].as_str().unwrap()
        ))
        .await
        .assert_json(200);
    assert_eq!(promoted["status"], "confirmed");

    // Nothing personal can come back, and erasing twice is harmless.
    app.patch_json(&path, &json!({"first_name": "Camille"}))
        .await
        .assert_problem(409, "chef_erased");
    let again = app
        .post_json(&format!("{path}/erasure"), &json!({}))
        .await
        .assert_json(200);
    assert_eq!(again["version"], erased["version"]);
    let found = app.get(&format!("{PATH}?q=camille")).await.assert_json(200);
    assert_eq!(
        found["data"].as_array().unwrap().len(),
        1,
        "only the other Camille"
    );
    let reply = app.send(app.request(Method::DELETE, &path)).await;
    assert_eq!(reply.status.as_u16(), 204);
}
