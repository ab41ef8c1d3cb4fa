//! Batch upserts: up to 1,000 items, each with its `ref`, each with its own result; an invalid
//! item is reported and the valid ones are kept.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiError, FieldError, Problem};
use crate::http::resource_key::parse_reference;

pub const MAX_ITEMS: usize = 1000;

/// A batch of upserts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"items": [
    {"ref": "cnfpt-2027-0042", "session_id": "0193a1f3-9d8e-7f60-a1b2-c3d4e5f60718", "chef_de_projet_id": "0193a1f3-0a4b-7d2e-8c11-3e5f7a9b1c2d"}
]}))]
pub struct BatchRequest {
    /// 1 to 1,000 items: each the body of the single upsert plus its `ref`.
    #[schema(value_type = Vec<Object>, min_items = 1, max_items = 1000)]
    pub items: Vec<Map<String, Value>>,
}

/// The result of one item.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    /// Position of the item in the request.
    pub index: usize,
    /// The item's reference, when it had a readable one.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// 201 created, 200 updated (or unchanged), or the status of its problem.
    pub status: u16,
    /// The resource's id, on success.
    pub id: Option<Uuid>,
    /// Why the item failed.
    pub problem: Option<Problem>,
}

/// The results, in the order of the items.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"created": 1, "updated": 0, "failed": 1, "results": [
    {"index": 0, "ref": "cnfpt-2027-0042", "status": 201, "id": "0193a1f4-1a2b-7c3d-8e4f-506172839405", "problem": null},
    {"index": 1, "ref": "cnfpt-2027-0043", "status": 422, "id": null, "problem": {"type": "urn:anct-formations:problem:validation_failed",
        "title": "The request is not valid", "status": 422, "detail": "items[1].session_id: session_id is required",
        "code": "validation_failed", "errors": [{"field": "items[1].session_id", "code": "required", "message": "session_id is required"}]}}
]}))]
pub struct BatchResponse {
    pub created: usize,
    pub updated: usize,
    pub failed: usize,
    pub results: Vec<BatchResult>,
}

/// 422 when the batch itself is empty or too large.
pub fn check_size(request: &BatchRequest) -> Result<(), ApiError> {
    if request.items.is_empty() || request.items.len() > MAX_ITEMS {
        return Err(ApiError::invalid_field(
            "items",
            "out_of_range",
            format!("a batch holds 1 to {MAX_ITEMS} items"),
        ));
    }
    Ok(())
}

/// Splits an item into its reference and its body as `T`, naming fields `items[i].…`.
pub fn read_item<T: serde::de::DeserializeOwned>(
    index: usize,
    mut item: Map<String, Value>,
) -> (Option<String>, Result<T, ApiError>) {
    let prefix = |e: &mut ApiError| {
        for field in e.errors.iter_mut() {
            field.field = format!("items[{index}].{}", field.field);
        }
        if let Some(first) = e.errors.first() {
            e.detail = format!("{}: {}", first.field, first.message);
        }
    };
    let reference = match item.remove("ref") {
        Some(Value::String(text)) if parse_reference(&text).is_some() => text,
        _ => {
            let error = ApiError::validation(vec![FieldError::new(
                format!("items[{index}].ref"),
                "required",
                "each item needs its `ref`: 1 to 200 characters without spaces",
            )]);
            return (None, Err(error));
        }
    };
    let parsed = serde_path_to_error::deserialize(Value::Object(item))
        .map_err(crate::http::json::classify)
        .map_err(|mut e| {
            prefix(&mut e);
            e
        });
    (Some(reference), parsed)
}

impl BatchResponse {
    pub fn new() -> Self {
        Self {
            created: 0,
            updated: 0,
            failed: 0,
            results: Vec::new(),
        }
    }

    pub fn push_ok(&mut self, index: usize, reference: String, id: Uuid, created: bool) {
        if created {
            self.created += 1;
        } else {
            self.updated += 1;
        }
        self.results.push(BatchResult {
            index,
            reference: Some(reference),
            status: if created { 201 } else { 200 },
            id: Some(id),
            problem: None,
        });
    }

    pub fn push_error(&mut self, index: usize, reference: Option<String>, error: &ApiError) {
        self.failed += 1;
        self.results.push(BatchResult {
            index,
            reference,
            status: error.status.as_u16(),
            id: None,
            problem: Some(error.to_problem(None, None)),
        });
    }
}

impl Default for BatchResponse {
    fn default() -> Self {
        Self::new()
    }
}
