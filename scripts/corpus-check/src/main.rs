//! Checks one generated corpus project against its spec (issue 4, design §3); scripts/corpus.sh
//! runs it for every spec of fixtures/corpus/specs.tsv.
//!
//! ```text
//! corpus-check SPEC.json OUT_DIR          # prints `operations tools`; exit 1 with every problem
//! corpus-check spec-version SPEC.json     # prints the spec's `openapi` (or `swagger`) version
//! ```
//!
//! - the tool count equals the operations kept, counted here from the spec itself, not from
//!   mcp-gen's own numbers: every method of every path item (local `$ref` path items followed,
//!   `x-` paths skipped), minus `x-mcp: false`;
//! - src/tools.rs has one `ToolSpec {` entry per tool of the manifest (mcp-gen.json); tool names
//!   are unique and match `^[a-z0-9_]{1,48}$`;
//! - one schemas/NAME.input.json per tool, valid against the JSON Schema 2020-12 meta-schema
//!   (formats asserted, so every `pattern` must be a valid regex), with a root
//!   `{"type": "object"}`, no root oneOf/anyOf/allOf/$defs and no `$ref` / `$dynamicRef` /
//!   `$recursiveRef` keyword anywhere (a property *named* `$ref` is fine); every
//!   schemas/*.output.json valid against the meta-schema too.
//!
//! Files with the same content are checked once; files are checked on every core.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::{fs, thread};

use jsonschema::Validator;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
const REF_KEYWORDS: [&str; 3] = ["$ref", "$dynamicRef", "$recursiveRef"];
const ROOT_FORBIDDEN: [&str; 4] = ["oneOf", "anyOf", "allOf", "$defs"];
/// Keywords whose value maps property names (not keywords) to schemas.
const NAME_MAPS: [&str; 2] = ["properties", "patternProperties"];
const MAX_NAME_LEN: usize = 48;
const MAX_LISTED: usize = 50;
const MAX_MESSAGE: usize = 200;
/// Path items may `$ref` path items that `$ref` others; give up after this many hops.
const MAX_REF_HOPS: usize = 32;
/// Meta-schema validation recurses with the schema's depth.
const WORKER_STACK: usize = 64 << 20;

/// The 2020-12 meta-schema with its formats asserted: every `pattern` and `patternProperties`
/// key must be an ECMA-262 regex, every `$id` / `$schema` / `$ref` a URI (reference).
static META: LazyLock<Validator> = LazyLock::new(|| {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&referencing::meta::DRAFT202012)
        .expect("the 2020-12 meta-schema compiles")
});

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [command, spec] if command == "spec-version" => match read_json(Path::new(spec)) {
            Ok(spec) => {
                println!("{}", spec_version(&spec));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("corpus-check: {spec}: {e}");
                ExitCode::FAILURE
            }
        },
        [spec, out] if !spec.starts_with('-') => match check(Path::new(spec), Path::new(out)) {
            Ok((operations, tools)) => {
                println!("{operations} {tools}");
                ExitCode::SUCCESS
            }
            Err(problems) => {
                for problem in problems.iter().take(MAX_LISTED) {
                    eprintln!("corpus-check: {spec}: {problem}");
                }
                if problems.len() > MAX_LISTED {
                    eprintln!("corpus-check: … and {} more", problems.len() - MAX_LISTED);
                }
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!(
                "usage: corpus-check SPEC.json OUT_DIR\n       corpus-check spec-version SPEC.json"
            );
            ExitCode::from(2)
        }
    }
}

