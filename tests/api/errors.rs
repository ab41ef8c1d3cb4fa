//! Every failure mode answers problem+json with a stable code: no plain-text error anywhere.

use reqwest::Method;
use serde_json::json;

use crate::support::{Options, TestApp};

const PROGRAMMES: &str = "/api/v1/programmes";

#[tokio::test]
async fn bodies_that_are_not_json_are_400() {
    let app = TestApp::spawn().await;
    let post = |body: Vec<u8>| {
        app.request(Method::POST, PROGRAMMES)
            .header("content-type", "application/json")
            .body(body)
    };
    for body in [
        b"{\"code\": ".to_vec(),
        b"".to_vec(),
        b"   ".to_vec(),
        b"{\"code\": \"a\"} {}".to_vec(),
        b"{\"name\": \"\xff\xfe\"}".to_vec(),
        b"{'code': 'single quotes'}".to_vec(),
    ] {
        let reply = app.send(post(body.clone())).await;
        reply.assert_problem(400, "malformed_json");
    }
    // Deep nesting is refused without exhausting anything: as an array where an object is due…
    let deep_array = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let body = app
        .send(post(deep_array.into_bytes()))
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(body["errors"][0]["field"], "body");
    // …and past the parser's depth limit inside a patch document.
    let created = app
        .post_json(
            PROGRAMMES,
            &json!({"code": "pvd", "name": "x", "started_on": "2024-01-01"}),
        )
        .await
        .assert_json(201);
    let deep_object = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    let reply = app
        .send(
            app.request(
                Method::PATCH,
                &format!("{PROGRAMMES}/{}", created["id"].as_str().unwrap()),
            )
            .header("content-type", "application/merge-patch+json")
            .body(deep_object),
        )
        .await;
    reply.assert_problem(400, "malformed_json");
}

#[tokio::test]
async fn unknown_fields_are_400_naming_them() {
    let app = TestApp::spawn().await;
    let body = app
        .post_json(
            PROGRAMMES,
            &json!({"code": "pvd", "name": "x", "started_on": "2024-01-01", "budget": 1}),
        )
        .await
        .assert_problem(400, "unknown_field");
    assert_eq!(body["errors"][0]["field"], "budget");
    assert!(body["detail"].as_str().unwrap().contains("budget"));
}

#[tokio::test]
async fn huge_numbers_and_odd_types_are_422_never_500() {
    let app = TestApp::spawn().await;
    for body in [
        json!({"code": "pvd", "name": "x", "started_on": 1e308}),
        json!({"code": 123456789012345678u64, "name": "x", "started_on": "2024-01-01"}),
        json!({"code": "pvd", "name": {"nested": ["deep"]}, "started_on": "2024-01-01"}),
        json!({"code": "pvd", "name": "x", "started_on": "2024-01-01'; DROP TABLE programmes; --"}),
    ] {
        app.post_json(PROGRAMMES, &body)
            .await
            .assert_problem(422, "validation_failed");
    }
    let reply = app
        .send(
            app.request(Method::POST, PROGRAMMES)
                .header("content-type", "application/json")
                .body(r#"{"code": "pvd", "name": "x", "started_on": 1e999999}"#),
        )
        .await;
    assert!(reply.status.is_client_error(), "{reply:?}");
    assert_eq!(reply.content_type(), "application/problem+json");
    // The SQL-looking value above was never run: the table is still there and empty.
    assert_eq!(
        app.get(PROGRAMMES).await.assert_json(200)["data"],
        json!([])
    );
}

#[tokio::test]
async fn other_media_types_are_415() {
    let app = TestApp::spawn().await;
    let body = r#"{"code": "pvd", "name": "x", "started_on": "2024-01-01"}"#;
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/json; charset=latin1"),
        Some("application/xml"),
        None,
    ] {
        let mut request = app.request(Method::POST, PROGRAMMES).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        app.send(request)
            .await
            .assert_problem(415, "unsupported_media_type");
    }
    let accepted = app
        .send(
            app.request(Method::POST, PROGRAMMES)
                .header("content-type", "application/json; charset=UTF-8")
                .body(body),
        )
        .await;
    assert_eq!(accepted.status.as_u16(), 201);
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let app = TestApp::spawn_with(Options {
        max_body_bytes: 4096,
        ..Options::default()
    })
    .await;
    let big = json!({"code": "pvd", "name": "x".repeat(5000), "started_on": "2024-01-01"});
    app.post_json(PROGRAMMES, &big)
        .await
        .assert_problem(413, "payload_too_large");
    // Without a Content-Length (chunked), the limit still holds.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
        Ok(b"{\"name\": \"".to_vec()),
        Ok(vec![b'x'; 8000]),
        Ok(b"\"}".to_vec()),
    ];
    let stream = futures_util::stream::iter(chunks);
    let reply = app
        .send(
            app.request(Method::POST, PROGRAMMES)
                .header("content-type", "application/json")
                .body(reqwest::Body::wrap_stream(stream)),
        )
        .await;
    reply.assert_problem(413, "payload_too_large");
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405_with_allow() {
    let app = TestApp::spawn().await;
    for path in [
        "/",
        "/api/v1/nothing",
        "/api/v2/programmes",
        "/api/v1/programmes/a/b",
    ] {
        app.get(path).await.assert_problem(404, "not_found");
    }
    let reply = app.send(app.request(Method::PUT, PROGRAMMES)).await;
    reply.assert_problem(405, "method_not_allowed");
    assert_eq!(reply.header("allow"), Some("GET, POST"));
    let reply = app
        .send(app.request(
            Method::POST,
            "/api/v1/programmes/0193a1f2-7c4e-7b3a-9f10-2b6f1c9d4e01",
        ))
        .await;
    reply.assert_problem(405, "method_not_allowed");
    assert_eq!(reply.header("allow"), Some("GET, PUT, PATCH, DELETE"));
    let reply = app.send(app.request(Method::DELETE, "/health/live")).await;
    assert_eq!(reply.header("allow"), Some("GET"));
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let reply = app
        .send(
            app.request(Method::GET, PROGRAMMES)
                .header("x-request-id", "partner-trace-42"),
        )
        .await;
    assert_eq!(
        reply.header("x-request-id"),
        Some("partner-trace-42"),
        "echoed"
    );

    let generated = app.get(PROGRAMMES).await;
    let id = generated.header("x-request-id").expect("generated");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");

    let too_long = "x".repeat(200);
    for unusable in [too_long.as_str(), "has space", ""] {
        let reply = app
            .send(
                app.request(Method::GET, "/nowhere")
                    .header("x-request-id", unusable),
            )
            .await;
        let body = reply.assert_problem(404, "not_found");
        let id = reply.header("x-request-id").unwrap();
        assert_ne!(id, unusable, "replaced");
        assert_eq!(body["request_id"], id);
        assert_eq!(body["instance"], "/nowhere");
    }
}
