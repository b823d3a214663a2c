//! What the spec itself says: its version, and how many operations should become tools —
//! counted here, not taken from mcp-gen's own numbers, so a miscount in mcp-gen shows.

use std::fs;
use std::path::Path;

use serde_json::Value;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
/// Path items may `$ref` path items that `$ref` others; give up after this many hops.
const MAX_REF_HOPS: usize = 32;

/// The spec file as JSON.
pub fn read(path: &Path) -> Result<Value, String> {
    let bytes = fs::read(path).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))
}

/// `openapi` (3.x) or `swagger` (2.0), as written.
pub fn version(spec: &Value) -> String {
    ["openapi", "swagger"]
        .iter()
        .filter_map(|key| spec.get(key))
        .find_map(|v| match v {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Null | Value::String(_) => None,
            other => Some(other.to_string()),
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The operations a spec keeps: every method of every path item (a local `$ref` path item
/// followed), `x-` paths left out, minus those marked `x-mcp: false`.
pub fn operations_kept(spec: &Value) -> Result<usize, String> {
    let paths = match spec.get("paths") {
        None | Some(Value::Null) => return Ok(0),
        Some(Value::Object(paths)) => paths,
        Some(_) => return Err("the spec's `paths` is not an object".to_owned()),
    };
    let kept = paths
        .iter()
        .filter(|(path, _)| !path.starts_with("x-"))
        .filter_map(|(_, item)| resolve(spec, item)?.as_object())
        .map(|item| {
            METHODS
                .iter()
                .filter_map(|method| item.get(*method)?.as_object())
                .filter(|op| op.get("x-mcp") != Some(&Value::Bool(false)))
                .count()
        })
        .sum();
    Ok(kept)
}

/// Follows local `$ref`s (`#/components/pathItems/…`, `#/paths/…`); `None` where one points at
/// nothing.
fn resolve<'a>(root: &'a Value, value: &'a Value) -> Option<&'a Value> {
    let mut value = value;
    for _ in 0..MAX_REF_HOPS {
        let Some(pointer) = value
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/"))
        else {
            return Some(value);
        };
        value = pointer.split('/').try_fold(root, |target, part| {
            target
                .as_object()?
                .get(&part.replace("~1", "/").replace("~0", "~"))
        })?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations_are_counted_from_the_spec() {
        let spec = json!({
            "paths": {
                "/a": {"get": {}, "post": {"x-mcp": false}, "put": {"x-mcp": true}, "parameters": []},
                "/b": {"$ref": "#/components/pathItems/b"},
                "/c": {"$ref": "#/paths/~1b"},
                "/d": {"$ref": "#/components/pathItems/missing"},
                "/e": {"summary": "no operations", "get": "not an operation"},
                "x-internal": {"get": {}}
            },
            "components": {"pathItems": {"b": {"delete": {}, "patch": {}, "trace": {}}}}
        });
        assert_eq!(operations_kept(&spec), Ok(2 + 3 + 3));
        assert_eq!(operations_kept(&json!({"swagger": "2.0"})), Ok(0));
        assert!(operations_kept(&json!({"paths": []})).is_err());
        let looping = json!({"paths": {"/a": {"$ref": "#/paths/~1a"}}});
        assert_eq!(operations_kept(&looping), Ok(0));
    }

    #[test]
    fn spec_versions() {
        assert_eq!(version(&json!({"openapi": "3.1.0"})), "3.1.0");
        assert_eq!(version(&json!({"swagger": "2.0"})), "2.0");
        assert_eq!(version(&json!({"openapi": 3.0})), "3.0");
        assert_eq!(version(&json!({})), "unknown");
    }
}
