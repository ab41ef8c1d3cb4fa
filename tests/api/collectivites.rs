//! Territories: communes, intercommunalities … and the programmes they take part in.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::TestApp;

const PATH: &str = "/api/v1/collectivites";

async fn programme(app: &TestApp, code: &str) {
    app.post_json(
        "/api/v1/programmes",
        &json!({"code": code, "name": code, "started_on": "2020-10-01"}),
    )
    .await
    .assert_json(201);
}

fn ablis() -> Value {
    json!({
        "kind": "commune",
        "name": "Ablis",
        "insee_code": "78003",
        "cog_year": 2021,
        "epci_siren": "200073344",
        "region_code": "11",
        "population": 3439,
        "programmes": [{"programme": "petites-villes-de-demain", "joined_on": "2021-01-22"}]
    })
}

#[tokio::test]
async fn a_commune_is_created_with_its_programmes_and_derived_department() {
    let app = TestApp::spawn().await;
    programme(&app, "petites-villes-de-demain").await;
    let reply = app.post_json(PATH, &ablis()).await;
    let created = reply.assert_json(201);
    assert_eq!(reply.header("etag"), Some("\"1\""));
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        reply.header("location"),
        Some(format!("{PATH}/{id}").as_str())
    );
    assert_eq!(
        created["department_code"], "78",
        "derived from the INSEE code"
    );
    assert_eq!(created["siren"], Value::Null);
    assert_eq!(
        created["programmes"],
        json!([{"programme": "petites-villes-de-demain", "joined_on": "2021-01-22"}])
    );
    assert_eq!(
        app.get(&format!("{PATH}/{id}")).await.assert_json(200),
        created
    );
}

