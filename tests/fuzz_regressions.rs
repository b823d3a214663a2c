//! Every input in fuzz/regressions/ (crashes the fuzzer found, kept once fixed, plus hostile
//! shapes written by hand) goes through load → normalize → model without a panic.

use std::path::Path;

#[test]
fn fuzz_regressions_do_not_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .expect("fuzz/regressions exists")
        .map(|e| e.expect("readable entry").path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty());
    for input in inputs {
        let bytes = std::fs::read(&input).expect("readable input");
        // A panic fails the test and names the input.
        eprintln!("{}", input.display());
        mcp_gen::check_untrusted(&bytes);
    }
}
