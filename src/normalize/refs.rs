//! External `$ref`s (`pets.yaml#/Pet`, `https://…/common.json#/Error`) bundled into the
//! document, so every later stage only ever follows local `#/…` references.
//!
//! Each referenced file is loaded once and placed under `/x-mcp-gen-external/<location>`;
//! references to it, and the local references inside it, are rewritten to point there.
//! SSRF safety: a reference is only fetched over the network when `allow_remote_refs` is set,
//! or when it is relative to a spec that was itself fetched (same scheme, host and port). A
//! remote spec can never make the generator read a local file.

use std::collections::BTreeMap;

use reqwest::Url;
use serde_json::{Map, Value};

use super::Source;
use crate::error::{Error, Result};
use crate::load;
use crate::pointer::Pointer;

pub const KEY: &str = "x-mcp-gen-external";
/// More referenced files than this is refused: a document is not a crawler.
const MAX_FILES: usize = 64;
/// Keys whose values are data, never searched for references.
const DATA_KEYS: &[&str] = &["example", "examples", "default", "enum", "const"];

/// Keys whose object maps names to OpenAPI objects: under them, `x-request-id` is a property
/// or header called that, and `default` a schema name, not an extension or a keyword.
const NAME_MAPS: &[&str] = &[
    "properties",
    "patternProperties",
    "dependentSchemas",
    "definitions",
    "$defs",
    "schemas",
    "parameters",
    "responses",
    "headers",
    "requestBodies",
    "securitySchemes",
    "securityDefinitions",
    "links",
    "callbacks",
    "pathItems",
    "content",
    "encoding",
    "variables",
    "webhooks",
];

/// Whether the value under `key` is searched for references (`names`: the object holding
/// `key` maps names to objects), and if so whether that value's own keys are names.
/// Data keywords hold values, and `x-…` extensions vendor data (Azure's `x-ms-examples`
/// points at example files that are rarely beside a downloaded spec): neither is searched,
/// bundled or rewritten.
pub fn searched(key: &str, names: bool) -> Option<bool> {
    if names {
        return Some(false);
    }
    if DATA_KEYS.contains(&key) || key.starts_with("x-") {
        return None;
    }
    Some(NAME_MAPS.contains(&key))
}

/// Whether a (rewritten) `$ref` points into the bundled files.
pub fn into_bundle(reference: &str) -> bool {
    reference
        .strip_prefix("#/")
        .and_then(|r| r.strip_prefix(KEY))
        .is_some_and(|r| r.starts_with('/'))
}

pub fn bundle(root: &mut Value, source: &Source) -> Result<()> {
    if !has_external(root) {
        return Ok(());
    }
    let base = base_url(source.origin)?;
    let mut bundler = Bundler {
        source,
        root_base: base.clone(),
        keys: BTreeMap::new(),
        pending: Vec::new(),
    };
    bundler.rewrite(root, &base, None, &Pointer::root())?;
    let mut files = Map::new();
    while let Some((location, key, at)) = bundler.pending.pop() {
        let path = match location.scheme() {
            "file" => location
                .to_file_path()
                .ok()
                .and_then(|p| p.to_str().map(String::from)),
            _ => Some(location.to_string()),
        };
        let path = path.ok_or_else(|| {
            Error::spec(
                at.to_string(),
                format!("`{location}` is not a readable path"),
            )
        })?;
        // Devices and folders are not documents (`/dev/zero` would never end).
        if location.scheme() == "file" && !std::path::Path::new(&path).is_file() {
            return Err(Error::spec(
                at.to_string(),
                format!("`{location}` is not a file"),
            ));
        }
        let mut doc = load::load(&path)
            .map_err(|e| Error::spec(at.to_string(), format!("cannot load `{location}`: {e}")))?
            .value;
        let doc_at = Pointer::root().push(KEY).push(&key);
        bundler.rewrite(&mut doc, &location, Some(&key), &doc_at)?;
        files.insert(key, doc);
    }
    // Sorted keys: the same documents always give the same bundle.
    let files: Map<String, Value> = files
        .into_iter()
        .collect::<BTreeMap<_, _>>()
        .into_iter()
        .collect();
    if let Value::Object(map) = root {
        map.insert(KEY.into(), Value::Object(files));
    }
    Ok(())
}

