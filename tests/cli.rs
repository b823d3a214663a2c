//! The `mcp-gen` binary as users run it: exit codes, messages, and what lands on disk.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PETSTORE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/petstore/petstore-3.0.json"
);

fn mcp_gen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mcp-gen"))
        .args(args)
        .output()
        .expect("mcp-gen runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

fn generate(out: &Path) -> Output {
    mcp_gen(&[
        "generate",
        "--url",
        PETSTORE,
        "--auth",
        "oauth2",
        "--oauth-server",
        "http://127.0.0.1:9000",
        "--out",
        out.to_str().unwrap(),
    ])
}

/// `inspect --url SPEC --format json` and any further flags: its JSON, the run succeeding.
fn inspect_json(spec: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "inspect",
        "--url",
        spec.to_str().unwrap(),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let o = mcp_gen(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// `generate --url SPEC --out OUT` and any further flags.
fn generate_spec(spec: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "generate",
        "--url",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    mcp_gen(&args)
}

/// `generate --config CONFIG --out OUT`.
fn generate_with(config: &Path, out: &Path) -> Output {
    mcp_gen(&[
        "generate",
        "--config",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
}

#[test]
fn same_input_gives_byte_identical_output() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let first = generate(&a);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(generate(&b).status.success());
    let (ta, tb) = (tree(&a), tree(&b));
    assert_eq!(ta, tb);
    let names: Vec<String> = ta.iter().map(|(p, _)| p.display().to_string()).collect();
    for expected in [
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        ".env.example",
        "Dockerfile",
        ".dockerignore",
        "deploy/kubernetes/kustomization.yaml",
        "deploy/kubernetes/deployment.yaml",
        "deploy/kubernetes/config.env",
        "deploy/kubernetes/credentials.env.example",
        "src/main.rs",
        "src/tools.rs",
        "src/schemas.rs",
        "mcp-gen.json",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    // Regenerating in place changes nothing either.
    assert!(generate(&a).status.success());
    assert_eq!(tree(&a), tb);
}

#[test]
fn generated_tool_table_names_every_tool_and_its_scopes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("server");
    assert!(generate(&out).status.success());
    let tools = fs::read_to_string(out.join("src/tools.rs")).unwrap();
    assert!(tools.contains("name: \"add_pet\""));
    assert!(tools.contains("Access::oauth2(&[\"write:pets\", \"read:pets\"])"));
    assert!(tools.contains("default_issuer: \"http://127.0.0.1:9000\""));
    assert_eq!(tools.matches("ToolSpec {").count(), 20);
    let readme = fs::read_to_string(out.join("README.md")).unwrap();
    assert!(readme.contains("| `UPSTREAM_API_KEY` |"), "{readme}");
    assert!(fs::read_to_string(out.join(".env.example"))
        .unwrap()
        .contains("UPSTREAM_API_KEY="));
}

#[test]
fn invalid_document_exits_1_names_the_place_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("bad.json");
    fs::write(&spec, "{\n  \"openapi\": \"3.0.3\",\n  \"info\": {\"title\": \"x\", \"version\": \"1\"},\n  \"paths\": {\"/a\": {\"get\": {\"responses\": {\"200\": {\"description\": 5}}}}}\n}\n").unwrap();
    let out = dir.path().join("out");
    // A defect inside the only operation: with --strict, the error of old.
    let o = generate_spec(&spec, &out, &["--strict"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("error: /paths/~1a/get/responses"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
    // Without it too, when that leaves no operation at all: an empty server helps no one.
    let o = generate_spec(&spec, &out, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no operation could be mapped"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
    // Only the spec is left in the directory: no temporary directories either.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);

    fs::write(&spec, "{\"openapi\": \"3.0.3\", \"info\": ").unwrap();
    let o = generate_spec(&spec, &out, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("bad.json:1:"), "{}", stderr(&o));
    assert!(!out.exists());
}

#[test]
fn a_missing_file_and_a_dead_url_exit_1() {
    let o = mcp_gen(&["inspect", "--url", "/nonexistent/spec.yaml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("/nonexistent/spec.yaml"),
        "{}",
        stderr(&o)
    );
    // Port 9 on loopback: nothing listens, the connection is refused at once.
    let o = mcp_gen(&["inspect", "--url", "http://127.0.0.1:9/openapi.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("http://127.0.0.1:9/openapi.json"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn usage_errors_exit_2() {
    let o = mcp_gen(&["generate", "--url", PETSTORE, "--oauth-server", "not a url"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--oauth-server"));
    let o = mcp_gen(&["generate", "--url", PETSTORE, "--auth", "magic"]);
    assert_eq!(o.status.code(), Some(2));
    let o = mcp_gen(&["generate", "--url", PETSTORE, "--name", "Bad Name"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_directory_the_user_owns_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("main.rs"), "fn main() {}").unwrap();
    let o = generate(dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(dir.path().join("main.rs")).unwrap(),
        "fn main() {}"
    );
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn yaml_and_stdin_work_like_json() {
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(PETSTORE).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("petstore.yaml");
    fs::write(&yaml, serde_yaml_ng::to_string(&json).unwrap()).unwrap();
    let from_yaml = mcp_gen(&[
        "inspect",
        "--url",
        yaml.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let from_json = mcp_gen(&["inspect", "--url", PETSTORE, "--format", "json"]);
    assert!(from_yaml.status.success(), "{}", stderr(&from_yaml));
    assert_eq!(from_yaml.stdout, from_json.stdout);

    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcp-gen"))
        .args(["inspect", "--url", "-", "--format", "json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&fs::read(PETSTORE).unwrap())
        .unwrap();
    let from_stdin = child.wait_with_output().unwrap();
    assert_eq!(from_stdin.stdout, from_json.stdout);
}

#[test]
fn scope_hierarchy_is_baked_into_the_server_not_into_tool_scopes() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mcp-gen.toml");
    fs::write(
        &config,
        format!(
            "spec = {PETSTORE:?}\noauth_server = \"http://127.0.0.1:9000\"\n\n[scope_implications]\n\"write:pets\" = [\"read:pets\"]\n"
        ),
    )
    .unwrap();
    let out = dir.path().join("server");
    let o = generate_with(&config, &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let tools = fs::read_to_string(out.join("src/tools.rs")).unwrap();
    assert!(
        tools.contains("default_scope_implies: \"write:pets=read:pets\""),
        "{tools}"
    );
    // Tools still ask for exactly the spec's scopes.
    assert!(tools.contains("Access::oauth2(&[\"write:pets\", \"read:pets\"])"));

    fs::write(
        &config,
        format!("spec = {PETSTORE:?}\n\n[scope_implications]\n\"a=b\" = [\"c\"]\n"),
    )
    .unwrap();
    let o = generate_with(&config, &out);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("scope_implications"), "{}", stderr(&o));
}

/// Issue 4: each kind of bad document exits 1, names the place, and writes nothing.
#[test]
fn bad_documents_exit_1_with_their_place_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let info = r#""info": {"title": "t", "version": "1"}"#;
    let cases = [
        (
            "version.json",
            format!(r#"{{"openapi": "2.5.0", {info}, "paths": {{}}}}"#),
            "/openapi",
        ),
        (
            "swagger-1.json",
            format!(r#"{{"swagger": "1.2", {info}, "paths": {{}}}}"#),
            "/swagger",
        ),
        (
            "no-paths.json",
            format!(r#"{{"openapi": "3.0.3", {info}}}"#),
            "/paths",
        ),
        (
            "bad.yaml",
            "openapi: 3.0.3\ninfo: [\n".to_string(),
            "bad.yaml:",
        ),
        (
            "missing-file-ref.json",
            format!(
                r#"{{"openapi": "3.0.3", {info}, "paths": {{"/a": {{"$ref": "paths/a.yaml"}}}}}}"#
            ),
            "/paths/~1a/$ref",
        ),
        (
            "network-ref.json",
            format!(
                r#"{{"openapi": "3.0.3", {info}, "paths": {{"/a": {{"$ref": "http://127.0.0.1:9/a.yaml"}}}}}}"#
            ),
            "--allow-remote-refs",
        ),
    ];
    for (file, text, place) in cases {
        let spec = dir.path().join(file);
        fs::write(&spec, text).unwrap();
        let out = dir.path().join("out");
        let o = generate_spec(&spec, &out, &[]);
        assert_eq!(o.status.code(), Some(1), "{file}: {}", stderr(&o));
        assert!(stderr(&o).contains(place), "{file}: {}", stderr(&o));
        assert!(!out.exists(), "{file}: output written");
    }
    // With the flag, the network reference is fetched (nothing answers on port 9).
    let spec = dir.path().join("network-ref.json");
    let o = mcp_gen(&[
        "inspect",
        "--url",
        spec.to_str().unwrap(),
        "--allow-remote-refs",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot load `http://127.0.0.1:9/a.yaml`"),
        "{}",
        stderr(&o)
    );
}

/// Issue 4: a spec split over files (relative `$ref`s to a path item, a schema and a
/// parameter in YAML and JSON files next to it) maps like the same spec in one file.
#[test]
fn relative_refs_to_other_files_are_followed() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("parts")).unwrap();
    fs::write(
        dir.path().join("parts/pets.yaml"),
        "get:\n  operationId: listPets\n  parameters:\n    - $ref: 'common.json#/limit'\n  responses:\n    '200':\n      description: ok\n      content:\n        application/json:\n          schema: {$ref: '#/Pets'}\nPets:\n  type: object\n  properties:\n    items: {type: array, items: {$ref: 'common.json#/Pet'}}\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("parts/common.json"),
        r#"{"limit": {"name": "limit", "in": "query", "schema": {"type": "integer"}}, "Pet": {"type": "object", "properties": {"name": {"type": "string"}}}}"#,
    )
    .unwrap();
    let spec = dir.path().join("api.json");
    fs::write(
        &spec,
        r#"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/pets": {"$ref": "parts/pets.yaml"}}}"#,
    )
    .unwrap();
    let json = inspect_json(&spec, &[]);
    let tool = &json["tools"][0];
    assert_eq!(tool["name"], "list_pets");
    assert_eq!(
        tool["inputSchema"]["properties"]["limit"],
        serde_json::json!({"type": "integer"})
    );
    assert_eq!(
        tool["outputSchema"]["properties"]["items"]["items"]["properties"]["name"],
        serde_json::json!({"type": ["string", "null"]})
    );
}

#[test]
fn token_pass_through_is_opt_in_and_loud() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("server");
    // Off by default: no warning, nothing in the README.
    assert!(generate(&out).status.success());
    let readme = fs::read_to_string(out.join("README.md")).unwrap();
    assert!(!readme.contains("pass-through is on"));
    let tools = fs::read_to_string(out.join("src/tools.rs")).unwrap();
    assert!(!tools.contains("Passthrough"), "{tools}");

    // Asked for: a warning at generation (even with --quiet) and in the generated README.
    let o = mcp_gen(&[
        "generate",
        "--url",
        PETSTORE,
        "--oauth-server",
        "http://127.0.0.1:9000",
        "--upstream-auth",
        "passthrough",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("MUST NOT pass through"),
        "{}",
        stderr(&o)
    );
    let readme = fs::read_to_string(out.join("README.md")).unwrap();
    assert!(
        readme.contains("Warning: token pass-through is on"),
        "{readme}"
    );
    assert!(fs::read_to_string(out.join("src/tools.rs"))
        .unwrap()
        .contains("Passthrough"));

    // Never with --auth none: there is no caller token to pass.
    let o = mcp_gen(&[
        "generate",
        "--url",
        PETSTORE,
        "--auth",
        "none",
        "--upstream-auth",
        "passthrough",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn output_schemas_setting_is_read_recorded_and_kept_on_regeneration() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mcp-gen.toml");
    let out = dir.path().join("server");
    let schema = |mode: &str| -> Option<serde_json::Value> {
        fs::write(
            &config,
            format!("spec = {PETSTORE:?}\nauth = \"none\"\n{mode}"),
        )
        .unwrap();
        let o = generate_with(&config, &out);
        assert!(o.status.success(), "{}", stderr(&o));
        let manifest: serde_json::Value =
            serde_json::from_slice(&fs::read(out.join("mcp-gen.json")).unwrap()).unwrap();
        let recorded = manifest["options"]["output_schemas"].clone();
        let text = schema_const(&out, "GET_PET_BY_ID_OUTPUT")?;
        Some(
            serde_json::json!({"recorded": recorded, "schema": serde_json::from_str::<serde_json::Value>(&text).unwrap()}),
        )
    };
    // The default describes: no `required`, nullable types.
    let describe = schema("").unwrap();
    assert_eq!(describe["recorded"], "describe");
    assert!(describe["schema"].get("required").is_none());
    assert_eq!(
        describe["schema"]["properties"]["name"]["type"],
        serde_json::json!(["string", "null"])
    );
    let strict = schema("output_schemas = \"strict\"\n").unwrap();
    assert_eq!(strict["recorded"], "strict");
    assert_eq!(
        strict["schema"]["required"],
        serde_json::json!(["name", "photoUrls"])
    );
    assert!(schema("output_schemas = \"none\"\n").is_none());
    let tools = fs::read_to_string(out.join("src/tools.rs")).unwrap();
    assert!(!tools.contains("output: Some"), "{tools}");
    // Inside the project, regeneration keeps the recorded choice.
    fs::remove_file(&config).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_mcp-gen"))
        .args(["generate", "--quiet"])
        .current_dir(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(schema_const(&out, "GET_PET_BY_ID_OUTPUT").is_none());

    fs::write(
        &config,
        format!("spec = {PETSTORE:?}\noutput_schemas = \"loose\"\n"),
    )
    .unwrap();
    let o = mcp_gen(&["inspect", "--config", config.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("loose"), "{}", stderr(&o));
}

/// The schema text of const `name` in the project's `src/schemas.rs` (one `pub const NAME:
/// &str = r#"…"#;` line each).
fn schema_const(out: &Path, name: &str) -> Option<String> {
    let text = fs::read_to_string(out.join("src/schemas.rs")).unwrap();
    let prefix = format!("pub const {name}: &str = r#\"");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix)?.strip_suffix("\"#;"))
        .map(str::to_owned)
}

fn fixture(path: &str) -> String {
    format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))
}

/// Issue 12: a defect inside one operation degrades it (an untyped argument, no output
/// schema) or leaves it out, with a warning that names its place and class, and the summary
/// counts them. `--strict`, or `strict = true` in the config, makes them the exit-1 error.
#[test]
fn per_operation_defects_degrade_and_strict_refuses_them() {
    let dir = tempfile::tempdir().unwrap();
    let spec = fixture("fixtures/defects/vendor-defects-3.0.json");
    let out = dir.path().join("server");
    let args = ["generate", "--url", &spec, "--auth", "none", "--out"];
    let o = mcp_gen(&[&args[..], &[out.to_str().unwrap()]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    for expected in [
        "warning: /paths/~1accounts/post/requestBody/content/application~1json/schema: expected a schema object; the request body of POST /accounts takes any value [untyped-argument]",
        "warning: /paths/~1accounts~1{id}/patch/parameters/0/schema/$ref: `#/components/schemas/MergeMode` points to nothing; parameter `mode` of PATCH /accounts/{id} takes any value [untyped-argument]",
        "warning: /paths/~1accounts~1{id}/get/responses/200/content/application~1json/schema/$ref: `#/components/schemas/AccountDetail` points to nothing; GET /accounts/{id} declares no output schema [no-output-schema]",
        "warning: /paths/~1accounts~1{id}/delete/parameters/0/$ref: `#/components/parameters/IfMatch` points to nothing in this document; operation left out [operation-dropped]",
        "warning: /paths/~1accounts~1{id}~1search/get/parameters/0: unknown variant `querystring`",
        "7 operations read, 5 tools emitted, 0 filtered, 2 dropped, 4 degraded; 6 warnings (6 defects)",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    let tools = fs::read_to_string(out.join("src/tools.rs")).unwrap();
    assert!(tools.contains("name: \"create_account\""));
    assert!(!tools.contains("name: \"delete_account\""));

    // --strict: the first defect is the error, the others listed; nothing is written.
    let strict_out = dir.path().join("strict");
    let o = mcp_gen(&[&args[..], &[strict_out.to_str().unwrap(), "--strict"]].concat());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("error: /paths/~1accounts~1{id}~1search/get/parameters/0: unknown variant"),
        "{err}"
    );
    assert!(err.contains("and 5 more defect(s):"), "{err}");
    assert!(err.contains("--strict makes these errors"), "{err}");
    assert!(!strict_out.exists());

    // The same from the config file.
    let config = dir.path().join("mcp-gen.toml");
    fs::write(
        &config,
        format!("spec = {spec:?}\nauth = \"none\"\nstrict = true\n"),
    )
    .unwrap();
    let o = generate_with(&config, &strict_out);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("[untyped-argument]"), "{}", stderr(&o));
    assert!(!strict_out.exists());

    // Notes are not defects: --strict passes a document that only has notes.
    let o = mcp_gen(&["inspect", "--url", PETSTORE, "--strict"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Issue 12: `$ref`s inside `x-…` extensions are vendor data. An Azure spec downloaded on its
/// own references example files that are not there (or are not files): nothing is read, and
/// the extensions mcp-gen reads still work.
#[test]
fn references_inside_vendor_extensions_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(fixture("fixtures/defects/azure-storage-style.json"))
        .unwrap()
        .replace(
            r#""operationId": "StorageAccounts_List","#,
            r#""operationId": "StorageAccounts_List", "x-mcp-name": "list_storage", "x-mcp-scopes": ["storage.read"],"#,
        );
    let spec = dir.path().join("storage.json");
    fs::write(&spec, text).unwrap();
    // One example "file" is a folder: reading it was an error before.
    fs::create_dir_all(dir.path().join("examples/StorageAccountList.json")).unwrap();
    let json = inspect_json(&spec, &[]);
    assert_eq!(json["summary"]["tools"], 3);
    assert_eq!(json["warnings"], serde_json::json!([]));
    let list = json["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "list_storage")
        .expect("x-mcp-name applies");
    assert_eq!(
        list["securitySchemes"],
        serde_json::json!([{"type": "oauth2", "scopes": ["storage.read"]}])
    );
}

/// Issue 12: every warning class the generator has can be emitted, and is, by the two
/// `every-warning` fixtures and a config entry that matches nothing (so the README's table
/// and the classes stay one list).
#[test]
fn every_warning_class_is_emitted_by_the_fixtures() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for spec in ["every-warning-3.1.yaml", "every-warning-2.0.json"] {
        let config = dir.path().join("mcp-gen.toml");
        fs::write(
            &config,
            format!(
                "spec = {:?}\n[tools.noSuchOperation]\ntitle = \"x\"\n",
                fixture(&format!("fixtures/defects/{spec}"))
            ),
        )
        .unwrap();
        let o = mcp_gen(&[
            "inspect",
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
            "--quiet",
        ]);
        assert!(o.status.success(), "{spec}: {}", stderr(&o));
        let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        for w in json["warnings"].as_array().unwrap() {
            seen.insert(w["class"].as_str().unwrap().to_string());
        }
    }
    let all: std::collections::BTreeSet<String> = mcp_gen::warning::Class::ALL
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    assert_eq!(seen, all);
}

/// Issue 14: an explicit `tool_mode = "tools"` whose list is over budget fails `generate` and
/// `generate --check` (exit 1, nothing written) with how far over, the largest tools and
/// what to do; the catalog mode, or a narrower toolset, passes.
#[test]
fn an_explicit_tools_mode_over_budget_fails_until_switched_or_narrowed() {
    let dir = tempfile::tempdir().unwrap();
    let spec = Path::new(PETSTORE);
    let out = dir.path().join("server");
    let over = [
        "--auth",
        "none",
        "--tool-mode",
        "tools",
        "--max-tools",
        "10",
    ];

    let o = generate_spec(spec, &out, &over);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    for expected in [
        "error: the tools/list is over budget in tools mode (tool_mode = \"tools\"): 20 tools, ",
        "over max_tools 10 (by 10)",
        "largest tools:\n    find_pets_by_status (pet): ",
        "largest groups (toolsets):\n    pet: 8 tools, ",
        "tool_mode = \"catalog\" (--tool-mode catalog) lists 3 tools of ",
        "--toolsets",
        "--max-tools",
    ] {
        assert!(err.contains(expected), "{expected:?} missing from {err}");
    }
    assert!(!out.exists(), "nothing is written");

    // The same refusal from --check on a project generated within budget.
    let o = generate_spec(spec, &out, &["--auth", "none"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let before = tree(&out);
    let o = generate_spec(spec, &out, &[&over[..], &["--check"]].concat());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("over max_tools 10"), "{}", stderr(&o));
    assert_eq!(tree(&out), before, "--check changes nothing");

    // Switched to the catalog, or narrowed to the `pet` toolset (8 tools), it passes.
    let limit = ["--auth", "none", "--max-tools", "10"];
    for fix in [
        &["--tool-mode", "catalog"][..],
        &["--tool-mode", "tools", "--toolsets", "pet"][..],
    ] {
        let args = [&limit[..], fix].concat();
        let o = generate_spec(spec, &out, &args);
        assert!(o.status.success(), "{fix:?}: {}", stderr(&o));
        let o = generate_spec(spec, &out, &[&args[..], &["--check"]].concat());
        assert!(o.status.success(), "{fix:?}: {}", stderr(&o));
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("mcp-gen.json")).unwrap()).unwrap();
    let options = &manifest["options"];
    assert_eq!(options["tool_mode"], "tools");
    assert_eq!(options["max_tools"], 10);
    assert_eq!(options["max_list_tokens"], 25000);
    assert_eq!(options["toolsets"], serde_json::json!(["pet"]));
    assert_eq!(options["list_by_scope"], false);
    // Inside the project, the recorded choices hold: it is current.
    let o = Command::new(env!("CARGO_BIN_EXE_mcp-gen"))
        .args(["generate", "--check"])
        .current_dir(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Issue 14: `auto` (the default) lists the catalog tools when the per-tool list breaks the
/// budget, with a warning that says by how much; `--quiet` silences it.
#[test]
fn auto_lists_the_catalog_when_the_tools_do_not_fit_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let spec = Path::new(PETSTORE);
    let out = dir.path().join("server");
    let small = ["--auth", "none", "--max-list-tokens", "2000"];
    let o = generate_spec(spec, &out, &small);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("warning: 20 tools, ")
            && err.contains(" tokens: over max_list_tokens 2,000 (by ")
            && err.contains("; the server lists the catalog tools instead (search_operations, describe_operation, call_operation"),
        "{err}"
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("mcp-gen.json")).unwrap()).unwrap();
    // The option as given, so a later spec that fits lists its tools again.
    assert_eq!(manifest["options"]["tool_mode"], "auto");
    assert_eq!(manifest["options"]["max_list_tokens"], 2000);

    let o = generate_spec(spec, &out, &[&small[..], &["--quiet"]].concat());
    assert!(
        o.status.success() && stderr(&o).is_empty(),
        "{}",
        stderr(&o)
    );

    let json = inspect_json(spec, &["--max-list-tokens", "2000", "--quiet"]);
    let listing = &json["summary"]["listing"];
    assert_eq!(listing["mode"], "catalog");
    assert_eq!(listing["toolMode"], "auto");
    assert_eq!(listing["tools"]["fits"], false);
    assert_eq!(listing["catalog"]["fits"], true);
    // Within the default budget, the same spec lists its tools.
    let json = inspect_json(spec, &["--quiet"]);
    assert_eq!(json["summary"]["listing"]["mode"], "tools");
}

/// Issue 14: `inspect --format json` gives each tool's group and entry size, and what a client
/// sees in each mode; the sizes agree with each other.
#[test]
fn inspect_reports_sizes_that_add_up() {
    let spec = Path::new(PETSTORE);
    for (extra, count) in [(&[][..], 20), (&["--toolsets", "store"][..], 4)] {
        let json = inspect_json(spec, &[extra, &["--quiet"]].concat());
        let tools = json["tools"].as_array().unwrap();
        let listing = &json["summary"]["listing"];
        assert_eq!(listing["maxTools"], 40);
        assert_eq!(listing["maxListTokens"], 25000);
        let listed: Vec<&serde_json::Value> = tools
            .iter()
            .filter(|t| extra.is_empty() || t["group"] == "store")
            .collect();
        assert_eq!(listed.len(), count);
        assert_eq!(listing["tools"]["count"], count);
        let sum = |key: &str| -> u64 {
            listed
                .iter()
                .map(|t| t["listing"][key].as_u64().unwrap())
                .sum()
        };
        // The list is `[`, the entries with a comma between them, `]`.
        let bytes = listing["tools"]["bytes"].as_u64().unwrap();
        assert_eq!(bytes, sum("bytes") + count as u64 + 1);
        // Tokens can merge across the joins, by a few at most.
        let tokens = listing["tools"]["tokens"].as_u64().unwrap();
        assert!(
            tokens.abs_diff(sum("tokens")) <= count as u64 + 2,
            "{tokens} vs {}",
            sum("tokens")
        );
        for t in tools {
            let (b, k) = (
                t["listing"]["bytes"].as_u64().unwrap(),
                t["listing"]["tokens"].as_u64().unwrap(),
            );
            assert!(0 < k && k <= b, "{t}");
            assert!(t["group"].is_string());
        }
        let catalog = &listing["catalog"];
        assert_eq!(catalog["count"], 3);
        assert!(catalog["tokens"].as_u64().unwrap() <= catalog["bytes"].as_u64().unwrap());
    }
    let json = inspect_json(spec, &["--quiet"]);
    assert_eq!(json["tools"][0]["name"], "update_pet");
    assert_eq!(json["tools"][0]["group"], "pet");

    // The table shows the same, for people.
    let o = mcp_gen(&["inspect", "--url", PETSTORE, "--quiet"]);
    assert!(o.status.success());
    let table = String::from_utf8(o.stdout).unwrap();
    let header = table.lines().next().unwrap();
    assert!(header.ends_with("BYTES  TOKENS"), "{header}");
    let tokens = json["summary"]["listing"]["tools"]["tokens"]
        .as_u64()
        .unwrap();
    let line = format!(
        "tools/list in tools mode: 20 tools, {} bytes, {} tokens",
        mcp_gen::budget::grouped(
            json["summary"]["listing"]["tools"]["bytes"]
                .as_u64()
                .unwrap() as usize
        ),
        mcp_gen::budget::grouped(tokens as usize)
    );
    assert!(table.contains(&line), "{line:?} missing from {table}");
    assert!(
        table.contains("tool_mode = \"auto\" lists in tools mode"),
        "{table}"
    );
}

#[test]
fn an_unknown_toolset_is_a_usage_error_listing_the_groups() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("server");
    let o = generate_spec(Path::new(PETSTORE), &out, &["--toolsets", "pets"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("this API has no group `pets`; its groups (an operation's first tag, else its path's first segment) are `pet`, `store`, `user`"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

/// Every tool name of a generated project, from its manifest.
fn tool_names(out: &Path) -> Vec<String> {
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("mcp-gen.json")).unwrap()).unwrap();
    manifest["tools"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

#[test]
fn a_long_server_name_shrinks_tool_names_under_the_claude_profile() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let spec = Path::new(PETSTORE);
    // 40 characters: Claude Code's `mcp__<server>__` leaves 64 - 7 - 40 = 17.
    let name = "a-server-name-of-forty-characters-in-all";
    assert_eq!(name.len(), 40);
    let o = generate_spec(
        spec,
        &out,
        &["--auth", "none", "--name", name, "--profile", "claude"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let names = tool_names(&out);
    assert!(names.iter().all(|n| n.len() <= 17), "{names:?}");
    assert!(names.iter().any(|n| n.len() == 17), "{names:?}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("mcp-gen.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["options"]["profiles"],
        serde_json::json!(["claude"])
    );
    assert_eq!(manifest["options"]["max_name_len"], 17);

    // Without profiles, the default of 48 holds.
    let o = generate_spec(
        spec,
        &out,
        &["--auth", "none", "--name", name, "--profile", "none"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(tool_names(&out).contains(&"create_users_with_list_input".to_string()));

    // A name that leaves Claude fewer than 8 characters is refused.
    let long = "x".repeat(52);
    let o = generate_spec(
        spec,
        &out,
        &["--auth", "none", "--name", &long, "--profile", "claude"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("shorten --name"), "{}", stderr(&o));
}

#[test]
fn a_max_name_len_over_a_profiles_budget_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // swagger-petstore-mcp: Claude leaves 64 - 7 - 20 = 37.
    let o = generate_spec(
        Path::new(PETSTORE),
        &out,
        &["--auth", "none", "--max-name-len", "40"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("--max-name-len (max_name_len): 40 is over profile claude's budget of 37"),
        "{err}"
    );
    assert!(!out.exists());
    let o = generate_spec(
        Path::new(PETSTORE),
        &out,
        &["--auth", "none", "--max-tools", "128"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("over profile cursor's limit of 40"),
        "{}",
        stderr(&o)
    );
    // Aimed at OpenAI and VS Code only, both are fine.
    let o = generate_spec(
        Path::new(PETSTORE),
        &out,
        &[
            "--auth",
            "none",
            "--max-name-len",
            "40",
            "--max-tools",
            "128",
            "--profile",
            "openai,vscode",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn an_all_of_is_made_conformant_for_openai() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("allof.json");
    let doc = serde_json::json!({
        "openapi": "3.0.3",
        "info": {"title": "Shapes", "version": "1"},
        "servers": [{"url": "https://shapes.example.com"}],
        "paths": {"/shapes": {"post": {
            "operationId": "makeShape",
            "parameters": [{"name": "size", "in": "query", "schema": {"allOf": [{"type": "integer"}, {"type": "string"}]}}],
            "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
                "tags": {"type": "array", "items": {"allOf": [
                    {"type": "object", "properties": {"a": {"type": "string"}}},
                    {"type": "object", "properties": {"b": {"type": "string"}}}
                ]}}
            }}}}},
            "responses": {"204": {"description": "made"}}
        }}}
    });
    fs::write(&spec, doc.to_string()).unwrap();
    let tools_of = |profile: &str| {
        let j = inspect_json(&spec, &["--profile", profile]);
        (j["tools"][0]["inputSchema"].clone(), j["warnings"].clone())
    };
    let (schema, warnings) = tools_of("openai");
    let text = schema.to_string();
    assert!(!text.contains("\"allOf\":"), "{text}");
    // The allOf of two objects became one object.
    assert_eq!(
        schema["properties"]["tags"]["items"]["properties"],
        serde_json::json!({"a": {"type": "string"}, "b": {"type": "string"}})
    );
    assert!(schema["properties"]["size"]["description"]
        .as_str()
        .unwrap()
        .contains("which OpenAI refuses"));
    assert_eq!(warnings[0]["class"], "untyped-argument");
    assert!(
        warnings[0]["message"]
            .as_str()
            .unwrap()
            .contains("argument `size`"),
        "{warnings}"
    );
    // Only OpenAI refuses allOf: for Claude the schema is kept.
    let (schema, warnings) = tools_of("claude");
    assert!(schema.to_string().contains("\"allOf\":"), "{schema}");
    assert_eq!(warnings, serde_json::json!([]));
}
