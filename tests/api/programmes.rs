//! Programmes, end to end: the model every resource follows.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::TestApp;

fn pvd() -> Value {
    json!({
        "code": "petites-villes-de-demain",
        "name": "Petites villes de demain",
        "description": "Revitalisation des petites centralités",
        "started_on": "2020-10-01",
        "ended_on": "2026-12-31"
    })
}

fn programme(code: &str, name: &str) -> Value {
    json!({"code": code, "name": name, "started_on": "2021-01-01"})
}

async fn create(app: &TestApp, body: &Value) -> Value {
    app.post_json("/api/v1/programmes", body)
        .await
        .assert_json(201)
}

#[tokio::test]
async fn an_administrator_creates_a_programme_and_reads_it_back() {
    let app = TestApp::spawn().await;
    let reply = app.post_json("/api/v1/programmes", &pvd()).await;
    let created = reply.assert_json(201);
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/v1/programmes/{id}").as_str())
    );
    assert_eq!(reply.header("etag"), Some("\"1\""));
    assert_eq!(created["code"], "petites-villes-de-demain");
    assert_eq!(created["status"], "active", "status defaults to active");
    assert_eq!(created["version"], 1);
    assert_eq!(created["started_on"], "2020-10-01");
    assert_eq!(created["ended_on"], "2026-12-31");
    assert!(
        created["created_at"].as_str().unwrap().ends_with('Z'),
        "UTC timestamps"
    );
    assert_eq!(created["created_at"], created["updated_at"]);

    let read = app.get(reply.header("location").unwrap()).await;
    assert_eq!(read.assert_json(200), created);
    assert_eq!(read.header("etag"), Some("\"1\""));
}

#[tokio::test]
async fn a_code_names_one_live_programme() {
    let app = TestApp::spawn().await;
    create(&app, &pvd()).await;
    let body = app
        .post_json("/api/v1/programmes", &pvd())
        .await
        .assert_problem(409, "programme_code_taken");
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("petites-villes-de-demain"));
    let listed = app.get("/api/v1/programmes").await.assert_json(200);
    assert_eq!(
        listed["data"].as_array().unwrap().len(),
        1,
        "nothing half-written"
    );
}

#[tokio::test]
async fn concurrent_creations_with_one_code_give_one_programme() {
    let app = TestApp::spawn().await;
    let body = pvd();
    let attempts = (0..20).map(|_| app.post_json("/api/v1/programmes", &body));
    let replies = futures_util::future::join_all(attempts).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        19,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn invalid_values_are_422_naming_every_field() {
    let app = TestApp::spawn().await;
    let body = app
        .post_json(
            "/api/v1/programmes",
            &json!({"code": "Petites Villes", "name": "  ", "started_on": "2024-01-01", "ended_on": "2023-12-31"}),
        )
        .await
        .assert_problem(422, "validation_failed");
    let fields: Vec<(&str, &str)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [
            ("code", "invalid_format"),
            ("name", "required"),
            ("ended_on", "before_start")
        ]
    );

    let cases = [
        (
            json!({"name": "x", "started_on": "2024-01-01"}),
            "code",
            "required",
        ),
        (
            json!({"code": "pvd", "name": 12, "started_on": "2024-01-01"}),
            "name",
            "invalid_type",
        ),
        (
            json!({"code": "pvd", "name": "x", "started_on": "2024-02-30"}),
            "started_on",
            "invalid_value",
        ),
        (
            json!({"code": "pvd", "name": "x", "started_on": "2024-01-01", "status": "paused"}),
            "status",
            "invalid_value",
        ),
        (
            json!({"code": "pvd", "name": "x".repeat(201), "started_on": "2024-01-01"}),
            "name",
            "too_long",
        ),
        (
            json!({"code": "p", "name": "x", "started_on": "2024-01-01"}),
            "code",
            "invalid_length",
        ),
    ];
    for (input, field, code) in cases {
        let body = app
            .post_json("/api/v1/programmes", &input)
            .await
            .assert_problem(422, "validation_failed");
        assert_eq!(body["errors"][0]["field"], field, "{input} → {body}");
        assert_eq!(body["errors"][0]["code"], code, "{input} → {body}");
    }
    let listed = app.get("/api/v1/programmes").await.assert_json(200);
    assert_eq!(listed["data"], json!([]), "nothing was written");
}

#[tokio::test]
async fn a_partner_pages_through_every_programme_once() {
    let app = TestApp::spawn().await;
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(
            create(
                &app,
                &programme(&format!("programme-{i}"), &format!("Programme {i}")),
            )
            .await["id"]
                .clone(),
        );
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/programmes?limit=3".to_string();
    let mut pages = 0;
    loop {
        let reply = app.get(&path).await;
        let page = reply.assert_json(200);
        pages += 1;
        seen.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].clone()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                let link = reply
                    .header("link")
                    .expect("a Link header while pages follow");
                assert!(link.ends_with("; rel=\"next\""), "{link}");
                assert!(link.contains("limit=3") && link.contains(cursor), "{link}");
                path = link[1..link.find('>').unwrap()].to_string();
            }
            None => {
                assert!(reply.header("link").is_none(), "no Link on the last page");
                break;
            }
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created, "creation order, each once");
    let page = app.get("/api/v1/programmes").await.assert_json(200);
    assert_eq!(
        page["data"].as_array().unwrap().len(),
        7,
        "default limit is 50"
    );
}