/// Every check of one project: `(operations, tools)` or every problem found.
fn check(spec_path: &Path, out: &Path) -> Result<(usize, usize), Vec<String>> {
    let spec = read_json(spec_path).map_err(|e| vec![format!("the spec: {e}")])?;
    let names = read_tool_names(&out.join("mcp-gen.json"))
        .map_err(|e| vec![format!("mcp-gen.json: {e}")])?;
    let mut problems = Vec::new();

    // The manifest keys tools by name and src/tools.rs has one entry per tool, so two tools
    // with one name also show up as a difference in count.
    match fs::read_to_string(out.join("src").join("tools.rs")) {
        Ok(text) => {
            let entries = text.matches("ToolSpec {").count();
            if entries != names.len() {
                problems.push(format!(
                    "src/tools.rs has {entries} tools, the manifest {}",
                    names.len()
                ));
            }
        }
        Err(e) => problems.push(format!("src/tools.rs: {e}")),
    }
    let expected = match operations_kept(&spec) {
        Ok(count) => {
            if names.len() != count {
                problems.push(format!("{} tools for {count} operations", names.len()));
            }
            count
        }
        Err(e) => {
            problems.push(e);
            0
        }
    };
    let tools: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    if tools.len() != names.len() {
        let mut seen = HashSet::new();
        let dupes: BTreeSet<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|n| !seen.insert(*n))
            .collect();
        let dupes: Vec<&str> = dupes.into_iter().take(10).collect();
        problems.push(format!("duplicate tool names: {dupes:?}"));
    }
    problems.extend(
        names
            .iter()
            .filter(|n| !valid_name(n))
            .map(|n| format!("bad tool name `{n}`")),
    );

    let dir = out.join("schemas");
    let files: HashSet<String> = fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect();
    let inputs = files.iter().filter(|f| f.ends_with(".input.json")).count();
    if inputs != tools.len() {
        problems.push(format!(
            "{inputs} input schema files for {} tools",
            tools.len()
        ));
    }
    let mut jobs: Vec<Job> = tools
        .iter()
        .map(|&name| Job {
            name: name.to_owned(),
            input: if files.contains(&format!("{name}.input.json")) {
                Input::Present
            } else {
                Input::Missing
            },
            output: files.contains(&format!("{name}.output.json")),
        })
        .collect();
    // Output schemas of no tool are checked too, after those of the tools.
    let mut strays: Vec<&str> = files
        .iter()
        .filter_map(|f| f.strip_suffix(".output.json"))
        .filter(|stem| !tools.contains(stem))
        .collect();
    strays.sort_unstable();
    jobs.extend(strays.into_iter().map(|stem| Job {
        name: stem.to_owned(),
        input: Input::NotATool,
        output: true,
    }));
    problems.extend(run_jobs(&dir, &jobs));

    if problems.is_empty() {
        Ok((expected, names.len()))
    } else {
        Err(problems)
    }
}

fn read_json(path: &Path) -> Result<Value, String> {
    let bytes = fs::read(path).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))
}

/// `openapi` (3.x) or `swagger` (2.0), as written.
fn spec_version(spec: &Value) -> String {
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

/// The tool names of the manifest, in file order and duplicates kept: `tools` is an object
/// keyed by name (or a list of names).
fn read_tool_names(path: &Path) -> Result<Vec<String>, String> {
    #[derive(Deserialize)]
    struct Manifest {
        tools: ToolNames,
    }
    let bytes = fs::read(path).map_err(|e| e.to_string())?;
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    Ok(manifest.tools.0)
}

struct ToolNames(Vec<String>);

impl<'de> Deserialize<'de> for ToolNames {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Names;
        impl<'de> Visitor<'de> for Names {
            type Value = ToolNames;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object keyed by tool name, or a list of tool names")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ToolNames, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    map.next_value::<IgnoredAny>()?;
                    names.push(name);
                }
                Ok(ToolNames(names))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ToolNames, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element::<String>()? {
                    names.push(name);
                }
                Ok(ToolNames(names))
            }
        }
        deserializer.deserialize_any(Names)
    }
}

