//! Golden files: the `inspect --format json` mapping of each small fixture. A change in
//! mapping must update them on purpose: `UPDATE_GOLDEN=1 cargo test --test golden`, then
//! review the diff.

use std::path::Path;

use mcp_gen::{budget, inspect, model};

fn check(fixture: &str, golden: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (_, api) = mcp_gen::read_api(
        root.join(fixture).to_str().expect("utf-8 path"),
        &model::Options::default(),
    )
    .unwrap_or_else(|e| panic!("{fixture}: {e}"));
    let report = budget::report(&api, &budget::Listing::default())
        .unwrap_or_else(|e| panic!("{fixture}: {e}"));
    let mut actual =
        serde_json::to_string_pretty(&inspect::to_json(&api, &report)).expect("serializable");
    actual.push('\n');
    let golden_path = root.join(golden);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        if let Some(dir) = golden_path.parent() {
            std::fs::create_dir_all(dir).expect("golden folder is creatable");
        }
        std::fs::write(&golden_path, &actual).expect("golden file is writable");
        return;
    }
    let expected = std::fs::read_to_string(&golden_path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            golden_path.display()
        )
    });
    pretty_assertions::assert_eq!(
        expected,
        actual,
        "{golden} is stale: rerun with UPDATE_GOLDEN=1 and review the diff"
    );
}

#[test]
fn petstore_3_0() {
    check(
        "fixtures/petstore/petstore-3.0.json",
        "tests/golden/petstore-3.0.inspect.json",
    );
}

// Issue 4: the small corpus specs, one golden file each (fixtures/readme-oas-examples).
macro_rules! oas_examples {
    ($($test:ident => $path:literal),* $(,)?) => {$(
        #[test]
        fn $test() {
            check(
                concat!("fixtures/readme-oas-examples/", $path),
                concat!("tests/golden/readme-oas-examples/", $path),
            );
        }
    )*};
}

oas_examples! {
    swagger_2_0_petstore => "2.0/json/petstore.json",
    swagger_2_0_schema_circular => "2.0/json/schema-circular.json",
    oas_3_0_security => "3.0/json/security.json",
    oas_3_0_circular => "3.0/json/circular.json",
    oas_3_0_discriminators => "3.0/json/discriminators.json",
    oas_3_0_polymorphism => "3.0/json/polymorphism.json",
    oas_3_0_parameters_style => "3.0/json/parameters-style.json",
    oas_3_0_file_uploads => "3.0/json/file-uploads.json",
    oas_3_0_form_data => "3.0/json/form-data.json",
    oas_3_0_server_variables => "3.0/json/server-variables.json",
    oas_3_0_callbacks => "3.0/json/callbacks.json",
    oas_3_1_petstore => "3.1/json/petstore.json",
    oas_3_1_schema_types => "3.1/json/schema-types.json",
    oas_3_1_train_travel => "3.1/json/train-travel.json",
    oas_3_1_webhooks => "3.1/json/webhooks.json",
}

// Issue 4: a Swagger 2.0 spec split over several files (parameters, schemas, a shared error
// in another folder), from the OpenAPI Specification's own examples, as JSON and as YAML.
#[test]
fn swagger_2_0_petstore_separate_json() {
    check(
        "fixtures/oai-examples/v2.0/json/petstore-separate/spec/swagger.json",
        "tests/golden/oai-examples/v2.0/petstore-separate.json",
    );
}

#[test]
fn swagger_2_0_petstore_separate_yaml() {
    check(
        "fixtures/oai-examples/v2.0/yaml/petstore-separate/spec/swagger.yaml",
        "tests/golden/oai-examples/v2.0/petstore-separate.json",
    );
}

// Issue 12: documents with defects confined to operations (fixtures/defects, written in the
// style of published vendor specs): what is degraded, what is left out, and the warnings.
macro_rules! defects {
    ($($test:ident => $path:literal),* $(,)?) => {$(
        #[test]
        fn $test() {
            check(
                concat!("fixtures/defects/", $path),
                concat!("tests/golden/defects/", $path, ".inspect.json"),
            );
        }
    )*};
}

defects! {
    defects_azure_style => "azure-storage-style.json",
    defects_vendor_3_0 => "vendor-defects-3.0.json",
    defects_3_1 => "defects-3.1.yaml",
    defects_swagger2_required_headers => "swagger2-required-headers.json",
}

/// The files of a generated project that are its own (not the vendored runtime, the pinned
/// lock, or the manifest, which records where the project was written).
fn project_files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable dir") {
            let path = entry.expect("dir entry").path();
            let relative = path
                .strip_prefix(dir)
                .expect("below dir")
                .to_string_lossy()
                .into_owned();
            if ["mcp-gen-runtime", "Cargo.lock", "mcp-gen.json", "target"]
                .contains(&relative.as_str())
            {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(relative, std::fs::read(&path).expect("readable file"));
            }
        }
    }
    out
}

/// Issue 13: the generated project files of a few fixtures (`tests/output/<name>/`), which
/// the `golden-output` crate of the workspace compiles against the runtime.
fn check_project(fixture: &str, name: &str, args: &[&str]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join(name);
    let spec = root.join(fixture);
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_mcp-gen"));
    command.args(["generate", "--quiet", "--name", name, "--url"]);
    command.arg(&spec).arg("--out").arg(&out).args(args);
    let status = command.status().expect("mcp-gen runs");
    assert!(status.success(), "{fixture}: generate failed");
    let actual = project_files(&out);
    let golden = root.join("tests/output").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let _ = std::fs::remove_dir_all(&golden);
        for (path, bytes) in &actual {
            let target = golden.join(path);
            std::fs::create_dir_all(target.parent().expect("has a parent")).expect("creatable");
            std::fs::write(target, bytes).expect("writable");
        }
        return;
    }
    let expected = project_files(&golden);
    let names =
        |m: &std::collections::BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    pretty_assertions::assert_eq!(
        names(&expected),
        names(&actual),
        "{name}: files differ; rerun with UPDATE_GOLDEN=1 and review"
    );
    for (path, bytes) in &actual {
        pretty_assertions::assert_eq!(
            String::from_utf8_lossy(&expected[path]),
            String::from_utf8_lossy(bytes),
            "tests/output/{name}/{path} is stale: rerun with UPDATE_GOLDEN=1 and review the diff"
        );
    }
}

#[test]
fn project_petstore() {
    check_project(
        "fixtures/petstore/petstore-3.0.json",
        "petstore",
        &[
            "--auth",
            "oauth2",
            "--oauth-server",
            "https://auth.example.com",
        ],
    );
}

#[test]
fn project_required_headers() {
    check_project(
        "fixtures/defects/swagger2-required-headers.json",
        "required-headers",
        &["--auth", "none"],
    );
}

#[test]
fn project_train_travel() {
    check_project(
        "fixtures/readme-oas-examples/3.1/json/train-travel.json",
        "train-travel",
        &[
            "--oauth-server",
            "https://auth.example.com",
            "--upstream-auth",
            "token-exchange",
        ],
    );
}