#[tokio::test]
async fn lists_filter_by_status_search_and_update_time() {
    let app = TestApp::spawn().await;
    create(
        &app,
        &programme("action-coeur-de-ville", "Action cœur de ville"),
    )
    .await;
    let chateau = create(&app, &programme("chateaux", "Châteaux de l'Île-de-France")).await;
    let pvd = create(&app, &pvd()).await;
    let closed = app
        .patch_json(
            &format!("/api/v1/programmes/{}", pvd["id"].as_str().unwrap()),
            &json!({"status": "closed"}),
        )
        .await
        .assert_json(200);

    let codes = |body: Value| -> Vec<String> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["code"].as_str().unwrap().to_string())
            .collect()
    };
    let app = &app;
    let search = |q: &str| {
        let path = format!("/api/v1/programmes?q={q}");
        async move { app.get(&path).await }
    };
    assert_eq!(
        codes(search("coeur").await.assert_json(200)),
        ["action-coeur-de-ville"]
    );
    assert_eq!(
        codes(search("CHATEAU").await.assert_json(200)),
        ["chateaux"]
    );
    assert_eq!(
        codes(search("%C3%AEle").await.assert_json(200)),
        ["chateaux"],
        "îl finds Île"
    );
    assert_eq!(
        codes(search("villes-de").await.assert_json(200)),
        ["petites-villes-de-demain"],
        "code too"
    );
    assert_eq!(
        codes(search("%25").await.assert_json(200)),
        Vec::<String>::new(),
        "% is literal"
    );

    let active = app
        .get("/api/v1/programmes?status=active")
        .await
        .assert_json(200);
    assert_eq!(codes(active), ["action-coeur-de-ville", "chateaux"]);
    let closed_list = app
        .get("/api/v1/programmes?status=closed")
        .await
        .assert_json(200);
    assert_eq!(codes(closed_list), ["petites-villes-de-demain"]);

    let after = chateau["updated_at"].as_str().unwrap();
    let recent = app
        .get(&format!(
            "/api/v1/programmes?updated_after={}",
            after.replace('+', "%2B")
        ))
        .await
        .assert_json(200);
    assert_eq!(codes(recent), ["petites-villes-de-demain"]);
    assert_eq!(closed["version"], 2);
}

#[tokio::test]
async fn unreadable_list_parameters_are_400_naming_the_parameter() {
    let app = TestApp::spawn().await;
    for (query, parameter) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("limit=-1", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("status=paused", "status"),
        ("updated_after=yesterday", "updated_after"),
        ("stauts=active", "stauts"),
    ] {
        let body = app
            .get(&format!("/api/v1/programmes?{query}"))
            .await
            .assert_problem(400, "invalid_query_parameter");
        assert_eq!(body["errors"][0]["field"], parameter, "{query} → {body}");
    }
}

#[tokio::test]
async fn a_conditional_read_answers_304_while_the_copy_is_current() {
    let app = TestApp::spawn().await;
    let created = create(&app, &pvd()).await;
    let path = format!("/api/v1/programmes/{}", created["id"].as_str().unwrap());
    for held in ["\"1\"", "W/\"1\"", "\"7\", \"1\"", "*"] {
        let reply = app
            .send(
                app.request(Method::GET, &path)
                    .header("if-none-match", held),
            )
            .await;
        assert_eq!(reply.status.as_u16(), 304, "{held}");
        assert_eq!(reply.text, "");
        assert_eq!(reply.header("etag"), Some("\"1\""));
    }
    let reply = app
        .send(
            app.request(Method::GET, &path)
                .header("if-none-match", "\"0\""),
        )
        .await;
    assert_eq!(reply.assert_json(200), created);
}

#[tokio::test]
async fn a_merge_patch_changes_only_what_it_names() {
    let app = TestApp::spawn().await;
    let created = create(&app, &pvd()).await;
    let path = format!("/api/v1/programmes/{}", created["id"].as_str().unwrap());

    let reply = app
        .patch_json(&path, &json!({"name": "PVD", "description": null}))
        .await;
    let updated = reply.assert_json(200);
    assert_eq!(reply.header("etag"), Some("\"2\""));
    assert_eq!(updated["name"], "PVD");
    assert_eq!(
        updated["description"],
        Value::Null,
        "null clears an optional field"
    );
    assert_eq!(updated["ended_on"], "2026-12-31", "untouched fields stay");
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["created_at"], created["created_at"]);
    assert_ne!(updated["updated_at"], created["updated_at"]);
    assert_eq!(app.get(&path).await.assert_json(200), updated);

    // Plain application/json is accepted too, and a patch that changes nothing keeps the version.
    let same = app
        .send(
            app.request(Method::PATCH, &path)
                .json(&json!({"name": "PVD", "code": "petites-villes-de-demain"})),
        )
        .await
        .assert_json(200);
    assert_eq!(same["version"], 2);
}

