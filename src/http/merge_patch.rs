//! JSON Merge Patch (RFC 7386): `null` removes a member, an object merges recursively, anything
//! else replaces.

use serde_json::{Map, Value};

use crate::error::{ApiError, FieldError};

/// Applies `patch` to `target`.
pub fn apply(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let map = target.as_object_mut().expect("made an object above");
    for (key, value) in patch {
        if value.is_null() {
            map.remove(key);
        } else {
            apply(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// 422 for each member of `patch` that names a field clients cannot write.
pub fn reject_read_only(patch: &Map<String, Value>, read_only: &[&str]) -> Result<(), ApiError> {
    let errors: Vec<FieldError> = patch
        .keys()
        .filter(|key| read_only.contains(&key.as_str()))
        .map(|key| FieldError::new(key, "read_only", format!("{key} is set by the server")))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

/// 400 for a member neither the resource (`current`) nor the patch type `P` knows, even one set
/// to `null` (which would otherwise remove nothing, silently).
fn reject_unknown<P: serde::de::DeserializeOwned>(
    patch: &Map<String, Value>,
    current: &Value,
) -> Result<(), ApiError> {
    let members: Map<String, Value> = patch
        .keys()
        .filter(|k| current.get(k.as_str()).is_none())
        .map(|k| (k.clone(), Value::Null))
        .collect();
    serde_path_to_error::deserialize::<_, P>(Value::Object(members))
        .map(|_| ())
        .map_err(|error| crate::http::json::data_error(String::new(), &error.inner().to_string()))
}

/// Applies `patch` to the writable fields of a resource (`current`, as its input type `I`) and
/// reads the result back as that type, naming the field at fault. Read-only fields are refused,
/// and so are members the patch type `P` does not document.
pub fn patched<I, P>(
    current: &I,
    patch: Map<String, Value>,
    read_only: &[&str],
) -> Result<I, ApiError>
where
    I: serde::Serialize + serde::de::DeserializeOwned,
    P: serde::de::DeserializeOwned,
{
    reject_read_only(&patch, read_only)?;
    let mut document = serde_json::to_value(current).map_err(ApiError::internal)?;
    reject_unknown::<P>(&patch, &document)?;
    apply(&mut document, &Value::Object(patch));
    serde_path_to_error::deserialize(document).map_err(crate::http::json::classify)
}

/// Fields that every resource sets itself.
pub const SERVER_FIELDS: [&str; 4] = ["id", "version", "created_at", "updated_at"];

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn follows_rfc_7386() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        super::apply(&mut doc, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}}));
        let mut doc = json!({"a": [1]});
        super::apply(&mut doc, &json!({"a": {"b": "c"}, "n": null}));
        assert_eq!(doc, json!({"a": {"b": "c"}}));
    }
}
