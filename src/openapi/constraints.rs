//! Rules the types cannot carry into the document by themselves, stated where contract testing
//! (and client generators) read them: the exact form of cursors and references, the text rule
//! every free-text field follows, and merge-patch bodies that accept exactly what the
//! resource's input accepts. Each pattern comes from the code that enforces it.

use serde_json::{json, Map, Value};
use utoipa::openapi::OpenApi as Document;
use utoipa::Modify;

use crate::changes::cursor::FEED_CURSOR_PATTERN;
use crate::http::pagination::CURSOR_PATTERN;
use crate::values::text::{OPTIONAL_TEXT, REQUIRED_TEXT};

/// Free-text fields (`values::text`): (schema, property).
const TEXT_FIELDS: &[(&str, &str)] = &[
    ("ProgrammeInput", "name"),
    ("ProgrammeInput", "description"),
    ("CollectiviteInput", "name"),
    ("ChefDeProjetInput", "first_name"),
    ("ChefDeProjetInput", "last_name"),
    ("TrainingInput", "title"),
    ("TrainingInput", "summary"),
    ("TrainingInput", "objectives"),
    ("TrainingInput", "provider"),
    ("Location", "label"),
    ("Location", "city"),
    ("TransitionInput", "reason"),
    ("AttendanceInput", "reason"),
    ("CancelSession", "reason"),
    ("WebhookEndpointInput", "description"),
];

/// The department part of an INSEE code (`values::insee`): 01–95 but 20, 2A, 2B, 971–978.
const DEPARTMENT: &str = "(0[1-9]|1[0-9]|2[1-9AB]|[3-8][0-9]|9[0-5]|97[1-8])";

/// Fields with a form of their own (each enforced by its `values` parser); `""` reads as absent
/// where the field is optional. `items` applies to each element of an array.
fn field_patterns() -> Vec<(&'static str, &'static str, String)> {
    let insee = format!("^$|^({DEPARTMENT}[0-9]{{3}}|97[1-8][0-9]{{2}})$");
    let slug = "^[a-z0-9]+(-[a-z0-9]+)*$".to_string();
    vec![
        (
            "ChefDeProjetInput",
            "email",
            crate::values::email::EMAIL_PATTERN.to_string(),
        ),
        (
            "ChefDeProjetInput",
            "phone",
            "^$|^\\+?[0-9]([ .-]?[0-9]){5,19}$".to_string(),
        ),
        ("ChefDeProjetInput", "programmes/items", slug.clone()),
        ("TrainingInput", "target_programmes/items", slug.clone()),
        ("Membership", "programme", slug),
        ("CollectiviteInput", "insee_code", insee.clone()),
        ("Location", "insee_code", insee),
        ("CollectiviteInput", "siren", "^$|^[0-9]{9}$".to_string()),
        (
            "CollectiviteInput",
            "epci_siren",
            "^$|^[0-9]{9}$".to_string(),
        ),
        (
            "CollectiviteInput",
            "department_code",
            format!("^$|^{DEPARTMENT}$"),
        ),
        (
            "CollectiviteInput",
            "region_code",
            "^$|^(0[1-9]|[1-9][0-9])$".to_string(),
        ),
        (
            "Location",
            "region_code",
            "^$|^(0[1-9]|[1-9][0-9])$".to_string(),
        ),
    ]
}

/// Merge-patch bodies and the input whose rules they follow.
const PATCHES: &[(&str, &str)] = &[
    ("ProgrammePatch", "ProgrammeInput"),
    ("CollectivitePatch", "CollectiviteInput"),
    ("ChefDeProjetPatch", "ChefDeProjetInput"),
    ("TrainingPatch", "TrainingInput"),
    ("SessionPatch", "SessionInput"),
    ("WebhookEndpointPatch", "WebhookEndpointInput"),
];

/// A partner reference in a path (`resource_key::parse_reference`).
const REFERENCE_PATH: &str = "^ref:[^\\s\\u0000-\\u001F\\u007F-\\u009F]{1,200}$";

/// Text with no NUL character.
const NO_NUL: &str = "^[^\\u0000]*$";

/// A string schema that says nothing of its form.
fn is_free_text(schema: &Value) -> bool {
    let string = schema["type"] == "string"
        || schema["type"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t == "string"));
    string
        && ["pattern", "format", "enum", "$ref"]
            .iter()
            .all(|k| schema.get(k).is_none())
}

/// `?types=` of the feed: known type names, comma-separated.
const TYPES: &str = "^(programme|collectivite|chef_de_projet|training|session|enrolment)(,(programme|collectivite|chef_de_projet|training|session|enrolment))*$";

pub struct Constraints;

impl Modify for Constraints {
    fn modify(&self, openapi: &mut Document) {
        let Ok(mut document) = serde_json::to_value(&*openapi) else {
            return;
        };
        text_fields(&mut document);
        formed_fields(&mut document);
        patches(&mut document);
        parameters(&mut document);
        required_reasons(&mut document);
        if let Ok(modified) = serde_json::from_value(document) {
            *openapi = modified;
        }
    }
}

fn schema_mut<'a>(document: &'a mut Value, name: &str) -> Option<&'a mut Map<String, Value>> {
    document
        .pointer_mut(&format!("/components/schemas/{name}"))
        .and_then(Value::as_object_mut)
}

