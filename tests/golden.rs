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