#[tokio::test]
async fn codes_are_checked_field_by_field() {
    let app = TestApp::spawn().await;
    programme(&app, "petites-villes-de-demain").await;
    let cases = [
        (
            json!({"insee_code": "999999"}),
            "insee_code",
            "invalid_insee_code",
        ),
        (
            json!({"insee_code": "20004"}),
            "insee_code",
            "invalid_insee_code",
        ),
        (json!({"cog_year": null}), "cog_year", "required"),
        (
            json!({"epci_siren": "200073345"}),
            "epci_siren",
            "invalid_siren_checksum",
        ),
        (json!({"siren": "12345"}), "siren", "invalid_siren"),
        (
            json!({"department_code": "91"}),
            "department_code",
            "inconsistent_with_insee_code",
        ),
        (
            json!({"region_code": "France"}),
            "region_code",
            "invalid_region_code",
        ),
        (json!({"population": -5}), "population", "negative"),
        (json!({"kind": "village"}), "kind", "invalid_value"),
        (
            json!({"programmes": [{"programme": "unknown"}]}),
            "programmes[0].programme",
            "unknown_programme",
        ),
        (
            json!({"programmes": [{"programme": "petites-villes-de-demain", "joined_on": "2021-13-01"}]}),
            "programmes[0].joined_on",
            "invalid_value",
        ),
        (json!({"insee_code": null}), "insee_code", "required"),
    ];
    for (change, field, code) in cases {
        let mut body = ablis();
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        let problem = app
            .post_json(PATH, &body)
            .await
            .assert_problem(422, "validation_failed");
        let fields: Vec<(&str, &str)> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
            .collect();
        assert!(fields.contains(&(field, code)), "{change} → {problem}");
    }
    // Corsica and overseas codes are communes too.
    for (insee, department) in [("2A004", "2A"), ("97411", "974")] {
        let mut body = ablis();
        body["insee_code"] = json!(insee);
        body["region_code"] = json!(null);
        let created = app.post_json(PATH, &body).await.assert_json(201);
        assert_eq!(created["department_code"], department);
    }
    assert_eq!(
        app.get(PATH).await.assert_json(200)["data"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn an_insee_code_and_a_siren_name_one_live_territory() {
    let app = TestApp::spawn().await;
    programme(&app, "petites-villes-de-demain").await;
    let first = app.post_json(PATH, &ablis()).await.assert_json(201);
    app.post_json(PATH, &ablis())
        .await
        .assert_problem(409, "collectivite_insee_code_taken");
    let epci = json!({"kind": "epci", "name": "CA Rambouillet Territoires", "siren": "200073344"});
    app.post_json(PATH, &epci).await.assert_json(201);
    app.post_json(PATH, &epci)
        .await
        .assert_problem(409, "collectivite_siren_taken");
    // The same code in another year's code list is another entry (codes change with mergers).
    let mut later = ablis();
    later["cog_year"] = json!(2024);
    app.post_json(PATH, &later).await.assert_json(201);
    // Deleting frees the code.
    let path = format!("{PATH}/{}", first["id"].as_str().unwrap());
    assert_eq!(
        app.send(app.request(Method::DELETE, &path))
            .await
            .status
            .as_u16(),
        204
    );
    app.get(&path).await.assert_problem(404, "not_found");
    app.post_json(PATH, &ablis()).await.assert_json(201);
}

#[tokio::test]
async fn memberships_change_through_a_patch_and_bump_the_version() {
    let app = TestApp::spawn().await;
    programme(&app, "petites-villes-de-demain").await;
    programme(&app, "action-coeur-de-ville").await;
    let created = app.post_json(PATH, &ablis()).await.assert_json(201);
    let path = format!("{PATH}/{}", created["id"].as_str().unwrap());
    let updated = app
        .patch_json(
            &path,
            &json!({"programmes": [
                {"programme": "action-coeur-de-ville", "joined_on": "2018-03-27"},
                {"programme": "petites-villes-de-demain", "joined_on": "2021-01-22"}
            ], "population": 3500}),
        )
        .await
        .assert_json(200);
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["population"], 3500);
    assert_eq!(updated["programmes"].as_array().unwrap().len(), 2);
    let unchanged = app
        .patch_json(&path, &json!({"population": 3500}))
        .await
        .assert_json(200);
    assert_eq!(unchanged["version"], 2, "no change, no new version");
    let left = app
        .patch_json(&path, &json!({"programmes": []}))
        .await
        .assert_json(200);
    assert_eq!(left["programmes"], json!([]));
    assert_eq!(left["version"], 3);
    app.patch_json(&path, &json!({"programmes": [{"programme": "nope"}]}))
        .await
        .assert_problem(422, "validation_failed");
    app.patch_json(&path, &json!({"created_at": "2020-01-01T00:00:00Z"}))
        .await
        .assert_problem(422, "validation_failed");
    let stale = app
        .send(
            app.request(Method::PATCH, &path)
                .header("if-match", "\"1\"")
                .json(&json!({"name": "x"})),
        )
        .await;
    assert_eq!(
        stale.assert_problem(412, "precondition_failed")["current"],
        left
    );
}

#[tokio::test]
async fn territories_filter_by_programme_region_department_kind_and_name() {
    let app = TestApp::spawn().await;
    programme(&app, "petites-villes-de-demain").await;
    programme(&app, "action-coeur-de-ville").await;
    let communes = [
        (
            "Château-Gontier-sur-Mayenne",
            "53062",
            "52",
            "petites-villes-de-demain",
        ),
        ("Châteaubriant", "44036", "52", "action-coeur-de-ville"),
        ("Ajaccio", "2A004", "94", "action-coeur-de-ville"),
        ("Saint-Pierre", "97416", "04", "petites-villes-de-demain"),
    ];
    for (name, insee, region, programme) in communes {
        app.post_json(
            PATH,
            &json!({"kind": "commune", "name": name, "insee_code": insee, "cog_year": 2025,
                    "region_code": region, "programmes": [{"programme": programme}]}),
        )
        .await
        .assert_json(201);
    }
    app.post_json(
        PATH,
        &json!({"kind": "epci", "name": "CC du Château", "siren": "200073344"}),
    )
    .await
    .assert_json(201);
    let names = |body: Value| -> Vec<String> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    };
    let list = |query: &str| {
        let path = format!("{PATH}?{query}");
        let app = &app;
        async move { names(app.get(&path).await.assert_json(200)) }
    };
    assert_eq!(
        list("q=chateau").await,
        [
            "Château-Gontier-sur-Mayenne",
            "Châteaubriant",
            "CC du Château"
        ]
    );
    assert_eq!(
        list("q=chateau&kind=commune").await,
        ["Château-Gontier-sur-Mayenne", "Châteaubriant"]
    );
    assert_eq!(
        list("programme=action-coeur-de-ville").await,
        ["Châteaubriant", "Ajaccio"]
    );
    assert_eq!(
        list("region=52&programme=petites-villes-de-demain").await,
        ["Château-Gontier-sur-Mayenne"]
    );
    assert_eq!(list("department=2a").await, ["Ajaccio"]);
    assert_eq!(list("department=974").await, ["Saint-Pierre"]);
    assert_eq!(list("insee_code=44036").await, ["Châteaubriant"]);
    assert_eq!(list("programme=unknown").await, Vec::<String>::new());
    app.get(&format!("{PATH}?kind=village"))
        .await
        .assert_problem(400, "invalid_query_parameter");
}

#[tokio::test]
async fn the_petites_villes_de_demain_file_imports_1606_communes_once() {
    use anct_formations::collectivites::import::import_communes;
    let app = TestApp::spawn().await;
    programme(&app, "petites-villes-de-demain").await;
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/petites-villes-de-demain_communes.csv"
    );
    let mut conn = app.db().await;

    let dry = import_communes(
        &mut conn,
        "petites-villes-de-demain",
        std::fs::File::open(file).unwrap(),
        2021,
        true,
    )
    .await
    .unwrap();
    assert_eq!((dry.created, dry.rejected.len()), (1606, 1));
    let page = app.get(&format!("{PATH}?limit=1")).await.assert_json(200);
    assert_eq!(page["data"], json!([]), "a dry run writes nothing");

    let first = import_communes(
        &mut conn,
        "petites-villes-de-demain",
        std::fs::File::open(file).unwrap(),
        2021,
        false,
    )
    .await
    .unwrap();
    assert_eq!((first.rows, first.created, first.updated), (1607, 1606, 0));
    assert_eq!(first.rejected.len(), 1);
    assert_eq!(first.rejected[0].line, 1515);
    assert!(
        first.rejected[0].reason.contains("999999"),
        "{:?}",
        first.rejected
    );

    let second = import_communes(
        &mut conn,
        "petites-villes-de-demain",
        std::fs::File::open(file).unwrap(),
        2021,
        false,
    )
    .await
    .unwrap();
    assert_eq!(
        (
            second.created,
            second.updated,
            second.unchanged,
            second.memberships_changed
        ),
        (0, 0, 1606, 0)
    );

    // Through the API: 1,606 communes of the programme, each at version 1.
    let mut count = 0;
    let mut path = format!("{PATH}?programme=petites-villes-de-demain&limit=500");
    loop {
        let page = app.get(&path).await.assert_json(200);
        for commune in page["data"].as_array().unwrap() {
            assert_eq!(commune["version"], 1, "{commune}");
            count += 1;
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                path =
                    format!("{PATH}?programme=petites-villes-de-demain&limit=500&cursor={cursor}")
            }
            None => break,
        }
    }
    assert_eq!(count, 1606);
    let ablis = app.get(&format!("{PATH}?q=ablis")).await.assert_json(200);
    assert_eq!(ablis["data"][0]["insee_code"], "78003");
    assert_eq!(ablis["data"][0]["epci_siren"], "200073344");
    assert_eq!(ablis["data"][0]["region_code"], "11");
    assert_eq!(ablis["data"][0]["cog_year"], 2021);
}

#[tokio::test]
async fn a_territory_that_employs_someone_cannot_be_deleted() {
    let app = TestApp::spawn().await;
    let world = crate::support::fixtures::World::new(&app).await;
    let path = format!("{PATH}/{}", world.commune["id"].as_str().unwrap());
    app.send(app.request(Method::DELETE, &path))
        .await
        .assert_problem(409, "collectivite_in_use");
    let chef = format!(
        "/api/v1/chefs_de_projet/{}",
        world.chef["id"].as_str().unwrap()
    );
    assert_eq!(
        app.send(app.request(Method::DELETE, &chef))
            .await
            .status
            .as_u16(),
        204
    );
    assert_eq!(
        app.send(app.request(Method::DELETE, &path))
            .await
            .status
            .as_u16(),
        204
    );
}