/// `^[a-z0-9_]{1,48}$`
fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The operations a spec keeps: every method of every path item (a local `$ref` path item
/// followed), `x-` paths left out, minus those marked `x-mcp: false`.
fn operations_kept(spec: &Value) -> Result<usize, String> {
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

struct Job {
    name: String,
    input: Input,
    output: bool,
}

enum Input {
    Present,
    Missing,
    NotATool,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Input,
    Output,
}

/// What was found in a file's content, each problem without the tool name it starts with.
type Found = Arc<Vec<String>>;
type Cache = Mutex<HashMap<(Kind, usize, u64), Found>>;

impl Job {
    fn run(&self, dir: &Path, cache: &Cache) -> Vec<String> {
        let name = &self.name;
        let mut rests = Vec::new();
        match self.input {
            Input::Present => rests.push(check_file(dir, name, Kind::Input, cache)),
            Input::Missing => rests.push(Arc::new(vec![": no input schema file".to_owned()])),
            Input::NotATool => {}
        }
        if self.output {
            rests.push(check_file(dir, name, Kind::Output, cache));
        }
        rests
            .iter()
            .flat_map(|found| found.iter())
            .map(|rest| format!("{name}{rest}"))
            .collect()
    }
}

/// Runs every job on every core; the problems come back in the order of the jobs.
fn run_jobs(dir: &Path, jobs: &[Job]) -> Vec<String> {
    let cache = Cache::default();
    let next = AtomicUsize::new(0);
    let workers = thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, jobs.len().max(1));
    let mut done: Vec<(usize, Vec<String>)> = thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                thread::Builder::new()
                    .stack_size(WORKER_STACK)
                    .spawn_scoped(scope, || {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(job) = jobs.get(i) else { break };
                            done.push((i, job.run(dir, &cache)));
                        }
                        done
                    })
                    .expect("start a worker thread")
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a worker panicked"))
            .collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().flat_map(|(_, found)| found).collect()
}

/// Checks `dir/NAME.input.json` or `dir/NAME.output.json`, once per distinct content.
fn check_file(dir: &Path, name: &str, kind: Kind, cache: &Cache) -> Found {
    let (file, what) = match kind {
        Kind::Input => (format!("{name}.input.json"), "input"),
        Kind::Output => (format!("{name}.output.json"), "output"),
    };
    let bytes = match fs::read(dir.join(&file)) {
        Ok(bytes) => bytes,
        Err(e) => return Arc::new(vec![format!(": {file}: {e}")]),
    };
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    let key = (kind, bytes.len(), hasher.finish());
    if let Some(found) = cache.lock().expect("cache lock").get(&key) {
        return Arc::clone(found);
    }
    let found = Arc::new(match serde_json::from_slice::<Value>(&bytes) {
        Ok(schema) => match kind {
            Kind::Input => input_problems(&schema),
            Kind::Output => output_problems(&schema),
        },
        Err(e) => vec![format!(": {what} schema is not JSON: {e}")],
    });
    cache
        .lock()
        .expect("cache lock")
        .insert(key, Arc::clone(&found));
    found
}

/// The problems of an input schema, each to follow the tool name.
fn input_problems(schema: &Value) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(e) = meta_error(schema) {
        found.push(format!(": invalid 2020-12 schema at {e}"));
    }
    match schema.as_object() {
        Some(root) => {
            if root.get("type").and_then(Value::as_str) != Some("object") {
                found.push(": root is not {\"type\": \"object\"}".to_owned());
            }
            for key in ROOT_FORBIDDEN.iter().filter(|k| root.contains_key(**k)) {
                found.push(format!(": root `{key}`"));
            }
        }
        None => found.push(": root is not {\"type\": \"object\"}".to_owned()),
    }
    find_refs(schema, false, &mut String::new(), &mut found);
    found
}

/// The problems of an output schema, each to follow the tool name.
fn output_problems(schema: &Value) -> Vec<String> {
    meta_error(schema)
        .map(|e| format!(": invalid output schema at {e}"))
        .into_iter()
        .collect()
}

/// Where and why `schema` breaks the 2020-12 meta-schema (the first error).
fn meta_error(schema: &Value) -> Option<String> {
    let error = META.validate(schema).err()?;
    let at = error.instance_path().to_string();
    let at = if at.is_empty() { "/".to_owned() } else { at };
    let message: String = error.to_string().chars().take(MAX_MESSAGE).collect();
    Some(format!("{at}: {message}"))
}

