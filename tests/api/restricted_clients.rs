//! Partners restricted to programmes see and change only what belongs to them: by id, by list
//! and by search; what they do not see answers as if it did not exist.

use reqwest::Method;
use serde_json::{json, Value};

use anct_formations::auth::Scope;

use crate::support::fixtures::{ACV, PVD};
use crate::support::TestApp;

/// Every scope a partner might hold, short of admin.
fn partner_scopes() -> Vec<Scope> {
    Scope::ALL
        .into_iter()
        .filter(|s| *s != Scope::Admin)
        .collect()
}

struct Side {
    programme: Value,
    commune: Value,
    chef: Value,
    training: Value,
    session: Value,
    enrolment: Value,
    token: String,
}

async fn side(app: &TestApp, code: &str, insee: &str, name: &str, chef_name: &str) -> Side {
    let programme = app.programme(code).await;
    let commune = app.commune(name, insee, code).await;
    let chef = app
        .post_json(
            "/api/v1/chefs_de_projet",
            &json!({"first_name": chef_name, "last_name": "Durand", "email": format!("{chef_name}@{insee}.fr"),
                    "collectivite_id": commune["id"], "programmes": [code]}),
        )
        .await
        .assert_json(201);
    let training = app
        .training(&format!("{code}-T"), &[code], "published")
        .await;
    let session = app.session(&training, 10, false).await;
    let enrolment = app.enrol(&session, &chef).await;
    let token = app.token_for(&partner_scopes(), &[code]).await;
    Side {
        programme,
        commune,
        chef,
        training,
        session,
        enrolment,
        token,
    }
}

fn ids(body: &Value) -> Vec<Value> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].clone())
        .collect()
}

#[tokio::test]
async fn two_partners_cannot_see_or_change_each_others_data() {
    let app = TestApp::spawn().await;
    let pvd = side(&app, PVD, "78003", "Ablis", "Amandine").await;
    let acv = side(&app, ACV, "2A004", "Ajaccio", "Bastien").await;
    let open = app.training("OPEN-T", &[], "published").await;
    let open_session = app.session(&open, 10, false).await;

    for (me, other) in [(&pvd, &acv), (&acv, &pvd)] {
        let get = |path: String| {
            let app = &app;
            let token = me.token.clone();
            async move { app.send(app.with_token(Method::GET, &path, &token)).await }
        };
        // Lists: only mine, and searches do not find the other's data.
        let listed = get("/api/v1/programmes".into()).await.assert_json(200);
        assert_eq!(ids(&listed), [me.programme["id"].clone()]);
        let listed = get("/api/v1/collectivites".into()).await.assert_json(200);
        assert_eq!(ids(&listed), [me.commune["id"].clone()]);
        let other_name = other.commune["name"].as_str().unwrap().to_lowercase();
        let searched = get(format!("/api/v1/collectivites?q={other_name}"))
            .await
            .assert_json(200);
        assert_eq!(ids(&searched), Vec::<Value>::new());
        let listed = get("/api/v1/chefs_de_projet".into()).await.assert_json(200);
        assert_eq!(ids(&listed), [me.chef["id"].clone()]);
        let other_chef = other.chef["first_name"].as_str().unwrap();
        let searched = get(format!("/api/v1/chefs_de_projet?q={other_chef}"))
            .await
            .assert_json(200);
        assert_eq!(ids(&searched), Vec::<Value>::new());
        let listed = get("/api/v1/trainings".into()).await.assert_json(200);
        assert_eq!(
            ids(&listed),
            [me.training["id"].clone(), open["id"].clone()],
            "mine and open to all"
        );
        let listed = get("/api/v1/sessions".into()).await.assert_json(200);
        assert_eq!(
            ids(&listed),
            [me.session["id"].clone(), open_session["id"].clone()]
        );
        let listed = get("/api/v1/enrolments".into()).await.assert_json(200);
        assert_eq!(ids(&listed), [me.enrolment["id"].clone()]);
        let filtered = get(format!(
            "/api/v1/collectivites?programme={}",
            other.programme["code"].as_str().unwrap()
        ))
        .await
        .assert_json(200);
        assert_eq!(ids(&filtered), Vec::<Value>::new());

        // Reads by id: 404, as if it did not exist.
        let id = |v: &Value| v["id"].as_str().unwrap().to_string();
        for path in [
            format!("/api/v1/programmes/{}", id(&other.programme)),
            format!("/api/v1/collectivites/{}", id(&other.commune)),
            format!("/api/v1/chefs_de_projet/{}", id(&other.chef)),
            format!("/api/v1/trainings/{}", id(&other.training)),
            format!("/api/v1/sessions/{}", id(&other.session)),
            format!("/api/v1/enrolments/{}", id(&other.enrolment)),
            format!("/api/v1/enrolments/{}/history", id(&other.enrolment)),
        ] {
            get(path).await.assert_problem(404, "not_found");
        }
        // Mine, by id: fine.
        get(format!("/api/v1/enrolments/{}", id(&me.enrolment)))
            .await
            .assert_json(200);

        // Writes on the other's data: 404; references to it in a body: unknown.
        let send = |method: Method, path: String, body: Value| {
            let app = &app;
            let token = me.token.clone();
            async move {
                app.send(app.with_token(method, &path, &token).json(&body))
                    .await
            }
        };
        send(
            Method::PATCH,
            format!("/api/v1/collectivites/{}", id(&other.commune)),
            json!({"population": 1}),
        )
        .await
        .assert_problem(404, "not_found");
        send(
            Method::PATCH,
            format!("/api/v1/chefs_de_projet/{}", id(&other.chef)),
            json!({"phone": "0102030405"}),
        )
        .await
        .assert_problem(404, "not_found");
        send(
            Method::DELETE,
            format!("/api/v1/trainings/{}", id(&other.training)),
            json!({}),
        )
        .await
        .assert_problem(404, "not_found");
        send(
            Method::POST,
            format!("/api/v1/sessions/{}/cancel", id(&other.session)),
            json!({}),
        )
        .await
        .assert_problem(404, "not_found");
        send(
            Method::POST,
            format!("/api/v1/enrolments/{}/cancel", id(&other.enrolment)),
            json!({"reason": "x"}),
        )
        .await
        .assert_problem(404, "not_found");
        send(
            Method::POST,
            format!("/api/v1/chefs_de_projet/{}/erasure", id(&other.chef)),
            json!({}),
        )
        .await
        .assert_problem(404, "not_found");
        send(
            Method::POST,
            "/api/v1/programmes".into(),
            json!({"code": "mine-too", "name": "x", "started_on": "2024-01-01"}),
        )
        .await
        .assert_problem(403, "restricted_client");

        let field_error = |reply: crate::support::Reply| {
            reply.assert_problem(422, "validation_failed")["errors"][0].clone()
        };
        let mine_code = me.programme["code"].as_str().unwrap();
        let other_code = other.programme["code"].as_str().unwrap();
        let chef_body = |employer: &Value, programme: &str| {
            json!({"first_name": "X", "last_name": "Y",
            "email": format!("x{}@y.fr", uuid::Uuid::new_v4().simple()), "collectivite_id": employer["id"], "programmes": [programme]})
        };
        let error = field_error(
            send(
                Method::POST,
                "/api/v1/chefs_de_projet".into(),
                chef_body(&other.commune, mine_code),
            )
            .await,
        );
        assert_eq!(
            (error["field"].as_str(), error["code"].as_str()),
            (Some("collectivite_id"), Some("unknown_collectivite"))
        );
        let error = field_error(
            send(
                Method::POST,
                "/api/v1/chefs_de_projet".into(),
                chef_body(&me.commune, other_code),
            )
            .await,
        );
        assert_eq!(
            (error["field"].as_str(), error["code"].as_str()),
            (Some("programmes[0]"), Some("unknown_programme"))
        );
        let error = field_error(
            send(
                Method::POST,
                "/api/v1/enrolments".into(),
                json!({"session_id": me.session["id"], "chef_de_projet_id": other.chef["id"]}),
            )
            .await,
        );
        assert_eq!(error["code"], "unknown_chef_de_projet");
        let error = field_error(
            send(
                Method::POST,
                "/api/v1/enrolments".into(),
                json!({"session_id": other.session["id"], "chef_de_projet_id": me.chef["id"]}),
            )
            .await,
        );
        assert_eq!(error["code"], "unknown_session");
        let error = field_error(send(Method::POST, "/api/v1/trainings".into(), json!({"code": format!("{mine_code}-NEW"), "title": "x", "duration_hours": 2, "modality": "remote"})).await);
        assert_eq!(
            (error["field"].as_str(), error["code"].as_str()),
            (Some("target_programmes"), Some("outside_your_programmes"))
        );
    }
    // Nothing of the other side changed.
    let commune = app
        .get(&format!(
            "/api/v1/collectivites/{}",
            acv.commune["id"].as_str().unwrap()
        ))
        .await
        .assert_json(200);
    assert_eq!(commune["version"], 1);
    let enrolment = app
        .get(&format!(
            "/api/v1/enrolments/{}",
            acv.enrolment["id"].as_str().unwrap()
        ))
        .await
        .assert_json(200);
    assert_eq!(enrolment["status"], "confirmed");
}

