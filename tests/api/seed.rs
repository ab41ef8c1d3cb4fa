//! `anct-formations seed`: what `scripts/run` loads on first start.

use std::path::Path;

use crate::support::TestApp;

#[tokio::test]
async fn seeding_gives_a_living_api_and_a_second_run_changes_nothing() {
    let app = TestApp::spawn().await;
    let mut conn = app.db().await;
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let first = anct_formations::seed::seed(&mut conn, &data, true)
        .await
        .unwrap();
    assert!(
        first.iter().any(|l| l.contains("1606 created")),
        "{first:?}"
    );
    assert!(first.iter().any(|l| l.contains("demo set")), "{first:?}");
    let programmes = app.get("/api/v1/programmes").await.assert_json(200);
    assert_eq!(programmes["data"].as_array().unwrap().len(), 4);
    let acv = app
        .get("/api/v1/collectivites?programme=action-coeur-de-ville&limit=500")
        .await
        .assert_json(200);
    assert_eq!(acv["data"].as_array().unwrap().len(), 244);
    let waitlisted = app
        .get("/api/v1/enrolments?status=waitlisted")
        .await
        .assert_json(200);
    assert_eq!(waitlisted["data"].as_array().unwrap().len(), 1);
    assert_eq!(waitlisted["data"][0]["waitlist_position"], 1);

    let second = anct_formations::seed::seed(&mut conn, &data, true)
        .await
        .unwrap();
    assert!(
        second.iter().all(|l| !l.starts_with("created")),
        "{second:?}"
    );
    assert!(
        second
            .iter()
            .any(|l| l.contains("0 created, 0 updated, 1606 unchanged")),
        "{second:?}"
    );
    let enrolments = app.get("/api/v1/enrolments").await.assert_json(200);
    assert_eq!(enrolments["data"].as_array().unwrap().len(), 6);
}
