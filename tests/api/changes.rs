//! The change feed: complete, ordered, once, filtered by scopes and programmes, and consistent
//! with the lists' snapshot.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use anct_formations::auth::Scope;

use crate::support::fixtures::{World, ACV, PVD};
use crate::support::TestApp;

const FEED: &str = "/api/v1/changes";

/// Reads the whole feed after `after` (none: from the start); returns the changes and the cursor.
async fn drain(
    app: &TestApp,
    token: &str,
    after: Option<&str>,
    extra: &str,
) -> (Vec<Value>, String) {
    let mut all = Vec::new();
    let mut cursor = after.map(str::to_string);
    loop {
        let mut path = format!("{FEED}?limit=50{extra}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&after={c}"));
        }
        let page = app
            .send(app.with_token(Method::GET, &path, token))
            .await
            .assert_json(200);
        let data = page["data"].as_array().unwrap().clone();
        let next = page["next_cursor"].as_str().unwrap().to_string();
        let done = data.is_empty();
        all.extend(data);
        cursor = Some(next);
        if done {
            return (all, cursor.unwrap());
        }
    }
}

#[tokio::test]
async fn every_change_arrives_once_in_order_with_the_resource_as_read() {
    let app = TestApp::spawn().await;
    let created = app.programme(PVD).await;
    let path = format!("/api/v1/programmes/{}", created["id"].as_str().unwrap());
    let updated = app
        .patch_json(&path, &json!({"name": "Petites villes de demain"}))
        .await
        .assert_json(200);
    assert_eq!(
        app.send(app.request(Method::DELETE, &path))
            .await
            .status
            .as_u16(),
        204
    );

    let (changes, cursor) = drain(&app, &app.token, None, "").await;
    let summary: Vec<(&str, &str, i64)> = changes
        .iter()
        .map(|c| {
            (
                c["type"].as_str().unwrap(),
                c["action"].as_str().unwrap(),
                c["version"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("programme", "upsert", 1),
            ("programme", "upsert", 2),
            ("programme", "delete", 3)
        ]
    );
    assert_eq!(
        changes[0]["data"], created,
        "data is the resource as read at that version"
    );
    assert_eq!(changes[1]["data"], updated);
    assert_eq!(
        changes[2]["data"],
        Value::Null,
        "a tombstone carries no data"
    );
    assert!(changes.iter().all(|c| c["id"] == created["id"]));
    // Nothing new: the same cursor comes back, with a Link to follow.
    let reply = app
        .send(app.request(Method::GET, &format!("{FEED}?after={cursor}")))
        .await;
    let page = reply.assert_json(200);
    assert_eq!(page["data"], json!([]));
    assert_eq!(page["next_cursor"], cursor.as_str());
    assert!(reply.header("link").unwrap().contains(&cursor));
    // Resuming after a change's own cursor gives what follows it.
    let after_first = changes[0]["cursor"].as_str().unwrap();
    let (rest, _) = drain(&app, &app.token, Some(after_first), "").await;
    assert_eq!(rest.len(), 2);
}

#[tokio::test]
async fn a_full_pull_hands_over_to_the_feed_without_gap_or_repeat() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let session = app.session(&world.training, 5, false).await;
    let reply = app.get("/api/v1/sessions").await;
    let listed = reply.assert_json(200);
    let cursor = reply
        .header("x-feed-cursor")
        .expect("lists carry the feed cursor")
        .to_string();
    assert_eq!(listed["data"][0]["version"], session["version"]);
    // After the pull: one enrolment, which also changes the session's seat counts.
    app.enrol(&session, &world.chef).await;
    let (changes, _) = drain(&app, &app.token, Some(&cursor), "").await;
    let kinds: Vec<&str> = changes
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["enrolment", "session"],
        "only what happened after the snapshot"
    );
    assert_eq!(changes[1]["data"]["seats_confirmed"], 1);
    let (only_sessions, _) = drain(&app, &app.token, Some(&cursor), "&types=session").await;
    assert_eq!(only_sessions.len(), 1);
    app.get(&format!("{FEED}?types=sessions"))
        .await
        .assert_problem(400, "invalid_query_parameter");
    for foreign in ["abc", "-1", "1e3", "9999999999999999999"] {
        app.get(&format!("{FEED}?after={foreign}"))
            .await
            .assert_problem(400, "invalid_query_parameter");
    }
    app.get(&format!("{FEED}?limit=1001"))
        .await
        .assert_problem(400, "invalid_query_parameter");
    app.get(&format!("{FEED}?wait=31"))
        .await
        .assert_problem(400, "invalid_query_parameter");
}