/// Every `$ref` / `$dynamicRef` / `$recursiveRef` keyword under `value` (at `path`). `names`:
/// `value` maps property names to schemas (the value of `properties` or `patternProperties`),
/// so its keys are names, not keywords (while the schema of a property named `properties` is
/// still a schema).
fn find_refs(value: &Value, names: bool, path: &mut String, found: &mut Vec<String>) {
    let len = path.len();
    match value {
        Value::Object(map) => {
            if !names {
                for key in REF_KEYWORDS.iter().filter(|k| map.contains_key(**k)) {
                    found.push(format!("{path}: `{key}` left in the schema"));
                }
            }
            for (key, child) in map {
                path.push('/');
                path.push_str(key);
                find_refs(
                    child,
                    !names && NAME_MAPS.contains(&key.as_str()),
                    path,
                    found,
                );
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                path.push('/');
                path.push_str(&i.to_string());
                find_refs(child, false, path, found);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::PathBuf;

    fn has(found: &[String], text: &str) -> bool {
        found.iter().any(|f| f.contains(text))
    }

    fn assert_has_all(found: &[String], texts: &[&str]) {
        for text in texts {
            assert!(has(found, text), "{text} in {found:?}");
        }
    }

    #[test]
    fn a_sound_input_schema_passes() {
        let schema = json!({
            "type": "object",
            "properties": {
                "$ref": {"type": "string"},
                "id": {"type": "string", "pattern": "^[a-z]+$"}
            },
            "patternProperties": {"^\\$ref$": {"type": "integer"}},
            "required": ["id"]
        });
        assert_eq!(input_problems(&schema), Vec::<String>::new());
    }

    #[test]
    fn a_meta_schema_invalid_schema_fails() {
        let found = input_problems(&json!({"type": 5}));
        assert!(
            has(&found, ": invalid 2020-12 schema at /type: "),
            "{found:?}"
        );
        assert!(has(&found, "root is not"), "{found:?}");
        let found =
            input_problems(&json!({"type": "object", "properties": {"a": {"minLength": -1}}}));
        assert!(has(&found, "at /properties/a/minLength: "), "{found:?}");
        assert!(has(
            &output_problems(&json!({"required": "id"})),
            ": invalid output schema at /required: "
        ));
        assert!(output_problems(&json!(true)).is_empty());
        assert!(has(
            &output_problems(&json!(5)),
            ": invalid output schema at /: "
        ));
    }

    #[test]
    fn patterns_must_be_regexes() {
        let bad = json!({"type": "object", "properties": {"a": {"pattern": "(unclosed"}}});
        assert!(has(&input_problems(&bad), "at /properties/a/pattern: "));
        let bad = json!({"type": "object", "patternProperties": {"[z-a]": {}}});
        assert!(has(&input_problems(&bad), "invalid 2020-12 schema"));
    }

    #[test]
    fn a_ref_left_in_fails() {
        let schema = json!({"type": "object", "properties": {"a": {"$ref": "#/$defs/a"}}});
        assert_eq!(
            input_problems(&schema),
            ["/properties/a: `$ref` left in the schema"]
        );
        let schema = json!({
            "type": "object",
            "$ref": "#",
            "allOf": [{"items": {"$dynamicRef": "#meta"}}],
            "properties": {"properties": {"$recursiveRef": "#"}}
        });
        let found = input_problems(&schema);
        assert_has_all(
            &found,
            &[
                ": `$ref` left in the schema",
                "/allOf/0/items: `$dynamicRef` left in the schema",
                "/properties/properties: `$recursiveRef` left in the schema",
                ": root `allOf`",
            ],
        );
    }

    #[test]
    fn root_combinators_and_defs_fail() {
        let found = input_problems(&json!({"type": "object", "oneOf": [{}], "$defs": {}}));
        assert_eq!(found, [": root `oneOf`", ": root `$defs`"]);
        let found = input_problems(&json!({"type": "string"}));
        assert_eq!(found, [": root is not {\"type\": \"object\"}"]);
    }

    #[test]
    fn names() {
        assert!(valid_name("list_pets_2"));
        assert!(valid_name(&"a".repeat(48)));
        assert!(!valid_name(&"a".repeat(49)));
        for bad in ["", "listPets", "list-pets", "list pets", "é", "a\n"] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }

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
        assert_eq!(spec_version(&json!({"openapi": "3.1.0"})), "3.1.0");
        assert_eq!(spec_version(&json!({"swagger": "2.0"})), "2.0");
        assert_eq!(spec_version(&json!({"openapi": 3.0})), "3.0");
        assert_eq!(spec_version(&json!({})), "unknown");
    }

    /// A generated project on disk, removed when dropped.
    struct Project(PathBuf);

    impl Project {
        fn new(tag: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("corpus-check-{}-{tag}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(dir.join("src")).unwrap();
            fs::create_dir_all(dir.join("schemas")).unwrap();
            let project = Project(dir);
            project.write(
                "spec.json",
                &json!({
                    "openapi": "3.1.0",
                    "paths": {
                        "/pets": {"get": {}, "post": {"x-mcp": false}},
                        "/pets/{id}": {"$ref": "#/components/pathItems/pet"}
                    },
                    "components": {"pathItems": {"pet": {"get": {}, "delete": {}}}}
                })
                .to_string(),
            );
            project.write(
                "out/mcp-gen.json",
                r#"{"tools": {"list_pets": {}, "get_pet": {}, "delete_pet": {}}}"#,
            );
            project.write("out/src/tools.rs", &"ToolSpec { .. },\n".repeat(3));
            for name in ["list_pets", "get_pet", "delete_pet"] {
                project.write(
                    &format!("out/schemas/{name}.input.json"),
                    r#"{"type": "object", "properties": {"id": {"type": "string"}}}"#,
                );
            }
            project.write("out/schemas/list_pets.output.json", r#"{"type": "array"}"#);
            project
        }

        fn write(&self, rel: &str, text: &str) {
            let path = self.0.join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }

        fn check(&self) -> Result<(usize, usize), Vec<String>> {
            check(&self.0.join("spec.json"), &self.0.join("out"))
        }
    }

    impl Drop for Project {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn a_sound_project_passes() {
        assert_eq!(Project::new("sound").check(), Ok((3, 3)));
    }

    #[test]
    fn a_corrupted_project_fails_with_every_problem() {
        let project = Project::new("corrupted");
        project.write("out/schemas/get_pet.input.json", r#"{"type": 5}"#);
        project.write(
            "out/schemas/delete_pet.input.json",
            r##"{"type": "object", "properties": {"id": {"$ref": "#/x"}}}"##,
        );
        project.write("out/schemas/list_pets.output.json", r#"{"type": "arrays"}"#);
        let problems = project.check().unwrap_err();
        assert_has_all(
            &problems,
            &[
                "get_pet: invalid 2020-12 schema at /type: ",
                "get_pet: root is not {\"type\": \"object\"}",
                "delete_pet/properties/id: `$ref` left in the schema",
                "list_pets: invalid output schema at /type: ",
            ],
        );
    }

    #[test]
    fn tool_names_and_counts_are_checked() {
        let project = Project::new("renamed");
        project.write(
            "out/mcp-gen.json",
            r#"{"tools": {"list_pets": {}, "Get-Pet": {}, "delete_pet": {}, "delete_pet": {}}}"#,
        );
        project.write("out/schemas/orphan.output.json", r#"{"type": 1}"#);
        let problems = project.check().unwrap_err();
        assert_has_all(
            &problems,
            &[
                "src/tools.rs has 3 tools, the manifest 4",
                "4 tools for 3 operations",
                "duplicate tool names: [\"delete_pet\"]",
                "bad tool name `Get-Pet`",
                "Get-Pet: no input schema file",
                "orphan: invalid output schema at /type: ",
            ],
        );
        // A renamed tool is not where the manifest says it is.
        let project = Project::new("moved");
        fs::rename(
            project.0.join("out/schemas/get_pet.input.json"),
            project.0.join("out/schemas/get_pets.input.json"),
        )
        .unwrap();
        assert_eq!(
            project.check(),
            Err(vec!["get_pet: no input schema file".to_owned()])
        );
    }

    #[test]
    fn unreadable_files_are_problems() {
        let project = Project::new("unreadable");
        project.write("out/schemas/get_pet.input.json", "{");
        let problems = project.check().unwrap_err();
        assert!(
            has(&problems, "get_pet: input schema is not JSON: "),
            "{problems:?}"
        );
        fs::remove_file(project.0.join("out/mcp-gen.json")).unwrap();
        let problems = project.check().unwrap_err();
        assert!(has(&problems, "mcp-gen.json: "), "{problems:?}");
    }
}