#[tokio::test]
async fn a_partner_editing_a_shared_territory_keeps_the_memberships_it_does_not_see() {
    let app = TestApp::spawn().await;
    app.programme(PVD).await;
    app.programme(ACV).await;
    let shared = app
        .post_json(
            "/api/v1/collectivites",
            &json!({"kind": "commune", "name": "Agen", "insee_code": "47001", "cog_year": 2025,
            "programmes": [{"programme": PVD}, {"programme": ACV, "joined_on": "2018-03-27"}]}),
        )
        .await
        .assert_json(201);
    let token = app.token_for(&partner_scopes(), &[PVD]).await;
    let path = format!("/api/v1/collectivites/{}", shared["id"].as_str().unwrap());
    let seen = app
        .send(app.with_token(Method::GET, &path, &token))
        .await
        .assert_json(200);
    assert_eq!(
        seen["programmes"],
        json!([{"programme": PVD, "joined_on": null}]),
        "only its programme"
    );
    let updated = app
        .send(
            app.with_token(Method::PATCH, &path, &token)
                .json(&json!({"programmes": [{"programme": PVD, "joined_on": "2021-01-22"}]})),
        )
        .await
        .assert_json(200);
    assert_eq!(
        updated["programmes"],
        json!([{"programme": PVD, "joined_on": "2021-01-22"}])
    );
    let reply = app
        .send(
            app.with_token(Method::PATCH, &path, &token)
                .json(&json!({"programmes": []})),
        )
        .await;
    assert_eq!(
        reply.assert_problem(422, "validation_failed")["errors"][0]["code"],
        "outside_your_programmes"
    );
    let full = app.get(&path).await.assert_json(200);
    assert_eq!(
        full["programmes"],
        json!([{"programme": ACV, "joined_on": "2018-03-27"}, {"programme": PVD, "joined_on": "2021-01-22"}]),
        "the ACV membership the partner does not see is kept"
    );
}
