//! Hostile input, over every operation of the served document: SQL and path tricks in every
//! path and query parameter, absurd pagination, NUL characters, invalid UTF-8, deeply nested and
//! oversized JSON, huge numbers. Each gets a clear 4xx problem (or, for a search term, an
//! ordinary answer) — never a 5xx.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::fixtures::{error_fields, World};
use crate::support::{Options, Reply, TestApp};

const PATH_TRICKS: &[&str] = &[
    "'%20OR%201=1--",
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e",
    "%00",
    "ref:%00",
    "ref:'%3B%20DROP%20TABLE%20sessions%3B--",
    "%F0%9F%98%80",
    "-1",
    "99999999999999999999999999",
    "00000000-0000-0000-0000-000000000000",
    "ref:",
];

const QUERY_TRICKS: &[&str] = &[
    "'%20OR%201=1--",
    "%00",
    "-1",
    "0",
    "99999999999999999999999999",
    "1e309",
    "NaN",
    "%FF%FE",
    "%5B%5D",
    "..%2F..%2F",
];

/// Asserts a reply is no server error, and a problem when it is a client error (the token
/// endpoint answers RFC 6749 errors instead).
#[track_caller]
fn sane(what: &str, reply: &Reply) {
    let status = reply.status.as_u16();
    assert!(status < 500, "{what}: {status} {}", reply.text);
    if status >= 400 && what.contains("/oauth/token") {
        assert!(reply.json()["error"].is_string(), "{what}: {}", reply.text);
    } else if status >= 400 {
        assert_eq!(reply.content_type(), "application/problem+json", "{what}");
        let body = reply.json();
        assert!(body["code"].is_string(), "{what}: {body}");
        assert!(
            !reply.text.to_lowercase().contains("sql") && !reply.text.contains("diesel"),
            "{what} leaks internals: {}",
            reply.text
        );
    }
}

fn operations(document: &Value) -> Vec<(Method, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            found.push((method, path.clone(), operation.clone()));
        }
    }
    found
}