#[tokio::test]
async fn scopes_and_programmes_decide_what_a_partner_receives() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let acv_training = app.training("ACV-T", &[ACV], "published").await;
    app.session(&acv_training, 5, false).await;
    let session = app.session(&world.training, 5, false).await;
    app.enrol(&session, &world.chef).await;

    let no_feed = app.token_for(&[Scope::TrainingsRead], &[]).await;
    app.send(app.with_token(Method::GET, FEED, &no_feed))
        .await
        .assert_problem(403, "insufficient_scope");

    let catalogue = app
        .token_for(&[Scope::ChangesRead, Scope::TrainingsRead], &[])
        .await;
    let (changes, _) = drain(&app, &catalogue, None, "").await;
    let kinds: HashSet<&str> = changes
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        HashSet::from(["training", "session"]),
        "no people, no enrolments without their scopes"
    );
    let reply = app
        .send(app.with_token(
            Method::GET,
            &format!("{FEED}?types=chef_de_projet"),
            &catalogue,
        ))
        .await;
    reply.assert_problem(403, "insufficient_scope");

    let everything: Vec<Scope> = Scope::ALL
        .into_iter()
        .filter(|s| *s != Scope::Admin)
        .collect();
    let pvd_partner = app.token_for(&everything, &[PVD]).await;
    let (changes, _) = drain(&app, &pvd_partner, None, "").await;
    for change in &changes {
        let data = &change["data"];
        match change["type"].as_str().unwrap() {
            "programme" => assert_eq!(data["code"], PVD),
            "training" => assert_eq!(data["code"], "PVD-01", "not the ACV training"),
            "session" => assert_eq!(data["training_id"], world.training["id"]),
            "collectivite" | "chef_de_projet" | "enrolment" => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!(changes.iter().any(|c| c["type"] == "enrolment"));
    let acv_partner = app.token_for(&everything, &[ACV]).await;
    let (changes, _) = drain(&app, &acv_partner, None, "").await;
    assert!(changes
        .iter()
        .all(|c| c["type"] != "enrolment" && c["type"] != "chef_de_projet"));
    assert!(changes
        .iter()
        .any(|c| c["type"] == "training" && c["data"]["code"] == "ACV-T"));
}

#[tokio::test]
async fn an_erasure_reaches_partners_and_leaves_no_personal_data_in_the_feed() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let path = format!(
        "/api/v1/chefs_de_projet/{}",
        world.chef["id"].as_str().unwrap()
    );
    app.post_json(&format!("{path}/erasure"), &json!({}))
        .await
        .assert_json(200);
    let (changes, _) = drain(&app, &app.token, None, "&types=chef_de_projet").await;
    let text = serde_json::to_string(&changes).unwrap();
    assert!(
        !text.contains("camille") && !text.contains("Camille"),
        "{text}"
    );
    let last = changes.last().unwrap();
    assert_eq!(last["data"]["first_name"], "[effacé]");
    assert!(last["data"]["erased_at"].is_string());
    assert_eq!(
        changes[0]["data"],
        Value::Null,
        "the past change lost its personal data"
    );
}

#[tokio::test]
async fn a_long_poll_returns_as_soon_as_a_change_commits() {
    let app = TestApp::spawn().await;
    let (_, cursor) = drain(&app, &app.token, None, "").await;
    let started = Instant::now();
    let poll_path = format!("{FEED}?after={cursor}&wait=10");
    let poll = app.get(&poll_path);
    let write = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        app.programme(PVD).await
    };
    let (reply, _) = tokio::join!(poll, write);
    let page = reply.assert_json(200);
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(400) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    let empty = Instant::now();
    let page = app
        .get(&format!(
            "{FEED}?after={}&wait=1",
            page["next_cursor"].as_str().unwrap()
        ))
        .await
        .assert_json(200);
    assert_eq!(page["data"], json!([]));
    assert!(
        empty.elapsed() >= Duration::from_millis(900),
        "waited for nothing"
    );
}

#[tokio::test]
async fn a_cursor_older_than_the_retention_window_is_gone() {
    use diesel_async::SimpleAsyncConnection;
    let app = TestApp::spawn().await;
    app.programme(PVD).await;
    let (_, old) = drain(&app, &app.token, None, "").await;
    app.programme(ACV).await;
    let mut conn = app.db().await;
    // Everything is older than a retention of zero once a moment has passed.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let pruned = anct_formations::changes::store::prune(&mut conn, Duration::ZERO)
        .await
        .unwrap();
    assert!(pruned >= 2, "{pruned}");
    let body = app
        .get(&format!("{FEED}?after={old}"))
        .await
        .assert_problem(410, "cursor_expired");
    assert!(body["detail"].as_str().unwrap().contains("X-Feed-Cursor"));
    // The way back: the lists' cursor, from which the feed goes on.
    let reply = app.get("/api/v1/programmes").await;
    let cursor = reply.header("x-feed-cursor").unwrap().to_string();
    app.get(&format!("{FEED}?after={cursor}"))
        .await
        .assert_json(200);
    app.programme("villages-d-avenir").await;
    let (changes, _) = drain(&app, &app.token, Some(&cursor), "").await;
    assert_eq!(changes.len(), 1);
    conn.batch_execute("SELECT 1").await.unwrap();
}

