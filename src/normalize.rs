//! Stage 2: check which OpenAPI version the document is and that its structure is valid,
//! so the model stage can walk it without guessing. OpenAPI 3.0 documents are validated by
//! deserializing them into `openapiv3`'s types (errors carry the path to the bad field);
//! 3.1 documents are checked at the JSON level, because `openapiv3` would drop 3.1 keywords.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::pointer::Pointer;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V3_0,
    V3_1,
}

/// A document the model stage can trust to have the OpenAPI 3.x shape.
#[derive(Debug)]
pub struct Document {
    pub version: Version,
    pub root: Value,
}

pub fn normalize(root: Value) -> Result<Document> {
    let version = detect_version(&root)?;
    match version {
        Version::V3_0 => validate_3_0(&root)?,
        Version::V3_1 => validate_shape(&root)?,
    }
    Ok(Document { version, root })
}

fn detect_version(root: &Value) -> Result<Version> {
    if let Some(swagger) = root.get("swagger") {
        return Err(Error::spec(
            "/swagger",
            format!(
                "Swagger {} documents are not supported yet; convert to OpenAPI 3 first",
                show(swagger)
            ),
        ));
    }
    let Some(openapi) = root.get("openapi") else {
        return Err(Error::spec(
            "/",
            "not an OpenAPI document: no `openapi` version field",
        ));
    };
    match openapi.as_str() {
        Some(v) if v.starts_with("3.0.") || v == "3.0" => Ok(Version::V3_0),
        Some(v) if v.starts_with("3.1.") || v == "3.1" => Ok(Version::V3_1),
        _ => Err(Error::spec(
            "/openapi",
            format!(
                "unsupported OpenAPI version {}; 3.0.x and 3.1.x are supported",
                show(openapi)
            ),
        )),
    }
}

fn show(value: &Value) -> String {
    match value {
        Value::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    }
}

fn validate_3_0(root: &Value) -> Result<()> {
    validate_shape(root)?;
    let whole = serde_path_to_error::deserialize::<_, openapiv3::OpenAPI>(root);
    let Err(error) = whole else { return Ok(()) };
    // openapiv3 flattens `paths` and uses untagged enums, which hide where inside an
    // operation the problem is; checking operations one by one finds it.
    if let Some(Value::Object(paths)) = root.get("paths") {
        for (path, item) in paths {
            let Value::Object(item) = item else { continue };
            for (method, op) in item {
                if !METHODS.contains(&method.as_str()) {
                    continue;
                }
                if let Err(e) = serde_path_to_error::deserialize::<_, openapiv3::Operation>(op) {
                    let at = Pointer::root().push("paths").push(path).push(method);
                    return Err(located(at, e));
                }
            }
        }
    }
    Err(located(Pointer::root(), error))
}

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn located(base: Pointer, e: serde_path_to_error::Error<serde_json::Error>) -> Error {
    let location = to_pointer(base, e.path());
    Error::spec(location, e.into_inner().to_string())
}

/// The parts every later stage relies on, with a precise location when missing.
fn validate_shape(root: &Value) -> Result<()> {
    if !root.get("info").is_some_and(Value::is_object) {
        return Err(Error::spec("/info", "missing or not an object"));
    }
    match root.get("paths") {
        Some(Value::Object(_)) => Ok(()),
        // 3.1 allows webhooks-only documents, which have nothing to turn into tools.
        None => Err(Error::spec(
            "/paths",
            "missing: the document describes no operations",
        )),
        Some(_) => Err(Error::spec("/paths", "not an object")),
    }
}

/// serde_path_to_error's path to a JSON pointer; the segments are structured, so keys
/// containing dots or slashes (every path template) survive.
fn to_pointer(base: Pointer, path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = base;
    for segment in path.iter() {
        pointer = match segment {
            Segment::Seq { index } => pointer.index(*index),
            Segment::Map { key } => pointer.push(key),
            Segment::Enum { variant } => pointer.push(variant),
            Segment::Unknown => pointer,
        };
    }
    pointer.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn swagger_2_is_named() {
        let err = normalize(json!({"swagger": "2.0", "paths": {}})).unwrap_err();
        assert_eq!(err.exit_code(), 1);
        assert!(err.to_string().starts_with("/swagger:"), "{err}");
    }

    #[test]
    fn unknown_version_is_refused() {
        let err = normalize(json!({"openapi": "4.0.0", "info": {}, "paths": {}})).unwrap_err();
        assert!(
            err.to_string()
                .contains("unsupported OpenAPI version `4.0.0`"),
            "{err}"
        );
    }

    #[test]
    fn missing_paths_is_located() {
        let err = normalize(json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}}))
            .unwrap_err();
        assert!(err.to_string().starts_with("/paths:"), "{err}");
    }

    #[test]
    fn a_bad_operation_is_located_by_pointer() {
        let doc = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/a.json": {"get": {"responses": {"200": {"description": 5}}}}}
        });
        let err = normalize(doc).unwrap_err();
        assert!(
            err.to_string().starts_with("/paths/~1a.json/get/responses"),
            "{err}"
        );
    }

    #[test]
    fn valid_3_0_passes() {
        let doc = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}}}}}
        });
        assert_eq!(normalize(doc).unwrap().version, Version::V3_0);
    }
}
