//! The reference client (`examples/feed_mirror.rs`): killed mid-sync, restarted from its saved
//! cursor, it converges to exactly the server's data.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use anct_formations::auth::Scope;

use crate::support::fixtures::{World, PVD};
use crate::support::TestApp;

fn mirror_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let target = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let binary = target.join("examples").join("feed_mirror");
    assert!(
        binary.exists(),
        "{} is missing: `cargo test` builds the examples (or `cargo build --examples`)",
        binary.display()
    );
    binary
}

/// Every resource the API lists, as `type → id → (version, representation)`.
async fn server_state(app: &TestApp) -> Vec<(String, String, i64, Value)> {
    let mut all = Vec::new();
    for (kind, path) in [
        ("programme", "programmes"),
        ("collectivite", "collectivites"),
        ("chef_de_projet", "chefs_de_projet"),
        ("training", "trainings"),
        ("session", "sessions"),
        ("enrolment", "enrolments"),
    ] {
        let mut url = format!("/api/v1/{path}?limit=500");
        loop {
            let page = app.get(&url).await.assert_json(200);
            for item in page["data"].as_array().unwrap() {
                all.push((
                    kind.to_string(),
                    item["id"].as_str().unwrap().to_string(),
                    item["version"].as_i64().unwrap(),
                    item.clone(),
                ));
            }
            match page["next_cursor"].as_str() {
                Some(cursor) => url = format!("/api/v1/{path}?limit=500&cursor={cursor}"),
                None => break,
            }
        }
    }
    all.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    all
}

fn store_state(path: &std::path::Path) -> Vec<(String, String, i64, Value)> {
    let store: Value =
        serde_json::from_slice(&std::fs::read(path).expect("the store")).expect("store JSON");
    let mut all = Vec::new();
    for (kind, resources) in store["resources"].as_object().unwrap() {
        for (id, stored) in resources.as_object().unwrap() {
            all.push((
                kind.clone(),
                id.clone(),
                stored["version"].as_i64().unwrap(),
                stored["data"].clone(),
            ));
        }
    }
    all.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    all
}

#[tokio::test]
async fn the_reference_client_converges_after_being_killed_mid_sync() {
    let binary = mirror_binary();
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    for i in 0..40 {
        app.session(&world.training, 5 + i, false).await;
    }
    let reader: Vec<Scope> = vec![
        Scope::ChangesRead,
        Scope::ProgrammesRead,
        Scope::CollectivitesRead,
        Scope::PeopleRead,
        Scope::TrainingsRead,
        Scope::EnrolmentsRead,
    ];
    let credentials = app.client(&reader, &[]).await;
    let store = std::env::temp_dir().join(format!("anct-mirror-{}.json", uuid::Uuid::new_v4()));
    let args = |extra: &[&str]| {
        let mut args = vec![
            "--base-url".to_string(),
            app.base.clone(),
            "--client-id".into(),
            credentials.client_id.clone(),
            "--client-secret".into(),
            credentials.client_secret.clone(),
            "--store".into(),
            store.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };

    // Slowly, three changes a page: it is killed long before it is done.
    let mut child = Command::new(&binary)
        .args(args(&["--limit", "3", "--pause-ms", "60", "--wait", "1"]))
        .stdout(Stdio::null())
        .spawn()
        .expect("the mirror starts");
    tokio::time::sleep(Duration::from_millis(500)).await;
    child.kill().expect("killed");
    child.wait().unwrap();
    let partial = store_state(&store);
    let total = server_state(&app).await.len();
    assert!(
        !partial.is_empty() && partial.len() < total,
        "killed mid-sync: {} of {total}",
        partial.len()
    );

    // The world moves on while it is down: an enrolment (and the session's seats), a deletion.
    let sessions = app.get("/api/v1/sessions?limit=500").await.assert_json(200);
    let first = sessions["data"][0].clone();
    app.enrol(&first, &world.chef).await;
    let last = sessions["data"].as_array().unwrap().last().unwrap().clone();
    let reply = app
        .send(app.request(
            Method::DELETE,
            &format!("/api/v1/sessions/{}", last["id"].as_str().unwrap()),
        ))
        .await;
    assert_eq!(reply.status.as_u16(), 204);
    app.patch_json(
        &format!(
            "/api/v1/chefs_de_projet/{}",
            world.chef["id"].as_str().unwrap()
        ),
        &json!({"phone": "0102030405"}),
    )
    .await
    .assert_json(200);
    let _ = PVD;

    // Restarted from its saved cursor, it catches up and stops when idle.
    let status = Command::new(&binary)
        .args(args(&["--limit", "50", "--until-idle"]))
        .stdout(Stdio::null())
        .status()
        .expect("the mirror runs");
    assert!(status.success());
    let mirrored = store_state(&store);
    let server = server_state(&app).await;
    assert_eq!(mirrored.len(), server.len());
    assert_eq!(mirrored, server, "the mirror equals the server");
    let _ = std::fs::remove_file(&store);
}