fn has_external(root: &Value) -> bool {
    let mut stack = vec![(root, false)];
    while let Some((v, names)) = stack.pop() {
        match v {
            Value::Object(map) => {
                if let (false, Some(Value::String(r))) = (names, map.get("$ref")) {
                    if !r.starts_with('#') {
                        return true;
                    }
                }
                for (k, child) in map {
                    if let Some(child_names) = searched(k, names) {
                        stack.push((child, child_names));
                    }
                }
            }
            Value::Array(list) => stack.extend(list.iter().map(|v| (v, false))),
            _ => {}
        }
    }
    false
}

/// The URL relative references of the root document resolve against.
fn base_url(origin: &str) -> Result<Url> {
    if load::is_url(origin) {
        return Url::parse(origin).map_err(|e| Error::spec(origin, format!("bad URL: {e}")));
    }
    let cwd = std::env::current_dir()
        .map_err(|e| Error::spec(origin, format!("no working directory: {e}")))?;
    let path = if origin == "-" || origin.is_empty() {
        cwd.join("stdin")
    } else {
        cwd.join(origin)
    };
    Url::from_file_path(&path).map_err(|()| Error::spec(origin, "cannot turn the path into a URL"))
}

struct Bundler<'a> {
    source: &'a Source<'a>,
    root_base: Url,
    /// Document URL (no fragment) → its key under `/x-mcp-gen-external`.
    keys: BTreeMap<String, String>,
    /// Documents still to load: URL, key, where first referenced.
    pending: Vec<(Url, String, Pointer)>,
}