async fn send(app: &TestApp, method: &Method, url: &str, body: Option<Vec<u8>>) -> Reply {
    let mut request = app.request(method.clone(), url);
    if let Some(body) = body {
        let content_type = if method == Method::PATCH {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        request = request.header("content-type", content_type).body(body);
    }
    app.send(request).await
}

#[tokio::test]
async fn hostile_input_gets_clear_client_errors_on_every_operation() {
    let app = TestApp::spawn_with(Options {
        max_body_bytes: 64 * 1024,
        ..Options::default()
    })
    .await;
    let world = World::new(&app).await;
    let session = app.session(&world.training, 10, false).await;
    let document = app.get("/api/v1/openapi.json").await.assert_json(200);
    let real_id = session["id"].as_str().unwrap().to_string();
    let mut sent = 0;

    // Deeply nested, oversized, invalid UTF-8, huge numbers, NUL: every body an operation takes.
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let nested_object = format!("{}1{}", "{\"a\":".repeat(5_000), "}".repeat(5_000));
    let oversized = format!("{{\"name\": \"{}\"}}", "x".repeat(70 * 1024));
    let bodies: Vec<Vec<u8>> = vec![
        nested.into_bytes(),
        nested_object.into_bytes(),
        oversized.into_bytes(),
        b"{\"name\": \"\xff\xfe\"}".to_vec(),
        br#"{"capacity": 1e400, "duration_hours": 1e400}"#.to_vec(),
        br#"{"capacity": 99999999999999999999999999999, "limit": -99999999999999999999}"#.to_vec(),
        br#"{"name": "a\u0000b", "code": "x\u0000"}"#.to_vec(),
        br#"{"name": "'; DROP TABLE programmes; --", "code": "' OR 1=1 --"}"#.to_vec(),
        b"null".to_vec(),
        b"\"just a string\"".to_vec(),
        b"{\"unterminated\": ".to_vec(),
    ];

    for (method, path, operation) in operations(&document) {
        let declared = |location: &str| -> Vec<String> {
            operation["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == location)
                        .map(|p| p["name"].as_str().unwrap().to_string())
                        .collect()
                })
                .unwrap_or_default()
        };
        let with_ids = |value: &str| path.replace("{id}", value).replace("{delivery_id}", value);
        // Path tricks.
        if path.contains('{') {
            for trick in PATH_TRICKS {
                let url = with_ids(trick);
                let reply = send(&app, &method, &url, None).await;
                sent += 1;
                sane(&format!("{method} {url}"), &reply);
            }
        }
        // Query tricks, one parameter at a time, and absurd pagination.
        let base = with_ids(&real_id);
        for name in declared("query") {
            for trick in QUERY_TRICKS {
                let url = format!("{base}?{name}={trick}");
                let reply = send(&app, &method, &url, None).await;
                sent += 1;
                sane(&format!("{method} {url}"), &reply);
            }
            let long = format!("{base}?{name}={}", "a".repeat(20_000));
            let reply = send(&app, &method, &long, None).await;
            sent += 1;
            sane(&format!("{method} {base}?{name}=<20000 chars>"), &reply);
        }
        // Bodies.
        if operation.get("requestBody").is_some() {
            for body in &bodies {
                let reply = send(&app, &method, &base, Some(body.clone())).await;
                sent += 1;
                let shown = String::from_utf8_lossy(&body[..body.len().min(60)]).into_owned();
                sane(&format!("{method} {base} with {shown}"), &reply);
                assert!(
                    reply.status.as_u16() >= 400 || method == Method::PATCH,
                    "{method} {base} accepted {shown}: {}",
                    reply.text
                );
            }
        }
    }
    assert!(sent > 800, "{sent} requests");
    println!("hostile input: {sent} requests, no server error");

    // Nothing half-written: the data is as the fixtures left it.
    let programmes = app.get("/api/v1/programmes").await.assert_json(200);
    assert_eq!(programmes["data"].as_array().unwrap().len(), 2);
    let sessions = app.get("/api/v1/sessions").await.assert_json(200);
    assert_eq!(sessions["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn sibling_paths_answer_405_with_their_own_methods() {
    let app = TestApp::spawn().await;
    let reply = app
        .send(
            app.request(Method::PATCH, "/api/v1/sessions/batch")
                .json(&json!({})),
        )
        .await;
    reply.assert_problem(405, "method_not_allowed");
    assert_eq!(reply.header("allow"), Some("POST"));
    let reply = app
        .send(app.request(Method::OPTIONS, "/api/v1/enrolments/batch"))
        .await;
    reply.assert_problem(405, "method_not_allowed");
    assert_eq!(reply.header("allow"), Some("POST"));
    // An empty search is no search; an empty If-Match says nothing.
    app.get("/api/v1/programmes?q=").await.assert_json(200);
    let created = app.programme("villages-d-avenir").await;
    let reply = app
        .send(
            app.request(
                Method::PATCH,
                &format!("/api/v1/programmes/{}", created["id"].as_str().unwrap()),
            )
            .header("if-match", "")
            .header("content-type", "application/merge-patch+json")
            .body(r#"{"status": "closed"}"#),
        )
        .await;
    assert_eq!(reply.assert_json(200)["status"], "closed");
    // A patch member nobody knows is refused, even set to null (which would remove nothing).
    let problem = app
        .patch_json(
            &format!("/api/v1/programmes/{}", created["id"].as_str().unwrap()),
            &json!({"colour": null}),
        )
        .await
        .assert_problem(400, "unknown_field");
    assert_eq!(error_fields(&problem), ["colour"]);
    // NUL in a query parameter or a body is refused by name.
    let problem = app
        .get("/api/v1/programmes?q=a%00b")
        .await
        .assert_problem(400, "invalid_query_parameter");
    assert_eq!(problem["errors"][0]["field"], "q");
    assert_eq!(problem["errors"][0]["code"], "invalid_characters");
    let problem = app
        .post_json(
            "/api/v1/programmes",
            &json!({"code": "nul", "name": "a\u{0}b", "started_on": "2026-01-01"}),
        )
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["code"], "invalid_characters");
    // A blank INSEE code is no code: a clear 422, not a database error.
    let problem = app
        .post_json(
            "/api/v1/collectivites",
            &json!({"kind": "commune", "name": "Ablis", "insee_code": "", "cog_year": 2021}),
        )
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(error_fields(&problem), ["cog_year", "insee_code"]);
}
