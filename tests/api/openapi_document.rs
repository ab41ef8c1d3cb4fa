//! The OpenAPI document: served, committed, complete.
//!
//! `UPDATE_OPENAPI=1 cargo test` rewrites `openapi/openapi.json` from the code.

use std::path::Path;

use serde_json::Value;

use crate::support::TestApp;

fn committed_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json")
}

#[tokio::test]
async fn the_committed_document_equals_the_served_one() {
    let app = TestApp::spawn().await;
    let served = app.get("/api/v1/openapi.json").await.assert_json(200);
    let generated = anct_formations::openapi::document_json();
    assert_eq!(served, serde_json::from_str::<Value>(&generated).unwrap());
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(committed_path(), &generated).unwrap();
    }
    let committed = std::fs::read_to_string(committed_path())
        .expect("openapi/openapi.json exists (UPDATE_OPENAPI=1 cargo test writes it)");
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test --test api openapi` and commit it"
    );
}

fn resolve<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            document
                .pointer(pointer)
                .unwrap_or_else(|| panic!("{reference} does not resolve"))
        }
        None => value,
    }
}

#[test]
fn every_operation_is_documented_with_its_errors_and_examples() {
    let document: Value = serde_json::from_str(&anct_formations::openapi::document_json()).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let mut operations = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations += 1;
            let name = format!("{method} {path}");
            assert!(operation["operationId"].is_string(), "{name}: operationId");
            assert!(operation["summary"].is_string(), "{name}: summary");
            assert!(operation["description"].is_string(), "{name}: description");
            assert_eq!(
                operation["tags"].as_array().map(Vec::len),
                Some(1),
                "{name}: tag"
            );
            let responses = operation["responses"].as_object().unwrap();
            // The token endpoint answers errors in the form RFC 6749 §5.2 prescribes, which
            // OAuth client libraries expect; every other operation answers problem+json.
            let oauth = operation["operationId"] == "issue_token";
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{name}: success"
            );
            if path.starts_with("/api/") {
                for status in ["500", "503"] {
                    assert!(responses.contains_key(status), "{name}: documents {status}");
                }
            }
            if operation.get("requestBody").is_some() && !oauth {
                for status in ["400", "413", "415", "422"] {
                    assert!(responses.contains_key(status), "{name}: documents {status}");
                }
                let body = &operation["requestBody"]["content"];
                let (_, media) = body.as_object().unwrap().iter().next().unwrap();
                let schema = resolve(&document, &media["schema"]);
                assert!(schema.get("example").is_some(), "{name}: request example");
            }
            if path.contains("{id}") {
                assert!(responses.contains_key("404"), "{name}: documents 404");
            }
            for (status, response) in responses {
                let response = resolve(&document, response);
                assert!(response["description"].is_string(), "{name} {status}");
                if (status.starts_with('4') || status.starts_with('5'))
                    && !(oauth && status.starts_with('4'))
                {
                    let problem = &response["content"]["application/problem+json"];
                    assert!(problem.is_object(), "{name} {status}: problem+json");
                    assert!(
                        problem.get("example").is_some() || problem.get("examples").is_some(),
                        "{name} {status}: example"
                    );
                }
            }
        }
    }
    assert!(operations >= 7, "{operations} operations");
}