impl Bundler<'_> {
    /// Rewrite every `$ref` in `doc` (which lives at `base`, under `key` unless it is the root).
    fn rewrite(
        &mut self,
        doc: &mut Value,
        base: &Url,
        key: Option<&str>,
        at: &Pointer,
    ) -> Result<()> {
        let mut stack = vec![(doc, at.clone(), false)];
        while let Some((v, here, names)) = stack.pop() {
            match v {
                Value::Object(map) => {
                    if let (false, Some(Value::String(r))) = (names, map.get_mut("$ref")) {
                        *r = self.local(r, base, key, &here.push("$ref"))?;
                    }
                    for (k, child) in map.iter_mut() {
                        if let Some(child_names) = searched(k, names) {
                            stack.push((child, here.push(k), child_names));
                        }
                    }
                }
                Value::Array(list) => {
                    for (i, child) in list.iter_mut().enumerate() {
                        stack.push((child, here.index(i), false));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The local reference that replaces `reference`.
    fn local(
        &mut self,
        reference: &str,
        base: &Url,
        key: Option<&str>,
        at: &Pointer,
    ) -> Result<String> {
        let (target, fragment) = match reference.split_once('#') {
            Some((t, f)) => (t, f),
            None => (reference, ""),
        };
        if !(fragment.is_empty() || fragment.starts_with('/')) {
            return Err(Error::spec(
                at.to_string(),
                format!("`{reference}`: only JSON-pointer fragments (`#/…`) are supported"),
            ));
        }
        // A fragment is percent-decoded when followed, so a `%` of the key is written `%25`.
        let prefix = |key: &str| {
            Pointer::root()
                .push(KEY)
                .push(key)
                .to_string()
                .replace('%', "%25")
        };
        if target.is_empty() {
            return Ok(match key {
                None => reference.to_string(),
                Some(key) => format!("#{}{fragment}", prefix(key)),
            });
        }
        let url = base.join(target).map_err(|e| {
            Error::spec(
                at.to_string(),
                format!("`{reference}` is not a valid reference: {e}"),
            )
        })?;
        self.allowed(&url, base, reference, at)?;
        let mut doc_url = url.clone();
        doc_url.set_fragment(None);
        let key = match self.keys.get(doc_url.as_str()) {
            Some(k) => k.clone(),
            None => {
                if self.keys.len() >= MAX_FILES {
                    return Err(Error::spec(
                        at.to_string(),
                        format!("more than {MAX_FILES} referenced files"),
                    ));
                }
                let k = self.key_for(&doc_url);
                self.keys.insert(doc_url.to_string(), k.clone());
                self.pending.push((doc_url, k.clone(), at.clone()));
                k
            }
        };
        Ok(format!("#{}{fragment}", prefix(&key)))
    }

    /// SSRF rule: network only with the flag or next to a fetched spec; files only from files.
    fn allowed(&self, url: &Url, base: &Url, reference: &str, at: &Pointer) -> Result<()> {
        let refuse = |why: &str| Err(Error::spec(at.to_string(), format!("`{reference}`: {why}")));
        match (url.scheme(), base.scheme()) {
            ("file", "file") => Ok(()),
            ("file", _) => refuse("a remote document cannot reference local files"),
            ("http" | "https", _) => {
                let same_origin = base.scheme() != "file" && url.origin() == base.origin();
                if same_origin || self.source.allow_remote_refs {
                    Ok(())
                } else {
                    refuse("network references are fetched only with --allow-remote-refs")
                }
            }
            (other, _) => refuse(&format!("`{other}:` references are not supported")),
        }
    }

    /// A readable, stable key: the path relative to the root spec's folder when it is below
    /// it, the full URL otherwise.
    fn key_for(&self, url: &Url) -> String {
        let mut key = self
            .root_base
            .make_relative(url)
            .filter(|r| !r.starts_with("../") && !r.is_empty())
            .unwrap_or_else(|| url.to_string());
        while self.keys.values().any(|k| *k == key) {
            key.push('_');
        }
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn source(origin: &str, remote: bool) -> Source<'_> {
        Source {
            origin,
            allow_remote_refs: remote,
        }
    }

    #[test]
    fn relative_files_are_bundled_and_their_refs_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("schemas")).unwrap();
        std::fs::write(
            dir.path().join("schemas/pet.yaml"),
            "Pet:\n  type: object\n  properties:\n    owner:\n      $ref: '#/Owner'\n    tag:\n      $ref: 'tag.json'\nOwner:\n  type: string\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("schemas/tag.json"), r#"{"type": "string"}"#).unwrap();
        let spec = dir.path().join("api.json");
        let mut root = json!({"a": {"$ref": "schemas/pet.yaml#/Pet"}, "b": {"$ref": "#/a"}, "example": {"$ref": "nope.json"}});
        bundle(&mut root, &source(spec.to_str().unwrap(), false)).unwrap();
        assert_eq!(
            root["a"]["$ref"],
            "#/x-mcp-gen-external/schemas~1pet.yaml/Pet"
        );
        assert_eq!(root["b"]["$ref"], "#/a");
        assert_eq!(root["example"]["$ref"], "nope.json");
        let pet = &root[KEY]["schemas/pet.yaml"]["Pet"];
        assert_eq!(
            pet["properties"]["owner"]["$ref"],
            "#/x-mcp-gen-external/schemas~1pet.yaml/Owner"
        );
        assert_eq!(
            pet["properties"]["tag"]["$ref"],
            "#/x-mcp-gen-external/schemas~1tag.json"
        );
        assert_eq!(root[KEY]["schemas/tag.json"], json!({"type": "string"}));
    }

    #[test]
    fn a_missing_file_is_located() {
        let dir = tempfile::tempdir().unwrap();
        let spec = dir.path().join("api.json");
        let mut root = json!({"paths": {"/a": {"$ref": "missing.yaml"}}});
        let err = bundle(&mut root, &source(spec.to_str().unwrap(), false)).unwrap_err();
        assert!(err.to_string().starts_with("/paths/~1a/$ref"), "{err}");
    }

    #[test]
    fn network_refs_need_the_flag_and_remote_specs_cannot_read_files() {
        let mut root = json!({"x": {"$ref": "http://127.0.0.1:9/common.json#/A"}});
        let err = bundle(&mut root, &source("spec.json", false)).unwrap_err();
        assert!(err.to_string().contains("--allow-remote-refs"), "{err}");

        let mut root = json!({"x": {"$ref": "file:///etc/passwd"}});
        let err = bundle(&mut root, &source("https://example.com/api.json", true)).unwrap_err();
        assert!(
            err.to_string().contains("cannot reference local files"),
            "{err}"
        );

        // Next to a fetched spec: allowed without the flag (nothing listens, so it fails later).
        let mut root = json!({"x": {"$ref": "common.json"}});
        let err = bundle(&mut root, &source("http://127.0.0.1:9/api.json", false)).unwrap_err();
        assert!(
            err.to_string()
                .contains("cannot load `http://127.0.0.1:9/common.json`"),
            "{err}"
        );
    }

    #[test]
    fn references_inside_extensions_are_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pet.json"), r#"{"type": "object"}"#).unwrap();
        // An example "file" that is a folder: bundling it would fail.
        std::fs::create_dir(dir.path().join("examples")).unwrap();
        let spec = dir.path().join("api.json");
        let examples =
            json!({"Get": {"$ref": "./examples"}, "List": {"$ref": "./examples/List.json"}});
        let mut root = json!({
            "paths": {"/a": {"get": {"x-ms-examples": examples, "x-mcp-name": "a",
                "responses": {"200": {"schema": {"$ref": "pet.json"}}}}}}
        });
        bundle(&mut root, &source(spec.to_str().unwrap(), false)).unwrap();
        let op = &root["paths"]["/a"]["get"];
        assert_eq!(op["x-ms-examples"], examples);
        assert_eq!(op["x-mcp-name"], "a");
        assert_eq!(
            op["responses"]["200"]["schema"]["$ref"],
            "#/x-mcp-gen-external/pet.json"
        );
        assert_eq!(root[KEY].as_object().unwrap().len(), 1);
        // Only extension references: nothing to bundle at all.
        let mut root = json!({"paths": {"/a": {"x-ms-examples": {"$ref": "./nope.json"}}}});
        bundle(&mut root, &source(spec.to_str().unwrap(), false)).unwrap();
        assert!(root.get(KEY).is_none());
    }

    #[test]
    fn names_that_look_like_extensions_or_keywords_are_still_searched() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("id.json"), r#"{"type": "string"}"#).unwrap();
        std::fs::write(
            dir.path().join("my pet.json"),
            r##"{"A": {"$ref": "#/B"}, "B": {"type": "integer"}}"##,
        )
        .unwrap();
        let spec = dir.path().join("api.json");
        let mut root = json!({"components": {
            "schemas": {"default": {"properties": {"x-request-id": {"$ref": "id.json"}}}},
            "headers": {"x-rate-limit": {"schema": {"$ref": "my%20pet.json#/A"}}}
        }});
        bundle(&mut root, &source(spec.to_str().unwrap(), false)).unwrap();
        let property = &root["components"]["schemas"]["default"]["properties"]["x-request-id"];
        assert_eq!(property["$ref"], "#/x-mcp-gen-external/id.json");
        // A bundled file whose key holds `%`: the rewritten references still resolve.
        let header = &root["components"]["headers"]["x-rate-limit"]["schema"]["$ref"];
        let target = Pointer::parse(header.as_str().unwrap()).unwrap();
        let a = target.resolve(&root).unwrap();
        let inner = Pointer::parse(a["$ref"].as_str().unwrap()).unwrap();
        assert_eq!(inner.resolve(&root), Some(&json!({"type": "integer"})));
    }
}
