//! Stage 2: one OpenAPI 3.x shape out of whatever came in. External `$ref`s are bundled
//! into the document ([`refs`]), Swagger 2.0 is converted to 3.0 ([`swagger2`]), then the
//! version is checked and the structure validated so the model stage can walk it without
//! guessing. OpenAPI 3.0 documents are validated by deserializing them into `openapiv3`'s
//! types (errors carry the path to the bad field); 3.1 documents are checked at the JSON
//! level, because `openapiv3` would drop 3.1 keywords.

mod refs;
mod swagger2;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::openapi;
use crate::openapi::METHODS;
use crate::pointer::Pointer;
use crate::warning::{Class, LeftOut, Warning};

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
    /// What was converted away, ignored or left out (webhooks, unknown flows, operations
    /// too broken to read), with its place.
    pub warnings: Vec<Warning>,
    /// Operations left out here, each with a warning (the model counts the rest).
    pub dropped: usize,
}

/// Where the document came from, for resolving relative `$ref`s to other files.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// A path, an http(s) URL, or `-` (stdin: relative to the working directory).
    pub origin: &'a str,
    /// Fetch `$ref`s to other hosts over the network (off by default: SSRF safety).
    pub allow_remote_refs: bool,
}

/// A document with no other file around it (external references resolve against the
/// working directory, network ones are refused).
pub fn normalize(root: Value) -> Result<Document> {
    normalize_from(
        root,
        &Source {
            origin: "-",
            allow_remote_refs: false,
        },
    )
}

pub fn normalize_from(root: Value, source: &Source) -> Result<Document> {
    let (mut doc, pending) = normalize_deferred(root, source)?;
    if let Some(pending) = pending {
        let broken = pending.check(&doc.root)?;
        pending.apply(&mut doc, broken)?;
    }
    Ok(doc)
}

/// The 3.0 structure check `normalize_deferred` left to its caller, who can run it beside
/// the model stage (on GitHub's document it took a fifth of generation).
pub struct Pending {
    /// Where among the document's warnings the check's own go.
    warnings_at: usize,
}

impl Pending {
    /// The parts of `paths` that fail on their own (none, almost always); an error when the
    /// document's structure fails without them.
    pub fn check(&self, root: &Value) -> Result<Vec<Broken>> {
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("validate".into())
                .stack_size(VALIDATION_STACK)
                .spawn_scoped(scope, || validate_3_0_types(root))
                .map_err(|e| Error::internal("cannot start the validation thread", e))?
                .join()
                .unwrap_or_else(|_| Err(Error::spec("/", "the document could not be validated")))
        })
    }

    /// Leaves the broken parts out of the document, each with a warning.
    pub fn apply(self, doc: &mut Document, broken: Vec<Broken>) -> Result<()> {
        let mut warnings = Vec::new();
        drop_broken(&mut doc.root, broken, &mut warnings, &mut doc.dropped)?;
        let at = self.warnings_at.min(doc.warnings.len());
        doc.warnings.splice(at..at, warnings);
        Ok(())
    }
}

/// Like [`normalize_from`], but a 3.0 document's structure check is returned, not run.
pub fn normalize_deferred(mut root: Value, source: &Source) -> Result<(Document, Option<Pending>)> {
    let mut warnings = Vec::new();
    let mut dropped = 0;
    refs::bundle(&mut root, source)?;
    if let Some(swagger) = root.get("swagger") {
        if swagger.as_str() != Some("2.0") {
            return Err(Error::spec(
                "/swagger",
                format!(
                    "unsupported Swagger version {}; 2.0, 3.0.x and 3.1.x are supported",
                    show(swagger)
                ),
            ));
        }
        root = swagger2::convert(&root, &mut warnings, &mut dropped)?;
    }
    let version = detect_version(&root)?;
    if version == Version::V3_1 && root.get("paths").is_none() && root.get("webhooks").is_some() {
        // 3.1 allows documents of webhooks only: valid, with nothing to turn into tools.
        if let Value::Object(map) = &mut root {
            map.insert("paths".into(), Value::Object(Default::default()));
        }
    }
    validate_shape(&root)?;
    let pending = (version == Version::V3_0).then_some(Pending {
        warnings_at: warnings.len(),
    });
    if let Some(Value::Object(hooks)) = root.get("webhooks") {
        if !hooks.is_empty() {
            warnings.push(Warning::new(
                Class::Webhooks,
                "/webhooks",
                format!(
                    "{} webhook(s) ignored: they are calls the API makes, not tools",
                    hooks.len()
                ),
            ));
        }
    }
    Ok((
        Document {
            version,
            root,
            warnings,
            dropped,
        },
        pending,
    ))
}