#[tokio::test]
async fn a_patch_that_breaks_a_rule_changes_nothing() {
    let app = TestApp::spawn().await;
    let created = create(&app, &pvd()).await;
    let path = format!("/api/v1/programmes/{}", created["id"].as_str().unwrap());
    let cases = [
        (json!({"code": "other"}), "code", "immutable"),
        (json!({"version": 9}), "version", "read_only"),
        (json!({"id": "x"}), "id", "read_only"),
        (json!({"name": null}), "name", "required"),
        (json!({"started_on": null}), "started_on", "required"),
        (
            json!({"ended_on": "2019-01-01"}),
            "ended_on",
            "before_start",
        ),
        (json!({"status": 3}), "status", "invalid_type"),
        (json!([1, 2]), "body", "invalid_type"),
    ];
    for (patch, field, code) in cases {
        let body = app
            .patch_json(&path, &patch)
            .await
            .assert_problem(422, "validation_failed");
        assert_eq!(body["errors"][0]["field"], field, "{patch} → {body}");
        assert_eq!(body["errors"][0]["code"], code, "{patch} → {body}");
    }
    let body = app
        .patch_json(&path, &json!({"colour": "blue"}))
        .await
        .assert_problem(400, "unknown_field");
    assert_eq!(body["errors"][0]["field"], "colour");
    assert_eq!(app.get(&path).await.assert_json(200), created, "unchanged");
}

#[tokio::test]
async fn if_match_guards_against_lost_updates() {
    let app = TestApp::spawn().await;
    let created = create(&app, &pvd()).await;
    let path = format!("/api/v1/programmes/{}", created["id"].as_str().unwrap());
    let first = app
        .send(
            app.request(Method::PATCH, &path)
                .header("if-match", "\"1\"")
                .header("content-type", "application/merge-patch+json")
                .body(r#"{"name": "First writer"}"#),
        )
        .await
        .assert_json(200);
    assert_eq!(first["version"], 2);

    let stale = app
        .send(
            app.request(Method::PATCH, &path)
                .header("if-match", "\"1\"")
                .header("content-type", "application/merge-patch+json")
                .body(r#"{"name": "Second writer"}"#),
        )
        .await;
    let body = stale.assert_problem(412, "precondition_failed");
    assert_eq!(
        body["current"], first,
        "the problem carries the current state"
    );

    let stale_delete = app
        .send(
            app.request(Method::DELETE, &path)
                .header("if-match", "\"1\""),
        )
        .await;
    stale_delete.assert_problem(412, "precondition_failed");
    assert_eq!(
        app.get(&path).await.assert_json(200)["name"],
        "First writer"
    );

    let weak = app
        .send(
            app.request(Method::PATCH, &path)
                .header("if-match", "W/\"2\"")
                .json(&json!({"name": "x"})),
        )
        .await;
    weak.assert_problem(412, "precondition_failed");
    let reply = app
        .send(
            app.request(Method::DELETE, &path)
                .header("if-match", "\"2\""),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 204);
}

#[tokio::test]
async fn a_deleted_programme_is_gone_and_frees_its_code() {
    let app = TestApp::spawn().await;
    let created = create(&app, &pvd()).await;
    let path = format!("/api/v1/programmes/{}", created["id"].as_str().unwrap());
    let reply = app.send(app.request(Method::DELETE, &path)).await;
    assert_eq!(reply.status.as_u16(), 204);
    assert_eq!(reply.text, "");
    app.get(&path).await.assert_problem(404, "not_found");
    app.send(app.request(Method::DELETE, &path))
        .await
        .assert_problem(404, "not_found");
    app.patch_json(&path, &json!({"name": "x"}))
        .await
        .assert_problem(404, "not_found");
    let listed = app.get("/api/v1/programmes").await.assert_json(200);
    assert_eq!(listed["data"], json!([]));
    let again = create(&app, &pvd()).await;
    assert_ne!(again["id"], created["id"]);
    assert_eq!(again["version"], 1);
}

#[tokio::test]
async fn unknown_ids_are_404() {
    let app = TestApp::spawn().await;
    for id in [
        "0193a1f2-7c4e-7b3a-9f10-2b6f1c9d4e01",
        "not-a-uuid",
        "1%27%20OR%201=1--",
    ] {
        let path = format!("/api/v1/programmes/{id}");
        app.get(&path).await.assert_problem(404, "not_found");
        app.patch_json(&path, &json!({"name": "x"}))
            .await
            .assert_problem(404, "not_found");
        app.send(app.request(Method::DELETE, &path))
            .await
            .assert_problem(404, "not_found");
    }
}