fn is_required(schema: &Map<String, Value>, property: &str) -> bool {
    schema
        .get("required")
        .and_then(Value::as_array)
        .is_some_and(|r| r.iter().any(|p| p == property))
}

fn text_fields(document: &mut Value) {
    for (name, property) in TEXT_FIELDS {
        let Some(schema) = schema_mut(document, name) else {
            continue;
        };
        let pattern = if is_required(schema, property) {
            REQUIRED_TEXT
        } else {
            OPTIONAL_TEXT
        };
        if let Some(field) = schema
            .get_mut("properties")
            .and_then(|p| p.get_mut(*property))
            .and_then(Value::as_object_mut)
        {
            field.insert("pattern".into(), json!(pattern));
        }
    }
}

fn formed_fields(document: &mut Value) {
    for (name, property, pattern) in field_patterns() {
        let pointer = format!("/components/schemas/{name}/properties/{property}");
        if let Some(field) = document
            .pointer_mut(&pointer)
            .and_then(Value::as_object_mut)
        {
            field.remove("format");
            field.insert("pattern".into(), json!(pattern));
        }
    }
}

/// A member may be removed (`null`) unless the input requires it: removing one with a default
/// restores the default.
fn nullable(rule: &Value) -> Value {
    let mut rule = rule.clone();
    match rule.get_mut("type") {
        Some(Value::String(kind)) if kind != "null" => {
            let kind = kind.clone();
            rule["type"] = json!([kind, "null"]);
            rule
        }
        Some(Value::Array(kinds)) => {
            if !kinds.iter().any(|k| k == "null") {
                kinds.push(json!("null"));
            }
            rule
        }
        _ => {
            let admits_null = ["oneOf", "anyOf"].iter().any(|k| {
                rule[*k]
                    .as_array()
                    .is_some_and(|options| options.iter().any(|o| o["type"] == "null"))
            });
            if admits_null {
                rule
            } else {
                json!({"anyOf": [rule, {"type": "null"}]})
            }
        }
    }
}

/// A patch member takes the input's rules; one the input requires cannot be removed (`null`).
fn patches(document: &mut Value) {
    for (patch, input) in PATCHES {
        let Some(input) = schema_mut(document, input).cloned() else {
            continue;
        };
        let Some(patch) = schema_mut(document, patch) else {
            continue;
        };
        let Some(members) = patch.get_mut("properties").and_then(Value::as_object_mut) else {
            continue;
        };
        for (name, member) in members.iter_mut() {
            if let Some(rule) = input.get("properties").and_then(|p| p.get(name)) {
                *member = if is_required(&input, name) {
                    rule.clone()
                } else {
                    nullable(rule)
                };
            }
        }
        patch.remove("required");
        patch.insert("additionalProperties".into(), json!(false));
    }
}

fn parameters(document: &mut Value) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            let Some(parameters) = operation
                .get_mut("parameters")
                .and_then(Value::as_array_mut)
            else {
                continue;
            };
            for parameter in parameters {
                let location = parameter["in"].as_str().unwrap_or_default().to_string();
                let name = parameter["name"].as_str().unwrap_or_default().to_string();
                let schema = match (location.as_str(), name.as_str(), method.as_str()) {
                    ("query", "cursor", _) => json!({"type": "string", "pattern": CURSOR_PATTERN}),
                    ("query", "after", _) => {
                        json!({"type": "string", "pattern": FEED_CURSOR_PATTERN})
                    }
                    ("query", "types", _) => json!({"type": "string", "pattern": TYPES}),
                    ("path", "id", "put") => json!({"type": "string", "pattern": REFERENCE_PATH}),
                    // Free query text: anything but NUL (`http::query` refuses it).
                    ("query", _, _) if is_free_text(&parameter["schema"]) => {
                        let mut schema = parameter["schema"].clone();
                        schema["pattern"] = json!(NO_NUL);
                        schema
                    }
                    _ => continue,
                };
                parameter["schema"] = schema;
            }
        }
    }
}

/// Refusing and cancelling need a reason: their body states it as required.
fn required_reasons(document: &mut Value) {
    let Some(optional) = schema_mut(document, "TransitionInput").cloned() else {
        return;
    };
    let mut required = optional;
    required.insert(
        "description".into(),
        json!("The reason of the transition (required)."),
    );
    required.insert("required".into(), json!(["reason"]));
    if let Some(reason) = required
        .get_mut("properties")
        .and_then(|p| p.get_mut("reason"))
    {
        reason["type"] = json!("string");
        reason["pattern"] = json!(REQUIRED_TEXT);
        reason["minLength"] = json!(1);
    }
    if let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.insert("RequiredReason".into(), Value::Object(required));
    }
    for path in [
        "/api/v1/enrolments/{id}/refuse",
        "/api/v1/enrolments/{id}/cancel",
    ] {
        let pointer = format!(
            "/paths/{}/post/requestBody/content/application~1json/schema",
            path.replace('~', "~0").replace('/', "~1")
        );
        if let Some(schema) = document.pointer_mut(&pointer) {
            *schema = json!({"$ref": "#/components/schemas/RequiredReason"});
        }
    }
}