fn detect_version(root: &Value) -> Result<Version> {
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

/// Stack for `openapiv3`'s deserializer: its untagged enums take kilobytes per level, and a
/// parsed document may nest 128 levels deep (more than a 2 MB thread survives).
const VALIDATION_STACK: usize = 64 * 1024 * 1024;

/// Leaves out what failed the structure check on its own, each with a warning, so one broken
/// operation does not cost the whole API. (What still fails without them is the document's
/// own structure: `check` returned an error.)
fn drop_broken(
    root: &mut Value,
    broken: Vec<Broken>,
    warnings: &mut Vec<Warning>,
    dropped: &mut usize,
) -> Result<()> {
    for (path, method, error) in broken {
        let what = match &method {
            Some(_) => LeftOut::Operation,
            None => LeftOut::PathItem,
        };
        warnings.push(Warning::left_out(error, what)?);
        let Some(Value::Object(paths)) = root.get_mut("paths") else {
            continue;
        };
        match (method, paths.get_mut(&path)) {
            // shift_remove: the order of paths and methods is the order of tools.
            (Some(method), Some(Value::Object(item))) => {
                item.shift_remove(&method);
                *dropped += 1;
            }
            (None, Some(item)) => {
                *dropped += openapi::operations_in(item);
                paths.shift_remove(&path);
            }
            _ => {}
        }
    }
    Ok(())
}

/// A part of `paths` that fails validation on its own: path, method (`None`: the path item
/// itself), and the located error.
pub type Broken = (String, Option<String>, Error);

/// Checks the document's structure with `openapiv3`, schemas left out: its schema types are
/// nested untagged enums, whose failed attempts are retried at every level, so a few KB of
/// deeply nested invalid schema took seconds (found by fuzzing) and a little more would take
/// hours. Schemas are checked by the model stage's converter instead, with a pointer.
/// Returns the operations and path items that fail on their own; with those left out, the
/// rest must pass.
fn validate_3_0_types(root: &Value) -> Result<Vec<Broken>> {
    let mut root = without_schemas(root, Part::Fields);
    let whole = serde_path_to_error::deserialize::<_, openapiv3::OpenAPI>(&root);
    let Err(error) = whole else {
        return Ok(Vec::new());
    };
    // openapiv3 flattens `paths` and uses untagged enums, which hide where inside an
    // operation the problem is; checking operations one by one finds it.
    let mut broken = Vec::new();
    if let Some(Value::Object(paths)) = root.get_mut("paths") {
        for (path, item) in paths.iter_mut() {
            let Value::Object(item) = item else { continue };
            let item_at = Pointer::root().push("paths").push(path);
            let methods: Vec<String> = item
                .keys()
                .filter(|m| METHODS.contains(&m.as_str()))
                .cloned()
                .collect();
            for method in methods {
                let op = &item[&method];
                if let Err(e) = serde_path_to_error::deserialize::<_, openapiv3::Operation>(op) {
                    broken.push((
                        path.clone(),
                        Some(method.clone()),
                        located(item_at.push(&method), e),
                    ));
                    item.remove(&method);
                }
            }
            let rest = Value::Object(item.clone());
            if let Err(e) = serde_path_to_error::deserialize::<_, openapiv3::PathItem>(&rest) {
                broken.push((path.clone(), None, located(item_at, e)));
            }
        }
        let whole_items: Vec<String> = broken
            .iter()
            .filter(|(_, method, _)| method.is_none())
            .map(|(path, _, _)| path.clone())
            .collect();
        for path in whole_items {
            paths.remove(&path);
        }
    }
    if broken.is_empty() {
        return Err(located(Pointer::root(), error));
    }
    // Whatever still fails is not confined to an operation.
    serde_path_to_error::deserialize::<_, openapiv3::OpenAPI>(&root)
        .map_err(|e| located(Pointer::root(), e))?;
    Ok(broken)
}

/// A copy with every schema replaced by `{}` (the schema that allows anything): the values
/// of `schema` keys and the entries of `components.schemas`. A `schema` that is not an
/// object (`null` in one vendor's published spec) is replaced too: the model stage reports
/// it where it is used, and degrades only that argument. Callbacks are emptied as well:
/// nothing reads them, and `openapiv3` refuses the `$ref`s OpenAPI allows in them
/// (PeerTube's spec lost three operations to that).
///
/// Examples, which may be any JSON, are left out too (`example` and an example's `value`
/// become `null`): they were half of what the check copied on GitHub (a fifth of its
/// document is `components.examples`). Only where `example` is a field name, not the name
/// of a header, a response or another named entry.
fn without_schemas(value: &Value, what: Part) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match (what, k.as_str()) {
                        (Part::Schemas, _) | (_, "schema" | "callbacks") => {
                            Value::Object(serde_json::Map::new())
                        }
                        (_, "schemas") if v.is_object() => without_schemas(v, Part::Schemas),
                        (Part::Fields, "example") | (Part::Example, "value") => Value::Null,
                        (Part::Fields, "examples") if v.is_object() => {
                            without_schemas(v, Part::Examples)
                        }
                        (Part::Examples, _) => without_schemas(v, Part::Example),
                        (Part::Fields, k) if NAMED.contains(&k) && v.is_object() => {
                            without_schemas(v, Part::Named)
                        }
                        (Part::Fields, "security") if v.is_array() => {
                            without_schemas(v, Part::Named)
                        }
                        _ => without_schemas(v, Part::Fields),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        // The items of a `security` list are named maps; any other list holds objects.
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| {
                    without_schemas(
                        v,
                        if what == Part::Named {
                            Part::Named
                        } else {
                            Part::Fields
                        },
                    )
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// What an object is, for [`without_schemas`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Keyed by field names (or unknown).
    Fields,
    /// Keyed by names the document chose: a header or a response may be called `example`.
    Named,
    /// `components.schemas`, or any `schemas` map.
    Schemas,
    /// A map of examples.
    Examples,
    /// One example (or a reference to one).
    Example,
}

/// Fields whose values are maps keyed by the document's own names (OpenAPI 3.0).
const NAMED: &[&str] = &[
    "paths",
    "responses",
    "parameters",
    "requestBodies",
    "headers",
    "securitySchemes",
    "links",
    "content",
    "encoding",
    "variables",
    "scopes",
    "mapping",
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
    fn swagger_2_is_converted_and_other_swagger_versions_named() {
        let doc = normalize(
            json!({"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {}}),
        )
        .unwrap();
        assert_eq!(doc.version, Version::V3_0);
        assert_eq!(doc.root["openapi"], "3.0.3");
        let err = normalize(json!({"swagger": "1.2", "paths": {}})).unwrap_err();
        assert_eq!(err.exit_code(), 1);
        assert!(err.to_string().starts_with("/swagger:"), "{err}");
    }

    #[test]
    fn webhooks_are_ignored_with_a_warning() {
        let doc = normalize(json!({
            "openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {},
            "webhooks": {"newPet": {"post": {"responses": {"200": {"description": "ok"}}}}}
        }))
        .unwrap();
        assert!(
            doc.warnings[0]
                .to_string()
                .starts_with("/webhooks: 1 webhook"),
            "{:?}",
            doc.warnings
        );
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
    fn a_bad_operation_is_left_out_with_its_place_and_the_rest_kept() {
        let doc = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/a.json": {
                    "get": {"responses": {"200": {"description": 5}}},
                    "put": {"responses": {"200": {"description": "ok"}}}
                },
                "/b": {"parameters": 7, "get": {"responses": {}}, "post": {"responses": {}}},
                // Callbacks are never read, so a `$ref` in one is no defect.
                "/d": {"get": {"responses": {}, "callbacks": {"done": {"$ref": "#/components/callbacks/Done"}}}},
                // A null schema is the model stage's to degrade, not a reason to drop.
                "/c": {"post": {"requestBody": {"content": {"application/json": {"schema": null}}}, "responses": {}}}
            }
        });
        let doc = normalize(doc).unwrap();
        assert_eq!(doc.dropped, 3);
        let paths = doc.root["paths"].as_object().unwrap();
        assert_eq!(paths.keys().collect::<Vec<_>>(), ["/a.json", "/d", "/c"]);
        assert!(paths["/a.json"].get("get").is_none());
        assert_eq!(doc.warnings.len(), 2, "{:?}", doc.warnings);
        assert!(doc
            .warnings
            .iter()
            .all(|w| w.class == Class::OperationDropped));
        assert!(
            doc.warnings[0]
                .at
                .starts_with("/paths/~1a.json/get/responses"),
            "{}",
            doc.warnings[0]
        );
        assert!(doc.warnings[0].message.ends_with("; operation left out"));
        assert!(
            doc.warnings[1].at.starts_with("/paths/~1b"),
            "{}",
            doc.warnings[1]
        );
        assert!(
            doc.warnings[1]
                .message
                .ends_with("the operations of this path left out"),
            "{}",
            doc.warnings[1]
        );
    }

    #[test]
    fn a_broken_document_structure_stays_an_error() {
        let doc = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/a": {"get": {"responses": {}}}},
            "components": {"securitySchemes": 5}
        });
        let err = normalize(doc).unwrap_err();
        assert!(err.to_string().starts_with("/components"), "{err}");
    }

    #[test]
    fn examples_are_left_out_of_the_check_but_entries_named_example_are_not() {
        let masked = without_schemas(
            &json!({
                "paths": {"/a": {"get": {
                    "parameters": [{"name": "q", "in": "query", "example": {"in": 5}}],
                    "responses": {"200": {"description": "ok", "content": {"application/json": {
                        "examples": {"one": {"summary": "s", "value": [1, 2]}}
                    }}}}
                }}},
                "components": {
                    "examples": {"big": {"value": {"deep": "data"}}},
                    "headers": {"example": {"schema": {"type": "string"}}}
                },
                "security": [{"example": ["read"]}]
            }),
            Part::Fields,
        );
        let get = &masked["paths"]["/a"]["get"];
        assert_eq!(get["parameters"][0]["example"], Value::Null);
        let media = &get["responses"]["200"]["content"]["application/json"];
        assert_eq!(
            media["examples"]["one"],
            json!({"summary": "s", "value": null})
        );
        assert_eq!(
            masked["components"]["examples"]["big"],
            json!({"value": null})
        );
        // Named entries keep their content, schemas emptied as everywhere.
        assert_eq!(
            masked["components"]["headers"]["example"],
            json!({"schema": {}})
        );
        assert_eq!(masked["security"], json!([{"example": ["read"]}]));

        // So entries named `example` are checked as what they are (a null would fail).
        let doc = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/a": {"get": {
                "responses": {"200": {"description": "ok", "headers": {"example": {"schema": {}}}}},
                "security": [{"example": []}]
            }}},
            "components": {
                "parameters": {"example": {"name": "x", "in": "query", "schema": {}}},
                "securitySchemes": {"example": {"type": "apiKey", "name": "k", "in": "header"}}
            }
        });
        assert!(normalize(doc.clone()).is_ok());
        let mut broken = doc;
        broken["components"]["parameters"]["example"]["in"] = json!(5);
        let err = normalize(broken).unwrap_err();
        assert!(err.to_string().starts_with("/components"), "{err}");
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
