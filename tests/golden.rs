//! Golden files: the `inspect --format json` mapping of each small fixture. A change in
//! mapping must update them on purpose: `UPDATE_GOLDEN=1 cargo test --test golden`, then
//! review the diff.

use std::path::Path;

use mcp_gen::{inspect, model};

fn check(fixture: &str, golden: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (_, api) = mcp_gen::read_api(
        root.join(fixture).to_str().expect("utf-8 path"),
        &model::Options::default(),
    )
    .unwrap_or_else(|e| panic!("{fixture}: {e}"));
    let mut actual = serde_json::to_string_pretty(&inspect::to_json(&api)).expect("serializable");
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