/// Writers whose transactions commit out of order — some held open on purpose while later ones
/// commit — and a reader following the feed all along: at the end the reader's copy equals the
/// database, no change missed, none seen twice.
#[tokio::test]
async fn a_reader_following_the_feed_misses_nothing_when_commits_come_out_of_order() {
    use diesel_async::SimpleAsyncConnection;
    let app = TestApp::spawn().await;
    let mut programmes = Vec::new();
    for i in 0..6 {
        programmes.push(app.programme(&format!("programme-{i}")).await);
    }
    let stop = std::sync::atomic::AtomicBool::new(false);
    let reader = async {
        let mut copy: HashMap<String, (i64, Value)> = HashMap::new();
        let mut seen: HashSet<(String, i64)> = HashSet::new();
        let mut cursor: Option<String> = None;
        loop {
            let finished = stop.load(std::sync::atomic::Ordering::SeqCst);
            let path = match &cursor {
                Some(c) => format!("{FEED}?after={c}&limit=7&types=programme"),
                None => format!("{FEED}?limit=7&types=programme"),
            };
            let page = app.get(&path).await.assert_json(200);
            for change in page["data"].as_array().unwrap() {
                let id = change["id"].as_str().unwrap().to_string();
                let version = change["version"].as_i64().unwrap();
                assert!(seen.insert((id.clone(), version)), "seen twice: {change}");
                let previous = copy.get(&id).map(|(v, _)| *v).unwrap_or(0);
                assert!(
                    version > previous,
                    "out of order for {id}: {version} after {previous}"
                );
                copy.insert(id, (version, change["data"].clone()));
            }
            let empty = page["data"].as_array().unwrap().is_empty();
            cursor = Some(page["next_cursor"].as_str().unwrap().to_string());
            if finished && empty {
                return copy;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    let writers = async {
        // Transactions held open while others commit: they commit last but started first.
        let held = programmes.iter().take(3).enumerate().map(|(i, p)| {
            let id = p["id"].as_str().unwrap().to_string();
            let app = &app;
            async move {
                let mut conn = app.db().await;
                conn.batch_execute(&format!(
                    "BEGIN; UPDATE programmes SET description = 'held {i}', version = version + 1, updated_at = now() WHERE id = '{id}';"
                ))
                .await
                .unwrap();
                tokio::time::sleep(Duration::from_millis(300 + 200 * i as u64)).await;
                conn.batch_execute("COMMIT").await.unwrap();
            }
        });
        let busy = programmes.iter().skip(3).map(|p| {
            let path = format!("/api/v1/programmes/{}", p["id"].as_str().unwrap());
            let app = &app;
            async move {
                for n in 0..25 {
                    app.patch_json(&path, &json!({"description": format!("update {n}")}))
                        .await
                        .assert_json(200);
                }
            }
        });
        tokio::join!(
            futures_util::future::join_all(held),
            futures_util::future::join_all(busy)
        );
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
    };
    let (copy, ()) = tokio::join!(reader, writers);
    for programme in &programmes {
        let id = programme["id"].as_str().unwrap();
        let now = app
            .get(&format!("/api/v1/programmes/{id}"))
            .await
            .assert_json(200);
        let (version, data) = copy.get(id).expect("every programme reached the reader");
        assert_eq!(*version, now["version"].as_i64().unwrap(), "{id}");
        assert_eq!(data, &now, "the reader's copy equals the database");
    }
}

/// A batch commits its enrolments and their session in one transaction; the feed seals them
/// together (migration 10: enrolments set by set). Every one arrives once, in the feed as GET
/// reads it (status, waitlist position), with the session's final seat counts.
#[tokio::test]
async fn a_batch_reaches_the_feed_whole_with_each_enrolment_as_read() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let session = app.session(&world.training, 3, false).await;
    let mut items = Vec::new();
    for i in 0..8 {
        let chef = app
            .chef(&world.commune, &format!("feed{i}@ablis.fr"), &[PVD])
            .await;
        items.push(
            json!({"ref": format!("feed-{i}"), "session_id": session["id"],
                          "chef_de_projet_id": chef["id"]}),
        );
    }
    let (_, cursor) = drain(&app, &app.token, None, "").await;
    app.post_json("/api/v1/enrolments/batch", &json!({ "items": items }))
        .await
        .assert_json(200);
    let (changes, _) = drain(&app, &app.token, Some(&cursor), "").await;
    let enrolments: Vec<&Value> = changes
        .iter()
        .filter(|c| c["type"] == "enrolment")
        .collect();
    assert_eq!(enrolments.len(), 8);
    let ids: HashSet<&str> = enrolments
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 8, "each enrolment once");
    for change in &enrolments {
        let read = app
            .get(&format!(
                "/api/v1/enrolments/{}",
                change["id"].as_str().unwrap()
            ))
            .await
            .assert_json(200);
        assert_eq!(change["data"], read);
    }
    let waitlisted = enrolments
        .iter()
        .filter(|c| c["data"]["status"] == "waitlisted")
        .count();
    assert_eq!(waitlisted, 5);
    let sessions: Vec<&Value> = changes.iter().filter(|c| c["type"] == "session").collect();
    assert_eq!(
        sessions.len(),
        1,
        "the session changed once in that transaction"
    );
    assert_eq!(
        (
            sessions[0]["data"]["seats_confirmed"].as_i64(),
            sessions[0]["data"]["seats_waitlisted"].as_i64()
        ),
        (Some(3), Some(5))
    );
}
